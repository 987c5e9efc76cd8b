package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// reminderUsers are CSMs in three zones, one with none, and a manager.
const reminderUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0LA,csm,Lou Pacific,lou@vendor.example,,America/Los_Angeles
U0BER,csm,Bea Spree,bea@vendor.example,,Europe/Berlin
U0KOL,csm,Kavi Ganga,kavi@vendor.example,,Asia/Kolkata
U0NOTZ,csm,Nora Nozone,nora@vendor.example,,
`

// reminderAccounts: one account per CSM with a channel; RM-DM has a CSM
// and no channel, RM-NONE neither.
const reminderAccounts = `external_id,name,tier,arr,stage,csm,ae,channel
RM-LA,Pacific Co,high,100000,adopting,U0LA,U0NOTZ,C0PACIFIC
RM-BER,Spree GmbH,high,200000,adopting,U0BER,,C0SPREE
RM-KOL,Ganga Ltd,high,300000,adopting,U0KOL,,C0GANGA
RM-DM,Direct Inc,high,400000,adopting,U0LA,,
RM-NONE,Orphan LLC,high,500000,adopting,,,
RM-GONE,Churned Co,high,600000,churned,U0LA,,C0GONE
`

// sentReminder is a reminder notification written by a pass at at.
type sentReminder struct {
	at  time.Time
	n   csbot.Notification
	msg csbot.ReminderMessage
}

// queueReminders runs one pass and decodes what it wrote.
func queueReminders(ctx context.Context, t *testing.T, s *store.Store, run csbot.ReminderRun) (csbot.RunResult, []sentReminder) {
	t.Helper()
	res, err := s.QueueReminders(ctx, run)
	if err != nil {
		t.Fatalf("QueueReminders(%v): %v", run.Now, err)
	}
	var out []sentReminder
	for _, n := range res.Notifications {
		var msg csbot.ReminderMessage
		if err := json.Unmarshal(n.Payload, &msg); err != nil {
			t.Fatalf("payload of %s: %v", n.Key, err)
		}
		if n.Kind != csbot.NotifyReminder || n.Key != msg.Reminder.Key {
			t.Errorf("notification %s is of kind %s with reminder key %s; want a renewal reminder under its reminder's key",
				n.Key, n.Kind, msg.Reminder.Key)
		}
		out = append(out, sentReminder{at: run.Now, n: n, msg: msg})
	}
	return res, out
}

// queryInt runs a query returning one integer.
func queryInt(ctx context.Context, t *testing.T, conn *pgx.Conn, q string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// reminderRow is a reminders row.
type reminderRow struct {
	Renewal      string // external id
	Offset       int
	DueOn        time.Time
	Late         bool
	Created      time.Time
	Notification bool // has one
}

// reminderRows returns every reminders row, by renewal and offset.
func reminderRows(ctx context.Context, t *testing.T, conn *pgx.Conn) []reminderRow {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT r.external_id, m.offset_days, m.due_on, m.late, m.created_at, m.notification_id IS NOT NULL
		FROM reminders m JOIN renewals r ON r.id = m.renewal_id ORDER BY r.external_id, m.offset_days DESC`)
	if err != nil {
		t.Fatal(err)
	}
	var out []reminderRow
	var r reminderRow
	_, err = pgx.ForEachRow(rows, []any{&r.Renewal, &r.Offset, &r.DueOn, &r.Late, &r.Created, &r.Notification}, func() error {
		r.Created = r.Created.UTC()
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reminderPolicy returns the default policy with the high tier's reminder
// days set to days.
func reminderPolicy(days ...int) csbot.Policy {
	p := csbot.DefaultPolicy()
	p.Tiers.High.Renewals.ReminderDays = days
	p.Tiers.High.Renewals.AutoRenewReminderDays = days
	return p
}

// newReminderStore returns a store holding the reminder book and renewals,
// and a connection of its own.
func newReminderStore(ctx context.Context, t *testing.T, renewals string) (*store.Store, *pgx.Conn) {
	t.Helper()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", reminderUsers)
	mustImport(ctx, t, s, "accounts", reminderAccounts)
	mustImport(ctx, t, s, "renewals", renewals)
	return s, conn
}

// loadZone loads a time zone or fails the test.
func loadZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestRemindersAtNineLocalAcrossClockChanges runs a pass every 15 minutes
// over two days around each reminder's due day, a day on which (LA,
// Berlin) or near which (Kolkata, no summer time) clocks change, and
// checks that each CSM's reminder is written once, by the pass at 09:00
// on their own clock.
func TestRemindersAtNineLocalAcrossClockChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The 30-day reminders are due on 2026-03-08 (LA's change to summer
	// time, Kolkata's day too) and 2026-03-29 (Berlin's). Default high
	// tier reminder days: 120, 90, 60, 30, 14, 7.
	s, conn := newReminderStore(ctx, t, `external_id,account_external_id,renewal_date,arr,auto_renew,status
RN-LA,RM-LA,2026-04-07,100000,false,open
RN-BER,RM-BER,2026-04-28,200000,false,open
RN-KOL,RM-KOL,2026-04-07,300000,false,open
RN-GONE,RM-GONE,2026-04-07,600000,false,open
`)
	p := csbot.DefaultPolicy()
	windows := []struct{ from, to time.Time }{
		{time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)},
	}
	var sent []sentReminder
	firstPass := map[time.Time]bool{}
	passes := 0
	for _, w := range windows {
		firstPass[w.from] = true
		for at := w.from; at.Before(w.to); at = at.Add(15 * time.Minute) {
			_, got := queueReminders(ctx, t, s, csbot.ReminderRun{Now: at, Policy: p, Zone: time.UTC})
			sent = append(sent, got...)
			passes++
		}
	}
	if passes != 2*2*96 {
		t.Fatalf("ran %d passes, want %d", passes, 2*2*96)
	}

	want := []struct {
		account, csm, zone, channel string
		due                         time.Time
	}{
		{"RM-LA", "U0LA", "America/Los_Angeles", "C0PACIFIC", date(2026, 3, 8)},
		{"RM-BER", "U0BER", "Europe/Berlin", "C0SPREE", date(2026, 3, 29)},
		{"RM-KOL", "U0KOL", "Asia/Kolkata", "C0GANGA", date(2026, 3, 8)},
	}
	for _, w := range want {
		loc := loadZone(t, w.zone)
		var thirty []sentReminder
		for _, r := range sent {
			if r.msg.Account.ExternalID == w.account && r.msg.Reminder.OffsetDays == 30 {
				thirty = append(thirty, r)
			}
		}
		if len(thirty) != 1 {
			t.Errorf("%s: the 30-day reminder was written %d times, want once", w.account, len(thirty))
			continue
		}
		r := thirty[0]
		local := r.at.In(loc)
		y, m, d := local.Date()
		if h, min, sec := local.Clock(); h != 9 || min != 0 || sec != 0 || !date(y, m, d).Equal(w.due) {
			t.Errorf("%s: written by the pass at %v (%s), want the one at 09:00 on %s in %s",
				w.account, r.at, local, w.due.Format(time.DateOnly), w.zone)
		}
		if r.msg.Reminder.Late || !r.msg.Reminder.DueOn.Equal(w.due) || r.msg.Renewal.DaysLeft != 30 {
			t.Errorf("%s: reminder %+v, renewal %+v; want on time, due %s, 30 days left", w.account, r.msg.Reminder,
				r.msg.Renewal, w.due.Format(time.DateOnly))
		}
		if r.n.Channel != w.channel || r.n.User != "" || r.n.FallbackUser != w.csm || r.n.ID == 0 {
			t.Errorf("%s: notification to channel %q user %q fallback %q (id %d), want channel %s, fallback %s",
				w.account, r.n.Channel, r.n.User, r.n.FallbackUser, r.n.ID, w.channel, w.csm)
		}
	}
	// Besides those, only the first pass of each window caught up, once
	// per renewal, with its most recent missed reminder.
	for _, r := range sent {
		if r.msg.Reminder.OffsetDays == 30 {
			continue
		}
		if !firstPass[r.at] || !r.msg.Reminder.Late {
			t.Errorf("%s: %s written at %v (late %v), want only late catch-ups by a window's first pass",
				r.msg.Account.ExternalID, r.n.Key, r.at, r.msg.Reminder.Late)
		}
	}

	type row struct {
		Renewal      string
		Offset       int
		Late         bool
		Notification bool
	}
	var rows []row
	for _, r := range reminderRows(ctx, t, conn) {
		rows = append(rows, row{r.Renewal, r.Offset, r.Late, r.Notification})
	}
	wantRows := []row{
		{"RN-BER", 60, true, true}, {"RN-BER", 30, false, true},
		{"RN-KOL", 60, true, true}, {"RN-KOL", 30, false, true}, {"RN-KOL", 14, true, true},
		{"RN-LA", 60, true, true}, {"RN-LA", 30, false, true}, {"RN-LA", 14, true, true},
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("reminders rows (-want +got):\n%s", diff)
	}
	if n := queryInt(ctx, t, conn, `SELECT count(*) FROM notifications WHERE kind = 'renewal_reminder'`); n != len(wantRows) || len(sent) != len(wantRows) {
		t.Errorf("%d notifications stored, %d returned; want %d", n, len(sent), len(wantRows))
	}
}

// TestRemindersAfterDowntime checks that a pass after days without any
// sends each renewal's most recent missed reminder, once, late, and none
// of the older ones.
func TestRemindersAfterDowntime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newReminderStore(ctx, t, `external_id,account_external_id,renewal_date,arr,auto_renew,status
RN-LA,RM-LA,2026-06-30,100000,false,open
RN-BER,RM-BER,2026-06-30,200000,true,open
RN-KOL,RM-KOL,2026-06-30,300000,false,open
`)
	run := csbot.ReminderRun{Policy: reminderPolicy(30, 29, 28), Zone: time.UTC}

	// Before any reminder is due anywhere: 05:00 in LA, 17:30 in Kolkata.
	run.Now = time.Date(2026, 5, 30, 12, 0, 0, 0, time.UTC)
	if res, got := queueReminders(ctx, t, s, run); len(got) != 0 || res.Counts["due"] != 0 {
		t.Fatalf("pass at %v wrote %d reminders (counts %v), want none yet", run.Now, len(got), res.Counts)
	}

	// Down for four days, through the 30-, 29- and 28-day due days: on
	// 2026-06-03 it is 11:00 in LA, 20:00 in Berlin, 23:30 in Kolkata.
	run.Now = time.Date(2026, 6, 3, 18, 0, 0, 0, time.UTC)
	res, got := queueReminders(ctx, t, s, run)
	if diff := cmp.Diff(map[string]int{"due": 3, "late": 3, "queued": 3, "unrouted": 0}, res.Counts); diff != "" {
		t.Errorf("counts after the downtime (-want +got):\n%s", diff)
	}
	var accounts []string
	for _, r := range got {
		accounts = append(accounts, r.msg.Account.ExternalID)
		rem := r.msg.Reminder
		if rem.OffsetDays != 28 || !rem.Late || !rem.DueOn.Equal(date(2026, 6, 2)) || rem.DaysLeft != 27 {
			t.Errorf("%s: reminder %+v; want the 28-day one, due 2026-06-02, late, 27 days left", r.msg.Account.ExternalID, rem)
		}
	}
	if diff := cmp.Diff([]string{"RM-BER", "RM-KOL", "RM-LA"}, slices.Sorted(slices.Values(accounts))); diff != "" {
		t.Errorf("accounts reminded (-want +got):\n%s", diff)
	}
	for _, r := range reminderRows(ctx, t, conn) {
		if r.Offset != 28 || !r.Late || !r.DueOn.Equal(date(2026, 6, 2)) || !r.Created.Equal(run.Now) || !r.Notification {
			t.Errorf("reminders row %+v; want only 28-day rows, late, written at %v with their notification", r, run.Now)
		}
	}
	if n := len(reminderRows(ctx, t, conn)); n != 3 {
		t.Errorf("%d reminders rows, want 3", n)
	}

	// The same pass again, and the next day's, write nothing.
	for _, now := range []time.Time{run.Now, run.Now.Add(24 * time.Hour)} {
		run.Now = now
		if res, got := queueReminders(ctx, t, s, run); len(got) != 0 || res.Counts["due"] != 0 {
			t.Errorf("pass at %v wrote %d reminders (counts %v), want none", now, len(got), res.Counts)
		}
	}
}

