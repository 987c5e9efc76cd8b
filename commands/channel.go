package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// ChannelStore is what account channels read and write, besides the
// accounts of a channel (AccountsByChannel).
type ChannelStore interface {
	// AccountsWithoutChannel returns the accounts with no channel linked,
	// churned ones left out, by name.
	AccountsWithoutChannel(ctx context.Context) ([]csbot.Account, error)
	// LinkNewChannel links the channel to the account (and records who did
	// it in the audit log) only if the account still has no channel and no
	// other account has that one; linked is false, changing nothing, when
	// either was linked meanwhile.
	LinkNewChannel(ctx context.Context, accountID int64, channelID, actor string) (linked bool, err error)
}

// SlackChannels is the part of Slack's Web API that account channels
// call. *slack.Client satisfies it.
type SlackChannels interface {
	CreateConversationContext(ctx context.Context, params slack.CreateConversationParams) (*slack.Channel, error)
	GetConversationsContext(ctx context.Context, params *slack.GetConversationsParameters) ([]slack.Channel, string, error)
	GetConversationInfoContext(ctx context.Context, input *slack.GetConversationInfoInput) (*slack.Channel, error)
	JoinConversationContext(ctx context.Context, channelID string) (*slack.Channel, string, []string, error)
	InviteUsersToConversationContext(ctx context.Context, channelID string, users ...string) (*slack.Channel, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	AddPinContext(ctx context.Context, channel string, item slack.ItemRef) error
}

// actionCreateChannel is the action_id of the health card's "Create
// account channel" button; its value is the account id.
const actionCreateChannel = "channel_create"

// Slack's limits that account channels work within.
const (
	// channelListPage is how many conversations one conversations.list
	// call asks for (Slack advises at most 200).
	channelListPage = 200
	// slackRetries is how many times a call Slack rate-limits is retried,
	// after waiting as long as Slack says.
	slackRetries = 4
)

// msgNoCreateChannel is told to someone who may not create the account's
// channel.
const msgNoCreateChannel = "Only the account's CSM, their manager or an admin can create its channel. Ask one of them; you can still look any account up: `/health acme`."

// registerChannel gives r the account channel buttons.
func (c *Commands) registerChannel(r Registrar) {
	r.HandleAction(actionCreateChannel, c.createChannel)
}

// mayCreateChannel reports whether the health card offers actor "Create
// account channel" for account a: its CSM, managers (whether it is their
// team's is checked on the click) and admins.
func mayCreateChannel(actor bot.Actor, a csbot.Account) bool {
	switch {
	case actor.Is(csbot.UserAdmin, csbot.UserManager):
		return true
	case actor.Is(csbot.UserCSM):
		return a.CSMUserID == actor.SlackID
	}
	return false
}

// mayCreateChannelOf reports whether the actor may create account a's
// channel: its CSM, that CSM's manager or an admin, the rule of health
// overrides (csbot.CanOverride).
func (c *Commands) mayCreateChannelOf(ctx context.Context, actor bot.Actor, a csbot.Account) (bool, error) {
	return c.mayOverride(ctx, actor, a)
}

// ChannelOptions says how account channels are made.
type ChannelOptions struct {
	// Pattern names the channels (csbot.ChannelName); the configured
	// pattern when empty.
	Pattern string
	// Private creates private channels instead of public ones.
	Private bool
	// DryRun only says what would be done: nothing is created, joined,
	// invited, linked, posted or pinned.
	DryRun bool
	// Actor is who asked, for the audit log of the links: a Slack user id,
	// or csbot.AuditActorCLI.
	Actor string
}

// ChannelOutcome is what became of an account's channel.
type ChannelOutcome int

// The outcomes of an account's channel.
const (
	// ChannelFailed: the account got no channel (ChannelResult.Err says why).
	ChannelFailed ChannelOutcome = iota
	// ChannelCreated: a new channel was created and linked.
	ChannelCreated
	// ChannelMatched: a channel of that name existed and was linked.
	ChannelMatched
	// ChannelWouldCreate and ChannelWouldMatch are what a dry run would do.
	ChannelWouldCreate
	ChannelWouldMatch
	// ChannelLinkedMeanwhile: the account got a channel while csbot was
	// at it (`/health link`, another click or sync), which it kept:
	// nobody was invited and nothing posted or pinned (ChannelResult.ChannelID
	// is the channel it got). Not a failure.
	ChannelLinkedMeanwhile
)

// ChannelResult is what became of one account's channel.
type ChannelResult struct {
	Account csbot.Account
	// Name is the channel's name, without "#".
	Name string
	// ChannelID is the channel's id; empty when none was made (or would
	// be, on a dry run); for ChannelLinkedMeanwhile, the channel the
	// account got meanwhile.
	ChannelID string
	Outcome   ChannelOutcome
	// Invited are the Slack ids of the people now in the channel: the
	// account's CSM and AE.
	Invited []string
	// Pinned reports whether the account's summary was posted and pinned.
	Pinned bool
	// Notes say, in plain words, what was left undone though the channel
	// was made (an invitation Slack refused, a summary not pinned).
	Notes []string
	// Err says why the account got no channel; nil when it got one.
	Err error
}

// channelProblem is a failure with a message for a person: an
// explanation and what to do, not an internal error.
type channelProblem struct {
	msg string
	err error // what Slack said, if anything
}

func (p *channelProblem) Error() string { return p.msg }
func (p *channelProblem) Unwrap() error { return p.err }

func problemf(err error, format string, args ...any) error {
	return &channelProblem{msg: fmt.Sprintf(format, args...), err: err}
}

// slackCode returns the error code of a Slack answer, "" when err is not
// one.
func slackCode(err error) string {
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		return se.Err
	}
	return ""
}

