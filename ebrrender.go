package csbot

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EBRSectionTitle returns the heading of a section of an EBR draft, one of
// the section constants: "Executive summary", "Outcomes against goals"...
// For any other key it returns the key with its first letter upper-cased
// and underscores written as spaces ("pricing_notes" is "Pricing notes").
func EBRSectionTitle(section string) string {
	switch section {
	case EBRSummary:
		return "Executive summary"
	case EBROutcomes:
		return "Outcomes against goals"
	case EBRAdoption:
		return "Adoption and usage"
	case EBRSupportPart:
		return "Support experience"
	case EBRSatisfied:
		return "Satisfaction"
	case EBRRisksAndAsks:
		return "Risks and asks"
	case EBRNext:
		return "What comes next"
	}
	s := strings.ReplaceAll(section, "_", " ")
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// MarkFlagged returns text with every occurrence of a figure flagged for
// section (FlaggedFigure.Text, as written) replaced by mark(figure).
// Figures flagged for other sections are ignored, and a figure flagged
// more than once is marked once per occurrence; where two flagged figures
// could start at the same place, the longer wins ("$18.4k" over "18.4").
//
// Only whole occurrences are marked: a figure is not marked where it is
// part of a longer number or word. The character before it must not be a
// letter, a digit, '_', '.', ',' or '$' (a flagged "42" is not in "142",
// "4.42", "1,42" or "$42k"), nor a '-', '/' or ':' after a digit (the
// middle of a date, range or time). The character after it must not be a
// letter, a digit, '_' or '%' ("42" is not in "42%", "42nd" or "$42k"), nor
// a '.', ',', '-', '/' or ':' before a digit ("42.5", "42,000", "42-45",
// "42/100"); and a plain number is not marked where " %", " USD" or
// " dollars" follows it, since FlagFigures reads those as one figure with
// the number.
func MarkFlagged(text string, flagged []FlaggedFigure, section string, mark func(figure string) string) string {
	var figs []string
	seen := map[string]bool{}
	for _, f := range flagged {
		if f.Section != section || f.Text == "" || seen[f.Text] {
			continue
		}
		seen[f.Text] = true
		figs = append(figs, f.Text)
	}
	if len(figs) == 0 {
		return text
	}
	slices.SortFunc(figs, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})

	var b strings.Builder
	last := 0
	for i := 0; i < len(text); {
		found := ""
		for _, f := range figs {
			if strings.HasPrefix(text[i:], f) && wholeFigureAt(text, i, i+len(f)) {
				found = f
				break
			}
		}
		if found == "" {
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			continue
		}
		b.WriteString(text[last:i])
		b.WriteString(mark(found))
		i += len(found)
		last = i
	}
	b.WriteString(text[last:])
	return b.String()
}

// wholeFigureAt reports whether s[start:end] is a whole figure, not part
// of a longer number or word (see MarkFlagged).
func wholeFigureAt(s string, start, end int) bool {
	if start > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:start])
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '_', r == '.', r == ',', r == '$':
			return false
		case (r == '-' || r == '/' || r == ':') && start-size > 0 && isDigit(s[start-size-1]):
			return false
		}
	}
	if end < len(s) {
		r, _ := utf8.DecodeRuneInString(s[end:])
		digitNext := end+1 < len(s) && isDigit(s[end+1])
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '_', r == '%':
			return false
		case (r == '.' || r == ',' || r == '-' || r == '/' || r == ':') && digitNext:
			return false
		}
		if isDigit(s[end-1]) {
			rest := s[end:]
			if strings.HasPrefix(rest, " %") || hasWordPrefix(rest, " USD") || hasWordPrefix(rest, " dollars") {
				return false
			}
		}
	}
	return true
}

// FactGroup is a part of a fact sheet written for people: a title and
// plain-text lines.
type FactGroup struct {
	Title string
	Lines []string
}

// dayLayout writes a date as yyyy-mm-dd.
const dayLayout = "2006-01-02"

