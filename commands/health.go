package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
)

// healthUsage is /health's help: its forms, with examples.
const healthUsage = "*/health* shows an account's health: score, what pulls it down, open risk signals, next renewal and last touch.\n" +
	"• `/health acme`: by name, domain or CRM id (`/health acme.com`, `/health \"acme corp\"`)\n" +
	"• `/health acme public`: post it in the channel for everyone here\n" +
	"• `/health`: the account linked to this channel, or else your own portfolio, worst first\n" +
	"• `/health @dana`: Dana's portfolio\n" +
	"• `/health #acme-corp`: the account linked to that channel\n" +
	"• `/health link acme`: link this channel to Acme, for its alerts and reminders (CSMs, managers, admins)\n" +
	"• `/health settings`: choose where each kind of alert reaches you: account channel, direct message, weekly digest or off\n" +
	"• `/health help`: this help"

// health answers /health.
func (c *Commands) health(ctx context.Context, req bot.CommandRequest) (bot.Reply, error) {
	if utf8.RuneCountInString(req.Text) > maxArgText {
		return usage(fmt.Sprintf("That's more than %d characters, too long for an account's name. Try a few words of it.\n\n%s", maxArgText, healthUsage)), nil
	}
	args := parseArgs(req.Text)
	if len(args) == 0 {
		return c.healthHere(ctx, req.Request, false)
	}
	first := args[0]
	switch {
	case len(args) == 1 && (first.keyword("help") || first.keyword("?")):
		return usage(healthUsage), nil
	case first.keyword("link"):
		return c.link(ctx, req.Request, args[1:])
	case len(args) == 1 && first.keyword("settings"):
		return c.settings(ctx, req.Request)
	}
	public := false
	if last := args[len(args)-1]; last.keyword("public") {
		public, args = true, args[:len(args)-1]
	}
	switch {
	case len(args) == 0:
		return c.healthHere(ctx, req.Request, public)
	case len(args) == 1 && args[0].Kind == argUser && !public:
		return c.portfolio(ctx, req.Request, args[0].ID, 0)
	case len(args) == 1 && args[0].Kind == argChannel:
		return c.healthOfChannel(ctx, req.Request, args[0], public)
	}
	for _, a := range args {
		if a.Kind != argWord {
			return usage("I didn't understand that.\n\n" + healthUsage), nil
		}
	}
	a, rep, err := c.resolveAccount(ctx, req.Request, joinWords(args), "health")
	if err != nil || rep != nil {
		return deref(rep), err
	}
	return c.healthCard(ctx, req.Request, a.ID, public)
}

// deref returns *rep, or the zero Reply for nil.
func deref(rep *bot.Reply) bot.Reply {
	if rep == nil {
		return bot.Reply{}
	}
	return *rep
}

// healthHere answers /health without an account: the account linked to
// the channel, a pick-list when several are, else the caller's portfolio.
func (c *Commands) healthHere(ctx context.Context, req bot.Request, public bool) (bot.Reply, error) {
	var accounts []csbot.Account
	if inChannel(req.ChannelID) {
		var err error
		accounts, err = c.cfg.Store.AccountsByChannel(ctx, req.ChannelID)
		if err != nil {
			return bot.Reply{}, fmt.Errorf("accounts of channel %s: %w", req.ChannelID, err)
		}
	}
	switch {
	case len(accounts) == 1:
		return c.healthCard(ctx, req, accounts[0].ID, public)
	case len(accounts) > 1:
		return pickList("health", fmt.Sprintf("This channel is linked to %d accounts. Which one?", len(accounts)), accounts), nil
	case public:
		return usage("No account is linked to this channel, so there's nothing to post. Name one: `/health acme public`."), nil
	}
	return c.portfolio(ctx, req, req.UserID, 0)
}

// inChannel reports whether id is a channel (public, private or group)
// rather than a direct message or nothing.
func inChannel(id string) bool { return id != "" && !strings.HasPrefix(id, "D") }

// healthOfChannel shows the account linked to the channel ch refers to.
func (c *Commands) healthOfChannel(ctx context.Context, req bot.Request, ch arg, public bool) (bot.Reply, error) {
	accounts, err := c.cfg.Store.AccountsByChannel(ctx, ch.ID)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("accounts of channel %s: %w", ch.ID, err)
	}
	switch len(accounts) {
	case 0:
		return usage(fmt.Sprintf("No account is linked to %s. To link one, type `/health link acme` in that channel.", bot.ChannelMention(ch.ID))), nil
	case 1:
		return c.healthCard(ctx, req, accounts[0].ID, public)
	}
	return pickList("health", fmt.Sprintf("%s is linked to %d accounts. Which one?", bot.ChannelMention(ch.ID), len(accounts)), accounts), nil
}

// registerHealth gives r the buttons, modal and event of /health.
func (c *Commands) registerHealth(r Registrar) {
	c.registerPick(r)
	r.HandleAction(actionShare, c.share)
	r.HandleAction(actionMore, c.more)
	c.registerOverride(r)
	r.HandleEvent("channel_id_changed", c.channelIDChanged)
}

// healthOf shows the health of one account.
func (c *Commands) healthOf(ctx context.Context, req bot.Request, a csbot.Account) (bot.Reply, error) {
	return c.healthCard(ctx, req, a.ID, false)
}