// slackProblem says in plain words why Slack refused to do what.
func slackProblem(what string, err error) error {
	switch code := slackCode(err); code {
	case "missing_scope":
		return problemf(err, "Slack refused to %s: csbot's app lacks a scope it needs (channels:manage, groups:write, pins:write); update the app from manifest.yml and reinstall it", what)
	case "restricted_action", "restricted_action_read_only_channel", "restricted_action_non_threadable_channel":
		return problemf(err, "Slack refused to %s: the workspace's settings don't allow it", what)
	case "":
		return fmt.Errorf("%s: %w", what, err)
	default:
		return problemf(err, "Slack refused to %s: %s", what, code)
	}
}

// retrySlack runs call, again after the wait Slack asks for when it
// answers with a rate limit, up to slackRetries times.
func retrySlack[T any](ctx context.Context, call func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := call()
		rl, limited := errors.AsType[*slack.RateLimitedError](err)
		if !limited || attempt >= slackRetries {
			return v, err
		}
		t := time.NewTimer(max(rl.RetryAfter, time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return v, ctx.Err()
		case <-t.C:
		}
	}
}

// channelMaker makes account channels with one set of options; it lists
// the workspace's channels at most once, and again when a name it did
// not see is taken.
type channelMaker struct {
	c    *Commands
	opts ChannelOptions
	// byName holds the channels Slack listed, by name; nil until listed.
	byName map[string]slack.Channel
}

// newChannelMaker returns a maker for opts, or an error when the pattern
// names no account or Slack is not at hand.
func (c *Commands) newChannelMaker(opts ChannelOptions) (*channelMaker, error) {
	if c.cfg.Slack == nil {
		return nil, errors.New("account channels: no Slack client (csbot creates channels only when it has the Slack tokens)")
	}
	if opts.Pattern == "" {
		opts.Pattern = c.cfg.ChannelPattern
	}
	if opts.Pattern == "" {
		opts.Pattern = csbot.DefaultChannelPattern
	}
	if err := csbot.CheckChannelPattern(opts.Pattern); err != nil {
		return nil, err
	}
	if opts.Actor == "" {
		opts.Actor = csbot.AuditActorCLI
	}
	return &channelMaker{c: c, opts: opts}, nil
}

