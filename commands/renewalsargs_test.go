package commands

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/google/go-cmp/cmp"
)

// renewalsDefault is the report asked for by an empty /renewals.
func renewalsDefault() renewalsArgs {
	return renewalsArgs{Window: renewalsWindow{Kind: renewalsNextDays, Days: defaultRenewalDays}}
}

// renewalsWith returns the default report changed by fn.
func renewalsWith(fn func(*renewalsArgs)) renewalsArgs {
	r := renewalsDefault()
	fn(&r)
	return r
}

func renewalsDaysArgs(n int) func(*renewalsArgs) {
	return func(r *renewalsArgs) { r.Window = renewalsWindow{Kind: renewalsNextDays, Days: n} }
}

func TestParseRenewalsArgs(t *testing.T) {
	feb := time.February
	q2027 := csbot.FiscalQuarter{Year: 2027, Q: 1, Start: feb}
	named := func(q csbot.FiscalQuarter) renewalsWindow {
		return renewalsWindow{Kind: renewalsNamedQuarter, Quarter: q}
	}
	tests := []struct {
		text string
		want renewalsArgs
	}{
		{"", renewalsDefault()},
		{"   \t ", renewalsDefault()},
		{"mine", renewalsDefault()},
		{"30", renewalsWith(renewalsDaysArgs(30))},
		{"30d", renewalsWith(renewalsDaysArgs(30))},
		{"30D", renewalsWith(renewalsDaysArgs(30))},
		{"30 days", renewalsWith(renewalsDaysArgs(30))},
		{"1 day", renewalsWith(renewalsDaysArgs(1))},
		{"180days", renewalsWith(renewalsDaysArgs(180))},
		{"next 30 days", renewalsWith(renewalsDaysArgs(30))},
		{"730", renewalsWith(renewalsDaysArgs(730))},
		{"030", renewalsWith(renewalsDaysArgs(30))},
		{"30\u200bdays", renewalsWith(renewalsDaysArgs(30))},
		{"team", renewalsWith(func(r *renewalsArgs) { r.Scope = renewalsOfTeam })},
		{"TEAM", renewalsWith(func(r *renewalsArgs) { r.Scope = renewalsOfTeam })},
		{"all", renewalsWith(func(r *renewalsArgs) { r.Scope = renewalsOfAll })},
		{"<@U123ABC|sam>", renewalsWith(func(r *renewalsArgs) { r.Scope, r.UserID, r.UserLabel = renewalsOfUser, "U123ABC", "sam" })},
		{"<@W123ABC>", renewalsWith(func(r *renewalsArgs) { r.Scope, r.UserID, r.UserLabel = renewalsOfUser, "W123ABC", "W123ABC" })},
		{"<@U1AB|sam> <@U1AB>", renewalsWith(func(r *renewalsArgs) { r.Scope, r.UserID, r.UserLabel = renewalsOfUser, "U1AB", "sam" })},
		{"at-risk", renewalsWith(func(r *renewalsArgs) { r.AtRisk = true })},
		{"AT-RISK", renewalsWith(func(r *renewalsArgs) { r.AtRisk = true })},
		{"atrisk", renewalsWith(func(r *renewalsArgs) { r.AtRisk = true })},
		{"risk", renewalsWith(func(r *renewalsArgs) { r.AtRisk = true })},
		{"at risk", renewalsWith(func(r *renewalsArgs) { r.AtRisk = true })},
		{"risk at-risk", renewalsWith(func(r *renewalsArgs) { r.AtRisk = true })},
		{"q1", renewalsWith(func(r *renewalsArgs) { r.Window = renewalsWindow{Kind: renewalsQuarterNumber, Q: 1} })},
		{"Q4", renewalsWith(func(r *renewalsArgs) { r.Window = renewalsWindow{Kind: renewalsQuarterNumber, Q: 4} })},
		{"2027-Q1", renewalsWith(func(r *renewalsArgs) { r.Window = named(q2027) })},
		{"Q1 2027", renewalsWith(func(r *renewalsArgs) { r.Window = named(q2027) })},
		{"q1-2027", renewalsWith(func(r *renewalsArgs) { r.Window = named(q2027) })},
		{"FY27 Q1", renewalsWith(func(r *renewalsArgs) { r.Window = named(q2027) })},
		{"FY2027 Q1", renewalsWith(func(r *renewalsArgs) { r.Window = named(q2027) })},
		{"2027q1", renewalsWith(func(r *renewalsArgs) { r.Window = named(q2027) })},
		{"Q1 FY27", renewalsWith(func(r *renewalsArgs) { r.Window = named(q2027) })},
		{"this quarter", renewalsWith(func(r *renewalsArgs) { r.Window = renewalsWindow{Kind: renewalsThisQuarter} })},
		{"This Quarter", renewalsWith(func(r *renewalsArgs) { r.Window = renewalsWindow{Kind: renewalsThisQuarter} })},
		{"next quarter", renewalsWith(func(r *renewalsArgs) { r.Window = renewalsWindow{Kind: renewalsNextQuarter} })},
		{"next q", renewalsWith(func(r *renewalsArgs) { r.Window = renewalsWindow{Kind: renewalsNextQuarter} })},
		{"30 30", renewalsWith(renewalsDaysArgs(30))},
		{"team team", renewalsWith(func(r *renewalsArgs) { r.Scope = renewalsOfTeam })},
		// Combined, in any order.
		{"team at-risk 30", renewalsWith(func(r *renewalsArgs) { r.Scope, r.AtRisk = renewalsOfTeam, true; r.Window.Days = 30 })},
		{"30 at-risk team", renewalsWith(func(r *renewalsArgs) { r.Scope, r.AtRisk = renewalsOfTeam, true; r.Window.Days = 30 })},
		{"risk <@U1AB|jo> q2", renewalsWith(func(r *renewalsArgs) {
			r.Scope, r.UserID, r.UserLabel, r.AtRisk = renewalsOfUser, "U1AB", "jo", true
			r.Window = renewalsWindow{Kind: renewalsQuarterNumber, Q: 2}
		})},
		{"all FY27 Q1 at risk", renewalsWith(func(r *renewalsArgs) { r.Scope, r.AtRisk, r.Window = renewalsOfAll, true, named(q2027) })},
		{"next quarter team", renewalsWith(func(r *renewalsArgs) { r.Scope, r.Window = renewalsOfTeam, renewalsWindow{Kind: renewalsNextQuarter} })},
		// Help.
		{"help", renewalsArgs{Help: true}},
		{"HELP", renewalsArgs{Help: true}},
		{"?", renewalsArgs{Help: true}},
		{"help team all", renewalsArgs{Help: true}},
		// Anything else names an account, the whole text.
		{"acme", renewalsArgs{Query: "acme"}},
		{"acme corp", renewalsArgs{Query: "acme corp"}},
		{"  Acme   Corp ", renewalsArgs{Query: "Acme Corp"}},
		{`"team"`, renewalsArgs{Query: "team"}},
		{`"acme corp" 30`, renewalsArgs{Query: "acme corp 30"}},
		{"team acme", renewalsArgs{Query: "team acme"}},
		{"route 66", renewalsArgs{Query: "route 66"}},
		{"studio 1000", renewalsArgs{Query: "studio 1000"}},
		{"7-eleven", renewalsArgs{Query: "7-eleven"}},
		{"-5", renewalsArgs{Query: "-5"}},
		{"days", renewalsArgs{Query: "days"}},
		{"q", renewalsArgs{Query: "q"}},
		{"this", renewalsArgs{Query: "this"}},
		{"next", renewalsArgs{Query: "next"}},
		{"at", renewalsArgs{Query: "at"}},
		{"<@U1AB|sam> acme", renewalsArgs{Query: "sam acme"}},
		{"café 東京", renewalsArgs{Query: "café 東京"}},
		{"ac\x00me", renewalsArgs{Query: "acme"}},
		{"acme\xff\xfe", renewalsArgs{Query: "acme\uFFFD"}},
		{"<@U1AB|\x91>", renewalsWith(func(r *renewalsArgs) { r.Scope, r.UserID, r.UserLabel = renewalsOfUser, "U1AB", "\uFFFD" })},
		{"ａｃｍｅ", renewalsArgs{Query: "ａｃｍｅ"}},
		{"<notareference", renewalsArgs{Query: "<notareference"}},
		{"acme.com", renewalsArgs{Query: "acme.com"}},
		{"help scout", renewalsArgs{Query: "help scout"}},
		// Words close to a keyword: probably a typo, if no account has
		// that name.
		{"tema", renewalsArgs{Query: "tema", DidYouMean: []string{"team"}}},
		{"al", renewalsArgs{Query: "al", DidYouMean: []string{"all"}}},
		{"at-rsk", renewalsArgs{Query: "at-rsk", DidYouMean: []string{"at-risk"}}},
		{"atrsik", renewalsArgs{Query: "atrsik", DidYouMean: []string{"at-risk"}}},
		{"hlep", renewalsArgs{Query: "hlep", DidYouMean: []string{"help"}}},
		{"tema 30", renewalsArgs{Query: "tema 30", DidYouMean: []string{"team"}}},
		{"tema at-rsk", renewalsArgs{Query: "tema at-rsk", DidYouMean: []string{"team", "at-risk"}}},
		{"tema taem", renewalsArgs{Query: "tema taem", DidYouMean: []string{"team"}}},
		{"tema acme", renewalsArgs{Query: "tema acme"}},
		{`"tema"`, renewalsArgs{Query: "tema"}},
	}
	for _, tt := range tests {
		got, err := parseRenewalsArgs(tt.text, feb)
		if err != nil {
			t.Errorf("parseRenewalsArgs(%q) failed: %v", tt.text, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(renewalsArgs{})); diff != "" {
			t.Errorf("parseRenewalsArgs(%q) (-want +got):\n%s", tt.text, diff)
		}
	}
}

func TestParseRenewalsArgsRefuses(t *testing.T) {
	tests := []struct {
		text string
		want []string // in the message
	}{
		{"team all", []string{"two sets of accounts", "`team`", "`all`"}},
		{"all <@U1AB|sam>", []string{"two sets of accounts", "`all`", "`@sam`"}},
		{"<@U1AB|sam> <@U2CD|jo>", []string{"two sets of accounts", "`@sam`", "`@jo`"}},
		{"mine team", []string{"two sets of accounts"}},
		{"30 q1", []string{"two windows", "`30`", "`q1`"}},
		{"30 days 60", []string{"two windows", "`30 days`", "`60`"}},
		{"this quarter 2027-Q1", []string{"two windows", "`this quarter`", "`2027-Q1`"}},
		{"next quarter q3", []string{"two windows"}},
		{"0", []string{"1 to 730 days", "`0`"}},
		{"731", []string{"1 to 730 days", "`731`"}},
		{"1000 days", []string{"1 to 730 days", "`1000 days`"}},
		{"99999999999999999999999", []string{"1 to 730 days"}},
		{"team 0d", []string{"1 to 730 days"}},
		{"q5", []string{"four quarters", "`q5`"}},
		{"Q0 team", []string{"four quarters", "`Q0`"}},
		{"fy27", []string{"Which quarter of FY27", "`/renewals FY27 Q1`"}},
		{"<#C123ABC|general>", []string{"doesn't take a channel", "#general"}},
		{"acme <#C123ABC>", []string{"doesn't take a channel"}},
		{"<!here>", []string{"group mentions"}},
		{"team <!subteam^S123|@cs>", []string{"group mentions"}},
		{strings.Repeat("a", maxArgText+1), []string{"501 characters", "at most 500"}},
		{strings.Repeat("é", maxArgText+1), []string{"501 characters"}},
	}
	for _, tt := range tests {
		got, err := parseRenewalsArgs(tt.text, time.January)
		var ae *renewalsArgError
		if !errors.As(err, &ae) {
			t.Errorf("parseRenewalsArgs(%.40q) = %+v, %v; want a renewalsArgError", tt.text, got, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(ae.msg, w) {
				t.Errorf("parseRenewalsArgs(%.40q) message %q does not say %q", tt.text, ae.msg, w)
			}
		}
	}
	// Exactly the limit is read.
	if got, err := parseRenewalsArgs(strings.Repeat("a", maxArgText), time.January); err != nil || utf8.RuneCountInString(got.Query) != maxArgText {
		t.Errorf("parseRenewalsArgs(%d letters) = %d letters of query, %v", maxArgText, utf8.RuneCountInString(got.Query), err)
	}
}

func TestRenewalsTypo(t *testing.T) {
	tests := map[string]string{
		"tema": "team", "taem": "team", "tam": "team", "teams": "team",
		"al": "all", "alll": "all", "ll": "all",
		"at-rsk": "at-risk", "atrsk": "at-risk", "rsik": "at-risk", "at-riks": "at-risk",
		"hepl": "help", "mien": "mine",
		"a": "", "acme": "", "globex": "", "at": "", "xx": "", "t": "", "quarterly": "",
		strings.Repeat("team", 4): "",
	}
	for w, want := range tests {
		if got := renewalsTypo(w); got != want {
			t.Errorf("renewalsTypo(%q) = %q, want %q", w, got, want)
		}
	}
}

func TestRenewalsDates(t *testing.T) {
	today := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		w        renewalsWindow
		start    time.Month
		from, to time.Time
		quarter  bool
	}{
		{renewalsWindow{Kind: renewalsNextDays, Days: 90}, time.January, today, d(2026, 6, 13), false},
		{renewalsWindow{Kind: renewalsNextDays, Days: 1}, time.January, today, d(2026, 3, 16), false},
		{renewalsWindow{Kind: renewalsNextDays}, time.January, today, d(2026, 6, 13), false}, // out of range: the default
		// q1 with a January start in March: the current quarter.
		{renewalsWindow{Kind: renewalsQuarterNumber, Q: 1}, time.January, d(2026, 1, 1), d(2026, 3, 31), true},
		{renewalsWindow{Kind: renewalsQuarterNumber, Q: 2}, time.January, d(2026, 4, 1), d(2026, 6, 30), true},
		{renewalsWindow{Kind: renewalsQuarterNumber, Q: 4}, time.January, d(2026, 10, 1), d(2026, 12, 31), true},
		// With a February start, March 15, 2026 is in FY2027 Q1; q4 is
		// FY2027's, q1 the current one.
		{renewalsWindow{Kind: renewalsQuarterNumber, Q: 1}, time.February, d(2026, 2, 1), d(2026, 4, 30), true},
		{renewalsWindow{Kind: renewalsQuarterNumber, Q: 4}, time.February, d(2026, 11, 1), d(2027, 1, 31), true},
		// With an April start, March 15 is in FY2026 Q4; q1 is next.
		{renewalsWindow{Kind: renewalsQuarterNumber, Q: 1}, time.April, d(2026, 4, 1), d(2026, 6, 30), true},
		{renewalsWindow{Kind: renewalsQuarterNumber, Q: 4}, time.April, d(2026, 1, 1), d(2026, 3, 31), true},
		{renewalsWindow{Kind: renewalsThisQuarter}, time.February, d(2026, 2, 1), d(2026, 4, 30), true},
		{renewalsWindow{Kind: renewalsNextQuarter}, time.February, d(2026, 5, 1), d(2026, 7, 31), true},
		{renewalsWindow{Kind: renewalsNextQuarter}, time.December, d(2026, 6, 1), d(2026, 8, 31), true},
		{renewalsWindow{Kind: renewalsNamedQuarter, Quarter: csbot.FiscalQuarter{Year: 2027, Q: 1, Start: time.February}}, time.February, d(2026, 2, 1), d(2026, 4, 30), true},
	}
	for _, tt := range tests {
		from, to, quarter := renewalsDates(tt.w, today, tt.start)
		if !from.Equal(tt.from) || !to.Equal(tt.to) || quarter != tt.quarter {
			t.Errorf("renewalsDates(%+v, start %s) = %s, %s, %v; want %s, %s, %v", tt.w, tt.start,
				from.Format(time.DateOnly), to.Format(time.DateOnly), quarter,
				tt.from.Format(time.DateOnly), tt.to.Format(time.DateOnly), tt.quarter)
		}
	}
}

func TestRenewalsWindowLabel(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		q             renewalsQuery
		start         time.Month
		label, phrase string
	}{
		{renewalsQuery{From: d(2026, 3, 15), To: d(2026, 6, 13)}, time.January, "next 90 days", "in the next 90 days"},
		{renewalsQuery{From: d(2026, 3, 15), To: d(2026, 3, 16)}, time.January, "next 1 day", "in the next 1 day"},
		{renewalsQuery{From: d(2026, 2, 1), To: d(2026, 4, 30), Quarter: true}, time.February,
			"FY2027 Q1 (Feb 1 - Apr 30, 2026)", "in FY2027 Q1 (Feb 1 - Apr 30, 2026)"},
		{renewalsQuery{From: d(2026, 12, 1), To: d(2027, 2, 28), Quarter: true}, time.December,
			"FY2027 Q1 (Dec 1, 2026 - Feb 28, 2027)", "in FY2027 Q1 (Dec 1, 2026 - Feb 28, 2027)"},
		// A quarter of another fiscal calendar (the setting changed since
		// the button was made) shows as dates.
		{renewalsQuery{From: d(2026, 2, 1), To: d(2026, 4, 30), Quarter: true}, time.January,
			"Feb 1 - Apr 30, 2026", "in Feb 1 - Apr 30, 2026"},
	}
	for _, tt := range tests {
		label, phrase := renewalsWindowLabel(tt.q, tt.start)
		if label != tt.label || phrase != tt.phrase {
			t.Errorf("renewalsWindowLabel(%+v) = %q, %q; want %q, %q", tt.q, label, phrase, tt.label, tt.phrase)
		}
	}
}

