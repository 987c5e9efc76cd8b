package csbot

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Cell parsers turn the text of one CSV cell into a typed value. Each
// returns an error whose text is a reason a person can act on, without
// repeating the cell's value (which may be personal data).

// maxCents bounds amounts so that sums over a large book stay in int64.
const maxCents = 1_000_000_000_000_00 // one trillion currency units

// ParseMoney parses an amount in decimal currency units: "125000",
// "125000.50", "$125,000.50", " 1,250 ". Thousands separators must group
// digits by three; at most two decimal places; negative amounts are refused.
func ParseMoney(s string) (Cents, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "$")
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty amount")
	}
	if s[0] == '-' || s[0] == '(' {
		return 0, errors.New("negative amounts are not allowed")
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if hasFrac && (len(frac) == 0 || len(frac) > 2) {
		if len(frac) > 2 {
			return 0, errors.New("more than two decimal places")
		}
		return 0, errors.New("nothing after the decimal point")
	}
	if whole == "" {
		return 0, errors.New("no digits before the decimal point")
	}
	whole, err := stripThousands(whole)
	if err != nil {
		return 0, err
	}
	var c int64
	for i := 0; i < len(whole); i++ {
		d := whole[i]
		if d < '0' || d > '9' {
			return 0, errors.New("not an amount (use digits, e.g. 125000.50)")
		}
		c = c*10 + int64(d-'0')
		if c > maxCents/100 {
			return 0, errors.New("amount too large")
		}
	}
	c *= 100
	for i := 0; i < 2; i++ {
		var d byte = '0'
		if i < len(frac) {
			d = frac[i]
		}
		if d < '0' || d > '9' {
			return 0, errors.New("not an amount (use digits, e.g. 125000.50)")
		}
		if i == 0 {
			c += int64(d-'0') * 10
		} else {
			c += int64(d - '0')
		}
	}
	return Cents(c), nil
}

// ParseDate parses an ISO 8601 date ("2026-03-31") or an RFC 3339
// timestamp, whose calendar date as written is kept. The result is midnight
// UTC of that date.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == 10 {
		return parseISODate(s)
	}
	if len(s) > 10 {
		if _, err := parseTimestamp(s); err != nil {
			return time.Time{}, err
		}
		return parseISODate(s[:10])
	}
	return time.Time{}, errors.New("not a date (use YYYY-MM-DD, e.g. 2026-03-31)")
}

// ParseTimestamp parses an RFC 3339 timestamp ("2026-03-31T14:05:00Z",
// "2026-03-31 14:05:00+02:00") or a date alone, taken as midnight UTC. A
// time of day without a UTC offset is refused: it would be ambiguous.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == 10 {
		return parseISODate(s)
	}
	return parseTimestamp(s)
}

func parseTimestamp(s string) (time.Time, error) {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t.UTC(), nil
	}
	if _, err2 := time.Parse("2006-01-02T15:04:05.999999999", s); err2 == nil {
		return time.Time{}, errors.New("time without a UTC offset (add Z or an offset like +02:00)")
	}
	if _, err2 := time.Parse("2006-01-02T15:04", s); err2 == nil {
		return time.Time{}, errors.New("time without a UTC offset (add Z or an offset like +02:00)")
	}
	return time.Time{}, errors.New("not a timestamp (use RFC 3339, e.g. 2026-03-31T14:05:00Z)")
}

// parseISODate parses exactly YYYY-MM-DD without allocating.
func parseISODate(s string) (time.Time, error) {
	bad := errors.New("not a date (use YYYY-MM-DD, e.g. 2026-03-31)")
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, bad
	}
	num := func(a string) (int, bool) {
		n := 0
		for i := 0; i < len(a); i++ {
			if a[i] < '0' || a[i] > '9' {
				return 0, false
			}
			n = n*10 + int(a[i]-'0')
		}
		return n, true
	}
	y, ok1 := num(s[:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, bad
	}
	if y < 1900 || y > 2200 {
		return time.Time{}, errors.New("year out of range (1900..2200)")
	}
	if m < 1 || m > 12 {
		return time.Time{}, errors.New("month out of range (01..12)")
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if d < 1 || t.Day() != d {
		return time.Time{}, fmt.Errorf("no day %d in %s %d", d, time.Month(m), y)
	}
	return t, nil
}

// ParseBool parses true/false, yes/no, y/n and 1/0, in any case.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1", "t":
		return true, nil
	case "false", "no", "n", "0", "f":
		return false, nil
	}
	return false, errors.New("not true or false")
}

