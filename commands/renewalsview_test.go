package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/slack-go/slack"
)

// RenewalsTestQuery describes a /renewals report for the golden tests of
// package commands_test, which render pages of it with RenewalsTestPage.
type RenewalsTestQuery struct {
	// Scope is "mine", "user", "team" or "all"; UserID and UserName are
	// the person of "user".
	Scope            string
	UserID, UserName string
	From, To         time.Time
	Quarter, AtRisk  bool
	Offset           int
	FiscalYearStart  time.Month
	// Note is mrkdwn shown under the summary.
	Note string
}

// RenewalsTestPage renders rep, a page of the report q, on today, as the
// /renewals handler does once it has read the page from the store.
func RenewalsTestPage(q RenewalsTestQuery, rep csbot.RenewalReport, today time.Time) bot.Reply {
	rq := renewalsQuery{UserID: q.UserID, UserLabel: q.UserName, From: q.From, To: q.To,
		Quarter: q.Quarter, AtRisk: q.AtRisk, Offset: q.Offset}
	for i, name := range renewalsScopeNames {
		if name == q.Scope {
			rq.Scope = renewalsScope(i)
		}
	}
	var s renewalsScopeReply
	s.title, s.whose = renewalsScopeText(rq.Scope, q.UserName, q.AtRisk)
	s.note = q.Note
	return renewalsPageReply(rq, s, rep, today, q.FiscalYearStart)
}

// RenewalsTestPageSize is how many renewals a page of a report over
// from..to shows.
func RenewalsTestPageSize(from, to time.Time) int { return renewalsPageSize(from, to) }

// RenewalsTestHistory renders an account's renewal history (latest first)
// on today, as /renewals <account> does.
func RenewalsTestHistory(a csbot.Account, hist []csbot.Renewal, today time.Time) bot.Reply {
	return renewalsHistoryReply(a, hist, today)
}

// RenewalsTestMoreOffset decodes a "Show more" button value and returns
// the offset of the page it asks for.
func RenewalsTestMoreOffset(value string) (int, bool) {
	q, ok := parseRenewalsMore(value)
	return q.Offset, ok
}

