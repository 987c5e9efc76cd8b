package commands_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
)

func TestHealthLookupGolden(t *testing.T) {
	t.Parallel()
	acme := []csbot.Account{
		{ID: 101, ExternalID: "ACME-001", Name: "Acme Corp", Domain: "acme.com", Tier: csbot.TierHigh, ARR: 12_000_000},
		{ID: 104, ExternalID: "ACME-LABS", Name: "Acme Labs", Domain: "acmelabs.io", Tier: csbot.TierLow, ARR: 3_600_000},
		{ID: 107, ExternalID: "ACME-UK", Name: "ACME Ltd.", Tier: csbot.TierTech, ARR: 99_000},
	}
	var matches, suggestions []csbot.AccountMatch
	for _, a := range acme {
		matches = append(matches, csbot.AccountMatch{Account: a, Kind: csbot.MatchNormalized, Similarity: 1})
	}
	for _, a := range acme[:2] {
		suggestions = append(suggestions, csbot.AccountMatch{Account: a, Kind: csbot.MatchFuzzy, Similarity: 0.4})
	}

	pick := commands.LookupReplyForTest("health", "acme", csbot.AccountLookup{Matches: matches})
	if pick == nil {
		t.Fatal("three matches gave no pick-list")
	}
	checkGoldenReply(t, "health_pick_list", *pick)

	dym := commands.LookupReplyForTest("health", "acmee <inc>", csbot.AccountLookup{Suggestions: suggestions})
	if dym == nil {
		t.Fatal("suggestions gave no reply")
	}
	checkGoldenReply(t, "health_did_you_mean", *dym)
	for _, rep := range []*bot.Reply{pick, dym} {
		if rep.Visibility != bot.Ephemeral || rep.Public {
			t.Errorf("lookup reply %q: visibility %v, public %v; want ephemeral and internal", rep.Text, rep.Visibility, rep.Public)
		}
	}

	none := commands.LookupReplyForTest("renewals", "zzz", csbot.AccountLookup{})
	if none == nil || !strings.Contains(none.Text, "No account matches “zzz”") || !strings.Contains(none.Text, "`/renewals acme`") {
		t.Errorf("no match gave %+v, want \"No account matches\" with a /renewals hint", none)
	}
	if none != nil && len(none.Blocks) > 0 {
		t.Errorf("no match has blocks, want a short text")
	}

	if rep := commands.LookupReplyForTest("health", "acme", csbot.AccountLookup{Matches: matches[:1]}); rep != nil {
		t.Errorf("one match gave a reply %q, want the account", rep.Text)
	}
}

func TestHealthPickListIsShort(t *testing.T) {
	t.Parallel()
	var matches []csbot.AccountMatch
	for i := range 9 {
		matches = append(matches, csbot.AccountMatch{Account: csbot.Account{ID: int64(i + 1), Name: fmt.Sprintf("Acme %d", i), Tier: csbot.TierLow}})
	}
	rep := commands.LookupReplyForTest("renewals", "acme", csbot.AccountLookup{Matches: matches})
	if rep == nil {
		t.Fatal("nine matches gave no reply")
	}
	ids := healthActionIDs(t, *rep)
	if n := strings.Count(ids, "pick:renewals"); n != 8 {
		t.Errorf("pick-list has %d buttons to renewals, want 8: %s", n, ids)
	}
	if !strings.Contains(rep.Text, "More than 8 accounts match") {
		t.Errorf("pick-list text = %q, want it to say more match", rep.Text)
	}
}

func TestHealthFindsAccountByWhatIsTyped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	for _, text := range []string{"Acme Corp", "acme corp", "acme", "ACME", "acme.com", "https://www.acme.com/login",
		"ACME-001", "acme-001", `"Acme Corp."`, "“acme corp”"} {
		rep := e.health(ctx, t, "U0CSM2", "D0CSM2", text)
		if got := healthHeader(rep); got != "Acme Corp" {
			t.Errorf("/health %s: header %q (text %q), want the card of Acme Corp", text, got, rep.Text)
		}
		if rep.Visibility != bot.Ephemeral || rep.Public {
			t.Errorf("/health %s: visibility %v, public %v; want ephemeral and internal", text, rep.Visibility, rep.Public)
		}
	}
}

func TestHealthPickListLeadsToTheCard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	rep := e.health(ctx, t, "U0CSM1", "C0ELSE1", "initech")
	btns := healthButtons(rep)
	if len(btns) != 2 {
		t.Fatalf("/health initech gave %d buttons, want a pick-list of the two Initechs: %q", len(btns), rep.Text)
	}
	if rep.Public || rep.Visibility != bot.Ephemeral {
		t.Errorf("pick-list public %v, visibility %v; want internal and ephemeral", rep.Public, rep.Visibility)
	}
	want := map[string]bool{}
	for _, id := range []string{"INI-EU", "INI-AS"} {
		want[strconv.FormatInt(e.accountID(ctx, t, id), 10)] = true
	}
	for _, b := range btns {
		if b.ActionID != "pick:health" || !want[b.Value] {
			t.Errorf("pick-list button %+v, want pick:health with an Initech id", b)
		}
	}
	card := e.click(ctx, t, "U0CSM1", "C0ELSE1", btns[0].BlockID, btns[0].ActionID, btns[0].Value)
	if h := healthHeader(card); !strings.HasPrefix(h, "Initech ") {
		t.Errorf("picking gave header %q, want an Initech card", h)
	}
	if !card.ReplaceOriginal {
		t.Error("picking from a pick-list should replace the list")
	}
}

func TestHealthNoMatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	rep := e.health(ctx, t, "U0CSM1", "C0ELSE1", "qqqq zzzz")
	if !strings.Contains(rep.Text, "No account matches “qqqq zzzz”") || !strings.Contains(rep.Text, "/health acme") {
		t.Errorf("/health qqqq zzzz = %q, want \"No account matches\" and a hint", rep.Text)
	}
	if got := healthHeader(e.health(ctx, t, "U0CSM1", "C0ELSE1", "Umbrela Corporation")); got != "Umbrella Corporation" {
		t.Errorf("/health Umbrela Corporation gave %q, want the typo forgiven", got)
	}
	// Further off, it asks rather than guesses.
	if rep := e.health(ctx, t, "U0CSM1", "C0ELSE1", "Umbrela Corp Intl"); !strings.Contains(rep.Text, "Did you mean Umbrella Corporation?") {
		t.Errorf("/health Umbrela Corp Intl = %q, want \"did you mean\" Umbrella Corporation", rep.Text)
	}
	rep = e.health(ctx, t, "U0CSM1", "C0ELSE1", "glbex intl")
	btns := healthButtons(rep)
	globex := strconv.FormatInt(e.accountID(ctx, t, "GLX-042"), 10)
	if !strings.Contains(rep.Text, "Did you mean Globex International?") || len(btns) != 1 || btns[0].Value != globex {
		t.Fatalf("/health glbex intl = %q with buttons %+v, want \"did you mean\" Globex", rep.Text, btns)
	}
	card := e.click(ctx, t, "U0CSM1", "C0ELSE1", btns[0].BlockID, btns[0].ActionID, btns[0].Value)
	if got := healthHeader(card); got != "Globex International" || !card.ReplaceOriginal {
		t.Errorf("taking the suggestion gave %q (replace %v), want Globex's card in place of the question", got, card.ReplaceOriginal)
	}
}
