package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// dueExec runs a statement on conn or fails the test.
func dueExec(ctx context.Context, t *testing.T, conn *pgx.Conn, q string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// dueInt runs a query returning one integer.
func dueInt(ctx context.Context, t *testing.T, conn *pgx.Conn, q string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// dueZone loads a time zone or fails the test.
func dueZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// dueAccounts returns the brief of every account, by external id.
func dueAccounts(ctx context.Context, t *testing.T, conn *pgx.Conn) map[string]csbot.AccountBrief {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT id, external_id, name, tier, arr_cents, coalesce(csm_slack_id, ''),
		coalesce(ae_slack_id, ''), coalesce(slack_channel_id, '') FROM accounts`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]csbot.AccountBrief{}
	var b csbot.AccountBrief
	var tier string
	var arr int64
	_, err = pgx.ForEachRow(rows, []any{&b.ID, &b.ExternalID, &b.Name, &tier, &arr, &b.CSM, &b.AE, &b.Channel}, func() error {
		b.Tier, b.ARR = csbot.Tier(tier), csbot.Cents(arr)
		out[b.ExternalID] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dueAlertSpec is an alerts row a test writes.
type dueAlertSpec struct {
	account  int64
	kind     csbot.SignalKind
	severity csbot.SignalSeverity
	key      string // dedupe key, "<signal key>#<episode>"
	evidence string
	state    csbot.AlertState
	routed   csbot.Route
	created  time.Time
	message  int64 // its notification, 0 for none
	ackedBy  string
	ackedAt  time.Time
}

// dueInsertAlert writes an alerts row and returns its id.
func dueInsertAlert(ctx context.Context, t *testing.T, conn *pgx.Conn, a dueAlertSpec) int64 {
	t.Helper()
	var acked *time.Time
	if !a.ackedAt.IsZero() {
		acked = &a.ackedAt
	}
	var id int64
	err := conn.QueryRow(ctx, `INSERT INTO alerts (account_id, kind, severity, dedupe_key, evidence, state, routed,
		created_at, updated_at, notification_id, acked_by_slack_id, acked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, nullif($9, 0::bigint), nullif($10, ''), $11) RETURNING id`,
		a.account, a.kind, a.severity, a.key, a.evidence, a.state, a.routed, a.created, a.message, a.ackedBy, acked).Scan(&id)
	if err != nil {
		t.Fatalf("insert alert %s: %v", a.key, err)
	}
	return id
}

// digestUsers: a manager in Berlin with three CSMs (one in Los Angeles,
// one without a zone, one without accounts); a manager in Kolkata with
// one CSM; a manager without a team.
const digestUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0MGR,manager,Mia Manager,mia@vendor.example,,Europe/Berlin
U0LA,csm,Lou Pacific,lou@vendor.example,U0MGR,America/Los_Angeles
U0NOZ,csm,Nora Nozone,nora@vendor.example,U0MGR,
U0IDLE,csm,Ida Idle,ida@vendor.example,U0MGR,
U0MGRK,manager,Kavi Ganga,kavi@vendor.example,,Asia/Kolkata
U0KOL,csm,Kiran Kol,kiran@vendor.example,U0MGRK,Asia/Kolkata
U0MGRX,manager,Xia Empty,xia@vendor.example,,
`

// digestAccounts: the Berlin manager's team has seven accounts, one of
// them the manager's own; D-CHURN has churned; D-KOL is the Kolkata
// team's.
const digestAccounts = `external_id,name,tier,arr,stage,csm,ae,channel
D-TURNR,Red Turn,high,500000,adopting,U0LA,U0MGRX,C0TURNR
D-TURNY,Yellow Turn,low,300000,adopting,U0NOZ,,C0TURNY
D-REDOLD,Old Red,high,400000,renewing,U0LA,,
D-YTOR,Yellow To Red,low,100000,adopting,U0NOZ,,
D-GREEN,Green Co,high,800000,expanding,U0LA,,C0GREEN
D-NEW,Unscored,tech,50000,onboarding,U0MGR,,
D-RECOV,Recovered,low,200000,adopting,U0NOZ,,
D-CHURN,Gone Co,high,900000,churned,U0LA,,
D-KOL,Ganga Ltd,high,700000,adopting,U0KOL,,C0GANGA
`

// digestRenewals: within 90 days of 2026-11-23 on accounts not green:
// RN-REDOLD, RN-RECOV-END (the 90th day), RN-NEW (never scored). Not:
// green, beyond 90 days, past, closed, churned, another team's.
const digestRenewals = `external_id,account_external_id,renewal_date,arr,auto_renew,status
RN-GREEN,D-GREEN,2026-12-15,800000,false,open
RN-NEW,D-NEW,2026-12-23,50000,true,open
RN-REDOLD,D-REDOLD,2027-01-31,400000,false,open
RN-TURNY,D-TURNY,2027-03-01,300000,false,open
RN-RECOV-PAST,D-RECOV,2026-11-22,200000,false,open
RN-RECOV-END,D-RECOV,2027-02-21,200000,false,open
RN-YTOR,D-YTOR,2026-12-01,100000,false,renewed
RN-CHURN,D-CHURN,2026-12-01,900000,false,open
RN-KOL,D-KOL,2026-12-01,700000,false,open
`

// digestNow is Monday 2026-11-23 09:00 in Berlin: the Berlin digest's due
// time.
var digestNow = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

// digestBook is the digest fixture.
type digestBook struct {
	s        *store.Store
	conn     *pgx.Conn
	accounts map[string]csbot.AccountBrief
	alerts   map[string]int64 // by name
	renewals map[string]int64 // by external id
}

// newDigestBook returns a store holding the digest fixture: users,
// accounts, renewals, a renewal contact, health snapshots, alerts and
// handoffs.
func newDigestBook(ctx context.Context, t *testing.T) digestBook {
	t.Helper()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", digestUsers)
	mustImport(ctx, t, s, "accounts", digestAccounts)
	mustImport(ctx, t, s, "renewals", digestRenewals)
	mustImport(ctx, t, s, "contacts", `account_external_id,name,role,email,title,active
D-REDOLD,Rita Renewal,renewal,rita@old.example,CFO,true
D-REDOLD,Alan Older,renewal,alan@old.example,CEO,false
`)
	b := digestBook{s: s, conn: conn, accounts: dueAccounts(ctx, t, conn), alerts: map[string]int64{}, renewals: map[string]int64{}}
	rows, err := conn.Query(ctx, `SELECT external_id, id FROM renewals`)
	if err != nil {
		t.Fatal(err)
	}
	var ext string
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&ext, &id}, func() error { b.renewals[ext] = id; return nil }); err != nil {
		t.Fatal(err)
	}

	// Snapshots: the band a week before is the latest dated 2026-11-16 or
	// earlier; the band now the latest dated 2026-11-23 or earlier.
	snapshots := []struct {
		account string
		day     time.Time
		score   int
		band    csbot.Band
	}{
		{"D-TURNR", date(2026, 11, 15), 80, csbot.BandGreen},
		{"D-TURNR", date(2026, 11, 20), 60, csbot.BandYellow},
		{"D-TURNR", date(2026, 11, 23), 35, csbot.BandRed},
		{"D-TURNY", date(2026, 11, 16), 75, csbot.BandGreen},
		{"D-TURNY", date(2026, 11, 22), 55, csbot.BandYellow},
		{"D-REDOLD", date(2026, 11, 10), 30, csbot.BandRed},
		{"D-REDOLD", date(2026, 11, 23), 32, csbot.BandRed},
		{"D-YTOR", date(2026, 11, 16), 50, csbot.BandYellow},
		{"D-YTOR", date(2026, 11, 23), 20, csbot.BandRed},
		{"D-GREEN", date(2026, 11, 16), 90, csbot.BandGreen},
		{"D-GREEN", date(2026, 11, 23), 88, csbot.BandGreen},
		{"D-GREEN", date(2026, 11, 24), 10, csbot.BandRed}, // after now: not read
		{"D-RECOV", date(2026, 11, 16), 30, csbot.BandRed},
		{"D-RECOV", date(2026, 11, 23), 55, csbot.BandYellow},
		{"D-CHURN", date(2026, 11, 16), 90, csbot.BandGreen},
		{"D-CHURN", date(2026, 11, 23), 10, csbot.BandRed},
		{"D-KOL", date(2026, 11, 16), 90, csbot.BandGreen},
		{"D-KOL", date(2026, 11, 23), 10, csbot.BandRed},
	}
	for _, sn := range snapshots {
		detail, err := json.Marshal(map[string]any{
			"coverage": sn.score / 10, "trend": csbot.Trend{Delta7: sn.score - 50, Has7: true}, "components": []any{},
		})
		if err != nil {
			t.Fatal(err)
		}
		dueExec(ctx, t, conn, `INSERT INTO health_scores (account_id, day, computed_at, score, band, components)
			VALUES ($1, $2, $3, $4, $5, $6)`, b.accounts[sn.account].ID, sn.day, sn.day, sn.score, sn.band, detail)
	}

	// Alerts: unacknowledged for more than 3 days at digestNow are
	// "stale-open", "stale-escalated" and "stale-digest".
	alerts := []struct {
		name    string
		account string
		state   csbot.AlertState
		routed  csbot.Route
		created time.Time
	}{
		{"stale-open", "D-YTOR", csbot.AlertOpen, csbot.RouteChannel, utcTime(2026, 11, 18, 8, 0)},
		{"stale-escalated", "D-TURNR", csbot.AlertEscalated, csbot.RouteDM, utcTime(2026, 11, 19, 20, 0)},
		{"stale-digest", "D-REDOLD", csbot.AlertOpen, csbot.RouteDigest, utcTime(2026, 11, 10, 9, 0)},
		{"young", "D-TURNR", csbot.AlertOpen, csbot.RouteChannel, utcTime(2026, 11, 20, 8, 1)},
		{"acked", "D-RECOV", csbot.AlertAcknowledged, csbot.RouteChannel, utcTime(2026, 11, 1, 8, 0)},
		{"off", "D-RECOV", csbot.AlertOpen, csbot.RouteOff, utcTime(2026, 11, 1, 8, 0)},
		{"snoozed", "D-RECOV", csbot.AlertSnoozed, "snoozed", utcTime(2026, 11, 1, 8, 0)},
		{"resolved", "D-RECOV", csbot.AlertResolved, csbot.RouteChannel, utcTime(2026, 11, 1, 8, 0)},
		{"churned", "D-CHURN", csbot.AlertOpen, csbot.RouteChannel, utcTime(2026, 11, 1, 8, 0)},
		{"other-team", "D-KOL", csbot.AlertOpen, csbot.RouteChannel, utcTime(2026, 11, 1, 8, 0)},
	}
	for _, a := range alerts {
		acc := b.accounts[a.account]
		b.alerts[a.name] = dueInsertAlert(ctx, t, conn, dueAlertSpec{
			account: acc.ID, kind: csbot.SignalUsageDrop, severity: csbot.SignalWarning,
			key: "usage_drop:" + a.name + ":30#2", evidence: "usage down on " + acc.Name,
			state: a.state, routed: a.routed, created: a.created,
		})
	}

	// Handoffs: one open on the team's accounts.
	for _, h := range []struct {
		account, state string
	}{{"D-NEW", "open"}, {"D-TURNR", "acknowledged"}, {"D-KOL", "open"}, {"D-CHURN", "open"}} {
		dueExec(ctx, t, conn, `INSERT INTO handoffs (account_id, author_slack_id, state) VALUES ($1, 'U0MGRX', $2)`,
			b.accounts[h.account].ID, h.state)
	}
	return b
}

// digestHealth is the health brief the fixture's snapshot of score gives.
func digestHealth(score int, band csbot.Band) csbot.HealthBrief {
	return csbot.HealthBrief{Score: score, Band: band, Trend: csbot.Trend{Delta7: score - 50, Has7: true}, Coverage: score / 10}
}

// TestDigest checks every field of a manager's digest and its order.
func TestDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newDigestBook(ctx, t)
	acc := b.accounts
	alert := func(name, account string, created time.Time, days int) csbot.DigestAlert {
		return csbot.DigestAlert{
			Account: acc[account],
			Alert: csbot.AlertItem{AlertID: b.alerts[name], Kind: csbot.SignalUsageDrop, Severity: csbot.SignalWarning,
				Evidence: "usage down on " + acc[account].Name, SignalKey: "usage_drop:" + name + ":30"},
			Since: created, Days: days,
		}
	}
	want := csbot.DigestMessage{
		Manager: "U0MGR",
		Week:    "2026-W48",
		Turned: []csbot.DigestAccount{
			{Account: acc["D-TURNR"], Health: digestHealth(35, csbot.BandRed), WasBand: csbot.BandGreen},
			{Account: acc["D-TURNY"], Health: digestHealth(55, csbot.BandYellow), WasBand: csbot.BandGreen},
			{Account: acc["D-YTOR"], Health: digestHealth(20, csbot.BandRed), WasBand: csbot.BandYellow},
		},
		RedARR:    csbot.Cents((500000 + 400000 + 100000) * 100),
		YellowARR: csbot.Cents((300000 + 200000) * 100),
		Renewals: []csbot.DigestAccount{
			{Account: acc["D-REDOLD"], Health: digestHealth(32, csbot.BandRed), Renewal: &csbot.RenewalBrief{
				ID: b.renewals["RN-REDOLD"], Date: date(2027, 1, 31), ARR: 400000 * 100, DaysLeft: 69,
				Contact: "Rita Renewal", ContactRef: "CFO"}},
			{Account: acc["D-RECOV"], Health: digestHealth(55, csbot.BandYellow), Renewal: &csbot.RenewalBrief{
				ID: b.renewals["RN-RECOV-END"], Date: date(2027, 2, 21), ARR: 200000 * 100, DaysLeft: 90}},
			{Account: acc["D-NEW"], Renewal: &csbot.RenewalBrief{
				ID: b.renewals["RN-NEW"], Date: date(2026, 12, 23), ARR: 50000 * 100, AutoRenew: true, DaysLeft: 30}},
		},
		Unacked: []csbot.DigestAlert{
			alert("stale-escalated", "D-TURNR", utcTime(2026, 11, 19, 20, 0), 3),
			alert("stale-digest", "D-REDOLD", utcTime(2026, 11, 10, 9, 0), 12),
			alert("stale-open", "D-YTOR", utcTime(2026, 11, 18, 8, 0), 5),
		},
		OpenHandoffs: 1,
		CSMs: []csbot.DigestCSM{
			{CSM: "U0LA", Name: "Lou Pacific", Accounts: 3, ARR: (500000 + 400000 + 800000) * 100, Red: 2},
			{CSM: "U0NOZ", Name: "Nora Nozone", Accounts: 3, ARR: (300000 + 100000 + 200000) * 100, Red: 1, Yellow: 2},
			{CSM: "U0MGR", Name: "Mia Manager", Accounts: 1, ARR: 50000 * 100},
			{CSM: "U0IDLE", Name: "Ida Idle"},
		},
		At: digestNow,
	}
	p := csbot.DefaultPolicy()
	got, err := b.s.Digest(ctx, "U0MGR", digestNow, p)
	if err != nil {
		t.Fatalf("Digest: %v", err)
	}
	if diff := cmp.Diff(want, normalizeDigest(got)); diff != "" {
		t.Errorf("Digest(U0MGR) (-want +got):\n%s", diff)
	}

	// An hour earlier the digest of the week before is the one due.
	got, err = b.s.Digest(ctx, "U0MGR", digestNow.Add(-time.Hour), p)
	if err != nil {
		t.Fatalf("Digest: %v", err)
	}
	if got.Week != "2026-W47" {
		t.Errorf("Digest at Monday 08:00 Berlin: week %s, want 2026-W47", got.Week)
	}

	// Policy: alerts unacknowledged for more than 4 days leave the one of
	// 3.5 days out.
	p.Notifications.UnackedDigestDays = 4
	got, err = b.s.Digest(ctx, "U0MGR", digestNow, p)
	if err != nil {
		t.Fatalf("Digest: %v", err)
	}
	if diff := cmp.Diff(want.Unacked[1:], normalizeDigest(got).Unacked); diff != "" {
		t.Errorf("Digest with unacked_digest_days 4: unacked (-want +got):\n%s", diff)
	}

	for _, who := range []string{"U0LA", "U0NOBODY"} {
		if _, err := b.s.Digest(ctx, who, digestNow, csbot.DefaultPolicy()); !errors.Is(err, csbot.ErrNotFound) {
			t.Errorf("Digest(%s) error = %v, want csbot.ErrNotFound", who, err)
		}
	}
}