func renewalsDay(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// renewalsTestLine is a renewal of the named account on date.
func renewalsTestLine(id int64, name string, date time.Time, arr csbot.Cents) csbot.RenewalLine {
	return csbot.RenewalLine{
		Renewal: csbot.Renewal{ID: id, AccountID: id, RenewalDate: date, ARR: arr, Status: csbot.RenewalOpen},
		Account: csbot.Account{ID: id, Name: name, ARR: arr},
		Health:  csbot.HealthSnapshot{Day: date, Score: 80, Band: csbot.BandGreen},
		Contact: csbot.Contact{ID: id, AccountID: id, Name: "Jo Doe", Role: csbot.RoleRenewal, Active: true},
	}
}

// RenewalsTestTotals is renewalsTestTotals, for the golden tests.
func RenewalsTestTotals(all []csbot.RenewalLine, offset, limit int) csbot.RenewalReport {
	return renewalsTestTotals(all, offset, limit)
}

// renewalsTestTotals fills the totals of a report from all its lines and
// keeps the page [offset, offset+limit).
func renewalsTestTotals(all []csbot.RenewalLine, offset, limit int) csbot.RenewalReport {
	var rep csbot.RenewalReport
	for _, l := range all {
		rep.Total++
		rep.ARR += l.Renewal.ARR
		d := l.Renewal.RenewalDate
		m := renewalsDay(d.Year(), d.Month(), 1)
		if n := len(rep.Months); n == 0 || !rep.Months[n-1].Month.Equal(m) {
			rep.Months = append(rep.Months, csbot.MonthTotal{Month: m})
		}
		rep.Months[len(rep.Months)-1].Renewals++
		rep.Months[len(rep.Months)-1].ARR += l.Renewal.ARR
	}
	rep.Lines = all[min(offset, len(all)):min(offset+limit, len(all))]
	return rep
}

func TestRenewalsPageSize(t *testing.T) {
	tests := []struct {
		from, to time.Time
		want     int
	}{
		{renewalsDay(2026, 3, 1), renewalsDay(2026, 3, 31), 40},    // one month
		{renewalsDay(2026, 3, 15), renewalsDay(2026, 6, 13), 40},   // 90 days over four months
		{renewalsDay(2026, 1, 31), renewalsDay(2026, 5, 1), 39},    // 90 days over five months
		{renewalsDay(2026, 2, 1), renewalsDay(2026, 4, 30), 40},    // a quarter
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 3, 15), 31},   // a year: 13 months
		{renewalsDay(2026, 3, 15), renewalsDay(2028, 3, 14), 22},   // 730 days: 25 months
		{renewalsDay(2026, 3, 15), renewalsDay(2026, 3, 15), 40},   // one day
		{renewalsDay(2026, 12, 31), renewalsDay(2027, 1, 1), 40},   // two months, two days
		{renewalsDay(2026, 1, 1), renewalsDay(2027, 10, 31), 22},   // 22 months
		{renewalsDay(2026, 1, 1), renewalsDay(2027, 9, 30), 23},    // 21 months
		{renewalsDay(2026, 1, 1), renewalsDay(2026, 12, 31), 32},   // 12 months
		{renewalsDay(2026, 1, 1), renewalsDay(2028, 12, 31), 22},   // 36 months, beyond any window
		{renewalsDay(2026, 3, 15), renewalsDay(2020, 1, 1), 40},    // backwards: as one month
		{renewalsDay(2026, 3, 15), renewalsDay(2026, 3, 14), 40},   // backwards by a day
		{renewalsDay(2026, 3, 15), renewalsDay(2026, 7, 31), 39},   // five months
		{renewalsDay(2026, 3, 15), renewalsDay(2026, 8, 1), 38},    // six months
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 12, 1), 22},   // 22 months
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 8, 1), 26},    // 18 months
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 10, 1), 24},   // 20 months
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 11, 1), 23},   // 21 months
		{renewalsDay(2026, 3, 15), renewalsDay(2026, 10, 1), 36},   // 8 months
		{renewalsDay(2026, 3, 15), renewalsDay(2026, 11, 1), 35},   // 9 months
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 1, 1), 33},    // 11 months
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 2, 1), 32},    // 12 months
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 4, 1), 30},    // 14 months
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 5, 1), 29},    // 15 months
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 6, 1), 28},    // 16 months
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 7, 1), 27},    // 17 months
		{renewalsDay(2026, 3, 15), renewalsDay(2027, 9, 1), 25},    // 19 months
		{renewalsDay(2026, 3, 15), renewalsDay(2026, 9, 1), 37},    // 7 months
		{renewalsDay(2026, 3, 15), renewalsDay(2026, 12, 1), 34},   // 10 months
		{renewalsDay(2026, 3, 15), renewalsDay(2026, 4, 1), 40},    // 2 months
		{renewalsDay(2026, 3, 15), renewalsDay(2026, 5, 1), 40},    // 3 months
		{renewalsDay(2026, 12, 15), renewalsDay(2027, 12, 14), 31}, // 13 months across years
	}
	for _, tt := range tests {
		if got := renewalsPageSize(tt.from, tt.to); got != tt.want {
			t.Errorf("renewalsPageSize(%s, %s) = %d, want %d", tt.from.Format(time.DateOnly), tt.to.Format(time.DateOnly), got, tt.want)
		}
	}
}

