package csbot_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/google/go-cmp/cmp"
)

func TestEBRSectionTitle(t *testing.T) {
	tests := []struct {
		section, want string
	}{
		{csbot.EBRSummary, "Executive summary"},
		{csbot.EBROutcomes, "Outcomes against goals"},
		{csbot.EBRAdoption, "Adoption and usage"},
		{csbot.EBRSupportPart, "Support experience"},
		{csbot.EBRSatisfied, "Satisfaction"},
		{csbot.EBRRisksAndAsks, "Risks and asks"},
		{csbot.EBRNext, "What comes next"},
		{"pricing_notes", "Pricing notes"},
		{"roadmap", "Roadmap"},
		{"_x_y", " x y"},
		{"élan_vital", "Élan vital"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := csbot.EBRSectionTitle(tt.section); got != tt.want {
			t.Errorf("EBRSectionTitle(%q) = %q, want %q", tt.section, got, tt.want)
		}
	}
	// Every section has its own title.
	seen := map[string]bool{}
	for _, s := range csbot.EBRSections() {
		title := csbot.EBRSectionTitle(s)
		if seen[title] {
			t.Errorf("EBRSectionTitle(%q) = %q, a title already used", s, title)
		}
		seen[title] = true
	}
}

func TestMarkFlagged(t *testing.T) {
	const sec = csbot.EBRSummary
	flag := func(texts ...string) []csbot.FlaggedFigure {
		var out []csbot.FlaggedFigure
		for _, s := range texts {
			out = append(out, csbot.FlaggedFigure{Section: sec, Text: s})
		}
		return out
	}
	mark := func(f string) string { return "[" + f + "]" }
	tests := []struct {
		name    string
		text    string
		flagged []csbot.FlaggedFigure
		want    string
	}{
		{"alone", "42 users", flag("42"), "[42] users"},
		{"at the end", "users: 42", flag("42"), "users: [42]"},
		{"the whole text", "42", flag("42"), "[42]"},
		{"every occurrence", "42 users, then 42 more (42)", flag("42"), "[42] users, then [42] more ([42])"},
		{"end of a sentence", "It was 42. Then 42, then 42; 42!", flag("42"), "It was [42]. Then [42], then [42]; [42]!"},
		{"a sign is not part of it", "NPS was -42, or −42", flag("42"), "NPS was -[42], or −[42]"},
		{"in quotes", "“42” and \"42\"", flag("42"), "“[42]” and \"[42]\""},

		// Not inside longer numbers.
		{"more digits before", "142 users", flag("42"), "142 users"},
		{"more digits after", "421 users", flag("42"), "421 users"},
		{"decimal part", "4.42 hours", flag("42"), "4.42 hours"},
		{"whole part", "42.5 hours", flag("42"), "42.5 hours"},
		{"thousands", "42,000 and 1,042", flag("42"), "42,000 and 1,042"},
		{"money", "$42 and $42k and $4.2M", flag("42"), "$42 and $42k and $4.2M"},
		{"percentage", "42% and 42 %", flag("42"), "42% and 42 %"},
		{"money words", "42 USD and 42 dollars, 42 users", flag("42"), "42 USD and 42 dollars, [42] users"},
		{"letters", "Q42, x42, 42nd, 42k, 42x, é42, 42é, v_42", flag("42"), "Q42, x42, 42nd, 42k, 42x, é42, 42é, v_42"},
		{"dates and times", "2026-03-42 and 10:42 and 42/100 and 42-45 and 3/42", flag("42"), "2026-03-42 and 10:42 and 42/100 and 42-45 and 3/42"},
		{"a dash after a word", "users-42 and 42- ok", flag("42"), "users-[42] and [42]- ok"},

		// Figures with their units.
		{"money figure", "$42k, $42k. ($42k)", flag("$42k"), "[$42k], [$42k]. ([$42k])"},
		{"money figure in a word", "US$42k and $42kg and $42k1", flag("$42k"), "US$42k and $42kg and $42k1"},
		{"money figure not a longer one", "$142k and $42.5k and $4,242k", flag("$42k"), "$142k and $42.5k and $4,242k"},
		{"percentage figure", "42% and 142% and 4.2% and 42%.", flag("42%"), "[42%] and 142% and 4.2% and [42%]."},
		{"decimal percentage", "14.2% and 4.2% and 4.2%x", flag("4.2%"), "14.2% and [4.2%] and 4.2%x"},
		{"spaced percentage", "42 % and 42%", flag("42 %"), "[42 %] and 42%"},
		{"grouped money", "$18,437 and $18,437.50 and $118,437", flag("$18,437"), "[$18,437] and $18,437.50 and $118,437"},
		{"money words figure", "18437 USD, 18437 USDX", flag("18437 USD"), "[18437 USD], 18437 USDX"},

		// The longer of two figures at one place wins; both are marked.
		{"longer first", "$18.4k and 18.4", flag("18.4", "$18.4k"), "[$18.4k] and [18.4]"},
		{"a figure flagged twice", "42 and 42", flag("42", "42"), "[42] and [42]"},
		{"two figures", "3 tickets, 97% adoption, 3 more", flag("97%", "3"), "[3] tickets, [97%] adoption, [3] more"},

		// Other sections, empty texts, nothing flagged.
		{"other section", "42 users", []csbot.FlaggedFigure{{Section: csbot.EBRNext, Text: "42"}}, "42 users"},
		{"empty figure", "42 users", flag(""), "42 users"},
		{"nothing flagged", "42 users", nil, "42 users"},
		{"empty text", "", flag("42"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := csbot.MarkFlagged(tt.text, tt.flagged, sec, mark); got != tt.want {
				t.Errorf("MarkFlagged(%q, %v) = %q, want %q", tt.text, tt.flagged, got, tt.want)
			}
		})
	}
}

func TestMarkFlaggedMarkOnce(t *testing.T) {
	// The mark holds the figure: it is not marked again.
	flagged := []csbot.FlaggedFigure{{Section: csbot.EBRNext, Text: "42"}}
	got := csbot.MarkFlagged("42 and 42", flagged, csbot.EBRNext, func(f string) string { return f + " (" + f + ")" })
	if want := "42 (42) and 42 (42)"; got != want {
		t.Errorf("MarkFlagged = %q, want %q", got, want)
	}
	// mark is called once per occurrence, with the figure as flagged.
	var calls []string
	csbot.MarkFlagged("$1.2M, 42%, $1.2M", []csbot.FlaggedFigure{
		{Section: csbot.EBRNext, Text: "$1.2M"}, {Section: csbot.EBRNext, Text: "42%"}, {Section: csbot.EBRSummary, Text: "42%"},
	}, csbot.EBRNext, func(f string) string { calls = append(calls, f); return f })
	if diff := cmp.Diff([]string{"$1.2M", "42%", "$1.2M"}, calls); diff != "" {
		t.Errorf("MarkFlagged called mark with (-want +got):\n%s", diff)
	}
}

func TestFactSheetTextFigures(t *testing.T) {
	for _, g := range ebrGoldenSheets {
		f := g.facts()
		d := csbot.EBRDraft{Sections: map[string]string{}}
		var all []string
		for _, grp := range csbot.FactSheetText(f) {
			d.Sections[grp.Title] = strings.Join(grp.Lines, "\n")
			all = append(all, grp.Lines...)
		}
		d.Sections[csbot.EBRSummary] = strings.Join(all, "\n")
		if got := csbot.FlagFigures(d, f); len(got) != 0 {
			t.Errorf("FlagFigures(FactSheetText(%s)) = %+v, want none", g.name, got)
		}
	}
}

func TestFactSheetTextGroups(t *testing.T) {
	titles := func(gs []csbot.FactGroup) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Title)
		}
		return out
	}
	all := []string{"Account", "Health", "Goals", "Adoption and usage", "Support", "Satisfaction", "Touchpoints", "Renewal", "Open risks"}
	f := healthyFacts()
	f.Risks = atRiskFacts().Risks
	if diff := cmp.Diff(all, titles(csbot.FactSheetText(f))); diff != "" {
		t.Errorf("FactSheetText(full sheet) groups (-want +got):\n%s", diff)
	}

	// An empty sheet keeps the groups that say there is nothing.
	empty := csbot.EBRFacts{Account: csbot.AccountBrief{Name: "Hooli", Tier: csbot.TierTech}, Period: ebrPeriodQ1()}
	gs := csbot.FactSheetText(empty)
	want := []string{"Account", "Health", "Adoption and usage", "Support", "Satisfaction"}
	if diff := cmp.Diff(want, titles(gs)); diff != "" {
		t.Errorf("FactSheetText(empty sheet) groups (-want +got):\n%s", diff)
	}
	lines := map[string][]string{}
	for _, g := range gs {
		lines[g.Title] = g.Lines
	}
	wantLines := map[string][]string{
		"Account":            {"Name: Hooli", "Tier: tech", "ARR: $0", "Period: FY2027 Q1 (Feb 1 – Apr 30, 2026), 2026-02-01 to 2026-04-30"},
		"Health":             {"Score: not scored", "Trend: none yet", "Coverage: 0% of the usual measures have data"},
		"Adoption and usage": {"No usage data for the period."},
		"Support":            {"Tickets opened: 0", "Resolved: 0", "Open at the period's end: 0"},
		"Satisfaction":       {"No NPS responses in the period."},
	}
	if diff := cmp.Diff(wantLines, lines); diff != "" {
		t.Errorf("FactSheetText(empty sheet) lines (-want +got):\n%s", diff)
	}
	var text []string
	for _, g := range gs {
		text = append(text, g.Lines...)
	}
	if got := csbot.FlagFigures(csbot.EBRDraft{Sections: map[string]string{csbot.EBRSummary: strings.Join(text, "\n")}}, empty); len(got) != 0 {
		t.Errorf("FlagFigures(FactSheetText(empty sheet)) = %+v, want none", got)
	}

	// One of goals and success criteria is enough for the group.
	f = csbot.EBRFacts{SuccessCriteria: "Go live in 2 regions."}
	for _, g := range csbot.FactSheetText(f) {
		if g.Title == "Goals" {
			if diff := cmp.Diff([]string{"Goals: not recorded", "Success criteria: “Go live in 2 regions”"}, g.Lines); diff != "" {
				t.Errorf("FactSheetText(success criteria only) goals (-want +got):\n%s", diff)
			}
			return
		}
	}
	t.Errorf("FactSheetText(success criteria only) has no Goals group")
}