// checkRenewalsArgs checks what parseRenewalsArgs made of text: a usage
// error with a message, or a request that can be run.
func checkRenewalsArgs(t *testing.T, text string, start time.Month, got renewalsArgs, err error) {
	t.Helper()
	if err != nil {
		var ae *renewalsArgError
		if !errors.As(err, &ae) || strings.TrimSpace(ae.msg) == "" {
			t.Fatalf("parseRenewalsArgs(%q) error %v is not a usage message", text, err)
		}
		if !cmp.Equal(got, renewalsArgs{}) {
			t.Fatalf("parseRenewalsArgs(%q) failed but returned %+v", text, got)
		}
		return
	}
	switch {
	case got.Help:
		if !cmp.Equal(got, renewalsArgs{Help: true}) {
			t.Fatalf("parseRenewalsArgs(%q) = %+v: help with more", text, got)
		}
		return
	case got.Query != "":
		if strings.TrimSpace(got.Query) == "" || utf8.RuneCountInString(got.Query) > maxArgText ||
			!utf8.ValidString(got.Query) || strings.ContainsRune(got.Query, 0) {
			t.Fatalf("parseRenewalsArgs(%q) query %q", text, got.Query)
		}
		for _, k := range got.DidYouMean {
			if !slices.Contains([]string{"team", "all", "mine", "at-risk", "help"}, k) {
				t.Fatalf("parseRenewalsArgs(%q) suggests %q, not a keyword", text, k)
			}
		}
		if !cmp.Equal(got, renewalsArgs{Query: got.Query, DidYouMean: got.DidYouMean}) {
			t.Fatalf("parseRenewalsArgs(%q) = %+v: a query with more", text, got)
		}
		return
	}
	if len(got.DidYouMean) > 0 {
		t.Fatalf("parseRenewalsArgs(%q) = %+v: suggestions without a query", text, got)
	}
	switch got.Scope {
	case renewalsOfMine, renewalsOfTeam, renewalsOfAll:
		if got.UserID != "" || got.UserLabel != "" {
			t.Fatalf("parseRenewalsArgs(%q) = %+v: a user without the user scope", text, got)
		}
	case renewalsOfUser:
		if !csbot.IsSlackUserID(got.UserID) || got.UserLabel == "" || !utf8.ValidString(got.UserLabel) {
			t.Fatalf("parseRenewalsArgs(%q) = %+v: a bad user", text, got)
		}
	default:
		t.Fatalf("parseRenewalsArgs(%q) = %+v: no such scope", text, got)
	}
	w := got.Window
	switch w.Kind {
	case renewalsNextDays:
		if w.Days < 1 || w.Days > maxRenewalDays {
			t.Fatalf("parseRenewalsArgs(%q) = %+v: days out of range", text, got)
		}
	case renewalsQuarterNumber:
		if w.Q < 1 || w.Q > 4 {
			t.Fatalf("parseRenewalsArgs(%q) = %+v: no such quarter", text, got)
		}
	case renewalsNamedQuarter:
		if !w.Quarter.Valid() || w.Quarter.Start != start {
			t.Fatalf("parseRenewalsArgs(%q) = %+v: a bad quarter", text, got)
		}
	case renewalsThisQuarter, renewalsNextQuarter:
	default:
		t.Fatalf("parseRenewalsArgs(%q) = %+v: no such window", text, got)
	}
	// The request runs: its dates are in order and a "Show more" button
	// for it decodes to the same query.
	today := time.Date(2026, 7, 4, 0, 0, 0, 0, time.UTC)
	q := renewalsQuery{Scope: got.Scope, UserID: got.UserID, UserLabel: got.UserLabel, AtRisk: got.AtRisk, Offset: 40}
	q.From, q.To, q.Quarter = renewalsDates(w, today, start)
	if q.To.Before(q.From) || dayCount(q.From, q.To) > maxRenewalDays {
		t.Fatalf("parseRenewalsArgs(%q): window %v - %v", text, q.From, q.To)
	}
	if n := renewalsPageSize(q.From, q.To); n < 1 || n > maxRenewalsPage {
		t.Fatalf("parseRenewalsArgs(%q): page size %d", text, n)
	}
	v := encodeRenewalsMore(q)
	back, ok := parseRenewalsMore(v)
	q.UserLabel = bot.Truncate(q.UserLabel, maxRenewalsLabel)
	if !ok || !cmp.Equal(back, q) || utf8.RuneCountInString(v) > 2000 {
		t.Fatalf("parseRenewalsArgs(%q): button value %q decodes to %+v, %v; want %+v", text, v, back, ok, q)
	}
}

