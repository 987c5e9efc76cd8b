package csbot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The most days a "last N days" period may cover.
const maxEBRDays = 730

// ParseEBRPeriod parses the period an EBR covers, for a fiscal year
// starting on the first of fiscalStart (January when it is not a month),
// as seen on today's calendar date (in today's own location). Case and
// extra spaces do not matter. It accepts:
//
//   - "" or "last quarter": the last full fiscal quarter before today's;
//   - "this quarter" (or "qtd"): today's quarter to date, End = today;
//   - "2026-Q3", "Q3 2026", "FY2027 Q1", "FY27-Q1" (the forms of
//     ParseFiscalQuarter): that quarter; one still under way ends today
//     and is labelled "to date";
//   - "Q3": the last full third quarter;
//   - "H1", "H2": the last full fiscal half of that name; "2026-H1",
//     "FY2026 H2", "H1 FY26": that half, to date when under way;
//   - "last 90 days", "past 30 days", "90d", "90 days": that many days
//     (1 to 730) ending yesterday, so End = today.
//
// Start and End are midnight UTC, End exclusive. It returns an error that
// lists the accepted forms for anything else, and one saying so for a
// quarter or half that has not begun.
func ParseEBRPeriod(s string, today time.Time, fiscalStart time.Month) (EBRPeriod, error) {
	y, m, d := today.Date()
	t0 := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	start := normalFiscalStart(fiscalStart)
	p := strings.Join(strings.Fields(strings.ToLower(s)), " ")
	cur := QuarterOf(t0, start)

	switch p {
	case "", "last quarter", "previous quarter":
		q := prevQuarter(cur)
		return quarterPeriod(q, t0), nil
	case "this quarter", "quarter to date", "qtd":
		if !cur.First().Before(t0) {
			return EBRPeriod{}, fmt.Errorf("period %q: %s began today, so it has no full day yet; try \"last quarter\"", s, cur)
		}
		return quarterPeriod(cur, t0), nil
	case "q1", "q2", "q3", "q4":
		n := int(p[1] - '0')
		q := FiscalQuarter{Year: cur.Year, Q: n, Start: start}
		if n >= cur.Q {
			q.Year--
		}
		return quarterPeriod(q, t0), nil
	case "h1", "h2":
		n := int(p[1] - '0')
		year := cur.Year
		if n >= halfOf(cur) {
			year--
		}
		return halfPeriod(year, n, start, t0), nil
	}
	if n, ok := parseDays(p); ok {
		if n < 1 || n > maxEBRDays {
			return EBRPeriod{}, fmt.Errorf("period %q: the number of days must be 1 to %d", s, maxEBRDays)
		}
		from := t0.AddDate(0, 0, -n)
		label := "last " + strconv.Itoa(n) + " days"
		if n == 1 {
			label = "last day"
		}
		return EBRPeriod{Start: from, End: t0, Label: label + " (" + spanText(from, t0) + ")"}, nil
	}
	if i := strings.IndexByte(p, 'h'); i >= 0 && i+1 < len(p) && (p[i+1] == '1' || p[i+1] == '2') &&
		strings.Count(p, "h") == 1 && !strings.Contains(p, "q") {
		// A named half: parse it as the quarter of the same number to
		// reuse the year forms of ParseFiscalQuarter.
		fq, err := ParseFiscalQuarter(p[:i]+"q"+p[i+1:], start)
		if err != nil {
			return EBRPeriod{}, periodFormsError(s)
		}
		first := FiscalQuarter{Year: fq.Year, Q: 2*fq.Q - 1, Start: start}
		if !first.First().Before(t0) {
			return EBRPeriod{}, fmt.Errorf("period %q: FY%04d H%d has not begun yet", s, fq.Year, fq.Q)
		}
		return halfPeriod(fq.Year, fq.Q, start, t0), nil
	}
	fq, err := ParseFiscalQuarter(p, start)
	if err != nil {
		return EBRPeriod{}, periodFormsError(s)
	}
	if !fq.First().Before(t0) {
		return EBRPeriod{}, fmt.Errorf("period %q: %s has not begun yet", s, fq)
	}
	return quarterPeriod(fq, t0), nil
}

