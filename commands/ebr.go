package commands

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands/draft"
	openai "github.com/sashabaranov/go-openai"
	"github.com/slack-go/slack"
)

// ebrUsage is /ebr's help.
const ebrUsage = "*/ebr* drafts an executive business review of an account from what csbot stores: health, adoption, support, NPS, touchpoints, goals, risks and the renewal. Every figure is computed from the data; you can check them all with *Show the data*.\n" +
	"• `/ebr acme`: the last full fiscal quarter\n" +
	"• `/ebr acme 2026-Q3`, `/ebr acme H1`, `/ebr acme this quarter`, `/ebr acme last 90 days`: another period\n" +
	"• `/ebr` or `/ebr last 90 days`: the account linked to this channel\n" +
	"• `/ebr help`: this help\n" +
	"The draft opens in a window where you can regenerate it, edit it, post it in the channel or export it as Markdown."

// Drafter writes an EBR draft with a language model. *draft.Client
// satisfies it.
type Drafter interface {
	// Draft drafts the EBR of the account f describes, from f alone.
	Draft(ctx context.Context, f csbot.EBRFacts) (csbot.EBRDraft, draft.Usage, error)
}

// The action ids of the draft window's buttons, and the edit form's
// callback id. Each button's value is the draft version's id.
const (
	actionEBRRegenerate = "ebr_regenerate"
	actionEBREdit       = "ebr_edit"
	actionEBRData       = "ebr_data"
	actionEBRPost       = "ebr_post"
	actionEBRExport     = "ebr_export"
	ebrEditCallback     = "ebr_edit"
)

// Why a draft came from the template, as the window says it.
const (
	noteNoModel      = "no language model is configured"
	noteModelTimeout = "the language model did not answer in time"
	noteModelFailed  = "the language model could not be reached"
	noteModelRefused = "the language model's server refused the request"
	noteModelBadJSON = "the language model's answer could not be read"
)

// msgNoEBR refuses drafting, editing or posting an EBR to someone csbot
// does not know.
const msgNoEBR = "Only members of the customer success team that csbot knows can draft, edit or post EBRs: a draft is stored and holds the account's internal figures. Ask an admin to add you to csbot's users."

// registerEBR gives r /ebr's buttons and edit form.
func (c *Commands) registerEBR(r Registrar) {
	r.HandleAction(actionEBRRegenerate, c.ebrRegenerate)
	r.HandleAction(actionEBREdit, c.ebrEdit)
	r.HandleAction(actionEBRData, c.ebrData)
	r.HandleAction(actionEBRPost, c.ebrPost)
	r.HandleAction(actionEBRExport, c.ebrExport)
	r.HandleAction(ebrPickPrefix, c.ebrPick)
	r.HandleView(ebrEditCallback, bot.ViewHandler{Validate: c.validateEBREdit, Submit: c.submitEBREdit})
}

// ebr answers /ebr [account] [period].
func (c *Commands) ebr(ctx context.Context, req bot.CommandRequest) (bot.Reply, error) {
	if utf8.RuneCountInString(req.Text) > maxArgText {
		return usage(fmt.Sprintf("That's more than %d characters, too long for an account's name and a period.\n\n%s", maxArgText, ebrUsage)), nil
	}
	args := parseArgs(req.Text)
	if len(args) == 1 && (args[0].keyword("help") || args[0].keyword("?")) {
		return usage(ebrUsage), nil
	}
	if !req.Actor.CanChange() {
		return usage(msgNoEBR), nil
	}
	for _, a := range args {
		if a.Kind != argWord {
			return usage("I didn't understand that: name an account and, if you like, a period.\n\n" + ebrUsage), nil
		}
	}
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = a.Text
	}
	query, period, err := splitEBRArgs(words, c.today(req.Actor), c.cfg.FiscalYearStart)
	if err != nil {
		return usage(bot.Escape(err.Error()) + "\n\n" + ebrUsage), nil
	}
	if query == "" {
		return c.ebrHere(ctx, req.Request, period)
	}
	a, rep, err := c.resolveAccount(ctx, req.Request, query, "ebr")
	if err != nil || rep != nil {
		return withPeriod(deref(rep), period), err
	}
	return c.openEBR(ctx, req.Request, a, period), nil
}

