package csbot_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/csbot/csbot"
)

// healthNow() is the instant every health test scores at.
func healthNow() time.Time { return time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC) }

// hx builds facts and times relative to healthNow().
type hx struct{}

// day returns the date n days before healthNow()'s date, as midnight UTC.
func (hx) day(n int) time.Time {
	return time.Date(2025, 6, 15-n, 0, 0, 0, 0, time.UTC)
}

// ago returns the instant n days before healthNow().
func (hx) ago(n int) time.Time { return healthNow().Add(-time.Duration(n) * 24 * time.Hour) }

// healthy returns the facts of a high-touch account in good health: 35 of
// 50 seats active every day, steady, a few tickets, two promoters, nothing
// overdue, touched 10 days ago, an EBR 60 days ago, no outages, a
// champion, a renewal in 200 days and green snapshots.
func (x hx) healthy() csbot.AccountFacts {
	return csbot.AccountFacts{
		AccountID:           42,
		Tier:                csbot.TierHigh,
		CreatedAt:           x.ago(700),
		LicensedSeats:       50,
		UsageFirstDay:       x.day(400),
		LastActiveDay:       x.day(1),
		ActiveUserDays:      35 * 30,
		PriorActiveUserDays: 35 * 30,
		TicketsOnRecord:     true,
		Tickets30:           3,
		NPS: []csbot.NPSResponse{
			{ID: 501, Score: 9, RespondedAt: x.ago(20)},
			{ID: 502, Score: 10, RespondedAt: x.ago(60)},
		},
		InvoicesOnRecord: true,
		LastTouchAt:      x.ago(10),
		LastEBRAt:        x.ago(60),
		ExecSponsors:     1,
		ActiveChampions:  1,
		NextRenewal: csbot.Renewal{ID: 7, AccountID: 42, RenewalDate: x.day(-200), ARR: 12_000_000,
			Status: csbot.RenewalOpen},
		Previous: csbot.HealthSnapshot{Day: x.day(1), Score: 95, Band: csbot.BandGreen},
		Week:     csbot.HealthSnapshot{Day: x.day(7), Score: 93, Band: csbot.BandGreen},
		Month:    csbot.HealthSnapshot{Day: x.day(30), Score: 90, Band: csbot.BandGreen},
	}
}

// component scores f and returns the component of kind k.
func component(t *testing.T, f csbot.AccountFacts, p csbot.Policy, k csbot.ComponentKind) csbot.Component {
	t.Helper()
	c, ok := csbot.Score(f, p, healthNow()).Component(k)
	if !ok {
		t.Fatalf("Score(%+v) has no %s component", f, k)
	}
	return c
}

// componentCase is one row of a component table test.
type componentCase struct {
	name     string
	change   func(*csbot.AccountFacts)
	score    int
	noData   bool
	evidence string
}

func runComponentCases(t *testing.T, k csbot.ComponentKind, tests []componentCase) {
	t.Helper()
	p := csbot.DefaultPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var x hx
			f := x.healthy()
			tt.change(&f)
			c := component(t, f, p, k)
			if c.Score != tt.score || c.NoData != tt.noData {
				t.Errorf("Score(%s) %s = %d (no data %v), want %d (no data %v); evidence %q",
					tt.name, k, c.Score, c.NoData, tt.score, tt.noData, c.Evidence)
			}
			if tt.evidence != "" && c.Evidence != tt.evidence {
				t.Errorf("Score(%s) %s evidence = %q, want %q", tt.name, k, c.Evidence, tt.evidence)
			}
		})
	}
}