// TestRenewalsWorstPagesFit builds, for every window length, the page with
// the most blocks a report can make: a full page whose lines fall in as
// many months as the window has, with a note and a "Show more" button,
// long names full of characters to escape. Each must pass Slack's limits
// with the spare blocks left.
func TestRenewalsWorstPagesFit(t *testing.T) {
	today := renewalsDay(2026, 1, 31)
	long := strings.Repeat("R&D <Labs> <!here> ", 300)
	for days := 1; days <= maxRenewalDays; days++ {
		from, to := today, today.AddDate(0, 0, days)
		size := renewalsPageSize(from, to)
		// Spread the lines over the window's months, one line per month
		// first.
		var all []csbot.RenewalLine
		for d := from; !d.After(to) && len(all) < size; d = d.AddDate(0, 1, 0) {
			all = append(all, renewalsTestLine(int64(len(all)+1), long, d, 1_000_000_00))
		}
		for len(all) < size {
			all = append(all, renewalsTestLine(int64(len(all)+1), long, to, 1_000_000_00))
		}
		for i := range all {
			all[i].Contact.Name, all[i].Contact.Title = long, long
			all[i].Renewal.AutoRenew = true
			all[i].Health.Band = csbot.BandRed
		}
		// Sort by date as the store does: the filler lines at the end are
		// on the last day already.
		extra := make([]csbot.RenewalLine, 3*size)
		for i := range extra {
			extra[i] = renewalsTestLine(int64(1000+i), long, to, 5)
		}
		rep := renewalsTestTotals(append(all, extra...), 0, size)
		q := renewalsQuery{Scope: renewalsOfUser, UserID: "U0SAM", UserLabel: long, From: from, To: to}
		s := renewalsScopeReply{note: bot.Escape(long)}
		s.title, s.whose = renewalsScopeText(q.Scope, long, false)
		out := renewalsPageReply(q, s, rep, today, time.January)
		if err := bot.CheckLimits(bot.SurfaceMessage, out.Blocks, out.Text); err != nil {
			t.Fatalf("%d days: page over Slack's limits: %v", days, err)
		}
		if n := len(out.Blocks); n > bot.MaxMessageBlocks-renewalsSpareBlocks {
			t.Fatalf("%d days: %d blocks, want at most %d", days, n, bot.MaxMessageBlocks-renewalsSpareBlocks)
		}
		if got := renewalsCountLines(out); got != size {
			t.Fatalf("%d days: the page shows %d renewals, want %d", days, got, size)
		}
		raw, _ := json.Marshal(out.Blocks)
		if strings.Contains(string(raw), "<!here>") || strings.Contains(out.Text, "<!here>") {
			t.Fatalf("%d days: an account's name reached Slack unescaped", days)
		}
	}
}

// renewalsCountLines counts the renewal lines of a report page: the
// sections that name a renewal contact or warn of none.
func renewalsCountLines(rep bot.Reply) int {
	n := 0
	for _, b := range rep.Blocks {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil &&
			(strings.Contains(s.Text.Text, "\nRenewal contact: ") || strings.Contains(s.Text.Text, "\n⚠️ no renewal contact on file")) {
			n++
		}
	}
	return n
}

func TestRenewalsLineText(t *testing.T) {
	today := renewalsDay(2026, 3, 1)
	l := renewalsTestLine(1, "Acme <Corp> & Co", renewalsDay(2026, 3, 13), 12_000_000)
	l.Contact.Title = "VP Finance"
	l.Health.Band = csbot.BandYellow
	l.Renewal.AutoRenew = true
	want := "🟡 *Acme &lt;Corp&gt; &amp; Co* · *$120k* · Mar 13, 2026, in 12 days · 🔁 auto-renews\nRenewal contact: Jo Doe, VP Finance"
	if got := renewalsLineText(l, today); got != want {
		t.Errorf("renewalsLineText =\n%q\nwant\n%q", got, want)
	}

	l = renewalsTestLine(2, "Initech", renewalsDay(2026, 2, 26), 95_000)
	l.Contact = csbot.Contact{}
	l.Health = csbot.HealthSnapshot{}
	want = "⚪ *Initech* · *$950* · Feb 26, 2026, 3 days ago (overdue)\n⚠️ no renewal contact on file"
	if got := renewalsLineText(l, today); got != want {
		t.Errorf("renewalsLineText =\n%q\nwant\n%q", got, want)
	}

	l = renewalsTestLine(3, "  ", today, 250_000_000)
	l.Contact.Name, l.Contact.Email = "", "ap@<x>.example"
	l.Health.Band = csbot.BandRed
	want = "🔴 (no name) · *$2.5M* · Mar 1, 2026, today\nRenewal contact: ap@&lt;x&gt;.example"
	if got := renewalsLineText(l, today); got != want {
		t.Errorf("renewalsLineText =\n%q\nwant\n%q", got, want)
	}
}