func TestParseRenewalsArgsResults(t *testing.T) {
	for _, text := range []string{"", "team at-risk 30", "<@U1AB|sam> q3", "2027-Q4 all", "next quarter", "help", "acme", "tema", "team all", "731"} {
		got, err := parseRenewalsArgs(text, time.March)
		checkRenewalsArgs(t, text, time.March, got, err)
	}
}

func FuzzRenewalsArgs(f *testing.F) {
	for _, s := range []string{
		"", "30", "30d", "30 days", "next 30 days", "team", "all", "mine", "at-risk", "atrisk", "risk", "at risk",
		"q1", "Q4", "2027-Q1", "Q1 2027", "q1-2027", "FY27 Q1", "FY2027 Q1", "2027q1", "this quarter", "next quarter",
		"team at-risk 30", "<@U123|name>", "<@U123ABC|sam> q2 risk", "<#C123|general>", "<!here>", "<!subteam^S1|@cs>",
		`"acme corp"`, "“team”", "'all' 30", "acme", "tema", "al", "at-rsk", "help", "café 東京", "ａｃｍｅ", "\u200b30\u200b",
		"<@", "<@U1|", "<>", "q", "fy27", "0", "731", "99999999999999999999", strings.Repeat("team ", 120),
		strings.Repeat("é", 600), "\xff\xfe", "q1 q1", "2027-Q1 Q1 2027",
	} {
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, text string, m uint8) {
		start := time.Month(m%12 + 1)
		got, err := parseRenewalsArgs(text, start)
		checkRenewalsArgs(t, text, start, got, err)
	})
}

