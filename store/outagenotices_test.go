package store_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/google/go-cmp/cmp"
)

const outageUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0CSM,csm,Sam Csm,sam@vendor.example,,America/New_York
`

// outageAccounts: high and low touch accounts with a channel, one with a
// CSM and no channel, one with neither; a tech-touch and a churned one.
const outageAccounts = `external_id,name,tier,arr,stage,csm,channel
O-HIGH,High Co,high,500000,adopting,U0CSM,C0HIGH
O-LOW,Low Co,low,50000,adopting,U0CSM,C0LOW
O-DM,Direct Co,low,40000,adopting,U0CSM,
O-NONE,Nobody Co,high,30000,adopting,,
O-TECH,Tech Co,tech,500,adopting,U0CSM,C0TECH
O-CHURN,Churned Co,high,900000,churned,U0CSM,C0CHURN
`

// outageNow is when the fixture's passes run.
var outageNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// outageNotice is a notice as a test compares it.
type outageNotice struct {
	Key, Channel, User, Fallback string
	Account                      string // external id
	Outage                       string // external id
	Global, Ongoing              bool
	Duration                     time.Duration
	Ended                        bool
}

// TestQueueOutageNotices checks which outages notify which accounts,
// where, and once.
func TestQueueOutageNotices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", outageUsers)
	mustImport(ctx, t, s, "accounts", outageAccounts)
	mustImport(ctx, t, s, "outages", `external_id,started_at,ended_at,account_external_id,severity,summary
OUT-ACC,2026-11-23T10:00:00Z,,O-HIGH,major,API errors
OUT-GLOBAL,2026-11-23T09:00:00Z,2026-11-23T11:00:00Z,,critical,Login down
OUT-LONG,2026-11-20T12:00:00Z,,O-LOW,minor,Slow exports
OUT-OLD,2026-11-20T12:00:00Z,2026-11-21T12:00:00Z,O-HIGH,minor,Old one
OUT-ANCIENT,2026-11-15T12:00:00Z,,O-HIGH,minor,Still open after a week
OUT-YESTERDAY,2026-11-22T11:59:59Z,2026-11-22T12:30:00Z,O-LOW,minor,Just over a day ago
OUT-LATER,2026-11-23T13:00:00Z,,O-HIGH,minor,Not yet
OUT-TECH,2026-11-23T10:00:00Z,,O-TECH,minor,Tech only
OUT-CHURN,2026-11-23T10:00:00Z,,O-CHURN,minor,Churned only
OUT-ENDS-LATER,2026-11-23T11:00:00Z,2026-11-23T15:00:00Z,O-DM,minor,Ends after now
`)
	accounts := dueAccounts(ctx, t, conn)
	outageIDs := map[int64]string{}
	rows, err := conn.Query(ctx, `SELECT id, external_id FROM outages`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var ext string
		if err := rows.Scan(&id, &ext); err != nil {
			t.Fatal(err)
		}
		outageIDs[id] = ext
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	idOf := map[string]int64{}
	for id, ext := range outageIDs {
		idOf[ext] = id
	}
	key := func(outage, account string) string {
		return "outage:" + strconv.FormatInt(idOf[outage], 10) + ":" + strconv.FormatInt(accounts[account].ID, 10)
	}

	want := []outageNotice{
		{Key: key("OUT-LONG", "O-LOW"), Channel: "C0LOW", Fallback: "U0CSM", Account: "O-LOW", Outage: "OUT-LONG",
			Ongoing: true, Duration: 72 * time.Hour},
		{Key: key("OUT-GLOBAL", "O-HIGH"), Channel: "C0HIGH", Fallback: "U0CSM", Account: "O-HIGH", Outage: "OUT-GLOBAL",
			Global: true, Duration: 2 * time.Hour, Ended: true},
		{Key: key("OUT-GLOBAL", "O-LOW"), Channel: "C0LOW", Fallback: "U0CSM", Account: "O-LOW", Outage: "OUT-GLOBAL",
			Global: true, Duration: 2 * time.Hour, Ended: true},
		{Key: key("OUT-GLOBAL", "O-DM"), User: "U0CSM", Fallback: "U0CSM", Account: "O-DM", Outage: "OUT-GLOBAL",
			Global: true, Duration: 2 * time.Hour, Ended: true},
		{Key: key("OUT-ACC", "O-HIGH"), Channel: "C0HIGH", Fallback: "U0CSM", Account: "O-HIGH", Outage: "OUT-ACC",
			Ongoing: true, Duration: 2 * time.Hour},
		{Key: key("OUT-ENDS-LATER", "O-DM"), User: "U0CSM", Fallback: "U0CSM", Account: "O-DM", Outage: "OUT-ENDS-LATER",
			Ongoing: true, Duration: time.Hour},
	}
	p := csbot.DefaultPolicy()
	stored := func() int {
		return dueInt(ctx, t, conn, `SELECT count(*) FROM notifications WHERE kind = 'outage'`)
	}
	pass := func(name string, dry bool) []outageNotice {
		t.Helper()
		res, err := s.QueueOutageNotices(ctx, csbot.DueRun{Now: outageNow, Policy: p, Zone: time.UTC, DryRun: dry})
		if err != nil {
			t.Fatalf("%s: QueueOutageNotices: %v", name, err)
		}
		var got []outageNotice
		for _, n := range res.Notifications {
			var m csbot.OutageMessage
			if err := json.Unmarshal(n.Payload, &m); err != nil {
				t.Fatal(err)
			}
			if n.Kind != csbot.NotifyOutage || n.AccountID != m.Account.ID || (n.ID == 0) != dry || !m.At.Equal(outageNow) ||
				m.Account != accounts[m.Account.ExternalID] || m.Outage.ID == 0 || m.Global != (m.Outage.AccountID == 0) {
				t.Errorf("%s: notification %+v with message %+v; want an outage notice about its account", name, n, m)
			}
			got = append(got, outageNotice{Key: n.Key, Channel: n.Channel, User: n.User, Fallback: n.FallbackUser,
				Account: m.Account.ExternalID, Outage: outageIDs[m.Outage.ID], Global: m.Global, Ongoing: m.Ongoing,
				Duration: m.Duration, Ended: !m.Outage.EndedAt.IsZero()})
		}
		if res.Counts["outage_notices"] != len(got) || res.Counts["unrouted"] != 1 {
			t.Errorf("%s: counts %v; want %d outage_notices and 1 unrouted (O-NONE)", name, res.Counts, len(got))
		}
		return got
	}

	if diff := cmp.Diff(want, pass("dry run", true)); diff != "" {
		t.Errorf("dry run: notices (-want +got):\n%s", diff)
	}
	if n := stored(); n != 0 {
		t.Errorf("dry run stored %d notices, want none", n)
	}
	if diff := cmp.Diff(want, pass("first pass", false)); diff != "" {
		t.Errorf("first pass: notices (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]outageNotice(nil), pass("second pass", false)); diff != "" {
		t.Errorf("second pass: notices (-want +got):\n%s", diff)
	}
	if n := stored(); n != len(want) {
		t.Errorf("%d notices stored, want %d", n, len(want))
	}

	// The message of the account outage in full.
	var payload []byte
	if err := conn.QueryRow(ctx, `SELECT payload FROM notifications WHERE dedupe_key = $1`, key("OUT-ACC", "O-HIGH")).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	var m csbot.OutageMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	m.At, m.Outage.StartedAt = m.At.UTC(), m.Outage.StartedAt.UTC()
	wantMsg := csbot.OutageMessage{
		Account: accounts["O-HIGH"],
		Outage: csbot.Outage{ID: idOf["OUT-ACC"], ExternalID: "OUT-ACC", AccountID: accounts["O-HIGH"].ID,
			StartedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Severity: "major", Summary: "API errors"},
		Ongoing:  true,
		Duration: 2 * time.Hour,
		At:       outageNow,
	}
	if diff := cmp.Diff(wantMsg, m); diff != "" {
		t.Errorf("message of OUT-ACC (-want +got):\n%s", diff)
	}

	// A new account gets the notices of the outages still in the window.
	dueExec(ctx, t, conn, `INSERT INTO accounts (external_id, name, tier, arr_cents, slack_channel_id) VALUES ('O-NEW', 'New Co', 'high', 100, 'C0NEW')`)
	accounts = dueAccounts(ctx, t, conn)
	got := pass("after a new account", false)
	if len(got) != 1 || got[0].Account != "O-NEW" || got[0].Outage != "OUT-GLOBAL" || got[0].Channel != "C0NEW" {
		t.Errorf("after a new account: %+v; want OUT-GLOBAL's notice to O-NEW's channel", got)
	}
}

// TestQueueOutageNoticesGlobalIsSetBased: a global outage over a large
// book notifies every account once, and a second pass reads nothing.
func TestQueueOutageNoticesGlobalIsSetBased(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	const n = 2000
	dueExec(ctx, t, conn, `
