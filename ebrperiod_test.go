package csbot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
)

func TestParseEBRPeriod(t *testing.T) {
	tests := []struct {
		in        string
		today     time.Time
		start     time.Month
		from, end time.Time
		label     string
	}{
		// The last full quarter, January start.
		{"", date(2026, 5, 10), time.January, date(2026, 1, 1), date(2026, 4, 1), "FY2026 Q1 (Jan 1 – Mar 31, 2026)"},
		{"last quarter", date(2026, 1, 15), time.January, date(2025, 10, 1), date(2026, 1, 1), "FY2025 Q4 (Oct 1 – Dec 31, 2025)"},
		// February start: FY2027 runs Feb 1, 2026 to Jan 31, 2027.
		{"", date(2026, 5, 10), time.February, date(2026, 2, 1), date(2026, 5, 1), "FY2027 Q1 (Feb 1 – Apr 30, 2026)"},
		{"", date(2026, 2, 1), time.February, date(2025, 11, 1), date(2026, 2, 1), "FY2026 Q4 (Nov 1, 2025 – Jan 31, 2026)"},
		{"  Last   QUARTER ", date(2026, 2, 28), time.February, date(2025, 11, 1), date(2026, 2, 1), "FY2026 Q4 (Nov 1, 2025 – Jan 31, 2026)"},
		// Named quarters.
		{"2026-Q3", date(2026, 12, 1), time.January, date(2026, 7, 1), date(2026, 10, 1), "FY2026 Q3 (Jul 1 – Sep 30, 2026)"},
		{"FY2027 Q1", date(2026, 9, 1), time.February, date(2026, 2, 1), date(2026, 5, 1), "FY2027 Q1 (Feb 1 – Apr 30, 2026)"},
		{"fy27-q4", date(2027, 3, 1), time.February, date(2026, 11, 1), date(2027, 2, 1), "FY2027 Q4 (Nov 1, 2026 – Jan 31, 2027)"},
		// A named quarter under way ends today.
		{"2026-Q2", date(2026, 5, 10), time.January, date(2026, 4, 1), date(2026, 5, 10), "FY2026 Q2 to date (Apr 1 – May 9, 2026)"},
		// A bare quarter is the last full one of that number.
		{"q3", date(2026, 12, 1), time.January, date(2026, 7, 1), date(2026, 10, 1), "FY2026 Q3 (Jul 1 – Sep 30, 2026)"},
		{"Q3", date(2026, 8, 1), time.January, date(2025, 7, 1), date(2025, 10, 1), "FY2025 Q3 (Jul 1 – Sep 30, 2025)"},
		{"q1", date(2026, 5, 10), time.February, date(2026, 2, 1), date(2026, 5, 1), "FY2027 Q1 (Feb 1 – Apr 30, 2026)"},
		{"q2", date(2026, 5, 10), time.February, date(2025, 5, 1), date(2025, 8, 1), "FY2026 Q2 (May 1 – Jul 31, 2025)"},
		{"q4", date(2026, 2, 3), time.February, date(2025, 11, 1), date(2026, 2, 1), "FY2026 Q4 (Nov 1, 2025 – Jan 31, 2026)"},
		// This quarter, to date.
		{"this quarter", date(2026, 5, 10), time.January, date(2026, 4, 1), date(2026, 5, 10), "FY2026 Q2 to date (Apr 1 – May 9, 2026)"},
		{"QTD", date(2026, 3, 2), time.February, date(2026, 2, 1), date(2026, 3, 2), "FY2027 Q1 to date (Feb 1 – Mar 1, 2026)"},
		{"this quarter", date(2026, 4, 2), time.January, date(2026, 4, 1), date(2026, 4, 2), "FY2026 Q2 to date (Apr 1, 2026)"},
		// Days, ending yesterday.
		{"last 90 days", date(2026, 3, 5), time.January, date(2025, 12, 5), date(2026, 3, 5), "last 90 days (Dec 5, 2025 – Mar 4, 2026)"},
		{"90d", date(2026, 3, 5), time.January, date(2025, 12, 5), date(2026, 3, 5), "last 90 days (Dec 5, 2025 – Mar 4, 2026)"},
		{"past 30 days", date(2026, 3, 5), time.January, date(2026, 2, 3), date(2026, 3, 5), "last 30 days (Feb 3 – Mar 4, 2026)"},
		{"1 day", date(2026, 3, 5), time.January, date(2026, 3, 4), date(2026, 3, 5), "last day (Mar 4, 2026)"},
		{"last 730d", date(2026, 3, 5), time.January, date(2024, 3, 5), date(2026, 3, 5), "last 730 days (Mar 5, 2024 – Mar 4, 2026)"},
		// Halves: the last full one.
		{"H1", date(2026, 8, 1), time.January, date(2026, 1, 1), date(2026, 7, 1), "FY2026 H1 (Jan 1 – Jun 30, 2026)"},
		{"h1", date(2026, 5, 1), time.January, date(2025, 1, 1), date(2025, 7, 1), "FY2025 H1 (Jan 1 – Jun 30, 2025)"},
		{"H2", date(2026, 8, 1), time.January, date(2025, 7, 1), date(2026, 1, 1), "FY2025 H2 (Jul 1 – Dec 31, 2025)"},
		{"H2", date(2026, 3, 1), time.February, date(2025, 8, 1), date(2026, 2, 1), "FY2026 H2 (Aug 1, 2025 – Jan 31, 2026)"},
		{"H1", date(2026, 9, 1), time.February, date(2026, 2, 1), date(2026, 8, 1), "FY2027 H1 (Feb 1 – Jul 31, 2026)"},
		// Named halves.
		{"2026-H1", date(2026, 12, 1), time.January, date(2026, 1, 1), date(2026, 7, 1), "FY2026 H1 (Jan 1 – Jun 30, 2026)"},
		{"FY2027 H2", date(2027, 6, 1), time.February, date(2026, 8, 1), date(2027, 2, 1), "FY2027 H2 (Aug 1, 2026 – Jan 31, 2027)"},
		{"h2 fy27", date(2026, 10, 15), time.February, date(2026, 8, 1), date(2026, 10, 15), "FY2027 H2 to date (Aug 1 – Oct 14, 2026)"},
		// A time of day and a location do not move the day.
		{"", time.Date(2026, 4, 1, 23, 30, 0, 0, time.FixedZone("PDT", -7*3600)), time.January, date(2026, 1, 1), date(2026, 4, 1), "FY2026 Q1 (Jan 1 – Mar 31, 2026)"},
	}
	for _, tt := range tests {
		got, err := csbot.ParseEBRPeriod(tt.in, tt.today, tt.start)
		if err != nil {
			t.Errorf("ParseEBRPeriod(%q, %s, %s): %v", tt.in, tt.today.Format(time.DateOnly), tt.start, err)
			continue
		}
		if !got.Start.Equal(tt.from) || !got.End.Equal(tt.end) || got.Label != tt.label {
			t.Errorf("ParseEBRPeriod(%q, %s, %s) = [%s, %s) %q, want [%s, %s) %q", tt.in,
				tt.today.Format(time.DateOnly), tt.start,
				got.Start.Format(time.DateOnly), got.End.Format(time.DateOnly), got.Label,
				tt.from.Format(time.DateOnly), tt.end.Format(time.DateOnly), tt.label)
		}
	}
}