// ebrHere answers /ebr without an account: the account linked to the
// channel, or a pick-list when several are.
func (c *Commands) ebrHere(ctx context.Context, req bot.Request, p csbot.EBRPeriod) (bot.Reply, error) {
	var accounts []csbot.Account
	if inChannel(req.ChannelID) {
		var err error
		accounts, err = c.cfg.Store.AccountsByChannel(ctx, req.ChannelID)
		if err != nil {
			return bot.Reply{}, fmt.Errorf("accounts of channel %s: %w", req.ChannelID, err)
		}
	}
	switch {
	case len(accounts) == 0 && inChannel(req.ChannelID):
		return usage("Which account? No account is linked to this channel. " + lookupHint("ebr")), nil
	case len(accounts) == 0:
		return usage("Which account? " + lookupHint("ebr")), nil
	case len(accounts) == 1:
		return c.openEBR(ctx, req, accounts[0], p), nil
	}
	return withPeriod(pickList("ebr", fmt.Sprintf("This channel is linked to %d accounts. Which one?", len(accounts)), accounts), p), nil
}

// ebrOf answers the "Draft EBR" button of /health and the pick-list of
// /ebr for the default period: the last full fiscal quarter.
func (c *Commands) ebrOf(ctx context.Context, req bot.Request, a csbot.Account) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return usage(msgNoEBR), nil
	}
	p, err := csbot.ParseEBRPeriod("", c.today(req.Actor), c.cfg.FiscalYearStart)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("default EBR period: %w", err)
	}
	return c.openEBR(ctx, req, a, p), nil
}

// ebrPickPrefix starts the action_id of an /ebr pick-list button that
// carries a period other than the default: "ebr_pick:" + the period's
// start and end dates.
const ebrPickPrefix = "ebr_pick:"

// withPeriod makes the /ebr pick-list buttons of rep carry p, so that
// picking an account keeps the period typed.
func withPeriod(rep bot.Reply, p csbot.EBRPeriod) bot.Reply {
	id := ebrPickPrefix + p.Start.Format(time.DateOnly) + ":" + p.End.Format(time.DateOnly) + ":" + p.Label
	for _, b := range rep.Blocks {
		sec, ok := b.(*slack.SectionBlock)
		if !ok || sec.Accessory == nil || sec.Accessory.ButtonElement == nil {
			continue
		}
		if btn := sec.Accessory.ButtonElement; btn.ActionID == pickPrefix+"ebr" {
			btn.ActionID = bot.Truncate(id, 255)
		}
	}
	return rep
}

// ebrPick answers an /ebr pick-list button that carries its period.
func (c *Commands) ebrPick(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return usage(msgNoEBR), nil
	}
	p, okP := parsePickPeriod(strings.TrimPrefix(req.Action.ActionID, ebrPickPrefix))
	id, okID := accountIDValue(req.Action.Value)
	if !okP || !okID {
		return usage(msgStaleButton), nil
	}
	a, err := c.cfg.Store.AccountByID(ctx, id)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneAccount), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("pick account %d: %w", id, err)
	}
	return c.openEBR(ctx, req.Request, a, p), nil
}

// parsePickPeriod reads "start:end:label" as withPeriod wrote it.
func parsePickPeriod(s string) (csbot.EBRPeriod, bool) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return csbot.EBRPeriod{}, false
	}
	start, err1 := time.Parse(time.DateOnly, parts[0])
	end, err2 := time.Parse(time.DateOnly, parts[1])
	if err1 != nil || err2 != nil || !end.After(start) {
		return csbot.EBRPeriod{}, false
	}
	return csbot.EBRPeriod{Start: start, End: end, Label: parts[2]}, true
}

// periodLike matches a word someone meant as a period: "2026-Q5", "Q7",
// "H3", "FY27", "400d".
var periodLike = regexp.MustCompile(`(?i)^(fy\d{2,4}|\d{4}-?[qh]\d+|[qh]\d+|\d+d|fy\d{2,4}[-]?[qh]\d+)$`)

