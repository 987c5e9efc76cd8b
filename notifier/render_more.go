package notifier

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// digestLines caps each list of a digest: it is read on a phone on a
// Monday morning.
const digestLines = 8

// RenderDigest builds a manager's weekly at-risk digest: the headline
// figures, then what needs a look, most ARR first, with buttons to the
// riskiest accounts.
func RenderDigest(m csbot.DigestMessage, loc *time.Location) bot.Message {
	head := fmt.Sprintf("📋 *Weekly at-risk digest* · %s", m.Week)
	var figures []string
	figures = append(figures, fmt.Sprintf("🔴 %s ARR red", m.RedARR.Short()), fmt.Sprintf("🟡 %s ARR yellow", m.YellowARR.Short()))
	if n := len(m.Turned); n > 0 {
		figures = append(figures, fmt.Sprintf("%d turned this week", n))
	}
	if n := len(m.Renewals); n > 0 {
		figures = append(figures, fmt.Sprintf("%d %s in 90 days not green", n, plural(n, "renewal", "renewals")))
	}
	if n := len(m.Unacked); n > 0 {
		figures = append(figures, fmt.Sprintf("%d %s unacknowledged", n, plural(n, "alert", "alerts")))
	}
	if m.OpenHandoffs > 0 {
		figures = append(figures, fmt.Sprintf("%d %s waiting", m.OpenHandoffs, plural(m.OpenHandoffs, "handoff", "handoffs")))
	}
	blocks := []slack.Block{bot.FitSection(head + "\n" + strings.Join(figures, "  ·  "))}

	var picks []csbot.AccountBrief
	pick := func(a csbot.AccountBrief) {
		for _, p := range picks {
			if p.ID == a.ID {
				return
			}
		}
		if len(picks) < 5 {
			picks = append(picks, a)
		}
	}
	if len(m.Turned) > 0 {
		lines := []string{"*Turned this week*"}
		for i, d := range m.Turned {
			if i == digestLines {
				lines = append(lines, fmt.Sprintf("_…and %d more_", len(m.Turned)-digestLines))
				break
			}
			pick(d.Account)
			lines = append(lines, fmt.Sprintf("%s %s · %s · was %s%s", d.Health.Band.Emoji(), accountName(d.Account),
				d.Account.ARR.Short(), d.WasBand.Word(), csmOf(d.Account)))
		}
		blocks = append(blocks, bot.FitSection(strings.Join(lines, "\n")))
	}
	if len(m.Renewals) > 0 {
		lines := []string{"*Renewals in the next 90 days, not green*"}
		for i, d := range m.Renewals {
			if i == digestLines {
				lines = append(lines, fmt.Sprintf("_…and %d more: /renewals team_", len(m.Renewals)-digestLines))
				break
			}
			pick(d.Account)
			when := ""
			if r := d.Renewal; r != nil {
				when = fmt.Sprintf(" · renews %s (%s)", csbot.DaysText(r.DaysLeft), shortDay(r.Date, time.UTC))
			}
			lines = append(lines, fmt.Sprintf("%s %s · %s%s%s", d.Health.Band.Emoji(), accountName(d.Account),
				d.Account.ARR.Short(), when, csmOf(d.Account)))
		}
		blocks = append(blocks, bot.FitSection(strings.Join(lines, "\n")))
	}
	if len(m.Unacked) > 0 {
		lines := []string{"*Alerts nobody acknowledged*"}
		for i, u := range m.Unacked {
			if i == digestLines {
				lines = append(lines, fmt.Sprintf("_…and %d more_", len(m.Unacked)-digestLines))
				break
			}
			lines = append(lines, fmt.Sprintf("%s %s · %s · %d days%s", u.Alert.Severity.Emoji(), u.Alert.Kind.Title(),
				accountName(u.Account), u.Days, csmOf(u.Account)))
		}
		blocks = append(blocks, bot.FitSection(strings.Join(lines, "\n")))
	}
	if len(m.CSMs) > 0 {
		lines := []string{"*Your team*"}
		for i, c := range m.CSMs {
			if i == 2*digestLines {
				lines = append(lines, fmt.Sprintf("_…and %d more_", len(m.CSMs)-2*digestLines))
				break
			}
			lines = append(lines, fmt.Sprintf("%s · %d %s · %s · 🔴 %d · 🟡 %d", bot.UserMention(c.CSM), c.Accounts,
				plural(c.Accounts, "account", "accounts"), c.ARR.Short(), c.Red, c.Yellow))
		}
		blocks = append(blocks, bot.FitSection(strings.Join(lines, "\n")))
	}
	if len(picks) > 0 {
		var buttons []slack.BlockElement
		for i, a := range picks {
			buttons = append(buttons, slack.NewButtonBlockElement(fmt.Sprintf("pick:health:digest%d", i),
				strconv.FormatInt(a.ID, 10), plain(bot.Truncate(a.Name, 70))))
		}
		blocks = append(blocks, slack.NewActionBlock("digest_accounts", buttons...))
	}
	if len(blocks) == 1 {
		blocks = append(blocks, contextBlock("Nothing turned, nothing waits: a quiet week."))
	}
	text := fmt.Sprintf("Weekly at-risk digest %s: %s ARR red, %s yellow", m.Week, m.RedARR.Short(), m.YellowARR.Short())
	return bot.Message{Text: text, Blocks: blocks}
}

