package csbot_test

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/csbot/csbot"
	"github.com/google/go-cmp/cmp"
)

// update rewrites the golden files in testdata: go test . -update.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// ebrPeriodQ1 is FY2027 Q1 of a fiscal year starting in February.
func ebrPeriodQ1() csbot.EBRPeriod {
	return csbot.EBRPeriod{Start: date(2026, 2, 1), End: date(2026, 5, 1), Label: "FY2027 Q1 (Feb 1 – Apr 30, 2026)"}
}

// healthyFacts is the fact sheet of a green account with high adoption,
// a handoff and a renewal ahead.
func healthyFacts() csbot.EBRFacts {
	return csbot.EBRFacts{
		Account:         csbot.AccountBrief{ID: 7, ExternalID: "CRM-0007", Name: "Acme Corp", Tier: csbot.TierHigh, ARR: 18_437_000},
		Period:          ebrPeriodQ1(),
		Goals:           "Cut onboarding time for new support agents from 6 weeks to 3.",
		SuccessCriteria: "80% of agents active weekly by the end of Q2.",
		Health:          csbot.HealthBrief{Score: 86, Band: csbot.BandGreen, Trend: csbot.Trend{Delta7: 2, Has7: true, Delta30: 5, Has30: true}, Coverage: 100},
		HealthStart:     &csbot.HealthBrief{Score: 79, Band: csbot.BandGreen, Coverage: 100},
		Usage: csbot.EBRUsage{HasData: true, Seats: 40, AvgActiveUsers: 36.4, PeakActiveUsers: 39, PeakDay: "2026-03-17",
			AdoptionPct: 91, PrevAvgActive: 31.2, ChangePct: 17, HasPrev: true, DaysWithActivity: 89},
		Support: csbot.EBRSupport{Opened: 4, BySeverity: map[string]int{"normal": 3, "low": 1}, Resolved: 4, MedianHours: 6.5,
			Subjects: []string{"SSO login loop", "Export to CSV times out"}},
		Satisfaction: csbot.EBRSatisfaction{Responses: 12, NPS: 58, Promoters: 8, Passives: 3, Detractors: 1,
			Quotes: []csbot.EBRQuote{{Score: 10, Comment: "Our new hires ramp in half the time."}}},
		Touchpoints: []csbot.EBRTouchpoint{{Day: "2026-04-14", Kind: csbot.TouchMeeting, Summary: "Monthly status"}},
		Renewal: &csbot.RenewalBrief{ID: 3, Date: date(2026, 9, 30), ARR: 18_437_000, AutoRenew: true, DaysLeft: 152,
			Contact: "Dana Reyes", ContactRef: "VP Support"},
	}
}

// atRiskFacts is the fact sheet of a yellow account: falling usage, a
// ticket spike, and no handoff on file.
func atRiskFacts() csbot.EBRFacts {
	return csbot.EBRFacts{
		Account: csbot.AccountBrief{ID: 12, ExternalID: "CRM-0012", Name: "Globex", Tier: csbot.TierLow, ARR: 4_200_050},
		Period: csbot.EBRPeriod{Start: date(2026, 2, 3), End: date(2026, 5, 4),
			Label: "last 90 days (Feb 3 – May 3, 2026)"},
		Health: csbot.HealthBrief{Score: 61, Band: csbot.BandYellow, Trend: csbot.Trend{Delta7: -4, Has7: true}, Coverage: 80},
		Usage: csbot.EBRUsage{HasData: true, Seats: 25, AvgActiveUsers: 14.2, PeakActiveUsers: 21, PeakDay: "2026-02-10",
			AdoptionPct: 57, PrevAvgActive: 19.8, ChangePct: -28, HasPrev: true, DaysWithActivity: 63},
		Support: csbot.EBRSupport{Opened: 11, BySeverity: map[string]int{"urgent": 1, "high": 4, "normal": 6}, Resolved: 8,
			MedianHours: 31.25, OpenAtEnd: 3, UrgentOpened: 1, Subjects: []string{"Sync fails after 2.4 upgrade"}},
		Satisfaction: csbot.EBRSatisfaction{Responses: 3, NPS: -33, Promoters: 0, Passives: 2, Detractors: 1,
			Quotes: []csbot.EBRQuote{{Score: 4, Comment: "Too many sync errors this quarter."}}},
		Renewal: &csbot.RenewalBrief{ID: 9, Date: date(2026, 7, 15), ARR: 4_200_050, DaysLeft: 72},
		Risks: []csbot.AlertItem{
			{AlertID: 301, Kind: csbot.SignalTicketSpike, Severity: csbot.SignalWarning, Evidence: "11 tickets in 30 days (threshold 8)"},
			{AlertID: 302, Kind: csbot.SignalUsageDrop, Severity: csbot.SignalWarning, Evidence: "active users down 28% against the prior 30 days"},
		},
	}
}

