package csbot_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
)

func TestHandoffProblems(t *testing.T) {
	ok := csbot.Handoff{Goals: "cut churn", SuccessCriteria: "90% weekly active", Products: "Core, 200 seats"}
	if p := ok.Problems(); p != nil {
		t.Fatalf("a complete handoff has problems: %v", p)
	}
	day := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
	for name, tt := range map[string]struct {
		h     csbot.Handoff
		field string
	}{
		"no goals":       {csbot.Handoff{SuccessCriteria: "x", Products: "y"}, csbot.HandoffGoals},
		"blank criteria": {csbot.Handoff{Goals: "x", SuccessCriteria: "  \n", Products: "y"}, csbot.HandoffCriteria},
		"no products":    {csbot.Handoff{Goals: "x", SuccessCriteria: "y"}, csbot.HandoffProducts},
		"long risks":     {csbot.Handoff{Goals: "x", SuccessCriteria: "y", Products: "z", Risks: strings.Repeat("é", csbot.HandoffTextLimit+1)}, csbot.HandoffRisks},
		"long notes":     {csbot.Handoff{Goals: "x", SuccessCriteria: "y", Products: "z", Notes: strings.Repeat("n", csbot.HandoffNotesLimit+1)}, csbot.HandoffNotes},
		"negative seats": {csbot.Handoff{Goals: "x", SuccessCriteria: "y", Products: "z", Seats: -1}, csbot.HandoffSeats},
		"go-live first":  {csbot.Handoff{Goals: "x", SuccessCriteria: "y", Products: "z", ContractStart: day(10), GoLive: day(1)}, csbot.HandoffGoLive},
		"unknown tier":   {csbot.Handoff{Goals: "x", SuccessCriteria: "y", Products: "z", Tier: "gold"}, csbot.HandoffTier},
	} {
		p := tt.h.Problems()
		if p[tt.field] == "" || len(p) != 1 {
			t.Errorf("%s: problems %v, want one on %s", name, p, tt.field)
		}
	}
	// Exactly at the limit is fine.
	atLimit := ok
	atLimit.Risks = strings.Repeat("é", csbot.HandoffTextLimit)
	if p := atLimit.Problems(); p != nil {
		t.Errorf("risks at the limit: %v", p)
	}
}

func TestHandoffMissing(t *testing.T) {
	h := csbot.Handoff{Stakeholders: []csbot.Stakeholder{{Role: csbot.RoleChampion, Name: "Bea"}}}
	got := strings.Join(h.Missing(), "; ")
	want := "no exec sponsor named; no renewal or billing contact; no commitments written down; no go-live date; no seat count; no onboarding owner"
	if got != want {
		t.Errorf("Missing() = %q, want %q", got, want)
	}
	full := csbot.Handoff{Commitments: "SSO by March", GoLive: time.Now(), Seats: 10, Owner: "U1",
		Stakeholders: []csbot.Stakeholder{{Role: csbot.RoleChampion, Name: "A"}, {Role: csbot.RoleExecSponsor, Name: "B"}, {Role: csbot.RoleBilling, Name: "C"}}}
	if m := full.Missing(); m != nil {
		t.Errorf("a full handoff misses %v", m)
	}
}

func TestNeutraliseMentions(t *testing.T) {
	for in, want := range map[string]string{
		"ping <!channel> now":          "ping ‹!channel› now",
		"<!here|here> and <!everyone>": "‹!here|here› and ‹!everyone›",
		"cc <@U123ABC>":                "cc ‹@U123ABC›",
		"<!subteam^S1|@team>":          "‹!subteam^S1|@team›",
		"@here please, @Channel too":   "@\u2060here please, @\u2060Channel too",
		"mail ana@example.com":         "mail ana@example.com",
		"see <#C123|acme>":             "see <#C123|acme>",
		"plain text":                   "plain text",
	} {
		if got := csbot.NeutraliseMentions(in); got != want {
			t.Errorf("NeutraliseMentions(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNeutraliseMentions(f *testing.F) {
	live := regexp.MustCompile(`<[!@][^<>]*>|@(?i:channel|here|everyone)\b`)
	f.Add("<!channel> @here <@U1>")
	f.Fuzz(func(t *testing.T, s string) {
		out := csbot.NeutraliseMentions(s)
		if live.MatchString(out) {
			t.Fatalf("NeutraliseMentions(%q) = %q still holds a mention", s, out)
		}
		if again := csbot.NeutraliseMentions(out); again != out {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
	})
}
