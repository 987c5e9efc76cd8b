package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// The action_ids of the health card's buttons; their value is the account
// id. Its "Renewals" button is pickPrefix+"renewals".
const (
	actionShare    = "health_share"
	actionOverride = "health_override"
)

// What a card shows at most of lists and long texts.
const (
	maxSignalLines  = 8
	maxEvidenceText = 300
	maxQuoteText    = 300
)

// minCoverage is the share of a score's weight, in percent, below which
// the card warns that the score rests on little data.
const minCoverage = 50

// healthView is what a health card shows of one account, read at one
// instant.
type healthView struct {
	Detail  csbot.AccountDetail
	Health  csbot.HealthScore
	Signals []csbot.Signal
	// Today is the reader's date (midnight UTC) and Loc their zone, for
	// days left and dates of timestamps.
	Today time.Time
	Loc   *time.Location
	// Channel is what Slack says of the account's channel; nil when it is
	// not known (no channel, csbot try, or Slack did not answer).
	Channel *bot.ChannelInfo
	// Shared is a card posted in the channel: it has no Share button.
	Shared bool
	// CreateChannel offers "Create account channel": the account has no
	// channel and the reader may create one.
	CreateChannel bool
}

// healthCard reads the account's detail now and returns its health card,
// in the channel when shared, else to the reader alone.
func (c *Commands) healthCard(ctx context.Context, req bot.Request, id int64, shared bool) (bot.Reply, error) {
	noteAccount(ctx, id)
	now := c.cfg.Now()
	d, err := c.cfg.Store.AccountDetail(ctx, id, now)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneAccount), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("health of account %d: %w", id, err)
	}
	ch := c.channelInfo(ctx, d.Account.SlackChannelID)
	return c.cardOf(req.Actor, d, now, ch, shared), nil
}

// cardOf scores the account of d at now and renders its card for actor.
func (c *Commands) cardOf(actor bot.Actor, d csbot.AccountDetail, now time.Time, ch *bot.ChannelInfo, shared bool) bot.Reply {
	h := csbot.Score(d.Facts, c.cfg.Policy, now)
	return renderHealth(healthView{
		Detail:  d,
		Health:  h,
		Signals: csbot.Signals(d.Facts, h, c.cfg.Policy, now),
		Today:   c.today(actor),
		Loc:     c.location(actor),
		Channel: ch,
		Shared:  shared,
		// Only to the reader: a card in a channel is for everyone there.
		CreateChannel: !shared && d.Account.SlackChannelID == "" && mayCreateChannel(actor, d.Account),
	})
}

// channelInfo asks Slack about the account channel id; nil when there is
// none, no Slack, or no answer (which the card then leaves unsaid).
func (c *Commands) channelInfo(ctx context.Context, id string) *bot.ChannelInfo {
	if id == "" || c.cfg.Channels == nil {
		return nil
	}
	info, err := c.cfg.Channels.Channel(ctx, id, 0)
	if err != nil {
		c.log.Warn("check account channel", "channel", id, "err", err)
		return nil
	}
	return &info
}

// renderHealth renders a health card: Block Kit and a fallback text.
func renderHealth(v healthView) bot.Reply {
	a := v.Detail.Account
	blocks := []slack.Block{
		slack.NewHeaderBlock(plainText(bot.Truncate(displayName(a), bot.MaxHeaderText))),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			mdText("*Tier*\n" + tierLabel(a.Tier)),
			mdText("*ARR*\n" + a.ARR.String()),
			mdText("*CSM*\n" + csmText(v.Detail)),
			mdText("*Stage*\n" + stageLabel(a.Stage)),
		}, nil),
		bot.FitSection(scoreText(v.Health)),
	}
	if o := v.Health.Override; o != nil {
		blocks = append(blocks, slack.NewContextBlock("", mdText(overrideText(*o, v.Loc))))
	}
	if t := driversText(v.Health); t != "" {
		blocks = append(blocks, bot.FitSection(t))
	}
	if t := missingText(v.Health); t != "" {
		blocks = append(blocks, slack.NewContextBlock("", mdText(t)))
	}
	blocks = append(blocks,
		bot.FitSection(signalsText(v.Signals)),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			mdText(renewalText(v)),
			mdText(lastTouchText(v)),
		}, nil),
		slack.NewContextBlock("", mdText(channelText(a, v.Channel))),
		healthActions(a.ID, v.Shared, v.CreateChannel),
	)
	rep := bot.Reply{Text: healthFallback(v), Blocks: blocks}
	if v.Shared {
		rep.Visibility = bot.InChannel
	}
	return rep
}

