package commands_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

// handoffValues builds the handoff modal's state as Slack sends it on
// submission from block_id, value pairs: dates, selects, the owner and the
// "create" box each in the field Slack puts them in.
func handoffValues(kv ...string) map[string]map[string]slack.BlockAction {
	out := map[string]map[string]slack.BlockAction{}
	for i := 0; i+1 < len(kv); i += 2 {
		block, v := kv[i], kv[i+1]
		a := slack.BlockAction{ActionID: block}
		switch {
		case block == csbot.HandoffStart || block == csbot.HandoffGoLive:
			a.SelectedDate = v
		case block == csbot.HandoffTier || strings.HasPrefix(block, "stakeholder_") && !strings.HasSuffix(block, "_new"):
			a.SelectedOption = slack.OptionBlockObject{Value: v}
		case block == csbot.HandoffOwner:
			a.SelectedUser = v
		case block == "create_account":
			if v != "" {
				a.SelectedOptions = []slack.OptionBlockObject{{Value: v}}
			}
		default:
			a.Value = v
		}
		out[block] = map[string]slack.BlockAction{block: a}
	}
	return out
}

// handoffGoodValues are a complete handoff's values, with extra pairs
// replacing or adding to them.
func handoffGoodValues(extra ...string) map[string]map[string]slack.BlockAction {
	base := []string{
		csbot.HandoffGoals, "Cut store onboarding from 6 weeks to 2",
		csbot.HandoffCriteria, "40 stores live by March",
		csbot.HandoffProducts, "Platform Pro, Analytics",
		csbot.HandoffSeats, "250",
		csbot.HandoffStart, "2026-12-01",
		csbot.HandoffGoLive, "2027-02-15",
		csbot.HandoffCommitments, "SSO by launch",
		csbot.HandoffRisks, "IT is stretched until January",
		csbot.HandoffTier, "high",
		csbot.HandoffNotes, "Met them at the summit",
	}
	m := map[string]string{}
	var order []string
	for _, kv := range [][]string{base, extra} {
		for i := 0; i+1 < len(kv); i += 2 {
			if _, ok := m[kv[i]]; !ok {
				order = append(order, kv[i])
			}
			m[kv[i]] = kv[i+1]
		}
	}
	var pairs []string
	for _, k := range order {
		pairs = append(pairs, k, m[k])
	}
	return handoffValues(pairs...)
}

func TestParseHandoffForm(t *testing.T) {
	t.Parallel()
	meta := commands.EncodeHandoffMetaForTest(commands.HandoffMetaForTest{Account: 7})
	f, problems, err := commands.ParseHandoffFormForTest(meta, handoffGoodValues(
		csbot.HandoffOwner, "U0ONB1",
		"stakeholder_champion", "12",
		"stakeholder_champion_new", "Wile E. Coyote <wile@acme.com>, Head of Ops; Road Runner, rr@acme.com, CFO",
		"stakeholder_exec_sponsor_new", "Jane Exec",
	))
	if err != nil || problems != nil {
		t.Fatalf("parse = %v, %v; want it accepted", problems, err)
	}
	h := f.Handoff
	if f.Meta.Account != 7 || h.Seats != 250 || h.Tier != csbot.TierHigh || h.Owner != "U0ONB1" ||
		h.ContractStart.Format("2006-01-02") != "2026-12-01" || h.GoLive.Format("2006-01-02") != "2027-02-15" ||
		h.Goals != "Cut store onboarding from 6 weeks to 2" || h.Notes != "Met them at the summit" {
		t.Errorf("parsed %+v", f)
	}
	if f.Picked[csbot.RoleChampion] != 12 || len(f.Picked) != 1 {
		t.Errorf("picked %v, want champion 12", f.Picked)
	}
	want := []csbot.Stakeholder{
		{Role: csbot.RoleChampion, Name: "Wile E. Coyote", Email: "wile@acme.com", Title: "Head of Ops"},
		{Role: csbot.RoleChampion, Name: "Road Runner", Email: "rr@acme.com", Title: "CFO"},
		{Role: csbot.RoleExecSponsor, Name: "Jane Exec"},
	}
	if diff := cmp.Diff(want, f.New); diff != "" {
		t.Errorf("new stakeholders (-want +got):\n%s", diff)
	}
}