func TestScoreUsage(t *testing.T) {
	var x hx
	usage := func(cur, prior int64) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) { f.ActiveUserDays, f.PriorActiveUserDays = cur, prior }
	}
	runComponentCases(t, csbot.ComponentUsage, []componentCase{
		{"full adoption steady", usage(35*30, 35*30), 100, false, "35 of 50 seats active a day (70%), steady vs the prior 30 days"},
		{"at target adoption", usage(30*30, 30*30), 100, false, ""},
		// 29/50 = 58% of a 60% target: adoption 96.7, trend 100.
		{"just below target", usage(29*30, 29*30), 98, false, ""},
		// drop exactly 30%: adoption 21/30 = 70, trend 50.
		{"drop at threshold", usage(21*30, 30*30), 62, false, "active users down 30% vs the prior 30 days (30 -> 21 of 50 seats)"},
		{"drop just under threshold", usage(631, 900), 62, false, "active users down 29% vs the prior 30 days (30 -> 21 of 50 seats)"},
		{"drop just over threshold", usage(629, 900), 62, false, "active users down 30% vs the prior 30 days (30 -> 21 of 50 seats)"},
		// drop 60%: adoption 40, trend 0.
		{"drop twice threshold", usage(12*30, 30*30), 24, false, ""},
		{"the issue's example", usage(18*30, 31*30), 48, false, "active users down 41% vs the prior 30 days (31 -> 18 of 50 seats)"},
		{"rise", usage(40*30, 30*30), 100, false, "active users up 33% vs the prior 30 days (30 -> 40 of 50 seats)"},
		{"more users than seats", usage(80*30, 80*30), 100, false, ""},
		{"no seats: trend only", func(f *csbot.AccountFacts) {
			f.LicensedSeats = 0
			f.ActiveUserDays, f.PriorActiveUserDays = 21*30, 30*30
		}, 50, false, "active users down 30% vs the prior 30 days (30 -> 21)"},
		{"no seats, no prior, some use", func(f *csbot.AccountFacts) {
			f.LicensedSeats, f.UsageFirstDay = 0, x.day(20)
		}, 0, true, "53 active users a day, but no seat count or prior period to compare with"},
		{"no seats, no prior, no use", func(f *csbot.AccountFacts) {
			f.LicensedSeats, f.UsageFirstDay, f.ActiveUserDays = 0, x.day(20), 0
		}, 0, false, "no active users in the last 30 days"},
		// A young account: its mean is over the days it has had data.
		{"young account", func(f *csbot.AccountFacts) {
			f.UsageFirstDay, f.ActiveUserDays, f.PriorActiveUserDays = x.day(10), 30*10, 0
		}, 100, false, "30 of 50 seats active a day (60%)"},
		// The prior period needs 14 days of data for a trend.
		{"prior period 13 days", func(f *csbot.AccountFacts) {
			f.UsageFirstDay, f.ActiveUserDays, f.PriorActiveUserDays = x.day(43), 15*30, 30*13
		}, 50, false, "15 of 50 seats active a day (30%)"},
		{"prior period 14 days", func(f *csbot.AccountFacts) {
			f.UsageFirstDay, f.ActiveUserDays, f.PriorActiveUserDays = x.day(44), 15*30, 30*14
		}, 37, false, "active users down 50% vs the prior 30 days (30 -> 15 of 50 seats)"},
		{"no usage data", func(f *csbot.AccountFacts) { f.UsageFirstDay = time.Time{} }, 0, true, "no usage data"},
		{"data starts today", func(f *csbot.AccountFacts) { f.UsageFirstDay = x.day(0) }, 0, true, "usage data starts today"},
		{"never active", func(f *csbot.AccountFacts) {
			f.LastActiveDay, f.ActiveUserDays, f.PriorActiveUserDays = time.Time{}, 0, 0
		}, 0, false, "no activity on record"},
		{"silent 59 days", func(f *csbot.AccountFacts) {
			f.LastActiveDay, f.ActiveUserDays, f.PriorActiveUserDays = x.day(60), 0, 0
		}, 0, false, "0 of 50 seats active a day (0%)"},
		{"silent 60 days", func(f *csbot.AccountFacts) {
			f.LastActiveDay, f.ActiveUserDays, f.PriorActiveUserDays = x.day(61), 0, 0
		}, 0, false, "no activity for 60 days (last active 2025-04-15)"},
		{"small numbers", usage(3*30+12, 4*30), 37, false, "active users down 15% vs the prior 30 days (4 -> 3.4 of 50 seats)"},
	})
}