// displayName is the account's name, or its CRM id when it has none.
func displayName(a csbot.Account) string {
	switch {
	case strings.TrimSpace(a.Name) != "":
		return a.Name
	case a.ExternalID != "":
		return "Account " + a.ExternalID
	}
	return "Account #" + strconv.FormatInt(a.ID, 10)
}

// csmText names the account's CSM: a mention, or "unassigned".
func csmText(d csbot.AccountDetail) string {
	id := d.CSM.SlackID
	if id == "" {
		id = d.Account.CSMUserID
	}
	if id == "" {
		return "_unassigned_"
	}
	return bot.UserMention(id)
}

// stageLabel names a lifecycle stage: "Adopting".
func stageLabel(s csbot.Stage) string {
	if s == "" {
		return "_unknown_"
	}
	return upperFirst(bot.Escape(string(s)))
}

// scoreText is the score line: band colour, score, band and trend.
func scoreText(h csbot.HealthScore) string {
	if h.Band == "" {
		return csbot.Band("").Emoji() + " *Not scored*: csbot has no data on this account yet."
	}
	t := fmt.Sprintf("%s *%d/100* %s   %s", h.Band.Emoji(), h.Score, h.Band, trendText(h.Trend))
	if h.Coverage < minCoverage {
		t += fmt.Sprintf("\n_Only %d%% of the usual measures have data, so take this score lightly._", h.Coverage)
	}
	return t
}

// trendText is the trend's arrow and the 7- and 30-day changes.
func trendText(t csbot.Trend) string {
	if s := t.String(); s != "" {
		return s
	}
	return "_no trend yet_"
}

// trendWords says how the score moved, for a fallback text: "falling 12
// points in 7 days"; "" without a trend.
func trendWords(t csbot.Trend) string {
	d, days := t.Delta7, 7
	switch {
	case t.Has7:
	case t.Has30:
		d, days = t.Delta30, 30
	default:
		return ""
	}
	switch {
	case d < 0:
		return fmt.Sprintf("falling %d %s in %d days", -d, countNoun(-d, "point", "points"), days)
	case d > 0:
		return fmt.Sprintf("rising %d %s in %d days", d, countNoun(d, "point", "points"), days)
	}
	return fmt.Sprintf("steady over %d days", days)
}

// overrideText shows a CSM's override beside the computed score.
func overrideText(o csbot.HealthOverride, loc *time.Location) string {
	var b strings.Builder
	b.WriteString("✍️ *Override* by ")
	b.WriteString(bot.UserMention(o.By))
	b.WriteString(" until ")
	b.WriteString(shortDate(o.ExpiresAt.In(loc)))
	b.WriteString(": ")
	b.WriteString(overrideValue(o, true))
	if note := foldSpace(o.Note); note != "" {
		b.WriteString(" · “")
		b.WriteString(bot.TruncateMrkdwn(bot.Escape(note), maxQuoteText))
		b.WriteString("”")
	}
	return b.String()
}

// overrideValue is what an override says: "🟡 yellow, 60/100", or
// without the colour "yellow, 60/100".
func overrideValue(o csbot.HealthOverride, colour bool) string {
	var parts []string
	switch {
	case o.Band != "" && colour:
		parts = append(parts, o.Band.Emoji()+" "+bot.Escape(string(o.Band)))
	case o.Band != "":
		parts = append(parts, bot.Escape(string(o.Band)))
	}
	if o.HasScore {
		parts = append(parts, fmt.Sprintf("%d/100", o.Score))
	}
	return strings.Join(parts, ", ")
}

