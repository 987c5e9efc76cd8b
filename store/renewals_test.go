package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/google/go-cmp/cmp"
)

const bookUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0MGR,manager,Mia Manager,mia@vendor.example,,Europe/Berlin
U0CSM1,csm,Sam CSM,sam@vendor.example,U0MGR,America/New_York
U0CSM2,csm,ada Lovelace,ada@vendor.example,U0MGR,
U0AE1,sales,Alex AE,alex@vendor.example,U0MGR,
U0CSM3,csm,Other Team,other@vendor.example,U0BOSS,
`

// bookAccounts: B-1..B-7 are Sam's (B-7 churned), B-8 is Ada's with Alex as
// account executive, B-9 has neither.
const bookAccounts = `external_id,name,tier,arr,stage,csm,ae
B-1,Green Big,high,500000,adopting,U0CSM1,
B-2,Red Low Score,high,100000,adopting,U0CSM1,
B-3,Red High Score,high,900000,adopting,U0CSM1,
B-4,Yellow One,low,50000,adopting,U0CSM1,
B-5,Unscored Small,low,1000,onboarding,U0CSM1,
B-6,unscored big,low,2000,onboarding,U0CSM1,
B-7,Churned Gone,low,3000,churned,U0CSM1,
B-8,Ada Account,low,70000,renewing,U0CSM2,U0AE1
B-9,Nobody's,tech,500,adopting,,
`

const bookRenewals = `external_id,account_external_id,renewal_date,arr,start_date,auto_renew,status,outcome_reason
R-1,B-1,2026-12-15,500000,2025-12-15,true,open,
R-1old,B-1,2025-12-15,450000,2024-12-15,false,renewed,expanded seats
R-2,B-2,2026-11-10,100000,,false,open,
R-2next,B-2,2027-11-10,110000,,false,open,
R-3,B-3,2027-01-05,900000,,false,open,
R-4,B-4,2026-12-01,50000,,false,open,
R-6,B-6,2027-02-20,2000,,false,churned,budget
R-7,B-7,2026-12-20,3000,,false,open,
R-8,B-8,2026-12-01,70000,,false,open,
R-9,B-9,2027-01-31,500,,false,open,
`

const bookContacts = `account_external_id,name,role,email,title,active
B-1,Zed Renewals,renewal,zed@b1.example,Procurement,true
B-1,Amy Renewals,renewal,amy@b1.example,CFO,true
B-1,Aaron Gone,renewal,aaron@b1.example,,false
B-1,Bea Champion,champion,bea@b1.example,,true
B-8,Kim Renewals,renewal,,,true
`

// newBookStore returns a store holding the book above, its scores, and the
// ids of its accounts by external id.
func newBookStore(ctx context.Context, t *testing.T) (*store.Store, map[string]int64) {
	t.Helper()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "users", bookUsers)
	mustImport(ctx, t, s, "accounts", bookAccounts)
	mustImport(ctx, t, s, "renewals", bookRenewals)
	mustImport(ctx, t, s, "contacts", bookContacts)
	ids := map[string]int64{}
	for _, ext := range []string{"B-1", "B-2", "B-3", "B-4", "B-5", "B-6", "B-7", "B-8", "B-9"} {
		a, err := s.AccountByExternalID(ctx, ext)
		if err != nil {
			t.Fatal(err)
		}
		ids[ext] = a.ID
	}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 6, 0, 0, 0, time.UTC) }
	score := func(ext string, at time.Time, score int, band csbot.Band) csbot.HealthScore {
		return csbot.HealthScore{AccountID: ids[ext], At: at, Score: score, Band: band}
	}
	// The latest snapshot counts: B-1 was red, B-4 green, B-8 red.
	scores := []csbot.HealthScore{
		score("B-1", day(1), 20, csbot.BandRed), score("B-1", day(20), 85, csbot.BandGreen),
		score("B-2", day(20), 30, csbot.BandRed),
		score("B-3", day(20), 45, csbot.BandRed),
		score("B-4", day(1), 90, csbot.BandGreen), score("B-4", day(21), 60, csbot.BandYellow),
		score("B-7", day(20), 10, csbot.BandRed),
		score("B-8", day(2), 35, csbot.BandRed), score("B-8", day(19), 80, csbot.BandGreen),
		score("B-9", day(20), 50, csbot.BandYellow),
	}
	if _, err := s.SaveScores(ctx, scores); err != nil {
		t.Fatal(err)
	}
	return s, ids
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestPortfolio(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, ids := newBookStore(ctx, t)

	got, err := s.Portfolio(ctx, []string{"U0CSM1"})
	if err != nil {
		t.Fatalf("Portfolio: %v", err)
	}
	type entry struct {
		Account string
		Band    csbot.Band
		Score   int
		Next    string
	}
	var order []entry
	for _, e := range got {
		order = append(order, entry{e.Account.ExternalID, e.Health.Band, e.Health.Score, e.NextRenewal.ExternalID})
	}
	want := []entry{
		{"B-2", csbot.BandRed, 30, "R-2"}, // past due at the time, still the next
		{"B-3", csbot.BandRed, 45, "R-3"},
		{"B-4", csbot.BandYellow, 60, "R-4"},
		{"B-1", csbot.BandGreen, 85, "R-1"},
		{"B-6", "", 0, ""}, // unscored: ARR, largest first; its renewal is closed
		{"B-5", "", 0, ""},
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("Portfolio(U0CSM1) (-want +got):\n%s", diff)
	}
	if len(got) == len(want) {
		b1 := got[3]
		wantRenewal := csbot.Renewal{ID: b1.NextRenewal.ID, ExternalID: "R-1", AccountID: ids["B-1"], StartDate: date(2025, 12, 15),
			RenewalDate: date(2026, 12, 15), ARR: 50000000, AutoRenew: true, Status: csbot.RenewalOpen}
		if diff := cmp.Diff(wantRenewal, b1.NextRenewal); diff != "" {
			t.Errorf("B-1's next renewal (-want +got):\n%s", diff)
		}
		if b1.Health.Day != date(2026, 11, 20) || b1.Account.Name != "Green Big" || b1.Account.ARR != 50000000 {
			t.Errorf("B-1 entry = %+v, want its account and its snapshot of 2026-11-20", b1)
		}
	}

	got, err = s.Portfolio(ctx, []string{"U0CSM1", "U0CSM2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 7 || got[3].Account.ExternalID != "B-8" {
		t.Errorf("Portfolio(U0CSM1, U0CSM2) = %d entries, 4th %s; want 7 with B-8 (green 80) before B-1 (green 85)", len(got), got[3].Account.ExternalID)
	}
	for _, owners := range [][]string{nil, {}, {"U0AE1"}, {"UNOBODY"}} {
		got, err := s.Portfolio(ctx, owners)
		if err != nil || len(got) != 0 {
			t.Errorf("Portfolio(%q) = %d entries, %v; want none (only CSMs own a portfolio)", owners, len(got), err)
		}
	}
}

func TestRenewals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, ids := newBookStore(ctx, t)
	from, to := date(2026, 11, 1), date(2027, 1, 31)

	type line struct {
		Renewal, Account string
		Band             csbot.Band
		Contact          string
	}
	lines := func(rep csbot.RenewalReport) []line {
		var out []line
		for _, l := range rep.Lines {
			out = append(out, line{l.Renewal.ExternalID, l.Account.ExternalID, l.Health.Band, l.Contact.Name})
		}
		return out
	}
	months := func(m ...any) []csbot.MonthTotal {
		var out []csbot.MonthTotal
		for i := 0; i < len(m); i += 3 {
			out = append(out, csbot.MonthTotal{Month: m[i].(time.Time), Renewals: m[i+1].(int), ARR: csbot.Cents(m[i+2].(int))})
		}
		return out
	}

	// Every account: open renewals only, churned accounts' included.
	rep, err := s.Renewals(ctx, csbot.RenewalFilter{From: from, To: to})
	if err != nil {
		t.Fatalf("Renewals: %v", err)
	}
	wantLines := []line{
		{"R-2", "B-2", csbot.BandRed, ""},
		{"R-8", "B-8", csbot.BandGreen, "Kim Renewals"}, // same day as R-4: by account name
		{"R-4", "B-4", csbot.BandYellow, ""},
		{"R-1", "B-1", csbot.BandGreen, "Amy Renewals"}, // the first active one by name
		{"R-7", "B-7", csbot.BandRed, ""},
		{"R-3", "B-3", csbot.BandRed, ""},
		{"R-9", "B-9", csbot.BandYellow, ""},
	}
	if diff := cmp.Diff(wantLines, lines(rep)); diff != "" {
		t.Errorf("Renewals(all) lines (-want +got):\n%s", diff)
	}
	wantMonths := months(date(2026, 11, 1), 1, 10000000, date(2026, 12, 1), 4, 62300000, date(2027, 1, 1), 2, 90050000)
	if diff := cmp.Diff(wantMonths, rep.Months); diff != "" {
		t.Errorf("Renewals(all) months (-want +got):\n%s", diff)
	}
	if rep.Total != 7 || rep.ARR != 162350000 {
		t.Errorf("Renewals(all) totals = %d, %v; want 7, $1,623,500", rep.Total, rep.ARR)
	}
	if len(rep.Lines) == 7 {
		l := rep.Lines[3]
		if l.Account.ID != ids["B-1"] || l.Account.Name != "Green Big" || l.Health.Score != 85 || l.Health.Day != date(2026, 11, 20) ||
			l.Renewal.AccountID != ids["B-1"] || !l.Renewal.AutoRenew || l.Renewal.ARR != 50000000 ||
			l.Contact.Email != "amy@b1.example" || l.Contact.Title != "CFO" || l.Contact.Role != csbot.RoleRenewal || !l.Contact.Active {
			t.Errorf("R-1 line = %+v, want the renewal, Green Big, its snapshot of 2026-11-20 and Amy", l)
		}
		if l := rep.Lines[0]; l.Contact.ID != 0 || l.Contact != (csbot.Contact{}) {
			t.Errorf("R-2 line contact = %+v, want none", l.Contact)
		}
	}

	// A page: the totals still cover everything.
	page, err := s.Renewals(ctx, csbot.RenewalFilter{From: from, To: to, Offset: 2, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantLines[2:5], lines(page)); diff != "" {
		t.Errorf("Renewals(offset 2, limit 3) (-want +got):\n%s", diff)
	}
	if page.Total != 7 || page.ARR != rep.ARR || !cmp.Equal(page.Months, rep.Months) {
		t.Errorf("Renewals(page) totals = %d, %v, %v; want those of all", page.Total, page.ARR, page.Months)
	}
	past, err := s.Renewals(ctx, csbot.RenewalFilter{From: from, To: to, Offset: 50, Limit: 10})
	if err != nil || len(past.Lines) != 0 || past.Total != 7 {
		t.Errorf("Renewals(past the end) = %d lines, total %d, %v; want no lines, total 7", len(past.Lines), past.Total, err)
	}

	// Owners: CSM or account executive.
	for _, tt := range []struct {
		owners []string
		atRisk bool
		from   time.Time
		want   []string
		arr    csbot.Cents
	}{
		{owners: []string{"U0AE1"}, from: from, want: []string{"R-8"}, arr: 7000000},
		{owners: []string{"U0CSM2"}, from: from, want: []string{"R-8"}, arr: 7000000},
		{owners: []string{"U0CSM1"}, from: from, want: []string{"R-2", "R-4", "R-1", "R-7", "R-3"}, arr: 155300000},
		{owners: []string{"U0CSM1"}, atRisk: true, from: from, want: []string{"R-2", "R-4", "R-7", "R-3"}, arr: 105300000},
		{owners: []string{"U0CSM1"}, from: date(2026, 11, 11), want: []string{"R-4", "R-1", "R-7", "R-3"}, arr: 145300000},
		{atRisk: true, from: from, want: []string{"R-2", "R-4", "R-7", "R-3", "R-9"}, arr: 105350000},
		{owners: []string{"UNOBODY"}, from: from},
		{owners: []string{}, from: from},
	} {
		rep, err := s.Renewals(ctx, csbot.RenewalFilter{From: tt.from, To: to, Owners: tt.owners, AtRisk: tt.atRisk, Limit: 40})
		if err != nil {
			t.Errorf("Renewals(%q, at risk %v): %v", tt.owners, tt.atRisk, err)
			continue
		}
		var got []string
		for _, l := range rep.Lines {
			got = append(got, l.Renewal.ExternalID)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Renewals(%q, at risk %v, from %v) (-want +got):\n%s", tt.owners, tt.atRisk, tt.from.Format(time.DateOnly), diff)
		}
		if rep.Total != len(tt.want) || rep.ARR != tt.arr {
			t.Errorf("Renewals(%q, at risk %v) totals = %d, %v; want %d, %v", tt.owners, tt.atRisk, rep.Total, rep.ARR, len(tt.want), tt.arr)
		}
		n := 0
		for _, m := range rep.Months {
			n += m.Renewals
		}
		if n != rep.Total {
			t.Errorf("Renewals(%q) months count %d renewals, total %d", tt.owners, n, rep.Total)
		}
	}
}

func TestRenewalHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, ids := newBookStore(ctx, t)
	got, err := s.RenewalHistory(ctx, ids["B-1"])
	if err != nil {
		t.Fatalf("RenewalHistory: %v", err)
	}
	if len(got) != 2 || got[0].ExternalID != "R-1" || got[1].ExternalID != "R-1old" {
		t.Fatalf("RenewalHistory(B-1) = %+v, want R-1 then R-1old", got)
	}
	want := csbot.Renewal{ID: got[1].ID, ExternalID: "R-1old", AccountID: ids["B-1"], StartDate: date(2024, 12, 15),
		RenewalDate: date(2025, 12, 15), ARR: 45000000, Status: csbot.RenewalRenewed, OutcomeReason: "expanded seats"}
	if diff := cmp.Diff(want, got[1]); diff != "" {
		t.Errorf("RenewalHistory(B-1)[1] (-want +got):\n%s", diff)
	}
	got, err = s.RenewalHistory(ctx, ids["B-5"])
	if err != nil || len(got) != 0 {
		t.Errorf("RenewalHistory(B-5) = %v, %v; want none", got, err)
	}
}

func TestTeamOf(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newBookStore(ctx, t)
	got, err := s.TeamOf(ctx, "U0MGR")
	if err != nil {
		t.Fatalf("TeamOf: %v", err)
	}
	var names []string
	for _, u := range got {
		names = append(names, u.Name)
	}
	if diff := cmp.Diff([]string{"ada Lovelace", "Alex AE", "Sam CSM"}, names); diff != "" {
		t.Errorf("TeamOf(U0MGR) (-want +got):\n%s", diff)
	}
	if len(got) == 3 {
		want := csbot.User{SlackID: "U0CSM1", Role: csbot.UserCSM, Name: "Sam CSM", Email: "sam@vendor.example",
			ManagerSlackID: "U0MGR", Timezone: "America/New_York"}
		if diff := cmp.Diff(want, got[2]); diff != "" {
			t.Errorf("TeamOf(U0MGR)[2] (-want +got):\n%s", diff)
		}
	}
	if got, err := s.TeamOf(ctx, "U0CSM1"); err != nil || len(got) != 0 {
		t.Errorf("TeamOf(U0CSM1) = %v, %v; want nobody", got, err)
	}
}
