package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

const sigUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0CSM1,csm,Sam CSM,sam@vendor.example,,
U0CSM2,csm,Ada CSM,ada@vendor.example,,
U0CSM3,csm,Dee CSM,dee@vendor.example,,
`

// sigAccounts: S-1, S-2 are Sam's with channels; S-3 is Ada's without a
// channel; S-4 has neither CSM nor channel; S-5 is Dee's.
const sigAccounts = `external_id,name,tier,arr,stage,csm,channel
S-1,Acme,high,5000,adopting,U0CSM1,C0ACME
S-2,Beta,low,1000,adopting,U0CSM1,C0BETA
S-3,Gamma,low,2000,adopting,U0CSM2,
S-4,Delta,tech,10,adopting,,
S-5,Epsilon,low,3000,adopting,U0CSM3,C0EPS
`

// sigRenewals: S-1's next renewal is R-1 (R-0 is past due, R-2 later).
const sigRenewals = `external_id,account_external_id,renewal_date,arr,start_date,auto_renew,status,outcome_reason
R-0,S-1,2026-11-01,4000,,false,open,
R-1,S-1,2027-01-15,5000,2026-01-15,true,open,
R-2,S-1,2027-06-01,6000,,false,open,
R-9,S-3,2027-01-01,2000,,false,renewed,
`

// sigContacts: Amy is S-1's renewal contact (Aaron is inactive).
const sigContacts = `account_external_id,name,role,email,title,active
S-1,Zed Renewals,renewal,zed@s1.example,Procurement,true
S-1,Amy Renewals,renewal,amy@s1.example,CFO,true
S-1,Aaron Gone,renewal,aaron@s1.example,Buyer,false
S-1,Bea Champion,champion,bea@s1.example,,true
`

// sigNow is when the tests' runs begin.
var sigNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// sigBook is a store holding the book above, a connection to look at its
// rows, and the ids of its accounts by external id.
type sigBook struct {
	s    *store.Store
	conn *pgx.Conn
	ids  map[string]int64
}

func newSigBook(ctx context.Context, t *testing.T) *sigBook {
	t.Helper()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", sigUsers)
	mustImport(ctx, t, s, "accounts", sigAccounts)
	mustImport(ctx, t, s, "renewals", sigRenewals)
	mustImport(ctx, t, s, "contacts", sigContacts)
	b := &sigBook{s: s, conn: conn, ids: map[string]int64{}}
	for _, ext := range []string{"S-1", "S-2", "S-3", "S-4", "S-5"} {
		a, err := s.AccountByExternalID(ctx, ext)
		if err != nil {
			t.Fatal(err)
		}
		b.ids[ext] = a.ID
	}
	return b
}

// signal is a signal of an account with a key in Signal's format.
func (b *sigBook) signal(ext string, kind csbot.SignalKind, sev csbot.SignalSeverity, step, evidence string) csbot.Signal {
	id := b.ids[ext]
	return csbot.Signal{Kind: kind, AccountID: id, Severity: sev, Evidence: evidence,
		DedupeKey: fmt.Sprintf("%s:%d:%s", kind, id, step)}
}

// run is a complete run at now over every account of the book, each
// scored 55 yellow.
func (b *sigBook) run(now time.Time, signals ...csbot.Signal) csbot.SignalRun {
	var scores []csbot.HealthScore
	for _, id := range b.ids {
		scores = append(scores, csbot.HealthScore{AccountID: id, At: now, Score: 55, Band: csbot.BandYellow, Coverage: 80,
			Trend: csbot.Trend{Delta7: -4, Has7: true}})
	}
	return csbot.SignalRun{Now: now, Policy: csbot.DefaultPolicy(), Scores: scores, Signals: signals, Complete: true}
}

// record runs RecordSignals and fails the test on error.
func (b *sigBook) record(ctx context.Context, t *testing.T, run csbot.SignalRun) csbot.RunResult {
	t.Helper()
	res, err := b.s.RecordSignals(ctx, run)
	if err != nil {
		t.Fatalf("RecordSignals at %v: %v", run.Now, err)
	}
	return res
}

// watchAll makes every account of the book watched, without signals.
func (b *sigBook) watchAll(ctx context.Context, t *testing.T, now time.Time) {
	t.Helper()
	res := b.record(ctx, t, b.run(now))
	if res.Counts["watched"] != len(b.ids) || len(res.Notifications) != 0 {
		t.Fatalf("watching run: counts %v, %d notifications; want %d watched and none", res.Counts, len(res.Notifications), len(b.ids))
	}
}

// sigAlert is an alerts row.
type sigAlert struct {
	ID, AccountID                  int64
	Kind, Severity, DedupeKey      string
	State, Routed, Family, Channel string
	Episode                        int
	Supersedes, Notification       int64
	CreatedAt                      time.Time
	ResolvedAt, SnoozedUntil       *time.Time
}

func (b *sigBook) alerts(ctx context.Context, t *testing.T) []sigAlert {
	t.Helper()
	rows, err := b.conn.Query(ctx, `