// componentWords names a health component: "Usage".
func componentWords(k csbot.ComponentKind) string {
	switch k {
	case csbot.ComponentUsage:
		return "Usage"
	case csbot.ComponentSupport:
		return "Support"
	case csbot.ComponentSatisfaction:
		return "Satisfaction (NPS)"
	case csbot.ComponentPayments:
		return "Payments"
	case csbot.ComponentEngagement:
		return "Engagement"
	case csbot.ComponentReliability:
		return "Reliability"
	}
	return bot.Escape(string(k))
}

// driversText says what pulls the score down, a sentence a driver.
func driversText(h csbot.HealthScore) string {
	if h.Band == "" {
		return ""
	}
	if len(h.Drivers) == 0 {
		if h.Coverage < minCoverage {
			return ""
		}
		return "*What pulls it down*\nNothing much: every measure with data is in good shape."
	}
	var b strings.Builder
	b.WriteString("*What pulls it down*")
	for _, d := range h.Drivers {
		fmt.Fprintf(&b, "\n• %s costs %d %s: %s.", componentWords(d.Kind), d.Points, countNoun(d.Points, "point", "points"),
			bot.TruncateMrkdwn(bot.Escape(d.Text), maxEvidenceText))
	}
	return b.String()
}

// missingText names the components left out for want of data.
func missingText(h csbot.HealthScore) string {
	missing := h.Missing()
	if len(missing) == 0 {
		return ""
	}
	esc := make([]string, len(missing))
	for i, m := range missing {
		esc[i] = bot.TruncateMrkdwn(bot.Escape(m), maxEvidenceText)
	}
	t := "No data: " + strings.Join(esc, "; ") + "."
	if h.Band != "" {
		t += fmt.Sprintf(" The score rests on the other %d%% of its weight.", h.Coverage)
	}
	return bot.TruncateMrkdwn(t, bot.MaxSectionText)
}

// signalWords names a kind of risk signal: "Invoice overdue".
func signalWords(k csbot.SignalKind) string {
	switch k {
	case csbot.SignalTicketSpike:
		return "Ticket spike"
	case csbot.SignalUsageDrop:
		return "Usage drop"
	case csbot.SignalUsageSilent:
		return "Usage gone silent"
	case csbot.SignalInvoiceOverdue:
		return "Invoice overdue"
	case csbot.SignalOutages:
		return "Outages"
	case csbot.SignalDetractor:
		return "Detractor NPS"
	case csbot.SignalBandDrop:
		return "Health band drop"
	case csbot.SignalChampionLeft:
		return "Champion left"
	case csbot.SignalNoTouch:
		return "No recent touch"
	case csbot.SignalRenewalRisk:
		return "Renewal at risk"
	}
	return bot.Escape(string(k))
}

// severityEmoji marks a signal's severity.
func severityEmoji(s csbot.SignalSeverity) string {
	switch s {
	case csbot.SignalCritical:
		return "‼️"
	case csbot.SignalWarning:
		return "⚠️"
	}
	return "ℹ️"
}

func severityRank(s csbot.SignalSeverity) int {
	switch s {
	case csbot.SignalCritical:
		return 0
	case csbot.SignalWarning:
		return 1
	}
	return 2
}

// signalsText lists the open signals, most severe first.
func signalsText(signals []csbot.Signal) string {
	if len(signals) == 0 {
		return "*Open signals*\nNone right now."
	}
	sorted := slices.Clone(signals)
	slices.SortStableFunc(sorted, func(a, b csbot.Signal) int {
		return cmp.Compare(severityRank(a.Severity), severityRank(b.Severity))
	})
	var b strings.Builder
	b.WriteString("*Open signals*")
	for _, s := range sorted[:min(len(sorted), maxSignalLines)] {
		fmt.Fprintf(&b, "\n%s *%s* (%s): %s", severityEmoji(s.Severity), signalWords(s.Kind), bot.Escape(string(s.Severity)),
			bot.TruncateMrkdwn(bot.Escape(s.Evidence), maxEvidenceText))
	}
	if n := len(sorted) - maxSignalLines; n > 0 {
		fmt.Fprintf(&b, "\n…and %d more", n)
	}
	return b.String()
}