func TestFactSheetTextLimits(t *testing.T) {
	f := atRiskFacts()
	f.Support.Subjects = []string{"a", "b", "c", "d", "e", "f"}
	f.Renewal.Contact, f.Renewal.AutoRenew = "", true
	f.Usage.Seats = 0
	var support, renewal, usage []string
	for _, g := range csbot.FactSheetText(f) {
		switch g.Title {
		case "Support":
			support = g.Lines
		case "Renewal":
			renewal = g.Lines
		case "Adoption and usage":
			usage = g.Lines
		}
	}
	if want := "Subjects: “a”, “b”, “c”, “d”, “e”"; !slices.Contains(support, want) {
		t.Errorf("FactSheetText support = %q, want the line %q", support, want)
	}
	for _, want := range []string{"Auto-renew: yes", "Contact: no renewal contact on file"} {
		if !slices.Contains(renewal, want) {
			t.Errorf("FactSheetText renewal = %q, want the line %q", renewal, want)
		}
	}
	if !slices.Contains(usage, "Licensed seats: none on file") || slices.ContainsFunc(usage, func(l string) bool { return strings.HasPrefix(l, "Adoption") }) {
		t.Errorf("FactSheetText usage without seats = %q, want no seats and no adoption", usage)
	}
}

// ebrCreatedAt is when the golden versions were made: evening in New
// York, the next day in UTC.
var ebrCreatedAt = time.Date(2026, 5, 1, 21, 30, 0, 0, time.FixedZone("EDT", -4*60*60))

