package notifier

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
)

// Actions is the part of the store the buttons of notifications need;
// *store.Store satisfies it.
type Actions interface {
	AckAlerts(ctx context.Context, notification int64, by string, at time.Time) (int, error)
	SnoozeAlerts(ctx context.Context, notification int64, by string, at, until time.Time) ([]csbot.SignalKind, error)
	SnoozeReminder(ctx context.Context, notification int64, by string, at, until time.Time) (csbot.Notification, error)
}

// reminderSnoozeDays is how long "Snooze" puts a renewal reminder off.
const reminderSnoozeDays = 3

// Registrar is where the notifier's buttons are handled; *bot.Runtime
// satisfies it.
type Registrar interface {
	HandleAction(actionIDPrefix string, fn bot.ActionFunc)
}

// Register handles the Acknowledge and Snooze buttons of alert messages
// (Open health and Log a touchpoint are the commands package's).
func (n *Notifier) Register(r Registrar, actions Actions) {
	h := actionHandlers{n: n, store: actions}
	r.HandleAction(ActionAck, h.ack)
	r.HandleAction("alert_snooze_", h.snooze)
	r.HandleAction(ActionRemindLater, h.snoozeReminder)
}

type actionHandlers struct {
	n     *Notifier
	store Actions
}

// ack records who acknowledged the alerts of a message and when, and
// updates the message in place to say so.
func (h actionHandlers) ack(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return notAllowed("acknowledge alerts"), nil
	}
	id, err := strconv.ParseInt(req.Action.Value, 10, 64)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("alert button value %q: %w", req.Action.Value, err)
	}
	now := h.n.cfg.Now()
	if _, err := h.store.AckAlerts(ctx, id, req.UserID, now); err != nil {
		return bot.Reply{}, err
	}
	return h.refresh(ctx, req, id)
}

// snooze snoozes the alerts' kinds on the account for 7 or 30 days.
func (h actionHandlers) snooze(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return notAllowed("snooze alerts"), nil
	}
	days, err := strconv.Atoi(strings.TrimPrefix(req.Action.ActionID, "alert_snooze_"))
	if err != nil || days < 1 || days > 90 {
		return bot.Reply{}, fmt.Errorf("snooze button %q: want alert_snooze_<days>", req.Action.ActionID)
	}
	id, err := strconv.ParseInt(req.Action.Value, 10, 64)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("alert button value %q: %w", req.Action.Value, err)
	}
	now := h.n.cfg.Now()
	if _, err := h.store.SnoozeAlerts(ctx, id, req.UserID, now, now.AddDate(0, 0, days)); err != nil {
		return bot.Reply{}, err
	}
	return h.refresh(ctx, req, id)
}

// snoozeReminder sends the reminder again in a few days, and says so on
// the message.
func (h actionHandlers) snoozeReminder(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return notAllowed("snooze reminders"), nil
	}
	id, err := strconv.ParseInt(req.Action.Value, 10, 64)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("reminder button value %q: %w", req.Action.Value, err)
	}
	now := h.n.cfg.Now()
	follow, err := h.store.SnoozeReminder(ctx, id, req.UserID, now, now.AddDate(0, 0, reminderSnoozeDays))
	if errors.Is(err, csbot.ErrNotFound) {
		return bot.Reply{Text: "Sorry, that reminder is no longer in csbot.", Public: true}, nil
	} else if err != nil {
		return bot.Reply{}, err
	}
	note := fmt.Sprintf("💤 Snoozed by %s: csbot reminds you again on %s.", bot.UserMention(req.UserID),
		shortDay(follow.NotBefore, h.n.cfg.Location))
	return h.refreshWith(ctx, req, id, note)
}

// refresh re-renders the alert message of notification id where the
// button was clicked, with chat.update: a response_url that failed would
// post a second copy instead.
func (h actionHandlers) refresh(ctx context.Context, req bot.ActionRequest, id int64) (bot.Reply, error) {
	return h.refreshWith(ctx, req, id, "")
}

// refreshWith is refresh with a line added at the end of the message.
func (h actionHandlers) refreshWith(ctx context.Context, req bot.ActionRequest, id int64, note string) (bot.Reply, error) {
	nt, err := h.n.cfg.Store.Notification(ctx, id)
	if err != nil {
		return bot.Reply{}, err
	}
	msg, err := h.n.render(ctx, nt)
	if err != nil {
		return bot.Reply{}, err
	}
	if note != "" {
		msg.Blocks = append(msg.Blocks, contextBlock(note))
	}
	channel, ts := req.Callback.Channel.ID, req.Callback.Message.Timestamp
	if channel == "" || ts == "" {
		channel, ts = nt.SlackChannel, nt.SlackTS
	}
	if h.n.cfg.Slack == nil || channel == "" || ts == "" {
		return bot.Reply{}, errors.New("alert message to update not found")
	}
	msg.Channel, msg.UpdateTS, msg.Priority = channel, ts, bot.PriorityInteractive
	if _, err := h.n.cfg.Slack.Send(ctx, msg); err != nil {
		return bot.Reply{}, fmt.Errorf("update alert message: %w", err)
	}
	return bot.Reply{}, nil
}

// notAllowed answers a person csbot does not know.
func notAllowed(what string) bot.Reply {
	return bot.Reply{Text: fmt.Sprintf("Only members of the customer success team can %s. Ask an admin to add you to csbot's users.", what), Public: true}
}
