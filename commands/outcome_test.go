package commands_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
	"github.com/slack-go/slack"
)

// outcomeValues are the outcome modal's inputs as Slack sends them on
// submission.
func outcomeValues(status, arr, reason string) map[string]map[string]slack.BlockAction {
	return map[string]map[string]slack.BlockAction{
		"outcome": {"outcome": {ActionID: "outcome", SelectedOption: slack.OptionBlockObject{Value: status}}},
		"arr":     {"arr": {ActionID: "arr", Value: arr}},
		"reason":  {"reason": {ActionID: "reason", Value: reason}},
	}
}

// outcomeRequest is a submission of the outcome modal of renewal id by
// slackID.
func (e *healthEnv) outcomeRequest(ctx context.Context, t *testing.T, slackID string, id int64, status, arr, reason string) bot.ViewRequest {
	t.Helper()
	return bot.ViewRequest{Request: e.request(ctx, t, slackID, ""), View: slack.View{CallbackID: commands.OutcomeCallbackForTest,
		PrivateMetadata: strconv.FormatInt(id, 10), State: &slack.ViewState{Values: outcomeValues(status, arr, reason)}}}
}

// renewal returns the renewal with the CRM id extID of the account with
// the CRM id account.
func (e *healthEnv) renewal(ctx context.Context, t *testing.T, account, extID string) csbot.Renewal {
	t.Helper()
	hist, err := e.store.RenewalHistory(ctx, e.accountID(ctx, t, account))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range hist {
		if r.ExternalID == extID {
			return r
		}
	}
	t.Fatalf("account %s has no renewal %s", account, extID)
	return csbot.Renewal{}
}

// clickOutcome presses a reminder's "Record the outcome" of renewal id
// as slackID.
func (e *healthEnv) clickOutcome(ctx context.Context, t *testing.T, slackID string, id int64) bot.Reply {
	t.Helper()
	return e.click(ctx, t, slackID, "C0ACME1", "reminder_actions", commands.ActionOutcomeForTest, strconv.FormatInt(id, 10))
}

func TestOutcomeWhoMay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := e.renewal(ctx, t, "ACME-001", "R-ACME")
	for _, tt := range []struct {
		who string
		may bool
	}{
		{"U0CSM1", true},    // the CSM
		{"U0SALES", true},   // the account executive
		{"U0BOSS1", true},   // the CSM's manager
		{"U0ADMIN", true},   // an admin
		{"U0CSM2", false},   // another CSM
		{"U0NOBODY", false}, // a member csbot doesn't know
	} {
		rep := e.clickOutcome(ctx, t, tt.who, acme.ID)
		switch {
		case tt.may && rep.OpenView == nil:
			t.Errorf("%s clicked Record the outcome: %q, want the modal", tt.who, rep.Text)
		case tt.may:
			m := rep.OpenView
			if err := bot.CheckView(*m); err != nil {
				t.Errorf("outcome modal over Slack's limits: %v", err)
			}
			if m.PrivateMetadata != strconv.FormatInt(acme.ID, 10) || m.CallbackID != commands.OutcomeCallbackForTest {
				t.Errorf("modal metadata %q callback %q, want the renewal id %d and %q", m.PrivateMetadata, m.CallbackID,
					acme.ID, commands.OutcomeCallbackForTest)
			}
			intro := bot.PlainText(m.Blocks.BlockSet[:1])
			for _, want := range []string{"Acme Corp", "Mar 23, 2027", "$120,000"} {
				if !strings.Contains(intro, want) {
					t.Errorf("modal intro %q lacks %q", intro, want)
				}
			}
			radio, ok := modalInput(t, m, "outcome").Element.(*slack.RadioButtonsBlockElement)
			var got []string
			for _, o := range radio.Options {
				got = append(got, o.Value)
			}
			if !ok || !slices.Equal(got, []string{"renewed", "expanded", "downsell", "churned"}) || radio.InitialOption != nil {
				t.Errorf("outcome choices %v, want renewed, expanded, downsell, churned, none chosen", got)
			}
			if !modalInput(t, m, "arr").Optional || !modalInput(t, m, "reason").Optional {
				t.Error("new ARR and reason must be optional in the modal (the reason is checked on submission)")
			}
		case rep.OpenView != nil || !strings.Contains(rep.Text, "Only the account's CSM, its account executive") ||
			rep.Visibility != bot.Ephemeral || !rep.Public:
			t.Errorf("%s clicked Record the outcome: %+v, want a public ephemeral refusal", tt.who, rep)
		}
	}
	// The AE of Acme is not Globex's.
	glx := e.renewal(ctx, t, "GLX-042", "R-GLX")
	if rep := e.clickOutcome(ctx, t, "U0SALES", glx.ID); rep.OpenView != nil {
		t.Error("Acme's AE may record Globex's renewal, want only Globex's people")
	}
	for _, bad := range []string{"", "x", "-3"} {
		if rep := e.click(ctx, t, "U0CSM1", "C0ACME1", "reminder_actions", commands.ActionOutcomeForTest, bad); rep.OpenView != nil ||
			!strings.Contains(rep.Text, "no longer works") {
			t.Errorf("button with value %q: %+v, want it called stale", bad, rep)
		}
	}
	if rep := e.clickOutcome(ctx, t, "U0CSM1", 999999); rep.OpenView != nil || !strings.Contains(rep.Text, "no longer in csbot") {
		t.Errorf("button of a deleted renewal: %+v, want it said gone", rep)
	}
}