func TestParseEBRPeriodErrors(t *testing.T) {
	today := date(2026, 5, 10)
	tests := []struct {
		in   string
		want string // in the error
	}{
		{"next year", "want last quarter"},
		{"q5", "want last quarter"},
		{"h3", "want last quarter"},
		{"2026-H3", "want last quarter"},
		{"Q1 H1", "want last quarter"},
		{"0 days", "1 to 730"},
		{"731d", "1 to 730"},
		{"last 99999999999999999999 days", "1 to 730"},
		{"last days", "want last quarter"},
		{"2026-Q3", "has not begun"},
		{"2026-Q2x", "want last quarter"},
		{"FY2027 H1", "has not begun"},
	}
	for _, tt := range tests {
		_, err := csbot.ParseEBRPeriod(tt.in, today, time.January)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseEBRPeriod(%q) error = %v, want one containing %q", tt.in, err, tt.want)
		}
	}
	if _, err := csbot.ParseEBRPeriod("this quarter", date(2026, 4, 1), time.January); err == nil {
		t.Errorf("ParseEBRPeriod(this quarter) on a quarter's first day: no error, want one")
	}
	if _, err := csbot.ParseEBRPeriod("2026-Q2", date(2026, 4, 1), time.January); err == nil {
		t.Errorf("ParseEBRPeriod(2026-Q2) on its first day: no error, want one")
	}
}

func FuzzParseEBRPeriod(f *testing.F) {
	for _, s := range []string{"", "last quarter", "this quarter", "q3", "2026-Q3", "FY2027 Q1",
		"H1", "2026-H2", "h2 fy27", "last 90 days", "90d", "731d", "hh1", "h1q", "last  1 day"} {
		f.Add(s, int64(0), uint8(1))
	}
	f.Fuzz(func(t *testing.T, s string, offset int64, month uint8) {
		today := date(2026, 5, 10).AddDate(0, 0, int(offset%4000))
		p, err := csbot.ParseEBRPeriod(s, today, time.Month(month))
		if err != nil {
			if p != (csbot.EBRPeriod{}) {
				t.Errorf("ParseEBRPeriod(%q) = %+v with error %v, want the zero period", s, p, err)
			}
			return
		}
		if !p.Start.Before(p.End) || p.End.After(today) || p.Label == "" {
			t.Errorf("ParseEBRPeriod(%q, %s) = [%s, %s) %q: want a non-empty period ending by today, labelled",
				s, today.Format(time.DateOnly), p.Start, p.End, p.Label)
		}
		if p.Start.Location() != time.UTC || p.Start.Hour() != 0 || p.End.Hour() != 0 {
			t.Errorf("ParseEBRPeriod(%q) = [%s, %s), want midnights UTC", s, p.Start, p.End)
		}
		again, err := csbot.ParseEBRPeriod(s, today, time.Month(month))
		if err != nil || again != p {
			t.Errorf("ParseEBRPeriod(%q) not deterministic: %+v, %v", s, again, err)
		}
	})
}
