package commands

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/csbot/csbot"
)

// renewalsScope is whose renewals a report shows.
type renewalsScope int

const (
	renewalsOfMine renewalsScope = iota // the caller's accounts
	renewalsOfUser                      // one person's accounts
	renewalsOfTeam                      // a manager's and their team's accounts
	renewalsOfAll                       // every account
)

// renewalsWindowKind is how a window of renewal dates was asked for.
type renewalsWindowKind int

const (
	renewalsNextDays      renewalsWindowKind = iota // the next Days days
	renewalsQuarterNumber                           // the quarter numbered Q that is current or next
	renewalsNamedQuarter                            // the named Quarter
	renewalsThisQuarter                             // the current fiscal quarter
	renewalsNextQuarter                             // the fiscal quarter after it
)

// The windows in days a report may cover.
const (
	defaultRenewalDays = 90
	maxRenewalDays     = 730
)

// renewalsWindow is the span of renewal dates asked for.
type renewalsWindow struct {
	Kind renewalsWindowKind
	// Days is the window's length for renewalsNextDays, 1..maxRenewalDays.
	Days int
	// Q is the quarter's number for renewalsQuarterNumber, 1..4.
	Q int
	// Quarter is the quarter for renewalsNamedQuarter.
	Quarter csbot.FiscalQuarter
}

// renewalsArgs is what /renewals was asked.
type renewalsArgs struct {
	// Help asks for the usage.
	Help bool
	// Scope, with UserID and UserLabel (the mention's label) for renewalsOfUser.
	Scope     renewalsScope
	UserID    string
	UserLabel string
	Window    renewalsWindow
	// AtRisk keeps the accounts whose health band is yellow or red.
	AtRisk bool
	// Query, when set, names one account whose renewal history is asked
	// for: the whole text, as words.
	Query string
	// DidYouMean holds, when every word of Query that is not a keyword is
	// close to one, those keywords: the text was probably a mistyped
	// report rather than an account.
	DidYouMean []string
}

// renewalsArgError is text /renewals cannot use; its message says why, for
// a usage reply.
type renewalsArgError struct{ msg string }

func (e *renewalsArgError) Error() string { return e.msg }

func renewalsArgErrorf(format string, a ...any) *renewalsArgError {
	return &renewalsArgError{msg: fmt.Sprintf(format, a...)}
}

// renewalsTypoKeywords are the keywords a mistyped word is compared with,
// and the keyword to suggest for each.
var renewalsTypoKeywords = [...]struct{ word, suggest string }{
	{"team", "team"},
	{"all", "all"},
	{"mine", "mine"},
	{"at-risk", "at-risk"},
	{"atrisk", "at-risk"},
	{"risk", "at-risk"},
	{"help", "help"},
}

