package csbot_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/csbot/csbot"
)

// signalCase is one row of a signal table test: a change to healthy facts
// and the keys and severities of the signals of one kind it should raise.
type signalCase struct {
	name   string
	change func(*csbot.AccountFacts)
	want   []string // "<severity> <dedupe key>"
}

func runSignalCases(t *testing.T, kind csbot.SignalKind, tests []signalCase) {
	t.Helper()
	p := csbot.DefaultPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var x hx
			f := x.healthy()
			tt.change(&f)
			h := csbot.Score(f, p, healthNow())
			var got []string
			for _, s := range csbot.Signals(f, h, p, healthNow()) {
				if s.Kind != kind {
					continue
				}
				if s.AccountID != f.AccountID || s.Evidence == "" {
					t.Errorf("Signals(%s) = %+v, want account %d and evidence", tt.name, s, f.AccountID)
				}
				got = append(got, string(s.Severity)+" "+s.DedupeKey)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Signals(%s) %s mismatch (-want +got):\n%s", tt.name, kind, diff)
			}
		})
	}
}

func TestSignalsHealthyAccountHasNone(t *testing.T) {
	var x hx
	p := csbot.DefaultPolicy()
	f := x.healthy()
	if got := csbot.Signals(f, csbot.Score(f, p, healthNow()), p, healthNow()); got != nil {
		t.Errorf("Signals(healthy) = %+v, want none", got)
	}
}

func TestSignalTicketSpike(t *testing.T) {
	tickets := func(tier csbot.Tier, n int) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) { f.Tier, f.Tickets30 = tier, n }
	}
	runSignalCases(t, csbot.SignalTicketSpike, []signalCase{
		{"high at 10", tickets(csbot.TierHigh, 10), nil},
		{"high above 10", tickets(csbot.TierHigh, 11), []string{"warning ticket_spike:42:>10"}},
		{"high at 20", tickets(csbot.TierHigh, 20), []string{"warning ticket_spike:42:>10"}},
		{"high above 20", tickets(csbot.TierHigh, 21), []string{"critical ticket_spike:42:>20"}},
		{"low at 20", tickets(csbot.TierLow, 20), nil},
		{"low above 20", tickets(csbot.TierLow, 21), []string{"warning ticket_spike:42:>20"}},
		{"low above 40", tickets(csbot.TierLow, 41), []string{"critical ticket_spike:42:>40"}},
		{"tech at 40", tickets(csbot.TierTech, 40), nil},
		{"tech above 40", tickets(csbot.TierTech, 41), []string{"warning ticket_spike:42:>40"}},
	})
}

func TestSignalUsage(t *testing.T) {
	var x hx
	usage := func(cur int64) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) { f.ActiveUserDays, f.PriorActiveUserDays = cur, 1000 }
	}
	runSignalCases(t, csbot.SignalUsageDrop, []signalCase{
		{"steady", usage(1000), nil},
		{"down 29.9%", usage(701), nil},
		{"down 30%", usage(700), []string{"warning usage_drop:42:-30%"}},
		{"down 30.1%", usage(699), []string{"warning usage_drop:42:-30%"}},
		{"down 49.9%", usage(501), []string{"warning usage_drop:42:-30%"}},
		{"down 50%", usage(500), []string{"critical usage_drop:42:-50%"}},
		{"down 100%", usage(0), []string{"critical usage_drop:42:-50%"}},
		{"prior period too short for a trend", func(f *csbot.AccountFacts) {
			f.UsageFirstDay, f.ActiveUserDays, f.PriorActiveUserDays = x.day(43), 100, 1000
		}, nil},
		{"silent accounts get usage_silent instead", func(f *csbot.AccountFacts) {
			f.LastActiveDay, f.ActiveUserDays = x.day(75), 0
		}, nil},
	})

	silent := func(lastActive int) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) {
			f.LastActiveDay, f.ActiveUserDays, f.PriorActiveUserDays = x.day(lastActive), 0, 0
		}
	}
	runSignalCases(t, csbot.SignalUsageSilent, []signalCase{
		{"59 days", silent(60), nil},
		{"60 days", silent(61), []string{"critical usage_silent:42:60d"}},
		{"61 days", silent(62), []string{"critical usage_silent:42:60d"}},
		{"never active", func(f *csbot.AccountFacts) {
			f.LastActiveDay, f.ActiveUserDays, f.PriorActiveUserDays = time.Time{}, 0, 0
		}, nil},
		{"no usage data", func(f *csbot.AccountFacts) {
			f.UsageFirstDay, f.LastActiveDay = time.Time{}, x.day(100)
		}, nil},
	})
}