// periodFormsError is the error for a period in no accepted form.
func periodFormsError(s string) error {
	return fmt.Errorf("period %q: want last quarter (or nothing), this quarter, "+
		"a quarter like 2026-Q3, Q3 or FY2027 Q1, a half like H1 or 2026-H2, "+
		"or a number of days like last 90 days or 90d (1 to %d)", s, maxEBRDays)
}

// normalFiscalStart returns m, or January when m is not a month; it
// reaches fiscalStart where a parameter of that name hides it.
func normalFiscalStart(m time.Month) time.Month { return fiscalStart(m) }

// prevQuarter returns the quarter before q.
func prevQuarter(q FiscalQuarter) FiscalQuarter {
	if q.Q <= 1 {
		return FiscalQuarter{Year: q.Year - 1, Q: 4, Start: q.Start}
	}
	return FiscalQuarter{Year: q.Year, Q: q.Q - 1, Start: q.Start}
}

// halfOf returns the fiscal half, 1 or 2, that q falls in.
func halfOf(q FiscalQuarter) int { return (q.Q-1)/2 + 1 }

// quarterPeriod returns q as a period, cut at today when under way.
func quarterPeriod(q FiscalQuarter, today time.Time) EBRPeriod {
	return spanPeriod(q.String(), q.First(), q.Last().AddDate(0, 0, 1), today)
}

// halfPeriod returns half n (1 or 2) of fiscal year year as a period, cut
// at today when under way.
func halfPeriod(year, n int, start time.Month, today time.Time) EBRPeriod {
	first := FiscalQuarter{Year: year, Q: 2*n - 1, Start: start}
	last := FiscalQuarter{Year: year, Q: 2 * n, Start: start}
	name := fmt.Sprintf("FY%04d H%d", year, n)
	return spanPeriod(name, first.First(), last.Last().AddDate(0, 0, 1), today)
}

// spanPeriod returns [from, end) named name, ending at today with
// "to date" in its label when end is after today.
func spanPeriod(name string, from, end, today time.Time) EBRPeriod {
	if end.After(today) {
		end = today
		name += " to date"
	}
	return EBRPeriod{Start: from, End: end, Label: name + " (" + spanText(from, end) + ")"}
}

// spanText names the days of [from, end): "Feb 1 – Apr 30, 2026",
// "Nov 1, 2025 – Jan 31, 2026", "Mar 3, 2026".
func spanText(from, end time.Time) string {
	last := end.AddDate(0, 0, -1)
	switch {
	case !last.After(from):
		return from.Format("Jan 2, 2006")
	case from.Year() == last.Year():
		return from.Format("Jan 2") + " – " + last.Format("Jan 2, 2006")
	}
	return from.Format("Jan 2, 2006") + " – " + last.Format("Jan 2, 2006")
}

// parseDays parses "last 90 days", "past 90 days", "90 days", "90d",
// "last 90d" and "1 day" into the number of days. ok is false when p is
// in none of these forms; a number too large to hold is returned as
// maxEBRDays+1.
func parseDays(p string) (n int, ok bool) {
	p = strings.TrimPrefix(p, "last ")
	p = strings.TrimPrefix(p, "past ")
	i := 0
	for i < len(p) && isDigit(p[i]) {
		i++
	}
	if i == 0 {
		return 0, false
	}
	switch strings.TrimSpace(p[i:]) {
	case "d", "day", "days":
	default:
		return 0, false
	}
	for _, c := range p[:i] {
		n = n*10 + int(c-'0')
		if n > maxEBRDays {
			return maxEBRDays + 1, true
		}
	}
	return n, true
}
