package csbot

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// TemplateDraft returns the deterministic draft of an EBR: plain
// sentences for every section of EBRSections, built only from the figures
// of f, saying so where f has no data. Money is written with
// Cents.String, percentages as "42%", dates as yyyy-mm-dd, and text from
// the customer (goals, ticket subjects, NPS comments, alert evidence) is
// quoted. The draft's Source is "template" and its Note is note.
func TemplateDraft(f EBRFacts, note string) EBRDraft {
	return EBRDraft{
		Sections: map[string]string{
			EBRSummary:      templateSummary(f),
			EBROutcomes:     templateOutcomes(f),
			EBRAdoption:     templateAdoption(f.Usage),
			EBRSupportPart:  templateSupport(f.Support),
			EBRSatisfied:    templateSatisfaction(f.Satisfaction),
			EBRRisksAndAsks: templateRisks(f),
			EBRNext:         templateNext(f),
		},
		Source: "template",
		Note:   note,
	}
}

func templateSummary(f EBRFacts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "This review of %s covers %s.", f.Account.Name, f.Period.Label)
	if f.Account.ARR > 0 {
		fmt.Fprintf(&b, " The account's ARR is %s.", f.Account.ARR)
	}
	b.WriteString(" " + healthSentence(f))
	if f.Usage.HasData && f.Usage.Seats > 0 {
		fmt.Fprintf(&b, " Adoption is %d%% of licensed seats.", f.Usage.AdoptionPct)
	}
	if n := len(f.Risks); n > 0 {
		fmt.Fprintf(&b, " %s open at the period's end.", countNoun(n, "risk alert is", "risk alerts are"))
	}
	if r := f.Renewal; r != nil {
		fmt.Fprintf(&b, " The renewal is due %s (%s).", r.Date.Format("2006-01-02"), DaysText(r.DaysLeft))
	}
	return b.String()
}

// healthSentence says the health score, its band and trend, and where it
// started.
func healthSentence(f EBRFacts) string {
	h := f.Health
	now := f.HealthNow
	if h.Band == "" {
		if now != nil && now.Band != "" {
			return fmt.Sprintf("Health was not scored by the period's end; it is now %s at %d.", now.Band, now.Score)
		}
		return "Health is not scored yet."
	}
	s := fmt.Sprintf("Health is %s at %d", h.Band, h.Score)
	if st := f.HealthStart; st != nil && st.Band != "" {
		switch {
		case st.Score < h.Score:
			s += fmt.Sprintf(", up from %d at the period's start", st.Score)
		case st.Score > h.Score:
			s += fmt.Sprintf(", down from %d at the period's start", st.Score)
		default:
			s += ", unchanged since the period's start"
		}
	}
	if tr := h.Trend.String(); tr != "" {
		s += " (" + tr + ")"
	}
	s += "."
	if now != nil && now.Band != "" && (now.Band != h.Band || now.Score != h.Score) {
		s += fmt.Sprintf(" It is now %s at %d.", now.Band, now.Score)
	}
	return s
}

// currentHealth is the latest health f knows, and the word that says
// when it is ("now" when later than the period's end).
func currentHealth(f EBRFacts) (HealthBrief, string) {
	if n := f.HealthNow; n != nil && n.Band != "" {
		return *n, " now"
	}
	return f.Health, ""
}

func templateOutcomes(f EBRFacts) string {
	var b strings.Builder
	if f.Goals == "" && f.SuccessCriteria == "" {
		b.WriteString("Goals were not recorded: there is no handoff with the customer's goals or success criteria.")
	}
	if f.Goals != "" {
		fmt.Fprintf(&b, "The customer's goals, in their words: %s.", quoted(f.Goals))
	}
	if f.SuccessCriteria != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "Their success criteria: %s.", quoted(f.SuccessCriteria))
	}
	b.WriteString(" Bearing on them:")
	u := f.Usage
	switch {
	case !u.HasData:
		b.WriteString(" there is no usage data for this period;")
	case u.Seats > 0:
		fmt.Fprintf(&b, " on average %s of %d licensed seats were active (%d%% adoption);",
			decimalText(u.AvgActiveUsers), u.Seats, u.AdoptionPct)
	default:
		fmt.Fprintf(&b, " on average %s users were active;", decimalText(u.AvgActiveUsers))
	}
	s := f.Support
	if s.Opened == 0 {
		b.WriteString(" no support tickets were opened.")
	} else {
		fmt.Fprintf(&b, " %s opened and %d resolved.", countNoun(s.Opened, "support ticket was", "support tickets were"), s.Resolved)
	}
	return b.String()
}