// churningFacts is the fact sheet of a red account: usage gone, NPS
// unanswered, the champion gone, and a renewal weeks away.
func churningFacts() csbot.EBRFacts {
	return csbot.EBRFacts{
		Account:     csbot.AccountBrief{ID: 31, ExternalID: "CRM-0031", Name: "Initech", Tier: csbot.TierHigh, ARR: 125_000_000},
		Period:      ebrPeriodQ1(),
		Goals:       "Replace the legacy ticketing tool in all 4 regions.",
		Health:      csbot.HealthBrief{Score: 22, Band: csbot.BandRed, Trend: csbot.Trend{Delta7: -9, Has7: true, Delta30: -31, Has30: true}, Coverage: 60},
		HealthStart: &csbot.HealthBrief{Score: 53, Band: csbot.BandYellow, Coverage: 60},
		Usage: csbot.EBRUsage{HasData: true, Seats: 300, AvgActiveUsers: 42, PeakActiveUsers: 118, PeakDay: "2026-02-02",
			AdoptionPct: 14, PrevAvgActive: 164.5, ChangePct: -74, HasPrev: true, DaysWithActivity: 41},
		Support: csbot.EBRSupport{Opened: 2, BySeverity: map[string]int{"urgent": 2}, Resolved: 0, OpenAtEnd: 2, UrgentOpened: 2,
			Subjects: []string{"Data export for migration", "Cancel auto-renewal"}},
		Renewal: &csbot.RenewalBrief{ID: 40, Date: date(2026, 5, 31), ARR: 125_000_000, DaysLeft: 30, Contact: "Bill Lumbergh"},
		Risks: []csbot.AlertItem{
			{AlertID: 501, Kind: csbot.SignalChampionLeft, Severity: csbot.SignalCritical, Evidence: "Peter Gibbons (champion) is no longer active"},
			{AlertID: 502, Kind: csbot.SignalUsageDrop, Severity: csbot.SignalCritical, Evidence: "active users down 74% against the prior period"},
			{AlertID: 503, Kind: csbot.SignalRenewalRisk, Severity: csbot.SignalCritical, Evidence: "renewal in 30 days with health red"},
		},
	}
}

// ebrGoldenSheets are the hand-built fact sheets with golden drafts.
var ebrGoldenSheets = []struct {
	name  string
	facts func() csbot.EBRFacts
}{
	{"healthy", healthyFacts},
	{"at_risk", atRiskFacts},
	{"churning", churningFacts},
}

// draftText renders a draft for a golden file: its source and note, then
// each section under its name.
func draftText(d csbot.EBRDraft) string {
	var b strings.Builder
	b.WriteString("source: " + d.Source + "\nnote: " + d.Note + "\n")
	for _, s := range csbot.EBRSections() {
		b.WriteString("\n## " + s + "\n" + d.Sections[s] + "\n")
	}
	return b.String()
}

func TestTemplateDraftGolden(t *testing.T) {
	for _, g := range ebrGoldenSheets {
		t.Run(g.name, func(t *testing.T) {
			d := csbot.TemplateDraft(g.facts(), "no model configured")
			got := draftText(d)
			path := filepath.Join("testdata", "ebr", g.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test . -update to write it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("TemplateDraft(%s) differs from %s (-want +got):\n%s", g.name, path, diff)
			}
		})
	}
}

