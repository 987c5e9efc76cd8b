package csbot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func fq(year, q int, start time.Month) csbot.FiscalQuarter {
	return csbot.FiscalQuarter{Year: year, Q: q, Start: start}
}

func TestQuarterOf(t *testing.T) {
	tests := []struct {
		day   time.Time
		start time.Month
		want  csbot.FiscalQuarter
	}{
		// January start: the fiscal year is the calendar year.
		{date(2027, 1, 1), time.January, fq(2027, 1, time.January)},
		{date(2027, 3, 31), time.January, fq(2027, 1, time.January)},
		{date(2027, 4, 1), time.January, fq(2027, 2, time.January)},
		{date(2027, 9, 30), time.January, fq(2027, 3, time.January)},
		{date(2027, 12, 31), time.January, fq(2027, 4, time.January)},
		// Zero start means January.
		{date(2027, 5, 15), 0, fq(2027, 2, time.January)},
		{date(2027, 5, 15), 13, fq(2027, 2, time.January)},
		// February start: FY2027 runs Feb 2026 - Jan 2027.
		{date(2026, 1, 31), time.February, fq(2026, 4, time.February)},
		{date(2026, 2, 1), time.February, fq(2027, 1, time.February)},
		{date(2026, 4, 30), time.February, fq(2027, 1, time.February)},
		{date(2026, 5, 1), time.February, fq(2027, 2, time.February)},
		{date(2026, 12, 31), time.February, fq(2027, 4, time.February)},
		{date(2027, 1, 31), time.February, fq(2027, 4, time.February)},
		{date(2027, 2, 1), time.February, fq(2028, 1, time.February)},
		// July start.
		{date(2026, 6, 30), time.July, fq(2026, 4, time.July)},
		{date(2026, 7, 1), time.July, fq(2027, 1, time.July)},
		{date(2027, 1, 1), time.July, fq(2027, 3, time.July)},
		// October start (the US federal year).
		{date(2026, 9, 30), time.October, fq(2026, 4, time.October)},
		{date(2026, 10, 1), time.October, fq(2027, 1, time.October)},
		{date(2027, 3, 31), time.October, fq(2027, 2, time.October)},
		// December start: Q1 straddles the calendar year.
		{date(2026, 11, 30), time.December, fq(2026, 4, time.December)},
		{date(2026, 12, 1), time.December, fq(2027, 1, time.December)},
		{date(2027, 2, 28), time.December, fq(2027, 1, time.December)},
		{date(2027, 3, 1), time.December, fq(2027, 2, time.December)},
		{date(2027, 11, 30), time.December, fq(2027, 4, time.December)},
	}
	for _, tt := range tests {
		if got := csbot.QuarterOf(tt.day, tt.start); got != tt.want {
			t.Errorf("QuarterOf(%s, %s) = %+v, want %+v", tt.day.Format(time.DateOnly), tt.start, got, tt.want)
		}
	}
}

func TestQuarterOfUsesTheDatesOwnLocation(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	// 23:30 UTC on March 31 is already April 1 in Tokyo.
	d := time.Date(2027, 3, 31, 23, 30, 0, 0, time.UTC)
	if got, want := csbot.QuarterOf(d, time.January), fq(2027, 1, time.January); got != want {
		t.Errorf("QuarterOf(%v) = %+v, want %+v", d, got, want)
	}
	if got, want := csbot.QuarterOf(d.In(tokyo), time.January), fq(2027, 2, time.January); got != want {
		t.Errorf("QuarterOf(%v) = %+v, want %+v", d.In(tokyo), got, want)
	}
}