// SyncChannels gives every account without a channel (churned ones left
// out) a channel of its own, in order of name: a channel named by the
// pattern is created, or, when one of that name exists, linked; the
// account's CSM and AE are invited and its summary is pinned there. An
// account that gets a channel otherwise while it runs keeps it
// (ChannelLinkedMeanwhile). It returns what became of each account. Its
// error is for what stops it all: no Slack, a bad pattern, the database
// or conversations.list failing.
func (c *Commands) SyncChannels(ctx context.Context, opts ChannelOptions) ([]ChannelResult, error) {
	m, err := c.newChannelMaker(opts)
	if err != nil {
		return nil, err
	}
	accounts, err := c.cfg.Store.AccountsWithoutChannel(ctx)
	if err != nil {
		return nil, fmt.Errorf("accounts without a channel: %w", err)
	}
	if len(accounts) == 0 {
		return nil, nil
	}
	if err := m.list(ctx); err != nil {
		return nil, err
	}
	out := make([]ChannelResult, 0, len(accounts))
	for _, a := range accounts {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		// The list may be minutes old by now (Slack's rate limits): read
		// the account again. LinkNewChannel has the last word.
		fresh, err := c.cfg.Store.AccountByID(ctx, a.ID)
		switch {
		case errors.Is(err, csbot.ErrNotFound):
			continue // deleted meanwhile
		case err != nil:
			return out, fmt.Errorf("account %s: %w", a.Name, err)
		case fresh.SlackChannelID != "":
			out = append(out, ChannelResult{Account: fresh, Name: csbot.ChannelName(m.opts.Pattern, fresh),
				ChannelID: fresh.SlackChannelID, Outcome: ChannelLinkedMeanwhile})
			continue
		}
		out = append(out, m.ensure(ctx, fresh))
	}
	return out, nil
}

// list reads every public and private channel csbot can see, archived
// ones too (their names are taken), page by page.
func (m *channelMaker) list(ctx context.Context) error {
	byName := map[string]slack.Channel{}
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, Limit: channelListPage}
	for {
		type page struct {
			channels []slack.Channel
			next     string
		}
		p, err := retrySlack(ctx, func() (page, error) {
			chs, next, err := m.c.cfg.Slack.GetConversationsContext(ctx, params)
			return page{chs, next}, err
		})
		if err != nil {
			return slackProblem("list the workspace's channels", err)
		}
		for _, ch := range p.channels {
			byName[ch.Name] = ch
		}
		if p.next == "" {
			break
		}
		params.Cursor = p.next
	}
	m.byName = byName
	return nil
}