SELECT id, account_id, kind, severity, dedupe_key, state, routed, coalesce(family, ''), coalesce(channel_id, ''),
       coalesce(episode, 0), coalesce(supersedes_id, 0), coalesce(notification_id, 0), created_at, resolved_at,
       snoozed_until
  FROM alerts ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var a sigAlert
	var out []sigAlert
	_, err = pgx.ForEachRow(rows, []any{&a.ID, &a.AccountID, &a.Kind, &a.Severity, &a.DedupeKey, &a.State, &a.Routed,
		&a.Family, &a.Channel, &a.Episode, &a.Supersedes, &a.Notification, &a.CreatedAt, &a.ResolvedAt, &a.SnoozedUntil}, func() error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sigNotification is a notifications row.
type sigNotification struct {
	ID                          int64
	Key, Kind                   string
	AccountID                   int64
	Channel, User, FallbackUser string
	Payload                     []byte
	State                       string
	Attempts                    int
	NextAttemptAt, CreatedAt    time.Time
}

func (b *sigBook) notifications(ctx context.Context, t *testing.T) []sigNotification {
	t.Helper()
	rows, err := b.conn.Query(ctx, `
SELECT id, dedupe_key, kind, coalesce(account_id, 0), coalesce(target_channel, ''), coalesce(target_user, ''),
       coalesce(fallback_user, ''), payload, state, attempts, next_attempt_at, created_at
  FROM notifications ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var n sigNotification
	var out []sigNotification
	_, err = pgx.ForEachRow(rows, []any{&n.ID, &n.Key, &n.Kind, &n.AccountID, &n.Channel, &n.User, &n.FallbackUser,
		&n.Payload, &n.State, &n.Attempts, &n.NextAttemptAt, &n.CreatedAt}, func() error {
		c := n
		c.Payload = append([]byte(nil), n.Payload...)
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sigFamily is a signal_families row.
type sigFamily struct {
	Episode             int
	SignalKey, Severity string
	Evidence            string
	FirstSeen, LastSeen time.Time
	Baselined           bool
	ResolvedAt          *time.Time
	AlertID             int64
}

func (b *sigBook) family(ctx context.Context, t *testing.T, family string) sigFamily {
	t.Helper()
	var f sigFamily
	err := b.conn.QueryRow(ctx, `
SELECT episode, signal_key, severity, evidence, first_seen, last_seen, baselined, resolved_at, coalesce(alert_id, 0)
  FROM signal_families WHERE family = $1`, family).Scan(&f.Episode, &f.SignalKey, &f.Severity, &f.Evidence,
		&f.FirstSeen, &f.LastSeen, &f.Baselined, &f.ResolvedAt, &f.AlertID)
	if err != nil {
		t.Fatalf("family %s: %v", family, err)
	}
	return f
}

// rowCounts counts the rows of every table RecordSignals writes.
func (b *sigBook) rowCounts(ctx context.Context, t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"alerts", "notifications", "signal_families", "watched_accounts", "river_job"} {
		var n int
		if err := b.conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// exec runs a statement behind the store's back.
func (b *sigBook) exec(ctx context.Context, t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := b.conn.Exec(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// sigDecode decodes a notification payload.
func sigDecode[T any](t *testing.T, payload []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(payload, &v); err != nil {
		t.Fatalf("payload %s: %v", payload, err)
	}
	return v
}

// sigKeys returns the keys of notifications.
func sigKeys(ns []csbot.Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Key)
	}
	return out
}

func TestRecordSignalsBaselinesFirstRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSigBook(ctx, t)
	signals := []csbot.Signal{
		b.signal("S-2", csbot.SignalNoTouch, csbot.SignalWarning, "30d", "no touchpoint for 41 days"),
		b.signal("S-1", csbot.SignalUsageDrop, csbot.SignalCritical, "-50%", "active users down 55%"),
		b.signal("S-3", csbot.SignalTicketSpike, csbot.SignalWarning, ">10", "12 tickets opened in 30 days"),
		b.signal("S-4", csbot.SignalUsageSilent, csbot.SignalCritical, "60d", "no activity for 61 days"),
		b.signal("S-1", csbot.SignalNoTouch, csbot.SignalWarning, "30d", "no touchpoint for 35 days"),
	}
	// A run over nothing, or over an account deleted since it was scored,
	// records nothing.
	gone := csbot.Signal{Kind: csbot.SignalUsageDrop, AccountID: 1 << 40, Severity: csbot.SignalCritical,
		DedupeKey: fmt.Sprintf("usage_drop:%d:-50%%", int64(1)<<40)}
	for _, run := range []csbot.SignalRun{
		{Now: sigNow, Policy: csbot.DefaultPolicy(), Complete: true},
		{Now: sigNow, Policy: csbot.DefaultPolicy(), Signals: []csbot.Signal{gone}, Complete: true},
	} {
		if res := b.record(ctx, t, run); len(res.Notifications) != 0 || res.Counts["baselined"] != 0 || res.Counts["watched"] != 0 {
			t.Errorf("run over %d signals of no account: counts %v, %d notifications; want nothing", len(run.Signals), res.Counts, len(res.Notifications))
		}
	}

	res := b.record(ctx, t, b.run(sigNow, signals...))

	if got := b.alerts(ctx, t); len(got) != 0 {
		t.Errorf("first run raised %d alerts, want none: %+v", len(got), got)
	}
	wantCounts := map[string]int{"baselined": 5, "watched": 5}
	for k, v := range res.Counts {
		if v != wantCounts[k] {
			t.Errorf("Counts[%q] = %d, want %d", k, v, wantCounts[k])
		}
	}
	wantKeys := []string{
		fmt.Sprintf("baseline:U0CSM1:%d", min(b.ids["S-1"], b.ids["S-2"])),
		fmt.Sprintf("baseline:U0CSM2:%d", b.ids["S-3"]),
	}
	if diff := cmp.Diff(wantKeys, sigKeys(res.Notifications)); diff != "" {
		t.Fatalf("notifications (-want +got):\n%s", diff)
	}
	rows := b.notifications(ctx, t)
	if len(rows) != 2 {
		t.Fatalf("%d notifications stored, want 2", len(rows))
	}
	sam := rows[0]
	if sam.Kind != string(csbot.NotifyBaseline) || sam.User != "U0CSM1" || sam.Channel != "" || sam.AccountID != 0 ||
		sam.ID != res.Notifications[0].ID || !sam.NextAttemptAt.Equal(sigNow) {
		t.Errorf("Sam's summary = %+v, want a baseline DM to U0CSM1 due now", sam)
	}
	msg := sigDecode[csbot.BaselineMessage](t, sam.Payload)
	health := csbot.HealthBrief{Score: 55, Band: csbot.BandYellow, Trend: csbot.Trend{Delta7: -4, Has7: true}, Coverage: 80}
	want := csbot.BaselineMessage{CSM: "U0CSM1", Watched: 2, At: sigNow, Accounts: []csbot.BaselineAccount{
		{ // most ARR first
			Account: csbot.AccountBrief{ID: b.ids["S-1"], ExternalID: "S-1", Name: "Acme", Tier: csbot.TierHigh, ARR: 500000,
				CSM: "U0CSM1", Channel: "C0ACME"},
			Health: health,
			Signals: []csbot.AlertItem{
				{Kind: csbot.SignalUsageDrop, Severity: csbot.SignalCritical, Evidence: "active users down 55%", SignalKey: signals[1].DedupeKey},
				{Kind: csbot.SignalNoTouch, Severity: csbot.SignalWarning, Evidence: "no touchpoint for 35 days", SignalKey: signals[4].DedupeKey},
			},
		},
		{
			Account: csbot.AccountBrief{ID: b.ids["S-2"], ExternalID: "S-2", Name: "Beta", Tier: csbot.TierLow, ARR: 100000,
				CSM: "U0CSM1", Channel: "C0BETA"},
			Health:  health,
			Signals: []csbot.AlertItem{{Kind: csbot.SignalNoTouch, Severity: csbot.SignalWarning, Evidence: "no touchpoint for 41 days", SignalKey: signals[0].DedupeKey}},
		},
	}}
	if diff := cmp.Diff(want, msg); diff != "" {
		t.Errorf("Sam's summary (-want +got):\n%s", diff)
	}
	if ada := sigDecode[csbot.BaselineMessage](t, rows[1].Payload); rows[1].User != "U0CSM2" || ada.Watched != 1 ||
		len(ada.Accounts) != 1 || ada.Accounts[0].Account.ExternalID != "S-3" {
		t.Errorf("Ada's summary to %q = %+v, want S-3 of 1 watched", rows[1].User, ada)
	}
	f := b.family(ctx, t, fmt.Sprintf("usage_drop:%d", b.ids["S-1"]))
	if !f.Baselined || f.AlertID != 0 || f.Episode != 1 || f.Severity != "critical" || !f.FirstSeen.Equal(sigNow) {
		t.Errorf("S-1 usage_drop family = %+v, want baselined critical, episode 1, no alert, first seen now", f)
	}

	// The same run again writes nothing.
	before := b.rowCounts(ctx, t)
	res = b.record(ctx, t, b.run(sigNow, signals...))
	if len(res.Notifications) != 0 || res.Counts["seen"] != 5 || res.Counts["watched"] != 0 || res.Counts["baselined"] != 0 {
		t.Errorf("second run: %d notifications, counts %v; want none, 5 seen", len(res.Notifications), res.Counts)
	}
	if after := b.rowCounts(ctx, t); !cmp.Equal(before, after) {
		t.Errorf("second run changed row counts from %v to %v", before, after)
	}
	// A day later the baselined signals are still no alert.
	res = b.record(ctx, t, b.run(sigNow.Add(24*time.Hour), signals...))
	if len(res.Notifications) != 0 || res.Counts["new"] != 0 {
		t.Errorf("next day: %d notifications, counts %v; want no alert", len(res.Notifications), res.Counts)
	}
	if f := b.family(ctx, t, fmt.Sprintf("usage_drop:%d", b.ids["S-1"])); !f.LastSeen.Equal(sigNow.Add(24 * time.Hour)) {
		t.Errorf("family last seen %v, want the day after", f.LastSeen)
	}
}

func TestRecordSignalsNewAlert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSigBook(ctx, t)
	b.watchAll(ctx, t, sigNow.Add(-time.Hour))

	drop := b.signal("S-1", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "active users down 34%")
	res := b.record(ctx, t, b.run(sigNow, drop))
	if res.Counts["new"] != 1 || len(res.Notifications) != 1 {
		t.Fatalf("counts %v, %d notifications; want 1 new alert and its message", res.Counts, len(res.Notifications))
	}
	alerts := b.alerts(ctx, t)
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	a := alerts[0]
	n := res.Notifications[0]
	wantAlert := sigAlert{ID: a.ID, AccountID: b.ids["S-1"], Kind: "usage_drop", Severity: "warning",
		DedupeKey: drop.DedupeKey + "#1", State: "open", Routed: "channel", Family: drop.Family(), Channel: "C0ACME",
		Episode: 1, Notification: n.ID, CreatedAt: a.CreatedAt}
	if diff := cmp.Diff(wantAlert, a); diff != "" || !a.CreatedAt.Equal(sigNow) {
		t.Errorf("alert (-want +got):\n%s\ncreated at %v, want %v", diff, a.CreatedAt, sigNow)
	}
	if n.Key != fmt.Sprintf("alert:%d:%d", b.ids["S-1"], a.ID) || n.Kind != csbot.NotifyAlert || n.Channel != "C0ACME" ||
		n.User != "" || n.FallbackUser != "U0CSM1" || n.AccountID != b.ids["S-1"] || !n.NotBefore.Equal(sigNow) {
		t.Errorf("notification = %+v, want an alert message to C0ACME, falling back to U0CSM1, due now", n)
	}
	stored := b.notifications(ctx, t)
	if len(stored) != 1 || stored[0].ID != n.ID {
		t.Fatalf("stored notifications %+v, want the one returned", stored)
	}
	msg := sigDecode[csbot.AlertMessage](t, stored[0].Payload)
	want := csbot.AlertMessage{
		Account: csbot.AccountBrief{ID: b.ids["S-1"], ExternalID: "S-1", Name: "Acme", Tier: csbot.TierHigh, ARR: 500000,
			CSM: "U0CSM1", Channel: "C0ACME"},
		Health: csbot.HealthBrief{Score: 55, Band: csbot.BandYellow, Trend: csbot.Trend{Delta7: -4, Has7: true}, Coverage: 80},
		Renewal: &csbot.RenewalBrief{ID: msg.Renewal.ID, Date: date(2027, 1, 15), ARR: 500000, AutoRenew: true, DaysLeft: 53,
			Contact: "Amy Renewals", ContactRef: "CFO"},
		Items: []csbot.AlertItem{{AlertID: a.ID, Kind: csbot.SignalUsageDrop, Severity: csbot.SignalWarning,
			Evidence: "active users down 34%", SignalKey: drop.DedupeKey}},
		At: sigNow,
	}
	if msg.Renewal == nil {
		t.Fatalf("message without renewal: %+v", msg)
	}
	if diff := cmp.Diff(want, msg); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	var jobs int
	if err := b.conn.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE (args->>'notification')::bigint = $1`, n.ID).Scan(&jobs); err != nil || jobs != 1 {
		t.Errorf("delivery jobs of the message = %d (%v), want 1", jobs, err)
	}
	f := b.family(ctx, t, drop.Family())
	if f.AlertID != a.ID || f.Baselined || f.Episode != 1 || f.SignalKey != drop.DedupeKey || !f.LastSeen.Equal(sigNow) {
		t.Errorf("family = %+v, want alert %d, episode 1, key %s", f, a.ID, drop.DedupeKey)
	}

	// The same run again, and the next run, write nothing.
	before := b.rowCounts(ctx, t)
	for _, now := range []time.Time{sigNow, sigNow.Add(time.Hour)} {
		res = b.record(ctx, t, b.run(now, drop))
		if len(res.Notifications) != 0 || res.Counts["new"] != 0 || res.Counts["seen"] != 1 {
			t.Errorf("run at %v: %d notifications, counts %v; want 1 seen and nothing new", now, len(res.Notifications), res.Counts)
		}
	}
	if after := b.rowCounts(ctx, t); !cmp.Equal(before, after) {
		t.Errorf("repeated runs changed row counts from %v to %v", before, after)
	}
}

func TestRecordSignalsWorse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSigBook(ctx, t)
	b.watchAll(ctx, t, sigNow.Add(-time.Hour))
	first := b.record(ctx, t, b.run(sigNow, b.signal("S-1", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "down 34%")))
	if len(first.Notifications) != 1 {
		t.Fatalf("first run: %d notifications, want 1", len(first.Notifications))
	}
	b.exec(ctx, t, `UPDATE notifications SET state = 'sent', attempts = 1, slack_ts = '1.1' WHERE id = $1`, first.Notifications[0].ID)

	later := sigNow.Add(3 * time.Hour)
	worse := b.signal("S-1", csbot.SignalUsageDrop, csbot.SignalCritical, "-50%", "down 57%")
	res := b.record(ctx, t, b.run(later, worse))
	if res.Counts["worse"] != 1 || res.Counts["new"] != 0 || len(res.Notifications) != 2 ||
		res.Notifications[0].Kind != csbot.NotifyAlert || res.Notifications[1].Kind != csbot.NotifyAlertUpdate {
		t.Fatalf("counts %v, %d notifications; want 1 worse alert, its message, and an update of the old one", res.Counts, len(res.Notifications))
	}
	alerts := b.alerts(ctx, t)
	if len(alerts) != 2 {
		t.Fatalf("%d alerts, want 2", len(alerts))
	}
	old, cur := alerts[0], alerts[1]
	if cur.Supersedes != old.ID || cur.DedupeKey != worse.DedupeKey+"#1" || cur.Episode != 1 || cur.Severity != "critical" ||
		cur.Notification != res.Notifications[0].ID || old.State != "superseded" {
		t.Errorf("worse alert = %+v (old %+v), want superseding %d in episode 1 with its message, the old one superseded", cur, old, old.ID)
	}
	if up := sigDecode[csbot.AlertUpdate](t, res.Notifications[1].Payload); up.AlertID != old.ID || up.Change != "superseded" ||
		up.Notification != first.Notifications[0].ID {
		t.Errorf("update = %+v, want the old alert's message marked superseded", up)
	}
	n := res.Notifications[0]
	if !n.NotBefore.Equal(later) || n.Key != fmt.Sprintf("alert:%d:%d", b.ids["S-1"], cur.ID) {
		t.Errorf("message %s due %v, want alert:%d:%d due %v (the last message was long enough ago)", n.Key, n.NotBefore, b.ids["S-1"], cur.ID, later)
	}
	msg := sigDecode[csbot.AlertMessage](t, n.Payload)
	wantItems := []csbot.AlertItem{{AlertID: cur.ID, Kind: csbot.SignalUsageDrop, Severity: csbot.SignalCritical,
		Evidence: "down 57%", SignalKey: worse.DedupeKey, Was: "down 34%", WasSeverity: csbot.SignalWarning, WasAt: sigNow}}
	if diff := cmp.Diff(wantItems, msg.Items); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	f := b.family(ctx, t, worse.Family())
	if f.AlertID != cur.ID || f.SignalKey != worse.DedupeKey || f.Severity != "critical" || !f.FirstSeen.Equal(sigNow) ||
		!f.LastSeen.Equal(later) || f.Episode != 1 {
		t.Errorf("family = %+v, want the worse step, first seen at the first alert", f)
	}
	// Back to the milder step: nothing new.
	res = b.record(ctx, t, b.run(later.Add(time.Hour), b.signal("S-1", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "down 35%")))
	if len(res.Notifications) != 0 || res.Counts["seen"] != 1 {
		t.Errorf("milder step: counts %v, %d notifications; want it seen", res.Counts, len(res.Notifications))
	}
}

func TestRecordSignalsOneMessagePerAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSigBook(ctx, t)
	b.watchAll(ctx, t, sigNow.Add(-time.Hour))
	res := b.record(ctx, t, b.run(sigNow,
		b.signal("S-1", csbot.SignalTicketSpike, csbot.SignalWarning, ">10", "14 tickets"),
		b.signal("S-2", csbot.SignalNoTouch, csbot.SignalWarning, "30d", "31 days"),
		b.signal("S-1", csbot.SignalNoTouch, csbot.SignalWarning, "30d", "33 days"),
	))
	if res.Counts["new"] != 3 || len(res.Notifications) != 2 {
		t.Fatalf("counts %v, %d notifications; want 3 alerts in 2 messages", res.Counts, len(res.Notifications))
	}
	alerts := b.alerts(ctx, t)
	if len(alerts) != 3 {
		t.Fatalf("%d alerts, want 3", len(alerts))
	}
	acme := res.Notifications[0]
	msg := sigDecode[csbot.AlertMessage](t, acme.Payload)
	var got []string
	for _, it := range msg.Items {
		got = append(got, fmt.Sprintf("%d %s", it.AlertID, it.Evidence))
	}
	want := []string{fmt.Sprintf("%d 14 tickets", alerts[0].ID), fmt.Sprintf("%d 33 days", alerts[2].ID)}
	if diff := cmp.Diff(want, got); diff != "" || acme.Channel != "C0ACME" || acme.Key != fmt.Sprintf("alert:%d:%d", b.ids["S-1"], alerts[0].ID) {
		t.Errorf("Acme's message %s to %s, items (-want +got):\n%s", acme.Key, acme.Channel, diff)
	}
	if alerts[0].Notification != acme.ID || alerts[2].Notification != acme.ID || alerts[1].Notification != res.Notifications[1].ID {
		t.Errorf("alerts point at messages %d, %d, %d; want %d, %d, %d", alerts[0].Notification, alerts[1].Notification,
			alerts[2].Notification, acme.ID, res.Notifications[1].ID, acme.ID)
	}
}

