package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// accountView shows one account: what a pick-list button for a command
// leads to once the person has picked.
type accountView func(ctx context.Context, req bot.Request, a csbot.Account) (bot.Reply, error)

// pickLimit is how many accounts a pick-list or a "did you mean" offers.
const pickLimit = 8

// pickPrefix starts the action_id of a button that leads to an account
// view: "pick:" + the view's name ("pick:health", "pick:renewals"); the
// button's value is the account id.
const pickPrefix = "pick:"

// maxNameChars is the most of an account's name a list shows.
const maxNameChars = 200

// pickListBlock starts the block_id of a pick-list's entries: picking one
// replaces the list with what was picked.
const pickListBlock = "picklist-"

// resolveAccount looks up the account a person typed for the command
// next ("health", "renewals"). With one match it returns the account;
// otherwise it returns the reply to send instead: a pick-list whose
// buttons lead to c.views[next], or "did you mean", or "no account".
func (c *Commands) resolveAccount(ctx context.Context, req bot.Request, query, next string) (csbot.Account, *bot.Reply, error) {
	query, res, rep, err := c.findAccounts(ctx, query, next)
	if rep != nil || err != nil {
		return csbot.Account{}, rep, err
	}
	a, rep := lookupReply(next, query, res)
	if rep == nil {
		noteAccount(ctx, a.ID)
	}
	return a, rep, nil
}

// findAccounts looks up what a person typed for the command next, with
// its spaces tidied (the query returned); a query that is empty or too
// long gets the reply to send instead.
func (c *Commands) findAccounts(ctx context.Context, query, next string) (string, csbot.AccountLookup, *bot.Reply, error) {
	query = strings.Join(strings.FieldsFunc(query, isSpace), " ")
	if query == "" || utf8.RuneCountInString(query) > maxArgText {
		rep := usage("Which account? " + lookupHint(next))
		return query, csbot.AccountLookup{}, &rep, nil
	}
	res, err := c.cfg.Store.FindAccounts(ctx, query, pickLimit+1)
	if err != nil {
		return query, res, nil, fmt.Errorf("find account %q: %w", query, err)
	}
	return query, res, nil, nil
}

// lookupReply is what a lookup of query for the view next comes to: the
// account when one matched, else the reply to send.
func lookupReply(next, query string, res csbot.AccountLookup) (csbot.Account, *bot.Reply) {
	var rep bot.Reply
	switch {
	case len(res.Matches) == 1:
		return res.Matches[0].Account, nil
	case len(res.Matches) > 1:
		accounts := matchedAccounts(res.Matches)
		intro := fmt.Sprintf("%d accounts match “%s”. Which one did you mean?", len(accounts), bot.Escape(query))
		if len(accounts) > pickLimit {
			intro = fmt.Sprintf("More than %d accounts match “%s”. Here are the first %d; pick one, or type more of the name.",
				pickLimit, bot.Escape(query), pickLimit)
		}
		rep = pickList(next, intro, accounts)
	case len(res.Suggestions) > 0:
		rep = didYouMean(next, query, matchedAccounts(res.Suggestions))
	default:
		rep = usage(fmt.Sprintf("No account matches “%s”. %s", bot.Escape(query), lookupHint(next)))
	}
	return csbot.Account{}, &rep
}

func matchedAccounts(ms []csbot.AccountMatch) []csbot.Account {
	out := make([]csbot.Account, len(ms))
	for i, m := range ms {
		out[i] = m.Account
	}
	return out
}

// lookupHint says how to name an account to the command next.
func lookupHint(next string) string {
	cmd := commandOf(next)
	return fmt.Sprintf("Name it by its name, domain or CRM id, e.g. `%s acme`, `%s acme.com` or `%s \"acme corp\"`.", cmd, cmd, cmd)
}

// commandOf is the command a person types for the view next.
func commandOf(next string) string {
	switch next {
	case "link":
		return "/health link"
	case "":
		return "/health"
	}
	return "/" + next
}

// pickLabel is the label of a pick-list button leading to the view next.
func pickLabel(next string) string {
	switch next {
	case "health":
		return "Show health"
	case "renewals":
		return "Show renewals"
	case "link":
		return "Link here"
	case "ebr":
		return "Draft EBR"
	}
	return "Choose"
}