// share answers "Share in channel": the same card, posted in the channel
// (the runtime's guard keeps it out of channels shared with another
// organisation).
func (c *Commands) share(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	id, ok := accountIDValue(req.Action.Value)
	if !ok {
		return usage(msgStaleButton), nil
	}
	rep, err := c.healthCard(ctx, req.Request, id, true)
	rep.ReplaceOriginal = false
	return rep, err
}

// linkUsage is the help of /health link.
const linkUsage = "Type `/health link acme` in the account's own channel to link it: csbot posts the account's alerts and reminders there. CSMs, managers and admins can link channels."

// link answers /health link <account>.
func (c *Commands) link(ctx context.Context, req bot.Request, args []arg) (bot.Reply, error) {
	if rep, refused := c.linkRefusal(req); refused {
		return rep, nil
	}
	if len(args) == 0 {
		return usage("Which account? " + linkUsage), nil
	}
	for _, a := range args {
		if a.Kind != argWord {
			return usage("Name the account by its name, domain or CRM id. " + linkUsage), nil
		}
	}
	a, rep, err := c.resolveAccount(ctx, req, joinWords(args), "link")
	if err != nil || rep != nil {
		return deref(rep), err
	}
	return c.linkOf(ctx, req, a)
}

// linkRefusal refuses a link by someone who may not link, or outside a
// channel.
func (c *Commands) linkRefusal(req bot.Request) (bot.Reply, bool) {
	switch {
	case !req.Actor.Is(csbot.UserCSM, csbot.UserManager, csbot.UserAdmin):
		return usage("Only CSMs, CS managers and admins can link a channel to an account. You can still look any account up: `/health acme`."), true
	case !inChannel(req.ChannelID):
		return usage("Type `/health link acme` in the account's channel, not in a direct message: that's the channel csbot will post to."), true
	}
	return bot.Reply{}, false
}

// linkOf links the request's channel to a.
func (c *Commands) linkOf(ctx context.Context, req bot.Request, a csbot.Account) (bot.Reply, error) {
	if rep, refused := c.linkRefusal(req); refused {
		return rep, nil
	}
	var info *bot.ChannelInfo
	if c.cfg.Channels != nil {
		ch, err := c.cfg.Channels.Channel(ctx, req.ChannelID, bot.ChannelRecheck)
		if err != nil {
			c.log.Warn("check channel before linking", "channel", req.ChannelID, "err", err)
		} else {
			info = &ch
		}
	}
	switch {
	case info != nil && info.Archived:
		return usage("This channel is archived, so csbot can't post in it. Link the account's active channel instead."), nil
	case info != nil && (info.IM || info.MPIM):
		return usage("Type `/health link acme` in the account's channel, not in a direct message: that's the channel csbot will post to."), nil
	}
	unlinked, err := c.cfg.Store.LinkChannel(ctx, a.ID, req.ChannelID, req.Actor.SlackID)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("link channel %s to account %d: %w", req.ChannelID, a.ID, err)
	}
	name := bot.Bold(bot.Truncate(displayName(a), maxNameChars))
	var b strings.Builder
	fmt.Fprintf(&b, "Linked %s to %s: its alerts and reminders will be posted here.", bot.ChannelMention(req.ChannelID), name)
	if a.SlackChannelID != "" && a.SlackChannelID != req.ChannelID {
		fmt.Fprintf(&b, " (It was linked to %s before.)", bot.ChannelMention(a.SlackChannelID))
	}
	var others []string
	for _, u := range unlinked {
		if u.ID != a.ID {
			others = append(others, bot.Bold(bot.Truncate(displayName(u), maxNameChars)))
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(&b, "\nThis channel is no longer linked to %s.", andJoin(others))
	}
	if info != nil && info.External() {
		b.WriteString("\n⚠️ This channel is shared with another organisation, so csbot will keep internal data out of it: the account's alerts go to the CSM's DM instead.")
	}
	return bot.Reply{Text: bot.TruncateMrkdwn(b.String(), bot.MaxFallbackText)}, nil
}

// andJoin joins words as "a, b and c".
func andJoin(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// channelIDChanged follows a channel whose id changed (a channel moved
// between workspaces): its links go with it. It replies nothing.
func (c *Commands) channelIDChanged(ctx context.Context, req bot.EventRequest) (bot.Reply, error) {
	var ev struct {
		Old string `json:"old_channel_id"`
		New string `json:"new_channel_id"`
	}
	if err := json.Unmarshal(req.Inner, &ev); err != nil {
		return bot.Reply{}, fmt.Errorf("channel_id_changed: %w", err)
	}
	if !csbot.IsSlackChannelID(ev.Old) || !csbot.IsSlackChannelID(ev.New) {
		c.log.Warn("channel_id_changed without valid ids", "old", ev.Old, "new", ev.New)
		return bot.Reply{}, nil
	}
	n, err := c.cfg.Store.MoveChannel(ctx, ev.Old, ev.New)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("move channel %s to %s: %w", ev.Old, ev.New, err)
	}
	c.log.Info("channel links moved", "old", ev.Old, "new", ev.New, "accounts", n)
	return bot.Reply{}, nil
}