func TestParseHandoffFormProblems(t *testing.T) {
	t.Parallel()
	fixed := commands.EncodeHandoffMetaForTest(commands.HandoffMetaForTest{Account: 7})
	typed := commands.EncodeHandoffMetaForTest(commands.HandoffMetaForTest{})
	for _, tt := range []struct {
		name   string
		meta   string
		values map[string]map[string]slack.BlockAction
		want   []string
	}{
		{"missing goals", fixed, handoffGoodValues(csbot.HandoffGoals, "  \n "), []string{"goals"}},
		{"missing all three", fixed, handoffValues(), []string{"goals", "products", "success_criteria"}},
		{"go-live before start", fixed, handoffGoodValues(csbot.HandoffGoLive, "2026-11-30"), []string{"go_live"}},
		{"bad date", fixed, handoffGoodValues(csbot.HandoffStart, "31/12/2026"), []string{"contract_start"}},
		{"seats not a number", fixed, handoffGoodValues(csbot.HandoffSeats, "lots"), []string{"seats"}},
		{"seats negative", fixed, handoffGoodValues(csbot.HandoffSeats, "-3"), []string{"seats"}},
		{"seats too many", fixed, handoffGoodValues(csbot.HandoffSeats, "1000001"), []string{"seats"}},
		{"goals too long", fixed, handoffGoodValues(csbot.HandoffGoals, strings.Repeat("é", 2001)), []string{"goals"}},
		{"notes too long", fixed, handoffGoodValues(csbot.HandoffNotes, strings.Repeat("x", 3001)), []string{"notes"}},
		{"NUL in risks", fixed, handoffGoodValues(csbot.HandoffRisks, "a\x00b"), []string{"risks"}},
		{"odd tier", fixed, handoffGoodValues(csbot.HandoffTier, "gold"), []string{"tier"}},
		{"owner not a user", fixed, handoffGoodValues(csbot.HandoffOwner, "C0CHANNEL"), []string{"owner"}},
		{"stakeholder line without a name", fixed, handoffGoodValues("stakeholder_champion_new", "<wile@acme.com>"), []string{"stakeholder_champion_new"}},
		{"stakeholder line with a bad email", fixed, handoffGoodValues("stakeholder_billing_new", "Bill, bill@nowhere"), []string{"stakeholder_billing_new"}},
		{"stakeholder line unclosed", fixed, handoffGoodValues("stakeholder_renewal_new", "Rita <rita@acme.com"), []string{"stakeholder_renewal_new"}},
		{"picked contact not an id", fixed, handoffGoodValues("stakeholder_champion", "x"), []string{"stakeholder_champion"}},
		{"typed account missing", typed, handoffGoodValues(), []string{"account"}},
		{"typed account too long", typed, handoffGoodValues("account", strings.Repeat("a", 201)), []string{"account"}},
		{"create without a tier", typed, handoffGoodValues("account", "Initrode", "create_account", "create", csbot.HandoffTier, ""), []string{"tier"}},
		{"bad ARR", typed, handoffGoodValues("account", "Initrode", "create_account", "create", "arr", "1.234"), []string{"arr"}},
		{"typed account fine", typed, handoffGoodValues("account", "Initrode", "create_account", "create", "arr", "48000.5"), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, problems, err := commands.ParseHandoffFormForTest(tt.meta, tt.values)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var got []string
			for k, msg := range problems {
				if msg == "" {
					t.Errorf("empty message for %s", k)
				}
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems on %v (%v), want on %v", got, problems, tt.want)
			}
		})
	}
}

func TestParseHandoffFormTypedAccount(t *testing.T) {
	t.Parallel()
	f, problems, err := commands.ParseHandoffFormForTest(`{}`, handoffGoodValues("account", "  Initrode \n Global ",
		"create_account", "create", "arr", "48,000.50"))
	if err != nil || problems != nil {
		t.Fatalf("parse = %v, %v", problems, err)
	}
	if f.AccountText != "Initrode Global" || !f.Create || f.ARR != 4_800_050 {
		t.Errorf("account %q create %v ARR %d; want Initrode Global, true, 4800050", f.AccountText, f.Create, f.ARR)
	}
}