func FuzzRenewalsMoreValue(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"s":"mine","f":"2026-01-10","t":"2026-04-10","o":40}`,
		`{"v":1,"s":"user","u":"U123","n":"sam","f":"2026-01-10","t":"2026-04-10","q":true,"r":true,"o":80}`,
		`{"v":1,"s":"team","f":"2026-02-01","t":"2026-04-30","q":true,"o":40}`,
		`{"v":2,"s":"all"}`, `{"v":1,"s":"all","f":"2026-01-10","t":"2020-04-10","o":40}`, `null`, `[]`, ``, `{`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, ok := parseRenewalsMore(s)
		if !ok {
			if !cmp.Equal(q, renewalsQuery{}) {
				t.Fatalf("parseRenewalsMore(%q) refused but returned %+v", s, q)
			}
			return
		}
		if q.Offset < 1 || q.To.Before(q.From) || dayCount(q.From, q.To) > maxRenewalDays+1 ||
			(q.Scope == renewalsOfUser) != (q.UserID != "") || int(q.Scope) >= len(renewalsScopeNames) {
			t.Fatalf("parseRenewalsMore(%q) = %+v", s, q)
		}
		back, ok := parseRenewalsMore(encodeRenewalsMore(q))
		if !ok || !cmp.Equal(back, q) {
			t.Fatalf("parseRenewalsMore(%q) = %+v, which encodes to %+v, %v", s, q, back, ok)
		}
	})
}

func TestParseRenewalsMoreRefuses(t *testing.T) {
	ok := `{"v":1,"s":"mine","f":"2026-01-10","t":"2026-04-10","o":40}`
	if _, good := parseRenewalsMore(ok); !good {
		t.Fatalf("parseRenewalsMore(%s) refused a good value", ok)
	}
	for _, s := range []string{
		"", "40", "mine:40", "null", `{}`,
		`{"v":2,"s":"mine","f":"2026-01-10","t":"2026-04-10","o":40}`,
		`{"v":1,"s":"boss","f":"2026-01-10","t":"2026-04-10","o":40}`,
		`{"v":1,"s":"mine","f":"2026-01-10","t":"2026-04-10","o":0}`,
		`{"v":1,"s":"mine","f":"2026-01-10","t":"2026-04-10","o":-40}`,
		`{"v":1,"s":"mine","f":"2026-01-10","t":"2026-04-10","o":99999999999}`,
		`{"v":1,"s":"mine","f":"2026-04-10","t":"2026-01-10","o":40}`,
		`{"v":1,"s":"mine","f":"2026-01-10","t":"2031-01-10","o":40}`,
		`{"v":1,"s":"mine","f":"Jan 10","t":"2026-04-10","o":40}`,
		`{"v":1,"s":"mine","u":"U123","f":"2026-01-10","t":"2026-04-10","o":40}`,
		`{"v":1,"s":"user","f":"2026-01-10","t":"2026-04-10","o":40}`,
		`{"v":1,"s":"user","u":"<!here>","f":"2026-01-10","t":"2026-04-10","o":40}`,
		`{"v":1,"s":"user","u":"C123","f":"2026-01-10","t":"2026-04-10","o":40}`,
		`{"v":1,"s":"user","u":"U123","n":"` + strings.Repeat("x", 81) + `","f":"2026-01-10","t":"2026-04-10","o":40}`,
		`{"v":1,"s":"all","f":"2026-01-10","t":"2026-04-10","o":40,"x":` + strings.Repeat(" ", 2000) + `1}`,
	} {
		if q, good := parseRenewalsMore(s); good {
			t.Errorf("parseRenewalsMore(%.80q) = %+v, want refused", s, q)
		}
	}
}