// llmDraftVersion is a model's draft of the healthy account with two
// invented figures, one of them written twice, and an empty section.
func llmDraftVersion(t *testing.T) csbot.EBRVersion {
	f := healthyFacts()
	d := csbot.EBRDraft{
		Sections: map[string]string{
			csbot.EBRSummary: "Acme Corp had a strong FY2027 Q1: health is green at 86, up from 79, and ARR stands at $184,370. " +
				"We see an expansion opportunity of $2.1M.",
			csbot.EBROutcomes: "The goal was to cut onboarding from 6 weeks to 3; new hires now ramp in half the time.",
			csbot.EBRAdoption: "On average 36.4 of 40 licensed seats were active (91% adoption), up 17% on the period before.\n\n" +
				"Weekly active users reached 97% in March, and at 97% the team is fully ramped.",
			csbot.EBRSupportPart:  "4 tickets were opened and all 4 resolved, in a median of 6.5 hours.",
			csbot.EBRSatisfied:    "NPS was 58 from 12 responses.",
			csbot.EBRRisksAndAsks: "  ",
			csbot.EBRNext:         "The renewal is due on 2026-09-30 for $184,370, renewing automatically. Discuss more seats with Dana Reyes.",
		},
		Source: "llm",
		Model:  "gpt-4o-mini",
	}
	d.Flagged = csbot.FlagFigures(d, f)
	want := []csbot.FlaggedFigure{{Section: csbot.EBRSummary, Text: "$2.1M"}, {Section: csbot.EBRAdoption, Text: "97%"}}
	if diff := cmp.Diff(want, d.Flagged); diff != "" {
		t.Fatalf("FlagFigures(llm draft) (-want +got):\n%s", diff)
	}
	return csbot.EBRVersion{ID: 12, AccountID: f.Account.ID, Period: f.Period, Version: 3, By: "U123",
		Facts: f, Draft: d, CreatedAt: ebrCreatedAt}
}