// ensure gives account a a channel: see SyncChannels. The channel is
// linked, only if the account still has none and the channel is no other
// account's, before anyone is invited or anything posted there.
func (m *channelMaker) ensure(ctx context.Context, a csbot.Account) ChannelResult {
	res := ChannelResult{Account: a, Name: csbot.ChannelName(m.opts.Pattern, a)}
	ch, found := m.byName[res.Name]
	if m.opts.DryRun {
		res.Outcome = ChannelWouldCreate
		if found {
			res.Outcome, res.ChannelID = ChannelWouldMatch, ch.ID
			if err := m.checkMatch(ctx, a, ch); err != nil {
				res.Outcome, res.Err = ChannelFailed, err
			}
		}
		return res
	}
	if !found {
		created, err := retrySlack(ctx, func() (*slack.Channel, error) {
			return m.c.cfg.Slack.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: res.Name, IsPrivate: m.opts.Private})
		})
		switch {
		case err == nil:
			ch, res.Outcome = *created, ChannelCreated
			if m.byName != nil {
				m.byName[ch.Name] = ch
			}
		case slackCode(err) == "name_taken":
			// Someone made it meanwhile, or it is one csbot did not list.
			if err := m.list(ctx); err != nil {
				res.Err = err
				return res
			}
			if ch, found = m.byName[res.Name]; !found {
				res.Err = problemf(err, "a channel named #%s exists that csbot cannot see (a private channel it is not in?): invite @csbot to it and type `/health link %s` there, or change CSBOT_CHANNEL_PATTERN",
					res.Name, a.Name)
				return res
			}
		default:
			res.Err = slackProblem("create #"+res.Name, err)
			return res
		}
	}
	if found {
		res.Outcome = ChannelMatched
		if err := m.checkMatch(ctx, a, ch); err != nil {
			res.Outcome, res.Err = ChannelFailed, err
			return res
		}
		if !ch.IsMember {
			if _, err := retrySlack(ctx, func() (*slack.Channel, error) {
				joined, _, _, err := m.c.cfg.Slack.JoinConversationContext(ctx, ch.ID)
				return joined, err
			}); err != nil {
				res.Outcome, res.Err = ChannelFailed, slackProblem("join #"+res.Name, err)
				return res
			}
		}
	}
	res.ChannelID = ch.ID
	linked, err := m.c.cfg.Store.LinkNewChannel(ctx, a.ID, ch.ID, m.opts.Actor)
	if err != nil {
		res.Outcome, res.Err = ChannelFailed, fmt.Errorf("link #%s to %s: %w", res.Name, a.Name, err)
		return res
	}
	if !linked {
		m.linkedMeanwhile(ctx, &res, ch)
		return res
	}
	m.invite(ctx, &res)
	m.pinSummary(ctx, &res, ch)
	return res
}

// linkedMeanwhile says why ch could not be linked to the account of res:
// the account got a channel meanwhile (ChannelLinkedMeanwhile, with a
// note when csbot created ch for nothing), or ch became another
// account's (a failure).
func (m *channelMaker) linkedMeanwhile(ctx context.Context, res *ChannelResult, ch slack.Channel) {
	created := res.Outcome == ChannelCreated
	a, err := m.c.cfg.Store.AccountByID(ctx, res.Account.ID)
	if err != nil {
		res.Outcome, res.Err = ChannelFailed, fmt.Errorf("link #%s to %s: %w", res.Name, res.Account.Name, err)
		return
	}
	if a.SlackChannelID == "" {
		res.Outcome, res.ChannelID = ChannelFailed, ""
		res.Err = problemf(nil, "#%s became the channel of another account meanwhile: link a channel by hand by typing `/health link %s` in it",
			ch.Name, res.Account.Name)
		return
	}
	res.Outcome, res.ChannelID = ChannelLinkedMeanwhile, a.SlackChannelID
	if created && a.SlackChannelID != ch.ID {
		res.Notes = append(res.Notes, fmt.Sprintf("csbot had created #%s (%s) for it, which is not linked: archive it in Slack", ch.Name, ch.ID))
	}
}

// checkMatch returns why an existing channel cannot be a's: the
// workspace's general channel, archived, a private one csbot is not in,
// or linked to another account already.
func (m *channelMaker) checkMatch(ctx context.Context, a csbot.Account, ch slack.Channel) error {
	switch {
	case ch.IsGeneral:
		return problemf(nil, "#%s is the workspace's general channel, which csbot never takes for an account: change CSBOT_CHANNEL_PATTERN (or --pattern), or link another channel by typing `/health link %s` in it",
			ch.Name, a.Name)
	case ch.IsArchived:
		return problemf(nil, "#%s exists but is archived: unarchive it, or link another channel by typing `/health link %s` in it", ch.Name, a.Name)
	case ch.IsPrivate && !ch.IsMember:
		return problemf(nil, "#%s is a private channel csbot is not in: invite @csbot to it and type `/health link %s` there", ch.Name, a.Name)
	}
	linked, err := m.c.cfg.Store.AccountsByChannel(ctx, ch.ID)
	if err != nil {
		return fmt.Errorf("accounts of #%s: %w", ch.Name, err)
	}
	for _, o := range linked {
		if o.ID != a.ID {
			return problemf(nil, "#%s is already the channel of %s: set CSBOT_CHANNEL_PATTERN (or --pattern) to one with {external_id}, or link a channel by hand with `/health link`",
				ch.Name, o.Name)
		}
	}
	return nil
}

