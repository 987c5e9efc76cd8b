package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// The action ids of notification buttons. Values carry the notification
// id (alerts, reminder snoozes), the account id (Open health, Log a
// touchpoint: the commands package's pick-list views) or the renewal id
// (Record the outcome).
const (
	ActionAck         = "alert_ack"
	ActionSnooze7     = "alert_snooze_7"
	ActionSnooze30    = "alert_snooze_30"
	ActionOpenHealth  = "pick:health:alert"
	ActionTouchpoint  = "pick:touchpoint:alert"
	ActionRenewalDone = "renewal_outcome"
	ActionRemindLater = "reminder_snooze"
)

// maxItems caps the alerts and accounts one message lists.
const maxItems = 15

// errBadPayload marks a notification whose message can never be built.
var errBadPayload = errors.New("unreadable notification payload")

// render builds the message of a notification, without its channel.
func (n *Notifier) render(ctx context.Context, nt csbot.Notification) (bot.Message, error) {
	switch nt.Kind {
	case csbot.NotifyAlert:
		var m csbot.AlertMessage
		if err := json.Unmarshal(nt.Payload, &m); err != nil {
			return bot.Message{}, fmt.Errorf("%w: alert: %w", errBadPayload, err)
		}
		ids := make([]int64, 0, len(m.Items))
		for _, it := range m.Items {
			ids = append(ids, it.AlertID)
		}
		st, err := n.cfg.Store.AlertStatuses(ctx, ids)
		if err != nil {
			return bot.Message{}, err
		}
		return renderAlert(nt, m, st, n.cfg.Location), nil
	case csbot.NotifyBaseline:
		var m csbot.BaselineMessage
		if err := json.Unmarshal(nt.Payload, &m); err != nil {
			return bot.Message{}, fmt.Errorf("%w: baseline: %w", errBadPayload, err)
		}
		return renderBaseline(nt, m), nil
	case csbot.NotifyReminder:
		var m csbot.ReminderMessage
		if err := json.Unmarshal(nt.Payload, &m); err != nil {
			return bot.Message{}, fmt.Errorf("%w: reminder: %w", errBadPayload, err)
		}
		return renderReminder(nt, m, n.cfg.Now()), nil
	case csbot.NotifyDigest:
		var m csbot.DigestMessage
		if err := json.Unmarshal(nt.Payload, &m); err != nil {
			return bot.Message{}, fmt.Errorf("%w: digest: %w", errBadPayload, err)
		}
		return RenderDigest(m, n.cfg.Location), nil
	case csbot.NotifyEscalation:
		var m csbot.EscalationMessage
		if err := json.Unmarshal(nt.Payload, &m); err != nil {
			return bot.Message{}, fmt.Errorf("%w: escalation: %w", errBadPayload, err)
		}
		return renderEscalation(m, n.cfg.Location), nil
	case csbot.NotifyAckReminder:
		var m csbot.AckReminderMessage
		if err := json.Unmarshal(nt.Payload, &m); err != nil {
			return bot.Message{}, fmt.Errorf("%w: acknowledged-alert reminder: %w", errBadPayload, err)
		}
		return renderAckReminder(m, n.cfg.Location), nil
	case csbot.NotifyHandoff, csbot.NotifyHandoffUpdate, csbot.NotifyHandoffAcked,
		csbot.NotifyHandoffNudge, csbot.NotifyHandoffEscalation:
		return n.renderHandoffKind(ctx, nt)
	case csbot.NotifyOutage:
		var m csbot.OutageMessage
		if err := json.Unmarshal(nt.Payload, &m); err != nil {
			return bot.Message{}, fmt.Errorf("%w: outage: %w", errBadPayload, err)
		}
		return renderOutage(nt, m), nil
	}
	return bot.Message{}, fmt.Errorf("%w: unknown notification kind %q", errBadPayload, nt.Kind)
}

