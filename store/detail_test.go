package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/google/go-cmp/cmp"
)

// TestAccountDetailFactsAreAccountFacts checks that the facts AccountDetail
// reads for one account are exactly those AccountFacts reads for the whole
// book, for every account of a demo portfolio with stored snapshots,
// overrides and an outage of every account, now and at an earlier instant.
func TestAccountDetailFactsAreAccountFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	loadDemo(ctx, t, s, csbot.DemoOptions{Accounts: 300, Seed: 42, Now: now})
	p := csbot.DefaultPolicy()
	// Snapshots for Previous, Week and Month, at both instants.
	for _, d := range []int{52, 45, 40, 33, 25, 20, 12, 9, 1} {
		at := now.AddDate(0, 0, -d)
		facts, err := s.AccountFacts(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		scores, _ := csbot.ScoreAll(facts, p, at)
		if _, err := s.SaveScores(ctx, scores); err != nil {
			t.Fatal(err)
		}
	}
	mustImport(ctx, t, s, "outages", "external_id,started_at,summary\nOUT-ALL,"+
		now.Add(-3*24*time.Hour).Format(time.RFC3339)+",every account down\n")
	facts, err := s.AccountFacts(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range facts[:20] {
		o := csbot.HealthOverride{AccountID: f.AccountID, Score: 40 + i, HasScore: true, Note: "exec sponsor left", By: "U0CSM1",
			CreatedAt: now.Add(-time.Duration(i+1) * 24 * time.Hour)}
		o.ExpiresAt = o.CreatedAt.Add(time.Duration(i%5+1) * 3 * 24 * time.Hour) // some expired by now
		if i%3 == 0 {
			o.HasScore, o.Band = false, csbot.BandRed
		}
		if _, err := s.AddOverride(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	for _, at := range []time.Time{now, now.Add(-12*24*time.Hour - 5*time.Hour)} {
		facts, err := s.AccountFacts(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(facts) < 250 {
			t.Fatalf("AccountFacts(%v) gave %d accounts, want most of 300", at, len(facts))
		}
		var withOutages, withOverride, withSnapshots, withNPS, withOverdue int
		for _, want := range facts {
			d, err := s.AccountDetail(ctx, want.AccountID, at)
			if err != nil {
				t.Fatalf("AccountDetail(%d, %v): %v", want.AccountID, at, err)
			}
			if diff := cmp.Diff(want, d.Facts); diff != "" {
				t.Errorf("AccountDetail(%d, %v).Facts differ from AccountFacts (-book +detail):\n%s", want.AccountID, at, diff)
			}
			if len(want.Outages) > 0 {
				withOutages++
			}
			if want.Override != nil {
				withOverride++
			}
			if !want.Month.Day.IsZero() && !want.Week.Day.IsZero() && !want.Previous.Day.IsZero() {
				withSnapshots++
			}
			if len(want.NPS) > 0 {
				withNPS++
			}
			if len(want.Overdue) > 0 {
				withOverdue++
			}
		}
		// The comparison covered every kind of fact.
		if withOutages != len(facts) || withOverride == 0 || withSnapshots == 0 || withNPS == 0 || withOverdue == 0 {
			t.Errorf("at %v: %d accounts with outages (want all %d), %d overrides, %d with the three snapshots, %d with NPS, %d with overdue invoices: want some of each",
				at, withOutages, len(facts), withOverride, withSnapshots, withNPS, withOverdue)
		}
	}
}

const detailUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0MGR,manager,Mia Manager,mia@vendor.example,,Europe/Berlin
U0CSM1,csm,Sam CSM,sam@vendor.example,U0MGR,America/New_York
`

const detailAccounts = `external_id,name,tier,arr,domain,stage,csm,channel
A-1,ACME Corp.,high,1250000,acme.example,churned,U0CSM1,C0ACME
A-2,Globex Inc.,low,85000,globex.example,adopting,U0GHOST,
A-3,Initech LLC,tech,1200,,,,
`

const detailContacts = `account_external_id,name,role,email,title,active
A-1,Zoe User,user,zoe@acme.example,,true
A-1,bob Billing,billing,bob@acme.example,AP clerk,true
A-1,Amy Champion,champion,amy@acme.example,Head of Ops,true
A-1,Carl Champion,champion,carl@acme.example,,true
A-1,Old Champion,champion,old@acme.example,,false
A-1,Eve Sponsor,exec_sponsor,eve@acme.example,CFO,true
A-1,Ray Renewal,renewal,,,true
A-2,Gus Globex,champion,,,true
`

func TestAccountDetail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "users", detailUsers)
	mustImport(ctx, t, s, "accounts", detailAccounts)
	mustImport(ctx, t, s, "contacts", detailContacts)
	mustImport(ctx, t, s, "touchpoints", `account_external_id,at,kind,summary,user
A-1,2026-11-01T10:00:00Z,call,Quarterly check-in,U0CSM1
A-1,2026-11-20T15:30:00Z,ebr,EBR with the CFO,sam@vendor.example
A-1,2026-11-30T09:00:00Z,meeting,Planned onsite,U0CSM1
A-2,2026-10-01T09:00:00Z,email,Renewal notice,
`)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	acme, err := s.AccountByExternalID(ctx, "A-1")
	if err != nil {
		t.Fatal(err)
	}

	d, err := s.AccountDetail(ctx, acme.ID, now)
	if err != nil {
		t.Fatalf("AccountDetail(A-1): %v", err)
	}
	if diff := cmp.Diff(acme, d.Account); diff != "" {
		t.Errorf("AccountDetail(A-1).Account (-AccountByID +detail):\n%s", diff)
	}
	wantCSM := csbot.User{SlackID: "U0CSM1", Role: csbot.UserCSM, Name: "Sam CSM", Email: "sam@vendor.example",
		ManagerSlackID: "U0MGR", Timezone: "America/New_York"}
	if diff := cmp.Diff(wantCSM, d.CSM); diff != "" {
		t.Errorf("AccountDetail(A-1).CSM (-want +got):\n%s", diff)
	}
	var names []string
	for _, c := range d.Contacts {
		names = append(names, string(c.Role)+":"+c.Name)
		if !c.Active || c.AccountID != acme.ID || c.ID == 0 {
			t.Errorf("contact %+v: want an active contact of A-1 with an id", c)
		}
	}
	wantNames := []string{"champion:Amy Champion", "champion:Carl Champion", "exec_sponsor:Eve Sponsor",
		"renewal:Ray Renewal", "billing:bob Billing", "user:Zoe User"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("AccountDetail(A-1).Contacts (-want +got):\n%s", diff)
	}
	if c := d.Contacts[4]; c.Email != "bob@acme.example" || c.Title != "AP clerk" {
		t.Errorf("billing contact = %+v, want email and title", c)
	}
	// The latest touchpoint at now: the planned onsite is later.
	if tp := d.LastTouch; tp.Kind != csbot.TouchEBR || tp.Summary != "EBR with the CFO" || tp.UserID != "U0CSM1" ||
		!tp.At.Equal(time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC)) || tp.ID == 0 || tp.AccountID != acme.ID {
		t.Errorf("AccountDetail(A-1).LastTouch = %+v, want the EBR of 2026-11-20", tp)
	}
	// A churned account still has its facts.
	if f := d.Facts; f.AccountID != acme.ID || f.Tier != csbot.TierHigh || f.ActiveChampions != 2 || f.ExecSponsors != 1 ||
		len(f.InactiveChampions) != 1 || !f.LastEBRAt.Equal(utcTime(2026, 11, 20, 15, 30)) {
		t.Errorf("AccountDetail(A-1).Facts = %+v, want A-1's: high tier, 2 champions, 1 sponsor, 1 inactive champion, EBR on 2026-11-20", f)
	}

	// A CSM the users table does not know.
	globex, err := s.AccountByExternalID(ctx, "A-2")
	if err != nil {
		t.Fatal(err)
	}
	d, err = s.AccountDetail(ctx, globex.ID, now)
	if err != nil {
		t.Fatalf("AccountDetail(A-2): %v", err)
	}
	if diff := cmp.Diff(csbot.User{SlackID: "U0GHOST"}, d.CSM); diff != "" {
		t.Errorf("AccountDetail(A-2).CSM (-want +got):\n%s", diff)
	}
	if len(d.Contacts) != 1 || d.LastTouch.Kind != csbot.TouchEmail || d.LastTouch.UserID != "" {
		t.Errorf("AccountDetail(A-2) = contacts %+v, last touch %+v; want Gus and the email", d.Contacts, d.LastTouch)
	}

	// No CSM, no contacts, no touchpoints.
	initech, err := s.AccountByExternalID(ctx, "A-3")
	if err != nil {
		t.Fatal(err)
	}
	d, err = s.AccountDetail(ctx, initech.ID, now)
	if err != nil {
		t.Fatalf("AccountDetail(A-3): %v", err)
	}
	if d.CSM != (csbot.User{}) || len(d.Contacts) != 0 || d.LastTouch.ID != 0 || d.Facts.AccountID != initech.ID {
		t.Errorf("AccountDetail(A-3) = %+v, want no CSM, contacts or touch, and its facts", d)
	}

	if _, err := s.AccountDetail(ctx, initech.ID+1000, now); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("AccountDetail(missing) error = %v, want csbot.ErrNotFound", err)
	}
}

// utcTime is the instant in UTC.
func utcTime(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// TestOverdueRenewalIsItsOwnFact: an open renewal dated before today is
// the account's OverdueRenewal, and NextRenewal stays the upcoming one
// (which the renewal-risk signal and reminders read); a closed past one is
// neither.
func TestOverdueRenewalIsItsOwnFact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "users", detailUsers)
	mustImport(ctx, t, s, "accounts", detailAccounts)
	mustImport(ctx, t, s, "renewals", `external_id,account_external_id,renewal_date,arr,status
R-OLD,A-2,2026-02-01,80000,open
R-LAPSED,A-2,2026-03-01,85000,open
R-NEXT,A-2,2026-09-01,90000,open
R-DONE,A-3,2026-03-01,1200,renewed
`)
	now := utcTime(2026, 3, 10, 12, 0)
	id := func(ext string) int64 {
		a, err := s.AccountByExternalID(ctx, ext)
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	d, err := s.AccountDetail(ctx, id("A-2"), now)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Facts.OverdueRenewal; got.ExternalID != "" || got.ID == 0 || !got.RenewalDate.Equal(utcTime(2026, 2, 1, 0, 0)) || got.ARR != 8_000_000 {
		t.Errorf("OverdueRenewal = %+v, want the earliest open one before today (Feb 1, $80,000)", got)
	}
	if got := d.Facts.NextRenewal; !got.RenewalDate.Equal(utcTime(2026, 9, 1, 0, 0)) {
		t.Errorf("NextRenewal = %+v, want the upcoming Sep 1 one", got)
	}
	d, err = s.AccountDetail(ctx, id("A-3"), now)
	if err != nil {
		t.Fatal(err)
	}
	if d.Facts.OverdueRenewal.ID != 0 || d.Facts.NextRenewal.ID != 0 {
		t.Errorf("a renewed past renewal shows as %+v / %+v, want neither", d.Facts.OverdueRenewal, d.Facts.NextRenewal)
	}
}
