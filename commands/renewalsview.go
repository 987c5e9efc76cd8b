package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// renewalsMoreAction is the action_id of a report's "Show more" button.
const renewalsMoreAction = "renewals_more"

// The blocks of a report page besides its lines and month headings: the
// header, the summary, a note and the "Show more" actions. A page leaves
// renewalsSpareBlocks of Slack's 50 unused.
const (
	renewalsFixedBlocks = 4
	renewalsSpareBlocks = 2
	maxRenewalsPage     = 40
)

// The longest account and contact names shown; longer ones are cut.
const (
	maxRenewalsName    = 100
	maxRenewalsReason  = 300
	maxRenewalsHistory = 40
)

// renewalsPageSize returns how many renewals a page shows for a window
// from..to so that it stays under Slack's block limit. A page takes one
// block per renewal, one heading per month it touches and the fixed
// blocks; a window of m calendar months touches at most min(m, n) months
// with n lines. So n is at most maxRenewalsPage and at most budget-m, but
// never less than budget/2, at which even a page whose every line opens a
// month fits.
func renewalsPageSize(from, to time.Time) int {
	budget := bot.MaxMessageBlocks - renewalsFixedBlocks - renewalsSpareBlocks
	months := renewalsMonths(from, to)
	return max(min(maxRenewalsPage, budget-months), budget/2)
}

// fitRenewalsLines cuts a page's lines, first to last, to what fits
// Slack's block limit with their month headings: overdue renewals can add
// months that renewalsPageSize, sized by the forward window, did not count.
// The next page starts after the last line kept.
func fitRenewalsLines(lines []csbot.RenewalLine) []csbot.RenewalLine {
	budget := bot.MaxMessageBlocks - renewalsFixedBlocks - renewalsSpareBlocks
	months := map[time.Time]bool{}
	for i, l := range lines {
		d := l.Renewal.RenewalDate
		months[time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)] = true
		if i+1+len(months) > budget {
			return lines[:i]
		}
	}
	return lines
}

// renewalsMonths counts the calendar months from's through to's, at least 1.
func renewalsMonths(from, to time.Time) int {
	n := (to.Year()-from.Year())*12 + int(to.Month()) - int(from.Month()) + 1
	return max(n, 1)
}

// renewalsPage is one page of a renewals report, ready to show.
type renewalsPage struct {
	// Title names whose renewals: "Your renewals", "Team at-risk renewals".
	Title string
	// Window names the dates, "next 90 days", and InWindow says it in a
	// sentence, "in the next 90 days".
	Window, InWindow string
	// Whose is for a sentence: "for your accounts"; "" for every account.
	Whose  string
	Report csbot.RenewalReport
	Today  time.Time
	// Offset is the position of the page's first line among all.
	Offset int
	// AtRisk is whether only at-risk renewals were asked for.
	AtRisk bool
	// Note, mrkdwn, is shown under the summary when set.
	Note string
	// More is the "Show more" button's value; "" on the last page.
	More string
	// Tries are commands to suggest when the report is empty.
	Tries []string
}

