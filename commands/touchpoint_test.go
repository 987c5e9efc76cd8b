package commands_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
	"github.com/slack-go/slack"
)

// touchpointButton is the action_id of the alerts' "Log a touchpoint".
const touchpointButton = "pick:touchpoint:alert"

// touchpointValues are the touchpoint modal's inputs as Slack sends them
// on submission.
func touchpointValues(kind, date, summary string) map[string]map[string]slack.BlockAction {
	return map[string]map[string]slack.BlockAction{
		"kind":    {"kind": {ActionID: "kind", SelectedOption: slack.OptionBlockObject{Value: kind}}},
		"when":    {"when": {ActionID: "when", SelectedDate: date}},
		"summary": {"summary": {ActionID: "summary", Value: summary}},
	}
}

// touchpointRequest is a submission of the touchpoint modal of account
// id by actor.
func (e *healthEnv) touchpointRequest(actor bot.Actor, id int64, kind, date, summary string) bot.ViewRequest {
	return bot.ViewRequest{
		Request: bot.Request{Actor: actor, UserID: actor.SlackID, TeamID: "T0TEST"},
		View: slack.View{CallbackID: commands.TouchpointCallbackForTest, PrivateMetadata: strconv.FormatInt(id, 10),
			State: &slack.ViewState{Values: touchpointValues(kind, date, summary)}},
	}
}

// kiritimati is actor in the earliest time zone, where healthNow (10:00
// UTC) is already the next day.
func kiritimati(actor bot.Actor) bot.Actor {
	actor.TZ = "Pacific/Kiritimati"
	return actor
}

// modalInput returns the input block of m with blockID, failing the test
// when there is none.
func modalInput(t *testing.T, m *slack.ModalViewRequest, blockID string) *slack.InputBlock {
	t.Helper()
	for _, b := range m.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok && in.BlockID == blockID {
			return in
		}
	}
	t.Fatalf("modal %s has no input %q", m.CallbackID, blockID)
	return nil
}

func TestTouchpointModalOpensForAKnownMember(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := strconv.FormatInt(e.accountID(ctx, t, "ACME-001"), 10)

	// Any member csbot knows may log one, not only the account's CSM.
	for _, who := range []string{"U0CSM1", "U0CSM2", "U0SALES"} {
		rep := e.click(ctx, t, who, "C0ACME1", "alert_actions", touchpointButton, acme)
		if rep.OpenView == nil {
			t.Fatalf("%s clicked Log a touchpoint: %q, want the modal", who, rep.Text)
		}
		m := rep.OpenView
		if err := bot.CheckView(*m); err != nil {
			t.Errorf("touchpoint modal over Slack's limits: %v", err)
		}
		if m.CallbackID != commands.TouchpointCallbackForTest || m.PrivateMetadata != acme {
			t.Errorf("modal callback %q metadata %q, want %q and the account id %s", m.CallbackID, m.PrivateMetadata,
				commands.TouchpointCallbackForTest, acme)
		}
		if intro := bot.PlainText(m.Blocks.BlockSet); !strings.Contains(intro, "Acme Corp") {
			t.Errorf("modal does not name the account:\n%s", intro)
		}
		sel, ok := modalInput(t, m, "kind").Element.(*slack.SelectBlockElement)
		if !ok || sel.InitialOption == nil || sel.InitialOption.Value != "call" {
			t.Fatalf("kind input %+v, want a select preset to call", modalInput(t, m, "kind").Element)
		}
		var kinds []string
		for _, o := range sel.Options {
			kinds = append(kinds, o.Value+"="+o.Text.Text)
		}
		if want := []string{"meeting=Meeting", "call=Call", "email=Email", "ebr=Executive business review",
			"onsite=On-site visit", "note=Note"}; !slices.Equal(kinds, want) {
			t.Errorf("kinds %v, want %v", kinds, want)
		}
		date, ok := modalInput(t, m, "when").Element.(*slack.DatePickerBlockElement)
		// U0CSM1 is in New York, U0CSM2 and U0SALES in the configured UTC:
		// 10:00 UTC is the same day for all three.
		if !ok || date.InitialDate != "2026-11-23" {
			t.Errorf("%s: date input %+v, want a datepicker preset to 2026-11-23", who, modalInput(t, m, "when").Element)
		}
		summary, ok := modalInput(t, m, "summary").Element.(*slack.PlainTextInputBlockElement)
		if !ok || !summary.Multiline || summary.MaxLength != 1000 || modalInput(t, m, "summary").Optional {
			t.Errorf("summary input %+v, want a required multiline text of at most 1000 characters", modalInput(t, m, "summary"))
		}
	}

	// Where it is already tomorrow, the date is tomorrow.
	req := bot.ActionRequest{Request: bot.Request{Actor: kiritimati(e.actor(ctx, t, "U0CSM1")), UserID: "U0CSM1", ChannelID: "C0ACME1"},
		Action: slack.BlockAction{ActionID: touchpointButton, BlockID: "alert_actions", Value: acme}}
	rep, err := e.reg.action(t, touchpointButton)(ctx, req)
	if err != nil || rep.OpenView == nil {
		t.Fatalf("click in Kiritimati = %+v, %v; want the modal", rep, err)
	}
	if date := modalInput(t, rep.OpenView, "when").Element.(*slack.DatePickerBlockElement); date.InitialDate != "2026-11-24" {
		t.Errorf("date preset in Kiritimati = %s, want 2026-11-24", date.InitialDate)
	}
}

