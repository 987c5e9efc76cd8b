package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// portfolioPage is how many accounts a page of a portfolio lists: a block
// each, well within a message's 50 blocks with the header, the summary and
// the "Show more" button.
const portfolioPage = 25

// actionMore is the action_id of a portfolio's "Show more" button; its
// value is moreValue's.
const actionMore = "health_more"

// portfolio answers with the page of owner's portfolio that starts at
// offset: their accounts as CSM, worst health first.
func (c *Commands) portfolio(ctx context.Context, req bot.Request, owner string, offset int) (bot.Reply, error) {
	entries, err := c.cfg.Store.Portfolio(ctx, []string{owner})
	if err != nil {
		return bot.Reply{}, fmt.Errorf("portfolio of %s: %w", owner, err)
	}
	return renderPortfolio(portfolioView{
		Owner: owner, Self: owner == req.UserID, Entries: entries, Offset: offset, Today: c.today(req.Actor),
	}), nil
}

// portfolioView is one page of a portfolio to show.
type portfolioView struct {
	// Owner is the CSM's Slack id; Self is whether the reader is them.
	Owner string
	Self  bool
	// Entries is the whole portfolio, worst first; Offset is where the
	// page starts.
	Entries []csbot.PortfolioEntry
	Offset  int
	// Today is the reader's date, midnight UTC.
	Today time.Time
}

// renderPortfolio renders a page of a portfolio: a summary of all of it,
// then a line an account with a button to its health card, then "Show
// more" when there is more.
func renderPortfolio(v portfolioView) bot.Reply {
	who, whose := "You have", "Your portfolio"
	if !v.Self {
		who = bot.UserMention(v.Owner) + " has"
		whose = bot.UserMention(v.Owner) + "'s portfolio"
	}
	if len(v.Entries) == 0 {
		return bot.Reply{Text: fmt.Sprintf("%s no accounts as CSM in csbot. Look any account up by name, domain or CRM id: `/health acme`.", who)}
	}
	if v.Offset < 0 || v.Offset >= len(v.Entries) {
		return bot.Reply{Text: fmt.Sprintf("%s has no more accounts to show. Type `/health` to see it from the start.", whose)}
	}
	var arr csbot.Cents
	bands := map[csbot.Band]int{}
	for _, e := range v.Entries {
		arr += e.Account.ARR
		bands[e.Health.Band]++
	}
	end := min(v.Offset+portfolioPage, len(v.Entries))
	summary := fmt.Sprintf("*%s*: %d %s, %s ARR, worst health first", whose, len(v.Entries),
		countNoun(len(v.Entries), "account", "accounts"), arr.Short())
	if v.Offset > 0 || end < len(v.Entries) {
		summary += fmt.Sprintf(" (%d–%d)", v.Offset+1, end)
	}
	blocks := []slack.Block{
		bot.FitSection(summary),
		slack.NewContextBlock("", mdText(bandCounts(bands))),
		slack.NewDividerBlock(),
	}
	for _, e := range v.Entries[v.Offset:end] {
		btn := slack.NewButtonBlockElement(pickPrefix+"health", strconv.FormatInt(e.Account.ID, 10), plainText("Health"))
		blocks = append(blocks, slack.NewSectionBlock(mdText(portfolioLine(e, v.Today)), nil, slack.NewAccessory(btn)))
	}
	if end < len(v.Entries) {
		next := min(end+portfolioPage, len(v.Entries))
		btn := slack.NewButtonBlockElement(actionMore, moreValue(v.Owner, end),
			plainText(fmt.Sprintf("Show more (%d–%d of %d)", end+1, next, len(v.Entries))))
		blocks = append(blocks, slack.NewActionBlock("health_more", btn))
	}
	text := fmt.Sprintf("%s: %d %s, %s ARR; %d red, %d yellow, %d green", whose, len(v.Entries),
		countNoun(len(v.Entries), "account", "accounts"), arr.Short(),
		bands[csbot.BandRed], bands[csbot.BandYellow], bands[csbot.BandGreen])
	return bot.Reply{Text: text, Blocks: blocks}
}

// bandCounts is "🔴 3 red · 🟡 5 yellow · 🟢 12 green · ⚪ 1 not scored",
// leaving out the bands without accounts.
func bandCounts(n map[csbot.Band]int) string {
	var parts []string
	for _, b := range []csbot.Band{csbot.BandRed, csbot.BandYellow, csbot.BandGreen, ""} {
		if n[b] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d %s", b.Emoji(), n[b], b.Word()))
		}
	}
	return strings.Join(parts, " · ")
}

// portfolioLine is one account of a portfolio: band colour, name, score,
// ARR, and the next renewal with days left.
func portfolioLine(e csbot.PortfolioEntry, today time.Time) string {
	var b strings.Builder
	b.WriteString(e.Health.Band.Emoji() + " " + bot.Bold(bot.Truncate(displayName(e.Account), maxNameChars)) + " · ")
	if e.Health.Day.IsZero() {
		b.WriteString("not scored")
	} else {
		fmt.Fprintf(&b, "%d/100", e.Health.Score)
		if d := dayCount(e.Health.Day, today); d > 1 {
			b.WriteString(" as of " + shortDate(e.Health.Day))
		}
	}
	b.WriteString(" · " + e.Account.ARR.Short() + " ARR\n")
	r := e.NextRenewal
	switch n := dayCount(today, r.RenewalDate); {
	case r.ID == 0:
		b.WriteString("No open renewal")
	case n < 0:
		fmt.Fprintf(&b, "Renewal was due %s (*overdue by %d %s*)", shortDate(r.RenewalDate), -n, countNoun(-n, "day", "days"))
	default:
		fmt.Fprintf(&b, "Renews %s (%s)", shortDate(r.RenewalDate), daysLeft(today, r.RenewalDate))
	}
	return bot.TruncateMrkdwn(b.String(), bot.MaxSectionText)
}

// moreValue is the value of a "Show more" button: "U123:25", the owner
// and the offset of the next page.
func moreValue(owner string, offset int) string { return owner + ":" + strconv.Itoa(offset) }

// parseMoreValue reads a "Show more" button's value.
func parseMoreValue(v string) (owner string, offset int, ok bool) {
	owner, off, found := strings.Cut(v, ":")
	if !found || !csbot.IsSlackUserID(owner) {
		return "", 0, false
	}
	n, err := strconv.Atoi(off)
	if err != nil || n < 0 {
		return "", 0, false
	}
	return owner, n, true
}

// more answers a portfolio's "Show more" button with the next page, as a
// new message.
func (c *Commands) more(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	owner, offset, ok := parseMoreValue(req.Action.Value)
	if !ok {
		return usage(msgStaleButton), nil
	}
	return c.portfolio(ctx, req.Request, owner, offset)
}