func TestScoreSupport(t *testing.T) {
	var x hx
	tickets := func(n, urgent, high, oldestDays int) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) {
			f.Tickets30, f.OpenUrgent, f.OpenHigh = n, urgent, high
			if oldestDays >= 0 {
				f.OldestOpenAt = x.ago(oldestDays)
			}
		}
	}
	runComponentCases(t, csbot.ComponentSupport, []componentCase{
		{"none", tickets(0, 0, 0, -1), 100, false, "0 tickets in 30 days, none open"},
		{"one", tickets(1, 0, 0, -1), 96, false, "1 ticket in 30 days, none open"},
		{"just below spike", tickets(9, 0, 0, -1), 64, false, ""},
		{"at spike", tickets(10, 0, 0, -1), 60, false, "10 tickets in 30 days, none open"},
		{"just above spike", tickets(11, 0, 0, -1), 56, false, "11 tickets in 30 days (over 10), none open"},
		{"volume capped", tickets(40, 0, 0, -1), 40, false, ""},
		{"urgent and high open", tickets(2, 1, 2, 3), 52, false, "2 tickets in 30 days, 1 urgent and 2 high open, oldest open 3 days"},
		{"urgent open", tickets(2, 1, 0, 3), 72, false, "2 tickets in 30 days, 1 urgent open, oldest open 3 days"},
		{"oldest at stale", tickets(0, 0, 0, 30), 100, false, "0 tickets in 30 days, oldest open 30 days"},
		{"oldest just past stale", tickets(0, 0, 0, 31), 85, false, ""},
		{"floor at 0", tickets(30, 3, 3, 90), 0, false, ""},
		{"no tickets on record", func(f *csbot.AccountFacts) { f.TicketsOnRecord, f.Tickets30 = false, 0 }, 0, true, "no support tickets on record"},
	})
}

func TestScoreSatisfaction(t *testing.T) {
	var x hx
	nps := func(rs ...csbot.NPSResponse) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) { f.NPS = rs }
	}
	r := func(id int64, score, daysAgo int) csbot.NPSResponse {
		return csbot.NPSResponse{ID: id, Score: score, RespondedAt: x.ago(daysAgo)}
	}
	runComponentCases(t, csbot.ComponentSatisfaction, []componentCase{
		{"none", nps(), 0, true, "no NPS responses in the last 180 days"},
		{"only older than 180 days", nps(r(1, 10, 181)), 0, true, "no NPS responses in the last 180 days"},
		{"180 days old counts", nps(r(1, 10, 180)), 100, false, "NPS +100 from 1 response in 180 days"},
		{"promoter 10", nps(r(1, 10, 0)), 100, false, ""},
		{"promoter 9", nps(r(1, 9, 0)), 90, false, ""},
		{"passive 7, just above detractor", nps(r(1, 7, 0)), 70, false, "NPS 0 from 1 response in 180 days"},
		{"detractor 6, at threshold", nps(r(1, 6, 0)), 0, false, "NPS -100 from 1 response in 180 days, 1 detractor, latest scored 6, 0 days ago"},
		// Equal age: the detractor weighs twice, so 2 promoters and 1
		// detractor score (100+100+0)/4.
		{"detractor pulls hard", nps(r(1, 10, 5), r(2, 10, 5), r(3, 2, 5)), 50, false,
			"NPS +33 from 3 responses in 180 days, 1 detractor, latest scored 2, 5 days ago"},
		// Newer weighs more (half-life 90 days).
		{"old detractor, new promoter", nps(r(1, 0, 90), r(2, 10, 0)), 50, false, ""},
		{"new detractor, old promoter", nps(r(1, 0, 0), r(2, 10, 90)), 20, false, ""},
	})
}

func TestScorePayments(t *testing.T) {
	var x hx
	overdue := func(days ...int) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) {
			for i, d := range days {
				f.Overdue = append(f.Overdue, csbot.Invoice{ID: int64(900 + i), DueOn: x.day(d), Amount: 920_000})
			}
		}
	}
	runComponentCases(t, csbot.ComponentPayments, []componentCase{
		{"none overdue", overdue(), 100, false, "no invoices overdue"},
		{"due today is not overdue", overdue(0), 100, false, "no invoices overdue"},
		{"1 day", overdue(1), 97, false, "1 invoice overdue, 1 day, $9,200"},
		{"just below overdue days", overdue(14), 53, false, ""},
		{"at overdue days", overdue(15), 50, false, "1 invoice overdue, 15 days, $9,200"},
		{"just above overdue days", overdue(16), 47, false, ""},
		{"at critical days", overdue(30), 0, false, ""},
		{"two invoices", overdue(47, 10), 0, false, "2 invoices overdue, oldest 47 days, $18,400"},
		{"extra invoice penalty", overdue(5, 5), 73, false, "2 invoices overdue, oldest 5 days, $18,400"},
		{"no invoice data", func(f *csbot.AccountFacts) { f.InvoicesOnRecord = false }, 0, true, "no invoice data"},
	})
}