// invite brings the account's CSM and AE into the channel.
func (m *channelMaker) invite(ctx context.Context, res *ChannelResult) {
	var people []string
	for _, u := range []string{res.Account.CSMUserID, res.Account.AEUserID} {
		if csbot.IsSlackUserID(u) && !slices.Contains(people, u) {
			people = append(people, u)
		}
	}
	for _, u := range people {
		_, err := retrySlack(ctx, func() (*slack.Channel, error) {
			return m.c.cfg.Slack.InviteUsersToConversationContext(ctx, res.ChannelID, u)
		})
		switch code := slackCode(err); {
		case err == nil, code == "already_in_channel":
			res.Invited = append(res.Invited, u)
		case code != "":
			res.Notes = append(res.Notes, fmt.Sprintf("Slack refused to invite %s: %s", u, code))
		default:
			res.Notes = append(res.Notes, fmt.Sprintf("couldn't invite %s: %v", u, err))
		}
	}
}

// pinSummary posts the account's summary in the channel and pins it,
// unless the channel is shared with another organisation: for a channel
// csbot did not create, as Slack says right before the post, not as it
// listed it.
func (m *channelMaker) pinSummary(ctx context.Context, res *ChannelResult, ch slack.Channel) {
	external := ch.IsExtShared || ch.IsPendingExtShared
	if !external && res.Outcome != ChannelCreated {
		ext, err := m.sharedNow(ctx, ch.ID)
		if err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("couldn't check whether the channel is shared with another organisation (%v), so csbot posted no summary there", err))
			return
		}
		external = ext
	}
	if external {
		res.Notes = append(res.Notes, "the channel is shared with another organisation, so csbot posted no summary there")
		return
	}
	text, err := m.c.channelSummary(ctx, res.Account)
	if err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("couldn't read the account's summary: %v", err))
		return
	}
	ts, err := retrySlack(ctx, func() (string, error) {
		_, ts, err := m.c.cfg.Slack.PostMessageContext(ctx, res.ChannelID, slack.MsgOptionText(text, false))
		return ts, err
	})
	if err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("couldn't post the summary: %v", err))
		return
	}
	if _, err := retrySlack(ctx, func() (struct{}, error) {
		return struct{}{}, m.c.cfg.Slack.AddPinContext(ctx, res.ChannelID, slack.NewRefToMessage(res.ChannelID, ts))
	}); err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("posted the summary but couldn't pin it: %v", err))
		return
	}
	res.Pinned = true
}

// sharedNow reports whether the channel is shared with another
// organisation, or about to be, by a fresh answer: the guard's, at most
// bot.ChannelRecheck old, when the commands have one (in Slack), else
// conversations.info's (csbot channels sync).
func (m *channelMaker) sharedNow(ctx context.Context, id string) (bool, error) {
	if m.c.cfg.Channels != nil {
		info, err := m.c.cfg.Channels.Channel(ctx, id, bot.ChannelRecheck)
		if err != nil {
			return false, err
		}
		return info.External(), nil
	}
	ch, err := retrySlack(ctx, func() (*slack.Channel, error) {
		return m.c.cfg.Slack.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
	})
	if err != nil {
		return false, fmt.Errorf("conversations.info %s: %w", id, err)
	}
	return ch.IsExtShared || ch.IsPendingExtShared, nil
}