// splitEBRArgs splits /ebr's words into the account and the period at
// their end (up to three words: "last 90 days"). A last word that looks
// like a period but is not one is an error naming the forms accepted.
func splitEBRArgs(words []string, today time.Time, fiscalStart time.Month) (string, csbot.EBRPeriod, error) {
	for n := min(3, len(words)); n >= 1; n-- {
		text := strings.Join(words[len(words)-n:], " ")
		if p, err := csbot.ParseEBRPeriod(text, today, fiscalStart); err == nil {
			return strings.Join(words[:len(words)-n], " "), p, nil
		}
	}
	if len(words) > 0 {
		last := words[len(words)-1]
		if periodLike.MatchString(last) || strings.EqualFold(last, "days") {
			_, err := csbot.ParseEBRPeriod(tailFrom(words), today, fiscalStart)
			return "", csbot.EBRPeriod{}, err
		}
	}
	p, err := csbot.ParseEBRPeriod("", today, fiscalStart)
	return strings.Join(words, " "), p, err
}

// tailFrom is the last words that make up what looks like a period:
// "last 900 days", "2026-Q5".
func tailFrom(words []string) string {
	n := 1
	if strings.EqualFold(words[len(words)-1], "days") {
		n = min(3, len(words))
	}
	return strings.Join(words[len(words)-n:], " ")
}

// ebrMeta is what the draft window keeps in its private_metadata: the
// version shown and the channel /ebr was typed in (where "Post to
// channel" posts when it is a channel).
type ebrMeta struct {
	Version int64  `json:"v"`
	Channel string `json:"ch,omitempty"`
	// Root is the draft window's view id, kept by the edit form.
	Root string `json:"root,omitempty"`
}

func (m ebrMeta) encode() string {
	b, _ := json.Marshal(m)
	return string(b)
}

func decodeEBRMeta(s string) (ebrMeta, bool) {
	var m ebrMeta
	if err := json.Unmarshal([]byte(s), &m); err != nil || m.Version <= 0 {
		return ebrMeta{}, false
	}
	return m, true
}

// openEBR opens the draft window at once, saying it is drafting, and
// drafts once it is open.
func (c *Commands) openEBR(ctx context.Context, req bot.Request, a csbot.Account, p csbot.EBRPeriod) bot.Reply {
	noteAccount(ctx, a.ID)
	m := draftingModal(displayName(a), p, 0, c.cfg.Drafter != nil)
	origin := req.ChannelID
	return bot.Reply{OpenView: &m, Then: func(ctx context.Context, viewID string) (bot.Reply, error) {
		if viewID == "" {
			return bot.Reply{}, nil // the runtime has said the window didn't open
		}
		return c.draftInto(ctx, req.Actor, a.ID, p, origin), nil
	}}
}

// draftInto drafts the EBR of account id for p and returns the update of
// the draft window: the draft, or what went wrong.
func (c *Commands) draftInto(ctx context.Context, actor bot.Actor, id int64, p csbot.EBRPeriod, origin string) bot.Reply {
	v, err := c.makeDraft(ctx, actor, id, p)
	if err != nil {
		text := "Sorry, csbot couldn't read the account's data to draft the EBR. It has been logged; please try again in a moment."
		if errors.Is(err, csbot.ErrNotFound) {
			text = msgGoneAccount
		} else {
			c.log.Error("draft EBR", "account", id, "err", err)
		}
		m := ebrMessageModal(text)
		return bot.Reply{UpdateView: &m}
	}
	m := c.draftModal(v, ebrMeta{Version: v.ID, Channel: origin}, "")
	return bot.Reply{UpdateView: &m}
}