func TestScoreEngagement(t *testing.T) {
	var x hx
	touch := func(lastDays, ebrDays, sponsors int) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) {
			f.LastTouchAt, f.ExecSponsors = x.ago(lastDays), sponsors
			f.LastEBRAt = time.Time{}
			if ebrDays >= 0 {
				f.LastEBRAt = x.ago(ebrDays)
			}
		}
	}
	runComponentCases(t, csbot.ComponentEngagement, []componentCase{
		{"at cadence", touch(30, 180, 1), 100, false, "last touch 30 days ago (cadence 30), last EBR 180 days ago"},
		{"just past cadence", touch(31, 180, 1), 99, false, ""},
		{"twice cadence", touch(60, 180, 1), 65, false, ""},
		{"three times cadence", touch(90, 180, 1), 30, false, ""},
		{"EBR just past its cadence", touch(10, 181, 1), 100, false, ""},
		{"EBR twice its cadence", touch(10, 360, 1), 85, false, ""},
		{"no exec sponsor", touch(10, 20, 0), 70, false, "last touch 10 days ago (cadence 30), no active exec sponsor"},
		{"no EBR", touch(10, -1, 1), 70, false, "last touch 10 days ago (cadence 30), no EBR on record"},
		{"never touched", func(f *csbot.AccountFacts) { f.LastTouchAt = time.Time{} }, 0, true, "no touchpoints on record"},
		{"low touch cadence 90", func(f *csbot.AccountFacts) {
			f.Tier, f.LastTouchAt, f.LastEBRAt = csbot.TierLow, x.ago(90), x.ago(365)
		}, 100, false, "last touch 90 days ago (cadence 90), last EBR 365 days ago"},
	})

	t.Run("tech touch has no engagement", func(t *testing.T) {
		f := x.healthy()
		f.Tier = csbot.TierTech
		if c, ok := csbot.Score(f, csbot.DefaultPolicy(), healthNow()).Component(csbot.ComponentEngagement); ok {
			t.Errorf("Score(tech) has engagement component %+v, want none", c)
		}
	})
}

func TestScoreReliability(t *testing.T) {
	var x hx
	outages := func(daysAgo ...int) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) {
			for i, d := range daysAgo {
				acct := f.AccountID
				if i == 0 {
					acct = 0 // the first is global
				}
				f.Outages = append(f.Outages, csbot.Outage{ID: int64(300 + i), AccountID: acct, StartedAt: x.ago(d)})
			}
		}
	}
	runComponentCases(t, csbot.ComponentReliability, []componentCase{
		{"none", outages(), 100, false, "no outages in the last 30 days"},
		{"one global", outages(3), 75, false, "1 outage in the last 30 days (1 global), latest 3 days ago"},
		{"two", outages(20, 1), 50, false, "2 outages in the last 30 days (1 global), latest 1 day ago"},
		{"four", outages(29, 20, 10, 1), 0, false, ""},
		{"31 days ago does not count", outages(31, 2), 75, false, "1 outage in the last 30 days, latest 2 days ago"},
	})
}

func TestBandPolicy(t *testing.T) {
	bp := csbot.DefaultPolicy().Tiers.High.Bands
	tests := []struct {
		score int
		want  csbot.Band
	}{
		{100, csbot.BandGreen}, {71, csbot.BandGreen}, {70, csbot.BandGreen}, {69, csbot.BandYellow},
		{41, csbot.BandYellow}, {40, csbot.BandYellow}, {39, csbot.BandRed}, {0, csbot.BandRed},
	}
	for _, tt := range tests {
		if got := bp.Band(tt.score); got != tt.want {
			t.Errorf("Band(%d) = %s, want %s", tt.score, got, tt.want)
		}
	}
}

func TestParseBand(t *testing.T) {
	for _, s := range []string{"green", " Yellow ", "RED"} {
		if _, err := csbot.ParseBand(s); err != nil {
			t.Errorf("ParseBand(%q) = %v, want nil", s, err)
		}
	}
	if b, err := csbot.ParseBand("amber"); err == nil {
		t.Errorf("ParseBand(amber) = %q, nil; want an error", b)
	}
}