// renewalsReply renders a page of a renewals report: a header, a summary,
// then the page's renewals grouped by month under headings that carry the
// month's count and ARR over every page, and a "Show more" button when
// more follow. The reply is ephemeral and holds internal data.
func renewalsReply(p renewalsPage) bot.Reply {
	title := p.Title + ", " + p.Window
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, bot.Truncate(title, bot.MaxHeaderText), false, false))
	rep := p.Report
	if len(rep.Lines) == 0 {
		what := "open renewals"
		if p.AtRisk {
			what = "at-risk renewals"
		}
		msg := renewalsJoin(" ", "No", what, p.Whose, p.InWindow) + "."
		text := msg
		if len(p.Tries) > 0 {
			text += "\nTry " + renewalsOrList(p.Tries) + "."
		}
		blocks := []slack.Block{header, bot.FitSection(bot.Escape(text))}
		if p.Note != "" {
			blocks = append(blocks, renewalsNote(p.Note))
		}
		return bot.Reply{Text: bot.TruncateMrkdwn(bot.Escape(msg), bot.MaxFallbackText), Blocks: blocks}
	}

	atRisk, noContact := 0, 0
	for _, l := range rep.Lines {
		if l.Health.Band == csbot.BandYellow || l.Health.Band == csbot.BandRed {
			atRisk++
		}
		if l.Contact.ID == 0 {
			noContact++
		}
	}
	paged := p.Offset > 0 || p.Offset+len(rep.Lines) < rep.Total
	total := fmt.Sprintf("*%s*, *%s* ARR", renewalsCount(rep.Total, "renewal", "renewals"), rep.ARR.Short())
	var counts []string
	if !p.AtRisk {
		counts = append(counts, fmt.Sprintf("%d at risk", atRisk))
	}
	if noContact > 0 {
		counts = append(counts, fmt.Sprintf("⚠️ %d with no renewal contact on file", noContact))
	} else {
		counts = append(counts, "every one has a renewal contact")
	}
	summary := total
	if paged {
		summary += fmt.Sprintf("\nShowing %d–%d, by date. On this page: %s.",
			p.Offset+1, p.Offset+len(rep.Lines), strings.Join(counts, " · "))
	} else {
		summary += " · " + strings.Join(counts, " · ")
	}
	blocks := []slack.Block{header, bot.FitSection(summary)}
	if p.Note != "" {
		blocks = append(blocks, renewalsNote(p.Note))
	}

	months := make(map[time.Time]csbot.MonthTotal, len(rep.Months))
	for _, m := range rep.Months {
		months[m.Month] = m
	}
	var month time.Time
	for _, l := range rep.Lines {
		d := l.Renewal.RenewalDate
		if m := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC); !m.Equal(month) {
			month = m
			blocks = append(blocks, bot.FitSection(renewalsMonthHeading(month, months[month], rep.Lines)))
		}
		blocks = append(blocks, bot.FitSection(renewalsLineText(l, p.Today)))
	}
	if p.More != "" {
		next := p.Offset + len(rep.Lines)
		label := fmt.Sprintf("Show more (%d–%d of %d)", next+1, min(next+len(rep.Lines), rep.Total), rep.Total)
		btn := slack.NewButtonBlockElement(renewalsMoreAction, p.More,
			slack.NewTextBlockObject(slack.PlainTextType, bot.Truncate(label, bot.MaxButtonText), false, false))
		blocks = append(blocks, slack.NewActionBlock("renewals_more", btn))
	}

	text := fmt.Sprintf("%s: %s, %s ARR", title, renewalsCount(rep.Total, "renewal", "renewals"), rep.ARR.Short())
	if paged {
		text += fmt.Sprintf(" (showing %d–%d)", p.Offset+1, p.Offset+len(rep.Lines))
	}
	if noContact > 0 {
		text += fmt.Sprintf("; %d with no renewal contact on file", noContact)
	}
	return bot.Reply{Text: bot.TruncateMrkdwn(bot.Escape(text), bot.MaxFallbackText), Blocks: blocks}
}

// renewalsNote is a context block showing note (mrkdwn).
func renewalsNote(note string) slack.Block {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, bot.TruncateMrkdwn(note, bot.MaxSectionText), false, false))
}

// renewalsMonthHeading is "*March 2026* · 5 renewals · $450k"; t holds the
// month's totals over every page, or is zero when the report left the
// month out (then the page's lines are counted).
func renewalsMonthHeading(month time.Time, t csbot.MonthTotal, lines []csbot.RenewalLine) string {
	if t.Renewals == 0 {
		for _, l := range lines {
			d := l.Renewal.RenewalDate
			if d.Year() == month.Year() && d.Month() == month.Month() {
				t.Renewals++
				t.ARR += l.Renewal.ARR
			}
		}
	}
	return fmt.Sprintf("*%s* · %s · %s", month.Format("January 2006"), renewalsCount(t.Renewals, "renewal", "renewals"), t.ARR.Short())
}

// renewalsLineText is one renewal of a report:
//
//	🟡 *Acme Corp* · *$120k* · Mar 4, 2026, in 12 days · 🔁 auto-renews
//	Renewal contact: Jo Doe, VP Finance
func renewalsLineText(l csbot.RenewalLine, today time.Time) string {
	d := l.Renewal.RenewalDate
	parts := []string{
		l.Health.Band.Emoji() + " " + orElse(bot.Bold(bot.Truncate(l.Account.Name, maxRenewalsName)), "(no name)"),
		"*" + l.Renewal.ARR.Short() + "*",
		shortDate(d) + ", " + daysLeft(today, d),
	}
	if dayCount(today, d) < 0 {
		parts[2] += " (overdue)"
	}
	if l.Renewal.AutoRenew {
		parts = append(parts, "🔁 auto-renews")
	}
	contact := "⚠️ no renewal contact on file"
	if l.Contact.ID != 0 {
		contact = "Renewal contact: " + bot.Escape(bot.Truncate(orElse(strings.TrimSpace(l.Contact.Name), l.Contact.Email), maxRenewalsName))
		if t := strings.TrimSpace(l.Contact.Title); t != "" {
			contact += ", " + bot.Escape(bot.Truncate(t, maxRenewalsName))
		}
	}
	return strings.Join(parts, " · ") + "\n" + contact
}