// renewalText is the next renewal: date, days left, ARR, auto-renewal and
// the renewal contact, or a warning when none is on file.
func renewalText(v healthView) string {
	r := v.Detail.Facts.NextRenewal
	overdue := v.Detail.Facts.OverdueRenewal
	if r.ID == 0 && overdue.ID == 0 {
		return "*Next renewal*\nNo open renewal on file."
	}
	var b strings.Builder
	b.WriteString("*Next renewal*\n")
	if overdue.ID != 0 {
		// An open renewal whose date has passed comes first: it lapsed,
		// or its outcome was never recorded.
		n := -dayCount(v.Today, overdue.RenewalDate)
		fmt.Fprintf(&b, "⚠️ *Overdue:* the renewal of %s (%s ARR) is %d %s past its date and still open: record its outcome or chase it.\n",
			shortDate(overdue.RenewalDate), overdue.ARR.Short(), n, countNoun(n, "day", "days"))
		if r.ID == 0 {
			return bot.TruncateMrkdwn(strings.TrimSuffix(b.String(), "\n"), bot.MaxFieldText)
		}
	}
	b.WriteString(shortDate(r.RenewalDate))
	if n := dayCount(v.Today, r.RenewalDate); n < 0 {
		fmt.Fprintf(&b, " (*overdue by %d %s*)", -n, countNoun(-n, "day", "days"))
	} else {
		b.WriteString(" (" + daysLeft(v.Today, r.RenewalDate) + ")")
	}
	b.WriteString("\n" + r.ARR.String() + " ARR · ")
	if r.AutoRenew {
		b.WriteString("auto-renews")
	} else {
		b.WriteString("does not auto-renew")
	}
	if c, ok := renewalContact(v.Detail.Contacts); ok {
		b.WriteString("\nContact: " + contactText(c))
	} else {
		b.WriteString("\n⚠️ No renewal contact on file: find out who signs before you ask for the renewal.")
	}
	return bot.TruncateMrkdwn(b.String(), bot.MaxFieldText)
}

// renewalContact returns the account's active renewal contact.
func renewalContact(contacts []csbot.Contact) (csbot.Contact, bool) {
	for _, c := range contacts {
		if c.Role == csbot.RoleRenewal && c.Active {
			return c, true
		}
	}
	return csbot.Contact{}, false
}

// contactText is "Jane Doe, CFO (jane@acme.com)", escaped.
func contactText(c csbot.Contact) string {
	s := bot.Escape(bot.Truncate(c.Name, maxNameChars))
	if c.Title != "" {
		s += ", " + bot.Escape(bot.Truncate(c.Title, maxNameChars))
	}
	if c.Email != "" {
		s += " (" + bot.Escape(bot.Truncate(c.Email, maxNameChars)) + ")"
	}
	return s
}