func TestScoreWhole(t *testing.T) {
	var x hx
	p := csbot.DefaultPolicy()

	t.Run("healthy", func(t *testing.T) {
		h := csbot.Score(x.healthy(), p, healthNow())
		if h.Score < 95 || h.Band != csbot.BandGreen || h.Coverage != 100 {
			t.Errorf("Score(healthy) = %d %s coverage %d, want >= 95 green coverage 100", h.Score, h.Band, h.Coverage)
		}
		if h.Drivers != nil {
			t.Errorf("Score(healthy) drivers = %+v, want none", h.Drivers)
		}
		want := csbot.Trend{Delta7: h.Score - 93, Has7: true, Delta30: h.Score - 90, Has30: true}
		if diff := cmp.Diff(want, h.Trend); diff != "" {
			t.Errorf("Score(healthy) trend mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("at risk, with drivers", func(t *testing.T) {
		f := x.healthy()
		f.ActiveUserDays, f.PriorActiveUserDays = 18*30, 31*30
		f.Overdue = []csbot.Invoice{
			{ID: 1, DueOn: x.day(47), Amount: 1_000_000},
			{ID: 2, DueOn: x.day(12), Amount: 840_000},
		}
		f.Tickets30 = 12
		h := csbot.Score(f, p, healthNow())
		want := []csbot.Driver{
			{Kind: csbot.ComponentUsage, Points: 18, Text: "active users down 41% vs the prior 30 days (31 -> 18 of 50 seats)"},
			{Kind: csbot.ComponentPayments, Points: 15, Text: "2 invoices overdue, oldest 47 days, $18,400"},
			{Kind: csbot.ComponentSupport, Points: 7, Text: "12 tickets in 30 days (over 10), none open"},
		}
		if diff := cmp.Diff(want, h.Drivers); diff != "" {
			t.Errorf("Score(at risk) drivers mismatch (-want +got):\n%s", diff)
		}
		if h.Score != 59 || h.Band != csbot.BandYellow {
			t.Errorf("Score(at risk) = %d %s, want 59 yellow", h.Score, h.Band)
		}
	})

	t.Run("missing components renormalise", func(t *testing.T) {
		f := x.healthy()
		f.NPS = nil
		f.InvoicesOnRecord = false
		h := csbot.Score(f, p, healthNow())
		want := []string{"no NPS responses in the last 180 days", "no invoice data"}
		if diff := cmp.Diff(want, h.Missing()); diff != "" {
			t.Errorf("Score(no NPS, no invoices).Missing() mismatch (-want +got):\n%s", diff)
		}
		if h.Coverage != 70 {
			t.Errorf("Score(no NPS, no invoices) coverage = %d, want 70", h.Coverage)
		}
		c, _ := h.Component(csbot.ComponentUsage)
		if math.Abs(c.Share-0.5) > 1e-9 {
			t.Errorf("Score(no NPS, no invoices) usage share = %v, want 0.5", c.Share)
		}
	})

	t.Run("no data at all", func(t *testing.T) {
		q := csbot.DefaultPolicy()
		q.Tiers.High.Weights.Reliability = 0
		f := csbot.AccountFacts{AccountID: 1, Tier: csbot.TierHigh}
		h := csbot.Score(f, q, healthNow())
		if h.Score != 0 || h.Band != "" || h.Coverage != 0 || len(h.Missing()) != 5 {
			t.Errorf("Score(no data) = %d %q coverage %d missing %q, want 0, no band, 0, 5 missing",
				h.Score, h.Band, h.Coverage, h.Missing())
		}
	})

	t.Run("override shown until it expires", func(t *testing.T) {
		f := x.healthy()
		f.Override = &csbot.HealthOverride{ID: 3, AccountID: 42, Band: csbot.BandRed, Note: "exec sponsor leaving",
			By: "U123", CreatedAt: x.ago(5), ExpiresAt: healthNow()}
		h := csbot.Score(f, p, healthNow().Add(-time.Second))
		if h.Override == nil || h.Override.Band != csbot.BandRed || h.Band != csbot.BandGreen {
			t.Errorf("Score(override) = band %s override %+v, want green with a red override beside it", h.Band, h.Override)
		}
		if h := csbot.Score(f, p, healthNow()); h.Override != nil {
			t.Errorf("Score(override at expiry) override = %+v, want nil", h.Override)
		}
	})
}

func TestHealthOverrideValidate(t *testing.T) {
	var x hx
	ok := csbot.HealthOverride{Score: 35, HasScore: true, Note: "budget cut", By: "U1",
		CreatedAt: x.ago(1), ExpiresAt: x.ago(-29)}
	tests := []struct {
		name    string
		change  func(*csbot.HealthOverride)
		wantErr string
	}{
		{"valid score", func(*csbot.HealthOverride) {}, ""},
		{"valid band", func(o *csbot.HealthOverride) { o.HasScore, o.Band = false, csbot.BandRed }, ""},
		{"neither", func(o *csbot.HealthOverride) { o.HasScore = false }, "needs a score or a band"},
		{"score 101", func(o *csbot.HealthOverride) { o.Score = 101 }, "must be between 0 and 100"},
		{"bad band", func(o *csbot.HealthOverride) { o.Band = "amber" }, `band "amber"`},
		{"no note", func(o *csbot.HealthOverride) { o.Note = "  " }, "needs a note"},
		{"no author", func(o *csbot.HealthOverride) { o.By = "" }, "needs its author"},
		{"expires before created", func(o *csbot.HealthOverride) { o.ExpiresAt = o.CreatedAt }, "must expire after"},
	}
	for _, tt := range tests {
		o := ok
		tt.change(&o)
		err := o.Validate()
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: Validate(%+v) = %v, want %q", tt.name, o, err, tt.wantErr)
		}
	}
	if got, want := csbot.DefaultPolicy().OverrideExpiresAt(healthNow()), healthNow().AddDate(0, 0, 30); !got.Equal(want) {
		t.Errorf("OverrideExpiresAt(%v) = %v, want %v", healthNow(), got, want)
	}
}

func TestCanOverride(t *testing.T) {
	acct := csbot.Account{ID: 42, CSMUserID: "UCSM"}
	tests := []struct {
		name    string
		actor   csbot.User
		acct    csbot.Account
		manager string
		want    bool
	}{
		{"the CSM", csbot.User{SlackID: "UCSM", Role: csbot.UserCSM}, acct, "UMGR", true},
		{"their manager", csbot.User{SlackID: "UMGR", Role: csbot.UserManager}, acct, "UMGR", true},
		{"an admin", csbot.User{SlackID: "UADM", Role: csbot.UserAdmin}, acct, "UMGR", true},
		{"another CSM", csbot.User{SlackID: "UOTHER", Role: csbot.UserCSM}, acct, "UMGR", false},
		{"another manager", csbot.User{SlackID: "UMGR2", Role: csbot.UserManager}, acct, "UMGR", false},
		{"sales", csbot.User{SlackID: "UAE", Role: csbot.UserSales}, acct, "UMGR", false},
		{"no CSM: nobody matches the empty id", csbot.User{SlackID: "", Role: csbot.UserCSM}, csbot.Account{ID: 1}, "", false},
		{"no CSM: manager unknown", csbot.User{SlackID: "UMGR", Role: csbot.UserManager}, csbot.Account{ID: 1}, "UMGR", false},
		{"no CSM: admin", csbot.User{SlackID: "UADM", Role: csbot.UserAdmin}, csbot.Account{ID: 1}, "", true},
	}
	for _, tt := range tests {
		if got := csbot.CanOverride(tt.actor, tt.acct, tt.manager); got != tt.want {
			t.Errorf("%s: CanOverride(%+v, %+v, %q) = %v, want %v", tt.name, tt.actor, tt.acct, tt.manager, got, tt.want)
		}
	}
}

func TestWindowsAt(t *testing.T) {
	var x hx
	w := csbot.WindowsAt(healthNow())
	want := csbot.FactWindows{
		Today:       x.day(0),
		UsageFrom:   x.day(30),
		UsageTo:     x.day(1),
		PriorFrom:   x.day(60),
		PriorTo:     x.day(31),
		RecentSince: x.ago(30),
		NPSSince:    x.ago(180),
	}
	if diff := cmp.Diff(want, w); diff != "" {
		t.Errorf("WindowsAt(%v) mismatch (-want +got):\n%s", healthNow(), diff)
	}
}

// randomFacts returns plausible, random facts for property tests.
func randomFacts(r *rand.Rand) csbot.AccountFacts {
	var x hx
	f := csbot.AccountFacts{
		AccountID:     r.Int64N(1000) + 1,
		Tier:          csbot.Tiers()[r.IntN(3)],
		CreatedAt:     x.ago(r.IntN(1000)),
		LicensedSeats: r.IntN(300),
	}
	if r.IntN(8) > 0 {
		f.UsageFirstDay = x.day(r.IntN(400))
		f.ActiveUserDays = r.Int64N(300 * 30)
		f.PriorActiveUserDays = r.Int64N(300 * 30)
		if r.IntN(6) > 0 {
			f.LastActiveDay = x.day(r.IntN(100))
		}
	}
	if r.IntN(6) > 0 {
		f.TicketsOnRecord = true
		f.Tickets30, f.OpenUrgent, f.OpenHigh = r.IntN(60), r.IntN(4), r.IntN(6)
		if r.IntN(2) == 0 {
			f.OldestOpenAt = x.ago(r.IntN(120))
		}
	}
	for i := range r.IntN(8) {
		f.NPS = append(f.NPS, csbot.NPSResponse{ID: int64(i + 1), Score: r.IntN(11), RespondedAt: x.ago(r.IntN(200))})
	}
	if r.IntN(6) > 0 {
		f.InvoicesOnRecord = true
		for i := range r.IntN(3) {
			f.Overdue = append(f.Overdue, csbot.Invoice{ID: int64(i + 1), DueOn: x.day(r.IntN(150)), Amount: csbot.Cents(r.Int64N(5_000_000))})
		}
	}
	if r.IntN(6) > 0 {
		f.LastTouchAt = x.ago(r.IntN(400))
		if r.IntN(2) == 0 {
			f.LastEBRAt = x.ago(r.IntN(700))
		}
		f.ExecSponsors = r.IntN(2)
	}
	for i := range r.IntN(5) {
		f.Outages = append(f.Outages, csbot.Outage{ID: int64(i + 1), AccountID: r.Int64N(2), StartedAt: x.ago(r.IntN(40))})
	}
	f.ActiveChampions = r.IntN(2)
	for i := range r.IntN(2) {
		f.InactiveChampions = append(f.InactiveChampions, csbot.Contact{ID: int64(i + 70), Name: "Pat", Role: csbot.RoleChampion})
	}
	if r.IntN(2) == 0 {
		f.NextRenewal = csbot.Renewal{ID: 9, RenewalDate: x.day(-r.IntN(400) + 20), ARR: 5_000_000, Status: csbot.RenewalOpen}
	}
	bands := csbot.Bands()
	for _, s := range []*csbot.HealthSnapshot{&f.Previous, &f.Week, &f.Month} {
		if r.IntN(3) > 0 {
			score := r.IntN(101)
			*s = csbot.HealthSnapshot{Day: x.day(r.IntN(30) + 1), Score: score, Band: bands[r.IntN(3)]}
		}
	}
	return f
}

func TestScoreProperties(t *testing.T) {
	p := csbot.DefaultPolicy()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		f := randomFacts(r)
		h := csbot.Score(f, p, healthNow())

		if h.Score < 0 || h.Score > 100 {
			t.Fatalf("case %d: Score(%+v) = %d, want 0..100", i, f, h.Score)
		}
		if h.Band != "" && h.Band != p.Tier(f.Tier).Bands.Band(h.Score) {
			t.Fatalf("case %d: Score(%+v) band = %s for %d", i, f, h.Band, h.Score)
		}
		var shares float64
		for _, c := range h.Components {
			if c.Score < 0 || c.Score > 100 {
				t.Fatalf("case %d: Score(%+v) %s = %d, want 0..100", i, f, c.Kind, c.Score)
			}
			if c.Evidence == "" {
				t.Fatalf("case %d: Score(%+v) %s has no evidence", i, f, c.Kind)
			}
			shares += c.Share
		}
		if h.Coverage > 0 && math.Abs(shares-1) > 1e-9 {
			t.Fatalf("case %d: Score(%+v) shares sum to %v, want 1", i, f, shares)
		}
		if len(h.Drivers) > 3 {
			t.Fatalf("case %d: Score(%+v) has %d drivers, want <= 3", i, f, len(h.Drivers))
		}
		for j := 1; j < len(h.Drivers); j++ {
			if h.Drivers[j].Points > h.Drivers[j-1].Points {
				t.Fatalf("case %d: Score(%+v) drivers out of order: %+v", i, f, h.Drivers)
			}
		}
	}
}

