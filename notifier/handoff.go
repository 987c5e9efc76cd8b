package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// The action ids of a posted handoff's buttons (the commands package
// handles them); the value is the handoff id.
const (
	ActionHandoffAck      = "handoff_ack"
	ActionHandoffQuestion = "handoff_question"
	ActionHandoffReassign = "handoff_reassign"
)

// handoffSection caps each text of a handoff in its message.
const handoffSection = 700

// renderHandoffKind renders the handoff notifications from the handoff as
// it stands now.
func (n *Notifier) renderHandoffKind(ctx context.Context, nt csbot.Notification) (bot.Message, error) {
	var p csbot.HandoffPost
	if err := json.Unmarshal(nt.Payload, &p); err != nil {
		return bot.Message{}, fmt.Errorf("%w: handoff: %w", errBadPayload, err)
	}
	v, err := n.cfg.Store.HandoffView(ctx, p.Handoff)
	if errors.Is(err, csbot.ErrNotFound) {
		return bot.Message{}, fmt.Errorf("%w: handoff %d is gone", errBadPayload, p.Handoff)
	} else if err != nil {
		return bot.Message{}, err
	}
	switch nt.Kind {
	case csbot.NotifyHandoff, csbot.NotifyHandoffUpdate:
		return RenderHandoff(v, nt.Note, n.cfg.Location), nil
	case csbot.NotifyHandoffAcked:
		return renderHandoffAcked(v, n.cfg.Location), nil
	case csbot.NotifyHandoffNudge, csbot.NotifyHandoffEscalation:
		return renderHandoffNudge(v, p, nt.Kind == csbot.NotifyHandoffEscalation, n.cfg.Location), nil
	}
	return bot.Message{}, fmt.Errorf("%w: unknown notification kind %q", errBadPayload, nt.Kind)
}

// RenderHandoff builds a handoff's message: the account, what the customer
// wants and how they judge success, what was sold and promised, who
// matters, the risks, what the note lacks, where it stands, and buttons.
func RenderHandoff(v csbot.HandoffView, note string, loc *time.Location) bot.Message {
	h, a := v.Handoff, v.Account
	head := fmt.Sprintf("🤝 *Handoff: %s*  ·  %s touch  ·  %s ARR  ·  from %s", bot.Escape(bot.Truncate(a.Name, 80)),
		bot.Escape(string(orTier(h.Tier, a.Tier))), a.ARR.String(), bot.UserMention(h.Author))
	if h.Owner != "" {
		head += "\nOnboarding owner: " + bot.UserMention(h.Owner)
	} else {
		head += "\nOnboarding owner: _not named yet: whoever acknowledges it takes it_"
	}
	blocks := []slack.Block{bot.FitSection(head)}

	var body []string
	add := func(label, text string) {
		if t := strings.TrimSpace(text); t != "" {
			body = append(body, "*"+label+"*\n"+bot.Escape(bot.Truncate(t, handoffSection)))
		}
	}
	add("Goals", h.Goals)
	add("Success criteria", h.SuccessCriteria)
	sold := strings.TrimSpace(h.Products)
	if h.Seats > 0 {
		sold += fmt.Sprintf(" · %d seats", h.Seats)
	}
	if !h.ContractStart.IsZero() {
		sold += " · contract from " + shortDay(h.ContractStart, time.UTC)
	}
	if !h.GoLive.IsZero() {
		sold += " · go-live " + shortDay(h.GoLive, time.UTC)
	}
	add("Sold", sold)
	add("Promised", h.Commitments)
	if people := stakeholderLines(h.Stakeholders); people != "" {
		body = append(body, "*Stakeholders*\n"+people)
	}
	add("Risks and concerns", h.Risks)
	add("Notes", h.Notes)
	if len(body) > 0 {
		blocks = append(blocks, bot.FitSection(strings.Join(body, "\n")))
	}
	if len(v.Missing) > 0 {
		blocks = append(blocks, contextBlock("⚠️ Missing: "+strings.Join(v.Missing, "; ")))
	}
	if note != "" {
		blocks = append(blocks, contextBlock("ℹ️ "+bot.Escape(note)))
	}
	status := fmt.Sprintf("⏳ Waiting for onboarding since %s", shortDay(h.CreatedAt, loc))
	if h.State == csbot.HandoffAcknowledged {
		status = fmt.Sprintf("✅ Acknowledged by %s on %s", bot.UserMention(h.AckedBy), shortDay(h.AckedAt, loc))
	}
	if v.Amendments > 0 {
		status += fmt.Sprintf("  ·  amended %d %s", v.Amendments, plural(v.Amendments, "time", "times"))
	}
	blocks = append(blocks, contextBlock(status))

	id := strconv.FormatInt(h.ID, 10)
	var buttons []slack.BlockElement
	if h.State == csbot.HandoffOpen {
		buttons = append(buttons, slack.NewButtonBlockElement(ActionHandoffAck, id, plain("Acknowledge")).WithStyle(slack.StylePrimary))
	}
	buttons = append(buttons,
		slack.NewButtonBlockElement(ActionHandoffQuestion, id, plain("Ask a question")),
		slack.NewButtonBlockElement(ActionHandoffReassign, id, plain("Reassign")))
	blocks = append(blocks, slack.NewActionBlock("handoff_actions", buttons...))

	text := fmt.Sprintf("Handoff for %s from %s", bot.Escape(a.Name), bot.UserMention(h.Author))
	if h.State == csbot.HandoffAcknowledged {
		text = "Acknowledged: " + text
	}
	return bot.Message{Text: text, Blocks: blocks}
}