// TestDigestCapsLists checks that each list holds the 20 largest entries.
func TestDigestCapsLists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", digestUsers)
	// 25 accounts of U0LA, ARR 1..25 thousand, green a week ago and red
	// now, each with a renewal and an old open alert.
	dueExec(ctx, t, conn, `
INSERT INTO accounts (external_id, name, tier, arr_cents, csm_slack_id)
SELECT 'CAP-' || g, 'Cap ' || g, 'high', g * 100000, 'U0LA' FROM generate_series(1, 25) g;
INSERT INTO health_scores (account_id, day, computed_at, score, band)
SELECT id, '2026-11-16', '2026-11-16', 90, 'green' FROM accounts;
INSERT INTO health_scores (account_id, day, computed_at, score, band)
SELECT id, '2026-11-23', '2026-11-23', 10, 'red' FROM accounts;
INSERT INTO renewals (external_id, account_id, renewal_date, arr_cents)
SELECT 'R-' || external_id, id, '2026-12-31', arr_cents FROM accounts;
INSERT INTO alerts (account_id, kind, dedupe_key, state, routed, created_at)
SELECT id, 'no_touch', 'no_touch:' || id || ':60#1', 'open', 'channel', '2026-11-01' FROM accounts`)
	d, err := s.Digest(ctx, "U0MGR", digestNow, csbot.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Turned) != 20 || len(d.Renewals) != 20 || len(d.Unacked) != 20 {
		t.Fatalf("%d turned, %d renewals, %d unacked; want 20 each", len(d.Turned), len(d.Renewals), len(d.Unacked))
	}
	for i := range 20 {
		want := "CAP-" + strconv.Itoa(25-i)
		if d.Turned[i].Account.ExternalID != want || d.Renewals[i].Account.ExternalID != want || d.Unacked[i].Account.ExternalID != want {
			t.Errorf("entry %d: turned %s, renewal %s, unacked %s; want %s in each", i, d.Turned[i].Account.ExternalID,
				d.Renewals[i].Account.ExternalID, d.Unacked[i].Account.ExternalID, want)
		}
	}
	if d.RedARR != csbot.Cents(325*100000) || len(d.CSMs) != 3 || d.CSMs[0].Accounts != 25 || d.CSMs[0].Red != 25 {
		t.Errorf("red ARR %d, CSMs %+v; want every account counted: %d red, U0LA with 25 red", d.RedARR, d.CSMs, 325*100000)
	}
}