// ParseCount parses a non-negative whole number up to max: "42", "1,250".
func ParseCount(s string, max int64) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty number")
	}
	if s[0] == '-' {
		return 0, errors.New("negative numbers are not allowed")
	}
	s, err := stripThousands(s)
	if err != nil {
		return 0, err
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errors.New("not a whole number")
		}
		n = n*10 + int64(c-'0')
		if n > max {
			return 0, fmt.Errorf("too large (at most %d)", max)
		}
	}
	return n, nil
}

// stripThousands removes thousands separators from a run of digits,
// checking that they group by three.
func stripThousands(s string) (string, error) {
	if !strings.Contains(s, ",") {
		return s, nil
	}
	groups := strings.Split(s, ",")
	bad := len(groups[0]) == 0 || len(groups[0]) > 3
	for _, g := range groups[1:] {
		bad = bad || len(g) != 3
	}
	if bad {
		return "", errors.New("misplaced thousands separator (use 125,000 or 125000)")
	}
	return strings.Join(groups, ""), nil
}

// ParseEnum matches s against allowed values, ignoring case and
// surrounding space, and returns the canonical value. The error lists the
// allowed values and suggests the closest one.
func ParseEnum(s string, allowed []string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.ReplaceAll(v, " ", "_")
	v = strings.ReplaceAll(v, "-", "_")
	for _, a := range allowed {
		if v == a {
			return a, nil
		}
	}
	msg := "must be one of " + strings.Join(allowed, ", ")
	if best, ok := closest(v, allowed); ok {
		msg = fmt.Sprintf("did you mean %q? %s", best, msg)
	}
	return "", errors.New(msg)
}

// closest returns the allowed value nearest to v by edit distance, when it
// is near enough to be a likely typo.
func closest(v string, allowed []string) (string, bool) {
	if v == "" || len(v) > 64 {
		return "", false
	}
	best, bestD := "", 1<<30
	for _, a := range allowed {
		if d := EditDistance(v, a); d < bestD {
			best, bestD = a, d
		}
	}
	return best, bestD <= 2 || (bestD <= len(best)/3 && bestD < len(best))
}

// EditDistance is the optimal string alignment distance between a and b:
// the insertions, deletions, substitutions and swaps of neighbours, by
// rune, that turn one into the other. "Did you mean" answers rest on it.
func EditDistance(a, b string) int {
	s, t := []rune(a), []rune(b)
	prev2 := make([]int, len(t)+1)
	prev := make([]int, len(t)+1)
	cur := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}

// IsSlackUserID reports whether s looks like a Slack user id (U... or W...).
func IsSlackUserID(s string) bool { return slackID(s, "UW") }

// IsSlackChannelID reports whether s looks like a Slack conversation id
// (C... public, G... private, D... direct).
func IsSlackChannelID(s string) bool { return slackID(s, "CGD") }

func slackID(s, prefixes string) bool {
	if len(s) < 3 || len(s) > 24 || !strings.ContainsRune(prefixes, rune(s[0])) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ParseEmail checks that s is a plausible email address and returns it
// trimmed. It does not try to implement RFC 5322.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(s, " \t,;<>") ||
		strings.Contains(domain, "@") || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || len(s) > 254 {
		return "", errors.New("not an email address")
	}
	return s, nil
}

// ParsePerson accepts a Slack user id or an email address naming a user.
// Which one it is shows in the result: emails contain "@".
func ParsePerson(s string) (string, error) {
	s = strings.TrimSpace(s)
	if IsSlackUserID(s) {
		return s, nil
	}
	if strings.Contains(s, "@") {
		return ParseEmail(s)
	}
	return "", errors.New("not a Slack user id (U…) or an email address")
}

// ParseTimezone checks the shape of an IANA zone name ("Europe/Berlin",
// "UTC"). Whether the zone exists is checked by the caller that can load
// zone data.
func ParseTimezone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "UTC" || s == "Etc/UTC" {
		return s, nil
	}
	if len(s) > 64 || !strings.Contains(s, "/") || strings.ContainsAny(s, " \\.,") || strings.HasPrefix(s, "/") {
		return "", errors.New("not an IANA time zone name (e.g. Europe/Berlin)")
	}
	return s, nil
}

// maxTextLen bounds free-text cells.
const maxTextLen = 10_000

// CleanText trims s and checks it can be stored as text: valid UTF-8, no
// NUL bytes, not absurdly long.
func CleanText(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("not valid UTF-8 text (save the file as UTF-8 CSV)")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", errors.New("contains a NUL byte (is this a text file?)")
	}
	s = strings.TrimSpace(s)
	if len(s) > maxTextLen {
		return "", fmt.Errorf("longer than %d characters", maxTextLen)
	}
	return s, nil
}