func TestParseHandoffMetaRefusesWhatCsbotDidNotWrite(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "42", "{", `{"account":-1}`, `{"channel":"not a channel"}`, `{"ts":"yesterday"}`, `{"amend":"x"}`} {
		if m, err := commands.ParseHandoffMetaForTest(s); err == nil {
			t.Errorf("ParseHandoffMeta(%q) = %+v, want an error", s, m)
		}
		if _, _, err := commands.ParseHandoffFormForTest(s, handoffGoodValues()); err == nil {
			t.Errorf("ParseHandoffForm with metadata %q accepted", s)
		}
	}
	in := commands.HandoffMetaForTest{Account: 3, Channel: "C0ACME1", TS: "1700000000.000100", Amend: 9}
	out, err := commands.ParseHandoffMetaForTest(commands.EncodeHandoffMetaForTest(in))
	if err != nil || out != in {
		t.Errorf("metadata round trip = %+v, %v; want %+v", out, err, in)
	}
}

func TestParseStakeholders(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text    string
		want    []csbot.Stakeholder
		problem bool
	}{
		{"", nil, false},
		{" ; \n ", nil, false},
		{"Wile E. Coyote", []csbot.Stakeholder{{Name: "Wile E. Coyote"}}, false},
		{"Wile <wile@acme.com>", []csbot.Stakeholder{{Name: "Wile", Email: "wile@acme.com"}}, false},
		{"Wile <mailto:wile@acme.com>, VP Ops", []csbot.Stakeholder{{Name: "Wile", Email: "wile@acme.com", Title: "VP Ops"}}, false},
		{"Wile, wile@acme.com, VP, Operations", []csbot.Stakeholder{{Name: "Wile", Email: "wile@acme.com", Title: "VP, Operations"}}, false},
		{"Wile, VP Ops", []csbot.Stakeholder{{Name: "Wile", Title: "VP Ops"}}, false},
		{"Doe, Jane <jane@acme.com>", []csbot.Stakeholder{{Name: "Doe, Jane", Email: "jane@acme.com"}}, false},
		{"A; B\nC", []csbot.Stakeholder{{Name: "A"}, {Name: "B"}, {Name: "C"}}, false},
		{"wile@acme.com", nil, true},
		{"<wile@acme.com>", nil, true},
		{"Wile <>", nil, true},
		{"Wile <wile@acme.com", nil, true},
		{"Wile <wile@acme.com> VP", nil, true},
		{"Wile, wile@acme", nil, true},
		{"Wile, wile@@acme.com", nil, true},
		{strings.Repeat("n", 201), nil, true},
		{"Wile, " + strings.Repeat("t", 201), nil, true},
		{"A;B;C;D;E;F", nil, true},
		{"Bad\xffText", nil, true},
	} {
		got, problem := commands.ParseStakeholdersForTest(csbot.RoleChampion, tt.text)
		if (problem != "") != tt.problem {
			t.Errorf("parse %q: problem %q, want a problem: %v", tt.text, problem, tt.problem)
			continue
		}
		for i := range tt.want {
			tt.want[i].Role = csbot.RoleChampion
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parse %q (-want +got):\n%s", tt.text, diff)
		}
	}
}

func TestParseDollars(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want csbot.Cents
		ok   bool
	}{
		{"48000", 4_800_000, true},
		{"48000.5", 4_800_050, true},
		{"$48,000.05", 4_800_005, true},
		{"0", 0, true},
		{".5", 50, true},
		{"10000000000", 1_000_000_000_000, true},
		{"10000000000.01", 0, false},
		{"99999999999999999999", 0, false},
		{"1.234", 0, false},
		{"-5", 0, false},
		{"1e5", 0, false},
		{"", 0, false},
		{".", 0, false},
		{"5.", 0, false},
		{"٣", 0, false},
	} {
		got, ok := commands.ParseDollarsForTest(tt.in)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("parseDollars(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAccountCandidates(t *testing.T) {
	t.Parallel()
	got := commands.AccountCandidatesForTest(`Closed-won: *Globex International* signed today! Contact jo@initech.eu, "Umbrella Corporation" next`)
	for _, want := range []string{"jo@initech.eu", "Umbrella Corporation", "Globex International", "Globex"} {
		if !slices.Contains(got, want) {
			t.Errorf("candidates %q lack %q", got, want)
		}
	}
	if i, j := slices.Index(got, "jo@initech.eu"), slices.Index(got, "Globex"); i > j {
		t.Errorf("candidates %q: domains should come before single words", got)
	}
	if len(got) > 10 {
		t.Errorf("%d candidates, want at most 10", len(got))
	}
}

// handoffTextInputs walks a view's plain_text_inputs: block_id and
// max_length.
func handoffTextInputs(t *testing.T, v slack.ModalViewRequest) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, b := range v.Blocks.BlockSet {
		in, ok := b.(*slack.InputBlock)
		if !ok {
			continue
		}
		if el, ok := in.Element.(*slack.PlainTextInputBlockElement); ok {
			out[in.BlockID] = el.MaxLength
		}
	}
	return out
}