func TestOutcomeClosedRenewalSaysSo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := e.renewal(ctx, t, "ACME-001", "R-ACME")
	if _, err := e.store.RecordRenewalOutcome(ctx, acme.ID, csbot.RenewalChurned, nil, "Went with <a competitor>", "U0CSM1", healthNow()); err != nil {
		t.Fatal(err)
	}
	rep := e.clickOutcome(ctx, t, "U0CSM2", acme.ID)
	if rep.OpenView != nil || rep.Visibility != bot.Ephemeral ||
		!strings.HasPrefix(rep.Text, "This renewal of *Acme Corp* on Mar 23, 2027 was already recorded as churned by <@U0CSM1> on Nov 23, 2026 ($120,000 ARR).") ||
		!strings.Contains(rep.Text, "Went with &lt;a competitor&gt;") {
		t.Errorf("closed renewal's button: %+v, want what it was recorded as, by whom", rep)
	}

	// A renewal that came in closed with an import was recorded by nobody
	// in csbot.
	k, err := csbot.LookupImportKind("renewals")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Import(ctx, k, strings.NewReader("external_id,account_external_id,renewal_date,arr,status\nR-OLD,ACME-001,2026-03-23,100000,renewed\n")); err != nil {
		t.Fatal(err)
	}
	old := e.renewal(ctx, t, "ACME-001", "R-OLD")
	rep = e.clickOutcome(ctx, t, "U0CSM1", old.ID)
	if rep.OpenView != nil || rep.Text != "This renewal of *Acme Corp* on Mar 23, 2026 was already recorded as renewed ($100,000 ARR)." {
		t.Errorf("imported renewal's button: %+v, want its status", rep)
	}
}

func TestOutcomeValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := e.renewal(ctx, t, "ACME-001", "R-ACME") // $120,000 at stake
	validate := e.reg.views[commands.OutcomeCallbackForTest].Validate
	if validate == nil {
		t.Fatal("the outcome modal has no Validate")
	}
	for _, tt := range []struct {
		name                string
		who                 string
		status, arr, reason string
		want                []string // block_ids with errors
	}{
		{"renewed", "U0CSM1", "renewed", "", "", nil},
		{"renewed at a new ARR", "U0CSM1", "renewed", "125000", "", nil},
		{"renewed by the AE", "U0SALES", "renewed", "", "", nil},
		{"expanded", "U0BOSS1", "expanded", "150000.50", "Added the EU team", nil},
		{"expanded without a new ARR", "U0CSM1", "expanded", "", "", nil},
		{"expanded to the same ARR", "U0CSM1", "expanded", "120000", "", []string{"arr"}},
		{"expanded to less", "U0CSM1", "expanded", "100,000", "", []string{"arr"}},
		{"downsell", "U0CSM1", "downsell", "90000", "Budget cut after the merger", nil},
		{"downsell with a higher ARR", "U0CSM1", "downsell", "130000", "Budget cut", []string{"arr"}},
		{"downsell to nothing", "U0CSM1", "downsell", "0", "Budget cut", []string{"arr"}},
		{"downsell without a reason", "U0CSM1", "downsell", "90000", "  ", []string{"reason"}},
		{"churned", "U0CSM1", "churned", "", "Went with a competitor; a discount would have kept them", nil},
		{"churn without a reason", "U0CSM1", "churned", "", "", []string{"reason"}},
		{"churn with a new ARR", "U0CSM1", "churned", "50000", "Gone", []string{"arr"}},
		{"no outcome", "U0CSM1", "", "", "", []string{"outcome"}},
		{"open is no outcome", "U0CSM1", "open", "", "", []string{"outcome"}},
		{"negative ARR", "U0CSM1", "renewed", "-5", "", []string{"arr"}},
		{"ARR not a number", "U0CSM1", "renewed", "12abc", "", []string{"arr"}},
		{"reason too long", "U0CSM1", "renewed", "", strings.Repeat("é", 501), []string{"reason"}},
		{"another CSM", "U0CSM2", "renewed", "", "", []string{"outcome"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs, err := validate(ctx, e.outcomeRequest(ctx, t, tt.who, acme.ID, tt.status, tt.arr, tt.reason))
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			wantErrorBlocks(t, errs, tt.want)
		})
	}
	errs, err := validate(ctx, e.outcomeRequest(ctx, t, "U0CSM1", acme.ID, "churned", "", ""))
	if err != nil || !strings.Contains(errs["reason"], "What would have kept them?") {
		t.Errorf("churn without a reason: %v, %v; want the reason asked for", errs, err)
	}
	if _, err := validate(ctx, bot.ViewRequest{Request: e.request(ctx, t, "U0CSM1", ""), View: slack.View{PrivateMetadata: "R-ACME"}}); err == nil {
		t.Error("Validate with metadata csbot never wrote succeeded, want an error")
	}
}

func TestOutcomeSubmitRecordsIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := e.renewal(ctx, t, "ACME-001", "R-ACME")
	h := e.reg.views[commands.OutcomeCallbackForTest]

	req := e.outcomeRequest(ctx, t, "U0SALES", acme.ID, "downsell", "90000", " Budget cut after the merger <!channel> ")
	if errs, err := h.Validate(ctx, req); err != nil || errs != nil {
		t.Fatalf("Validate = %v, %v; want it accepted", errs, err)
	}
	rep, err := h.Submit(ctx, req)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if rep.Text != "Recorded the renewal of *Acme Corp* on Mar 23, 2027 as a downsell: ARR $120,000 → $90,000. Why: “Budget cut after the merger &lt;!channel&gt;”" ||
		rep.Visibility != bot.Ephemeral || rep.Public {
		t.Errorf("Submit replied %+v, want an ephemeral confirmation", rep)
	}
	got, err := e.store.RenewalByID(ctx, acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != csbot.RenewalDownsell || got.ARR != 9_000_000 || got.OutcomeReason != "Budget cut after the merger <!channel>" {
		t.Errorf("renewal after Submit = %+v, want a downsell to $90,000 with the reason", got)
	}
	if by, at, err := e.store.OutcomeRecordedBy(ctx, acme.ID); by != "U0SALES" || !at.Equal(healthNow()) || err != nil {
		t.Errorf("OutcomeRecordedBy = %q, %v, %v; want U0SALES at %v", by, at, err, healthNow())
	}
	if a, err := e.store.AccountByID(ctx, acme.AccountID); err != nil || a.Stage != csbot.StageExpanding {
		t.Errorf("account after a downsell = %+v, %v; want its stage unchanged", a, err)
	}

	// The form submitted again: the renewal is recorded already.
	errs, err := h.Validate(ctx, e.outcomeRequest(ctx, t, "U0CSM1", acme.ID, "renewed", "", ""))
	if err != nil || !strings.Contains(errs["outcome"], "recorded this renewal as a downsell") {
		t.Errorf("Validate of a recorded renewal = %v, %v; want it said recorded", errs, err)
	}
	rep, err = h.Submit(ctx, e.outcomeRequest(ctx, t, "U0CSM1", acme.ID, "renewed", "", ""))
	if err != nil || !strings.HasPrefix(rep.Text, "This renewal of *Acme Corp* on Mar 23, 2027 was already recorded as a downsell by <@U0SALES>") {
		t.Errorf("Submit of a recorded renewal = %q, %v; want it said recorded, by whom", rep.Text, err)
	}
	if got, _ := e.store.RenewalByID(ctx, acme.ID); got.Status != csbot.RenewalDownsell || got.ARR != 9_000_000 {
		t.Errorf("renewal after a second Submit = %+v, want the downsell kept", got)
	}
}

