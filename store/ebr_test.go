package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// The EBR book: ACME (10 licensed seats) and Globex (seats only in its
// usage rows), each with data in the period [2026-10-01, 2026-10-11), in
// the ten days before it and after it.
const (
	ebrUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0CSM1,csm,Sam CSM,sam@vendor.example,,
U0AE1,sales,Abe Sales,abe@vendor.example,,
`
	ebrAccounts = `external_id,name,tier,arr,csm,ae,channel,licensed_seats
E-1,ACME Corp.,high,1250000,U0CSM1,U0AE1,C0ACME,10
E-2,Globex Inc.,low,85000,U0CSM1,,,
`
	ebrContacts = `account_external_id,name,role,email,title,active
E-1,Ray Renewal,renewal,ray@acme.example,Procurement lead,true
E-1,Aaron Old,renewal,aaron@acme.example,Former buyer,false
E-1,Amy Champion,champion,amy@acme.example,Head of Ops,true
E-2,Gina Globex,renewal,gina@globex.example,CFO,true
`
	// ACME: in the period 4, 6, 0, 8, 8, 4 (avg 5, peak 8 on the 5th,
	// 5 active days); before it 4, 4 (avg 4); outside both, big numbers.
	ebrUsage = `account_external_id,day,active_users,licensed_seats
E-1,2026-09-20,50,
E-1,2026-09-21,4,
E-1,2026-09-30,4,
E-1,2026-10-01,4,20
E-1,2026-10-02,6,
E-1,2026-10-03,0,
E-1,2026-10-05,8,
E-1,2026-10-06,8,
E-1,2026-10-10,4,
E-1,2026-10-11,100,
E-2,2026-10-04,10,40
E-2,2026-10-05,999,50
`
	// ACME: T1 (high) resolved in 4h; T3, opened before, resolved in 120h;
	// T2 (urgent) still open; T4 opened in the period and closed after it;
	// T5 after the period; T6 long closed before it.
	ebrTickets = `external_id,account_external_id,opened_at,severity,status,closed_at,subject
T1,E-1,2026-10-02T09:00:00Z,high,solved,2026-10-02T13:00:00Z,Login loop
T2,E-1,2026-10-04T09:00:00Z,urgent,open,,Export fails
T3,E-1,2026-09-28T10:00:00Z,normal,closed,2026-10-03T10:00:00Z,Old issue
T4,E-1,2026-10-08T00:00:00Z,low,closed,2026-10-12T00:00:00Z,
T5,E-1,2026-10-11T01:00:00Z,urgent,open,,After the period
T6,E-1,2026-09-01T00:00:00Z,high,closed,2026-09-05T00:00:00Z,Long gone
G1,E-2,2026-10-03T00:00:00Z,urgent,open,,Globex outage
`
	ebrNPS = `account_external_id,responded_at,score,respondent_email,comment
E-1,2026-10-02T10:00:00Z,10,a@acme.example,Love it
E-1,2026-10-03T10:00:00Z,9,b@acme.example,
E-1,2026-10-04T10:00:00Z,7,c@acme.example,
E-1,2026-10-05T10:00:00Z,3,d@acme.example,Too slow
E-1,2026-10-06T10:00:00Z,6,e@acme.example,Missing SSO
E-1,2026-10-07T10:00:00Z,0,f@acme.example,Hate the export
E-1,2026-10-11T10:00:00Z,0,g@acme.example,Later complaint
E-2,2026-10-02T10:00:00Z,1,h@globex.example,Globex grumble
`
	ebrTouchpoints = `account_external_id,at,kind,summary,user
E-1,2026-09-30T10:00:00Z,email,Before the period,U0CSM1
E-1,2026-10-01T10:00:00Z,call,Kickoff,U0CSM1
E-1,2026-10-09T15:00:00Z,meeting,Roadmap review,U0CSM1
E-1,2026-10-11T00:00:00Z,ebr,After the period,U0CSM1
E-2,2026-10-05T10:00:00Z,onsite,Globex visit,U0CSM1
`
	// ACME: an overdue open renewal, the next one (RN-1), a later one and a
	// renewed one; Globex: one before the period's end only.
	ebrRenewals = `external_id,account_external_id,renewal_date,arr,auto_renew,status
RN-0,E-1,2026-09-01,1000000,false,open
RN-1,E-1,2027-03-31,1250000,false,open
RN-2,E-1,2027-09-30,1300000,true,open
RN-X,E-1,2026-12-01,900000,false,renewed
RN-G,E-2,2026-10-05,85000,true,open
`
)

var (
	ebrPeriod = csbot.EBRPeriod{Start: date(2026, 10, 1), End: date(2026, 10, 11), Label: "early October"}
	ebrNow    = time.Date(2026, 10, 15, 18, 0, 0, 0, time.UTC)
)

// ebrBook is the seeded EBR book.
type ebrBook struct {
	s        *store.Store
	conn     *pgx.Conn
	acme     csbot.Account
	globex   csbot.Account
	renewals map[string]int64
	alerts   map[string]int64
}

func newEBRBook(ctx context.Context, t *testing.T) ebrBook {
	t.Helper()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", ebrUsers)
	mustImport(ctx, t, s, "accounts", ebrAccounts)
	mustImport(ctx, t, s, "contacts", ebrContacts)
	mustImport(ctx, t, s, "usage", ebrUsage)
	mustImport(ctx, t, s, "tickets", ebrTickets)
	mustImport(ctx, t, s, "nps", ebrNPS)
	mustImport(ctx, t, s, "touchpoints", ebrTouchpoints)
	mustImport(ctx, t, s, "renewals", ebrRenewals)
	b := ebrBook{s: s, conn: conn, renewals: map[string]int64{}, alerts: map[string]int64{}}
	var err error
	if b.acme, err = s.AccountByExternalID(ctx, "E-1"); err != nil {
		t.Fatal(err)
	}
	if b.globex, err = s.AccountByExternalID(ctx, "E-2"); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"RN-0", "RN-1", "RN-2", "RN-X", "RN-G"} {
		b.renewals[ext] = int64(dueInt(ctx, t, conn, `SELECT id FROM renewals WHERE external_id = $1`, ext))
	}

	// ACME's handoff; a closed later one does not count.
	if _, err := s.CreateHandoff(ctx, csbot.Handoff{AccountID: b.acme.ID, Author: "U0AE1",
		Goals: "Cut onboarding time in half", SuccessCriteria: "80% of seats active by Q1", Products: "Core"},
		"", time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("CreateHandoff: %v", err)
	}
	dueExec(ctx, t, conn, `INSERT INTO handoffs (account_id, author_slack_id, state, goals, success_criteria, created_at)
		VALUES ($1, 'U0AE1', 'closed', 'closed goals', 'closed criteria', $2)`, b.acme.ID, date(2026, 7, 1))

	// Health snapshots: at the start, at the end, and one after the end.
	for _, sn := range []struct {
		account  int64
		day      time.Time
		score    int
		band     csbot.Band
		coverage int
		trend    csbot.Trend
	}{
		{b.acme.ID, date(2026, 9, 20), 90, csbot.BandGreen, 100, csbot.Trend{}},
		{b.acme.ID, date(2026, 9, 30), 60, csbot.BandYellow, 80, csbot.Trend{Delta7: -5, Has7: true}},
		{b.acme.ID, date(2026, 10, 11), 72, csbot.BandGreen, 90, csbot.Trend{Delta7: 4, Has7: true, Delta30: 12, Has30: true}},
		{b.acme.ID, date(2026, 10, 12), 10, csbot.BandRed, 50, csbot.Trend{}},
		{b.globex.ID, date(2026, 10, 10), 33, csbot.BandRed, 70, csbot.Trend{}},
	} {
		detail, err := json.Marshal(map[string]any{"coverage": sn.coverage, "trend": sn.trend, "components": []any{}})
		if err != nil {
			t.Fatal(err)
		}
		dueExec(ctx, t, conn, `INSERT INTO health_scores (account_id, day, computed_at, score, band, components)
			VALUES ($1, $2, $3, $4, $5, $6)`, sn.account, sn.day, sn.day, sn.score, sn.band, detail)
	}

	// Alerts: two live ones of ACME (the critical one first), one resolved
	// and one snoozed; one of Globex.
	for _, a := range []dueAlertSpec{
		{account: b.acme.ID, kind: "usage_drop", severity: csbot.SignalWarning, key: "usage_drop:1#1",
			evidence: "Active users down 40%", state: csbot.AlertAcknowledged, created: date(2026, 10, 2)},
		{account: b.acme.ID, kind: "urgent_ticket", severity: csbot.SignalCritical, key: "urgent_ticket:1#1",
			evidence: "1 urgent ticket open", state: csbot.AlertOpen, created: date(2026, 10, 5)},
		{account: b.acme.ID, kind: "nps_detractor", severity: csbot.SignalCritical, key: "nps_detractor:1#1",
			evidence: "resolved one", state: csbot.AlertResolved, created: date(2026, 10, 1)},
		{account: b.acme.ID, kind: "no_touch", severity: csbot.SignalWarning, key: "no_touch:1#1",
			evidence: "snoozed one", state: csbot.AlertSnoozed, created: date(2026, 10, 1)},
		{account: b.globex.ID, kind: "urgent_ticket", severity: csbot.SignalCritical, key: "urgent_ticket:2#1",
			evidence: "Globex urgent", state: csbot.AlertEscalated, created: date(2026, 10, 3)},
	} {
		a.routed = csbot.RouteChannel
		b.alerts[a.key] = dueInsertAlert(ctx, t, conn, a)
	}
	return b
}

// TestEBRFacts checks every figure of ACME's fact sheet, which none of
// Globex's data reaches.
func TestEBRFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEBRBook(ctx, t)

	got, err := b.s.EBRFacts(ctx, b.acme.ID, ebrPeriod, ebrNow)
	if err != nil {
		t.Fatalf("EBRFacts(ACME): %v", err)
	}
	want := csbot.EBRFacts{
		Account: csbot.AccountBrief{ID: b.acme.ID, ExternalID: "E-1", Name: "ACME Corp.", Tier: csbot.TierHigh,
			ARR: 125000000, CSM: "U0CSM1", AE: "U0AE1", Channel: "C0ACME"},
		Period:          ebrPeriod,
		Goals:           "Cut onboarding time in half",
		SuccessCriteria: "80% of seats active by Q1",
		Health: csbot.HealthBrief{Score: 72, Band: csbot.BandGreen, Coverage: 90,
			Trend: csbot.Trend{Delta7: 4, Has7: true, Delta30: 12, Has30: true}},
		HealthStart: &csbot.HealthBrief{Score: 60, Band: csbot.BandYellow, Coverage: 80,
			Trend: csbot.Trend{Delta7: -5, Has7: true}},
		HealthNow: &csbot.HealthBrief{Score: 10, Band: csbot.BandRed, Coverage: 50},
		Usage: csbot.EBRUsage{HasData: true, Seats: 10, AvgActiveUsers: 5, PeakActiveUsers: 8, PeakDay: "2026-10-05",
			AdoptionPct: 50, PrevAvgActive: 4, ChangePct: 25, HasPrev: true, DaysWithActivity: 5},
		Support: csbot.EBRSupport{Opened: 3, BySeverity: map[string]int{"low": 1, "high": 1, "urgent": 1},
			Resolved: 2, MedianHours: 62, OpenAtEnd: 2, UrgentOpened: 1,
			Subjects: []string{"Export fails", "Login loop"}},
		Satisfaction: csbot.EBRSatisfaction{Responses: 6, NPS: -17, Promoters: 2, Passives: 1, Detractors: 3,
			Quotes: []csbot.EBRQuote{{Score: 0, Comment: "Hate the export"}, {Score: 3, Comment: "Too slow"}, {Score: 6, Comment: "Missing SSO"}}},
		Touchpoints: []csbot.EBRTouchpoint{
			{Day: "2026-10-09", Kind: csbot.TouchMeeting, Summary: "Roadmap review"},
			{Day: "2026-10-01", Kind: csbot.TouchCall, Summary: "Kickoff"},
		},
		Renewal: &csbot.RenewalBrief{ID: b.renewals["RN-1"], Date: date(2027, 3, 31), ARR: 125000000, DaysLeft: 167,
			Contact: "Ray Renewal", ContactRef: "Procurement lead"},
		Risks: []csbot.AlertItem{
			{AlertID: b.alerts["urgent_ticket:1#1"], Kind: "urgent_ticket", Severity: csbot.SignalCritical, Evidence: "1 urgent ticket open"},
			{AlertID: b.alerts["usage_drop:1#1"], Kind: "usage_drop", Severity: csbot.SignalWarning, Evidence: "Active users down 40%"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EBRFacts(ACME) (-want +got):\n%s", diff)
	}
	ebrNoEmail(t, got)
}

// TestEBRFactsOtherAccount checks Globex's sheet: seats from its usage
// rows, no handoff, no health at the start, the latest open renewal when
// none is after the period, and none of ACME's data.
func TestEBRFactsOtherAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEBRBook(ctx, t)

	got, err := b.s.EBRFacts(ctx, b.globex.ID, ebrPeriod, ebrNow)
	if err != nil {
		t.Fatalf("EBRFacts(Globex): %v", err)
	}
	want := csbot.EBRFacts{
		Account: csbot.AccountBrief{ID: b.globex.ID, ExternalID: "E-2", Name: "Globex Inc.", Tier: csbot.TierLow,
			ARR: 8500000, CSM: "U0CSM1"},
		Period: ebrPeriod,
		Health: csbot.HealthBrief{Score: 33, Band: csbot.BandRed, Coverage: 70},
		// (10 + 999) / 2 = 504.5 of 50 seats.
		Usage: csbot.EBRUsage{HasData: true, Seats: 50, AvgActiveUsers: 504.5, PeakActiveUsers: 999, PeakDay: "2026-10-05",
			AdoptionPct: 1009, DaysWithActivity: 2},
		Support: csbot.EBRSupport{Opened: 1, BySeverity: map[string]int{"urgent": 1}, OpenAtEnd: 1, UrgentOpened: 1,
			Subjects: []string{"Globex outage"}},
		Satisfaction: csbot.EBRSatisfaction{Responses: 1, NPS: -100, Detractors: 1,
			Quotes: []csbot.EBRQuote{{Score: 1, Comment: "Globex grumble"}}},
		Touchpoints: []csbot.EBRTouchpoint{{Day: "2026-10-05", Kind: csbot.TouchOnsite, Summary: "Globex visit"}},
		Renewal: &csbot.RenewalBrief{ID: b.renewals["RN-G"], Date: date(2026, 10, 5), ARR: 8500000, AutoRenew: true,
			DaysLeft: -10, Contact: "Gina Globex", ContactRef: "CFO"},
		Risks: []csbot.AlertItem{{AlertID: b.alerts["urgent_ticket:2#1"], Kind: "urgent_ticket",
			Severity: csbot.SignalCritical, Evidence: "Globex urgent"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EBRFacts(Globex) (-want +got):\n%s", diff)
	}
	ebrNoEmail(t, got)

	// A period with no data at all: zeros, no previous period, health as
	// of its end.
	empty := csbot.EBRPeriod{Start: date(2025, 1, 1), End: date(2025, 2, 1)}
	got, err = b.s.EBRFacts(ctx, b.acme.ID, empty, ebrNow)
	if err != nil {
		t.Fatalf("EBRFacts(ACME, 2025): %v", err)
	}
	if got.Usage != (csbot.EBRUsage{Seats: 10}) || got.Health != (csbot.HealthBrief{}) || got.HealthStart != nil ||
		got.Support.Opened != 0 || got.Support.BySeverity != nil || got.Satisfaction.Responses != 0 ||
		len(got.Touchpoints) != 0 || got.Renewal == nil || got.Renewal.ID != b.renewals["RN-0"] {
		t.Errorf("EBRFacts(ACME, 2025) = %+v, want no data but seats, and the first open renewal from then", got)
	}
}

func TestEBRFactsUnknownAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEBRBook(ctx, t)
	if _, err := b.s.EBRFacts(ctx, b.globex.ID+1000, ebrPeriod, ebrNow); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("EBRFacts(unknown) error = %v, want csbot.ErrNotFound", err)
	}
}

// ebrNoEmail fails when the JSON of f holds anything like an email.
func ebrNoEmail(t *testing.T, f csbot.EBRFacts) {
	t.Helper()
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "@") {
		t.Errorf("the facts' JSON holds an email: %s", data)
	}
}