func TestHandoffModalLimits(t *testing.T) {
	t.Parallel()
	a := csbot.Account{ID: 5, Name: strings.Repeat("Very Long Name ", 30), Tier: csbot.TierLow}
	var contacts []csbot.Contact
	for i := range 150 {
		for _, r := range []csbot.ContactRole{csbot.RoleChampion, csbot.RoleExecSponsor, csbot.RoleRenewal, csbot.RoleBilling} {
			contacts = append(contacts, csbot.Contact{ID: int64(len(contacts) + 1), Name: fmt.Sprintf("%s person %d %s", r, i, strings.Repeat("x", 80)),
				Title: "Title", Role: r, Active: true})
		}
	}
	h := csbot.Handoff{Goals: strings.Repeat("g", 2000), Notes: strings.Repeat("n", 3000), Owner: "U0ONB1", Seats: 3,
		Stakeholders: []csbot.Stakeholder{{ContactID: 1, Role: csbot.RoleChampion, Name: "x"}, {Role: csbot.RoleChampion, Name: "Typed One", Email: "t@x.io"}}}
	for name, v := range map[string]slack.ModalViewRequest{
		"fixed account": commands.HandoffModalForTest(&a, contacts, h),
		"typed account": commands.HandoffModalForTest(nil, nil, csbot.Handoff{}),
	} {
		if err := bot.CheckView(v); err != nil {
			t.Errorf("%s: modal over Slack's limits: %v", name, err)
		}
		if n := len(v.Blocks.BlockSet); n > bot.MaxViewBlocks || n < 15 {
			t.Errorf("%s: %d blocks", name, n)
		}
		inputs := handoffTextInputs(t, v)
		for id, max := range inputs {
			if max <= 0 {
				t.Errorf("%s: input %s has no max_length", name, id)
			}
		}
		for id, want := range map[string]int{"goals": 2000, "success_criteria": 2000, "products": 2000, "commitments": 2000,
			"risks": 2000, "notes": 3000, "stakeholder_champion_new": 600} {
			if inputs[id] != want {
				t.Errorf("%s: %s max_length %d, want %d", name, id, inputs[id], want)
			}
		}
		if v.CallbackID != commands.HandoffCallbackForTest {
			t.Errorf("%s: callback %q", name, v.CallbackID)
		}
	}
	fixed := commands.HandoffModalForTest(&a, contacts, h)
	if _, ok := handoffTextInputs(t, fixed)["account"]; ok {
		t.Error("a modal for a known account asks for the account")
	}
	if _, ok := handoffTextInputs(t, commands.HandoffModalForTest(nil, nil, csbot.Handoff{}))["account"]; !ok {
		t.Error("a modal without an account doesn't ask for it")
	}
	// The prefill: the picked contact, the typed one, the tier of the
	// account, the owner.
	raw, err := json.Marshal(fixed)
	if err != nil {
		t.Fatal(err)
	}
	js := string(raw)
	for _, want := range []string{`"initial_value":"Typed One \u003ct@x.io\u003e"`, `"initial_user":"U0ONB1"`, `"initial_value":"3"`,
		`"initial_option":{"text":{"type":"plain_text","text":"Low touch","emoji":false},"value":"low"}`} {
		if !strings.Contains(js, want) {
			t.Errorf("modal lacks %s", want)
		}
	}
}

