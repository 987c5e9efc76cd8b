package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// homeUsers: a manager with two CSMs with accounts and one without; an
// onboarding person; a CSM of another team; an account executive; admins.
const homeUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0MGR,manager,Mia Manager,mia@vendor.example,,Europe/Berlin
U0CSMA,csm,Ann Able,ann@vendor.example,U0MGR,America/New_York
U0CSMB,csm,Ben Baker,ben@vendor.example,U0MGR,
U0IDLE,csm,Ida Idle,ida@vendor.example,U0MGR,
U0ONB,onboarding,Ola Onboard,ola@vendor.example,,
U0OTHER,csm,Oz Other,oz@vendor.example,,
U0AE,sales,Sal Seller,sal@vendor.example,,
U0ADM2,admin,zed Admin,zed@vendor.example,,
U0ADM,admin,Ada Admin,ada@vendor.example,,
`

// homeAccounts: Ann has five accounts and a churned one; Ben one; Oz,
// of another team, one.
const homeAccounts = `external_id,name,tier,arr,stage,csm,ae
H-RED,Red Co,high,500000,adopting,U0CSMA,
H-RED2,Redder Co,low,100000,adopting,U0CSMA,
H-YEL,Yellow Co,low,300000,adopting,U0CSMA,U0AE
H-GRN,Green Co,high,800000,expanding,U0CSMA,
H-NEW,New Co,tech,50000,onboarding,U0CSMA,
H-CHURN,Gone Co,high,900000,churned,U0CSMA,
H-BEN,Ben Co,low,200000,adopting,U0CSMB,
H-OTH,Other Co,high,700000,adopting,U0OTHER,
`

// homeRenewals, as seen on 2026-11-23 (window 2026-08-25..2027-02-21):
// Ann's are RN-PAST (overdue), RN-RED, RN-YEL and RN-GRN-END (the last
// day); the team's at risk add RN-BEN but not the green RN-GRN-END.
const homeRenewals = `external_id,account_external_id,renewal_date,arr,auto_renew,status
RN-PAST,H-RED2,2026-11-01,100000,false,open
RN-RED,H-RED,2026-12-15,500000,true,open
RN-YEL,H-YEL,2027-01-10,300000,false,open
RN-GRN-END,H-GRN,2027-02-21,800000,false,open
RN-GRN-OLD,H-GRN,2026-06-01,800000,false,open
RN-GRN-FAR,H-GRN,2027-06-01,800000,false,open
RN-NEW,H-NEW,2026-12-01,50000,false,renewed
RN-BEN,H-BEN,2026-12-20,200000,false,open
RN-OTH,H-OTH,2026-12-05,700000,false,open
`

// homeNow is Monday 2026-11-23 10:00 UTC.
var homeNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// homeBook is the App Home fixture.
type homeBook struct {
	conn     *pgx.Conn
	accounts map[string]csbot.AccountBrief
	handoffs map[string]int64
}

// newHomeBook returns a store holding the App Home fixture: users,
// accounts, renewals, contacts, snapshots, alerts, snoozes and handoffs.
func newHomeBook(ctx context.Context, t *testing.T) (*store.Store, homeBook) {
	t.Helper()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", homeUsers)
	mustImport(ctx, t, s, "accounts", homeAccounts)
	mustImport(ctx, t, s, "renewals", homeRenewals)
	mustImport(ctx, t, s, "contacts", `account_external_id,name,role,email,title,active