// normalizeDigest puts the times of d in UTC, for comparison.
func normalizeDigest(d csbot.DigestMessage) csbot.DigestMessage {
	d.At = d.At.UTC()
	for i := range d.Unacked {
		d.Unacked[i].Since = d.Unacked[i].Since.UTC()
	}
	for i := range d.Renewals {
		if r := d.Renewals[i].Renewal; r != nil {
			r.Date = r.Date.UTC()
		}
	}
	return d
}

// queueDigests runs one pass and decodes what it wrote.
func queueDigests(ctx context.Context, t *testing.T, s *store.Store, run csbot.DueRun) (csbot.RunResult, []csbot.DigestMessage) {
	t.Helper()
	res, err := s.QueueDigests(ctx, run)
	if err != nil {
		t.Fatalf("QueueDigests(%v): %v", run.Now, err)
	}
	var out []csbot.DigestMessage
	for _, n := range res.Notifications {
		var d csbot.DigestMessage
		if err := json.Unmarshal(n.Payload, &d); err != nil {
			t.Fatalf("payload of %s: %v", n.Key, err)
		}
		want := "digest:" + d.Manager + ":" + d.Week
		if n.Kind != csbot.NotifyDigest || n.Key != want || n.User != d.Manager || n.Channel != "" || n.AccountID != 0 ||
			!n.NotBefore.Equal(run.Now) {
			t.Errorf("notification %+v; want a digest DM to %s keyed %s, not before %v", n, d.Manager, want, run.Now)
		}
		out = append(out, d)
	}
	return res, out
}