func TestOutcomeSubmitChurn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	glx := e.renewal(ctx, t, "GLX-042", "R-GLX")
	h := e.reg.views[commands.OutcomeCallbackForTest]
	req := e.outcomeRequest(ctx, t, "U0CSM2", glx.ID, "churned", "", "Support was too slow; a named support engineer would have kept them")
	if errs, err := h.Validate(ctx, req); err != nil || errs != nil {
		t.Fatalf("Validate = %v, %v; want it accepted", errs, err)
	}
	rep, err := h.Submit(ctx, req)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if !strings.HasPrefix(rep.Text, "Recorded the renewal of *Globex International* on Jan 7, 2027 as churned, $250,000 ARR lost. The account's stage is now churned.") {
		t.Errorf("Submit replied %q", rep.Text)
	}
	if a, err := e.store.AccountByID(ctx, glx.AccountID); err != nil || a.Stage != csbot.StageChurned {
		t.Errorf("account after the churn = %+v, %v; want stage churned", a, err)
	}
	if got, _ := e.store.RenewalByID(ctx, glx.ID); got.Status != csbot.RenewalChurned || got.ARR != glx.ARR {
		t.Errorf("renewal after the churn = %+v, want churned with its ARR at stake", got)
	}
	// Submit re-checks what Validate checked, for a form that skipped it.
	acme := e.renewal(ctx, t, "ACME-001", "R-ACME")
	if rep, err := h.Submit(ctx, e.outcomeRequest(ctx, t, "U0CSM2", acme.ID, "renewed", "", "")); err != nil ||
		!strings.Contains(rep.Text, "Only the account's CSM") {
		t.Errorf("Submit by another CSM = %q, %v; want a refusal", rep.Text, err)
	}
	if rep, err := h.Submit(ctx, e.outcomeRequest(ctx, t, "U0CSM1", acme.ID, "expanded", "1000", "")); err != nil ||
		!strings.Contains(rep.Text, "incomplete") {
		t.Errorf("Submit of an expansion to less = %q, %v; want it refused", rep.Text, err)
	}
	if got, _ := e.store.RenewalByID(ctx, acme.ID); got.Status != csbot.RenewalOpen {
		t.Errorf("Acme's renewal after refused submissions = %+v, want it open", got)
	}
}

func FuzzOutcomeValues(f *testing.F) {
	f.Add("renewed", "120000", "")
	f.Add("churned", "", "")
	f.Add("downsell", "$90,000.5", "x")
	f.Add("expanded", "1e6", " ")
	f.Add("CHURNED", "-0", "é\x00")
	f.Add("open", "0,000", "\xff")
	f.Fuzz(func(t *testing.T, status, arr, reason string) {
		in, problems, err := commands.ParseOutcomeForTest("42", outcomeValues(status, arr, reason))
		if err != nil {
			t.Fatalf("parse with a good renewal id failed: %v", err)
		}
		for k, msg := range problems {
			if msg == "" || !slices.Contains([]string{"outcome", "arr", "reason"}, k) {
				t.Errorf("problem %q: %q", k, msg)
			}
		}
		if problems != nil {
			return
		}
		ok := slices.Contains([]csbot.RenewalStatus{csbot.RenewalRenewed, csbot.RenewalExpanded, csbot.RenewalDownsell, csbot.RenewalChurned}, in.Status)
		if in.RenewalID != 42 || !ok {
			t.Errorf("accepted %+v", in)
		}
		if in.ARR != nil && (*in.ARR < 0 || in.Status == csbot.RenewalChurned) {
			t.Errorf("accepted the ARR %v from %q for %s", *in.ARR, arr, in.Status)
		}
		needsReason := in.Status == csbot.RenewalChurned || in.Status == csbot.RenewalDownsell
		if (needsReason && in.Reason == "") || !utf8.ValidString(in.Reason) || utf8.RuneCountInString(in.Reason) > 500 ||
			strings.ContainsRune(in.Reason, 0) || in.Reason != strings.TrimSpace(in.Reason) {
			t.Errorf("accepted the reason %q for %s", in.Reason, in.Status)
		}
	})
}