// makeDraft computes the fact sheet of account id for p, drafts the EBR
// with the model (the template when there is none or it fails), flags
// the figures the sheet does not hold, and stores it as a new version.
func (c *Commands) makeDraft(ctx context.Context, actor bot.Actor, id int64, p csbot.EBRPeriod) (csbot.EBRVersion, error) {
	facts, err := c.cfg.Store.EBRFacts(ctx, id, p, c.cfg.Now())
	if err != nil {
		return csbot.EBRVersion{}, fmt.Errorf("fact sheet of account %d: %w", id, err)
	}
	v := csbot.EBRVersion{AccountID: id, Period: p, By: actor.SlackID, Facts: facts}
	if c.cfg.Drafter == nil {
		v.Draft = csbot.TemplateDraft(facts, noteNoModel)
	} else {
		d, u, err := c.cfg.Drafter.Draft(ctx, facts)
		v.PromptHash, v.PromptTokens, v.CompletionTokens, v.Latency = u.PromptHash, u.PromptTokens, u.CompletionTokens, u.Latency
		if err != nil {
			if ctx.Err() != nil {
				return v, fmt.Errorf("draft EBR of account %d: %w", id, ctx.Err())
			}
			c.log.Warn("language model failed; drafting from the template", "account", id, "err", err)
			v.Draft = csbot.TemplateDraft(facts, modelFailure(err))
		} else {
			v.Draft = d
		}
	}
	v.Draft.Flagged = csbot.FlagFigures(v.Draft, facts)
	saved, err := c.cfg.Store.SaveEBRDraft(ctx, v)
	if err != nil {
		return v, fmt.Errorf("save EBR draft of account %d: %w", id, err)
	}
	return saved, nil
}

// modelFailure says why the model gave no draft, without its details
// (which go to the log).
func modelFailure(err error) string {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return noteModelTimeout
	case errors.Is(err, draft.ErrBadAnswer):
		return noteModelBadJSON
	case errors.As(err, &apiErr) && apiErr.HTTPStatusCode >= 400 && apiErr.HTTPStatusCode < 500,
		errors.As(err, &reqErr) && reqErr.HTTPStatusCode >= 400 && reqErr.HTTPStatusCode < 500:
		return noteModelRefused
	}
	return noteModelFailed
}

// versionOf reads the draft version a button or form refers to; the
// reply to send instead when it is gone or unreadable.
func (c *Commands) versionOf(ctx context.Context, value string) (csbot.EBRVersion, *bot.Reply, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil || id <= 0 {
		rep := usage(msgStaleButton)
		return csbot.EBRVersion{}, &rep, nil
	}
	v, err := c.cfg.Store.EBRDraftVersion(ctx, id)
	if errors.Is(err, csbot.ErrNotFound) {
		rep := usage("That draft is no longer in csbot. Run `/ebr` again for a fresh one.")
		return v, &rep, nil
	} else if err != nil {
		return v, nil, fmt.Errorf("EBR draft %d: %w", id, err)
	}
	noteAccount(ctx, v.AccountID)
	return v, nil, nil
}

// metaOf reads the draft window's metadata from an action in it.
func metaOf(req bot.ActionRequest) ebrMeta {
	m, _ := decodeEBRMeta(req.Callback.View.PrivateMetadata)
	return m
}

// ebrRegenerate answers Regenerate: the window says it is drafting, then
// shows a new version drafted from the data as it is now.
func (c *Commands) ebrRegenerate(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return usage(msgNoEBR), nil
	}
	v, rep, err := c.versionOf(ctx, req.Action.Value)
	if err != nil || rep != nil {
		return deref(rep), err
	}
	meta := metaOf(req)
	m := draftingModal(v.Facts.Account.Name, v.Period, v.Version+1, c.cfg.Drafter != nil)
	m.PrivateMetadata = meta.encode()
	actor := req.Actor
	return bot.Reply{UpdateView: &m, Then: func(ctx context.Context, viewID string) (bot.Reply, error) {
		if viewID == "" {
			return usage("Sorry, csbot couldn't update the draft window. Close it and run `/ebr` again."), nil
		}
		return c.draftInto(ctx, actor, v.AccountID, v.Period, meta.Channel), nil
	}}, nil
}