// TestQueueDigests runs passes around each manager's Monday 09:00 and
// checks that each gets each week's digest once, at their own 09:00.
func TestQueueDigests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newDigestBook(ctx, t)
	p := csbot.DefaultPolicy()
	run := func(at time.Time, dry bool) (csbot.RunResult, []string) {
		t.Helper()
		res, ds := queueDigests(ctx, t, b.s, csbot.DueRun{Now: at, Policy: p, Zone: time.UTC, DryRun: dry})
		var keys []string
		for _, d := range ds {
			keys = append(keys, d.Manager+":"+d.Week)
		}
		return res, keys
	}
	stored := func() int {
		return dueInt(ctx, t, b.conn, `SELECT count(*) FROM notifications WHERE kind = 'digest'`)
	}
	kolkata := dueZone(t, "Asia/Kolkata")
	berlin := dueZone(t, "Europe/Berlin")

	steps := []struct {
		name   string
		at     time.Time
		dry    bool
		want   []string
		counts map[string]int
	}{
		// The first pass ever writes the digests of the week before, once;
		// the manager without a team gets none.
		{"first pass, Sunday", time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), false,
			[]string{"U0MGR:2026-W47", "U0MGRK:2026-W47"}, map[string]int{"digests": 2, "empty": 1, "already": 0}},
		{"Kolkata 08:59", time.Date(2026, 11, 23, 8, 59, 0, 0, kolkata), false,
			nil, map[string]int{"digests": 0, "empty": 1, "already": 2}},
		{"Kolkata 09:00", time.Date(2026, 11, 23, 9, 0, 0, 0, kolkata), false,
			[]string{"U0MGRK:2026-W48"}, map[string]int{"digests": 1, "empty": 1, "already": 1}},
		{"Berlin 08:59", time.Date(2026, 11, 23, 8, 59, 0, 0, berlin), false,
			nil, map[string]int{"digests": 0, "empty": 1, "already": 2}},
		{"Berlin 09:00, dry run", time.Date(2026, 11, 23, 9, 0, 0, 0, berlin), true,
			[]string{"U0MGR:2026-W48"}, map[string]int{"digests": 1, "empty": 1, "already": 1}},
		{"Berlin 09:00", time.Date(2026, 11, 23, 9, 0, 0, 0, berlin), false,
			[]string{"U0MGR:2026-W48"}, map[string]int{"digests": 1, "empty": 1, "already": 1}},
		{"Berlin 09:15", time.Date(2026, 11, 23, 9, 15, 0, 0, berlin), false,
			nil, map[string]int{"digests": 0, "empty": 1, "already": 2}},
		// Down from Sunday to Thursday: the week's digests, once.
		{"Thursday after three days down", time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC), false,
			[]string{"U0MGR:2026-W49", "U0MGRK:2026-W49"}, map[string]int{"digests": 2, "empty": 1, "already": 0}},
		{"Thursday, later", time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC), false,
			nil, map[string]int{"digests": 0, "empty": 1, "already": 2}},
	}
	total := 0
	for _, st := range steps {
		res, keys := run(st.at, st.dry)
		if diff := cmp.Diff(st.want, keys); diff != "" {
			t.Errorf("%s: digests (-want +got):\n%s", st.name, diff)
		}
		if diff := cmp.Diff(st.counts, res.Counts); diff != "" {
			t.Errorf("%s: counts (-want +got):\n%s", st.name, diff)
		}
		for _, n := range res.Notifications {
			if (n.ID == 0) != st.dry {
				t.Errorf("%s: notification %s has id %d; want an id unless a dry run", st.name, n.Key, n.ID)
			}
		}
		if !st.dry {
			total += len(keys)
		}
		if got := stored(); got != total {
			t.Errorf("%s: %d digests stored, want %d", st.name, got, total)
		}
	}

	// What was written at Berlin 09:00 is the digest Digest gives then.
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, berlin)
	want, err := b.s.Digest(ctx, "U0MGR", at, p)
	if err != nil {
		t.Fatal(err)
	}
	var payload []byte
	if err := b.conn.QueryRow(ctx, `SELECT payload FROM notifications WHERE dedupe_key = 'digest:U0MGR:2026-W48'`).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	var got csbot.DigestMessage
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(normalizeDigest(want), normalizeDigest(got)); diff != "" {
		t.Errorf("stored digest (-Digest +stored):\n%s", diff)
	}
	if len(got.Turned) != 3 || got.CSMs[0].CSM != "U0LA" {
		t.Errorf("stored digest %+v; want the fixture's three turned accounts", got)
	}
	// Its delivery job went in with it.
	if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM river_job WHERE kind = 'csbot_deliver'`); n != total {
		t.Errorf("%d delivery jobs, want %d", n, total)
	}
}

// TestQueueDigestsZoneFallback: a manager without a zone, or with one Go
// does not know, gets the digest at 09:00 in run.Zone.
func TestQueueDigestsZoneFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", `slack_id,role,name,manager_slack_id,timezone
U0NOZONE,manager,No Zone,,
U0CSM,csm,Cee Ess,U0NOZONE,
`)
	mustImport(ctx, t, s, "accounts", `external_id,name,tier,arr,csm