// TestRemindersZoneFallback checks that a CSM with no time zone, or one
// Go does not know, gets reminders at 09:00 in the run's zone.
func TestRemindersZoneFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newReminderStore(ctx, t, `external_id,account_external_id,renewal_date,arr,auto_renew,status
RN-LA,RM-LA,2026-07-31,100000,false,open
RN-BER,RM-BER,2026-07-31,200000,false,open
`)
	// RM-LA's CSM has a zone; make it Nora's (none) and Bea's one Go does
	// not know.
	if _, err := conn.Exec(ctx, `UPDATE accounts SET csm_slack_id = 'U0NOTZ' WHERE external_id = 'RM-LA'`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE users SET timezone = 'Mars/Olympus_Mons' WHERE slack_id = 'U0BER'`); err != nil {
		t.Fatal(err)
	}
	tokyo := loadZone(t, "Asia/Tokyo")
	run := csbot.ReminderRun{Policy: reminderPolicy(30), Zone: tokyo}

	// 08:45 on 2026-07-01 in Tokyo (23:45 UTC the day before).
	run.Now = time.Date(2026, 7, 1, 8, 45, 0, 0, tokyo)
	if _, got := queueReminders(ctx, t, s, run); len(got) != 0 {
		t.Errorf("pass at 08:45 Tokyo wrote %d reminders, want none", len(got))
	}
	// 09:00 in Tokyo, midnight UTC: due in Tokyo, not yet in UTC.
	run.Now = time.Date(2026, 7, 1, 9, 0, 0, 0, tokyo)
	_, got := queueReminders(ctx, t, s, run)
	var csms []string
	for _, r := range got {
		csms = append(csms, r.n.FallbackUser)
		if r.msg.Reminder.Late || r.msg.Reminder.OffsetDays != 30 {
			t.Errorf("%s: reminder %+v, want the 30-day one, on time", r.msg.Account.ExternalID, r.msg.Reminder)
		}
	}
	if diff := cmp.Diff([]string{"U0BER", "U0NOTZ"}, slices.Sorted(slices.Values(csms))); diff != "" {
		t.Errorf("pass at 09:00 Tokyo: reminders of CSMs (-want +got):\n%s", diff)
	}
}

// TestReminderRoutingAndMessage checks the DM to the CSM of an account
// without a channel, the unrouted count of an account with neither, and
// what the message says.
func TestReminderRoutingAndMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newReminderStore(ctx, t, `external_id,account_external_id,renewal_date,arr,auto_renew,status
RN-DM,RM-DM,2026-07-31,400000,true,open
RN-DM-OLD,RM-DM,2025-07-31,350000,false,renewed
RN-NONE,RM-NONE,2026-07-31,500000,false,open
`)
	mustImport(ctx, t, s, "contacts", `account_external_id,name,role,email,title,active
RM-DM,Zoe Buyer,renewal,zoe@direct.example,Procurement,true
RM-DM,Amir Buyer,renewal,amir@direct.example,CFO,true
RM-DM,Aaron Gone,renewal,,,false
RM-DM,Bo Champion,champion,,Director,true
`)
	a, err := s.AccountByExternalID(ctx, "RM-DM")
	if err != nil {
		t.Fatal(err)
	}
	trend := csbot.Trend{Delta7: -12, Has7: true, Delta30: -20, Has30: true}
	scores := []csbot.HealthScore{
		{AccountID: a.ID, At: time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC), Score: 70, Band: csbot.BandGreen, Coverage: 100},
		{AccountID: a.ID, At: time.Date(2026, 6, 30, 6, 0, 0, 0, time.UTC), Score: 50, Band: csbot.BandYellow, Trend: trend, Coverage: 85},
	}
	if _, err := s.SaveScores(ctx, scores); err != nil {
		t.Fatal(err)
	}
	var alertIDs [4]int64
	for i, al := range []struct{ kind, severity, state, evidence string }{
		{"usage_drop", "warning", "acknowledged", "active users down 35%"},
		{"ticket_spike", "critical", "open", "24 tickets in 30 days"},
		{"no_touch", "info", "resolved", "no touch in 45 days"},
		{"detractor", "warning", "snoozed", "NPS 4 from Zoe"},
	} {
		err := conn.QueryRow(ctx, `INSERT INTO alerts (account_id, kind, severity, dedupe_key, evidence, state)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, a.ID, al.kind, al.severity, fmt.Sprintf("%s:%d:x", al.kind, a.ID),
			al.evidence, al.state).Scan(&alertIDs[i])
		if err != nil {
			t.Fatal(err)
		}
	}

	at := time.Date(2026, 7, 1, 17, 0, 0, 0, time.UTC) // 10:00 in LA
	run := csbot.ReminderRun{Now: at, Policy: reminderPolicy(30), Zone: time.UTC}
	res, got := queueReminders(ctx, t, s, run)
	if diff := cmp.Diff(map[string]int{"due": 2, "late": 0, "queued": 1, "unrouted": 1}, res.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if len(got) != 1 {
		t.Fatalf("wrote %d reminders, want RM-DM's alone", len(got))
	}
	r := got[0]
	renewalID := r.msg.Renewal.ID
	wantKey := fmt.Sprintf("renewal:%d:2026-07-31:30d", renewalID)
	stored, err := s.Notification(ctx, r.n.ID)
	if err != nil {
		t.Fatalf("Notification(%d): %v", r.n.ID, err)
	}
	if stored.Key != wantKey || stored.Kind != csbot.NotifyReminder || stored.Channel != "" || stored.User != "U0LA" ||
		stored.FallbackUser != "U0LA" || stored.AccountID != a.ID || stored.State != csbot.NotificationPending {
		t.Errorf("stored notification %+v; want %s, a DM to U0LA (fallback U0LA) about account %d, pending", stored, wantKey, a.ID)
	}
	var storedMsg csbot.ReminderMessage
	if err := json.Unmarshal(stored.Payload, &storedMsg); err != nil {
		t.Fatal(err)
	}
	wantMsg := csbot.ReminderMessage{
		Account: csbot.AccountBrief{ID: a.ID, ExternalID: "RM-DM", Name: "Direct Inc", Tier: csbot.TierHigh, ARR: 40000000, CSM: "U0LA"},
		Health:  csbot.HealthBrief{Score: 50, Band: csbot.BandYellow, Trend: trend, Coverage: 85},
		Renewal: csbot.RenewalBrief{ID: renewalID, Date: date(2026, 7, 31), ARR: 40000000, AutoRenew: true, DaysLeft: 30,
			Contact: "Amir Buyer", ContactRef: "CFO"},
		Reminder: csbot.Reminder{RenewalID: renewalID, AccountID: a.ID, RenewalDate: date(2026, 7, 31), OffsetDays: 30,
			DueOn: date(2026, 7, 1), DaysLeft: 30, Key: wantKey},
		Risks: []csbot.AlertItem{
			{AlertID: alertIDs[1], Kind: csbot.SignalTicketSpike, Severity: csbot.SignalCritical, Evidence: "24 tickets in 30 days"},
			{AlertID: alertIDs[0], Kind: csbot.SignalUsageDrop, Severity: csbot.SignalWarning, Evidence: "active users down 35%"},
		},
		At: at,
	}
	if diff := cmp.Diff(wantMsg, storedMsg); diff != "" {
		t.Errorf("stored message (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantMsg, r.msg); diff != "" {
		t.Errorf("returned message (-want +got):\n%s", diff)
	}
	if n := queryInt(ctx, t, conn, `SELECT count(*) FROM reminders m JOIN renewals r ON r.id = m.renewal_id
		WHERE r.external_id = 'RN-DM' AND m.notification_id = $1`, r.n.ID); n != 1 {
		t.Errorf("RN-DM has %d reminders rows linked to its notification, want 1", n)
	}
	if n := queryInt(ctx, t, conn, `SELECT count(*) FROM reminders`); n != 1 {
		t.Errorf("%d reminders rows, want 1: an unrouted reminder is not recorded", n)
	}
	if n := queryInt(ctx, t, conn, `SELECT count(*) FROM river_job WHERE (args->>'notification')::bigint = $1`, r.n.ID); n != 1 {
		t.Errorf("%d delivery jobs for the notification, want 1", n)
	}

	// The unrouted reminder is found again; the other is done.
	run.Now = at.Add(15 * time.Minute)
	res, got = queueReminders(ctx, t, s, run)
	if diff := cmp.Diff(map[string]int{"due": 1, "late": 0, "queued": 0, "unrouted": 1}, res.Counts); diff != "" || len(got) != 0 {
		t.Errorf("second pass wrote %d; counts (-want +got):\n%s", len(got), diff)
	}
}

func TestRemindersDryRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newReminderStore(ctx, t, `external_id,account_external_id,renewal_date,arr,auto_renew,status
RN-LA,RM-LA,2026-07-31,100000,false,open
RN-KOL,RM-KOL,2026-07-31,300000,false,open
`)
	run := csbot.ReminderRun{Now: time.Date(2026, 7, 1, 17, 0, 0, 0, time.UTC), Policy: reminderPolicy(30), Zone: time.UTC, DryRun: true}
	res, got := queueReminders(ctx, t, s, run)
	if len(got) != 2 || res.Counts["queued"] != 2 {
		t.Fatalf("dry run returned %d notifications (counts %v), want the 2 it would write", len(got), res.Counts)
	}
	for _, r := range got {
		if r.n.ID != 0 || r.msg.Reminder.OffsetDays != 30 {
			t.Errorf("dry run notification %s: id %d, offset %d; want id 0, the 30-day reminder", r.n.Key, r.n.ID, r.msg.Reminder.OffsetDays)
		}
	}
	for _, q := range []string{
		`SELECT count(*) FROM reminders`,
		`SELECT count(*) FROM notifications`,
		`SELECT count(*) FROM river_job`,
	} {
		if n := queryInt(ctx, t, conn, q); n != 0 {
			t.Errorf("after a dry run, %s = %d, want 0", q, n)
		}
	}

	run.DryRun = false
	res, got = queueReminders(ctx, t, s, run)
	if len(got) != 2 || res.Counts["queued"] != 2 || got[0].n.ID == 0 {
		t.Errorf("the real pass after the dry run wrote %d notifications (counts %v), want 2 with ids", len(got), res.Counts)
	}
	if n := queryInt(ctx, t, conn, `SELECT count(*) FROM reminders`); n != 2 {
		t.Errorf("%d reminders rows after the real pass, want 2", n)
	}
}

