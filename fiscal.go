package csbot

import (
	"fmt"
	"strings"
	"time"
)

// FiscalQuarter is one quarter of a fiscal year. The fiscal year starts on
// the first of Start and is named by the calendar year it ends in: with a
// January start FY2027 is calendar 2027; with a February start FY2027 runs
// from February 1, 2026 to January 31, 2027.
type FiscalQuarter struct {
	// Year is the fiscal year, the calendar year it ends in.
	Year int
	// Q is the quarter, 1 to 4.
	Q int
	// Start is the fiscal year's first month; the zero value means
	// January.
	Start time.Month
}

// The years a FiscalQuarter may name: four digits, so that every quarter
// prints and parses back the same.
const (
	minFiscalYear = 1000
	maxFiscalYear = 9999
)

// fiscalStart returns m, or January when m is not a month.
func fiscalStart(m time.Month) time.Month {
	if m < time.January || m > time.December {
		return time.January
	}
	return m
}

// QuarterOf returns the fiscal quarter, of a year starting in month start
// (January when start is not a month), that contains d's calendar date in
// d's own location.
func QuarterOf(d time.Time, start time.Month) FiscalQuarter {
	start = fiscalStart(start)
	y, m, _ := d.Date()
	into := (int(m) - int(start) + 12) % 12 // months since the fiscal year began
	first := y                              // calendar year the fiscal year began in
	if m < start {
		first--
	}
	fy := first
	if start != time.January {
		fy++
	}
	return FiscalQuarter{Year: fy, Q: into/3 + 1, Start: start}
}

// Valid reports whether q names a quarter: Q 1 to 4, a four-digit Year,
// and Start zero or a month.
func (q FiscalQuarter) Valid() bool {
	return q.Q >= 1 && q.Q <= 4 && q.Year >= minFiscalYear && q.Year <= maxFiscalYear &&
		q.Start >= 0 && q.Start <= time.December
}

// firstCalendarYear is the calendar year q's fiscal year begins in.
func (q FiscalQuarter) firstCalendarYear() int {
	if fiscalStart(q.Start) == time.January {
		return q.Year
	}
	return q.Year - 1
}

// First returns the quarter's first day, midnight UTC.
func (q FiscalQuarter) First() time.Time {
	start := fiscalStart(q.Start)
	return time.Date(q.firstCalendarYear(), start+time.Month(3*(q.Q-1)), 1, 0, 0, 0, 0, time.UTC)
}

// Last returns the quarter's last day, midnight UTC.
func (q FiscalQuarter) Last() time.Time {
	start := fiscalStart(q.Start)
	// Day 0 of the month after the quarter is the quarter's last day.
	return time.Date(q.firstCalendarYear(), start+time.Month(3*q.Q), 0, 0, 0, 0, 0, time.UTC)
}

// Contains reports whether d's calendar date, in d's own location, falls
// in q.
func (q FiscalQuarter) Contains(d time.Time) bool {
	return QuarterOf(d, q.Start) == q.normal()
}

// normal returns q with Start spelled out (January for zero).
func (q FiscalQuarter) normal() FiscalQuarter {
	q.Start = fiscalStart(q.Start)
	return q
}

// Next returns the quarter after q.
func (q FiscalQuarter) Next() FiscalQuarter {
	if q.Q >= 4 {
		return FiscalQuarter{Year: q.Year + 1, Q: 1, Start: q.Start}
	}
	return FiscalQuarter{Year: q.Year, Q: q.Q + 1, Start: q.Start}
}

// String names the quarter as "FY2027 Q1".
func (q FiscalQuarter) String() string { return fmt.Sprintf("FY%04d Q%d", q.Year, q.Q) }

// ParseFiscalQuarter parses a fiscal quarter of a year starting in month
// start (January when start is not a month), ignoring case: "2027-Q1",
// "Q1 2027", "q1-2027", "2027q1", "FY27 Q1", "FY2027 Q1", "FY27-Q1",
// "Q1 FY27". Spaces, hyphens, slashes and underscores may separate the
// year and the quarter; a two-digit year needs the FY prefix and means
// 20xx. It returns an error for anything else.
func ParseFiscalQuarter(s string, start time.Month) (FiscalQuarter, error) {
	fail := func() (FiscalQuarter, error) {
		return FiscalQuarter{}, fmt.Errorf("fiscal quarter %q: want a form like 2027-Q1, Q1 2027 or FY27 Q1", s)
	}
	p := strings.ToLower(strings.TrimSpace(s))
	if p == "" || isQuarterSep(p[0]) || isQuarterSep(p[len(p)-1]) {
		return fail()
	}
	year, q := 0, 0
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case isQuarterSep(c):
			i++
		case c == 'q':
			if q != 0 || i+1 >= len(p) || p[i+1] < '1' || p[i+1] > '4' ||
				(i+2 < len(p) && isDigit(p[i+2])) {
				return fail()
			}
			q = int(p[i+1] - '0')
			i += 2
		case c == 'f' || isDigit(c):
			if year != 0 {
				return fail()
			}
			fy := c == 'f'
			if fy {
				if i+1 >= len(p) || p[i+1] != 'y' {
					return fail()
				}
				i += 2
				for i < len(p) && isQuarterSep(p[i]) {
					i++
				}
			}
			j := i
			for j < len(p) && isDigit(p[j]) {
				j++
			}
			n := 0
			for _, d := range p[i:j] {
				n = n*10 + int(d-'0')
			}
			switch {
			case j-i == 4 && n >= minFiscalYear:
				year = n
			case j-i == 2 && fy:
				year = 2000 + n
			default:
				return fail()
			}
			i = j
		default:
			return fail()
		}
	}
	if year == 0 || q == 0 {
		return fail()
	}
	return FiscalQuarter{Year: year, Q: q, Start: fiscalStart(start)}, nil
}

func isQuarterSep(c byte) bool {
	return c == ' ' || c == '\t' || c == '-' || c == '/' || c == '_'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
