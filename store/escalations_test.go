package store_test

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// escUsers: a manager; CSMs in New York with and without a manager, and
// one without a zone.
const escUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0MGR,manager,Mia Manager,mia@vendor.example,,Europe/Berlin
U0CSM,csm,Sam Csm,sam@vendor.example,U0MGR,America/New_York
U0LONE,csm,Lone Csm,lone@vendor.example,,America/New_York
U0NOZ,csm,Nora Nozone,nora@vendor.example,U0MGR,
`

const escAccounts = `external_id,name,tier,arr,stage,csm,channel
E-HIGH,High Co,high,500000,adopting,U0CSM,C0HIGH
E-LOW,Low Co,low,50000,adopting,U0CSM,C0LOW
E-TECH,Tech Co,tech,500,adopting,U0CSM,C0TECH
E-LONE,Lone Co,high,400000,adopting,U0LONE,C0LONE
E-NOZ,Nozone Co,high,300000,adopting,U0NOZ,C0NOZ
E-NOCSM,Nobody Co,high,200000,adopting,,C0NOCSM
E-CHURN,Churned Co,high,900000,churned,U0CSM,C0CHURN
`

// escMessage is an alert message a test writes as a notification.
type escMessage struct {
	key        string
	account    int64
	channel    string // target channel, "" for a DM
	user       string
	state      csbot.NotificationState
	sentAt     time.Time // zero unless sent
	slackChan  string
	slackTS    string
	fallbackOf int64
}

// escInsertMessage writes a notification and returns its id.
func escInsertMessage(ctx context.Context, t *testing.T, conn *pgx.Conn, m escMessage) int64 {
	t.Helper()
	var sent *time.Time
	if !m.sentAt.IsZero() {
		sent = &m.sentAt
	}
	var id int64
	err := conn.QueryRow(ctx, `INSERT INTO notifications (dedupe_key, kind, account_id, target_channel, target_user, payload,
		state, sent_at, slack_channel, slack_ts, fallback_of)
		VALUES ($1, 'alert', $2, nullif($3, ''), nullif($4, ''), '{}', $5, $6, nullif($7, ''), nullif($8, ''), nullif($9, 0::bigint))
		RETURNING id`, m.key, m.account, m.channel, m.user, m.state, sent, m.slackChan, m.slackTS, m.fallbackOf).Scan(&id)
	if err != nil {
		t.Fatalf("insert notification %s: %v", m.key, err)
	}
	return id
}

// escBook is the escalation fixture.
type escBook struct {
	s        *store.Store
	conn     *pgx.Conn
	accounts map[string]csbot.AccountBrief
	alerts   map[string]int64
}

// escalatingAlerts are the alerts the fixture expects to escalate.
var escalatingAlerts = []string{"fallback", "high", "low", "nozone", "thursday"}

// newEscBook returns a store holding alerts posted on Thursday and Friday
// 2026-11-19/20: escalatingAlerts are due to escalate by the next
// Wednesday, the others never.
func newEscBook(ctx context.Context, t *testing.T) escBook {
	t.Helper()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", escUsers)
	mustImport(ctx, t, s, "accounts", escAccounts)
	b := escBook{s: s, conn: conn, accounts: dueAccounts(ctx, t, conn), alerts: map[string]int64{}}
	ny := dueZone(t, "America/New_York")
	friday10 := time.Date(2026, 11, 20, 10, 0, 0, 0, ny) // 15:00 UTC

	alerts := []struct {
		name    string
		account string
		state   csbot.AlertState
		routed  csbot.Route
		msg     csbot.NotificationState // "" for no message
		sentAt  time.Time
	}{
		{"high", "E-HIGH", csbot.AlertOpen, csbot.RouteChannel, csbot.NotificationSent, friday10},
		// Thursday 20:00 in New York is Friday 06:30 in Kolkata: due on
		// Friday evening in New York, not on Monday.
		{"thursday", "E-HIGH", csbot.AlertOpen, csbot.RouteChannel, csbot.NotificationSent, time.Date(2026, 11, 19, 20, 0, 0, 0, ny)},
		{"low", "E-LOW", csbot.AlertOpen, csbot.RouteChannel, csbot.NotificationSent, friday10},
		{"acked", "E-HIGH", csbot.AlertAcknowledged, csbot.RouteChannel, csbot.NotificationSent, friday10},
		{"snoozed", "E-HIGH", csbot.AlertSnoozed, csbot.RouteChannel, csbot.NotificationSent, friday10},
		{"tech", "E-TECH", csbot.AlertOpen, csbot.RouteChannel, csbot.NotificationSent, friday10},
		{"lone", "E-LONE", csbot.AlertOpen, csbot.RouteChannel, csbot.NotificationSent, friday10},
		{"nocsm", "E-NOCSM", csbot.AlertOpen, csbot.RouteChannel, csbot.NotificationSent, friday10},
		{"pending", "E-HIGH", csbot.AlertOpen, csbot.RouteChannel, csbot.NotificationPending, time.Time{}},
		{"digest", "E-HIGH", csbot.AlertOpen, csbot.RouteDigest, "", time.Time{}},
		{"churned", "E-CHURN", csbot.AlertOpen, csbot.RouteChannel, csbot.NotificationSent, friday10},
		// Thursday 20:00 UTC is Friday 01:30 in Kolkata, the run's zone.
		{"nozone", "E-NOZ", csbot.AlertOpen, csbot.RouteDM, csbot.NotificationSent, time.Date(2026, 11, 19, 20, 0, 0, 0, time.UTC)},
	}
	for _, a := range alerts {
		acc := b.accounts[a.account]
		var msg int64
		if a.msg != "" {
			msg = escInsertMessage(ctx, t, conn, escMessage{key: "alert:" + a.name, account: acc.ID, channel: acc.Channel,
				state: a.msg, sentAt: a.sentAt, slackChan: acc.Channel, slackTS: "1763650800.0001"})
		}
		spec := dueAlertSpec{account: acc.ID, kind: csbot.SignalTicketSpike, severity: csbot.SignalCritical,
			key: "ticket_spike:" + a.name + ":20#1", evidence: "25 tickets in 30 days", state: a.state, routed: a.routed,
			created: friday10.Add(-time.Hour), message: msg}
		if a.state == csbot.AlertAcknowledged {
			spec.ackedBy, spec.ackedAt = "U0CSM", friday10.Add(time.Hour)
		}
		b.alerts[a.name] = dueInsertAlert(ctx, t, conn, spec)
	}
	// "fallback": its channel refused the message, and the DM made
	// instead was posted an hour later.
	acc := b.accounts["E-HIGH"]
	orig := escInsertMessage(ctx, t, conn, escMessage{key: "alert:fallback", account: acc.ID, channel: acc.Channel,
		state: csbot.NotificationFailed})
	escInsertMessage(ctx, t, conn, escMessage{key: "alert:fallback/dm", account: acc.ID, user: "U0CSM",
		state: csbot.NotificationSent, sentAt: friday10.Add(time.Hour), slackChan: "D0SAM", slackTS: "1763654400.0002", fallbackOf: orig})
	b.alerts["fallback"] = dueInsertAlert(ctx, t, conn, dueAlertSpec{account: acc.ID, kind: csbot.SignalUsageDrop,
		severity: csbot.SignalWarning, key: "usage_drop:fallback:50#3", evidence: "usage down 50%", state: csbot.AlertOpen,
		routed: csbot.RouteChannel, created: friday10, message: orig})
	return b
}

// escalated returns the names of b's alerts marked escalated, sorted, and
// checks that each was marked at its escalation's time.
func (b escBook) escalated(ctx context.Context, t *testing.T, at map[int64]time.Time) []string {
	t.Helper()
	var out []string
	for name, id := range b.alerts {
		var state string
		var when *time.Time
		if err := b.conn.QueryRow(ctx, `SELECT state, escalated_at FROM alerts WHERE id = $1`, id).Scan(&state, &when); err != nil {
			t.Fatal(err)
		}
		if (state == string(csbot.AlertEscalated)) != (when != nil) {
			t.Errorf("alert %s: state %s, escalated at %v", name, state, when)
		}
		if when == nil {
			continue
		}
		out = append(out, name)
		if want, ok := at[id]; at != nil && (!ok || !want.Equal(*when)) {
			t.Errorf("alert %s escalated at %v, want %v", name, *when, want)
		}
	}
	sort.Strings(out)
	return out
}

// TestEscalations runs passes from Friday to Wednesday and checks that
// each alert escalates once, after its tier's business days on its CSM's
// calendar, and only if open, posted, of a tier that escalates and with a
// manager to tell.
func TestEscalations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEscBook(ctx, t)
	kolkata := dueZone(t, "Asia/Kolkata")
	p := csbot.DefaultPolicy()
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	steps := []struct {
		name      string
		at        time.Time
		dry       bool
		want      []string // alerts escalated by the pass
		noManager int
	}{
		{"Friday", at(20, 16, 0), false, nil, 0},
		{"Friday 19:59 in New York", at(21, 0, 59), false, nil, 0},
		{"Friday 20:00 in New York", at(21, 1, 0), false, []string{"thursday"}, 0},
		// Under UTC "nozone" would be due since Friday 20:00.
		{"Saturday", at(21, 12, 0), false, nil, 0},
		{"Sunday 20:00, dry run", at(22, 20, 0), true, []string{"nozone"}, 0},
		{"Sunday 20:00 (Monday 01:30 in Kolkata)", at(22, 20, 0), false, []string{"nozone"}, 0},
		{"Monday 09:59 in New York", at(23, 14, 59), false, nil, 0},
		{"Monday 10:00 in New York", at(23, 15, 0), false, []string{"high"}, 2},
		{"Monday 11:00 in New York", at(23, 16, 0), false, []string{"fallback"}, 2},
		{"Wednesday 09:59 in New York", at(25, 14, 59), false, nil, 2},
		{"Wednesday 10:00 in New York", at(25, 15, 0), false, []string{"low"}, 2},
		{"Wednesday, again", at(25, 15, 0), false, nil, 2},
	}
	escalatedAt := map[int64]time.Time{}
	var all []string
	var high csbot.Notification
	for _, st := range steps {
		res, err := b.s.QueueEscalations(ctx, csbot.DueRun{Now: st.at, Policy: p, Zone: kolkata, DryRun: st.dry})
		if err != nil {
			t.Fatalf("%s: QueueEscalations: %v", st.name, err)
		}
		var got []string
		for _, n := range res.Notifications {
			var m csbot.EscalationMessage
			if err := json.Unmarshal(n.Payload, &m); err != nil {
				t.Fatal(err)
			}
			for name, id := range b.alerts {
				if id == m.Alert.AlertID {
					got = append(got, name)
				}
			}
			if n.Kind != csbot.NotifyEscalation || n.User != "U0MGR" || n.Channel != "" || n.FallbackUser != "" ||
				n.Key != "escalation:"+strconv.FormatInt(m.Alert.AlertID, 10) || (n.ID == 0) != st.dry {
				t.Errorf("%s: notification %+v; want an escalation DM to U0MGR keyed by its alert", st.name, n)
			}
			if !st.dry {
				escalatedAt[m.Alert.AlertID] = st.at
				if m.Alert.AlertID == b.alerts["high"] {
					high = n
				}
			}
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: escalated (-want +got):\n%s", st.name, diff)
		}
		wantCounts := map[string]int{"escalations": len(st.want), "ack_reminders": 0, "no_manager": st.noManager}
		if diff := cmp.Diff(wantCounts, res.Counts); diff != "" {
			t.Errorf("%s: counts (-want +got):\n%s", st.name, diff)
		}
		if !st.dry {
			all = append(all, st.want...)
		}
		sort.Strings(all)
		if diff := cmp.Diff(all, b.escalated(ctx, t, escalatedAt)); diff != "" {
			t.Errorf("%s: alerts escalated (-want +got):\n%s", st.name, diff)
		}
		if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM notifications WHERE kind = 'escalation'`); n != len(all) {
			t.Errorf("%s: %d escalations stored, want %d", st.name, n, len(all))
		}
	}

	var m csbot.EscalationMessage
	if err := json.Unmarshal(high.Payload, &m); err != nil {
		t.Fatal(err)
	}
	m.Since, m.At = m.Since.UTC(), m.At.UTC()
	want := csbot.EscalationMessage{
		Manager: "U0MGR",
		Account: b.accounts["E-HIGH"],
		Alert: csbot.AlertItem{AlertID: b.alerts["high"], Kind: csbot.SignalTicketSpike, Severity: csbot.SignalCritical,
			Evidence: "25 tickets in 30 days", SignalKey: "ticket_spike:high:20"},
		Since:        at(20, 15, 0),
		BusinessDays: 1,
		Channel:      "C0HIGH",
		TS:           "1763650800.0001",
		At:           at(23, 15, 0),
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("escalation of the high-touch alert (-want +got):\n%s", diff)
	}
	var fb csbot.EscalationMessage
	var payload []byte
	if err := b.conn.QueryRow(ctx, `SELECT payload FROM notifications WHERE dedupe_key = $1`,
		"escalation:"+strconv.FormatInt(b.alerts["fallback"], 10)).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(payload, &fb); err != nil {
		t.Fatal(err)
	}
	if fb.Channel != "D0SAM" || fb.TS != "1763654400.0002" || !fb.Since.Equal(at(20, 16, 0)) || fb.Alert.SignalKey != "usage_drop:fallback:50" {
		t.Errorf("escalation of the alert posted by fallback DM: %+v; want the DM's channel, ts and time", fb)
	}
}

