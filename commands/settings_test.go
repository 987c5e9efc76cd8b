package commands_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

// settingsValues are the alert settings modal's inputs as Slack sends
// them on submission: every kind on the account channel but those in
// routes.
func settingsValues(routes map[csbot.SignalKind]string) map[string]map[string]slack.BlockAction {
	out := map[string]map[string]slack.BlockAction{}
	for _, k := range csbot.SignalKinds() {
		v, ok := routes[k]
		if !ok {
			v = string(csbot.RouteChannel)
		}
		out[string(k)] = map[string]slack.BlockAction{string(k): {ActionID: string(k), SelectedOption: slack.OptionBlockObject{Value: v}}}
	}
	return out
}

// settingsRequest is a submission of the alert settings modal by slackID.
func (e *healthEnv) settingsRequest(ctx context.Context, t *testing.T, slackID string, values map[string]map[string]slack.BlockAction) bot.ViewRequest {
	t.Helper()
	return bot.ViewRequest{Request: e.request(ctx, t, slackID, ""),
		View: slack.View{CallbackID: commands.SettingsCallbackForTest, State: &slack.ViewState{Values: values}}}
}

// settingsModal runs /health text as slackID through cmds and returns the
// modal it opens, checked against Slack's limits.
func settingsModal(ctx context.Context, t *testing.T, e *healthEnv, cmds *commands.Commands, slackID, text string) slack.ModalViewRequest {
	t.Helper()
	rep, err := cmds.Command("/health")(ctx, bot.CommandRequest{Request: e.request(ctx, t, slackID, "C0ELSE1"),
		Command: "/health", Text: text})
	if err != nil {
		t.Fatalf("/health %s: %v", text, err)
	}
	if rep.OpenView == nil {
		t.Fatalf("/health %s by %s = %q, want the settings modal", text, slackID, rep.Text)
	}
	if err := bot.CheckView(*rep.OpenView); err != nil {
		t.Errorf("settings modal over Slack's limits: %v", err)
	}
	if rep.OpenView.CallbackID != commands.SettingsCallbackForTest {
		t.Errorf("modal callback %q, want %q", rep.OpenView.CallbackID, commands.SettingsCallbackForTest)
	}
	return *rep.OpenView
}

// settingsSelect is what the modal shows of one kind.
type settingsSelect struct {
	Label, Hint string
	Options     []string // values, in order
	Initial     string
}

// settingsSelects returns the modal's selects by block_id, failing when an
// input's action_id is not its block_id.
func settingsSelects(t *testing.T, m slack.ModalViewRequest) map[string]settingsSelect {
	t.Helper()
	out := map[string]settingsSelect{}
	for _, b := range m.Blocks.BlockSet {
		in, ok := b.(*slack.InputBlock)
		if !ok {
			continue
		}
		sel, ok := in.Element.(*slack.SelectBlockElement)
		if !ok || sel.Type != slack.OptTypeStatic {
			t.Fatalf("input %s is %T, want a static select", in.BlockID, in.Element)
		}
		if sel.ActionID != in.BlockID {
			t.Errorf("input %s has action_id %q, want its block_id", in.BlockID, sel.ActionID)
		}
		s := settingsSelect{Label: in.Label.Text}
		if in.Hint != nil {
			s.Hint = in.Hint.Text
		}
		for _, o := range sel.Options {
			s.Options = append(s.Options, o.Value)
		}
		if sel.InitialOption != nil {
			s.Initial = sel.InitialOption.Value
		}
		out[in.BlockID] = s
	}
	return out
}

// setPrefs stores slackID's alert routes.
func (e *healthEnv) setPrefs(ctx context.Context, t *testing.T, slackID string, alerts map[csbot.SignalKind]csbot.Route) {
	t.Helper()
	if err := e.store.SetNotifyPrefs(ctx, slackID, csbot.NotifyPrefs{Alerts: alerts}); err != nil {
		t.Fatalf("SetNotifyPrefs %s: %v", slackID, err)
	}
}

