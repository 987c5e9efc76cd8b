package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// newIdleRuntime returns a runtime that is never run, for registry tests.
func newIdleRuntime(t *testing.T) *Runtime {
	t.Helper()
	rt, err := New(NewClient("xoxb-1", "xapp-1", "http://127.0.0.1:1/api/"), Config{Sender: directSender{}})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestDeliveryKeys(t *testing.T) {
	raw := json.RawMessage(`{"type":"view_closed","view":{"id":"V1"}}`)
	for _, tt := range []struct {
		name string
		in   *inbound
		want string
	}{
		{"slash command", &inbound{typ: "slash_commands", command: &slack.SlashCommand{TriggerID: "13345.224.abc"}}, "slash:13345.224.abc"},
		{"block action", &inbound{typ: "interactive", interaction: &slack.InteractionCallback{TriggerID: "9.9.f"}}, "interactive:9.9.f"},
		{"event", &inbound{typ: "events_api", event: &slackevents.EventsAPIEvent{Data: &slackevents.EventsAPICallbackEvent{EventID: "Ev42"}}}, "event:Ev42"},
	} {
		if got := deliveryKey(tt.in); got != tt.want {
			t.Errorf("%s: key %q, want %q", tt.name, got, tt.want)
		}
	}
	// Without an id, the payload's hash: the same for a redelivery, another
	// for another payload.
	a := deliveryKey(&inbound{typ: "interactive", payload: raw, interaction: &slack.InteractionCallback{}})
	b := deliveryKey(&inbound{typ: "interactive", payload: append(json.RawMessage(nil), raw...), interaction: &slack.InteractionCallback{}})
	c := deliveryKey(&inbound{typ: "interactive", payload: json.RawMessage(`{"type":"view_closed","view":{"id":"V2"}}`), interaction: &slack.InteractionCallback{}})
	if !strings.HasPrefix(a, "interactive:sha256:") || a != b || a == c {
		t.Errorf("hash keys %q, %q, %q: want equal for equal payloads only", a, b, c)
	}
}

func TestActionsRouteByLongestPrefix(t *testing.T) {
	rt := newIdleRuntime(t)
	hit := func(name string) ActionFunc {
		return func(context.Context, ActionRequest) (Reply, error) { return Reply{Text: name}, nil }
	}
	rt.HandleAction("health:", hit("health"))
	rt.HandleAction("health:override:", hit("override"))
	for id, want := range map[string]string{
		"health:override:42": "override",
		"health:share:42":    "health",
		"renewals:more":      "",
	} {
		fn := rt.reg.action(id)
		got := ""
		if fn != nil {
			r, _ := fn(context.Background(), ActionRequest{})
			got = r.Text
		}
		if got != want {
			t.Errorf("action %q went to %q, want %q", id, got, want)
		}
	}
}

func TestRegistrationMistakesPanic(t *testing.T) {
	rt := newIdleRuntime(t)
	for name, register := range map[string]func(){
		"empty command": func() {
			rt.HandleCommand("", func(context.Context, CommandRequest) (Reply, error) { return Reply{}, nil })
		},
		"nil command": func() { rt.HandleCommand("/health", nil) },
		"empty view": func() {
			rt.HandleView("", ViewHandler{Submit: func(context.Context, ViewRequest) (Reply, error) { return Reply{}, nil }})
		},
		"no view funcs": func() { rt.HandleView("override", ViewHandler{}) },
		"nil event":     func() { rt.HandleEvent("app_home_opened", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			register()
		}()
	}
}

func TestRunRefusesHandlersForUndeclaredThings(t *testing.T) {
	rt := newIdleRuntime(t)
	noop := func(context.Context, CommandRequest) (Reply, error) { return Reply{}, nil }
	rt.HandleCommand("/health", noop)
	rt.HandleCommand("/weather", noop)
	rt.HandleShortcut("close_deal", func(context.Context, ShortcutRequest) (Reply, error) { return Reply{}, nil })
	rt.HandleEvent("message", func(context.Context, EventRequest) (Reply, error) { return Reply{}, nil })
	err := rt.Run(context.Background())
	if err == nil {
		t.Fatal("Run accepted handlers for undeclared commands")
	}
	for _, want := range []string{"command /weather", "shortcut close_deal", "event message"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "/health") {
		t.Errorf("error %q names the declared /health", err)
	}
	if got := strings.Join(rt.reg.unhandled(), ","); got != "command /renewals,command /handoff,command /ebr,shortcut new_handoff,shortcut message_to_handoff" {
		t.Errorf("unhandled = %s", got)
	}
}

func TestPrivatelyAddsTheNote(t *testing.T) {
	r := privately(Reply{Text: "ACME: red", Visibility: InChannel}, noteShared)
	if r.Visibility != Ephemeral || r.Text != "ACME: red\n\n_"+noteShared+"_" {
		t.Errorf("text reply = %+v", r)
	}
	blocks := make([]slack.Block, MaxMessageBlocks)
	for i := range blocks {
		blocks[i] = slack.NewDividerBlock()
	}
	r = privately(Reply{Text: "ACME", Blocks: blocks, Visibility: InChannel}, noteShared)
	if len(r.Blocks) != MaxMessageBlocks || r.Blocks[len(r.Blocks)-1].BlockType() != slack.MBTContext {
		t.Errorf("full reply: %d blocks, last %v; want %d with the note last", len(r.Blocks), r.Blocks[len(r.Blocks)-1].BlockType(), MaxMessageBlocks)
	}
	if len(blocks) != MaxMessageBlocks || blocks[len(blocks)-1].BlockType() != slack.MBTDivider {
		t.Error("privately changed the caller's blocks")
	}
	if err := CheckLimits(SurfaceMessage, r.Blocks, r.Text); err != nil {
		t.Errorf("private reply over the limits: %v", err)
	}
}

func TestMemoryDeliveries(t *testing.T) {
	ctx := context.Background()
	m := newMemoryDeliveries()
	now := time.Now()
	if first, _ := m.ClaimDelivery(ctx, "k", now.Add(-2*time.Hour)); !first {
		t.Error("first claim refused")
	}
	if first, _ := m.ClaimDelivery(ctx, "k", now); first {
		t.Error("second claim accepted")
	}
	if n, _ := m.PruneDeliveries(ctx, now.Add(-time.Hour)); n != 1 {
		t.Errorf("pruned %d, want 1", n)
	}
	if first, _ := m.ClaimDelivery(ctx, "k", now); !first {
		t.Error("claim after pruning refused")
	}
}