// lastTouchText is the latest touchpoint: date, kind, how long ago, who
// and what.
func lastTouchText(v healthView) string {
	t := v.Detail.LastTouch
	if t.ID == 0 {
		return "*Last touch*\nNone on record."
	}
	local := t.At.In(v.Loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	b.WriteString("*Last touch*\n")
	b.WriteString(shortDate(day) + " · " + touchLabel(t.Kind) + " · " + daysLeft(v.Today, day))
	if t.UserID != "" {
		b.WriteString(" · " + bot.UserMention(t.UserID))
	}
	if s := foldSpace(t.Summary); s != "" {
		b.WriteString("\n“" + bot.TruncateMrkdwn(bot.Escape(s), maxQuoteText) + "”")
	}
	return bot.TruncateMrkdwn(b.String(), bot.MaxFieldText)
}

// touchLabel names a kind of touchpoint: "meeting", "EBR".
func touchLabel(k csbot.TouchKind) string {
	switch k {
	case csbot.TouchEBR:
		return "EBR"
	case csbot.TouchOnsite:
		return "on-site visit"
	}
	return bot.Escape(string(k))
}

// channelText names the account channel and says where its alerts go
// when csbot cannot post there.
func channelText(a csbot.Account, ch *bot.ChannelInfo) string {
	var parts []string
	if a.ExternalID != "" {
		parts = append(parts, "CRM id "+bot.Escape(bot.Truncate(a.ExternalID, maxNameChars)))
	}
	if a.Domain != "" {
		parts = append(parts, bot.Escape(bot.Truncate(a.Domain, maxNameChars)))
	}
	switch {
	case a.SlackChannelID == "":
		parts = append(parts, "no account channel yet: type `/health link "+bot.Escape(bot.Truncate(displayName(a), 80))+"` in the channel to link it")
	case ch != nil && ch.Archived:
		parts = append(parts, "channel "+bot.ChannelMention(a.SlackChannelID)+" (archived: alerts go to the CSM's DM)")
	case ch != nil && ch.External():
		parts = append(parts, "channel "+bot.ChannelMention(a.SlackChannelID)+" (shared with another organisation: alerts go to the CSM's DM)")
	default:
		parts = append(parts, "channel "+bot.ChannelMention(a.SlackChannelID))
	}
	return bot.TruncateMrkdwn(strings.Join(parts, " · "), bot.MaxSectionText)
}

// healthActions are the card's buttons: what comes next.
func healthActions(id int64, shared, createChannel bool) *slack.ActionBlock {
	v := strconv.FormatInt(id, 10)
	els := []slack.BlockElement{slack.NewButtonBlockElement(pickPrefix+"renewals", v, plainText("Renewals"))}
	if !shared {
		els = append(els, slack.NewButtonBlockElement(actionShare, v, plainText("Share in channel")))
	}
	els = append(els, slack.NewButtonBlockElement(actionOverride, v, plainText("Override health")),
		slack.NewButtonBlockElement(pickPrefix+"ebr", v, plainText("Draft EBR")))
	if createChannel {
		els = append(els, slack.NewButtonBlockElement(actionCreateChannel, v, plainText("Create account channel")))
	}
	return slack.NewActionBlock("health_actions", els...)
}

// healthFallback is the card as one line, for notifications: "Acme Corp:
// 42/100 red, falling 12 points in 7 days; renewal in 45 days ($120k)".
func healthFallback(v healthView) string {
	h := v.Health
	var b strings.Builder
	b.WriteString(bot.Escape(bot.Truncate(displayName(v.Detail.Account), maxNameChars)))
	b.WriteString(": ")
	if h.Band == "" {
		b.WriteString("not scored yet (no data)")
	} else {
		fmt.Fprintf(&b, "%d/100 %s", h.Score, h.Band)
		if h.Coverage < minCoverage {
			b.WriteString(" on little data")
		}
		if t := trendWords(h.Trend); t != "" {
			b.WriteString(", " + t)
		}
	}
	if o := h.Override; o != nil {
		b.WriteString("; override " + overrideValue(*o, false))
	}
	if r := v.Detail.Facts.NextRenewal; r.ID != 0 {
		if n := dayCount(v.Today, r.RenewalDate); n < 0 {
			fmt.Fprintf(&b, "; renewal overdue by %d %s (%s)", -n, countNoun(-n, "day", "days"), r.ARR.Short())
		} else {
			fmt.Fprintf(&b, "; renewal %s (%s)", daysLeft(v.Today, r.RenewalDate), r.ARR.Short())
		}
	}
	if n := len(v.Signals); n > 0 {
		fmt.Fprintf(&b, "; %d open %s", n, countNoun(n, "signal", "signals"))
	}
	return b.String()
}

// upperFirst upper-cases the first letter of s.
func upperFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// foldSpace folds white space, newlines included, into single spaces.
func foldSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

func countNoun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