func TestEBRMarkdownGolden(t *testing.T) {
	type golden struct {
		name    string
		version func(t *testing.T) csbot.EBRVersion
	}
	var goldens []golden
	for _, g := range ebrGoldenSheets {
		goldens = append(goldens, golden{g.name + ".md", func(*testing.T) csbot.EBRVersion {
			f := g.facts()
			return csbot.EBRVersion{ID: 1, AccountID: f.Account.ID, Period: f.Period, Version: 1, By: "U123",
				Facts: f, Draft: csbot.TemplateDraft(f, "no model configured"), CreatedAt: ebrCreatedAt}
		}})
	}
	goldens = append(goldens, golden{"llm_flagged.md", llmDraftVersion})
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			got := csbot.EBRMarkdown(g.version(t))
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
				t.Errorf("EBRMarkdown(%s) differs from %s (-want +got):\n%s", g.name, path, diff)
			}
			if !strings.HasSuffix(got, "\n") || strings.HasSuffix(got, "\n\n") {
				t.Errorf("EBRMarkdown(%s) does not end with exactly one newline", g.name)
			}
		})
	}
}

func TestEBRMarkdownSource(t *testing.T) {
	base := llmDraftVersion(t)
	tests := []struct {
		name   string
		change func(v *csbot.EBRVersion)
		want   string
	}{
		{"llm", func(*csbot.EBRVersion) {}, "_Version 3 · drafted by gpt-4o-mini · 2026-05-02_"},
		{"llm without a model", func(v *csbot.EBRVersion) { v.Draft.Model = "" }, "_Version 3 · drafted by a model · 2026-05-02_"},
		{"edited", func(v *csbot.EBRVersion) { v.Edited, v.Version = true, 4 }, "_Version 4 · drafted by gpt-4o-mini · edited by a person · 2026-05-02_"},
		{"template", func(v *csbot.EBRVersion) { v.Draft.Source, v.Draft.Note = "template", "the model timed out" },
			"_Version 3 · deterministic template (the model timed out) · 2026-05-02_"},
		{"template without a note", func(v *csbot.EBRVersion) { v.Draft.Source = "template" }, "_Version 3 · deterministic template · 2026-05-02_"},
	}
	for _, tt := range tests {
		v := base
		tt.change(&v)
		lines := strings.Split(csbot.EBRMarkdown(v), "\n")
		if len(lines) < 3 || lines[2] != tt.want {
			t.Errorf("EBRMarkdown(%s) version line = %q, want %q", tt.name, lines[min(2, len(lines)-1)], tt.want)
		}
	}
}

func TestEBRMarkdownExtraSections(t *testing.T) {
	v := llmDraftVersion(t)
	v.Draft.Sections = map[string]string{"zeta_notes": "Z 5.", "alpha_notes": "A 5.", "empty_notes": ""}
	v.Draft.Flagged = []csbot.FlaggedFigure{
		{Section: "zeta_notes", Text: "5"}, {Section: csbot.EBRNext, Text: "$9"}, {Section: "alpha_notes", Text: "5"},
		{Section: csbot.EBRSummary, Text: "$1"}, {Section: csbot.EBRSummary, Text: "$1"},
	}
	md := csbot.EBRMarkdown(v)
	for _, want := range []string{
		"> **Check these figures**: they are not in the fact sheet: “$1” (Executive summary), “$9” (What comes next), “5” (Alpha notes), “5” (Zeta notes).\n",
		"## What comes next\n\n_Nothing drafted for this section._\n\n## Alpha notes\n\nA **5** ⚠️.\n\n## Zeta notes\n\nZ **5** ⚠️.\n\n## The data\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("EBRMarkdown(extra sections) = %s\nwant it to contain %q", md, want)
		}
	}
	if strings.Contains(md, "Empty notes") {
		t.Errorf("EBRMarkdown(extra sections) shows an empty extra section:\n%s", md)
	}
	// No map order leaks.
	for range 20 {
		if again := csbot.EBRMarkdown(v); again != md {
			t.Fatalf("EBRMarkdown is not deterministic")
		}
	}
}