// FactSheetText returns the fact sheet f as a person reads it, in groups:
// Account, Health, Goals (left out when the sheet has neither goals nor
// success criteria), Adoption and usage, Support, Satisfaction,
// Touchpoints (left out when there are none), Renewal (left out without
// one) and Open risks (left out when there are none).
//
// The lines are plain text, without Slack or Markdown markup. Money is
// written with Cents.String, dates as yyyy-mm-dd, averages and hours with
// one decimal, and text from the customer or the records (goals, ticket
// subjects, NPS comments, touchpoint summaries, alert evidence) is quoted.
// Every number in the lines is a figure of f, so FlagFigures accepts them
// (a health score is written "86/100", which FlagFigures does not read as
// a figure).
func FactSheetText(f EBRFacts) []FactGroup {
	groups := []FactGroup{factAccount(f), factHealth(f)}
	if f.Goals != "" || f.SuccessCriteria != "" {
		groups = append(groups, factGoals(f))
	}
	groups = append(groups,
		FactGroup{Title: "Adoption and usage", Lines: factUsage(f.Usage)},
		FactGroup{Title: "Support", Lines: factSupport(f.Support)},
		FactGroup{Title: "Satisfaction", Lines: factSatisfaction(f.Satisfaction)},
	)
	if len(f.Touchpoints) > 0 {
		var lines []string
		for _, t := range f.Touchpoints {
			l := t.Day + ", " + string(t.Kind)
			if strings.TrimSpace(t.Summary) != "" {
				l += ": " + quoted(t.Summary)
			}
			lines = append(lines, l)
		}
		groups = append(groups, FactGroup{Title: "Touchpoints", Lines: lines})
	}
	if r := f.Renewal; r != nil {
		groups = append(groups, FactGroup{Title: "Renewal", Lines: factRenewal(*r)})
	}
	if len(f.Risks) > 0 {
		var lines []string
		for _, a := range f.Risks {
			l := a.Kind.Title()
			if a.Severity != "" {
				l += " (" + string(a.Severity) + ")"
			}
			if strings.TrimSpace(a.Evidence) != "" {
				l += ": " + quoted(a.Evidence)
			}
			lines = append(lines, l)
		}
		groups = append(groups, FactGroup{Title: "Open risks", Lines: lines})
	}
	return groups
}

func factAccount(f EBRFacts) FactGroup {
	tier := string(f.Account.Tier)
	if tier == "" {
		tier = "not set"
	}
	lines := []string{
		"Name: " + f.Account.Name,
		"Tier: " + tier,
		"ARR: " + f.Account.ARR.String(),
	}
	p := f.Period
	period := "Period: " + p.Label
	if !p.Start.IsZero() && !p.End.IsZero() {
		dates := p.Start.Format(dayLayout) + " to " + p.End.AddDate(0, 0, -1).Format(dayLayout)
		if p.Label == "" {
			period += dates
		} else {
			period += ", " + dates
		}
	}
	lines = append(lines, period)
	return FactGroup{Title: "Account", Lines: lines}
}

// scoreText writes a health score out of 100 with its band.
func scoreText(h HealthBrief) string {
	if h.Band == "" {
		return h.Band.Word()
	}
	return fmt.Sprintf("%d/100, %s", h.Score, h.Band.Word())
}

func factHealth(f EBRFacts) FactGroup {
	h := f.Health
	trend := h.Trend.String()
	if trend == "" {
		trend = "none yet"
	}
	lines := []string{
		"Score: " + scoreText(h),
		"Trend: " + trend,
		fmt.Sprintf("Coverage: %d%% of the usual measures have data", h.Coverage),
	}
	if st := f.HealthStart; st != nil {
		lines = append(lines, "At the period's start: "+scoreText(*st))
	}
	if n := f.HealthNow; n != nil {
		lines = append(lines, "Now (the latest score): "+scoreText(*n))
	}
	return FactGroup{Title: "Health", Lines: lines}
}

