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

// healthOverrideValues are the override modal's inputs as Slack sends
// them on submission.
func healthOverrideValues(band, score, note, days string) map[string]map[string]slack.BlockAction {
	return map[string]map[string]slack.BlockAction{
		"band":    {"band": {ActionID: "band", SelectedOption: slack.OptionBlockObject{Value: band}}},
		"score":   {"score": {ActionID: "score", Value: score}},
		"note":    {"note": {ActionID: "note", Value: note}},
		"expires": {"expires": {ActionID: "expires", SelectedOption: slack.OptionBlockObject{Value: days}}},
	}
}

// overrideRequest is a submission of the override modal of account id by
// slackID.
func (e *healthEnv) overrideRequest(ctx context.Context, t *testing.T, slackID string, id int64, band, score, note, days string) bot.ViewRequest {
	t.Helper()
	req := e.request(ctx, t, slackID, "")
	return bot.ViewRequest{Request: req, View: slack.View{CallbackID: commands.OverrideCallbackTest,
		PrivateMetadata: strconv.FormatInt(id, 10), State: &slack.ViewState{Values: healthOverrideValues(band, score, note, days)}}}
}

func TestHealthOverrideWhoMay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := strconv.FormatInt(e.accountID(ctx, t, "ACME-001"), 10)
	for _, tt := range []struct {
		who string
		may bool
	}{
		{"U0CSM1", true},    // the CSM
		{"U0BOSS1", true},   // their manager
		{"U0ADMIN", true},   // an admin
		{"U0CSM2", false},   // another CSM
		{"U0SALES", false},  // the account's AE
		{"U0NOBODY", false}, // a member csbot doesn't know
	} {
		rep := e.click(ctx, t, tt.who, "C0ELSE1", "health_actions", commands.ActionOverrideForTest, acme)
		switch {
		case tt.may && rep.OpenView == nil:
			t.Errorf("%s clicked Override: %q, want the modal", tt.who, rep.Text)
		case tt.may:
			if err := bot.CheckView(*rep.OpenView); err != nil {
				t.Errorf("override modal over Slack's limits: %v", err)
			}
			if rep.OpenView.PrivateMetadata != acme || rep.OpenView.CallbackID != commands.OverrideCallbackTest {
				t.Errorf("modal metadata %q callback %q, want the account id and %q", rep.OpenView.PrivateMetadata,
					rep.OpenView.CallbackID, commands.OverrideCallbackTest)
			}
		case rep.OpenView != nil || !strings.Contains(rep.Text, "Only the account's CSM") || rep.Visibility != bot.Ephemeral:
			t.Errorf("%s clicked Override: %+v, want an ephemeral refusal", tt.who, rep)
		}
	}
	// Umbrella has no CSM: only an admin may override it.
	umb := strconv.FormatInt(e.accountID(ctx, t, "UMB-9"), 10)
	if rep := e.click(ctx, t, "U0BOSS1", "C0ELSE1", "health_actions", commands.ActionOverrideForTest, umb); rep.OpenView != nil {
		t.Error("a manager may override an account without a CSM, want only admins")
	}
	if rep := e.click(ctx, t, "U0ADMIN", "C0ELSE1", "health_actions", commands.ActionOverrideForTest, umb); rep.OpenView == nil {
		t.Errorf("an admin's override of Umbrella = %q, want the modal", rep.Text)
	}
}

func TestHealthOverrideValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := e.accountID(ctx, t, "ACME-001")
	validate := e.reg.views[commands.OverrideCallbackTest].Validate
	if validate == nil {
		t.Fatal("the override modal has no Validate")
	}
	for _, tt := range []struct {
		name                         string
		who, band, score, note, days string
		want                         []string // block_ids with errors
	}{
		{"band only", "U0CSM1", "yellow", "", "Renewal confirmed", "30", nil},
		{"score only", "U0CSM1", "", "65", "Renewal confirmed", "7", nil},
		{"both", "U0BOSS1", "green", "80", "Renewal confirmed", "90", nil},
		{"neither band nor score", "U0CSM1", "", "", "Renewal confirmed", "30", []string{"band"}},
		{"score not a number", "U0CSM1", "", "sixty", "Renewal confirmed", "30", []string{"score"}},
		{"score with decimals", "U0CSM1", "", "65.5", "Renewal confirmed", "30", []string{"score"}},
		{"score too high", "U0CSM1", "red", "101", "Renewal confirmed", "30", []string{"score"}},
		{"score below 0", "U0CSM1", "", "-1", "Renewal confirmed", "30", []string{"score"}},
		{"blank note", "U0CSM1", "red", "", "   \n ", "30", []string{"note"}},
		{"note too long", "U0CSM1", "red", "", strings.Repeat("é", 501), "30", []string{"note"}},
		{"unknown band", "U0CSM1", "purple", "", "x", "30", []string{"band"}},
		{"odd lifetime", "U0CSM1", "red", "", "x", "45", []string{"expires"}},
		{"not theirs", "U0CSM2", "yellow", "", "Renewal confirmed", "30", []string{"note"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs, err := validate(ctx, e.overrideRequest(ctx, t, tt.who, acme, tt.band, tt.score, tt.note, tt.days))
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			wantErrorBlocks(t, errs, tt.want)
		})
	}
}

func TestHealthOverrideSubmitShowsBesideTheScore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := e.accountID(ctx, t, "ACME-001")
	h := e.reg.views[commands.OverrideCallbackTest]
	req := e.overrideRequest(ctx, t, "U0CSM1", acme, "yellow", " 65 ", "Champion is leaving <!here> & we know it", "14")
	if errs, err := h.Validate(ctx, req); err != nil || errs != nil {
		t.Fatalf("Validate = %v, %v; want it accepted", errs, err)
	}
	rep, err := h.Submit(ctx, req)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if !strings.HasPrefix(rep.Text, "Saved your view of *Acme Corp*'s health: 🟡 yellow, 65/100, until Dec 7, 2026.") ||
		rep.Visibility != bot.Ephemeral {
		t.Errorf("Submit replied %q, want an ephemeral confirmation", rep.Text)
	}
	card := e.health(ctx, t, "U0CSM2", "C0ELSE1", "acme")
	all := healthBlocksJSON(t, card)
	if !strings.Contains(all, "*Override* by <@U0CSM1> until Dec 7, 2026: 🟡 yellow, 65/100 · “Champion is leaving &lt;!here&gt; &amp; we know it”") {
		t.Errorf("card after the override lacks it:\n%s", bot.PlainText(card.Blocks))
	}
	if !strings.Contains(all, "/100* green") {
		t.Errorf("the override replaced the computed score:\n%s", bot.PlainText(card.Blocks))
	}
	if !strings.Contains(card.Text, "override yellow, 65/100") {
		t.Errorf("fallback text %q lacks the override", card.Text)
	}
}

func FuzzOverrideValues(f *testing.F) {
	f.Add("yellow", "65", "note", "30")
	f.Add("", "", "", "")
	f.Add("RED", "1e2", " ", "7")
	f.Add("green", "0x10", "x", "-30")
	f.Add("", "٣", "é", "90")
	f.Fuzz(func(t *testing.T, band, score, note, days string) {
		in, problems, err := commands.ParseOverrideForTest("42", healthOverrideValues(band, score, note, days))
		if err != nil {
			t.Fatalf("parse with a good account id failed: %v", err)
		}
		if problems != nil {
			for k, msg := range problems {
				if msg == "" || !slices.Contains([]string{"band", "score", "note", "expires"}, k) {
					t.Errorf("problem %q: %q", k, msg)
				}
			}
			return
		}
		o := csbot.HealthOverride{AccountID: in.AccountID, Score: in.Score, HasScore: in.HasScore, Band: in.Band,
			Note: in.Note, By: "U0CSM1", CreatedAt: healthNow(), ExpiresAt: healthNow().AddDate(0, 0, in.Days)}
		if err := o.Validate(); err != nil {
			t.Errorf("accepted %q %q %q %q, but the override is invalid: %v", band, score, note, days, err)
		}
		if in.AccountID != 42 || utf8.RuneCountInString(in.Note) > 500 {
			t.Errorf("accepted %+v", in)
		}
	})
}
