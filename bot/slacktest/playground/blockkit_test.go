package playground

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csbot/csbot/bot/slacktest"
)

// everyInput is a modal's blocks with one input of each kind the page
// renders, and an element and a block it does not know.
const everyInput = `[
 {"type":"section","text":{"type":"mrkdwn","text":"Tell us about *Acme*"}},
 {"type":"input","block_id":"note","label":{"type":"plain_text","text":"Note"},"hint":{"type":"plain_text","text":"Be brief"},
  "element":{"type":"plain_text_input","action_id":"note_in","multiline":true,"max_length":500,"initial_value":"so far <ok>",
   "placeholder":{"type":"plain_text","text":"What happened?"}}},
 {"type":"input","block_id":"band","optional":true,"label":{"type":"plain_text","text":"Band"},
  "element":{"type":"static_select","action_id":"band","initial_option":{"text":{"type":"plain_text","text":"Red"},"value":"red"},
   "options":[{"text":{"type":"plain_text","text":"Green"},"value":"green"},{"text":{"type":"plain_text","text":"Red <script>"},"value":"red"}]}},
 {"type":"input","block_id":"products","label":{"type":"plain_text","text":"Products"},
  "element":{"type":"multi_static_select","action_id":"products","initial_options":[{"text":{"type":"plain_text","text":"Pro"},"value":"pro"}],
   "options":[{"text":{"type":"plain_text","text":"Pro"},"value":"pro"},{"text":{"type":"plain_text","text":"Analytics"},"value":"analytics"}]}},
 {"type":"input","block_id":"when","label":{"type":"plain_text","text":"When"},"element":{"type":"datepicker","action_id":"when","initial_date":"2026-03-02"}},
 {"type":"input","block_id":"who","label":{"type":"plain_text","text":"Owner"},"element":{"type":"users_select","action_id":"who","initial_user":"U2"}},
 {"type":"input","block_id":"kind","label":{"type":"plain_text","text":"Kind"},
  "element":{"type":"radio_buttons","action_id":"kind","initial_option":{"text":{"type":"plain_text","text":"Call"},"value":"call"},
   "options":[{"text":{"type":"plain_text","text":"Call"},"value":"call"},{"text":{"type":"plain_text","text":"Meeting"},"value":"meeting","description":{"type":"plain_text","text":"In person"}}]}},
 {"type":"input","block_id":"flags","optional":true,"label":{"type":"plain_text","text":"Flags"},
  "element":{"type":"checkboxes","action_id":"flags","initial_options":[{"text":{"type":"mrkdwn","text":"*Exec* there"},"value":"exec"}],
   "options":[{"text":{"type":"mrkdwn","text":"*Exec* there"},"value":"exec"},{"text":{"type":"mrkdwn","text":"Follow-up"},"value":"follow"}]}},
 {"type":"input","block_id":"seats","optional":true,"label":{"type":"plain_text","text":"Seats"},
  "element":{"type":"number_input","action_id":"seats","is_decimal_allowed":false,"min_value":"1","max_value":"1000"}},
 {"type":"input","block_id":"code","optional":true,"label":{"type":"plain_text","text":"Code"},
  "element":{"type":"plain_text_input","action_id":"code","min_length":3}},
 {"type":"input","block_id":"rich","label":{"type":"plain_text","text":"Rich"},"element":{"type":"rich_text_input","action_id":"rich"}},
 {"type":"rich_text","elements":[]},
 {"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Refresh"},"value":"r"},
  {"type":"overflow","action_id":"more","options":[{"text":{"type":"plain_text","text":"Snooze"},"value":"snooze"}]}]}
]`