// TestScoreRenormalisation checks that, whichever components lack data,
// the weights of the rest renormalise to the same total.
func TestScoreRenormalisation(t *testing.T) {
	var x hx
	p := csbot.DefaultPolicy()
	missing := []func(*csbot.AccountFacts){
		func(f *csbot.AccountFacts) { f.UsageFirstDay = time.Time{} },
		func(f *csbot.AccountFacts) { f.TicketsOnRecord = false },
		func(f *csbot.AccountFacts) { f.NPS = nil },
		func(f *csbot.AccountFacts) { f.InvoicesOnRecord = false },
		func(f *csbot.AccountFacts) { f.LastTouchAt = time.Time{} },
	}
	for mask := range 1 << len(missing) {
		f := x.healthy()
		f.Tickets30, f.OpenUrgent = 15, 1 // so the components differ
		var wantMissing int
		for i, drop := range missing {
			if mask&(1<<i) != 0 {
				drop(&f)
				wantMissing++
			}
		}
		h := csbot.Score(f, p, healthNow())
		var shares, weighted float64
		present := 0
		for _, c := range h.Components {
			shares += c.Share
			weighted += c.Share * float64(c.Score)
			if !c.NoData {
				present += c.Weight
			}
		}
		if math.Abs(shares-1) > 1e-9 {
			t.Errorf("Score(mask %05b) shares sum to %v, want 1", mask, shares)
		}
		if got := len(h.Missing()); got != wantMissing {
			t.Errorf("Score(mask %05b) missing %d components, want %d", mask, got, wantMissing)
		}
		if h.Score != int(math.Round(weighted)) {
			t.Errorf("Score(mask %05b) = %d, want %d", mask, h.Score, int(math.Round(weighted)))
		}
		if want := int(math.Round(100 * float64(present) / 100)); h.Coverage != want {
			t.Errorf("Score(mask %05b) coverage = %d, want %d", mask, h.Coverage, want)
		}
	}
}

