package commands_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/commands"
)

// openHome sends app_home_opened for user's Home tab.
func (w *e2eWorld) openHome(ctx context.Context, t *testing.T, user string) {
	t.Helper()
	if _, err := w.srv.SendEvent(ctx, slacktest.AppHomeOpened(user)); err != nil {
		t.Fatalf("app_home_opened by %s: %v", user, err)
	}
}

// homePublishes returns the views.publish calls for user, in order.
func homePublishes(s slacktest.Snapshot, user string) []slacktest.Call {
	var out []slacktest.Call
	for _, c := range s.Calls("views.publish") {
		if c.Param("user_id") == user {
			out = append(out, c)
		}
	}
	return out
}

// published waits for the nth views.publish call for user (from 1) and
// returns the view it published, decoded, and its blocks.
func (w *e2eWorld) published(ctx context.Context, t *testing.T, user string, n int) (slack.HomeTabViewRequest, e2eDoc) {
	t.Helper()
	snap, err := w.srv.WaitFor(ctx, func(s slacktest.Snapshot) bool { return len(homePublishes(s, user)) >= n })
	if err != nil {
		t.Fatalf("views.publish %d for %s never came: %v", n, user, err)
	}
	c := homePublishes(snap, user)[n-1]
	if !c.OK() {
		t.Errorf("Slack refused views.publish %d for %s: %d %s", n, user, c.Status, c.Error)
	}
	var v slack.HomeTabViewRequest
	raw := json.RawMessage(c.Param("view"))
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("views.publish %d for %s: view not understood: %v\n%s", n, user, err, raw)
	}
	var blocks struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	return v, e2eDecode(t, blocks.Blocks)
}

// homeViewID returns the id of user's Home tab as Slack holds it.
func (w *e2eWorld) homeViewID(t *testing.T, user string) string {
	t.Helper()
	for _, v := range w.srv.Views() {
		if v.Type == "home" && v.UserID == user {
			return v.ID
		}
	}
	t.Fatalf("Slack holds no Home tab of %s", user)
	return ""
}

// clickHome presses a button of user's Home tab.
func (w *e2eWorld) clickHome(ctx context.Context, t *testing.T, user string, b e2eButton) slacktest.Envelope {
	t.Helper()
	env, err := w.srv.SendInteraction(ctx, slacktest.Interaction{Type: "block_actions", UserID: user, ViewID: w.homeViewID(t, user),
		Actions: []slacktest.Action{{ActionID: b.ActionID, BlockID: b.BlockID, Value: b.Value, Text: b.Text}}})
	if err != nil {
		t.Fatalf("click %s on the home of %s: %v", b.ActionID, user, err)
	}
	return env
}

// e2eSettingsState returns the state a submission of the alert settings
// modal carries: every kind on the route the modal preset, but those of
// routes.
func e2eSettingsState(t *testing.T, view slacktest.View, routes map[string]string) map[string]map[string]any {
	t.Helper()
	state := map[string]map[string]any{}
	for _, b := range e2eDecode(t, view.Blocks) {
		if b["type"] != "input" {
			continue
		}
		id, _ := b["block_id"].(string)
		el, _ := b["element"].(map[string]any)
		action, _ := el["action_id"].(string)
		chosen, _ := el["initial_option"].(map[string]any)
		if want, ok := routes[id]; ok {
			opts, _ := el["options"].([]any)
			chosen = nil
			for _, o := range opts {
				if om, _ := o.(map[string]any); om["value"] == want {
					chosen = om
				}
			}
			if chosen == nil {
				t.Fatalf("the settings modal offers %s no route %q", id, want)
			}
		}
		state[id] = map[string]any{action: map[string]any{"type": el["type"], "selected_option": chosen}}
	}
	if len(state) == 0 {
		t.Fatalf("the settings modal has no input: %s", view.Blocks)
	}
	return state
}