func TestRecordSignalsAlertInterval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	spike := func(b *sigBook) csbot.Signal {
		return b.signal("S-1", csbot.SignalTicketSpike, csbot.SignalWarning, ">10", "14 tickets")
	}
	touch := func(b *sigBook) csbot.Signal {
		return b.signal("S-1", csbot.SignalNoTouch, csbot.SignalWarning, "30d", "33 days")
	}

	t.Run("appended to the pending message", func(t *testing.T) {
		t.Parallel()
		b := newSigBook(ctx, t)
		b.watchAll(ctx, t, sigNow.Add(-time.Hour))
		first := b.record(ctx, t, b.run(sigNow, spike(b)))
		if len(first.Notifications) != 1 {
			t.Fatalf("first run: %d notifications, want 1", len(first.Notifications))
		}
		res := b.record(ctx, t, b.run(sigNow.Add(20*time.Minute), spike(b), touch(b)))
		if len(res.Notifications) != 0 || res.Counts["new"] != 1 || res.Counts["appended"] != 1 {
			t.Fatalf("second run: counts %v, %d notifications; want 1 alert appended, no new message", res.Counts, len(res.Notifications))
		}
		stored := b.notifications(ctx, t)
		alerts := b.alerts(ctx, t)
		if len(stored) != 1 || len(alerts) != 2 {
			t.Fatalf("%d notifications, %d alerts; want 1 and 2", len(stored), len(alerts))
		}
		msg := sigDecode[csbot.AlertMessage](t, stored[0].Payload)
		if len(msg.Items) != 2 || msg.Items[0].AlertID != alerts[0].ID || msg.Items[1].AlertID != alerts[1].ID ||
			msg.Items[1].Kind != csbot.SignalNoTouch || msg.Account.ExternalID != "S-1" {
			t.Errorf("message items %+v, want alerts %d and %d", msg.Items, alerts[0].ID, alerts[1].ID)
		}
		if alerts[1].Notification != stored[0].ID || alerts[1].Channel != "C0ACME" {
			t.Errorf("appended alert points at %d in %q, want %d in C0ACME", alerts[1].Notification, alerts[1].Channel, stored[0].ID)
		}
	})

	t.Run("after a sent message", func(t *testing.T) {
		t.Parallel()
		b := newSigBook(ctx, t)
		b.watchAll(ctx, t, sigNow.Add(-time.Hour))
		first := b.record(ctx, t, b.run(sigNow, spike(b)))
		if len(first.Notifications) != 1 {
			t.Fatalf("first run: %d notifications, want 1", len(first.Notifications))
		}
		b.exec(ctx, t, `UPDATE notifications SET state = 'sent', attempts = 1, slack_ts = '1.1' WHERE id = $1`, first.Notifications[0].ID)
		res := b.record(ctx, t, b.run(sigNow.Add(20*time.Minute), spike(b), touch(b)))
		if len(res.Notifications) != 1 || res.Counts["appended"] != 0 {
			t.Fatalf("second run: counts %v, %d notifications; want a message of its own", res.Counts, len(res.Notifications))
		}
		stored := b.notifications(ctx, t)
		if len(stored) != 2 {
			t.Fatalf("%d notifications, want 2", len(stored))
		}
		if want := stored[0].CreatedAt.Add(time.Hour); !stored[1].NextAttemptAt.Equal(want) || !res.Notifications[0].NotBefore.Equal(want) {
			t.Errorf("second message due %v (returned %v), want %v: an hour after the first", stored[1].NextAttemptAt,
				res.Notifications[0].NotBefore, want)
		}
		// The queue runs on the wall clock: the job is due the same 40
		// minutes from now.
		var scheduled time.Time
		if err := b.conn.QueryRow(ctx, `SELECT scheduled_at FROM river_job WHERE (args->>'notification')::bigint = $1`,
			stored[1].ID).Scan(&scheduled); err != nil || time.Until(scheduled) < 39*time.Minute || time.Until(scheduled) > 40*time.Minute {
			t.Errorf("delivery job scheduled at %v (%v), want 40 minutes from now", scheduled, err)
		}
		// Two hours on, a third message is due at once.
		b.exec(ctx, t, `UPDATE notifications SET state = 'sent', attempts = 1 WHERE id = $1`, stored[1].ID)
		res = b.record(ctx, t, b.run(sigNow.Add(3*time.Hour), spike(b), touch(b),
			b.signal("S-1", csbot.SignalChampionLeft, csbot.SignalWarning, "warning", "champion left")))
		if len(res.Notifications) != 1 || !res.Notifications[0].NotBefore.Equal(sigNow.Add(3*time.Hour)) {
			t.Errorf("third run: %d notifications, first due %v; want one due now", len(res.Notifications), res.Notifications)
		}
	})
}

