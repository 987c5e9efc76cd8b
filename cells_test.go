package csbot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in      string
		want    csbot.Cents
		wantErr string
	}{
		{"125000", 12500000, ""},
		{"125000.50", 12500050, ""},
		{"125000.5", 12500050, ""},
		{"$125,000.50", 12500050, ""},
		{" $ 1,250 ", 125000, ""},
		{"0", 0, ""},
		{"0.01", 1, ""},
		{"999", 99900, ""},
		{"1,000,000", 100000000, ""},
		{"", 0, "empty"},
		{"-5", 0, "negative"},
		{"(5)", 0, "negative"},
		{"1.234", 0, "two decimal places"},
		{"1.", 0, "after the decimal point"},
		{".5", 0, "before the decimal point"},
		{"12,50", 0, "thousands separator"},
		{"1,2345", 0, "thousands separator"},
		{",123", 0, "thousands separator"},
		{"12a", 0, "not an amount"},
		{"1.a", 0, "not an amount"},
		{"1e6", 0, "not an amount"},
		{"€100", 0, "not an amount"},
		{"99999999999999999999", 0, "too large"},
	}
	for _, tt := range tests {
		got, err := csbot.ParseMoney(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseMoney(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseMoney(%q) = %d, %v, want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestCentsString(t *testing.T) {
	tests := []struct {
		in          csbot.Cents
		want, short string
	}{
		{12500050, "$125,000.50", "$125k"},
		{1840000, "$18,400", "$18.4k"},
		{95000, "$950", "$950"},
		{123456700, "$1,234,567", "$1.2M"},
		{-150, "-$1.50", "-$2"},
		{0, "$0", "$0"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Cents(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		if got := tt.in.Short(); got != tt.short {
			t.Errorf("Cents(%d).Short() = %q, want %q", int64(tt.in), got, tt.short)
		}
	}
}

func TestParseDateAndTimestamp(t *testing.T) {
	d := func(y, m, day int) time.Time { return time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC) }
	dates := []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{"2026-03-31", d(2026, 3, 31), ""},
		{" 2026-03-31 ", d(2026, 3, 31), ""},
		{"2026-03-31T23:30:00-05:00", d(2026, 3, 31), ""},
		{"2024-02-29", d(2024, 2, 29), ""},
		{"2026-02-29", time.Time{}, "no day 29"},
		{"2026-13-01", time.Time{}, "month out of range"},
		{"2026-00-10", time.Time{}, "month out of range"},
		{"2026-04-31", time.Time{}, "no day 31"},
		{"2026-04-00", time.Time{}, "no day 0"},
		{"31/03/2026", time.Time{}, "YYYY-MM-DD"},
		{"2026-3-31", time.Time{}, "YYYY-MM-DD"},
		{"1800-01-01", time.Time{}, "year out of range"},
		{"2026-03-31T10:00:00", time.Time{}, "UTC offset"},
		{"", time.Time{}, "YYYY-MM-DD"},
	}
	for _, tt := range dates {
		got, err := csbot.ParseDate(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseDate(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseDate(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	stamps := []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{"2026-03-31T14:05:00Z", time.Date(2026, 3, 31, 14, 5, 0, 0, time.UTC), ""},
		{"2026-03-31 14:05:00+02:00", time.Date(2026, 3, 31, 12, 5, 0, 0, time.UTC), ""},
		{"2026-03-31T14:05:00.123Z", time.Date(2026, 3, 31, 14, 5, 0, 123e6, time.UTC), ""},
		{"2026-03-31", d(2026, 3, 31), ""},
		{"2026-03-31T14:05:00", time.Time{}, "UTC offset"},
		{"2026-03-31T14:05", time.Time{}, "UTC offset"},
		{"yesterday", time.Time{}, "not a timestamp"},
	}
	for _, tt := range stamps {
		got, err := csbot.ParseTimestamp(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseTimestamp(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, %v, want %v UTC", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSmallCells(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "TRUE": true, "yes": true, "1": true, "false": false, "No": false, "0": false} {
		if got, err := csbot.ParseBool(in); err != nil || got != want {
			t.Errorf("ParseBool(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	if _, err := csbot.ParseBool("maybe"); err == nil {
		t.Error(`ParseBool("maybe") succeeded, want an error`)
	}
	counts := []struct {
		in   string
		want int64
		ok   bool
	}{{"42", 42, true}, {"1,250", 1250, true}, {"0", 0, true}, {"-1", 0, false}, {"1.5", 0, false}, {"12,34", 0, false}, {"99999999999", 0, false}, {"", 0, false}}
	for _, tt := range counts {
		got, err := csbot.ParseCount(tt.in, 1<<31-1)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseCount(%q) = %d, %v, want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if got, err := csbot.ParseEnum(" High ", []string{"high", "low", "tech"}); err != nil || got != "high" {
		t.Errorf(`ParseEnum(" High ") = %q, %v, want "high"`, got, err)
	}
	if got, err := csbot.ParseEnum("exec sponsor", []string{"champion", "exec_sponsor"}); err != nil || got != "exec_sponsor" {
		t.Errorf(`ParseEnum("exec sponsor") = %q, %v, want "exec_sponsor"`, got, err)
	}
	if _, err := csbot.ParseEnum("hihg", []string{"high", "low", "tech"}); err == nil || !strings.Contains(err.Error(), `did you mean "high"`) {
		t.Errorf(`ParseEnum("hihg") error = %v, want a "did you mean" hint`, err)
	}
	if _, err := csbot.ParseEnum("platinum", []string{"high", "low", "tech"}); err == nil || strings.Contains(err.Error(), "did you mean") || !strings.Contains(err.Error(), "high, low, tech") {
		t.Errorf(`ParseEnum("platinum") error = %v, want the allowed list and no guess`, err)
	}
	people := []struct {
		in string
		ok bool
	}{{"U012AB3CD", true}, {"W0ABC", true}, {"jane@vendor.example", true}, {"u012ab3cd", false}, {"Jane Doe", false}, {"jane@localhost", false}, {"a@b@c.d", false}}
	for _, tt := range people {
		if _, err := csbot.ParsePerson(tt.in); (err == nil) != tt.ok {
			t.Errorf("ParsePerson(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
	if !csbot.IsSlackChannelID("C012AB3CD") || csbot.IsSlackChannelID("#general") {
		t.Error("IsSlackChannelID: want C012AB3CD accepted and #general refused")
	}
	if _, err := csbot.CleanText("a\x00b"); err == nil {
		t.Error("CleanText accepted a NUL byte")
	}
	if _, err := csbot.CleanText("\xff\xfe"); err == nil {
		t.Error("CleanText accepted invalid UTF-8")
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"125000", "$125,000.50", "0.01", "-1", "1,2,3", "1..2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := csbot.ParseMoney(s)
		if err != nil {
			return
		}
		if c < 0 {
			t.Fatalf("ParseMoney(%q) = %d, negative", s, c)
		}
		// Formatting and parsing again gives the same amount.
		again, err := csbot.ParseMoney(c.String())
		if err != nil || again != c {
			t.Fatalf("ParseMoney(%q) = %d, but ParseMoney(%q) = %d, %v", s, c, c.String(), again, err)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-31", "2026-02-29", "2026-03-31T23:30:00-05:00", "9999-99-99", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := csbot.ParseDate(s)
		if err != nil {
			return
		}
		if d.Hour() != 0 || d.Minute() != 0 || d.Location() != time.UTC {
			t.Fatalf("ParseDate(%q) = %v, not midnight UTC", s, d)
		}
		if again, err := csbot.ParseDate(d.Format("2006-01-02")); err != nil || !again.Equal(d) {
			t.Fatalf("ParseDate round trip of %q: %v, %v", s, again, err)
		}
		if _, err := csbot.ParseTimestamp(s); err != nil {
			t.Fatalf("ParseDate(%q) ok but ParseTimestamp failed: %v", s, err)
		}
	})
}

func FuzzParseCells(f *testing.F) {
	for _, s := range []string{"true", "42", "1,250", "U012AB3CD", "a@b.example", "Europe/Berlin", "high", "exec sponsor"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := csbot.ParseCount(s, 1000); err == nil && (n < 0 || n > 1000) {
			t.Fatalf("ParseCount(%q) = %d outside 0..1000", s, n)
		}
		if v, err := csbot.ParseEnum(s, []string{"high", "low", "tech"}); err == nil && v != "high" && v != "low" && v != "tech" {
			t.Fatalf("ParseEnum(%q) = %q, not an allowed value", s, v)
		}
		_, _ = csbot.ParseBool(s)
		_, _ = csbot.ParsePerson(s)
		_, _ = csbot.ParseTimezone(s)
		_, _ = csbot.ParseTimestamp(s)
		if v, err := csbot.CleanText(s); err == nil && strings.IndexByte(v, 0) >= 0 {
			t.Fatalf("CleanText(%q) kept a NUL byte", s)
		}
	})
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"team", "team", 0}, {"tema", "team", 1},
		{"al", "all", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3}, {"café", "cafe", 1}, {"東京", "京東", 1},
	}
	for _, tt := range tests {
		if got := csbot.EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("csbot.EditDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := csbot.EditDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("csbot.EditDistance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}