func TestRemindersConcurrentPasses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const accounts = 20
	var acc, ren strings.Builder
	acc.WriteString("external_id,name,tier,arr,csm,channel\n")
	ren.WriteString("external_id,account_external_id,renewal_date,arr,status\n")
	for i := range accounts {
		fmt.Fprintf(&acc, "CC-%d,Concurrent %d,high,1000,U0LA,C0CONC%d\n", i, i, i)
		fmt.Fprintf(&ren, "CR-%d,CC-%d,2026-07-31,1000,open\n", i, i)
	}
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", reminderUsers)
	mustImport(ctx, t, s, "accounts", acc.String())
	mustImport(ctx, t, s, "renewals", ren.String())

	run := csbot.ReminderRun{Now: time.Date(2026, 7, 2, 17, 0, 0, 0, time.UTC), Policy: reminderPolicy(30), Zone: time.UTC}
	var wg sync.WaitGroup
	results := make([]csbot.RunResult, 2)
	errs := make([]error, 2)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = s.QueueReminders(ctx, run) })
	}
	wg.Wait()
	keys := map[string]int{}
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("pass %d: %v", i, errs[i])
		}
		for _, n := range res.Notifications {
			keys[n.Key]++
		}
	}
	if len(keys) != accounts {
		t.Errorf("the two passes wrote %d distinct reminders, want %d", len(keys), accounts)
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("%s written %d times, want once", k, n)
		}
	}
	if q := results[0].Counts["queued"] + results[1].Counts["queued"]; q != accounts {
		t.Errorf("queued %d + %d, want %d in all", results[0].Counts["queued"], results[1].Counts["queued"], accounts)
	}
	for _, q := range []string{
		`SELECT count(*) FROM reminders WHERE late AND notification_id IS NOT NULL`,
		`SELECT count(DISTINCT dedupe_key) FROM notifications`,
		`SELECT count(*) FROM river_job`,
	} {
		if n := queryInt(ctx, t, conn, q); n != accounts {
			t.Errorf("%s = %d, want %d", q, n, accounts)
		}
	}
}