func TestRecordSignalsResolveReopenRearm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSigBook(ctx, t)
	b.watchAll(ctx, t, sigNow.Add(-time.Hour))
	drop := b.signal("S-1", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "down 34%")
	res := b.record(ctx, t, b.run(sigNow, drop))
	if len(res.Notifications) != 1 {
		t.Fatalf("first run: %d notifications, want 1", len(res.Notifications))
	}
	message := res.Notifications[0].ID
	alertID := b.alerts(ctx, t)[0].ID
	b.exec(ctx, t, `UPDATE notifications SET state = 'sent', attempts = 1, slack_ts = '1.1' WHERE id = $1`, message)

	checkUpdate := func(what string, res csbot.RunResult, at time.Time, change string) {
		t.Helper()
		if len(res.Notifications) != 1 {
			t.Fatalf("%s: %d notifications, want one update", what, len(res.Notifications))
		}
		n := res.Notifications[0]
		wantKey := fmt.Sprintf("alert_update:%d:%s:%d", alertID, change, at.Unix())
		if n.Key != wantKey || n.Kind != csbot.NotifyAlertUpdate || n.Channel != "C0ACME" || n.User != "" ||
			n.FallbackUser != "U0CSM1" || n.AccountID != b.ids["S-1"] {
			t.Errorf("%s: update = %+v, want %s to C0ACME", what, n, wantKey)
		}
		up := sigDecode[csbot.AlertUpdate](t, n.Payload)
		want := csbot.AlertUpdate{Notification: message, AlertID: alertID, Change: change, At: at}
		if diff := cmp.Diff(want, up); diff != "" {
			t.Errorf("%s: update payload (-want +got):\n%s", what, diff)
		}
	}

	// A complete run without the signal resolves the alert.
	day1 := sigNow.Add(24 * time.Hour)
	res = b.record(ctx, t, b.run(day1))
	if res.Counts["resolved"] != 1 {
		t.Errorf("day 1: counts %v, want 1 resolved", res.Counts)
	}
	checkUpdate("resolved", res, day1, "resolved")
	a := b.alerts(ctx, t)[0]
	if a.State != "resolved" || a.ResolvedAt == nil || !a.ResolvedAt.Equal(day1) {
		t.Errorf("alert %+v, want resolved at %v", a, day1)
	}
	if f := b.family(ctx, t, drop.Family()); f.ResolvedAt == nil || !f.ResolvedAt.Equal(day1) || f.AlertID != alertID {
		t.Errorf("family %+v, want resolved at %v", f, day1)
	}
	// An incomplete run without it changes nothing.
	partial := b.run(day1.Add(time.Hour))
	partial.Complete = false
	if res := b.record(ctx, t, partial); len(res.Notifications) != 0 || res.Counts["resolved"] != 0 {
		t.Errorf("incomplete run: counts %v, %d notifications; want nothing", res.Counts, len(res.Notifications))
	}

	// Back within the re-arm period: the same alert reopens.
	day3 := sigNow.Add(3 * 24 * time.Hour)
	res = b.record(ctx, t, b.run(day3, drop))
	if res.Counts["reopened"] != 1 || res.Counts["new"] != 0 {
		t.Errorf("day 3: counts %v, want 1 reopened, none new", res.Counts)
	}
	checkUpdate("reopened", res, day3, "reopened")
	alerts := b.alerts(ctx, t)
	if len(alerts) != 1 || alerts[0].State != "open" || alerts[0].ResolvedAt != nil {
		t.Errorf("alerts %+v, want the one alert open again", alerts)
	}
	if f := b.family(ctx, t, drop.Family()); f.ResolvedAt != nil || !f.LastSeen.Equal(day3) {
		t.Errorf("family %+v, want unresolved, last seen %v", f, day3)
	}

	// Gone again, then back after the re-arm period: a new episode.
	day4 := sigNow.Add(4 * 24 * time.Hour)
	res = b.record(ctx, t, b.run(day4))
	checkUpdate("resolved again", res, day4, "resolved")
	day20 := day3.Add(time.Duration(csbot.DefaultPolicy().SignalRearmDays)*24*time.Hour + time.Hour)
	res = b.record(ctx, t, b.run(day20, drop))
	if res.Counts["new"] != 1 || res.Counts["reopened"] != 0 || len(res.Notifications) != 1 ||
		res.Notifications[0].Kind != csbot.NotifyAlert {
		t.Fatalf("day 20: counts %v, %d notifications; want a new alert and its message", res.Counts, len(res.Notifications))
	}
	alerts = b.alerts(ctx, t)
	if len(alerts) != 2 || alerts[1].DedupeKey != drop.DedupeKey+"#2" || alerts[1].Episode != 2 || alerts[1].Supersedes != 0 ||
		alerts[0].State != "resolved" {
		t.Errorf("alerts %+v, want the first resolved and a second of episode 2", alerts)
	}
	if f := b.family(ctx, t, drop.Family()); f.Episode != 2 || !f.FirstSeen.Equal(day20) || f.AlertID != alerts[len(alerts)-1].ID {
		t.Errorf("family %+v, want episode 2 begun %v", f, day20)
	}
}