// channelSummary is the message pinned in a new account channel: the
// health card's one line, who looks after the account, and how to see
// the card.
func (c *Commands) channelSummary(ctx context.Context, a csbot.Account) (string, error) {
	now := c.cfg.Now()
	d, err := c.cfg.Store.AccountDetail(ctx, a.ID, now)
	if err != nil {
		return "", fmt.Errorf("detail of account %d: %w", a.ID, err)
	}
	card := c.cardOf(bot.Actor{}, d, now, nil, true)
	people := []string{"CSM " + csmText(d)}
	if d.Account.AEUserID != "" {
		people = append(people, "AE "+bot.UserMention(d.Account.AEUserID))
	}
	name := bot.Escape(bot.Truncate(displayName(d.Account), maxNameChars))
	text := fmt.Sprintf("📌 *%s*'s channel: csbot posts its alerts and reminders here.\n%s\n%s · %s · `/health %s` for the full card",
		name, card.Text, tierLabel(d.Account.Tier), strings.Join(people, " · "), name)
	return bot.TruncateMrkdwn(text, bot.MaxFallbackText), nil
}

// createChannel answers "Create account channel" on a health card: the
// account gets a channel of its own (see SyncChannels), and the person
// who asked is told what was done.
func (c *Commands) createChannel(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	id, ok := accountIDValue(req.Action.Value)
	if !ok {
		return usage(msgStaleButton), nil
	}
	// Before the permission check, so that a refusal's audit entry names
	// the account too.
	noteAccount(ctx, id)
	a, err := c.cfg.Store.AccountByID(ctx, id)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneAccount), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("create channel of account %d: %w", id, err)
	}
	may, err := c.mayCreateChannelOf(ctx, req.Actor, a)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("create channel of account %d: %w", id, err)
	}
	if !may {
		return usage(msgNoCreateChannel), nil
	}
	name := bot.Bold(bot.Truncate(displayName(a), maxNameChars))
	if a.SlackChannelID != "" {
		return usage(fmt.Sprintf("%s has a channel already: %s.", name, bot.ChannelMention(a.SlackChannelID))), nil
	}
	if c.cfg.Slack == nil {
		return usage("csbot can't create Slack channels here. Create one by hand and type `/health link` in it."), nil
	}
	m, err := c.newChannelMaker(ChannelOptions{Actor: req.Actor.SlackID})
	if err != nil {
		return bot.Reply{}, err
	}
	res := m.ensure(ctx, a)
	if res.Err != nil {
		if p, ok := errors.AsType[*channelProblem](res.Err); ok {
			return usage(fmt.Sprintf("Sorry, %s got no channel: %s.", name, bot.Escape(p.msg))), nil
		}
		return bot.Reply{}, res.Err
	}
	return bot.Reply{Text: channelReplyText(name, res)}, nil
}

// channelReplyText tells what became of an account's channel, in mrkdwn.
func channelReplyText(name string, res ChannelResult) string {
	var b strings.Builder
	switch res.Outcome {
	case ChannelCreated:
		fmt.Fprintf(&b, "Created %s for %s and linked it: its alerts and reminders will be posted there.", bot.ChannelMention(res.ChannelID), name)
	case ChannelLinkedMeanwhile:
		fmt.Fprintf(&b, "%s got a channel meanwhile: %s. csbot kept it, and invited nobody and posted nothing.", name, bot.ChannelMention(res.ChannelID))
	default:
		fmt.Fprintf(&b, "%s existed already, so csbot linked it to %s: its alerts and reminders will be posted there.", bot.ChannelMention(res.ChannelID), name)
	}
	if len(res.Invited) > 0 {
		mentions := make([]string, len(res.Invited))
		for i, u := range res.Invited {
			mentions[i] = bot.UserMention(u)
		}
		fmt.Fprintf(&b, " %s %s in it.", andJoin(mentions), countNoun(len(mentions), "is", "are"))
	}
	if res.Pinned {
		b.WriteString(" The account's summary is pinned there.")
	}
	for _, n := range res.Notes {
		b.WriteString("\n⚠️ " + bot.Escape(upperFirst(n)) + ".")
	}
	return bot.TruncateMrkdwn(b.String(), bot.MaxFallbackText)
}