func templateAdoption(u EBRUsage) string {
	if !u.HasData {
		return "No usage data for this period."
	}
	var b strings.Builder
	if u.Seats > 0 {
		fmt.Fprintf(&b, "On average %s of %d licensed seats were active, an adoption of %d%%.",
			decimalText(u.AvgActiveUsers), u.Seats, u.AdoptionPct)
	} else {
		fmt.Fprintf(&b, "On average %s users were active; no licensed seats are on file.", decimalText(u.AvgActiveUsers))
	}
	if u.PeakActiveUsers > 0 {
		fmt.Fprintf(&b, " Activity peaked at %s", countNoun(u.PeakActiveUsers, "active user", "active users"))
		if u.PeakDay != "" {
			b.WriteString(" on " + u.PeakDay)
		}
		b.WriteByte('.')
	}
	fmt.Fprintf(&b, " Users were active on %s of the period.", countNoun(u.DaysWithActivity, "day", "days"))
	if u.HasPrev {
		prev := decimalText(u.PrevAvgActive)
		switch {
		case u.ChangePct > 0:
			fmt.Fprintf(&b, " That is up %d%% on the period before (%s on average).", u.ChangePct, prev)
		case u.ChangePct < 0:
			fmt.Fprintf(&b, " That is down %d%% on the period before (%s on average).", -u.ChangePct, prev)
		default:
			fmt.Fprintf(&b, " That is level with the period before (%s on average).", prev)
		}
	} else {
		b.WriteString(" There is no earlier period to compare with.")
	}
	return b.String()
}

func templateSupport(s EBRSupport) string {
	var b strings.Builder
	if s.Opened == 0 {
		b.WriteString("No support tickets were opened in this period.")
	} else {
		fmt.Fprintf(&b, "%s opened", countNoun(s.Opened, "support ticket was", "support tickets were"))
		if sev := severityText(s.BySeverity); sev != "" {
			b.WriteString(" (" + sev + ")")
		}
		fmt.Fprintf(&b, " and %d resolved", s.Resolved)
		if s.Resolved > 0 {
			fmt.Fprintf(&b, ", in a median of %s hours", decimalText(s.MedianHours))
		}
		b.WriteByte('.')
		if s.UrgentOpened > 0 {
			fmt.Fprintf(&b, " Of these, %s urgent.", countNoun(s.UrgentOpened, "was", "were"))
		}
	}
	if s.OpenAtEnd > 0 {
		fmt.Fprintf(&b, " %s open at the period's end.", countNoun(s.OpenAtEnd, "ticket was still", "tickets were still"))
	} else {
		b.WriteString(" No tickets were open at the period's end.")
	}
	if len(s.Subjects) > 0 {
		q := make([]string, len(s.Subjects))
		for i, sub := range s.Subjects {
			q[i] = quoted(sub)
		}
		b.WriteString(" Subjects included " + strings.Join(q, ", ") + ".")
	}
	return b.String()
}