H-RED,Rita Renewal,renewal,rita@red.example,CFO,true
H-YEL,Yuri Gone,renewal,yuri@yellow.example,CEO,false
H-BEN,Bea Billing,billing,bea@ben.example,,true
`)
	b := homeBook{conn: conn, accounts: dueAccounts(ctx, t, conn), handoffs: map[string]int64{}}

	for _, sn := range []struct {
		account string
		day     time.Time
		score   int
		band    csbot.Band
	}{
		{"H-RED", date(2026, 11, 1), 60, csbot.BandYellow},
		{"H-RED", date(2026, 11, 22), 35, csbot.BandRed},
		{"H-RED2", date(2026, 11, 22), 20, csbot.BandRed},
		{"H-YEL", date(2026, 11, 22), 55, csbot.BandYellow},
		{"H-GRN", date(2026, 11, 22), 88, csbot.BandGreen},
		{"H-CHURN", date(2026, 11, 22), 10, csbot.BandRed},
		{"H-BEN", date(2026, 11, 22), 50, csbot.BandYellow},
		{"H-OTH", date(2026, 11, 22), 10, csbot.BandRed},
	} {
		dueExec(ctx, t, conn, `INSERT INTO health_scores (account_id, day, computed_at, score, band, components)
			VALUES ($1, $2, $3, $4, $5, '{}')`, b.accounts[sn.account].ID, sn.day, sn.day, sn.score, sn.band)
	}

	for _, a := range []struct {
		name     string
		account  string
		kind     csbot.SignalKind
		severity csbot.SignalSeverity
		state    csbot.AlertState
		routed   csbot.Route
		created  time.Time
	}{
		{"crit", "H-RED", csbot.SignalUsageDrop, csbot.SignalCritical, csbot.AlertOpen, csbot.RouteChannel, utcTime(2026, 11, 20, 9, 0)},
		{"warn-old", "H-YEL", csbot.SignalTicketSpike, csbot.SignalWarning, csbot.AlertEscalated, csbot.RouteDM, utcTime(2026, 11, 10, 9, 0)},
		{"snooze-over", "H-YEL", csbot.SignalNoTouch, csbot.SignalWarning, csbot.AlertOpen, csbot.RouteChannel, utcTime(2026, 11, 15, 9, 0)},
		{"warn-new", "H-RED", csbot.SignalTicketSpike, csbot.SignalWarning, csbot.AlertOpen, csbot.RouteDigest, utcTime(2026, 11, 22, 9, 0)},
		{"info", "H-GRN", csbot.SignalUsageDrop, csbot.SignalInfo, csbot.AlertOpen, csbot.RouteChannel, utcTime(2026, 11, 1, 9, 0)},
		{"kind-snoozed", "H-GRN", csbot.SignalInvoiceOverdue, csbot.SignalCritical, csbot.AlertOpen, csbot.RouteChannel, utcTime(2026, 11, 1, 9, 0)},
		{"acked", "H-RED", csbot.SignalNoTouch, csbot.SignalCritical, csbot.AlertAcknowledged, csbot.RouteChannel, utcTime(2026, 11, 1, 9, 0)},
		{"resolved", "H-RED", csbot.SignalDetractor, csbot.SignalCritical, csbot.AlertResolved, csbot.RouteChannel, utcTime(2026, 11, 1, 9, 0)},
		{"snoozed", "H-RED2", csbot.SignalDetractor, csbot.SignalCritical, csbot.AlertSnoozed, "snoozed", utcTime(2026, 11, 1, 9, 0)},
		{"off", "H-RED2", csbot.SignalNoTouch, csbot.SignalCritical, csbot.AlertOpen, csbot.RouteOff, utcTime(2026, 11, 1, 9, 0)},
		{"churned", "H-CHURN", csbot.SignalUsageDrop, csbot.SignalCritical, csbot.AlertOpen, csbot.RouteChannel, utcTime(2026, 11, 1, 9, 0)},
		{"ben", "H-BEN", csbot.SignalUsageDrop, csbot.SignalCritical, csbot.AlertOpen, csbot.RouteChannel, utcTime(2026, 11, 1, 9, 0)},
	} {
		dueInsertAlert(ctx, t, conn, dueAlertSpec{
			account: b.accounts[a.account].ID, kind: a.kind, severity: a.severity,
			key: string(a.kind) + ":" + a.name + "#1", evidence: "evidence of " + a.name,
			state: a.state, routed: a.routed, created: a.created,
		})
	}
	// A snooze running at homeNow, and one that ended.
	dueExec(ctx, t, conn, `INSERT INTO alert_snoozes (account_id, kind, until, by_slack_id) VALUES
		($1, 'invoice_overdue', '2026-11-30T00:00:00Z', 'U0CSMA'), ($2, 'no_touch', '2026-11-20T00:00:00Z', 'U0CSMA')`,
		b.accounts["H-GRN"].ID, b.accounts["H-YEL"].ID)

	for _, h := range []struct {
		name, account, owner, state string
		created                     time.Time
	}{
		{"new", "H-NEW", "U0ONB", "open", utcTime(2026, 11, 18, 9, 0)},
		{"yel", "H-YEL", "U0CSMA", "open", utcTime(2026, 11, 19, 9, 0)},
		{"oth", "H-OTH", "", "open", utcTime(2026, 11, 10, 9, 0)},
		{"red", "H-RED", "U0CSMA", "acknowledged", utcTime(2026, 11, 1, 9, 0)},
	} {
		var id int64
		if err := conn.QueryRow(ctx, `INSERT INTO handoffs (account_id, author_slack_id, owner_slack_id, state, created_at)
			VALUES ($1, 'U0AE', nullif($2, ''), $3, $4) RETURNING id`,
			b.accounts[h.account].ID, h.owner, h.state, h.created).Scan(&id); err != nil {
			t.Fatalf("insert handoff %s: %v", h.name, err)
		}
		b.handoffs[h.name] = id
	}
	return s, b
}

// homeSummary is what the tests compare of a home: names and counts.
type homeSummary struct {
	Book          []string
	BookTotal     int
	ByBand        map[csbot.Band]int
	Renewals      []string
	RenewalsTotal int
	NoContact     int
	Contacts      []string
	Alerts        []string
	AlertsTotal   int
	Handoffs      []string
	HandoffsTotal int
}

// homeSummarize returns the names and counts of d.
func homeSummarize(d csbot.HomeData) homeSummary {
	var s homeSummary
	for _, e := range d.Book.Accounts {
		s.Book = append(s.Book, e.Account.ExternalID)
	}
	s.BookTotal, s.ByBand = d.Book.Total, d.Book.ByBand
	for _, l := range d.Renewals.Lines {
		s.Renewals = append(s.Renewals, l.Renewal.ExternalID)
		s.Contacts = append(s.Contacts, l.Contact.Name)
	}
	s.RenewalsTotal, s.NoContact = d.Renewals.Total, d.Renewals.NoContact
	for _, a := range d.Alerts.Items {
		s.Alerts = append(s.Alerts, a.Evidence)
	}
	s.AlertsTotal = d.Alerts.Total
	for _, h := range d.Handoffs.Items {
		s.Handoffs = append(s.Handoffs, h.Account.ExternalID)
	}
	s.HandoffsTotal = d.Handoffs.Total
	return s
}

// homeQuery is the query of slackID's home at homeNow.
func homeQuery(slackID string, role csbot.UserRole) csbot.HomeQuery {
	return csbot.HomeQueryFor(csbot.User{SlackID: slackID, Role: role}, date(2026, 11, 23), homeNow)
}

func TestHomeViewCSM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, b := newHomeBook(ctx, t)

	d, err := s.HomeView(ctx, homeQuery("U0CSMA", csbot.UserCSM))
	if err != nil {
		t.Fatalf("HomeView: %v", err)
	}
	want := homeSummary{
		Book:      []string{"H-RED2", "H-RED", "H-YEL", "H-GRN", "H-NEW"},
		BookTotal: 5,
		ByBand:    map[csbot.Band]int{csbot.BandRed: 2, csbot.BandYellow: 1, csbot.BandGreen: 1, "": 1},
		Renewals:  []string{"RN-PAST", "RN-RED", "RN-YEL", "RN-GRN-END"}, RenewalsTotal: 4, NoContact: 3,
		Contacts: []string{"", "Rita Renewal", "", ""},
		Alerts: []string{"evidence of crit", "evidence of warn-old", "evidence of snooze-over", "evidence of warn-new",
			"evidence of info"},
		AlertsTotal: 5,
		Handoffs:    []string{"H-YEL"}, HandoffsTotal: 1,
	}
	if diff := cmp.Diff(want, homeSummarize(d)); diff != "" {
		t.Errorf("Ann's home (-want +got):\n%s", diff)
	}
	var arr csbot.Cents
	for _, ext := range want.Book {
		arr += b.accounts[ext].ARR
	}
	if d.Book.ARR != arr {
		t.Errorf("book ARR = %v, want %v", d.Book.ARR, arr)
	}
	if got := d.Book.Accounts[1]; got.Health.Score != 35 || got.Health.Band != csbot.BandRed || got.NextRenewal.ExternalID != "RN-RED" {
		t.Errorf("Red Co = %+v, want its latest snapshot (35, red) and RN-RED next", got)
	}
	if got := d.Book.Accounts[4]; !got.Health.Day.IsZero() || got.NextRenewal.ID != 0 {
		t.Errorf("New Co = %+v, want no snapshot and no open renewal", got)
	}
	if got, want := d.Renewals.ARR, csbot.Cents(100000+500000+300000+800000)*100; got != want {
		t.Errorf("renewals ARR = %v, want %v", got, want)
	}
	if got := d.Alerts.Items[0]; got.Kind != csbot.SignalUsageDrop || got.Severity != csbot.SignalCritical ||
		got.Account.ExternalID != "H-RED" || !got.Since.Equal(utcTime(2026, 11, 20, 9, 0)) {
		t.Errorf("first alert = %+v", got)
	}
	if got := d.Handoffs.Items[0]; got.ID != b.handoffs["yel"] || got.Author != "U0AE" || got.Owner != "U0CSMA" {
		t.Errorf("handoff = %+v", got)
	}
	if d.Team != nil {
		t.Errorf("a CSM's home has a team: %+v", d.Team)
	}
}

func TestHomeViewManager(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, b := newHomeBook(ctx, t)

	d, err := s.HomeView(ctx, homeQuery("U0MGR", csbot.UserManager))
	if err != nil {
		t.Fatalf("HomeView: %v", err)
	}
	if d.Book.Total != 0 || len(d.Book.Accounts) != 0 || d.Renewals.Total != 0 || d.Alerts.Total != 0 {
		t.Errorf("Mia owns nothing, got book %+v, renewals %+v, alerts %+v", d.Book, d.Renewals, d.Alerts)
	}
	if d.Team == nil {
		t.Fatal("a manager's home has no team")
	}
	ann := []string{"H-RED", "H-RED2", "H-YEL", "H-GRN", "H-NEW"}
	var annARR, annRisk csbot.Cents
	for _, ext := range ann {
		annARR += b.accounts[ext].ARR
	}
	for _, ext := range []string{"H-RED", "H-RED2", "H-YEL"} {
		annRisk += b.accounts[ext].ARR
	}
	ben := b.accounts["H-BEN"].ARR
	wantTeam := csbot.HomeTeam{
		CSMs: []csbot.HomeCSM{
			{CSM: "U0CSMA", Name: "Ann Able", Accounts: 5, ARR: annARR, Red: 2, Yellow: 1, AtRisk: annRisk},
			{CSM: "U0CSMB", Name: "Ben Baker", Accounts: 1, ARR: ben, Yellow: 1, AtRisk: ben},
			{CSM: "U0IDLE", Name: "Ida Idle"},
		},
		TotalCSMs: 3, Accounts: 6, ARR: annARR + ben, AtRisk: annRisk + ben, Red: 2, Yellow: 2,
	}
	got := *d.Team
	var renewals []string
	for _, l := range got.Renewals.Lines {
		renewals = append(renewals, l.Renewal.ExternalID)
	}
	got.Renewals = csbot.HomeRenewals{}
	if diff := cmp.Diff(wantTeam, got); diff != "" {
		t.Errorf("Mia's team (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"RN-PAST", "RN-RED", "RN-BEN", "RN-YEL"}, renewals); diff != "" {
		t.Errorf("team renewals at risk (-want +got):\n%s", diff)
	}
	if d.Team.Renewals.Total != 4 || d.Team.Renewals.NoContact != 3 {
		t.Errorf("team renewals total %d, without contact %d; want 4 and 3", d.Team.Renewals.Total, d.Team.Renewals.NoContact)
	}
}

func TestHomeViewOthers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newHomeBook(ctx, t)

	onb, err := s.HomeView(ctx, homeQuery("U0ONB", csbot.UserOnboarding))
	if err != nil {
		t.Fatalf("HomeView(onboarding): %v", err)
	}
	if diff := cmp.Diff(homeSummary{Handoffs: []string{"H-OTH", "H-NEW", "H-YEL"}, HandoffsTotal: 3, ByBand: map[csbot.Band]int{}},
		homeSummarize(onb)); diff != "" {
		t.Errorf("onboarding's home (-want +got):\n%s", diff)
	}

	ae, err := s.HomeView(ctx, homeQuery("U0AE", csbot.UserSales))
	if err != nil {
		t.Fatalf("HomeView(sales): %v", err)
	}
	if diff := cmp.Diff(homeSummary{Renewals: []string{"RN-YEL"}, RenewalsTotal: 1, NoContact: 1, Contacts: []string{""},
		ByBand: map[csbot.Band]int{}}, homeSummarize(ae)); diff != "" {
		t.Errorf("the account executive's home (-want +got):\n%s", diff)
	}

	if _, err := s.HomeView(ctx, homeQuery("U0NOBODY", csbot.UserCSM)); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("HomeView(unknown) = %v, want csbot.ErrNotFound", err)
	}
}

func TestHomeViewLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newHomeBook(ctx, t)

	q := homeQuery("U0CSMA", csbot.UserCSM)
	q.Limit = 2
	d, err := s.HomeView(ctx, q)
	if err != nil {
		t.Fatalf("HomeView: %v", err)
	}
	want := homeSummary{
		Book: []string{"H-RED2", "H-RED"}, BookTotal: 5,
		ByBand:   map[csbot.Band]int{csbot.BandRed: 2, csbot.BandYellow: 1, csbot.BandGreen: 1, "": 1},
		Renewals: []string{"RN-PAST", "RN-RED"}, RenewalsTotal: 4, NoContact: 3, Contacts: []string{"", "Rita Renewal"},
		Alerts: []string{"evidence of crit", "evidence of warn-old"}, AlertsTotal: 5,
		Handoffs: []string{"H-YEL"}, HandoffsTotal: 1,
	}
	if diff := cmp.Diff(want, homeSummarize(d)); diff != "" {
		t.Errorf("Ann's home of 2 a list (-want +got):\n%s", diff)
	}

	q = homeQuery("U0MGR", csbot.UserManager)
	q.Limit = 1
	m, err := s.HomeView(ctx, q)
	if err != nil {
		t.Fatalf("HomeView(manager): %v", err)
	}
	if len(m.Team.CSMs) != 1 || m.Team.TotalCSMs != 3 || m.Team.CSMs[0].CSM != "U0CSMA" || m.Team.Accounts != 6 {
		t.Errorf("team of 1 a list = %+v, want Ann of 3 CSMs and 6 accounts", m.Team)
	}
	if len(m.Team.Renewals.Lines) != 1 || m.Team.Renewals.Total != 4 {
		t.Errorf("team renewals of 1 a list: %d lines of %d, want 1 of 4", len(m.Team.Renewals.Lines), m.Team.Renewals.Total)
	}
}

func TestHomeViewPrefs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, b := newHomeBook(ctx, t)
	dueExec(ctx, t, b.conn, `UPDATE users SET notify_prefs = '{"alerts": {"usage_drop": "dm", "bogus": "dm"}}' WHERE slack_id = 'U0CSMA'`)

	d, err := s.HomeView(ctx, homeQuery("U0CSMA", csbot.UserCSM))
	if err != nil {
		t.Fatalf("HomeView: %v", err)
	}
	if diff := cmp.Diff(map[csbot.SignalKind]csbot.Route{csbot.SignalUsageDrop: csbot.RouteDM}, d.Prefs.Alerts); diff != "" {
		t.Errorf("prefs (-want +got):\n%s", diff)
	}
}

func TestAdmins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newHomeBook(ctx, t)

	got, err := s.Admins(ctx, 5)
	if err != nil {
		t.Fatalf("Admins: %v", err)
	}
	var ids []string
	for _, u := range got {
		ids = append(ids, u.SlackID)
	}
	if diff := cmp.Diff([]string{"U0ADM", "U0ADM2"}, ids); diff != "" {
		t.Errorf("admins (-want +got):\n%s", diff)
	}
	if one, err := s.Admins(ctx, 1); err != nil || len(one) != 1 {
		t.Errorf("Admins(1) = %v, %v; want one", one, err)
	}
}