func factGoals(f EBRFacts) FactGroup {
	notRecorded := func(s string) string {
		if s == "" {
			return "not recorded"
		}
		return quoted(s)
	}
	return FactGroup{Title: "Goals", Lines: []string{
		"Goals: " + notRecorded(f.Goals),
		"Success criteria: " + notRecorded(f.SuccessCriteria),
	}}
}

// oneDecimal writes v with one decimal: "31.4", "42.0".
func oneDecimal(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func factUsage(u EBRUsage) []string {
	if !u.HasData {
		return []string{"No usage data for the period."}
	}
	var lines []string
	if u.Seats > 0 {
		lines = append(lines, fmt.Sprintf("Licensed seats: %d", u.Seats))
	} else {
		lines = append(lines, "Licensed seats: none on file")
	}
	lines = append(lines, "Average active users: "+oneDecimal(u.AvgActiveUsers))
	if u.Seats > 0 {
		lines = append(lines, fmt.Sprintf("Adoption: %d%% of licensed seats", u.AdoptionPct))
	}
	if u.PeakActiveUsers > 0 {
		l := fmt.Sprintf("Peak: %s", countNoun(u.PeakActiveUsers, "active user", "active users"))
		if u.PeakDay != "" {
			l += " on " + u.PeakDay
		}
		lines = append(lines, l)
	}
	lines = append(lines, fmt.Sprintf("Days with activity: %d", u.DaysWithActivity))
	if u.HasPrev {
		change := "level"
		switch {
		case u.ChangePct > 0:
			change = fmt.Sprintf("up %d%%", u.ChangePct)
		case u.ChangePct < 0:
			change = fmt.Sprintf("down %d%%", -u.ChangePct)
		}
		lines = append(lines, fmt.Sprintf("Against the previous period: %s (%s average active users then)",
			change, oneDecimal(u.PrevAvgActive)))
	}
	return lines
}

// maxSubjects is how many ticket subjects the fact sheet text lists.
const maxSubjects = 5

func factSupport(s EBRSupport) []string {
	lines := []string{fmt.Sprintf("Tickets opened: %d", s.Opened)}
	if sev := severityText(s.BySeverity); sev != "" {
		lines = append(lines, "By severity: "+sev)
	}
	lines = append(lines, fmt.Sprintf("Resolved: %d", s.Resolved))
	if s.Resolved > 0 {
		lines = append(lines, "Median time to resolve: "+oneDecimal(s.MedianHours)+" hours")
	}
	lines = append(lines, fmt.Sprintf("Open at the period's end: %d", s.OpenAtEnd))
	if len(s.Subjects) > 0 {
		subjects := s.Subjects[:min(len(s.Subjects), maxSubjects)]
		q := make([]string, len(subjects))
		for i, sub := range subjects {
			q[i] = quoted(sub)
		}
		lines = append(lines, "Subjects: "+strings.Join(q, ", "))
	}
	return lines
}

func factSatisfaction(s EBRSatisfaction) []string {
	if s.Responses == 0 {
		return []string{"No NPS responses in the period."}
	}
	lines := []string{
		fmt.Sprintf("Responses: %d", s.Responses),
		fmt.Sprintf("NPS: %d", s.NPS),
		fmt.Sprintf("Promoters: %d, passives: %d, detractors: %d", s.Promoters, s.Passives, s.Detractors),
	}
	for _, q := range s.Quotes {
		lines = append(lines, fmt.Sprintf("Score %d: %s", q.Score, quoted(q.Comment)))
	}
	return lines
}

func factRenewal(r RenewalBrief) []string {
	auto := "no"
	if r.AutoRenew {
		auto = "yes"
	}
	contact := "no renewal contact on file"
	if r.Contact != "" {
		contact = r.Contact
		if r.ContactRef != "" {
			contact += " (" + r.ContactRef + ")"
		}
	}
	return []string{
		"Date: " + r.Date.Format(dayLayout) + " (" + DaysText(r.DaysLeft) + ")",
		"ARR: " + r.ARR.String(),
		"Auto-renew: " + auto,
		"Contact: " + contact,
	}
}

// EBRMarkdown returns the draft of v as a Markdown document to paste into
// slides or a document: a heading with the account and the period; a line
// with the version, where the draft came from and the day it was made
// (in UTC); a warning quoting the figures the fact sheet does not hold,
// if any; each section of EBRSections under its EBRSectionTitle, with
// those figures marked "**$2.1M** ⚠️" (and then any other non-empty
// sections of the draft, by key); and the fact sheet, as FactSheetText
// gives it, under "The data". Nothing else is escaped. The document ends
// with one newline.
func EBRMarkdown(v EBRVersion) string {
	var blocks []string

	title := "# EBR draft: " + v.Facts.Account.Name
	label := v.Facts.Period.Label
	if label == "" {
		label = v.Period.Label
	}
	if label != "" {
		title += ", " + label
	}
	blocks = append(blocks, title)

	meta := []string{fmt.Sprintf("Version %d", v.Version)}
	switch v.Draft.Source {
	case "llm":
		if v.Draft.Model != "" {
			meta = append(meta, "drafted by "+v.Draft.Model)
		} else {
			meta = append(meta, "drafted by a model")
		}
	case "template":
		if v.Draft.Note != "" {
			meta = append(meta, "deterministic template ("+v.Draft.Note+")")
		} else {
			meta = append(meta, "deterministic template")
		}
	case "":
	default:
		meta = append(meta, v.Draft.Source)
	}
	if v.Edited {
		meta = append(meta, "edited by a person")
	}
	if !v.CreatedAt.IsZero() {
		meta = append(meta, v.CreatedAt.UTC().Format(dayLayout))
	}
	blocks = append(blocks, "_"+strings.Join(meta, " · ")+"_")

	sections := EBRSections()
	order := map[string]int{}
	for i, s := range sections {
		order[s] = i
	}
	var extra []string
	for s, text := range v.Draft.Sections {
		if _, ok := order[s]; !ok && strings.TrimSpace(text) != "" {
			extra = append(extra, s)
		}
	}
	slices.Sort(extra)
	sections = append(sections, extra...)
	for i, s := range extra {
		order[s] = len(EBRSections()) + i
	}

	if flagged := sortedFlagged(v.Draft.Flagged, order); len(flagged) > 0 {
		parts := make([]string, len(flagged))
		for i, f := range flagged {
			parts[i] = "“" + f.Text + "” (" + EBRSectionTitle(f.Section) + ")"
		}
		blocks = append(blocks, "> **Check these figures**: they are not in the fact sheet: "+strings.Join(parts, ", ")+".")
	}

	mark := func(figure string) string { return "**" + figure + "** ⚠️" }
	for _, s := range sections {
		text := strings.TrimSpace(v.Draft.Sections[s])
		if text == "" {
			text = "_Nothing drafted for this section._"
		} else {
			text = MarkFlagged(text, v.Draft.Flagged, s, mark)
		}
		blocks = append(blocks, "## "+EBRSectionTitle(s), text)
	}

	blocks = append(blocks, "## The data")
	for _, g := range FactSheetText(v.Facts) {
		blocks = append(blocks, "### "+g.Title)
		if len(g.Lines) > 0 {
			blocks = append(blocks, "- "+strings.Join(g.Lines, "\n- "))
		}
	}
	return strings.TrimRight(strings.Join(blocks, "\n\n"), "\n") + "\n"
}

// sortedFlagged returns the distinct flagged figures with a text, in the
// order of their sections (order gives the place of each; others come
// last, by name), and in their given order within a section.
func sortedFlagged(flagged []FlaggedFigure, order map[string]int) []FlaggedFigure {
	var out []FlaggedFigure
	seen := map[FlaggedFigure]bool{}
	for _, f := range flagged {
		if f.Text == "" || seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	rank := func(s string) int {
		if i, ok := order[s]; ok {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(out, func(a, b FlaggedFigure) int {
		if ra, rb := rank(a.Section), rank(b.Section); ra != rb {
			return ra - rb
		}
		if _, ok := order[a.Section]; !ok {
			return strings.Compare(a.Section, b.Section)
		}
		return 0
	})
	return out
}