// didYouMean offers the closest names to a query that matched nothing.
func didYouMean(next, query string, suggestions []csbot.Account) bot.Reply {
	intro := fmt.Sprintf("No account matches “%s”. Did you mean one of these?", bot.Escape(query))
	rep := pickList(next, intro, suggestions)
	names := make([]string, 0, min(len(suggestions), 3))
	for _, a := range suggestions[:min(len(suggestions), 3)] {
		names = append(names, bot.Escape(bot.Truncate(displayName(a), maxNameChars)))
	}
	rep.Text = fmt.Sprintf("No account matches “%s”. Did you mean %s?", bot.Escape(query), orJoin(names))
	return rep
}

// pickList is an ephemeral list of accounts, each with a button leading
// to the view next, under intro (mrkdwn, escaped). It shows at most
// pickLimit accounts.
func pickList(next, intro string, accounts []csbot.Account) bot.Reply {
	accounts = accounts[:min(len(accounts), pickLimit)]
	blocks := []slack.Block{bot.FitSection(intro)}
	names := make([]string, 0, len(accounts))
	for i, a := range accounts {
		btn := slack.NewButtonBlockElement(pickPrefix+next, strconv.FormatInt(a.ID, 10),
			plainText(bot.Truncate(pickLabel(next), bot.MaxButtonText)))
		sec := slack.NewSectionBlock(mdText(bot.Bold(bot.Truncate(displayName(a), maxNameChars))), nil, slack.NewAccessory(btn))
		sec.BlockID = fmt.Sprintf("%s%d", pickListBlock, i)
		blocks = append(blocks, sec, slack.NewContextBlock("", mdText(accountFacts(a))))
		names = append(names, bot.Escape(bot.Truncate(displayName(a), maxNameChars)))
	}
	return bot.Reply{
		Text:   bot.TruncateMrkdwn(intro+" "+strings.Join(names, ", "), bot.MaxFallbackText),
		Blocks: blocks,
	}
}

// accountFacts is the line under an account's name in a list: tier, ARR,
// domain and CRM id, escaped.
func accountFacts(a csbot.Account) string {
	parts := []string{tierLabel(a.Tier), a.ARR.Short() + " ARR"}
	if a.Domain != "" {
		parts = append(parts, bot.Escape(a.Domain))
	}
	if a.ExternalID != "" {
		parts = append(parts, "CRM id "+bot.Escape(a.ExternalID))
	}
	return bot.TruncateMrkdwn(strings.Join(parts, " · "), bot.MaxSectionText)
}

// tierLabel names a tier: "High touch".
func tierLabel(t csbot.Tier) string {
	switch t {
	case csbot.TierHigh:
		return "High touch"
	case csbot.TierLow:
		return "Low touch"
	case csbot.TierTech:
		return "Tech touch"
	}
	return "Tier unknown"
}

// registerPick routes the pick-list buttons of every view.
func (c *Commands) registerPick(r Registrar) {
	r.HandleAction(pickPrefix, c.pick)
}

// pick answers a button leading to an account view: "pick:<view>" with
// the account id as its value. Picking from a pick-list replaces the list.
func (c *Commands) pick(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	name, _, _ := strings.Cut(strings.TrimPrefix(req.Action.ActionID, pickPrefix), ":")
	view := c.views[name]
	id, ok := accountIDValue(req.Action.Value)
	if view == nil || !ok {
		return usage(msgStaleButton), nil
	}
	a, err := c.cfg.Store.AccountByID(ctx, id)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneAccount), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("pick account %d: %w", id, err)
	}
	noteAccount(ctx, a.ID)
	rep, err := view(ctx, req.Request, a)
	if err != nil {
		return bot.Reply{}, err
	}
	if strings.HasPrefix(req.Action.BlockID, pickListBlock) && rep.Visibility == bot.Ephemeral && rep.OpenView == nil {
		rep.ReplaceOriginal = true
	}
	return rep, nil
}

// What a stale or broken button is answered with.
const (
	msgStaleButton = "Sorry, that button no longer works. Run the command again to get a fresh one."
	msgGoneAccount = "That account is no longer in csbot. Run the command again to look it up afresh."
)

// accountIDValue reads an account id from a button's value.
func accountIDValue(v string) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return id, err == nil && id > 0
}

// orJoin joins words as "a, b or c".
func orJoin(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// mdText is a mrkdwn text object; s must be escaped already.
func mdText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// plainText is a plain_text object.
func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}