func TestRecordSignalsRouting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSigBook(ctx, t)
	b.watchAll(ctx, t, sigNow.Add(-time.Hour))
	b.exec(ctx, t, `UPDATE users SET notify_prefs = '{"alerts": ["not", "a", "map"]}' WHERE slack_id = 'U0CSM1'`)
	b.exec(ctx, t, `UPDATE users SET notify_prefs = '{"alerts": {"no_touch": "digest"}}' WHERE slack_id = 'U0CSM2'`)
	b.exec(ctx, t, `UPDATE users SET notify_prefs = '{"alerts": {"usage_drop": "dm"}}' WHERE slack_id = 'U0CSM3'`)
	until := sigNow.Add(48 * time.Hour)
	b.exec(ctx, t, `INSERT INTO alert_snoozes (account_id, kind, until, by_slack_id) VALUES ($1, 'usage_drop', $2, 'U0CSM1'),
		($1, 'no_touch', $3, 'U0CSM1')`, b.ids["S-1"], until, sigNow.Add(-time.Minute))

	p := csbot.DefaultPolicy()
	p.Tiers.Low.Alerts.Off = []string{"champion_left"}
	run := b.run(sigNow,
		b.signal("S-1", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "snoozed kind"),
		b.signal("S-1", csbot.SignalNoTouch, csbot.SignalWarning, "30d", "snooze over"),
		b.signal("S-2", csbot.SignalChampionLeft, csbot.SignalWarning, "warning", "tier off"),
		b.signal("S-2", csbot.SignalTicketSpike, csbot.SignalWarning, ">10", "bad prefs, channel"),
		b.signal("S-3", csbot.SignalTicketSpike, csbot.SignalWarning, ">10", "no channel"),
		b.signal("S-3", csbot.SignalNoTouch, csbot.SignalWarning, "30d", "digest"),
		b.signal("S-4", csbot.SignalUsageSilent, csbot.SignalCritical, "60d", "nowhere"),
		b.signal("S-5", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "prefs dm"),
	)
	run.Policy = p
	res := b.record(ctx, t, run)

	wantCounts := map[string]int{"new": 8, "snoozed": 1, "off": 1, "digest": 1, "unrouted": 1}
	for k, v := range res.Counts {
		if v != wantCounts[k] {
			t.Errorf("Counts[%q] = %d, want %d", k, v, wantCounts[k])
		}
	}
	type routed struct {
		Evidence, Routed, State, Channel string
		Message                          bool
	}
	byKey := map[string]string{}
	for _, sg := range run.Signals {
		byKey[sg.DedupeKey+"#1"] = sg.Evidence
	}
	var got []routed
	alerts := b.alerts(ctx, t)
	for _, a := range alerts {
		got = append(got, routed{byKey[a.DedupeKey], a.Routed, a.State, a.Channel, a.Notification != 0})
		if a.Routed == "snoozed" && (a.SnoozedUntil == nil || !a.SnoozedUntil.Equal(until)) {
			t.Errorf("snoozed alert until %v, want %v", a.SnoozedUntil, until)
		}
	}
	want := []routed{
		{"snoozed kind", "snoozed", "snoozed", "", false},
		{"snooze over", "channel", "open", "C0ACME", true},
		{"tier off", "off", "open", "", false},
		{"bad prefs, channel", "channel", "open", "C0BETA", true},
		{"no channel", "channel", "open", "", true},
		{"digest", "digest", "open", "", false},
		{"nowhere", "channel", "open", "", false},
		{"prefs dm", "dm", "open", "", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}

	type target struct{ Account, Channel, User, Fallback string }
	var targets []target
	for _, n := range res.Notifications {
		ext := ""
		for e, id := range b.ids {
			if id == n.AccountID {
				ext = e
			}
		}
		targets = append(targets, target{ext, n.Channel, n.User, n.FallbackUser})
	}
	wantTargets := []target{
		{"S-1", "C0ACME", "", "U0CSM1"},
		{"S-2", "C0BETA", "", "U0CSM1"},
		{"S-3", "", "U0CSM2", "U0CSM2"},
		{"S-5", "", "U0CSM3", "U0CSM3"},
	}
	if diff := cmp.Diff(wantTargets, targets); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if stored := b.notifications(ctx, t); len(stored) != 4 || stored[3].User != "U0CSM3" || stored[3].Channel != "" {
		t.Errorf("stored notifications %+v, want 4, the last a DM to U0CSM3", stored)
	}
}

func TestRecordSignalsDryRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSigBook(ctx, t)
	signals := []csbot.Signal{b.signal("S-1", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "down 34%")}

	// A first run, dry: the baseline it would send, and nothing watched.
	run := b.run(sigNow, signals...)
	run.DryRun = true
	before := b.rowCounts(ctx, t)
	res := b.record(ctx, t, run)
	if len(res.Notifications) != 1 || res.Notifications[0].Kind != csbot.NotifyBaseline || res.Notifications[0].ID == 0 ||
		res.Counts["watched"] != 5 || res.Counts["baselined"] != 1 {
		t.Errorf("dry first run: counts %v, notifications %+v; want Sam's baseline, 5 watched", res.Counts, res.Notifications)
	}
	if after := b.rowCounts(ctx, t); !cmp.Equal(before, after) {
		t.Errorf("dry first run changed row counts from %v to %v", before, after)
	}

	// After a real watching run, a dry run with a new signal.
	b.watchAll(ctx, t, sigNow)
	later := sigNow.Add(time.Hour)
	run = b.run(later, signals...)
	run.DryRun = true
	before = b.rowCounts(ctx, t)
	res = b.record(ctx, t, run)
	if len(res.Notifications) != 1 || res.Notifications[0].Kind != csbot.NotifyAlert || res.Counts["new"] != 1 {
		t.Fatalf("dry run: counts %v, %d notifications; want the alert message", res.Counts, len(res.Notifications))
	}
	msg := sigDecode[csbot.AlertMessage](t, res.Notifications[0].Payload)
	if len(msg.Items) != 1 || msg.Items[0].AlertID == 0 || msg.Items[0].SignalKey != signals[0].DedupeKey {
		t.Errorf("dry-run message items %+v, want the alert", msg.Items)
	}
	if after := b.rowCounts(ctx, t); !cmp.Equal(before, after) {
		t.Errorf("dry run changed row counts from %v to %v", before, after)
	}
	// The real run then writes it.
	run.DryRun = false
	if res := b.record(ctx, t, run); len(res.Notifications) != 1 || res.Counts["new"] != 1 {
		t.Errorf("real run after the dry one: counts %v, %d notifications; want the alert", res.Counts, len(res.Notifications))
	}
}

func TestRecordSignalsConcurrentRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSigBook(ctx, t)
	both := func(run csbot.SignalRun) [2]csbot.RunResult {
		t.Helper()
		var out [2]csbot.RunResult
		var errs [2]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range out {
			wg.Go(func() {
				<-start
				out[i], errs[i] = b.s.RecordSignals(ctx, run)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("run %d: %v", i, err)
			}
		}
		return out
	}

	first := []csbot.Signal{
		b.signal("S-1", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "down 34%"),
		b.signal("S-3", csbot.SignalNoTouch, csbot.SignalWarning, "30d", "31 days"),
	}
	res := both(b.run(sigNow, first...))
	if n := len(res[0].Notifications) + len(res[1].Notifications); n != 2 {
		t.Errorf("concurrent first runs wrote %d notifications, want 2 baselines", n)
	}
	if w := res[0].Counts["watched"] + res[1].Counts["watched"]; w != 5 {
		t.Errorf("concurrent first runs watched %d accounts, want 5", w)
	}

	later := []csbot.Signal{
		b.signal("S-1", csbot.SignalUsageDrop, csbot.SignalCritical, "-50%", "down 55%"),
		b.signal("S-2", csbot.SignalTicketSpike, csbot.SignalWarning, ">10", "12 tickets"),
		b.signal("S-5", csbot.SignalNoTouch, csbot.SignalWarning, "30d", "40 days"),
	}
	res = both(b.run(sigNow.Add(time.Hour), later...))
	if n := len(res[0].Notifications) + len(res[1].Notifications); n != 3 {
		t.Errorf("concurrent runs wrote %d notifications, want 3", n)
	}
	alerts := b.alerts(ctx, t)
	if len(alerts) != 3 {
		t.Errorf("%d alerts, want 3: %+v", len(alerts), alerts)
	}
	keys := map[string]int{}
	for _, a := range alerts {
		keys[a.DedupeKey]++
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("alert %s stored %d times", k, n)
		}
	}
	stored := b.notifications(ctx, t)
	if len(stored) != 5 {
		t.Errorf("%d notifications stored, want 5 (2 baselines, 3 messages)", len(stored))
	}
	var jobs int
	if err := b.conn.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&jobs); err != nil || jobs != 5 {
		t.Errorf("%d delivery jobs (%v), want 5", jobs, err)
	}
}

// TestRecordSignalsLargeBook records a run over 10,000 accounts: a first
// run that watches them all and baselines 3,000 signals, then one with
// 3,000 new signals on accounts already watched.
func TestRecordSignalsLargeBook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	const accounts, withSignals = 10_000, 3_000
	_, err := conn.Exec(ctx, `
INSERT INTO users (slack_id, role, name) SELECT 'U0CSM' || g, 'csm', 'CSM ' || g FROM generate_series(1, 50) g;
INSERT INTO accounts (external_id, name, tier, arr_cents, csm_slack_id, slack_channel_id)
SELECT 'L-' || g, 'Account ' || g, (ARRAY['high', 'low', 'tech'])[1 + g % 3], g * 100,
       'U0CSM' || (1 + g % 50), CASE WHEN g % 2 = 0 THEN 'C0L' || g END
  FROM generate_series(1, 10000) g;
INSERT INTO renewals (external_id, account_id, renewal_date, arr_cents)
SELECT 'LR-' || id, id, DATE '2027-01-01' + (id % 300)::int, arr_cents FROM accounts`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	rows, _ := conn.Query(ctx, `SELECT id FROM accounts ORDER BY id`)
	ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) != accounts {
		t.Fatalf("%d accounts (%v), want %d", len(ids), err, accounts)
	}
	run := func(now time.Time, kind csbot.SignalKind, step string) csbot.SignalRun {
		r := csbot.SignalRun{Now: now, Policy: csbot.DefaultPolicy(), Complete: true}
		for i, id := range ids {
			r.Scores = append(r.Scores, csbot.HealthScore{AccountID: id, At: now, Score: 50, Band: csbot.BandYellow})
			if i < withSignals {
				r.Signals = append(r.Signals, csbot.Signal{Kind: kind, AccountID: id, Severity: csbot.SignalWarning,
					Evidence: "evidence", DedupeKey: fmt.Sprintf("%s:%d:%s", kind, id, step)})
			}
		}
		return r
	}

	began := time.Now()
	res, err := s.RecordSignals(ctx, run(sigNow, csbot.SignalNoTouch, "30d"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run (watch %d, baseline %d): %v", accounts, withSignals, time.Since(began).Round(time.Millisecond))
	if res.Counts["watched"] != accounts || res.Counts["baselined"] != withSignals || len(res.Notifications) != 50 {
		t.Errorf("first run: counts %v, %d notifications; want all watched, 50 baselines", res.Counts, len(res.Notifications))
	}

	next := run(sigNow.Add(time.Hour), csbot.SignalTicketSpike, ">10")
	next.Signals = append(next.Signals, run(sigNow, csbot.SignalNoTouch, "30d").Signals...)
	began = time.Now()
	res, err = s.RecordSignals(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second run (%d new alerts, %d seen): %v", withSignals, withSignals, time.Since(began).Round(time.Millisecond))
	if res.Counts["new"] != withSignals || res.Counts["seen"] != withSignals || len(res.Notifications) != withSignals {
		t.Errorf("second run: counts %v, %d notifications; want %d alerts, each in a message", res.Counts, len(res.Notifications), withSignals)
	}

	began = time.Now()
	res, err = s.RecordSignals(ctx, run(sigNow.Add(2*time.Hour), csbot.SignalNoTouch, "30d"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("third run (%d resolved): %v", withSignals, time.Since(began).Round(time.Millisecond))
	if res.Counts["resolved"] != withSignals || len(res.Notifications) != withSignals {
		t.Errorf("third run: counts %v, %d notifications; want %d resolved with updates", res.Counts, len(res.Notifications), withSignals)
	}
}