// renderAlert builds an account's alert message: what happened, the
// account's health and renewal, where each alert stands, and buttons.
func renderAlert(nt csbot.Notification, m csbot.AlertMessage, st map[int64]csbot.AlertStatus, loc *time.Location) bot.Message {
	sev := m.Severity()
	a := m.Account
	head := fmt.Sprintf("%s *%s risk: %s*  ·  %s touch  ·  %s ARR", sev.Emoji(), severityWord(sev),
		bot.Escape(bot.Truncate(a.Name, 80)), bot.Escape(string(a.Tier)), a.ARR.String())
	blocks := []slack.Block{bot.FitSection(head)}

	live, acked, resolved := 0, []csbot.AlertStatus{}, 0
	var lines []string
	for i, it := range m.Items {
		if i == maxItems {
			lines = append(lines, fmt.Sprintf("_…and %d more: see /health %s_", len(m.Items)-maxItems, bot.Escape(a.ExternalID)))
			break
		}
		s := st[it.AlertID]
		var b strings.Builder
		fmt.Fprintf(&b, "%s *%s*: %s", it.Severity.Emoji(), it.Kind.Title(), bot.Escape(it.Evidence))
		if it.Was != "" {
			fmt.Fprintf(&b, "\n      _worse since %s, when it was %s: %s_", shortDay(it.WasAt, loc), it.WasSeverity,
				bot.Escape(bot.Truncate(it.Was, 300)))
		}
		switch s.State {
		case csbot.AlertResolved:
			resolved++
			fmt.Fprintf(&b, "\n      ✔️ _resolved on %s_", shortDay(s.ResolvedAt, loc))
		case csbot.AlertSuperseded:
			b.WriteString("\n      ⤴️ _got worse: see the newer alert_")
		case csbot.AlertSnoozed:
			fmt.Fprintf(&b, "\n      💤 _snoozed until %s_", shortDay(s.SnoozedUntil, loc))
		case csbot.AlertAcknowledged:
			acked = append(acked, s)
			live++
		default:
			live++
		}
		lines = append(lines, b.String())
	}
	blocks = append(blocks, bot.FitSection(strings.Join(lines, "\n")))

	var facts []string
	facts = append(facts, healthLine(m.Health))
	if r := m.Renewal; r != nil {
		f := fmt.Sprintf("📅 Renewal %s (%s), %s at stake", shortDay(r.Date, time.UTC), csbot.DaysText(r.DaysLeft), r.ARR.String())
		if r.AutoRenew {
			f += ", auto-renews"
		}
		facts = append(facts, f)
	}
	if a.CSM != "" {
		facts = append(facts, "CSM "+bot.UserMention(a.CSM))
	}
	blocks = append(blocks, contextBlock(strings.Join(facts, "  ·  ")))
	if nt.Note != "" {
		blocks = append(blocks, contextBlock("ℹ️ "+bot.Escape(nt.Note)))
	}
	if len(acked) > 0 {
		s := acked[0]
		blocks = append(blocks, contextBlock(fmt.Sprintf("✅ Acknowledged by %s on %s", bot.UserMention(s.AckedBy), shortDay(s.AckedAt, loc))))
	}

	id := strconv.FormatInt(nt.ID, 10)
	acct := strconv.FormatInt(a.ID, 10)
	var buttons []slack.BlockElement
	if live > len(acked) {
		buttons = append(buttons, slack.NewButtonBlockElement(ActionAck, id, plain("Acknowledge")).WithStyle(slack.StylePrimary))
	}
	if live > 0 {
		buttons = append(buttons,
			slack.NewButtonBlockElement(ActionSnooze7, id, plain("Snooze 7 days")),
			slack.NewButtonBlockElement(ActionSnooze30, id, plain("Snooze 30 days")))
	}
	buttons = append(buttons,
		slack.NewButtonBlockElement(ActionOpenHealth, acct, plain("Open health")),
		slack.NewButtonBlockElement(ActionTouchpoint, acct, plain("Log a touchpoint")))
	blocks = append(blocks, slack.NewActionBlock("alert_actions", buttons...))

	kinds := make([]string, 0, len(m.Items))
	for _, it := range m.Items {
		if t := strings.ToLower(it.Kind.Title()); !slices.Contains(kinds, t) {
			kinds = append(kinds, t)
		}
	}
	text := fmt.Sprintf("%s risk on %s: %s", severityWord(sev), bot.Escape(a.Name), strings.Join(kinds, ", "))
	if resolved == len(m.Items) && resolved > 0 {
		text = "Resolved: " + text
	}
	return bot.Message{Text: bot.Truncate(text, 300), Blocks: blocks}
}

// renderBaseline builds a CSM's summary of the risks their new accounts
// already had.
func renderBaseline(nt csbot.Notification, m csbot.BaselineMessage) bot.Message {
	risky := len(m.Accounts)
	intro := fmt.Sprintf("👋 csbot now watches *%d* of your accounts.", m.Watched)
	if risky == 0 {
		intro += " None has an open risk today."
	} else {
		intro += fmt.Sprintf(" *%d* already %s open risks, listed here once. From now on you get an alert when something changes.",
			risky, plural(risky, "has", "have"))
	}
	blocks := []slack.Block{bot.FitSection(intro)}
	var lines []string
	for i, ba := range m.Accounts {
		if i == maxItems {
			lines = append(lines, fmt.Sprintf("_…and %d more: try /health <account>_", risky-maxItems))
			break
		}
		kinds := make([]string, 0, len(ba.Signals))
		for _, s := range ba.Signals {
			kinds = append(kinds, s.Severity.Emoji()+" "+strings.ToLower(s.Kind.Title()))
		}
		score := "not scored"
		if ba.Health.Band != "" {
			score = fmt.Sprintf("health %d", ba.Health.Score)
		}
		lines = append(lines, fmt.Sprintf("%s *%s*  ·  %s  ·  %s\n      %s", ba.Health.Band.Emoji(),
			bot.Escape(bot.Truncate(ba.Account.Name, 80)), ba.Account.ARR.Short(), score, strings.Join(kinds, ", ")))
	}
	if len(lines) > 0 {
		blocks = append(blocks, bot.FitSection(strings.Join(lines, "\n")))
	}
	if nt.Note != "" {
		blocks = append(blocks, contextBlock("ℹ️ "+bot.Escape(nt.Note)))
	}
	text := fmt.Sprintf("csbot now watches %d of your accounts; %d with open risks", m.Watched, risky)
	return bot.Message{Text: text, Blocks: blocks}
}