// renderEscalation tells a manager of an alert nobody acknowledged.
func renderEscalation(m csbot.EscalationMessage, loc *time.Location) bot.Message {
	a, it := m.Account, m.Alert
	head := fmt.Sprintf("⏫ *Unacknowledged for %d business %s: %s*  ·  %s touch  ·  %s ARR", m.BusinessDays,
		plural(m.BusinessDays, "day", "days"), accountName(a), bot.Escape(string(a.Tier)), a.ARR.String())
	body := fmt.Sprintf("%s *%s*: %s", it.Severity.Emoji(), it.Kind.Title(), bot.Escape(it.Evidence))
	where := "by DM"
	if m.Channel != "" && !isDM(m.Channel) {
		where = "in " + bot.ChannelMention(m.Channel)
	}
	who := "The account has no CSM"
	if a.CSM != "" {
		who = bot.UserMention(a.CSM) + " was alerted"
	}
	ctx := fmt.Sprintf("%s %s on %s and nobody has acknowledged it yet.", who, where, shortDay(m.Since, loc))
	blocks := []slack.Block{
		bot.FitSection(head),
		bot.FitSection(body),
		contextBlock(ctx),
		slack.NewActionBlock("escalation_actions",
			slack.NewButtonBlockElement("pick:health:escalation", strconv.FormatInt(a.ID, 10), plain("Open health"))),
	}
	text := fmt.Sprintf("Unacknowledged alert on %s: %s", bot.Escape(a.Name), strings.ToLower(it.Kind.Title()))
	return bot.Message{Text: text, Blocks: blocks}
}

// renderAckReminder reminds whoever acknowledged an alert that its signal
// is still open.
func renderAckReminder(m csbot.AckReminderMessage, loc *time.Location) bot.Message {
	a, it := m.Account, m.Alert
	head := fmt.Sprintf("🔁 *Still open: %s on %s*", it.Kind.Title(), accountName(a))
	body := fmt.Sprintf("You acknowledged this on %s. It has not cleared:\n%s %s", shortDay(m.AckedAt, loc),
		it.Severity.Emoji(), bot.Escape(it.Evidence))
	blocks := []slack.Block{
		bot.FitSection(head),
		bot.FitSection(body),
		slack.NewActionBlock("ack_reminder_actions",
			slack.NewButtonBlockElement(ActionOpenHealth, strconv.FormatInt(a.ID, 10), plain("Open health")),
			slack.NewButtonBlockElement(ActionTouchpoint, strconv.FormatInt(a.ID, 10), plain("Log a touchpoint"))),
	}
	text := fmt.Sprintf("Still open on %s: %s", bot.Escape(a.Name), strings.ToLower(it.Kind.Title()))
	return bot.Message{Text: text, Blocks: blocks}
}

// renderOutage tells an account's channel of an outage that affects it,
// with a message the CSM can send the customer.
func renderOutage(nt csbot.Notification, m csbot.OutageMessage) bot.Message {
	a, o := m.Account, m.Outage
	state := "ongoing for " + durationWords(m.Duration)
	if !m.Ongoing {
		state = "resolved after " + durationWords(m.Duration)
	}
	sev := ""
	if o.Severity != "" {
		sev = "  ·  severity " + bot.Escape(o.Severity)
	}
	scope := ""
	if m.Global {
		scope = " (all customers)"
	}
	head := fmt.Sprintf("🚨 *Outage affecting %s*%s%s  ·  %s, since %s UTC", accountName(a), scope, sev, state,
		o.StartedAt.UTC().Format("Jan 2 15:04"))
	blocks := []slack.Block{bot.FitSection(head)}
	if o.Summary != "" {
		blocks = append(blocks, bot.FitSection("> "+bot.Escape(bot.Truncate(o.Summary, 500))))
	}
	blocks = append(blocks, bot.FitSection("*A message you can send the customer*\n```"+suggestedOutageMessage(m)+"```"))
	if nt.Note != "" {
		blocks = append(blocks, contextBlock("ℹ️ "+bot.Escape(nt.Note)))
	}
	blocks = append(blocks, slack.NewActionBlock("outage_actions",
		slack.NewButtonBlockElement(ActionOpenHealth, strconv.FormatInt(a.ID, 10), plain("Open health")),
		slack.NewButtonBlockElement(ActionTouchpoint, strconv.FormatInt(a.ID, 10), plain("Log a touchpoint"))))
	text := fmt.Sprintf("Outage affecting %s, %s", bot.Escape(a.Name), state)
	return bot.Message{Text: text, Blocks: blocks}
}

// suggestedOutageMessage is a short, honest note for the customer.
func suggestedOutageMessage(m csbot.OutageMessage) string {
	o := m.Outage
	what := "an issue with our service"
	if o.Summary != "" {
		what = "an issue: " + strings.TrimRight(bot.Truncate(strings.Join(strings.Fields(o.Summary), " "), 200), ".")
	}
	since := o.StartedAt.UTC().Format("15:04 MST on Jan 2")
	if m.Ongoing {
		return fmt.Sprintf("Hi, a heads-up from your customer success team: since %s we have had %s. Our engineers are on it and "+
			"we will update you as soon as it is fixed. We are sorry for the disruption.", since, what)
	}
	return fmt.Sprintf("Hi, a note from your customer success team: from %s we had %s. It has been fixed after %s. "+
		"We are sorry for the disruption; tell us if you still see any effect.", since, what, durationWords(m.Duration))
}

// durationWords says a duration roughly: "2 h 15 min", "40 min", "3 days".
func durationWords(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d min", max(int(d.Minutes()), 1))
}

// accountName is an account's name, bold and escaped.
func accountName(a csbot.AccountBrief) string { return bot.Bold(bot.Truncate(a.Name, 80)) }

// csmOf is " · CSM @x", or "" without a CSM.
func csmOf(a csbot.AccountBrief) string {
	if a.CSM == "" {
		return ""
	}
	return " · " + bot.UserMention(a.CSM)
}