func TestParseBlocks(t *testing.T) {
	blocks := parseBlocks(json.RawMessage(everyInput))
	if len(blocks) != 13 {
		t.Fatalf("%d blocks, want 13", len(blocks))
	}
	if b := blocks[10]; b.Input == nil || !b.Input.Unknown || b.Input.Type != "rich_text_input" {
		t.Errorf("an unknown element = %+v, want it marked unknown", b.Input)
	}
	if b := blocks[11]; !b.Unknown || b.Type != "rich_text" {
		t.Errorf("an unknown block = %+v, want it marked unknown", b)
	}
	refresh := blocks[12].Elements[0]
	if refresh.BlockID != "b12" || refresh.ActionID != "a12-0" || refresh.Path != "12/0" {
		t.Errorf("ids of a button the bot gave none = block %q, action %q, path %q; want Slack-like generated ones",
			refresh.BlockID, refresh.ActionID, refresh.Path)
	}
	if parseBlocks(json.RawMessage(`{"not":"an array"}`)) != nil || parseBlocks(nil) != nil {
		t.Error("blocks that are not an array gave blocks")
	}
	if e, err := findElement(blocks, "99/0", "more"); err != nil || e.Type != "overflow" {
		t.Errorf("findElement by action_id after the blocks changed = %+v, %v", e, err)
	}
	if _, err := findElement(blocks, "12/1", "gone"); err == nil {
		t.Error("findElement found an action_id that is not there")
	}
}