func TestRenewalsHistoryLine(t *testing.T) {
	today := renewalsDay(2026, 3, 1)
	r := csbot.Renewal{ID: 3, RenewalDate: renewalsDay(2026, 3, 4), ARR: 12_000_000, Status: csbot.RenewalExpanded,
		AutoRenew: true, OutcomeReason: "added the\n analytics <module>"}
	prev := csbot.Renewal{ID: 2, RenewalDate: renewalsDay(2025, 3, 4), ARR: 10_000_000, Status: csbot.RenewalRenewed}
	tests := []struct {
		r    csbot.Renewal
		prev *csbot.Renewal
		want string
	}{
		{r, &prev, "📈 *Mar 4, 2026* · expanded · *$120k* (+$20k, +20%) · 🔁 auto-renew\n_Reason: added the analytics &lt;module&gt;_"},
		{prev, nil, "✅ *Mar 4, 2025* · renewed · *$100k* (first term on file)"},
		{csbot.Renewal{RenewalDate: renewalsDay(2027, 3, 4), ARR: 10_000_000, Status: csbot.RenewalOpen}, &prev,
			"⏳ *Mar 4, 2027* · open, in 368 days · *$100k* (no change)"},
		{csbot.Renewal{RenewalDate: renewalsDay(2024, 3, 4), ARR: 7_500_000, Status: csbot.RenewalDownsell, OutcomeReason: "fewer seats"}, &prev,
			"📉 *Mar 4, 2024* · downsell · *$75k* (-$25k, -25%)\n_Reason: fewer seats_"},
		{csbot.Renewal{RenewalDate: renewalsDay(2024, 3, 4), Status: csbot.RenewalChurned, OutcomeReason: "   "}, &prev,
			"❌ *Mar 4, 2024* · churned · *$0* (-$100k, -100%)"},
		{csbot.Renewal{ARR: 5_000_000, Status: "paused"}, &csbot.Renewal{}, "• *(no date)* · paused · *$50k* (+$50k)"},
	}
	for _, tt := range tests {
		if got := renewalsHistoryLine(tt.r, tt.prev, today); got != tt.want {
			t.Errorf("renewalsHistoryLine(%+v) =\n%q\nwant\n%q", tt.r, got, tt.want)
		}
	}
}

func TestRenewalsReplySummary(t *testing.T) {
	today := renewalsDay(2026, 3, 1)
	var all []csbot.RenewalLine
	for i := range 5 {
		l := renewalsTestLine(int64(i+1), fmt.Sprintf("Account %d", i+1), today.AddDate(0, 0, 10*i), 10_000_000)
		all = append(all, l)
	}
	all[0].Health.Band = csbot.BandRed
	all[1].Health.Band = csbot.BandYellow
	all[2].Contact = csbot.Contact{}
	all[3].Health = csbot.HealthSnapshot{}

	page := renewalsPage{Title: "Your renewals", Window: "next 90 days", InWindow: "in the next 90 days",
		Report: renewalsTestTotals(all, 0, 5), Today: today}
	out := renewalsReply(page)
	summary := out.Blocks[1].(*slack.SectionBlock).Text.Text
	want := "*5 renewals*, *$500k* ARR · 2 at risk · ⚠️ 1 with no renewal contact on file"
	if summary != want {
		t.Errorf("summary = %q, want %q", summary, want)
	}
	if want := "Your renewals, next 90 days: 5 renewals, $500k ARR; 1 with no renewal contact on file"; out.Text != want {
		t.Errorf("Text = %q, want %q", out.Text, want)
	}
	if out.Public || out.Visibility != bot.Ephemeral {
		t.Errorf("a report is Public=%v, Visibility=%v; want internal and ephemeral", out.Public, out.Visibility)
	}

	// Paged: the counts are the page's.
	page.Report = renewalsTestTotals(all, 2, 2)
	page.Offset, page.More, page.AtRisk = 2, "x", true
	out = renewalsReply(page)
	summary = out.Blocks[1].(*slack.SectionBlock).Text.Text
	want = "*5 renewals*, *$500k* ARR\nShowing 3–4, by date. On this page: ⚠️ 1 with no renewal contact on file."
	if summary != want {
		t.Errorf("paged summary = %q, want %q", summary, want)
	}
	last := out.Blocks[len(out.Blocks)-1].(*slack.ActionBlock)
	btn := last.Elements.ElementSet[0].(*slack.ButtonBlockElement)
	if btn.ActionID != renewalsMoreAction || btn.Value != "x" || btn.Text.Text != "Show more (5–5 of 5)" {
		t.Errorf("button = %q %q %q", btn.ActionID, btn.Value, btn.Text.Text)
	}
	if want := "Your renewals, next 90 days: 5 renewals, $500k ARR (showing 3–4); 1 with no renewal contact on file"; out.Text != want {
		t.Errorf("Text = %q, want %q", out.Text, want)
	}
}