func TestFiscalQuarterBounds(t *testing.T) {
	tests := []struct {
		q           csbot.FiscalQuarter
		first, last time.Time
	}{
		{fq(2027, 1, time.January), date(2027, 1, 1), date(2027, 3, 31)},
		{fq(2027, 4, time.January), date(2027, 10, 1), date(2027, 12, 31)},
		{fq(2027, 1, 0), date(2027, 1, 1), date(2027, 3, 31)},
		{fq(2027, 1, time.February), date(2026, 2, 1), date(2026, 4, 30)},
		{fq(2027, 4, time.February), date(2026, 11, 1), date(2027, 1, 31)},
		{fq(2027, 1, time.December), date(2026, 12, 1), date(2027, 2, 28)},
		{fq(2027, 4, time.December), date(2027, 9, 1), date(2027, 11, 30)},
		{fq(2027, 2, time.November), date(2027, 2, 1), date(2027, 4, 30)},
		// Leap years: February 29 ends a quarter that starts in December.
		{fq(2024, 1, time.January), date(2024, 1, 1), date(2024, 3, 31)},
		{fq(2024, 1, time.December), date(2023, 12, 1), date(2024, 2, 29)},
		{fq(2025, 1, time.December), date(2024, 12, 1), date(2025, 2, 28)},
		{fq(2000, 1, time.December), date(1999, 12, 1), date(2000, 2, 29)},
		{fq(2100, 1, time.December), date(2099, 12, 1), date(2100, 2, 28)}, // 2100 is not a leap year
		{fq(2024, 4, time.March), date(2023, 12, 1), date(2024, 2, 29)},
	}
	for _, tt := range tests {
		if got := tt.q.First(); !got.Equal(tt.first) {
			t.Errorf("%+v.First() = %s, want %s", tt.q, got.Format(time.DateOnly), tt.first.Format(time.DateOnly))
		}
		if got := tt.q.Last(); !got.Equal(tt.last) {
			t.Errorf("%+v.Last() = %s, want %s", tt.q, got.Format(time.DateOnly), tt.last.Format(time.DateOnly))
		}
	}
}

func TestFiscalQuarterLeapDay(t *testing.T) {
	// February 29, 2024 for every start month: the quarter that holds it
	// ends on it only when February is a quarter's last month.
	leap := date(2024, 2, 29)
	for start := time.January; start <= time.December; start++ {
		q := csbot.QuarterOf(leap, start)
		if !q.Contains(leap) || leap.Before(q.First()) || leap.After(q.Last()) {
			t.Errorf("start %s: %+v (%s - %s) does not hold Feb 29, 2024", start, q, q.First().Format(time.DateOnly), q.Last().Format(time.DateOnly))
		}
		endsOnIt := q.Last().Equal(leap)
		wantEnds := (int(time.February)-int(start)+12)%3 == 2 // February is the quarter's third month
		if endsOnIt != wantEnds {
			t.Errorf("start %s: %+v ends %s; ends on Feb 29 = %v, want %v", start, q, q.Last().Format(time.DateOnly), endsOnIt, wantEnds)
		}
	}
}