// renderReminder builds a renewal reminder. A snoozed reminder goes out
// days after it was made, so its days left are counted again from now's
// date.
func renderReminder(nt csbot.Notification, m csbot.ReminderMessage, now time.Time) bot.Message {
	a, r, rem := m.Account, m.Renewal, m.Reminder
	if !r.Date.IsZero() && strings.Contains(nt.Key, "/again:") {
		y, mo, d := now.UTC().Date()
		rem.DaysLeft = int(r.Date.Sub(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	}
	head := fmt.Sprintf("📅 *Renewal %s: %s*  ·  %s ARR on %s", csbot.DaysText(rem.DaysLeft),
		bot.Escape(bot.Truncate(a.Name, 80)), r.ARR.String(), shortDay(r.Date, time.UTC))
	if r.AutoRenew {
		head += "  ·  auto-renews"
	} else {
		head += "  ·  does not auto-renew"
	}
	blocks := []slack.Block{bot.FitSection(head)}

	var who []string
	if a.CSM != "" {
		who = append(who, "CSM "+bot.UserMention(a.CSM))
	}
	if a.AE != "" {
		who = append(who, "AE "+bot.UserMention(a.AE))
	}
	var body []string
	if len(who) > 0 {
		body = append(body, strings.Join(who, "  ·  "))
	}
	body = append(body, healthLine(m.Health))
	if r.Contact != "" {
		c := "🤝 Renewal contact: " + bot.Escape(r.Contact)
		if r.ContactRef != "" {
			c += " (" + bot.Escape(r.ContactRef) + ")"
		}
		body = append(body, c)
	} else {
		body = append(body, "⚠️ *No renewal contact on file.* Find out who signs before you ask for the renewal.")
	}
	if len(m.Risks) > 0 {
		var rl []string
		for i, it := range m.Risks {
			if i == 5 {
				rl = append(rl, fmt.Sprintf("…and %d more", len(m.Risks)-5))
				break
			}
			rl = append(rl, fmt.Sprintf("%s %s: %s", it.Severity.Emoji(), it.Kind.Title(), bot.Escape(bot.Truncate(it.Evidence, 200))))
		}
		body = append(body, "*Open risks*\n"+strings.Join(rl, "\n"))
	}
	blocks = append(blocks, bot.FitSection(strings.Join(body, "\n")))
	if strings.Contains(nt.Key, "/again:") {
		blocks = append(blocks, contextBlock("🔁 You snoozed this reminder; here it is again."))
	} else if rem.Late {
		blocks = append(blocks, contextBlock(fmt.Sprintf("⏰ This reminder was due on %s (%d days before the renewal) and is sent late.",
			shortDay(rem.DueOn, time.UTC), rem.OffsetDays)))
	}
	if nt.Note != "" {
		blocks = append(blocks, contextBlock("ℹ️ "+bot.Escape(nt.Note)))
	}
	id := strconv.FormatInt(nt.ID, 10)
	blocks = append(blocks, slack.NewActionBlock("reminder_actions",
		slack.NewButtonBlockElement(ActionRenewalDone, strconv.FormatInt(r.ID, 10), plain("Record the outcome")).WithStyle(slack.StylePrimary),
		slack.NewButtonBlockElement(ActionRemindLater, id, plain("Snooze this reminder")),
		slack.NewButtonBlockElement(ActionOpenHealth, strconv.FormatInt(a.ID, 10), plain("Open health"))))
	text := fmt.Sprintf("Renewal %s: %s, %s ARR on %s", csbot.DaysText(rem.DaysLeft), bot.Escape(a.Name), r.ARR.String(),
		shortDay(r.Date, time.UTC))
	return bot.Message{Text: text, Blocks: blocks}
}

// healthLine is an account's health in a message: band, score and trend.
func healthLine(h csbot.HealthBrief) string {
	if h.Band == "" {
		return "⚪ Not scored yet"
	}
	f := fmt.Sprintf("%s Health %d/100 %s", h.Band.Emoji(), h.Score, h.Band)
	if t := h.Trend.String(); t != "" {
		f += "  " + t
	}
	return f
}

func contextBlock(mrkdwn string) *slack.ContextBlock {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, bot.TruncateMrkdwn(mrkdwn, 3000), false, false))
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func severityWord(s csbot.SignalSeverity) string {
	switch s {
	case csbot.SignalCritical:
		return "Critical"
	case csbot.SignalWarning:
		return "Warning"
	}
	return "Heads-up"
}

// shortDay formats an instant's date in loc: "Nov 23, 2026".
func shortDay(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "an unknown date"
	}
	return t.In(loc).Format("Jan 2, 2006")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Preview returns the text of a notification's message, as a dry run
// prints it.
func (n *Notifier) Preview(ctx context.Context, nt csbot.Notification) (string, error) {
	m, err := n.render(ctx, nt)
	if err != nil {
		return "", err
	}
	return bot.Unmrkdwn(m.Text), nil
}
