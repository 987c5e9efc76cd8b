package notifier_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// registrar keeps the action handlers the notifier registers.
type registrar map[string]bot.ActionFunc

func (r registrar) HandleAction(prefix string, fn bot.ActionFunc) { r[prefix] = fn }

// click runs the handler of a button in a posted message as member user.
func (r registrar) click(t *testing.T, f *fixture, actionID, value, user string, known bool, channel, ts string) bot.Reply {
	t.Helper()
	var fn bot.ActionFunc
	for prefix, h := range r {
		if strings.HasPrefix(actionID, prefix) {
			fn = h
		}
	}
	if fn == nil {
		t.Fatalf("no handler for %s", actionID)
	}
	req := bot.ActionRequest{
		Request: bot.Request{Actor: bot.Actor{SlackID: user, Known: known}, UserID: user, ChannelID: channel},
		Action:  slack.BlockAction{ActionID: actionID, Value: value},
	}
	req.Callback.Channel.ID = channel
	req.Callback.Message.Timestamp = ts
	rep, err := fn(f.ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", actionID, err)
	}
	return rep
}

// postedAlert raises one alert on A-OPEN and waits for its message.
func postedAlert(t *testing.T, f *fixture) csbot.Notification {
	t.Helper()
	n := only(t, f.record([]csbot.Signal{
		f.signal("A-OPEN", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "usage down 33%"),
	}, true))
	f.waitDelivered()
	return f.notification(n.ID)
}

func TestAcknowledgeUpdatesTheAlertInPlace(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	reg := registrar{}
	f.n.Register(reg, f.db)
	n := postedAlert(t, f)
	id := strconv.FormatInt(n.ID, 10)

	// Someone csbot does not know may not acknowledge.
	if rep := reg.click(t, f, "alert_ack", id, "U0STRANGER", false, n.SlackChannel, n.SlackTS); !strings.Contains(rep.Text, "Only members") {
		t.Errorf("a stranger's click answered %q, want a refusal", rep.Text)
	}
	if m := f.srv.Messages("C0OPEN")[0]; m.Edits != 0 {
		t.Fatal("a stranger's click changed the message")
	}

	reg.click(t, f, "alert_ack", id, "U0SAM", true, n.SlackChannel, n.SlackTS)
	m := f.srv.Messages("C0OPEN")[0]
	if m.TS != n.SlackTS || m.Edits != 1 || !strings.Contains(blocksText(m.Blocks), "Acknowledged by <@U0SAM>") {
		t.Fatalf("after Acknowledge the message has %d edits and blocks %s; want it updated in place to say who", m.Edits, m.Blocks)
	}
	if strings.Contains(string(m.Blocks), `"alert_ack"`) {
		t.Error("an acknowledged alert still offers Acknowledge")
	}
	st := alertStatuses(t, f, n)
	for _, s := range st {
		if s.State != csbot.AlertAcknowledged || s.AckedBy != "U0SAM" || s.AckedAt.IsZero() {
			t.Errorf("alert %d = %+v, want acknowledged by U0SAM", s.ID, s)
		}
	}

	// A second click records nothing new.
	reg.click(t, f, "alert_ack", id, "U0MGR", true, n.SlackChannel, n.SlackTS)
	for _, s := range alertStatuses(t, f, n) {
		if s.AckedBy != "U0SAM" {
			t.Errorf("a second acknowledgement replaced the first: %+v", s)
		}
	}
}

func TestSnoozeSilencesTheKindOnTheAccount(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	reg := registrar{}
	f.n.Register(reg, f.db)
	n := postedAlert(t, f)

	reg.click(t, f, "alert_snooze_7", strconv.FormatInt(n.ID, 10), "U0SAM", true, n.SlackChannel, n.SlackTS)
	m := f.srv.Messages("C0OPEN")[0]
	if m.Edits != 1 || !strings.Contains(string(m.Blocks), "snoozed until") {
		t.Fatalf("after Snooze the message has %d edits and blocks %s; want it to say snoozed", m.Edits, m.Blocks)
	}
	for _, s := range alertStatuses(t, f, n) {
		want := f.clock.Now().AddDate(0, 0, 7)
		if s.State != csbot.AlertSnoozed || s.SnoozedUntil.Sub(want).Abs() > time.Minute {
			t.Errorf("alert %d = %+v, want snoozed for 7 days", s.ID, s)
		}
	}

	// The same kind getting worse on that account raises no message while
	// snoozed.
	f.clock.Advance(2 * time.Hour)
	if ns := f.record([]csbot.Signal{
		f.signal("A-OPEN", csbot.SignalUsageDrop, csbot.SignalCritical, "-50%", "usage down 60%"),
	}, true); len(ns) != 0 {
		t.Errorf("a snoozed kind wrote %d notifications, want none", len(ns))
	}
}

func TestSnoozeReminderSendsItAgainLater(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	reg := registrar{}
	f.n.Register(reg, f.db)
	f.mustImport("renewals", "external_id,account_external_id,renewal_date,arr,auto_renew\nR-1,A-OPEN,"+
		f.clock.Now().AddDate(0, 0, 30).Format(time.DateOnly)+",120000,false\n")
	res, err := f.db.QueueReminders(f.ctx, csbot.ReminderRun{Now: f.clock.Now(), Policy: csbot.DefaultPolicy(), Zone: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	rem := only(t, res.Notifications)
	f.waitDelivered()
	rem = f.notification(rem.ID)
	if !strings.Contains(string(keyed(f.srv.Messages("C0OPEN"), rem.Key)[0].Blocks), "reminder_snooze") {
		t.Fatal("the reminder has no Snooze button")
	}

	reg.click(t, f, "reminder_snooze", strconv.FormatInt(rem.ID, 10), "U0SAM", true, rem.SlackChannel, rem.SlackTS)
	m := keyed(f.srv.Messages("C0OPEN"), rem.Key)[0]
	if m.Edits != 1 || !strings.Contains(blocksText(m.Blocks), "Snoozed by <@U0SAM>") {
		t.Fatalf("after Snooze the reminder has %d edits, blocks %s; want it to say so", m.Edits, m.Blocks)
	}
	// Not again before three days; once after.
	f.waitDelivered()
	if n := len(f.srv.Messages("C0OPEN")); n != 1 {
		t.Fatalf("C0OPEN has %d messages right after snoozing, want 1", n)
	}
	f.clock.Advance(3*24*time.Hour + time.Minute)
	deadline := time.Now().Add(20 * time.Second)
	for len(f.srv.Messages("C0OPEN")) < 2 && time.Now().Before(deadline) {
		if err := f.n.WaitDelivered(f.ctx, 20*time.Millisecond, nil); err != nil {
			t.Fatal(err)
		}
	}
	msgs := f.srv.Messages("C0OPEN")
	if len(msgs) != 2 || !strings.Contains(string(msgs[1].Blocks), "You snoozed this reminder") {
		t.Fatalf("C0OPEN has %d messages three days later, want the reminder again", len(msgs))
	}
}

// alertStatuses returns the states of the alerts of an alert message.
func alertStatuses(t *testing.T, f *fixture, n csbot.Notification) []csbot.AlertStatus {
	t.Helper()
	m := payload[csbot.AlertMessage](t, n)
	ids := make([]int64, 0, len(m.Items))
	for _, it := range m.Items {
		ids = append(ids, it.AlertID)
	}
	st, err := f.db.AlertStatuses(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]csbot.AlertStatus, 0, len(st))
	for _, s := range st {
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatal("the alert message has no alerts")
	}
	return out
}

// blocksText is a message's blocks as JSON with < and > unescaped.
func blocksText(raw []byte) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(raw))
}