func TestFiscalYearEveryStartMonth(t *testing.T) {
	for start := time.January; start <= time.December; start++ {
		// FY2027 begins on the first of start in 2027 for a January start,
		// else in 2026, and is named by the calendar year it ends in.
		begin := date(2026, start, 1)
		if start == time.January {
			begin = date(2027, 1, 1)
		}
		end := begin.AddDate(1, 0, -1)
		if end.Year() != 2027 {
			t.Fatalf("start %s: FY2027 would end in %d", start, end.Year())
		}
		if got, want := csbot.QuarterOf(begin, start), fq(2027, 1, start); got != want {
			t.Errorf("start %s: QuarterOf(%s) = %+v, want %+v", start, begin.Format(time.DateOnly), got, want)
		}
		if got, want := csbot.QuarterOf(begin.AddDate(0, 0, -1), start), fq(2026, 4, start); got != want {
			t.Errorf("start %s: QuarterOf(day before FY2027) = %+v, want %+v", start, got, want)
		}
		if got, want := csbot.QuarterOf(end, start), fq(2027, 4, start); got != want {
			t.Errorf("start %s: QuarterOf(%s) = %+v, want %+v", start, end.Format(time.DateOnly), got, want)
		}
		if got, want := csbot.QuarterOf(end.AddDate(0, 0, 1), start), fq(2028, 1, start); got != want {
			t.Errorf("start %s: QuarterOf(day after FY2027) = %+v, want %+v", start, got, want)
		}
		q := fq(2027, 1, start)
		if !q.First().Equal(begin) {
			t.Errorf("start %s: FY2027 Q1 starts %s, want %s", start, q.First().Format(time.DateOnly), begin.Format(time.DateOnly))
		}
		days := 0
		for i := range 4 {
			if q.Q != i+1 || q.Year != 2027 {
				t.Fatalf("start %s: quarter %d of FY2027 is %+v", start, i+1, q)
			}
			if want := begin.AddDate(0, 3*i, 0); !q.First().Equal(want) {
				t.Errorf("start %s: %v starts %s, want %s", start, q, q.First().Format(time.DateOnly), want.Format(time.DateOnly))
			}
			days += int(q.Last().Sub(q.First()).Hours()/24) + 1
			q = q.Next()
		}
		if !q.First().Equal(end.AddDate(0, 0, 1)) || q != fq(2028, 1, start) {
			t.Errorf("start %s: the quarter after FY2027 Q4 is %+v starting %s", start, q, q.First().Format(time.DateOnly))
		}
		if days != 365 {
			t.Errorf("start %s: FY2027 has %d days, want 365", start, days)
		}
	}
}

// TestFiscalQuarterRoundTrip checks, for every day of 1999..2031 and every
// start month, that the quarter holding the day holds it between its first
// and last day, that those days map back to it, that the next quarter
// starts the day after it ends, and that its name parses back to it.
func TestFiscalQuarterRoundTrip(t *testing.T) {
	for start := time.January; start <= time.December; start++ {
		for d := date(1999, 1, 1); d.Year() < 2032; d = d.AddDate(0, 0, 1) {
			q := csbot.QuarterOf(d, start)
			if !q.Valid() {
				t.Fatalf("QuarterOf(%s, %s) = %+v, not valid", d.Format(time.DateOnly), start, q)
			}
			first, last := q.First(), q.Last()
			if d.Before(first) || d.After(last) {
				t.Fatalf("QuarterOf(%s, %s) = %v, which runs %s - %s", d.Format(time.DateOnly), start, q, first.Format(time.DateOnly), last.Format(time.DateOnly))
			}
			if csbot.QuarterOf(first, start) != q || csbot.QuarterOf(last, start) != q {
				t.Fatalf("%+v: its first or last day maps to another quarter", q)
			}
			if n := q.Next(); !n.First().Equal(last.AddDate(0, 0, 1)) {
				t.Fatalf("%+v ends %s but the next starts %s", q, last.Format(time.DateOnly), n.First().Format(time.DateOnly))
			}
			if days := int(last.Sub(first).Hours()/24) + 1; days < 89 || days > 92 {
				t.Fatalf("%+v has %d days", q, days)
			}
			p, err := csbot.ParseFiscalQuarter(q.String(), start)
			if err != nil || p != q {
				t.Fatalf("ParseFiscalQuarter(%q, %s) = %+v, %v; want %+v", q.String(), start, p, err, q)
			}
		}
	}
}