// severityText lists the tickets by severity, most urgent first: "1
// urgent, 2 high, 4 normal".
func severityText(by map[string]int) string {
	order := []string{"urgent", "high", "normal", "low"}
	known := map[string]bool{}
	var parts []string
	for _, k := range order {
		known[k] = true
		if n := by[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	var other []string
	for k, n := range by {
		if !known[k] && n > 0 {
			other = append(other, k)
		}
	}
	sort.Strings(other)
	for _, k := range other {
		parts = append(parts, fmt.Sprintf("%d %s", by[k], k))
	}
	return strings.Join(parts, ", ")
}

func templateSatisfaction(s EBRSatisfaction) string {
	if s.Responses == 0 {
		return "No NPS responses in this period."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "NPS was %d from %s: %s, %s and %s.",
		s.NPS, countNoun(s.Responses, "response", "responses"), countNoun(s.Promoters, "promoter", "promoters"),
		countNoun(s.Passives, "passive", "passives"), countNoun(s.Detractors, "detractor", "detractors"))
	for _, q := range s.Quotes {
		fmt.Fprintf(&b, " One respondent (score %d) wrote: %s.", q.Score, quoted(q.Comment))
	}
	return b.String()
}

func templateRisks(f EBRFacts) string {
	var b strings.Builder
	if len(f.Risks) == 0 {
		b.WriteString("No risk alerts were open at the period's end.")
	} else {
		b.WriteString("Open risks at the period's end:")
		for _, r := range f.Risks {
			fmt.Fprintf(&b, " %s (%s): %s.", r.Kind.Title(), r.Severity, quoted(r.Evidence))
		}
	}
	cur, when := currentHealth(f)
	switch cur.Band {
	case BandRed:
		fmt.Fprintf(&b, " Health is%s red at %d: ask the executive sponsor to agree a recovery plan with us.", when, cur.Score)
	case BandYellow:
		fmt.Fprintf(&b, " Health is%s yellow at %d: ask the customer which of the risks above matter most to them.", when, cur.Score)
	case BandGreen:
		fmt.Fprintf(&b, " Health is%s green at %d.", when, cur.Score)
	default:
		b.WriteString(" Health is not scored yet.")
	}
	if f.Support.OpenAtEnd > 0 {
		fmt.Fprintf(&b, " Ask: agree priorities for the %s.", countNoun(f.Support.OpenAtEnd, "open ticket", "open tickets"))
	}
	if f.Usage.HasData && f.Usage.Seats > 0 && f.Usage.AdoptionPct < 50 {
		fmt.Fprintf(&b, " Ask: name the teams that should be using the product, since adoption is %d%%.", f.Usage.AdoptionPct)
	}
	return b.String()
}

// Adoption at or above which the next step may be more seats.
const expansionAdoptionPct = 85

func templateNext(f EBRFacts) string {
	var b strings.Builder
	if r := f.Renewal; r != nil {
		fmt.Fprintf(&b, "The renewal is due on %s (%s) for %s", r.Date.Format("2006-01-02"), DaysText(r.DaysLeft), r.ARR)
		if r.AutoRenew {
			b.WriteString(", renewing automatically")
		}
		b.WriteByte('.')
		if r.Contact != "" {
			fmt.Fprintf(&b, " The renewal contact is %s", r.Contact)
			if r.ContactRef != "" {
				b.WriteString(" (" + r.ContactRef + ")")
			}
			b.WriteByte('.')
		}
	} else {
		b.WriteString("No open renewal is on file.")
	}
	u := f.Usage
	switch {
	case !u.HasData || u.Seats == 0:
		b.WriteString(" Without seat usage data, confirm adoption before discussing expansion.")
	case u.AdoptionPct >= expansionAdoptionPct:
		fmt.Fprintf(&b, " With adoption at %d%% of licensed seats, discuss more seats.", u.AdoptionPct)
	default:
		fmt.Fprintf(&b, " Focus on adoption before expansion: %d%% of licensed seats are in use.", u.AdoptionPct)
	}
	return b.String()
}

// countNoun writes n with the singular or plural words after it: "1
// ticket was", "3 tickets were".
func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// decimalText writes v with at most one decimal: "31", "31.4".
func decimalText(v float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0")
}

// quoted quotes text from the customer or the records as data, without
// its final full stop: “like this”.
func quoted(s string) string {
	return "“" + strings.TrimSuffix(strings.TrimSpace(s), ".") + "”"
}