// ebrEdit answers Edit: a form over the draft window with each section's
// text to change.
func (c *Commands) ebrEdit(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return usage(msgNoEBR), nil
	}
	v, rep, err := c.versionOf(ctx, req.Action.Value)
	if err != nil || rep != nil {
		return deref(rep), err
	}
	meta := metaOf(req)
	meta.Version, meta.Root = v.ID, cmp.Or(req.Callback.View.RootViewID, req.Callback.View.ID)
	m := ebrEditModal(v, meta)
	return bot.Reply{PushView: &m}, nil
}

// ebrData answers "Show the data": the fact sheet over the draft window.
func (c *Commands) ebrData(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	v, rep, err := c.versionOf(ctx, req.Action.Value)
	if err != nil || rep != nil {
		return deref(rep), err
	}
	m := factsModal(v)
	return bot.Reply{PushView: &m}, nil
}

// ebrPost answers "Post to channel": the draft, posted in the channel
// /ebr was typed in, else the account's channel; never in one shared
// with another organisation.
func (c *Commands) ebrPost(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return usage(msgNoEBR), nil
	}
	v, rep, err := c.versionOf(ctx, req.Action.Value)
	if err != nil || rep != nil {
		return deref(rep), err
	}
	meta := metaOf(req)
	channel, err := c.ebrChannel(ctx, v, meta.Channel)
	if err != nil {
		return bot.Reply{}, err
	}
	status := ""
	switch {
	case channel == "":
		status = ":warning: Not posted: the account has no channel. Run `/ebr` in a channel, or link one with `/health link`."
	default:
		if ch := c.channelInfo(ctx, channel); ch != nil && ch.External() {
			status = fmt.Sprintf(":no_entry: Not posted: %s is shared with another organisation, and the draft holds internal data.", bot.ChannelMention(channel))
			channel = ""
		}
	}
	var post *bot.ChannelPost
	if channel != "" {
		text, blocks := ebrMessage(v, req.Actor.SlackID)
		post = &bot.ChannelPost{Channel: channel, Text: text, Blocks: blocks}
		status = fmt.Sprintf(":white_check_mark: Posted in %s.", bot.ChannelMention(channel))
	}
	m := c.draftModal(v, meta, status)
	return bot.Reply{UpdateView: &m, Post: post}, nil
}

// ebrChannel is where "Post to channel" posts v: the channel /ebr was
// typed in, unless it is a DM or the channel of other accounts; then the
// account's own channel ("" when it has none).
func (c *Commands) ebrChannel(ctx context.Context, v csbot.EBRVersion, origin string) (string, error) {
	if inChannel(origin) {
		linked, err := c.cfg.Store.AccountsByChannel(ctx, origin)
		if err != nil {
			return "", fmt.Errorf("accounts of channel %s: %w", origin, err)
		}
		if len(linked) == 0 || slices.ContainsFunc(linked, func(a csbot.Account) bool { return a.ID == v.AccountID }) {
			return origin, nil
		}
	}
	a, err := c.cfg.Store.AccountByID(ctx, v.AccountID)
	if err != nil {
		return "", fmt.Errorf("account %d: %w", v.AccountID, err)
	}
	return a.SlackChannelID, nil
}

// ebrExport answers "Export as Markdown": the draft as a Markdown file in
// the person's direct messages with csbot.
func (c *Commands) ebrExport(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	v, rep, err := c.versionOf(ctx, req.Action.Value)
	if err != nil || rep != nil {
		return deref(rep), err
	}
	name := fmt.Sprintf("%s-ebr-%s-v%d.md", cmp.Or(csbot.SlugChannelName(v.Facts.Account.Name), "account"),
		csbot.SlugChannelName(v.Period.Label), v.Version)
	title := fmt.Sprintf("EBR draft: %s, %s (version %d)", v.Facts.Account.Name, v.Period.Label, v.Version)
	m := c.draftModal(v, metaOf(req), ":page_facing_up: Sent to your direct messages with csbot as a Markdown file.")
	return bot.Reply{
		UpdateView: &m,
		Upload:     &bot.FileUpload{Filename: name, Title: title, Content: csbot.EBRMarkdown(v), Comment: bot.Escape(title)},
	}, nil
}