// stakeholderLines lists the people a handoff names, one line each.
func stakeholderLines(ss []csbot.Stakeholder) string {
	var lines []string
	for _, s := range ss {
		if strings.TrimSpace(s.Name) == "" {
			continue
		}
		line := roleWord(s.Role) + ": " + bot.Escape(bot.Truncate(s.Name, 100))
		if s.Title != "" {
			line += " (" + bot.Escape(bot.Truncate(s.Title, 80)) + ")"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// roleWord names a contact role for people.
func roleWord(r csbot.ContactRole) string {
	switch r {
	case csbot.RoleChampion:
		return "Champion"
	case csbot.RoleExecSponsor:
		return "Exec sponsor"
	case csbot.RoleRenewal:
		return "Renewal contact"
	case csbot.RoleBilling:
		return "Billing contact"
	}
	return "Contact"
}

func orTier(t, alt csbot.Tier) csbot.Tier {
	if t == "" {
		return alt
	}
	return t
}

// renderHandoffAcked tells the author that onboarding took the handoff.
func renderHandoffAcked(v csbot.HandoffView, loc *time.Location) bot.Message {
	h, a := v.Handoff, v.Account
	text := fmt.Sprintf("✅ %s acknowledged your handoff for *%s* on %s. Onboarding has it from here.",
		bot.UserMention(h.AckedBy), bot.Escape(a.Name), shortDay(h.AckedAt, loc))
	return bot.Message{Text: text, Blocks: []slack.Block{bot.FitSection(text)}}
}

// renderHandoffNudge reminds the owner (or onboarding) of a handoff nobody
// took, or tells the owner's manager.
func renderHandoffNudge(v csbot.HandoffView, p csbot.HandoffPost, escalation bool, loc *time.Location) bot.Message {
	h, a := v.Handoff, v.Account
	days := max(p.BusinessDays, 1)
	head := fmt.Sprintf("⏰ *The handoff for %s has waited %d business %s* (since %s, from %s).",
		bot.Escape(a.Name), days, plural(days, "day", "days"), shortDay(h.CreatedAt, loc), bot.UserMention(h.Author))
	switch {
	case h.State != csbot.HandoffOpen:
		head = fmt.Sprintf("The handoff for %s was acknowledged by %s.", bot.Escape(a.Name), bot.UserMention(h.AckedBy))
	case escalation && h.Owner != "":
		head += fmt.Sprintf("\nIt is %s's to take, and nobody has acknowledged it.", bot.UserMention(h.Owner))
	case escalation:
		head += "\nNobody owns it, and nobody has acknowledged it."
	default:
		head += "\nPlease acknowledge it, or reassign it to whoever should take it."
	}
	id := strconv.FormatInt(h.ID, 10)
	blocks := []slack.Block{bot.FitSection(head)}
	if h.State == csbot.HandoffOpen {
		blocks = append(blocks, slack.NewActionBlock("handoff_nudge_actions",
			slack.NewButtonBlockElement(ActionHandoffAck, id, plain("Acknowledge")).WithStyle(slack.StylePrimary),
			slack.NewButtonBlockElement(ActionHandoffReassign, id, plain("Reassign"))))
	}
	text := fmt.Sprintf("Handoff for %s waiting %d business %s", bot.Escape(a.Name), days, plural(days, "day", "days"))
	return bot.Message{Text: text, Blocks: blocks}
}
