package commands

import (
	"context"
	"sync"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// AuditStore is what the audit log writes.
type AuditStore interface {
	// RecordAudit writes one entry of the audit log.
	RecordAudit(ctx context.Context, e csbot.AuditEntry) error
}

// auditTimeout bounds the write of an audit entry: a reply without a
// window waits for it.
const auditTimeout = 2 * time.Second

// auditNote is what the handler of an audited request tells its audit
// entry: the account the request concerns, once the handler knows it.
type auditNote struct {
	mu      sync.Mutex
	account int64
}

// auditNoteKey is the context key of a request's *auditNote.
type auditNoteKey struct{}

// withAuditNote returns ctx carrying a fresh note for its request.
func withAuditNote(ctx context.Context) (context.Context, *auditNote) {
	n := &auditNote{}
	return context.WithValue(ctx, auditNoteKey{}, n), n
}

// noteAccount tells the audit entry of the request in ctx that it
// concerns account id: the account-resolving paths call it once they
// know. The first account noted wins; outside an audited request (csbot
// try, tests) it does nothing.
func noteAccount(ctx context.Context, id int64) {
	n, ok := ctx.Value(auditNoteKey{}).(*auditNote)
	if !ok || id <= 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.account == 0 {
		n.account = id
	}
}

// accountNoted returns the account noted, 0 when none.
func (n *auditNote) accountNoted() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.account
}

// audited returns r wrapped so that every slash command, button, modal
// submission and shortcut it is given is recorded in the audit log after
// its handler ran: who, from which channel, what they typed or clicked
// (e-mail addresses masked, cut short), and the account when the handler
// noted it (noteAccount). Writing the entry never fails the request: a
// failure is logged. The result takes shortcuts when r does.
func (c *Commands) audited(r Registrar) Registrar {
	a := &auditRegistrar{c: c, r: r}
	if sr, ok := r.(ShortcutRegistrar); ok {
		return &auditShortcutRegistrar{auditRegistrar: a, sr: sr}
	}
	return a
}

// auditRegistrar is a Registrar that audits the handlers it passes on.
type auditRegistrar struct {
	c *Commands
	r Registrar
}

// HandleCommand implements Registrar: the entry is "command:/health"
// with the text typed.
func (a *auditRegistrar) HandleCommand(command string, fn bot.CommandFunc) {
	action := "command:" + command
	a.r.HandleCommand(command, func(ctx context.Context, req bot.CommandRequest) (bot.Reply, error) {
		ctx, note := withAuditNote(ctx)
		rep, err := fn(ctx, req)
		return a.c.auditAfter(ctx, note, req.Request, action, map[string]any{"text": csbot.AuditText(req.Text)}, rep, err)
	})
}

// HandleAction implements Registrar: the entry is "action:" and the
// prefix registered, with the button's action_id and value.
func (a *auditRegistrar) HandleAction(actionIDPrefix string, fn bot.ActionFunc) {
	action := "action:" + actionIDPrefix
	a.r.HandleAction(actionIDPrefix, func(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
		ctx, note := withAuditNote(ctx)
		rep, err := fn(ctx, req)
		details := map[string]any{"action_id": csbot.AuditText(req.Action.ActionID)}
		if v := actionValue(req.Action); v != "" {
			details["value"] = csbot.AuditText(v)
		}
		return a.c.auditAfter(ctx, note, req.Request, action, details, rep, err)
	})
}

// actionValue is what a block action carried: a button's value, or the
// option or user selected.
func actionValue(act slack.BlockAction) string {
	switch {
	case act.Value != "":
		return act.Value
	case act.SelectedOption.Value != "":
		return act.SelectedOption.Value
	}
	return act.SelectedUser
}

// HandleView implements Registrar: a submission's entry is "view:" and
// the callback id. Validation runs within the ack's budget and is not
// recorded, nor are closings.
func (a *auditRegistrar) HandleView(callbackID string, h bot.ViewHandler) {
	if submit := h.Submit; submit != nil {
		action := "view:" + callbackID
		h.Submit = func(ctx context.Context, req bot.ViewRequest) (bot.Reply, error) {
			ctx, note := withAuditNote(ctx)
			rep, err := submit(ctx, req)
			return a.c.auditAfter(ctx, note, req.Request, action, nil, rep, err)
		}
	}
	a.r.HandleView(callbackID, h)
}

// HandleEvent implements Registrar. Events are Slack's news (a channel
// renamed, the App Home opened), not someone's request: they are not
// recorded.
func (a *auditRegistrar) HandleEvent(eventType string, fn bot.EventFunc) {
	a.r.HandleEvent(eventType, fn)
}

// auditShortcutRegistrar is an auditRegistrar that takes shortcuts too.
type auditShortcutRegistrar struct {
	*auditRegistrar
	sr ShortcutRegistrar
}

// HandleShortcut implements ShortcutRegistrar: the entry is "shortcut:"
// and the callback id; the message a shortcut was used on is not kept.
func (a *auditShortcutRegistrar) HandleShortcut(callbackID string, fn bot.ShortcutFunc) {
	action := "shortcut:" + callbackID
	a.sr.HandleShortcut(callbackID, func(ctx context.Context, req bot.ShortcutRequest) (bot.Reply, error) {
		ctx, note := withAuditNote(ctx)
		rep, err := fn(ctx, req)
		return a.c.auditAfter(ctx, note, req.Request, action, nil, rep, err)
	})
}

// auditAfter records the audit entry of a request whose handler returned
// rep and herr, and returns them. A reply that opens or pushes a window
// is delivered first: Slack honours its trigger for 3 s, which a slow
// database must not eat. Its entry is written in its Then, which the
// runtime runs once the window is open (before the reply's own Then).
func (c *Commands) auditAfter(ctx context.Context, note *auditNote, req bot.Request, action string, details map[string]any,
	rep bot.Reply, herr error) (bot.Reply, error) {
	if herr != nil || (rep.OpenView == nil && rep.PushView == nil) {
		c.recordAudit(ctx, note, req, action, details, herr)
		return rep, herr
	}
	then := rep.Then
	rep.Then = func(thenCtx context.Context, viewID string) (bot.Reply, error) {
		c.recordAudit(thenCtx, note, req, action, details, nil)
		if then == nil {
			return bot.Reply{}, nil
		}
		return then(thenCtx, viewID)
	}
	return rep, nil
}

// recordAudit writes the audit entry of a request whose handler returned
// herr, logging (not returning) a failure to write it.
func (c *Commands) recordAudit(ctx context.Context, note *auditNote, req bot.Request, action string, details map[string]any, herr error) {
	if c.cfg.Store == nil {
		return
	}
	actor := req.UserID
	if actor == "" {
		actor = req.Actor.SlackID
	}
	if actor == "" {
		actor = "unknown"
	}
	if herr != nil {
		if details == nil {
			details = map[string]any{}
		}
		details["failed"] = true
	}
	e := csbot.AuditEntry{At: c.cfg.Now(), Actor: actor, Action: action, AccountID: note.accountNoted(),
		Channel: req.ChannelID, Details: details}
	// The entry is written even when the request's context has ended (the
	// user gave up waiting): what was done is done.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if err := c.cfg.Store.RecordAudit(ctx, e); err != nil {
		c.log.Warn("audit log: entry not written", "action", action, "actor", actor, "account", e.AccountID, "err", err)
	}
}