func TestParseFiscalQuarter(t *testing.T) {
	good := []struct {
		in   string
		want csbot.FiscalQuarter
	}{
		{"2027-Q1", fq(2027, 1, time.February)},
		{"2027-q1", fq(2027, 1, time.February)},
		{"Q1 2027", fq(2027, 1, time.February)},
		{"q1-2027", fq(2027, 1, time.February)},
		{"Q4/2027", fq(2027, 4, time.February)},
		{"FY27 Q1", fq(2027, 1, time.February)},
		{"fy27 q3", fq(2027, 3, time.February)},
		{"FY2027 Q1", fq(2027, 1, time.February)},
		{"FY 2027 Q2", fq(2027, 2, time.February)},
		{"FY27-Q1", fq(2027, 1, time.February)},
		{"fy27q1", fq(2027, 1, time.February)},
		{"Q2 FY27", fq(2027, 2, time.February)},
		{"2027q1", fq(2027, 1, time.February)},
		{"2027Q4", fq(2027, 4, time.February)},
		{"2027 Q2", fq(2027, 2, time.February)},
		{"2027_q2", fq(2027, 2, time.February)},
		{"  2027-Q3  ", fq(2027, 3, time.February)},
		{"FY99 Q1", fq(2099, 1, time.February)},
		{"FY00 Q1", fq(2000, 1, time.February)},
	}
	for _, tt := range good {
		got, err := csbot.ParseFiscalQuarter(tt.in, time.February)
		if err != nil || got != tt.want {
			t.Errorf("ParseFiscalQuarter(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	if got, err := csbot.ParseFiscalQuarter("2027-Q1", 0); err != nil || got != fq(2027, 1, time.January) {
		t.Errorf("ParseFiscalQuarter with no start month = %+v, %v; want a January start", got, err)
	}
	bad := []string{
		"", "q1", "2027", "FY27", "Q5 2027", "Q0 2027", "27 Q1", "Q1 27", "2027-Q", "Q12027",
		"Q1 Q2 2027", "2027 2028 Q1", "FY2027 FY2028 Q1", "0999-Q1", "12027-Q1", "F27 Q1",
		"FYQ1", "2027-Q1x", "x2027-Q1", "2027–Q1", "Ｑ1 2027", "2027.Q1", "Q1 2027 extra",
		"fy027 q1", "q 1 2027", "2027-Q1-", "-", "FY-27Q1x",
	}
	for _, in := range bad {
		if got, err := csbot.ParseFiscalQuarter(in, time.January); err == nil {
			t.Errorf("ParseFiscalQuarter(%q) = %+v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "2027-Q1") {
			t.Errorf("ParseFiscalQuarter(%q) error %q does not show a good form", in, err)
		}
	}
}

func TestFiscalQuarterString(t *testing.T) {
	if got := fq(2027, 3, time.July).String(); got != "FY2027 Q3" {
		t.Errorf("String() = %q, want %q", got, "FY2027 Q3")
	}
}

func TestFiscalQuarterValid(t *testing.T) {
	for _, q := range []csbot.FiscalQuarter{{}, fq(2027, 0, 1), fq(2027, 5, 1), fq(999, 1, 1), fq(10000, 1, 1), fq(2027, 1, 13), fq(2027, 1, -1)} {
		if q.Valid() {
			t.Errorf("%+v.Valid() = true, want false", q)
		}
	}
	if q := fq(2027, 4, 0); !q.Valid() {
		t.Errorf("%+v.Valid() = false, want true", q)
	}
}

func FuzzParseFiscalQuarter(f *testing.F) {
	for _, s := range []string{"2027-Q1", "Q1 2027", "q1-2027", "FY27 Q1", "FY2027 Q1", "2027q1", "Q2 FY27", "", "q", "fy", "FY 99 q4", "９"} {
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, s string, m uint8) {
		start := time.Month(m % 14) // 0 and 13 are not months: January
		q, err := csbot.ParseFiscalQuarter(s, start)
		if err != nil {
			if q != (csbot.FiscalQuarter{}) {
				t.Errorf("ParseFiscalQuarter(%q) failed but returned %+v", s, q)
			}
			return
		}
		if !q.Valid() || q.Start < time.January {
			t.Fatalf("ParseFiscalQuarter(%q) = %+v, not valid", s, q)
		}
		first, last := q.First(), q.Last()
		if !first.Before(last) || csbot.QuarterOf(first, start) != q || csbot.QuarterOf(last, start) != q {
			t.Errorf("ParseFiscalQuarter(%q) = %+v, which runs %v - %v", s, q, first, last)
		}
		if p, err := csbot.ParseFiscalQuarter(q.String(), start); err != nil || p != q {
			t.Errorf("ParseFiscalQuarter(%q) = %+v, %v; want %+v back", q.String(), p, err, q)
		}
	})
}