func TestTouchpointRefusedForAnUnknownMember(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := strconv.FormatInt(e.accountID(ctx, t, "ACME-001"), 10)
	rep := e.click(ctx, t, "U0NOBODY", "C0ACME1", "alert_actions", touchpointButton, acme)
	if rep.OpenView != nil || !strings.Contains(rep.Text, "Only members of the customer success team") ||
		rep.Visibility != bot.Ephemeral || !rep.Public {
		t.Errorf("unknown member clicked Log a touchpoint: %+v, want a public ephemeral refusal", rep)
	}
	if rep := e.click(ctx, t, "U0CSM1", "C0ACME1", "alert_actions", touchpointButton, "999999"); rep.OpenView != nil ||
		!strings.Contains(rep.Text, "no longer in csbot") {
		t.Errorf("Log a touchpoint on a deleted account: %+v, want it said the account is gone", rep)
	}
}

func TestTouchpointValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := e.accountID(ctx, t, "ACME-001")
	validate := e.reg.views[commands.TouchpointCallbackForTest].Validate
	if validate == nil {
		t.Fatal("the touchpoint modal has no Validate")
	}
	csm, stranger := e.actor(ctx, t, "U0CSM1"), e.actor(ctx, t, "U0NOBODY")
	day := func(n int) string { return healthDays(n).Format("2006-01-02") }
	for _, tt := range []struct {
		name                string
		actor               bot.Actor
		id                  int64
		kind, date, summary string
		want                []string // block_ids with errors
	}{
		{"a call today", csm, acme, "call", day(0), "Renewal quote walked through", nil},
		{"an EBR a year back", csm, acme, "ebr", healthToday().AddDate(-1, 0, 0).Format("2006-01-02"), "FY review", nil},
		{"1000 characters", csm, acme, "note", day(-3), strings.Repeat("é", 1000), nil},
		{"tomorrow", csm, acme, "call", day(1), "Planned call", []string{"when"}},
		{"tomorrow where it is already tomorrow", kiritimati(csm), acme, "call", day(1), "Call", nil},
		{"more than a year back", csm, acme, "meeting", healthToday().AddDate(-1, 0, -1).Format("2006-01-02"), "Old", []string{"when"}},
		{"no date", csm, acme, "meeting", "", "x", []string{"when"}},
		{"a date Slack never sends", csm, acme, "meeting", "23/11/2026", "x", []string{"when"}},
		{"blank summary", csm, acme, "call", day(0), " \n\t ", []string{"summary"}},
		{"summary too long", csm, acme, "call", day(0), strings.Repeat("é", 1001), []string{"summary"}},
		{"unknown kind", csm, acme, "lunch", day(0), "x", []string{"kind"}},
		{"no kind", csm, acme, "", day(0), "x", []string{"kind"}},
		{"everything wrong", csm, acme, "", day(2), "", []string{"kind", "summary", "when"}},
		{"unknown member", stranger, acme, "call", day(0), "x", []string{"summary"}},
		{"account gone", csm, 999999, "call", day(0), "x", []string{"summary"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs, err := validate(ctx, e.touchpointRequest(tt.actor, tt.id, tt.kind, tt.date, tt.summary))
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			wantErrorBlocks(t, errs, tt.want)
		})
	}
	if _, err := validate(ctx, bot.ViewRequest{Request: bot.Request{Actor: csm}, View: slack.View{PrivateMetadata: "acme"}}); err == nil {
		t.Error("Validate with metadata csbot never wrote succeeded, want an error")
	}
}

func TestTouchpointSubmitLogsIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := e.accountID(ctx, t, "ACME-001")
	h := e.reg.views[commands.TouchpointCallbackForTest]
	mulder := e.actor(ctx, t, "U0CSM2")

	req := e.touchpointRequest(mulder, acme, "call", "2026-11-22", "  CFO wants a multi-year option <!here>  ")
	if errs, err := h.Validate(ctx, req); err != nil || errs != nil {
		t.Fatalf("Validate = %v, %v; want it accepted", errs, err)
	}
	rep, err := h.Submit(ctx, req)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if rep.Text != "Logged a call with *Acme Corp* on Nov 22, 2026. It counts for engagement from the next score." ||
		rep.Visibility != bot.Ephemeral {
		t.Errorf("Submit replied %+v, want an ephemeral confirmation", rep)
	}
	d, err := e.store.AccountDetail(ctx, acme, healthNow())
	if err != nil {
		t.Fatal(err)
	}
	// The chosen day at the time of day of the submission (10:00 UTC).
	want := csbot.Touchpoint{ID: d.LastTouch.ID, AccountID: acme, At: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Kind: csbot.TouchCall, Summary: "CFO wants a multi-year option <!here>", UserID: "U0CSM2"}
	if got := d.LastTouch; got.ID == 0 || !got.At.Equal(want.At) || got.Kind != want.Kind || got.Summary != want.Summary ||
		got.UserID != want.UserID || got.AccountID != acme {
		t.Errorf("last touch after Submit = %+v, want %+v", got, want)
	}

	// The same submission again collides with the first.
	rep, err = h.Submit(ctx, req)
	if err != nil {
		t.Fatalf("second Submit: %v", err)
	}
	if !strings.Contains(rep.Text, "already has a call with *Acme Corp* logged") || rep.Visibility != bot.Ephemeral {
		t.Errorf("second Submit replied %q, want it said the call is logged already", rep.Text)
	}

	// Where it is already tomorrow, today's touch is dated now, not in
	// the future, so that it counts at once.
	req = e.touchpointRequest(kiritimati(e.actor(ctx, t, "U0CSM1")), acme, "ebr", "2026-11-24", "Executive review with the CFO")
	if errs, err := h.Validate(ctx, req); err != nil || errs != nil {
		t.Fatalf("Validate in Kiritimati = %v, %v; want it accepted", errs, err)
	}
	if rep, err := h.Submit(ctx, req); err != nil || !strings.HasPrefix(rep.Text, "Logged an EBR with *Acme Corp* on Nov 24, 2026.") {
		t.Fatalf("Submit in Kiritimati = %q, %v", rep.Text, err)
	}
	d, err = e.store.AccountDetail(ctx, acme, healthNow())
	if err != nil {
		t.Fatal(err)
	}
	if !d.LastTouch.At.Equal(healthNow()) || d.LastTouch.Kind != csbot.TouchEBR || !d.Facts.LastEBRAt.Equal(healthNow()) {
		t.Errorf("last touch %+v, last EBR %v; want the EBR at %v", d.LastTouch, d.Facts.LastEBRAt, healthNow())
	}
	if rep, err := h.Submit(ctx, e.touchpointRequest(e.actor(ctx, t, "U0NOBODY"), acme, "call", "2026-11-21", "x")); err != nil ||
		!strings.Contains(rep.Text, "Only members") {
		t.Errorf("Submit by an unknown member = %q, %v; want a refusal", rep.Text, err)
	}
}

func FuzzTouchpointValues(f *testing.F) {
	f.Add("call", "2026-11-23", "Quarterly check-in")
	f.Add("", "", "")
	f.Add("EBR", "2025-11-23", " ")
	f.Add("note", "2026-02-29", "x")
	f.Add("meeting", "2026-11-24", "é\x00")
	f.Add("onsite", "+2026-11-23", "\xff")
	today := healthToday()
	f.Fuzz(func(t *testing.T, kind, date, summary string) {
		in, problems, err := commands.ParseTouchpointForTest("42", touchpointValues(kind, date, summary), today)
		if err != nil {
			t.Fatalf("parse with a good account id failed: %v", err)
		}
		for k, msg := range problems {
			if msg == "" || !slices.Contains([]string{"kind", "when", "summary"}, k) {
				t.Errorf("problem %q: %q", k, msg)
			}
		}
		if problems != nil {
			return
		}
		if in.AccountID != 42 || !slices.Contains(csbot.TouchKinds(), in.Kind) {
			t.Errorf("accepted %+v", in)
		}
		if in.Date.After(today) || in.Date.Before(today.AddDate(-1, 0, 0)) || in.Date.Location() != time.UTC {
			t.Errorf("accepted the date %v from %q", in.Date, date)
		}
		if in.Summary == "" || in.Summary != strings.TrimSpace(in.Summary) || !utf8.ValidString(in.Summary) ||
			utf8.RuneCountInString(in.Summary) > 1000 || strings.ContainsRune(in.Summary, 0) {
			t.Errorf("accepted the summary %q", in.Summary)
		}
	})
}