// renewalsHistoryReply renders one account's renewals, latest first, with
// the next open renewal on top. hist is latest first, as the store gives
// it.
func renewalsHistoryReply(a csbot.Account, hist []csbot.Renewal, today time.Time) bot.Reply {
	name := bot.Truncate(a.Name, maxRenewalsName)
	title := "Renewals of " + name
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, bot.Truncate(title, bot.MaxHeaderText), false, false))

	var next csbot.Renewal
	for _, r := range hist {
		if r.Status == csbot.RenewalOpen && !r.RenewalDate.IsZero() &&
			(next.ID == 0 || r.RenewalDate.Before(next.RenewalDate)) {
			next = r
		}
	}
	var summary, text string
	if next.ID != 0 {
		when := shortDate(next.RenewalDate) + ", " + daysLeft(today, next.RenewalDate)
		if dayCount(today, next.RenewalDate) < 0 {
			when += " (overdue)"
		}
		summary = fmt.Sprintf("*Next renewal:* %s · *%s*", when, next.ARR.Short())
		if next.AutoRenew {
			summary += " · 🔁 auto-renews"
		}
		text = fmt.Sprintf("%s: next renewal %s, %s", title, when, next.ARR.Short())
	} else {
		summary = "*No open renewal on file.*"
		text = title + ": no open renewal on file"
	}
	summary += fmt.Sprintf("\n%s on file, latest first.", renewalsCount(len(hist), "term", "terms"))
	text += fmt.Sprintf("; %s on file", renewalsCount(len(hist), "term", "terms"))
	blocks := []slack.Block{header, bot.FitSection(summary)}

	shown := hist[:min(len(hist), maxRenewalsHistory)]
	for i, r := range shown {
		var prev *csbot.Renewal
		if i+1 < len(hist) {
			prev = &hist[i+1]
		}
		blocks = append(blocks, bot.FitSection(renewalsHistoryLine(r, prev, today)))
	}
	if n := len(hist) - len(shown); n > 0 {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
			fmt.Sprintf("…and %s before these.", renewalsCount(n, "earlier term", "earlier terms")), false, false)))
	}
	if len(hist) == 0 {
		blocks = append(blocks, bot.FitSection("No renewals of this account have been imported yet. They come from the `renewals` CSV import."))
	}
	return bot.Reply{Text: bot.TruncateMrkdwn(bot.Escape(text), bot.MaxFallbackText), Blocks: blocks}
}

// renewalsHistoryLine is one term of an account's history, with its ARR
// against the term before it (prev, nil for the first on file):
//
//	✅ *Mar 4, 2026* · renewed · *$120k* (+$20k, +20%) · 🔁 auto-renew
//	_Reason: added the analytics module_
func renewalsHistoryLine(r csbot.Renewal, prev *csbot.Renewal, today time.Time) string {
	date := "(no date)"
	if !r.RenewalDate.IsZero() {
		date = shortDate(r.RenewalDate)
	}
	status := string(r.Status)
	if r.Status == csbot.RenewalOpen && !r.RenewalDate.IsZero() {
		status += ", " + daysLeft(today, r.RenewalDate)
	}
	arr := "*" + r.ARR.Short() + "*"
	switch {
	case prev == nil:
		arr += " (first term on file)"
	case r.ARR == prev.ARR:
		arr += " (no change)"
	default:
		diff := r.ARR - prev.ARR
		change := diff.Short()
		if diff > 0 {
			change = "+" + change
		}
		if prev.ARR > 0 {
			pct := float64(diff) * 100 / float64(prev.ARR)
			change += fmt.Sprintf(", %+.0f%%", pct)
		}
		arr += " (" + change + ")"
	}
	parts := []string{renewalStatusEmoji(r.Status) + " *" + date + "*", bot.Escape(status), arr}
	if r.AutoRenew {
		parts = append(parts, "🔁 auto-renew")
	}
	line := strings.Join(parts, " · ")
	if reason := strings.TrimSpace(r.OutcomeReason); reason != "" {
		line += "\n_Reason: " + bot.Escape(bot.Truncate(renewalsOneLine(reason), maxRenewalsReason)) + "_"
	}
	return line
}

// renewalStatusEmoji marks a renewal's status.
func renewalStatusEmoji(s csbot.RenewalStatus) string {
	switch s {
	case csbot.RenewalOpen:
		return "⏳"
	case csbot.RenewalRenewed:
		return "✅"
	case csbot.RenewalChurned:
		return "❌"
	case csbot.RenewalDownsell:
		return "📉"
	case csbot.RenewalExpanded:
		return "📈"
	}
	return "•"
}

// renewalsDateRange is "Feb 1 - Apr 30, 2026", or "Dec 1, 2026 - Feb 28, 2027"
// across a year's end.
func renewalsDateRange(from, to time.Time) string {
	if from.Year() == to.Year() {
		return from.Format("Jan 2") + " - " + to.Format("Jan 2, 2006")
	}
	return shortDate(from) + " - " + shortDate(to)
}

// renewalsCount is "1 renewal", "3 renewals".
func renewalsCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// renewalsOrList is "`a`, `b` or `c`".
func renewalsOrList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// renewalsJoin joins the non-empty parts with sep.
func renewalsJoin(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// renewalsOneLine puts text on one line: line breaks become spaces.
func renewalsOneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