// prefs returns slackID's stored alert routes.
func (e *healthEnv) prefs(ctx context.Context, t *testing.T, slackID string) map[csbot.SignalKind]csbot.Route {
	t.Helper()
	p, err := e.store.NotifyPrefs(ctx, slackID)
	if err != nil {
		t.Fatalf("NotifyPrefs %s: %v", slackID, err)
	}
	return p.Alerts
}

func TestHealthSettingsModalShowsRoutesAndDefaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	e.setPrefs(ctx, t, "U0CSM1", map[csbot.SignalKind]csbot.Route{csbot.SignalUsageDrop: csbot.RouteDM, csbot.SignalNoTouch: csbot.RouteOff})

	m := settingsModal(ctx, t, e, e.cmds, "U0CSM1", "settings")
	all := healthBlocksJSONOf(t, m.Blocks.BlockSet)
	for _, want := range []string{"Where should each kind of alert reach you? Defaults come from your team's policy.",
		"Usage dropped and No recent touchpoint, which you chose yourself"} {
		if !strings.Contains(all, want) {
			t.Errorf("settings modal lacks %q:\n%s", want, all)
		}
	}
	selects := settingsSelects(t, m)
	if len(selects) != len(csbot.SignalKinds()) {
		t.Errorf("%d selects, want one per kind (%d)", len(selects), len(csbot.SignalKinds()))
	}
	routes := []string{"channel", "dm", "digest", "off"}
	for _, k := range csbot.SignalKinds() {
		want := settingsSelect{Label: k.Title(), Hint: "Team default: account channel.", Options: routes, Initial: "channel"}
		switch k {
		case csbot.SignalUsageDrop:
			want.Initial = "dm"
		case csbot.SignalNoTouch:
			want.Initial = "off"
		}
		if diff := cmp.Diff(want, selects[string(k)]); diff != "" {
			t.Errorf("select of %s (-want +got):\n%s", k, diff)
		}
	}
	labels := healthBlocksJSONOf(t, m.Blocks.BlockSet)
	for _, l := range []string{"Account channel", "Direct message", "Weekly digest only", "Off"} {
		if !strings.Contains(labels, `"text":"`+l+`"`) {
			t.Errorf("settings modal lacks the option %q", l)
		}
	}

	// Someone who chose nothing sees the defaults, here a policy's own.
	pol := csbot.DefaultPolicy()
	pol.Notifications.Routes.TicketSpike = "digest"
	cmds := commands.New(commands.Config{Store: e.store, Policy: pol, Now: healthNow})
	m = settingsModal(ctx, t, e, cmds, "U0CSM2", "SETTINGS")
	selects = settingsSelects(t, m)
	if s := selects[string(csbot.SignalTicketSpike)]; s.Initial != "digest" || s.Hint != "Team default: weekly digest only." {
		t.Errorf("ticket spike under a digest default = %+v, want the digest preset and named the default", s)
	}
	if s := selects[string(csbot.SignalUsageDrop)]; s.Initial != "channel" {
		t.Errorf("usage drop without a choice = %+v, want the channel", s)
	}
	if all := healthBlocksJSONOf(t, m.Blocks.BlockSet); !strings.Contains(all, "Every kind is on your team's default.") {
		t.Errorf("settings modal of someone who chose nothing:\n%s", all)
	}
}