Z-1,Zed,high,1000,U0CSM
`)
	// A zone name that went stale after import.
	dueExec(ctx, t, conn, `INSERT INTO users (slack_id, role, name, timezone) VALUES ('U0BADZONE', 'manager', 'Bad Zone', 'Mars/Olympus')`)
	dueExec(ctx, t, conn, `INSERT INTO accounts (external_id, name, tier, arr_cents, csm_slack_id) VALUES ('Z-2', 'Zed Two', 'low', 100, 'U0BADZONE')`)
	ny := dueZone(t, "America/New_York")
	p := csbot.DefaultPolicy()
	// Seed last week's digests.
	queueDigests(ctx, t, s, csbot.DueRun{Now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC), Policy: p, Zone: ny})
	res, _ := queueDigests(ctx, t, s, csbot.DueRun{Now: time.Date(2026, 11, 23, 8, 59, 0, 0, ny), Policy: p, Zone: ny})
	if res.Counts["digests"] != 0 {
		t.Errorf("at 08:59 New York: %d digests, want none", res.Counts["digests"])
	}
	_, ds := queueDigests(ctx, t, s, csbot.DueRun{Now: time.Date(2026, 11, 23, 9, 0, 0, 0, ny), Policy: p, Zone: ny})
	var got []string
	for _, d := range ds {
		got = append(got, d.Manager+":"+d.Week)
	}
	if diff := cmp.Diff([]string{"U0BADZONE:2026-W48", "U0NOZONE:2026-W48"}, got); diff != "" {
		t.Errorf("at 09:00 New York (-want +got):\n%s", diff)
	}
}