func TestSignalInvoiceOverdue(t *testing.T) {
	var x hx
	overdue := func(tier csbot.Tier, days int) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) {
			f.Tier = tier
			f.Overdue = []csbot.Invoice{{ID: 880, ExternalID: "INV-880", DueOn: x.day(days), Amount: 1_840_000}}
		}
	}
	runSignalCases(t, csbot.SignalInvoiceOverdue, []signalCase{
		{"high 15 days", overdue(csbot.TierHigh, 15), nil},
		{"high 16 days", overdue(csbot.TierHigh, 16), []string{"warning invoice_overdue:880:15d"}},
		{"high 30 days", overdue(csbot.TierHigh, 30), []string{"warning invoice_overdue:880:15d"}},
		{"high 31 days", overdue(csbot.TierHigh, 31), []string{"critical invoice_overdue:880:30d"}},
		{"low 30 days", overdue(csbot.TierLow, 30), nil},
		{"low 31 days", overdue(csbot.TierLow, 31), []string{"warning invoice_overdue:880:30d"}},
		{"low 60 days", overdue(csbot.TierLow, 60), []string{"warning invoice_overdue:880:30d"}},
		{"low 61 days", overdue(csbot.TierLow, 61), []string{"critical invoice_overdue:880:60d"}},
		{"tech 45 days", overdue(csbot.TierTech, 45), nil},
		{"tech 46 days", overdue(csbot.TierTech, 46), []string{"warning invoice_overdue:880:45d"}},
		{"tech 91 days", overdue(csbot.TierTech, 91), []string{"critical invoice_overdue:880:90d"}},
		{"one signal per invoice", func(f *csbot.AccountFacts) {
			f.Overdue = []csbot.Invoice{{ID: 1, DueOn: x.day(20)}, {ID: 2, DueOn: x.day(40)}, {ID: 3, DueOn: x.day(3)}}
		}, []string{"warning invoice_overdue:1:15d", "critical invoice_overdue:2:30d"}},
	})
}

func TestSignalOutages(t *testing.T) {
	var x hx
	outages := func(daysAgo ...int) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) {
			for i, d := range daysAgo {
				f.Outages = append(f.Outages, csbot.Outage{ID: int64(i + 1), AccountID: int64(i % 2 * 42), StartedAt: x.ago(d)})
			}
		}
	}
	runSignalCases(t, csbot.SignalOutages, []signalCase{
		{"one", outages(1), nil},
		{"two", outages(1, 29), []string{"warning outages:42:>=2"}},
		{"three", outages(1, 2, 3), []string{"warning outages:42:>=2"}},
		{"four", outages(1, 2, 3, 4), []string{"critical outages:42:>=4"}},
		{"one of two older than 30 days", outages(1, 31), nil},
	})
}

func TestSignalDetractor(t *testing.T) {
	var x hx
	response := func(score, daysAgo int) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) {
			f.NPS = append(f.NPS, csbot.NPSResponse{ID: 777, Score: score, RespondedAt: x.ago(daysAgo)})
		}
	}
	runSignalCases(t, csbot.SignalDetractor, []signalCase{
		{"7 is passive", response(7, 1), nil},
		{"6", response(6, 1), []string{"warning detractor:777:<=6"}},
		{"4", response(4, 1), []string{"warning detractor:777:<=6"}},
		{"3", response(3, 1), []string{"critical detractor:777:<=3"}},
		{"0", response(0, 1), []string{"critical detractor:777:<=3"}},
		{"30 days ago", response(5, 30), []string{"warning detractor:777:<=6"}},
		{"31 days ago is too old to alert", response(5, 31), nil},
	})

	t.Run("evidence quotes the comment", func(t *testing.T) {
		p := csbot.DefaultPolicy()
		f := x.healthy()
		f.NPS = []csbot.NPSResponse{{ID: 5, Score: 2, RespondedAt: x.ago(3), RespondentEmail: "kim@acme.test",
			Comment: "Too slow\nsince the  update"}}
		got := csbot.Signals(f, csbot.Score(f, p, healthNow()), p, healthNow())
		want := `NPS 2 from kim@acme.test 3 days ago: "Too slow since the update"`
		if len(got) != 1 || got[0].Evidence != want {
			t.Errorf("Signals(detractor) = %+v, want evidence %q", got, want)
		}
	})
}