func FuzzStakeholderLine(f *testing.F) {
	f.Add("Wile E. Coyote <wile@acme.com>, Head of Ops")
	f.Add("Road Runner, rr@acme.com, CFO")
	f.Add("Doe, Jane <jane@acme.com>; Bob\nAlice, VP, Sales")
	f.Add("<!here> <@U123>, @channel")
	f.Add("a <b> <c@d.e>")
	f.Add("x, mailto:y@z.io")
	f.Fuzz(func(t *testing.T, text string) {
		people, problem := commands.ParseStakeholdersForTest(csbot.RoleRenewal, text)
		if problem != "" {
			if people != nil {
				t.Errorf("parse %q: a problem and people %v", text, people)
			}
			return
		}
		if len(people) > 5 {
			t.Errorf("parse %q: %d people", text, len(people))
		}
		for _, s := range people {
			if s.Role != csbot.RoleRenewal || strings.TrimSpace(s.Name) == "" || strings.Contains(s.Name, "@") ||
				utf8.RuneCountInString(s.Name) > csbot.HandoffNameLimit || utf8.RuneCountInString(s.Title) > csbot.HandoffNameLimit ||
				!utf8.ValidString(s.Name+s.Title+s.Email) || strings.ContainsAny(s.Name+s.Title+s.Email, ";\n\x00") {
				t.Errorf("parse %q: accepted %+v", text, s)
			}
			// What the modal writes back reads as the same person.
			again, problem := commands.ParseStakeholdersForTest(csbot.RoleRenewal, commands.FormatStakeholderForTest(s))
			if problem != "" || len(again) != 1 || again[0] != s {
				t.Errorf("round trip of %+v: %+v, %q", s, again, problem)
			}
		}
	})
}

func FuzzHandoffValues(f *testing.F) {
	f.Add(`{"account":7}`, "goals", "criteria", "products", "250", "2026-12-01", "2027-01-01", "high", "U0ONB1", "12", "Jo <jo@x.io>", "", "", "")
	f.Add(`{}`, "g", "c", "p", "", "", "", "", "", "", "", "Initrode", "create", "48,000.5")
	f.Add(`{"amend":3}`, " ", "", "", "-1", "2026-13-01", "x", "gold", "C1", "0", "<>", "", "", "1e9")
	f.Fuzz(func(t *testing.T, meta, goals, criteria, products, seats, start, golive, tier, owner, pick, typed, account, create, arr string) {
		values := handoffValues(csbot.HandoffGoals, goals, csbot.HandoffCriteria, criteria, csbot.HandoffProducts, products,
			csbot.HandoffSeats, seats, csbot.HandoffStart, start, csbot.HandoffGoLive, golive, csbot.HandoffTier, tier,
			csbot.HandoffOwner, owner, "stakeholder_champion", pick, "stakeholder_champion_new", typed,
			"account", account, "create_account", create, "arr", arr)
		form, problems, err := commands.ParseHandoffFormForTest(meta, values)
		if err != nil {
			if _, merr := commands.ParseHandoffMetaForTest(meta); merr == nil {
				t.Fatalf("parse failed with good metadata %q: %v", meta, err)
			}
			return
		}
		known := []string{"goals", "success_criteria", "products", "seats", "contract_start", "go_live", "commitments", "risks",
			"tier", "owner", "notes", "account", "create_account", "arr", "stakeholder_champion", "stakeholder_champion_new",
			"stakeholder_exec_sponsor", "stakeholder_exec_sponsor_new", "stakeholder_renewal", "stakeholder_renewal_new",
			"stakeholder_billing", "stakeholder_billing_new"}
		for k, msg := range problems {
			if msg == "" || !slices.Contains(known, k) {
				t.Errorf("problem %q: %q", k, msg)
			}
		}
		if problems != nil {
			return
		}
		h := form.Handoff
		if p := h.Problems(); p != nil {
			t.Errorf("accepted a handoff with problems %v", p)
		}
		if h.Seats < 0 || h.Seats > csbot.HandoffMaxSeats || form.ARR < 0 || h.Owner != "" && !csbot.IsSlackUserID(h.Owner) {
			t.Errorf("accepted %+v", form)
		}
		if form.Meta.Account == 0 && form.Meta.Amend == 0 && (form.AccountText == "" || utf8.RuneCountInString(form.AccountText) > csbot.HandoffNameLimit) {
			t.Errorf("accepted account %q", form.AccountText)
		}
		for _, s := range append(h.Stakeholders, form.New...) {
			if strings.TrimSpace(s.Name) == "" {
				t.Errorf("accepted a nameless stakeholder %+v", s)
			}
		}
		for _, id := range form.Picked {
			if id <= 0 {
				t.Errorf("accepted contact id %d", id)
			}
		}
	})
}