func TestRenewalsReplyMonthHeadings(t *testing.T) {
	today := renewalsDay(2026, 3, 20)
	all := []csbot.RenewalLine{
		renewalsTestLine(1, "A", renewalsDay(2026, 3, 30), 100_000),
		renewalsTestLine(2, "B", renewalsDay(2026, 4, 2), 200_000),
		renewalsTestLine(3, "C", renewalsDay(2026, 4, 3), 300_000),
		renewalsTestLine(4, "D", renewalsDay(2026, 5, 1), 400_000),
	}
	// The page holds B and C; April's heading counts all of April's.
	rep := renewalsTestTotals(all, 1, 2)
	rep.Months[1].Renewals, rep.Months[1].ARR = 7, 12_345_600 // more of April on other pages
	out := renewalsReply(renewalsPage{Title: "All renewals", Window: "next 90 days", Report: rep, Today: today, Offset: 1, More: "x"})
	var headings []string
	for _, b := range out.Blocks {
		if s, ok := b.(*slack.SectionBlock); ok && strings.HasPrefix(s.Text.Text, "*April") {
			headings = append(headings, s.Text.Text)
		}
	}
	if len(headings) != 1 || headings[0] != "*April 2026* · 7 renewals · $123.5k" {
		t.Errorf("April headings = %q, want one with the month's totals", headings)
	}
	// A month the totals leave out is counted from the page.
	rep.Months = nil
	out = renewalsReply(renewalsPage{Title: "All renewals", Window: "next 90 days", Report: rep, Today: today, Offset: 1, More: "x"})
	if got := out.Blocks[2].(*slack.SectionBlock).Text.Text; got != "*April 2026* · 2 renewals · $5k" {
		t.Errorf("heading without totals = %q", got)
	}
}

func TestRenewalsReplyEmpty(t *testing.T) {
	out := renewalsReply(renewalsPage{Title: "Sam <x>'s at-risk renewals", Window: "next 30 days", InWindow: "in the next 30 days",
		Whose: "for Sam <x>'s accounts", AtRisk: true, Today: renewalsDay(2026, 3, 1), Tries: []string{"`a`", "`b`", "`c`"}})
	if len(out.Blocks) != 2 {
		t.Fatalf("empty report has %d blocks, want a header and a section", len(out.Blocks))
	}
	got := out.Blocks[1].(*slack.SectionBlock).Text.Text
	want := "No at-risk renewals for Sam &lt;x&gt;'s accounts in the next 30 days.\nTry `a`, `b` or `c`."
	if got != want {
		t.Errorf("empty report says %q, want %q", got, want)
	}
	if want := "No at-risk renewals for Sam &lt;x&gt;'s accounts in the next 30 days."; out.Text != want {
		t.Errorf("Text = %q, want %q", out.Text, want)
	}
	if h := out.Blocks[0].(*slack.HeaderBlock).Text.Text; h != "Sam <x>'s at-risk renewals, next 30 days" {
		t.Errorf("header = %q", h)
	}
}

