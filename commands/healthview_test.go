package commands

import (
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// The exported names of this file let the tests of package commands_test
// render replies from values built by hand, for the golden files.

// HealthCardForTest scores d at the configured clock and renders its card
// for actor.
func (c *Commands) HealthCardForTest(actor bot.Actor, d csbot.AccountDetail, ch *bot.ChannelInfo, shared bool) bot.Reply {
	return c.cardOf(actor, d, c.cfg.Now(), ch, shared)
}

// LookupReplyForTest is what a lookup of query for the view next answers
// with, when it does not find exactly one account.
func LookupReplyForTest(next, query string, res csbot.AccountLookup) *bot.Reply {
	_, rep := lookupReply(next, query, res)
	return rep
}

// PortfolioForTest renders the page of owner's portfolio at offset for
// actor.
func (c *Commands) PortfolioForTest(actor bot.Actor, owner string, entries []csbot.PortfolioEntry, offset int) bot.Reply {
	return renderPortfolio(portfolioView{Owner: owner, Self: owner == actor.SlackID, Entries: entries, Offset: offset, Today: c.today(actor)})
}

// OverrideModalForTest is the override modal of a.
func OverrideModalForTest(a csbot.Account, days int) slack.ModalViewRequest {
	return overrideModal(a, days)
}

// Action ids and the override modal's callback, for the tests.
const (
	ActionShareForTest    = actionShare
	ActionOverrideForTest = actionOverride
	ActionMoreForTest     = actionMore
	// ActionCreateChannelForTest is "Create account channel".
	ActionCreateChannelForTest = actionCreateChannel
	OverrideCallbackTest       = overrideCallback
	PortfolioPageForTest       = portfolioPage
)

func TestTrendWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		t    csbot.Trend
		want string
	}{
		{csbot.Trend{}, ""},
		{csbot.Trend{Delta7: -12, Has7: true, Delta30: 5, Has30: true}, "falling 12 points in 7 days"},
		{csbot.Trend{Delta7: 1, Has7: true}, "rising 1 point in 7 days"},
		{csbot.Trend{Delta30: -3, Has30: true}, "falling 3 points in 30 days"},
		{csbot.Trend{Has7: true}, "steady over 7 days"},
	}
	for _, tt := range tests {
		if got := trendWords(tt.t); got != tt.want {
			t.Errorf("trendWords(%+v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestTrendText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		t    csbot.Trend
		want string
	}{
		{csbot.Trend{}, "_no trend yet_"},
		{csbot.Trend{Delta7: -12, Has7: true, Delta30: -20, Has30: true}, "↘ -12 in 7 days · -20 in 30 days"},
		{csbot.Trend{Delta7: 0, Has7: true, Delta30: 8, Has30: true}, "→ 0 in 7 days · +8 in 30 days"},
		{csbot.Trend{Delta30: 8, Has30: true}, "↗ +8 in 30 days"},
	}
	for _, tt := range tests {
		if got := trendText(tt.t); got != tt.want {
			t.Errorf("trendText(%+v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestHealthFallback(t *testing.T) {
	t.Parallel()
	today := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	v := healthView{
		Detail: csbot.AccountDetail{
			Account: csbot.Account{ID: 1, Name: "Acme <Corp>"},
			Facts:   csbot.AccountFacts{NextRenewal: csbot.Renewal{ID: 9, RenewalDate: today.AddDate(0, 0, 45), ARR: 12_000_000}},
		},
		Health: csbot.HealthScore{Score: 42, Band: csbot.BandRed, Coverage: 100, Trend: csbot.Trend{Delta7: -12, Has7: true}},
		Today:  today,
		Loc:    time.UTC,
	}
	want := "Acme &lt;Corp&gt;: 42/100 red, falling 12 points in 7 days; renewal in 45 days ($120k)"
	if got := healthFallback(v); got != want {
		t.Errorf("healthFallback = %q, want %q", got, want)
	}

	v.Detail.Facts.NextRenewal.RenewalDate = today.AddDate(0, 0, -3)
	v.Health = csbot.HealthScore{}
	v.Signals = []csbot.Signal{{Kind: csbot.SignalRenewalRisk}}
	want = "Acme &lt;Corp&gt;: not scored yet (no data); renewal overdue by 3 days ($120k); 1 open signal"
	if got := healthFallback(v); got != want {
		t.Errorf("healthFallback = %q, want %q", got, want)
	}

	v.Health = csbot.HealthScore{Score: 100, Band: csbot.BandGreen, Coverage: 11}
	v.Signals = nil
	want = "Acme &lt;Corp&gt;: 100/100 green on little data; renewal overdue by 3 days ($120k)"
	if got := healthFallback(v); got != want {
		t.Errorf("healthFallback = %q, want %q", got, want)
	}
}

func TestSignalsTextCapsAndOrders(t *testing.T) {
	t.Parallel()
	var sigs []csbot.Signal
	for range 10 {
		sigs = append(sigs, csbot.Signal{Kind: csbot.SignalNoTouch, Severity: csbot.SignalInfo, Evidence: "quiet"})
	}
	sigs = append(sigs, csbot.Signal{Kind: csbot.SignalInvoiceOverdue, Severity: csbot.SignalCritical,
		Evidence: strings.Repeat("<!here> ", 200)})
	got := signalsText(sigs)
	lines := strings.Split(got, "\n")
	if len(lines) != 1+maxSignalLines+1 {
		t.Fatalf("signalsText gave %d lines, want a title, %d signals and a remainder:\n%s", len(lines), maxSignalLines, got)
	}
	if !strings.HasPrefix(lines[1], "‼️ *Invoice overdue* (critical)") {
		t.Errorf("first signal line = %q, want the critical one first", lines[1])
	}
	if strings.Contains(got, "<!here>") {
		t.Errorf("signalsText left a mention unescaped: %q", lines[1])
	}
	if n := len([]rune(lines[1])); n > maxEvidenceText+40 {
		t.Errorf("a signal line is %d characters, want its evidence cut to %d", n, maxEvidenceText)
	}
	if lines[len(lines)-1] != "…and 3 more" {
		t.Errorf("last line = %q, want …and 3 more", lines[len(lines)-1])
	}
}

func TestParseMoreValue(t *testing.T) {
	t.Parallel()
	if owner, off, ok := parseMoreValue(moreValue("U0CSM1", 25)); !ok || owner != "U0CSM1" || off != 25 {
		t.Errorf("parseMoreValue(moreValue(U0CSM1, 25)) = %q, %d, %v", owner, off, ok)
	}
	for _, bad := range []string{"", "U0CSM1", "U0CSM1:", "U0CSM1:-1", "U0CSM1:x", "x:1", ":1", "C0CHAN1:3"} {
		if _, _, ok := parseMoreValue(bad); ok {
			t.Errorf("parseMoreValue(%q) accepted it", bad)
		}
	}
}

// OverrideInputForTest is what the override modal was given.
type OverrideInputForTest = overrideInput

// ParseOverrideForTest reads the override modal's values.
func ParseOverrideForTest(metadata string, values map[string]map[string]slack.BlockAction) (OverrideInputForTest, map[string]string, error) {
	return parseOverride(metadata, values)
}

func TestRenewalTextLeadsWithAnOverdueRenewal(t *testing.T) {
	today := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	v := healthView{Today: today, Detail: csbot.AccountDetail{Facts: csbot.AccountFacts{
		OverdueRenewal: csbot.Renewal{ID: 1, RenewalDate: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), ARR: 8_000_000},
		NextRenewal:    csbot.Renewal{ID: 2, RenewalDate: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), ARR: 9_000_000},
	}}}
	got := renewalText(v)
	overdue := strings.Index(got, "*Overdue:* the renewal of Feb 1, 2026 ($80k ARR) is 37 days past its date")
	next := strings.Index(got, "Sep 1, 2026")
	if overdue < 0 || next < overdue {
		t.Errorf("renewalText =\n%s\nwant the overdue renewal first, then the next one", got)
	}
	v.Detail.Facts.NextRenewal = csbot.Renewal{}
	if got := renewalText(v); !strings.Contains(got, "*Overdue:*") || strings.Contains(got, "No open renewal") {
		t.Errorf("with only an overdue renewal, renewalText =\n%s", got)
	}
}