func TestHealthSettingsRefusedForUnknownMember(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	rep := e.health(ctx, t, "U0NOBODY", "C0ELSE1", "settings")
	if rep.OpenView != nil || !rep.Public || rep.Visibility != bot.Ephemeral || !strings.Contains(rep.Text, "csbot doesn't know you") {
		t.Errorf("/health settings by an unknown member = %+v, want a friendly public ephemeral answer", rep)
	}
	h := e.reg.views[commands.SettingsCallbackForTest]
	req := e.settingsRequest(ctx, t, "U0NOBODY", settingsValues(map[csbot.SignalKind]string{csbot.SignalUsageDrop: "dm"}))
	errs, err := h.Validate(ctx, req)
	if err != nil || len(errs) == 0 {
		t.Errorf("Validate by an unknown member = %v, %v; want it refused", errs, err)
	}
	rep, err = h.Submit(ctx, req)
	if err != nil || !strings.Contains(rep.Text, "csbot doesn't know you") {
		t.Errorf("Submit by an unknown member = %q, %v; want it refused", rep.Text, err)
	}
}

func TestHealthSettingsValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	validate := e.reg.views[commands.SettingsCallbackForTest].Validate
	if validate == nil {
		t.Fatal("the settings modal has no Validate")
	}
	missing := settingsValues(nil)
	delete(missing, string(csbot.SignalRenewalRisk))
	for _, tt := range []struct {
		name   string
		values map[string]map[string]slack.BlockAction
		want   []string // block_ids with errors
	}{
		{"defaults", settingsValues(nil), nil},
		{"every route", settingsValues(map[csbot.SignalKind]string{csbot.SignalUsageDrop: "dm", csbot.SignalNoTouch: "digest", csbot.SignalOutages: "off"}), nil},
		{"a kind missing", missing, nil},
		{"forged route", settingsValues(map[csbot.SignalKind]string{csbot.SignalUsageDrop: "pigeon"}), []string{"usage_drop"}},
		{"empty route", settingsValues(map[csbot.SignalKind]string{csbot.SignalDetractor: ""}), []string{"detractor"}},
		{"route in capitals", settingsValues(map[csbot.SignalKind]string{csbot.SignalNoTouch: "DM", csbot.SignalBandDrop: "channel "}),
			[]string{"band_drop", "no_touch"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs, err := validate(ctx, e.settingsRequest(ctx, t, "U0CSM1", tt.values))
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			wantErrorBlocks(t, errs, tt.want)
		})
	}
}

func TestHealthSettingsSubmitStoresAndConfirms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	h := e.reg.views[commands.SettingsCallbackForTest]
	submit := func(routes map[csbot.SignalKind]string) string {
		t.Helper()
		req := e.settingsRequest(ctx, t, "U0CSM1", settingsValues(routes))
		if errs, err := h.Validate(ctx, req); err != nil || errs != nil {
			t.Fatalf("Validate = %v, %v; want it accepted", errs, err)
		}
		rep, err := h.Submit(ctx, req)
		if err != nil {
			t.Fatalf("Submit: %v", err)
		}
		if rep.Visibility != bot.Ephemeral || rep.OpenView != nil || len(rep.Blocks) > 0 {
			t.Errorf("Submit replied %+v, want an ephemeral text", rep)
		}
		if err := bot.CheckLimits(bot.SurfaceMessage, rep.Blocks, rep.Text); err != nil {
			t.Errorf("Submit reply over Slack's limits: %v", err)
		}
		return rep.Text
	}

	got := submit(map[csbot.SignalKind]string{csbot.SignalUsageDrop: "dm", csbot.SignalOutages: "digest"})
	want := "Saved your alert settings:\n• Usage dropped: direct message (was account channel)\n• Repeated outages: weekly digest only (was account channel)"
	if got != want {
		t.Errorf("Submit replied %q, want %q", got, want)
	}
	wantPrefs := map[csbot.SignalKind]csbot.Route{csbot.SignalUsageDrop: csbot.RouteDM, csbot.SignalOutages: csbot.RouteDigest}
	if diff := cmp.Diff(wantPrefs, e.prefs(ctx, t, "U0CSM1")); diff != "" {
		t.Errorf("stored routes (-want +got):\n%s", diff)
	}
	if s := settingsSelects(t, settingsModal(ctx, t, e, e.cmds, "U0CSM1", "settings"))[string(csbot.SignalOutages)]; s.Initial != "digest" {
		t.Errorf("reopened modal shows outages on %q, want digest", s.Initial)
	}

	if got := submit(map[csbot.SignalKind]string{csbot.SignalUsageDrop: "dm", csbot.SignalOutages: "digest"}); !strings.HasPrefix(got, "Nothing changed") {
		t.Errorf("submitting the same again replied %q, want Nothing changed", got)
	}

	// Back to the default: the kind follows the policy again.
	got = submit(map[csbot.SignalKind]string{csbot.SignalOutages: "digest"})
	if want := "Saved your alert settings:\n• Usage dropped: account channel (was direct message)"; got != want {
		t.Errorf("Submit replied %q, want %q", got, want)
	}
	wantPrefs = map[csbot.SignalKind]csbot.Route{csbot.SignalOutages: csbot.RouteDigest}
	if diff := cmp.Diff(wantPrefs, e.prefs(ctx, t, "U0CSM1")); diff != "" {
		t.Errorf("stored routes after returning to the default (-want +got):\n%s", diff)
	}
	if other := e.prefs(ctx, t, "U0CSM2"); len(other) != 0 {
		t.Errorf("another user's routes changed: %v", other)
	}
}