func TestScoreMoreUsersNeverLowersUsage(t *testing.T) {
	p := csbot.DefaultPolicy()
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		f := randomFacts(r)
		before, ok1 := csbot.Score(f, p, healthNow()).Component(csbot.ComponentUsage)
		g := f
		g.ActiveUserDays += r.Int64N(500) + 1
		after, ok2 := csbot.Score(g, p, healthNow()).Component(csbot.ComponentUsage)
		if !ok1 || !ok2 || before.NoData || after.NoData {
			continue
		}
		if after.Score < before.Score {
			t.Fatalf("case %d: usage with %d active user-days = %d, with %d = %d; want no lower (facts %+v)",
				i, f.ActiveUserDays, before.Score, g.ActiveUserDays, after.Score, f)
		}
	}
}

func TestScoreNewDetractorNeverRaisesSatisfaction(t *testing.T) {
	p := csbot.DefaultPolicy()
	r := rand.New(rand.NewPCG(5, 6))
	var x hx
	for i := range 5000 {
		f := randomFacts(r)
		before, _ := csbot.Score(f, p, healthNow()).Component(csbot.ComponentSatisfaction)
		g := f
		g.NPS = append(append([]csbot.NPSResponse(nil), f.NPS...),
			csbot.NPSResponse{ID: 99, Score: r.IntN(7), RespondedAt: x.ago(r.IntN(180))})
		after, _ := csbot.Score(g, p, healthNow()).Component(csbot.ComponentSatisfaction)
		if !before.NoData && after.Score > before.Score {
			t.Fatalf("case %d: satisfaction %d rose to %d with detractor %+v (before: %+v)",
				i, before.Score, after.Score, g.NPS[len(g.NPS)-1], f.NPS)
		}
	}
}

func BenchmarkScore(b *testing.B) {
	var x hx
	f := x.healthy()
	f.ActiveUserDays = 18 * 30
	f.Overdue = []csbot.Invoice{{ID: 1, DueOn: x.day(47), Amount: 1_000_000}}
	f.Outages = []csbot.Outage{{ID: 1, StartedAt: x.ago(3)}}
	p := csbot.DefaultPolicy()
	b.ReportAllocs()
	for b.Loop() {
		csbot.Score(f, p, healthNow())
	}
}

func BenchmarkScoreAndSignals(b *testing.B) {
	var x hx
	f := x.healthy()
	f.ActiveUserDays = 18 * 30
	f.Overdue = []csbot.Invoice{{ID: 1, DueOn: x.day(47), Amount: 1_000_000}}
	f.Outages = []csbot.Outage{{ID: 1, StartedAt: x.ago(3)}, {ID: 2, StartedAt: x.ago(9)}}
	p := csbot.DefaultPolicy()
	b.ReportAllocs()
	for b.Loop() {
		h := csbot.Score(f, p, healthNow())
		csbot.Signals(f, h, p, healthNow())
	}
}