func TestSignalBandDrop(t *testing.T) {
	var x hx
	p := csbot.DefaultPolicy()
	tests := []struct {
		prev, now csbot.Band
		want      []string
	}{
		{csbot.BandGreen, csbot.BandYellow, []string{"warning band_drop:42:yellow"}},
		{csbot.BandYellow, csbot.BandRed, []string{"critical band_drop:42:red"}},
		{csbot.BandGreen, csbot.BandRed, []string{"critical band_drop:42:red"}},
		{csbot.BandYellow, csbot.BandYellow, nil},
		{csbot.BandRed, csbot.BandYellow, nil},
		{"", csbot.BandRed, nil},
		{csbot.BandGreen, "", nil},
	}
	for _, tt := range tests {
		f := x.healthy()
		f.Previous = csbot.HealthSnapshot{Day: x.day(1), Score: 75, Band: tt.prev}
		h := csbot.HealthScore{AccountID: 42, Score: 50, Band: tt.now}
		var got []string
		for _, s := range csbot.Signals(f, h, p, healthNow()) {
			if s.Kind == csbot.SignalBandDrop {
				got = append(got, string(s.Severity)+" "+s.DedupeKey)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Signals(%s -> %s) band_drop mismatch (-want +got):\n%s", tt.prev, tt.now, diff)
		}
	}

	t.Run("no previous snapshot", func(t *testing.T) {
		f := x.healthy()
		f.Previous = csbot.HealthSnapshot{}
		h := csbot.HealthScore{AccountID: 42, Score: 10, Band: csbot.BandRed}
		for _, s := range csbot.Signals(f, h, p, healthNow()) {
			if s.Kind == csbot.SignalBandDrop {
				t.Errorf("Signals(no previous) = %+v, want no band_drop", s)
			}
		}
	})

	t.Run("evidence names the top driver", func(t *testing.T) {
		f := x.healthy()
		f.ActiveUserDays, f.PriorActiveUserDays = 0, 30*30
		f.Overdue = []csbot.Invoice{{ID: 1, DueOn: x.day(40), Amount: 100_00}}
		f.NPS = []csbot.NPSResponse{{ID: 1, Score: 8, RespondedAt: x.ago(100)}}
		h := csbot.Score(f, p, healthNow())
		for _, s := range csbot.Signals(f, h, p, healthNow()) {
			if s.Kind == csbot.SignalBandDrop {
				want := "health fell from green (95) to yellow (45) since 2025-06-14: active users down 100% vs the prior 30 days (30 -> 0 of 50 seats)"
				if s.Evidence != want {
					t.Errorf("Signals(band drop) evidence = %q, want %q", s.Evidence, want)
				}
				return
			}
		}
		t.Errorf("Signals(band drop, score %d %s) has no band_drop", h.Score, h.Band)
	})
}

func TestSignalChampionLeft(t *testing.T) {
	var x hx
	left := func(active int, renewalIn int) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) {
			f.ActiveChampions = active
			f.InactiveChampions = []csbot.Contact{{ID: 61, Name: "Ana Ruiz"}, {ID: 60, Name: "Old Champ"}}
			f.NextRenewal.RenewalDate = x.day(-renewalIn)
		}
	}
	runSignalCases(t, csbot.SignalChampionLeft, []signalCase{
		{"another active champion", left(1, 200), nil},
		{"none active", left(0, 200), []string{"warning champion_left:61:warning"}},
		{"renewal in 91 days", left(0, 91), []string{"warning champion_left:61:warning"}},
		{"renewal in 90 days", left(0, 90), []string{"critical champion_left:61:critical"}},
		{"never had a champion", func(f *csbot.AccountFacts) { f.ActiveChampions = 0 }, nil},
	})
}

func TestSignalNoTouch(t *testing.T) {
	var x hx
	touched := func(tier csbot.Tier, daysAgo int) func(*csbot.AccountFacts) {
		return func(f *csbot.AccountFacts) { f.Tier, f.LastTouchAt = tier, x.ago(daysAgo) }
	}
	runSignalCases(t, csbot.SignalNoTouch, []signalCase{
		{"high 30 days", touched(csbot.TierHigh, 30), nil},
		{"high 31 days", touched(csbot.TierHigh, 31), []string{"info no_touch:42:30d"}},
		{"high 60 days", touched(csbot.TierHigh, 60), []string{"info no_touch:42:30d"}},
		{"high 61 days", touched(csbot.TierHigh, 61), []string{"warning no_touch:42:60d"}},
		{"low 90 days", touched(csbot.TierLow, 90), nil},
		{"low 91 days", touched(csbot.TierLow, 91), []string{"info no_touch:42:90d"}},
		{"tech never", touched(csbot.TierTech, 900), nil},
		{"never touched, created 30 days ago", func(f *csbot.AccountFacts) {
			f.LastTouchAt, f.CreatedAt = time.Time{}, x.ago(30)
		}, nil},
		{"never touched, created 31 days ago", func(f *csbot.AccountFacts) {
			f.LastTouchAt, f.CreatedAt = time.Time{}, x.ago(31)
		}, []string{"info no_touch:42:30d"}},
	})
}