func FuzzAccountCandidates(f *testing.F) {
	f.Add("Closed *Globex International* today! jo@initech.eu")
	f.Add(`“Acme” "Umbrella" <!here> <https://x.io|X>`)
	f.Fuzz(func(t *testing.T, text string) {
		got := commands.AccountCandidatesForTest(text)
		if len(got) > 10 {
			t.Errorf("%d candidates", len(got))
		}
		for _, c := range got {
			if strings.TrimSpace(c) == "" || utf8.RuneCountInString(c) > 500 {
				t.Errorf("candidate %q", c)
			}
		}
	})
}

func TestParseReassignAndQuestion(t *testing.T) {
	t.Parallel()
	id, owner, problems, err := commands.ParseReassignForTest("12", handoffValues(csbot.HandoffOwner, "U0ONB2"))
	if err != nil || problems != nil || id != 12 || owner != "U0ONB2" {
		t.Errorf("reassign = %d, %q, %v, %v", id, owner, problems, err)
	}
	if _, _, problems, err := commands.ParseReassignForTest("12", handoffValues(csbot.HandoffOwner, "")); err != nil || problems["owner"] == "" {
		t.Errorf("reassign to nobody: %v, %v", problems, err)
	}
	if _, _, _, err := commands.ParseReassignForTest("x", handoffValues(csbot.HandoffOwner, "U0ONB2")); err == nil {
		t.Error("reassign with bad metadata accepted")
	}
	h, ch, ts, q, problems, err := commands.ParseQuestionForTest(`{"handoff":3,"channel":"C0ONBRD","ts":"1700000000.000100"}`,
		handoffValues("question", "  When is kickoff?\n"))
	if err != nil || problems != nil || h != 3 || ch != "C0ONBRD" || ts != "1700000000.000100" || q != "When is kickoff?" {
		t.Errorf("question = %d %q %q %q %v %v", h, ch, ts, q, problems, err)
	}
	for _, meta := range []string{`{}`, `{"handoff":3,"channel":"#onboarding"}`, `{"handoff":3,"ts":"now"}`, `[`} {
		if _, _, _, _, _, err := commands.ParseQuestionForTest(meta, handoffValues("question", "q")); err == nil {
			t.Errorf("question with metadata %s accepted", meta)
		}
	}
	if _, _, _, _, problems, _ := commands.ParseQuestionForTest(`{"handoff":3}`, handoffValues("question", strings.Repeat("?", 2001))); problems["question"] == "" {
		t.Error("a question over 2000 characters accepted")
	}
}

func FuzzReassignValues(f *testing.F) {
	f.Add("12", "U0ONB2")
	f.Add("-1", "")
	f.Add("0x10", "W0ABC")
	f.Fuzz(func(t *testing.T, meta, user string) {
		id, owner, problems, err := commands.ParseReassignForTest(meta, handoffValues(csbot.HandoffOwner, user))
		switch {
		case err != nil:
			return
		case id <= 0:
			t.Errorf("accepted handoff id %d from %q", id, meta)
		case problems == nil && !csbot.IsSlackUserID(owner):
			t.Errorf("accepted owner %q", owner)
		case problems != nil && (problems["owner"] == "" || len(problems) != 1):
			t.Errorf("problems %v", problems)
		}
	})
}

func FuzzQuestionValues(f *testing.F) {
	f.Add(`{"handoff":3,"channel":"C0ONBRD","ts":"1700000000.000100"}`, "When is kickoff?")
	f.Add(`{"handoff":3}`, " \n")
	f.Add(`{"handoff":-3}`, "q")
	f.Fuzz(func(t *testing.T, meta, question string) {
		h, ch, ts, q, problems, err := commands.ParseQuestionForTest(meta, handoffValues("question", question))
		switch {
		case err != nil:
			return
		case h <= 0 || ch != "" && !csbot.IsSlackChannelID(ch) || strings.ContainsAny(ts, " /?#"):
			t.Errorf("accepted metadata %q: %d %q %q", meta, h, ch, ts)
		case problems == nil && (strings.TrimSpace(q) == "" || utf8.RuneCountInString(q) > 2000 || !utf8.ValidString(q) || strings.Contains(q, "\x00")):
			t.Errorf("accepted question %q", q)
		}
	})
}