INSERT INTO accounts (external_id, name, tier, arr_cents, slack_channel_id)
SELECT 'G-' || g, 'Global ' || g, CASE WHEN g % 4 = 0 THEN 'tech' WHEN g % 2 = 0 THEN 'low' ELSE 'high' END,
       g * 100, 'C0G' || g
  FROM generate_series(1, $1::integer) g`, n)
	dueExec(ctx, t, conn, `INSERT INTO outages (external_id, started_at) VALUES ('OUT-ALL', $1)`, outageNow.Add(-30*time.Minute))
	run := csbot.DueRun{Now: outageNow, Policy: csbot.DefaultPolicy(), Zone: time.UTC}
	res, err := s.QueueOutageNotices(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Counts["outage_notices"]; got != n*3/4 {
		t.Errorf("%d notices, want %d (every account but tech touch)", got, n*3/4)
	}
	if got := dueInt(ctx, t, conn, `SELECT count(DISTINCT target_channel) FROM notifications WHERE kind = 'outage'`); got != n*3/4 {
		t.Errorf("%d channels notified, want %d", got, n*3/4)
	}
	if got := dueInt(ctx, t, conn, `SELECT count(*) FROM river_job WHERE kind = 'csbot_deliver'`); got != n*3/4 {
		t.Errorf("%d delivery jobs, want %d", got, n*3/4)
	}
	res, err = s.QueueOutageNotices(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notifications) != 0 {
		t.Errorf("second pass wrote %d notices, want none", len(res.Notifications))
	}
}