// TestEscalationsConcurrentPasses runs passes at once and checks that each
// due alert is escalated once.
func TestEscalationsConcurrentPasses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEscBook(ctx, t)
	run := csbot.DueRun{Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Policy: csbot.DefaultPolicy(), Zone: time.UTC}
	const passes = 4
	results := make([]csbot.RunResult, passes)
	errs := make([]error, passes)
	var wg sync.WaitGroup
	for i := range passes {
		wg.Go(func() { results[i], errs[i] = b.s.QueueEscalations(ctx, run) })
	}
	wg.Wait()
	written := 0
	for i := range passes {
		if errs[i] != nil {
			t.Fatalf("pass %d: %v", i, errs[i])
		}
		written += results[i].Counts["escalations"]
	}
	if written != len(escalatingAlerts) {
		t.Errorf("the passes wrote %d escalations, want %d", written, len(escalatingAlerts))
	}
	if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM notifications WHERE kind = 'escalation'`); n != len(escalatingAlerts) {
		t.Errorf("%d escalations stored, want %d", n, len(escalatingAlerts))
	}
	if diff := cmp.Diff(escalatingAlerts, b.escalated(ctx, t, nil), cmp.Transformer("sort", func(s []string) []string {
		out := append([]string(nil), s...)
		sort.Strings(out)
		return out
	})); diff != "" {
		t.Errorf("alerts escalated (-want +got):\n%s", diff)
	}
}

// TestEscalationsPolicy: a tier set to 0 business days never escalates.
func TestEscalationsPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEscBook(ctx, t)
	p := csbot.DefaultPolicy()
	p.Tiers.High.Alerts.EscalateAfterBusinessDays = 0
	p.Tiers.Low.Alerts.EscalateAfterBusinessDays = 2
	res, err := b.s.QueueEscalations(ctx, csbot.DueRun{Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Policy: p, Zone: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"low"}, b.escalated(ctx, t, nil)); diff != "" || len(res.Notifications) != 1 || res.Counts["no_manager"] != 0 {
		t.Errorf("with high touch off: escalated (-want +got):\n%s; %d notifications, counts %v", diff, len(res.Notifications), res.Counts)
	}
}

// TestAckReminders checks that an acknowledged alert whose signal is still
// live reminds whoever acknowledged it once, AckedReminderDays later.
func TestAckReminders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", escUsers)
	mustImport(ctx, t, s, "accounts", escAccounts)
	accounts := dueAccounts(ctx, t, conn)
	ackedAt := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	alerts := map[string]int64{}
	for _, a := range []struct {
		name, account string
		state         csbot.AlertState
		ackedAt       time.Time
		familyLive    bool
	}{
		{"live", "E-HIGH", csbot.AlertAcknowledged, ackedAt, true},
		{"cleared", "E-HIGH", csbot.AlertAcknowledged, ackedAt, false},
		{"resolved", "E-LOW", csbot.AlertResolved, ackedAt, false},
		{"later", "E-LOW", csbot.AlertAcknowledged, ackedAt.AddDate(0, 0, 9), true},
		{"open", "E-TECH", csbot.AlertOpen, time.Time{}, true}, // tech touch: never escalates
		{"churned", "E-CHURN", csbot.AlertAcknowledged, ackedAt, true},
	} {
		acc := accounts[a.account]
		msg := escInsertMessage(ctx, t, conn, escMessage{key: "alert:" + a.name, account: acc.ID, channel: acc.Channel,
			state: csbot.NotificationSent, sentAt: ackedAt.Add(-time.Hour), slackChan: acc.Channel, slackTS: "1761998400.0001"})
		spec := dueAlertSpec{account: acc.ID, kind: csbot.SignalNoTouch, severity: csbot.SignalWarning,
			key: "no_touch:" + a.name + ":60#1", evidence: "no touch in 60 days", state: a.state, routed: csbot.RouteChannel,
			created: ackedAt.Add(-time.Hour), message: msg}
		if !a.ackedAt.IsZero() {
			spec.ackedBy, spec.ackedAt = "U0CSM", a.ackedAt
		}
		id := dueInsertAlert(ctx, t, conn, spec)
		alerts[a.name] = id
		var resolved *time.Time
		if !a.familyLive {
			r := ackedAt.AddDate(0, 0, 3)
			resolved = &r
		}
		dueExec(ctx, t, conn, `INSERT INTO signal_families (family, account_id, kind, signal_key, severity, first_seen, last_seen,
			alert_id, resolved_at) VALUES ($1, $2, 'no_touch', $3, 'warning', $4, $4, $5, $6)`,
			"no_touch:"+a.name, acc.ID, "no_touch:"+a.name+":60", ackedAt.Add(-time.Hour), id, resolved)
	}

	p := csbot.DefaultPolicy() // 14 days
	never := csbot.DefaultPolicy()
	never.Notifications.AckedReminderDays = 0
	steps := []struct {
		name string
		at   time.Time
		p    csbot.Policy
		dry  bool
		want []string
	}{
		{"13 days 23:59 after", ackedAt.AddDate(0, 0, 14).Add(-time.Minute), p, false, nil},
		{"14 days after, dry run", ackedAt.AddDate(0, 0, 14), p, true, []string{"live"}},
		{"14 days after", ackedAt.AddDate(0, 0, 14), p, false, []string{"live"}},
		{"an hour later", ackedAt.AddDate(0, 0, 14).Add(time.Hour), p, false, nil},
		{"a month later, reminders off", ackedAt.AddDate(0, 0, 30), never, false, nil},
		{"a month later", ackedAt.AddDate(0, 0, 30), p, false, []string{"later"}},
		{"a month later, again", ackedAt.AddDate(0, 0, 30), p, false, nil},
	}
	var all []string
	var live csbot.AckReminderMessage
	for _, st := range steps {
		res, err := s.QueueEscalations(ctx, csbot.DueRun{Now: st.at, Policy: st.p, Zone: time.UTC, DryRun: st.dry})
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var got []string
		for _, n := range res.Notifications {
			var m csbot.AckReminderMessage
			if err := json.Unmarshal(n.Payload, &m); err != nil {
				t.Fatal(err)
			}
			for name, id := range alerts {
				if id == m.Alert.AlertID {
					got = append(got, name)
				}
			}
			if n.Kind != csbot.NotifyAckReminder || n.User != "U0CSM" || n.Channel != "" ||
				n.Key != "ack_reminder:"+strconv.FormatInt(m.Alert.AlertID, 10) || (n.ID == 0) != st.dry {
				t.Errorf("%s: notification %+v; want an acknowledged-alert reminder DM to U0CSM keyed by its alert", st.name, n)
			}
			if m.Alert.AlertID == alerts["live"] && !st.dry {
				live = m
			}
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: reminded (-want +got):\n%s", st.name, diff)
		}
		if res.Counts["ack_reminders"] != len(st.want) || res.Counts["escalations"] != 0 {
			t.Errorf("%s: counts %v, want %d ack_reminders and no escalation", st.name, res.Counts, len(st.want))
		}
		if !st.dry {
			all = append(all, st.want...)
		}
		if n := dueInt(ctx, t, conn, `SELECT count(*) FROM notifications WHERE kind = 'ack_reminder'`); n != len(all) {
			t.Errorf("%s: %d reminders stored, want %d", st.name, n, len(all))
		}
		if n := dueInt(ctx, t, conn, `SELECT count(*) FROM alerts WHERE ack_reminded_at IS NOT NULL`); n != len(all) {
			t.Errorf("%s: %d alerts marked reminded, want %d", st.name, n, len(all))
		}
	}
	live.AckedAt, live.At = live.AckedAt.UTC(), live.At.UTC()
	want := csbot.AckReminderMessage{
		User:    "U0CSM",
		Account: accounts["E-HIGH"],
		Alert: csbot.AlertItem{AlertID: alerts["live"], Kind: csbot.SignalNoTouch, Severity: csbot.SignalWarning,
			Evidence: "no touch in 60 days", SignalKey: "no_touch:live:60"},
		AckedAt: ackedAt,
		Channel: "C0HIGH",
		TS:      "1761998400.0001",
		At:      ackedAt.AddDate(0, 0, 14),
	}
	if diff := cmp.Diff(want, live); diff != "" {
		t.Errorf("reminder of the live alert (-want +got):\n%s", diff)
	}
	var reminded time.Time
	if err := conn.QueryRow(ctx, `SELECT ack_reminded_at FROM alerts WHERE id = $1`, alerts["live"]).Scan(&reminded); err != nil {
		t.Fatal(err)
	}
	if !reminded.Equal(ackedAt.AddDate(0, 0, 14)) {
		t.Errorf("live alert reminded at %v, want %v", reminded, ackedAt.AddDate(0, 0, 14))
	}
}