func TestRenewalsTries(t *testing.T) {
	tests := []struct {
		q    renewalsQuery
		want string
	}{
		{renewalsQuery{From: renewalsDay(2026, 1, 1), To: renewalsDay(2026, 4, 1)}, "a longer window (`/renewals 180`), everyone's (`/renewals all`), `/renewals help`"},
		{renewalsQuery{From: renewalsDay(2026, 1, 1), To: renewalsDay(2026, 12, 1), AtRisk: true, Scope: renewalsOfAll},
			"a longer window (`/renewals 365`), every renewal, not only at-risk ones (leave out `at-risk`), `/renewals help`"},
		{renewalsQuery{From: renewalsDay(2026, 1, 1), To: renewalsDay(2027, 12, 1)}, "a longer window (`/renewals 730`), everyone's (`/renewals all`), `/renewals help`"},
		{renewalsQuery{From: renewalsDay(2026, 1, 1), To: renewalsDay(2028, 1, 1)}, "everyone's (`/renewals all`), `/renewals help`"},
		{renewalsQuery{From: renewalsDay(2026, 1, 1), To: renewalsDay(2026, 3, 31), Quarter: true, Scope: renewalsOfTeam},
			"the next 90 days (`/renewals`), everyone's (`/renewals all`), `/renewals help`"},
	}
	for _, tt := range tests {
		if got := strings.Join(renewalsTries(tt.q), ", "); got != tt.want {
			t.Errorf("renewalsTries(%+v) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestRenewalsScopeText(t *testing.T) {
	tests := []struct {
		scope        renewalsScope
		name         string
		atRisk       bool
		title, whose string
	}{
		{renewalsOfMine, "", false, "Your renewals", "for your accounts"},
		{renewalsOfMine, "", true, "Your at-risk renewals", "for your accounts"},
		{renewalsOfTeam, "", false, "Team renewals", "for your team's accounts"},
		{renewalsOfUser, "Sam", true, "Sam's at-risk renewals", "for Sam's accounts"},
		{renewalsOfAll, "", false, "All renewals", ""},
	}
	for _, tt := range tests {
		title, whose := renewalsScopeText(tt.scope, tt.name, tt.atRisk)
		if title != tt.title || whose != tt.whose {
			t.Errorf("renewalsScopeText(%d, %q, %v) = %q, %q; want %q, %q", tt.scope, tt.name, tt.atRisk, title, whose, tt.title, tt.whose)
		}
	}
}

func TestRenewalsHistoryReply(t *testing.T) {
	today := renewalsDay(2026, 3, 1)
	a := csbot.Account{ID: 7, Name: "Globex <Intl>"}
	var hist []csbot.Renewal
	for i := range 45 { // latest first
		hist = append(hist, csbot.Renewal{ID: int64(100 - i), RenewalDate: renewalsDay(2027-i, 3, 4), ARR: csbot.Cents(10_000_000 - 100_000*i), Status: csbot.RenewalRenewed})
	}
	hist[0].Status = csbot.RenewalOpen
	hist[1].Status = csbot.RenewalOpen // an older open one, overdue: the next renewal
	hist[1].RenewalDate = renewalsDay(2026, 2, 20)
	out := renewalsHistoryReply(a, hist, today)
	if err := bot.CheckLimits(bot.SurfaceMessage, out.Blocks, out.Text); err != nil {
		t.Fatalf("over Slack's limits: %v", err)
	}
	if h := out.Blocks[0].(*slack.HeaderBlock).Text.Text; h != "Renewals of Globex <Intl>" {
		t.Errorf("header = %q", h)
	}
	summary := out.Blocks[1].(*slack.SectionBlock).Text.Text
	if want := "*Next renewal:* Feb 20, 2026, 9 days ago (overdue) · *$99k*\n45 terms on file, latest first."; summary != want {
		t.Errorf("summary = %q, want %q", summary, want)
	}
	if n := len(out.Blocks); n != 2+maxRenewalsHistory+1 {
		t.Errorf("%d blocks, want header, summary, %d terms and a note", n, maxRenewalsHistory)
	}
	note := out.Blocks[len(out.Blocks)-1].(*slack.ContextBlock).ContextElements.Elements[0].(*slack.TextBlockObject).Text
	if note != "…and 5 earlier terms before these." {
		t.Errorf("note = %q", note)
	}
	if want := "Renewals of Globex &lt;Intl&gt;: next renewal Feb 20, 2026, 9 days ago (overdue), $99k; 45 terms on file"; out.Text != want {
		t.Errorf("Text = %q, want %q", out.Text, want)
	}

	out = renewalsHistoryReply(a, nil, today)
	if len(out.Blocks) != 3 || !strings.Contains(out.Text, "no open renewal on file; 0 terms on file") {
		t.Errorf("empty history = %d blocks, %q", len(out.Blocks), out.Text)
	}
}

// TestRenewalHistoryOf reads an account's history from a real store: the
// view a pick-list button for /renewals leads to.
func TestRenewalHistoryOf(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := store.Open(ctx, pgtest.NewDatabase(ctx, t), nil)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(s.Close)
	for _, f := range [][2]string{
		{"accounts", "external_id,name,tier,arr\nA1,Acme <Corp>,high,150000\nA2,Empty Co,tech,1000\n"},
		{"renewals", "external_id,account_external_id,renewal_date,arr,auto_renew,status,outcome_reason\n" +
			"R1,A1,2025-06-01,100000,false,renewed,\n" +
			"R2,A1,2026-06-01,80000,false,downsell,Lost the EMEA team\n" +
			"R3,A1,2027-06-01,150000,true,open,\n"},
	} {
		kind, err := csbot.LookupImportKind(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(ctx, kind, strings.NewReader(f[1])); err != nil {
			t.Fatalf("import %s: %v", f[0], err)
		}
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := New(Config{Store: s, Now: func() time.Time { return now }})
	req := bot.Request{Actor: bot.Actor{SlackID: "U0ANY"}, UserID: "U0ANY"}

	a, err := s.AccountByExternalID(ctx, "A1")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.renewalHistoryOf(ctx, req, a)
	if err != nil {
		t.Fatalf("renewalHistoryOf: %v", err)
	}
	var lines []string
	for _, b := range rep.Blocks[1:] {
		lines = append(lines, b.(*slack.SectionBlock).Text.Text)
	}
	want := []string{
		"*Next renewal:* Jun 1, 2027, in 182 days · *$150k* · 🔁 auto-renews\n3 terms on file, latest first.",
		"⏳ *Jun 1, 2027* · open, in 182 days · *$150k* (+$70k, +88%) · 🔁 auto-renew",
		"📉 *Jun 1, 2026* · downsell · *$80k* (-$20k, -20%)\n_Reason: Lost the EMEA team_",
		"✅ *Jun 1, 2025* · renewed · *$100k* (first term on file)",
	}
	if strings.Join(lines, "\n--\n") != strings.Join(want, "\n--\n") {
		t.Errorf("renewalHistoryOf shows\n%s\nwant\n%s", strings.Join(lines, "\n--\n"), strings.Join(want, "\n--\n"))
	}
	if h := rep.Blocks[0].(*slack.HeaderBlock).Text.Text; h != "Renewals of Acme <Corp>" {
		t.Errorf("header = %q", h)
	}
	if rep.Public || !strings.HasPrefix(rep.Text, "Renewals of Acme &lt;Corp&gt;: next renewal Jun 1, 2027") {
		t.Errorf("reply Public=%v, Text %q", rep.Public, rep.Text)
	}

	empty, err := s.AccountByExternalID(ctx, "A2")
	if err != nil {
		t.Fatal(err)
	}
	rep, err = c.renewalHistoryOf(ctx, req, empty)
	if err != nil {
		t.Fatalf("renewalHistoryOf: %v", err)
	}
	if !strings.Contains(rep.Text, "no open renewal on file; 0 terms on file") {
		t.Errorf("an account without renewals: %q", rep.Text)
	}
}