func TestHealthSettingsSubmitKeepsKindsNotOnTheForm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	e.setPrefs(ctx, t, "U0CSM1", map[csbot.SignalKind]csbot.Route{csbot.SignalRenewalRisk: csbot.RouteDM})
	values := settingsValues(map[csbot.SignalKind]string{csbot.SignalDetractor: "off"})
	delete(values, string(csbot.SignalRenewalRisk))
	rep, err := e.reg.views[commands.SettingsCallbackForTest].Submit(ctx, e.settingsRequest(ctx, t, "U0CSM1", values))
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if want := "Saved your alert settings:\n• Detractor NPS: off (was account channel)"; rep.Text != want {
		t.Errorf("Submit replied %q, want %q", rep.Text, want)
	}
	want := map[csbot.SignalKind]csbot.Route{csbot.SignalRenewalRisk: csbot.RouteDM, csbot.SignalDetractor: csbot.RouteOff}
	if diff := cmp.Diff(want, e.prefs(ctx, t, "U0CSM1")); diff != "" {
		t.Errorf("stored routes (-want +got):\n%s", diff)
	}
}

func TestHealthHelpMentionsSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	if rep := e.health(ctx, t, "U0CSM1", "C0ELSE1", "help"); !strings.Contains(rep.Text, "`/health settings`") {
		t.Errorf("/health help = %q, want it to mention /health settings", rep.Text)
	}
}

func FuzzSettingsValues(f *testing.F) {
	f.Add("usage_drop", "dm")
	f.Add("no_touch", "")
	f.Add("outages", "DIGEST")
	f.Add("weather", "off")
	f.Add("", "channel\x00")
	f.Fuzz(func(t *testing.T, kind, value string) {
		values := settingsValues(nil)
		values[kind] = map[string]slack.BlockAction{kind: {ActionID: kind, SelectedOption: slack.OptionBlockObject{Value: value}}}
		chosen, problems := commands.ParseSettingsForTest(values)
		for k, msg := range problems {
			if msg == "" || k != kind || csbot.Route(value).Valid() {
				t.Errorf("problem %q: %q for %q=%q", k, msg, kind, value)
			}
		}
		for k, r := range chosen {
			if !r.Valid() || !slices.Contains(csbot.SignalKinds(), k) {
				t.Errorf("chose %q for %q from %q=%q", r, k, kind, value)
			}
		}
		if known := slices.Contains(csbot.SignalKinds(), csbot.SignalKind(kind)); known && problems == nil && chosen[csbot.SignalKind(kind)] != csbot.Route(value) {
			t.Errorf("%q=%q accepted as %q", kind, value, chosen[csbot.SignalKind(kind)])
		}
	})
}