func TestSignalRenewalRisk(t *testing.T) {
	var x hx
	p := csbot.DefaultPolicy()
	tests := []struct {
		name      string
		renewalIn int
		status    csbot.RenewalStatus
		band      csbot.Band
		delta7    int
		want      []string
	}{
		{"red, 90 days", 90, csbot.RenewalOpen, csbot.BandRed, 5, []string{"critical renewal_risk:7:red"}},
		{"red, 91 days", 91, csbot.RenewalOpen, csbot.BandRed, 5, nil},
		{"red, today", 0, csbot.RenewalOpen, csbot.BandRed, 5, []string{"critical renewal_risk:7:red"}},
		{"red, date passed", -1, csbot.RenewalOpen, csbot.BandRed, 5, nil},
		{"yellow falling", 30, csbot.RenewalOpen, csbot.BandYellow, -1, []string{"warning renewal_risk:7:yellow"}},
		{"yellow flat", 30, csbot.RenewalOpen, csbot.BandYellow, 0, nil},
		{"green falling", 30, csbot.RenewalOpen, csbot.BandGreen, -20, nil},
		{"red, renewed", 30, csbot.RenewalRenewed, csbot.BandRed, 0, nil},
	}
	for _, tt := range tests {
		f := x.healthy()
		f.NextRenewal.RenewalDate, f.NextRenewal.Status = x.day(-tt.renewalIn), tt.status
		f.Previous = csbot.HealthSnapshot{}
		h := csbot.HealthScore{AccountID: 42, Score: 35, Band: tt.band, Trend: csbot.Trend{Delta7: tt.delta7, Has7: true}}
		var got []string
		for _, s := range csbot.Signals(f, h, p, healthNow()) {
			if s.Kind == csbot.SignalRenewalRisk {
				got = append(got, string(s.Severity)+" "+s.DedupeKey)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Signals(%s) renewal_risk mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestTrendFalling(t *testing.T) {
	tests := []struct {
		trend csbot.Trend
		want  bool
	}{
		{csbot.Trend{}, false},
		{csbot.Trend{Delta7: -1, Has7: true}, true},
		{csbot.Trend{Delta7: 0, Has7: true, Delta30: -10, Has30: true}, false},
		{csbot.Trend{Delta30: -1, Has30: true}, true},
		{csbot.Trend{Delta30: 3, Has30: true}, false},
	}
	for _, tt := range tests {
		if got := tt.trend.Falling(); got != tt.want {
			t.Errorf("%+v.Falling() = %v, want %v", tt.trend, got, tt.want)
		}
	}
}

// TestSignalKeys checks, over random facts, that keys are unique within an
// account, well formed, free of dates, and do not change with the day the
// same facts are looked at.
func TestSignalKeys(t *testing.T) {
	p := csbot.DefaultPolicy()
	r := rand.New(rand.NewPCG(7, 8))
	kinds := map[csbot.SignalKind]bool{}
	for _, k := range csbot.SignalKinds() {
		kinds[k] = true
	}
	for i := range 3000 {
		f := randomFacts(r)
		h := csbot.Score(f, p, healthNow())
		seen := map[string]bool{}
		for _, s := range csbot.Signals(f, h, p, healthNow()) {
			parts := strings.Split(s.DedupeKey, ":")
			if len(parts) != 3 || parts[0] != string(s.Kind) || !kinds[s.Kind] || strings.Contains(s.DedupeKey, "2025") {
				t.Fatalf("case %d: Signals(%+v) key %q is not kind:subject:step", i, f, s.DedupeKey)
			}
			if seen[s.DedupeKey] {
				t.Fatalf("case %d: Signals(%+v) repeats key %q", i, f, s.DedupeKey)
			}
			seen[s.DedupeKey] = true
			switch s.Severity {
			case csbot.SignalInfo, csbot.SignalWarning, csbot.SignalCritical:
			default:
				t.Fatalf("case %d: Signals(%+v) severity %q", i, f, s.Severity)
			}
		}
	}
}