// parseRenewalsArgs reads the text of /renewals for a fiscal year starting
// in fyStart. Words combine in any order: a scope (none: mine; <@U123>;
// team; all), a window (none: 90 days; N, Nd or N days with N 1..730; q1
// to q4; a named quarter as in csbot.ParseFiscalQuarter; this quarter; next
// quarter), at-risk, or help. When any word is none of these (or is
// quoted), the whole text names an account. Invalid UTF-8 is replaced
// and NULs dropped. It returns a
// *renewalsArgError for text it cannot use: two scopes or two windows, a
// window out of range, a channel or @here, or too much text.
func parseRenewalsArgs(text string, fyStart time.Month) (renewalsArgs, error) {
	if n := utf8.RuneCountInString(text); n > maxArgText {
		return renewalsArgs{}, renewalsArgErrorf("That's %d characters; /renewals reads at most %d.", n, maxArgText)
	}
	// What comes back goes to the database and into Slack: valid UTF-8
	// without NULs.
	text = strings.ReplaceAll(strings.ToValidUTF8(text, "\uFFFD"), "\x00", "")
	words := parseArgs(text)
	r := renewalsArgs{Window: renewalsWindow{Kind: renewalsNextDays, Days: defaultRenewalDays}}
	var (
		scopeWord, windowWord string // what set them, for conflicts
		problem               error  // reported only when every word is understood
		unknown               []string
		typos                 []string
	)
	setProblem := func(err error) {
		if problem == nil {
			problem = err
		}
	}
	setScope := func(s renewalsScope, word string, a arg) {
		switch {
		case scopeWord == "":
			r.Scope, scopeWord = s, word
			if s == renewalsOfUser {
				r.UserID, r.UserLabel = a.ID, a.Text
			}
		case r.Scope != s || (s == renewalsOfUser && r.UserID != a.ID):
			setProblem(renewalsArgErrorf("That asks for two sets of accounts, `%s` and `%s`: pick one.", scopeWord, word))
		}
	}
	setWindow := func(w renewalsWindow, word string) {
		switch {
		case windowWord == "":
			r.Window, windowWord = w, word
		case r.Window != w:
			setProblem(renewalsArgErrorf("That asks for two windows, `%s` and `%s`: pick one.", windowWord, word))
		}
	}
	plain := func(i int) (string, bool) {
		if i >= len(words) || words[i].Kind != argWord || words[i].Quoted {
			return "", false
		}
		return strings.ToLower(words[i].Text), true
	}
	for i := 0; i < len(words); i++ {
		a := words[i]
		switch a.Kind {
		case argUser:
			setScope(renewalsOfUser, "@"+a.Text, a)
			continue
		case argChannel:
			return renewalsArgs{}, renewalsArgErrorf("/renewals doesn't take a channel (#%s). To see one account's renewals, name the account: `/renewals acme`.", a.Text)
		case argSpecial:
			return renewalsArgs{}, renewalsArgErrorf("/renewals doesn't take group mentions like @here. Mention one person (`/renewals @sam`) or ask for `team` or `all`.")
		}
		w, ok := plain(i)
		if !ok {
			unknown = append(unknown, a.Text)
			continue
		}
		next, _ := plain(i + 1)
		switch w {
		case "help", "?", "-h", "--help":
			r.Help = true
			continue
		case "mine":
			setScope(renewalsOfMine, a.Text, a)
			continue
		case "team":
			setScope(renewalsOfTeam, a.Text, a)
			continue
		case "all":
			setScope(renewalsOfAll, a.Text, a)
			continue
		case "at-risk", "atrisk", "risk", "at_risk":
			r.AtRisk = true
			continue
		case "at":
			if next == "risk" {
				r.AtRisk = true
				i++
				continue
			}
		case "this", "next":
			if next == "quarter" || next == "q" {
				k := renewalsThisQuarter
				if w == "next" {
					k = renewalsNextQuarter
				}
				setWindow(renewalsWindow{Kind: k}, a.Text+" "+words[i+1].Text)
				i++
				continue
			}
			if w == "next" && i+1 < len(words) {
				if _, _, ok := renewalsDays(next, ""); ok {
					continue // "next 30 days": "next" says nothing more
				}
			}
		}
		// A quarter named over two words ("Q1 2027", "FY27 Q1"), then over one.
		if next != "" {
			if q, err := csbot.ParseFiscalQuarter(w+" "+next, fyStart); err == nil {
				setWindow(renewalsWindow{Kind: renewalsNamedQuarter, Quarter: q}, a.Text+" "+words[i+1].Text)
				i++
				continue
			}
		}
		if q, err := csbot.ParseFiscalQuarter(w, fyStart); err == nil {
			setWindow(renewalsWindow{Kind: renewalsNamedQuarter, Quarter: q}, a.Text)
			continue
		}
		if n, ok := renewalsQuarterNum(w); ok {
			if n < 1 || n > 4 {
				setProblem(renewalsArgErrorf("A fiscal year has four quarters, `q1` to `q4`; `%s` isn't one.", a.Text))
			} else {
				setWindow(renewalsWindow{Kind: renewalsQuarterNumber, Q: n}, a.Text)
			}
			continue
		}
		if n, unit, ok := renewalsDays(w, next); ok {
			word := a.Text
			if unit {
				word += " " + words[i+1].Text
				i++
			}
			if n < 1 || n > maxRenewalDays {
				setProblem(renewalsArgErrorf("A window is 1 to %d days; `%s` is outside it.", maxRenewalDays, word))
			} else {
				setWindow(renewalsWindow{Kind: renewalsNextDays, Days: n}, word)
			}
			continue
		}
		if renewalsIsFiscalYear(w) {
			setProblem(renewalsArgErrorf("Which quarter of %s? For example `/renewals %s Q1`.", strings.ToUpper(a.Text), strings.ToUpper(a.Text)))
			continue
		}
		unknown = append(unknown, a.Text)
		if kw := renewalsTypo(w); kw != "" {
			typos = append(typos, kw)
		}
	}
	if len(unknown) > 0 {
		q := renewalsArgs{Query: joinWords(words)}
		if len(typos) == len(unknown) {
			q.DidYouMean = renewalsDedupe(typos)
		}
		return q, nil
	}
	if r.Help {
		return renewalsArgs{Help: true}, nil
	}
	if problem != nil {
		return renewalsArgs{}, problem
	}
	return r, nil
}

// renewalsDays reads a window in days: "30", "30d", "30days", or "30" with
// next "days" or "d" (then unit is true: next is part of it). ok is false
// when w is not a count of days; n is -1 when the count is too long to
// read, which is out of range anyway.
func renewalsDays(w, next string) (n int, unit, ok bool) {
	digits := w
	for _, suffix := range []string{"days", "day", "d"} {
		if s, found := strings.CutSuffix(w, suffix); found {
			digits = s
			break
		}
	}
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false, false
	}
	if len(digits) > 6 {
		n = -1
	} else {
		n, _ = strconv.Atoi(digits)
	}
	if digits == w && (next == "days" || next == "day" || next == "d") {
		unit = true
	}
	return n, unit, true
}

// renewalsQuarterNum reads "q" followed by a number.
func renewalsQuarterNum(w string) (int, bool) {
	rest, ok := strings.CutPrefix(w, "q")
	if !ok || rest == "" || len(rest) > 3 || strings.TrimLeft(rest, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// renewalsIsFiscalYear reports whether w names a fiscal year alone: "fy27",
// "fy2027".
func renewalsIsFiscalYear(w string) bool {
	rest, ok := strings.CutPrefix(w, "fy")
	return ok && (len(rest) == 2 || len(rest) == 4) && strings.TrimLeft(rest, "0123456789") == ""
}

// renewalsTypo returns the keyword w is probably a typo of, or "".
func renewalsTypo(w string) string {
	n := utf8.RuneCountInString(w)
	if n < 2 || n > 12 {
		return ""
	}
	for _, k := range renewalsTypoKeywords {
		limit := 1
		if len(k.word) > 4 {
			limit = 2
		}
		if d := csbot.EditDistance(w, k.word); d <= limit && d < n {
			return k.suggest
		}
	}
	return ""
}

// renewalsDedupe returns words without repeats, in order.
func renewalsDedupe(words []string) []string {
	var out []string
	for _, w := range words {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}