func TestE2EAppHome(t *testing.T) {
	t.Parallel()
	ctx := e2eContext(t)
	w := e2eStart(ctx, t, e2eOptions{})
	acme := w.accountID(ctx, t, "ACME-001")

	// Dana opens csbot's Home tab: it is published with her book.
	w.openHome(ctx, t, e2eCSM)
	_, d := w.published(ctx, t, e2eCSM, 1)
	if got := d.header(); got != "Hi Dana 👋" {
		t.Errorf("home header %q, want Dana's greeting", got)
	}
	for _, want := range []string{"Your book", "*3 accounts*", "*Acme Corp*", "Your renewals, next 90 days",
		"Open alerts on your accounts", "Every kind of alert reaches you as your team's policy says"} {
		if !strings.Contains(d.text(), want) {
			t.Errorf("Dana's home lacks %q:\n%s", want, d.text())
		}
	}

	// Health on Acme's line: the card comes in her DM with the app.
	var health e2eButton
	for _, b := range d.buttons() {
		if b.ActionID == "pick:health" && b.Value == acme {
			health = b
		}
	}
	if health.ActionID == "" {
		t.Fatalf("no Health button on Acme (%s) among %+v", acme, d.buttons())
	}
	w.clickHome(ctx, t, e2eCSM, health)
	card, err := w.srv.WaitForCall(ctx, "chat.postMessage", func(c slacktest.Call) bool {
		return c.Param("channel") == e2eCSM && strings.HasPrefix(c.Param("text"), "Acme Corp: ")
	})
	if err != nil || !card.OK() {
		t.Errorf("Acme's card in Dana's DM = %+v, %v", card, err)
	}

	// Notification settings: the modal of /health settings, whose saving
	// publishes the home again with the new route.
	w.clickHome(ctx, t, e2eCSM, d.button(t, commands.ActionHomeSettingsForTest))
	snap, err := w.srv.WaitFor(ctx, func(s slacktest.Snapshot) bool {
		for _, v := range s.Views() {
			if v.Type == "modal" {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("Notification settings opened no modal: %v", err)
	}
	var modal slacktest.View
	for _, v := range snap.Views() {
		if v.Type == "modal" {
			modal = v
		}
	}
	if modal.CallbackID != commands.SettingsCallbackForTest || modal.PrivateMetadata != commands.SettingsFromHomeForTest ||
		modal.UserID != e2eCSM || modal.Title != "Alert settings" {
		t.Fatalf("modal = %+v, want Dana's alert settings, from the home", modal)
	}
	env, err := w.srv.SendInteraction(ctx, slacktest.Interaction{Type: "view_submission", UserID: e2eCSM, ViewID: modal.ID,
		Values: e2eSettingsState(t, modal, map[string]string{"usage_drop": "dm"})})
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := w.srv.WaitForAck(ctx, env.ID); err != nil || ack.Payload != nil {
		t.Errorf("ack of the settings = %+v, %v; want an empty ack that closes the modal", ack, err)
	}
	_, after := w.published(ctx, t, e2eCSM, 2)
	if !strings.Contains(after.text(), "Usage dropped: direct message") || !strings.Contains(after.text(), "*Acme Corp*") {
		t.Errorf("the home after saving lacks the new route:\n%s", after.text())
	}
	saved, err := w.srv.WaitForCall(ctx, "chat.postMessage", func(c slacktest.Call) bool {
		return c.Param("channel") == e2eCSM && strings.HasPrefix(c.Param("text"), "Saved your alert settings")
	})
	if err != nil || !strings.Contains(saved.Param("text"), "Usage dropped: direct message") {
		t.Errorf("confirmation = %q (%v), want the change in Dana's DM", saved.Param("text"), err)
	}

	// Someone csbot does not know is welcomed; a guest gets nothing; the
	// Messages tab publishes nothing.
	w.openHome(ctx, t, e2eMember)
	_, welcome := w.published(ctx, t, e2eMember, 1)
	if welcome.header() != "Welcome to csbot" || !strings.Contains(welcome.text(), "<@U0ADMIN>") {
		t.Errorf("the home of a member csbot does not know:\n%s\nwant the welcome naming the admin", welcome.text())
	}
	w.openHome(ctx, t, e2eGuest)
	if _, err := w.srv.SendEvent(ctx, slacktest.Event{Type: "app_home_opened",
		Fields: map[string]any{"user": e2eCSM, "tab": "messages"}}); err != nil {
		t.Fatal(err)
	}

	snap = w.finish(t)
	if n := len(homePublishes(snap, e2eGuest)); n != 0 {
		t.Errorf("%d homes published to a guest, want none", n)
	}
	if n := len(homePublishes(snap, e2eCSM)); n != 2 {
		t.Errorf("%d homes published to Dana, want 2: on opening and after saving her settings", n)
	}
}