func TestTemplateDraftSections(t *testing.T) {
	for _, g := range ebrGoldenSheets {
		d := csbot.TemplateDraft(g.facts(), "the model timed out")
		if d.Source != "template" || d.Note != "the model timed out" || d.Model != "" {
			t.Errorf("TemplateDraft(%s) = source %q, note %q, model %q; want template, the note, no model", g.name, d.Source, d.Note, d.Model)
		}
		if len(d.Sections) != len(csbot.EBRSections()) {
			t.Errorf("TemplateDraft(%s) has %d sections, want %d", g.name, len(d.Sections), len(csbot.EBRSections()))
		}
		for _, s := range csbot.EBRSections() {
			if strings.TrimSpace(d.Sections[s]) == "" {
				t.Errorf("TemplateDraft(%s): section %s is empty", g.name, s)
			}
		}
	}
}

func TestTemplateDraftMissingData(t *testing.T) {
	f := csbot.EBRFacts{
		Account: csbot.AccountBrief{Name: "Hooli", Tier: csbot.TierTech},
		Period:  ebrPeriodQ1(),
	}
	d := csbot.TemplateDraft(f, "")
	want := map[string]string{
		csbot.EBRSummary:      "Health is not scored yet.",
		csbot.EBROutcomes:     "Goals were not recorded",
		csbot.EBRAdoption:     "No usage data for this period.",
		csbot.EBRSupportPart:  "No support tickets were opened in this period.",
		csbot.EBRSatisfied:    "No NPS responses in this period.",
		csbot.EBRRisksAndAsks: "No risk alerts were open",
		csbot.EBRNext:         "No open renewal is on file.",
	}
	for s, w := range want {
		if !strings.Contains(d.Sections[s], w) {
			t.Errorf("TemplateDraft(empty sheet) section %s = %q, want it to contain %q", s, d.Sections[s], w)
		}
	}
	if got := csbot.FlagFigures(d, f); len(got) != 0 {
		t.Errorf("FlagFigures(template of an empty sheet) = %+v, want none", got)
	}
}

func TestTemplateDraftExpansion(t *testing.T) {
	tests := []struct {
		adoption int
		want     string
		not      string
	}{
		{85, "discuss more seats", "Focus on adoption"},
		{84, "Focus on adoption", "more seats"},
	}
	for _, tt := range tests {
		f := healthyFacts()
		f.Usage.AdoptionPct = tt.adoption
		next := csbot.TemplateDraft(f, "").Sections[csbot.EBRNext]
		if !strings.Contains(next, tt.want) || strings.Contains(next, tt.not) {
			t.Errorf("TemplateDraft(adoption %d%%) next = %q, want %q and not %q", tt.adoption, next, tt.want, tt.not)
		}
	}
	// Money is written with Cents.String.
	f := healthyFacts()
	if next := csbot.TemplateDraft(f, "").Sections[csbot.EBRNext]; !strings.Contains(next, csbot.Cents(18_437_000).String()) {
		t.Errorf("TemplateDraft next = %q, want the renewal ARR %s", next, csbot.Cents(18_437_000))
	}
}

// A period that ended before any score was kept still gets today's
// health, said as today's, and the asks follow it.
func TestTemplateDraftHealthNow(t *testing.T) {
	f := healthyFacts()
	f.Health, f.HealthStart = csbot.HealthBrief{}, nil
	f.HealthNow = &csbot.HealthBrief{Score: 31, Band: csbot.BandRed, Coverage: 80}
	d := csbot.TemplateDraft(f, "")
	if s := d.Sections[csbot.EBRSummary]; !strings.Contains(s, "Health was not scored by the period's end; it is now red at 31.") {
		t.Errorf("summary: %s", s)
	}
	if s := d.Sections[csbot.EBRRisksAndAsks]; !strings.Contains(s, "Health is now red at 31: ask the executive sponsor") {
		t.Errorf("risks and asks: %s", s)
	}
	if got := csbot.FlagFigures(d, f); len(got) != 0 {
		t.Errorf("the template's own figures are flagged: %+v", got)
	}
	var lines []string
	for _, g := range csbot.FactSheetText(f) {
		lines = append(lines, g.Lines...)
	}
	if !slices.Contains(lines, "Now (the latest score): 31/100, red") {
		t.Errorf("the fact sheet does not show today's health: %q", lines)
	}
}