func TestViewStateInSlacksShape(t *testing.T) {
	blocks := parseBlocks(json.RawMessage(everyInput))
	got := viewState(blocks, map[string][]string{
		"1/e": {"Called them"}, "2/e": {"green"}, "3/e": {"pro", "analytics"}, "4/e": {"2026-03-09"},
		"5/e": {"U1"}, "6/e": {"meeting"}, "7/e": {}, "8/e": {"12"},
		"12/1": {"snooze"}, // an overflow keeps no state
	})
	opt := func(text, value string) map[string]any {
		return map[string]any{"text": textObject{Type: "plain_text", Text: text}, "value": value}
	}
	want := map[string]map[string]any{
		"note":     {"note_in": map[string]any{"type": "plain_text_input", "value": "Called them"}},
		"band":     {"band": map[string]any{"type": "static_select", "selected_option": opt("Green", "green")}},
		"products": {"products": map[string]any{"type": "multi_static_select", "selected_options": []any{opt("Pro", "pro"), opt("Analytics", "analytics")}}},
		"when":     {"when": map[string]any{"type": "datepicker", "selected_date": "2026-03-09"}},
		"who":      {"who": map[string]any{"type": "users_select", "selected_user": "U1"}},
		"kind": {"kind": map[string]any{"type": "radio_buttons", "selected_option": map[string]any{
			"text": textObject{Type: "plain_text", Text: "Meeting"}, "value": "meeting",
			"description": &textObject{Type: "plain_text", Text: "In person"}}}},
		"flags": {"flags": map[string]any{"type": "checkboxes", "selected_options": []any{}}},
		"seats": {"seats": map[string]any{"type": "number_input", "value": "12"}},
		"code":  {"code": map[string]any{"type": "plain_text_input", "value": nil}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("viewState (-want +got):\n%s", diff)
	}
}

func TestMissingInputs(t *testing.T) {
	blocks := parseBlocks(json.RawMessage(everyInput))
	full := map[string][]string{"1/e": {"x"}, "3/e": {"pro"}, "4/e": {"2026-03-09"}, "5/e": {"U1"}, "6/e": {"call"}, "10/e": {"x"}}
	tests := []struct {
		name string
		set  map[string][]string
		want map[string]string
	}{
		{"complete", nil, map[string]string{}},
		{"required left empty", map[string][]string{"1/e": {"  "}, "5/e": nil},
			map[string]string{"note": "Please complete this required field.", "who": "Please complete this required field."}},
		{"optional may stay empty", map[string][]string{"2/e": nil, "7/e": nil, "8/e": nil}, map[string]string{}},
		{"number", map[string][]string{"8/e": {"twelve"}}, map[string]string{"seats": "Please enter a number."}},
		{"whole number", map[string][]string{"8/e": {"1.5"}}, map[string]string{"seats": "Please enter a number."}},
		{"number too big", map[string][]string{"8/e": {"5000"}}, map[string]string{"seats": "Please enter a number no more than 1000."}},
		{"too short", map[string][]string{"9/e": {"ab"}}, map[string]string{"code": "Please enter at least 3 characters."}},
	}
	for _, tt := range tests {
		sent := map[string][]string{}
		for k, v := range full {
			sent[k] = v
		}
		for k, v := range tt.set {
			sent[k] = v
		}
		if diff := cmp.Diff(tt.want, missingInputs(blocks, sent)); diff != "" {
			t.Errorf("%s: missingInputs (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestBlockActions(t *testing.T) {
	blocks := parseBlocks(json.RawMessage(everyInput))
	more, _ := findElement(blocks, "12/1", "more")
	a := blockAction(more, []string{"snooze"})
	if a.Type != "overflow" || a.ActionID != "more" || a.BlockID != "b12" ||
		!cmp.Equal(a.Extra["selected_option"], map[string]any{"text": textObject{Type: "plain_text", Text: "Snooze"}, "value": "snooze"}) {
		t.Errorf("overflow action = %+v", a)
	}
	refresh, _ := findElement(blocks, "12/0", "")
	if a := blockAction(refresh, nil); a.Type != "button" || a.Value != "r" || a.Text != "Refresh" {
		t.Errorf("button action = %+v", a)
	}
	when, _ := findElement(blocks, "4/e", "when")
	if a := blockAction(when, []string{"2026-04-01"}); a.Extra["selected_date"] != "2026-04-01" || a.Extra["initial_date"] != "2026-03-02" {
		t.Errorf("datepicker action = %+v", a)
	}
}

// TestModalRendersEveryInput renders a modal with one input of each kind
// and checks each control, its initial value, and that option text stays
// text.
func TestModalRendersEveryInput(t *testing.T) {
	sim := slacktest.New(t)
	sim.AddUser(slacktest.User{ID: "U1", Name: "ana", RealName: "Ana"})
	sim.AddUser(slacktest.User{ID: "U2", Name: "bo", RealName: "Bo"})
	s, err := New(Config{Slack: sim, People: []Person{{ID: "U1", Name: "Ana", Role: "csm"}, {ID: "U2", Name: "Bo", Role: "manager"}}})
	if err != nil {
		t.Fatal(err)
	}
	blocks := parseBlocks(json.RawMessage(everyInput))
	blocks[2].Error = "Choose one"
	s.fillChoices(blocks)
	var buf bytes.Buffer
	err = s.tmpl.ExecuteTemplate(&buf, "modal", &modalData{Key: "V1@h", ViewID: "V1", Title: textObject{Type: "plain_text", Text: "Log it"},
		Submit: &textObject{Type: "plain_text", Text: "Save"}, Blocks: blocks})
	if err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`<h2 id="modal-title">Log it</h2>`,
		`<div class="md">Tell us about <b>Acme</b></div>`,
		`<textarea class="text" id="in-1/e" rows="4" data-path="1/e" data-action-id="note_in" maxlength="500" placeholder="What happened?">so far &lt;ok&gt;</textarea>`,
		`<div class="input-hint">Be brief</div>`,
		`<div class="block input has-error" data-block-id="band">`,
		`<div class="error" role="alert">Choose one</div>`,
		`<option value="red" selected>Red &lt;script&gt;</option>`,
		`<select class="select" id="in-3/e" multiple data-path="3/e"`,
		`<option value="pro" selected>Pro</option>`,
		`<input type="date" class="date" id="in-4/e" data-path="4/e" data-action-id="when" value="2026-03-02">`,
		`<option value="U2" selected>Bo</option>`,
		`<input type="radio" name="g-6/e" data-path="6/e" data-action-id="kind" value="call" checked>`,
		`<span class="choice-desc md">In person</span>`,
		`<input type="checkbox" name="g-7/e" data-path="7/e" data-action-id="flags" value="exec" checked>`,
		`<span class="md"><b>Exec</b> there</span>`,
		`<input type="number" class="text" id="in-8/e" data-path="8/e" data-action-id="seats" step="1" value="" min="1" max="1000">`,
		`(a rich_text_input element, which the playground does not show)`,
		`(a rich_text block, which the playground does not show)`,
		`<select class="overflow" data-path="12/1" data-action-id="more" aria-label="More actions">`,
		`<button type="submit" class="btn btn-primary">Save</button>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the modal lacks %s", want)
		}
	}
	if strings.Contains(html, "<script") {
		t.Error("option text became markup")
	}
}
