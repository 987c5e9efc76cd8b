package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/jackc/pgx/v5"
)

// The people and channels of the handoff end-to-end test.
const (
	hoSales      = "U0AE"   // Sam Seller, the account executive who closed Acme
	hoOnboarding = "U0ONB"  // Olga Onboard, the onboarding lead
	hoManager    = "U0MGR"  // Mona Manager, Olga's manager
	hoCSM        = "U0CSM"  // Cass Success, Acme's CSM
	hoAcme       = "C0ACME" // Acme's account channel
	hoOnbChannel = "C0ONB"  // the onboarding channel
)

// The goals the fixed submission writes; the posts must show them.
const hoGoals = "Cut store onboarding from 6 weeks to 2"

// hoLog is what csbot logs while it runs in the test; it is safe for
// concurrent use.
type hoLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *hoLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *hoLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHandoffEndToEnd runs a handoff through csbot as `csbot` runs it on
// Slack (the Socket Mode runtime, the commands, the notifier's delivery
// and the poster, wired by runSlack), against the fake Slack and a fresh
// database: a salesperson opens the form with /handoff, submits it
// incomplete and is told what to fix, submits it fixed; it is posted in
// the account's and the onboarding channel; the salesperson may not
// acknowledge it, the onboarding lead does, both posts are updated in
// place and the salesperson is told; /handoff status then has nothing
// waiting.
func TestHandoffEndToEnd(t *testing.T) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// 1. The database: the team and the account, imported as an admin
	// would.
	db := pgtest.NewDatabase(ctx, t)
	for _, f := range []struct{ kind, name, csv string }{
		{"users", "users.csv", "slack_id,role,name,email,manager_slack_id,timezone\n" +
			hoManager + ",manager,Mona Manager,mona@vendor.example,,\n" +
			hoCSM + ",csm,Cass Success,cass@vendor.example," + hoManager + ",\n" +
			hoSales + ",sales,Sam Seller,sam@vendor.example,,\n" +
			hoOnboarding + ",onboarding,Olga Onboard,olga@vendor.example," + hoManager + ",Europe/Berlin\n"},
		{"accounts", "accounts.csv", "external_id,name,tier,arr,domain,stage,csm,ae,channel\n" +
			"ACME-1,Acme Corp,high,120000,acme.example,adopting," + hoCSM + "," + hoSales + "," + hoAcme + "\n"},
	} {
		code, out, errOut := runCLI(t, db, "import", f.kind, writeFile(t, f.name, f.csv), "--no-score")
		if code != exitOK || strings.Contains(out, "rescored") {
			t.Fatalf("csbot import %s --no-score: exit %d\nstdout:\n%s\nstderr:\n%s", f.kind, code, out, errOut)
		}
	}

	// 2. The fake Slack, and csbot running on it.
	srv, err := slacktest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	for _, u := range []slacktest.User{
		{ID: hoSales, Name: "sam", RealName: "Sam Seller", TZ: "America/New_York"},
		{ID: hoOnboarding, Name: "olga", RealName: "Olga Onboard", TZ: "Europe/Berlin"},
		{ID: hoManager, Name: "mona", RealName: "Mona Manager", TZ: "Europe/Berlin"},
		{ID: hoCSM, Name: "cass", RealName: "Cass Success", TZ: "America/New_York"},
	} {
		srv.AddUser(u)
	}
	srv.AddChannel(slacktest.Channel{ID: hoAcme, Name: "acct-acme", Member: true})
	srv.AddChannel(slacktest.Channel{ID: hoOnbChannel, Name: "onboarding", Member: true})
	t.Setenv("SLACK_BOT_TOKEN", srv.BotToken())
	t.Setenv("SLACK_APP_TOKEN", srv.AppToken())
	t.Setenv("SLACK_API_URL", srv.URL())
	t.Setenv("DATABASE_URL", db)
	t.Setenv("CSBOT_ONBOARDING_CHANNEL", hoOnbChannel)
	t.Setenv("CSBOT_LOG_LEVEL", "warn")

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	var out, logs hoLog
	go func() { done <- run(runCtx, nil, &out, &logs) }()
	exited := false
	t.Cleanup(func() { // on an early failure; runs before srv.Close
		if !exited {
			stop()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Error("csbot did not stop within 20 s of its context ending")
			}
		}
		if t.Failed() {
			t.Logf("csbot stdout:\n%s\ncsbot logs:\n%s", out.String(), logs.String())
		}
	})

	// 3. /handoff acme opens the form.
	cmd, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/handoff", Text: "acme", UserID: hoSales, ChannelID: hoAcme})
	if err != nil {
		t.Fatalf("/handoff acme: %v", err)
	}
	if _, err := srv.WaitForCall(ctx, "views.open", nil); err != nil {
		t.Fatalf("/handoff acme opened no form: %v", err)
	}
	var form slacktest.View
	for _, v := range srv.Views() {
		if v.CallbackID == "handoff_new" && v.UserID == hoSales {
			form = v
		}
	}
	if form.ID == "" {
		t.Fatalf("views.open made no handoff_new view for %s; views: %+v", hoSales, srv.Views())
	}
	if formText := strings.Join(hoTexts(t, form.Blocks), "\n"); !strings.Contains(formText, "Acme Corp") {
		t.Errorf("the form does not name Acme Corp:\n%s", formText)
	}
	for _, block := range []string{"goals", "success_criteria", "products", "contract_start", "go_live", "owner", "stakeholder_champion_new"} {
		if !bytes.Contains(form.Blocks, []byte(`"block_id":"`+block+`"`)) {
			t.Errorf("the form has no %s block", block)
		}
	}
	if ack, err := srv.WaitForAck(ctx, cmd.ID); err != nil || len(ack.Payload) != 0 {
		t.Errorf("/handoff acme ack = %s, %v; want an empty ack", ack.Payload, err)
	}

	// 4. Submitted without goals, going live before the contract starts:
	// the form stays open with both problems, and nothing is saved.
	incomplete := map[string]string{
		"goals":            "",
		"success_criteria": "40 stores live by March",
		"products":         "Platform Pro, Analytics add-on",
		"contract_start":   "2026-12-01",
		"go_live":          "2026-11-01",
		"tier":             "high",
	}
	sub, err := srv.SendInteraction(ctx, slacktest.Interaction{Type: "view_submission", UserID: hoSales, ViewID: form.ID,
		Values: hoFormValues(incomplete)})
	if err != nil {
		t.Fatalf("submit the incomplete form: %v", err)
	}
	ack, err := srv.WaitForAck(ctx, sub.ID)
	if err != nil {
		t.Fatalf("the incomplete form: %v", err)
	}
	var refusal struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if err := ack.DecodePayload(&refusal); err != nil {
		t.Fatalf("the incomplete form: %v", err)
	}
	if refusal.ResponseAction != "errors" || !slices.Equal(slices.Sorted(maps.Keys(refusal.Errors)), []string{"go_live", "goals"}) {
		t.Fatalf("the incomplete form was answered %s; want response_action errors on goals and go_live", ack.Payload)
	}
	if msg := refusal.Errors["goals"]; !strings.Contains(msg, "what the customer wants") {
		t.Errorf("the error on goals is %q, want it to ask what the customer wants", msg)
	}
	if msg := refusal.Errors["go_live"]; !strings.Contains(msg, "before the contract starts") {
		t.Errorf("the error on go_live is %q, want it to say it is before the contract starts", msg)
	}
	if hs := hoHandoffs(ctx, t, db); len(hs) != 0 {
		t.Fatalf("the refused form saved handoffs %v", hs)
	}
	if n := len(hoPosts(srv.Snapshot(), hoAcme)) + len(hoPosts(srv.Snapshot(), hoOnbChannel)); n != 0 {
		t.Fatalf("the refused form posted %d handoffs", n)
	}

	// 5. Submitted fixed: the handoff is posted in both channels.
	fixed := maps.Clone(incomplete)
	maps.Copy(fixed, map[string]string{
		"goals":                    hoGoals,
		"go_live":                  "2027-02-15",
		"seats":                    "250",
		"commitments":              "SSO by launch",
		"owner":                    hoOnboarding,
		"stakeholder_champion_new": "Bea Champion <bea@acme.example>, VP Ops",
	})
	sub, err = srv.SendInteraction(ctx, slacktest.Interaction{Type: "view_submission", UserID: hoSales, ViewID: form.ID,
		Values: hoFormValues(fixed)})
	if err != nil {
		t.Fatalf("submit the fixed form: %v", err)
	}
	if ack, err := srv.WaitForAck(ctx, sub.ID); err != nil || bytes.Contains(ack.Payload, []byte("errors")) {
		t.Fatalf("the fixed form: ack %s, %v; want it accepted", ack.Payload, err)
	}
	snap, err := srv.WaitFor(ctx, func(s slacktest.Snapshot) bool {
		return len(hoPosts(s, hoAcme)) > 0 && len(hoPosts(s, hoOnbChannel)) > 0
	})
	if err != nil {
		t.Fatalf("the handoff was not posted in %s and %s: %v", hoAcme, hoOnbChannel, err)
	}
	hs := hoHandoffs(ctx, t, db)
	if len(hs) != 1 || hs[0].state != "open" {
		t.Fatalf("handoffs after the fixed form: %+v, want one open", hs)
	}
	id := strconv.FormatInt(hs[0].id, 10)
	posted := map[string]slacktest.Message{}
	for _, ch := range []string{hoAcme, hoOnbChannel} {
		m := hoPosts(snap, ch)[0]
		posted[ch] = m
		text := strings.Join(hoTexts(t, m.Blocks), "\n")
		for _, want := range []string{"Handoff: Acme Corp", hoGoals, "Bea Champion", "VP Ops", "no exec sponsor named",
			"Onboarding owner: <@" + hoOnboarding + ">", "from <@" + hoSales + ">", "Acknowledge"} {
			if !strings.Contains(text, want) {
				t.Errorf("the handoff in %s lacks %q:\n%s", ch, want, text)
			}
		}
		if v, ok := hoButton(t, m.Blocks, "handoff_ack"); !ok || v != id {
			t.Errorf("the handoff in %s: Acknowledge button value %q (present %v), want the handoff id %s", ch, v, ok, id)
		}
	}

	// The salesperson is told where it went, by DM.
	snap, err = srv.WaitFor(ctx, func(s slacktest.Snapshot) bool {
		return len(hoDMsSaying(s, hoSales, "posted in <#"+hoAcme+">")) > 0
	})
	if err != nil {
		t.Errorf("%s was not told where the handoff was posted: %v", hoSales, err)
	}

	// 6. The salesperson may not acknowledge it; the posts stay as they
	// are.
	click, err := srv.SendInteraction(ctx, slacktest.Interaction{Type: "block_actions", UserID: hoSales, ChannelID: hoOnbChannel,
		MessageTS: posted[hoOnbChannel].TS, Actions: []slacktest.Action{{ActionID: "handoff_ack", BlockID: "handoff_actions", Value: id, Text: "Acknowledge"}}})
	if err != nil {
		t.Fatalf("%s clicks Acknowledge: %v", hoSales, err)
	}
	no, err := srv.WaitForResponse(ctx, click.ID)
	if err != nil {
		t.Fatalf("%s clicked Acknowledge and got no answer: %v", hoSales, err)
	}
	if !strings.Contains(no.Text, "Only onboarding") || no.ResponseType != "ephemeral" || no.ReplaceOriginal {
		t.Errorf("%s clicked Acknowledge: %q (response_type %q, replace_original %v); want an ephemeral refusal saying only onboarding may",
			hoSales, no.Text, no.ResponseType, no.ReplaceOriginal)
	}
	snap = srv.Snapshot()
	for _, ch := range []string{hoAcme, hoOnbChannel} {
		if m, ok := hoMessage(snap, ch, posted[ch].TS); !ok || m.Edits != 0 || !bytes.Equal(m.Blocks, posted[ch].Blocks) {
			t.Errorf("the handoff in %s changed after a refused Acknowledge: %+v", ch, m)
		}
	}
	if n := len(snap.Calls("chat.update")); n != 0 {
		t.Errorf("a refused Acknowledge made %d chat.update calls", n)
	}
	if hs := hoHandoffs(ctx, t, db); len(hs) != 1 || hs[0].state != "open" {
		t.Errorf("handoffs after a refused Acknowledge: %+v, want it still open", hs)
	}

	// 7. The onboarding lead acknowledges it: both posts are updated in
	// place, and the salesperson is told.
	click, err = srv.SendInteraction(ctx, slacktest.Interaction{Type: "block_actions", UserID: hoOnboarding, ChannelID: hoOnbChannel,
		MessageTS: posted[hoOnbChannel].TS, Actions: []slacktest.Action{{ActionID: "handoff_ack", BlockID: "handoff_actions", Value: id, Text: "Acknowledge"}}})
	if err != nil {
		t.Fatalf("%s clicks Acknowledge: %v", hoOnboarding, err)
	}
	yes, err := srv.WaitForResponse(ctx, click.ID)
	if err != nil {
		t.Fatalf("%s clicked Acknowledge and got no answer: %v", hoOnboarding, err)
	}
	if !strings.Contains(yes.Text, "Acknowledged the handoff for") || !strings.Contains(yes.Text, "<@"+hoSales+"> is told") {
		t.Errorf("%s clicked Acknowledge: %q, want it confirmed", hoOnboarding, yes.Text)
	}
	acked := "Acknowledged by <@" + hoOnboarding + ">"
	snap, err = srv.WaitFor(ctx, func(s slacktest.Snapshot) bool {
		for _, ch := range []string{hoAcme, hoOnbChannel} {
			m, ok := hoMessage(s, ch, posted[ch].TS)
			if !ok || m.Edits == 0 || !strings.Contains(strings.Join(hoTexts(t, m.Blocks), "\n"), acked) {
				return false
			}
		}
		return len(hoDMsSaying(s, hoSales, "acknowledged your handoff")) > 0
	})
	if err != nil {
		for _, ch := range []string{hoAcme, hoOnbChannel} {
			m, _ := hoMessage(snap, ch, posted[ch].TS)
			t.Logf("%s: edits %d, blocks %s", ch, m.Edits, m.Blocks)
		}
		t.Fatalf("after the acknowledgement: the posts were not updated to %q, or %s was not told: %v", acked, hoSales, err)
	}
	for _, ch := range []string{hoAcme, hoOnbChannel} {
		m, _ := hoMessage(snap, ch, posted[ch].TS)
		if _, ok := hoButton(t, m.Blocks, "handoff_ack"); ok {
			t.Errorf("the acknowledged handoff in %s still has an Acknowledge button", ch)
		}
		if text := strings.Join(hoTexts(t, m.Blocks), "\n"); !strings.Contains(text, hoGoals) || !strings.Contains(text, "Bea Champion") {
			t.Errorf("the acknowledged handoff in %s lost its content:\n%s", ch, text)
		}
		if n := len(hoPosts(snap, ch)); n != 1 {
			t.Errorf("%s has %d handoff posts, want the one updated in place", ch, n)
		}
	}
	updates := snap.Calls("chat.update")
	for _, ch := range []string{hoAcme, hoOnbChannel} {
		if !slices.ContainsFunc(updates, func(c slacktest.Call) bool {
			return c.OK() && c.Param("channel") == ch && c.Param("ts") == posted[ch].TS
		}) {
			t.Errorf("no successful chat.update of the handoff in %s (ts %s)", ch, posted[ch].TS)
		}
	}
	if dm := hoDMsSaying(snap, hoSales, "acknowledged your handoff"); len(dm) != 1 || !strings.Contains(dm[0].Text, "<@"+hoOnboarding+">") ||
		!strings.Contains(dm[0].Text, "Acme Corp") {
		t.Errorf("%s's DMs about the acknowledgement: %+v, want one naming %s and Acme Corp", hoSales, dm, hoOnboarding)
	}
	if hs := hoHandoffs(ctx, t, db); len(hs) != 1 || hs[0].state != "acknowledged" {
		t.Errorf("handoffs after the acknowledgement: %+v, want it acknowledged", hs)
	}

	// 8. /handoff status no longer lists Acme as waiting.
	cmd, err = srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/handoff", Text: "status", UserID: hoOnboarding, ChannelID: hoOnbChannel})
	if err != nil {
		t.Fatalf("/handoff status: %v", err)
	}
	status, err := srv.WaitForResponse(ctx, cmd.ID)
	if err != nil {
		t.Fatalf("/handoff status got no answer: %v", err)
	}
	statusText := status.Text + "\n" + strings.Join(hoTexts(t, status.Blocks), "\n")
	if strings.Contains(statusText, "Acme") || !strings.Contains(statusText, "No handoff is waiting") {
		t.Errorf("/handoff status after the acknowledgement: %q, want no handoff waiting", statusText)
	}

	// csbot stops cleanly.
	stop()
	select {
	case code := <-done:
		exited = true
		if code != exitOK {
			t.Errorf("csbot exit code after shutdown = %d, want 0", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("csbot did not stop within 20 s of its context ending")
	}
	snap = srv.Snapshot()
	if n := len(hoDMsSaying(snap, hoSales, "posted in <#"+hoAcme+">")); n != 1 {
		t.Errorf("%s was told %d times that the handoff was posted, want once", hoSales, n)
	}
	for _, ch := range []string{hoAcme, hoOnbChannel} {
		if n := len(hoPosts(snap, ch)); n != 1 {
			t.Errorf("%s has %d handoff posts, want 1", ch, n)
		}
	}
	t.Logf("handoff end to end took %v", time.Since(began).Round(time.Millisecond))
}

// hoFormValues builds the handoff form's state as Slack sends it on
// submission, from block_id (= action_id) and value: dates, selects and
// the owner each in the field Slack puts them in; an empty text is null.
func hoFormValues(kv map[string]string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for block, v := range kv {
		var state map[string]any
		switch block {
		case "contract_start", "go_live":
			state = map[string]any{"type": "datepicker", "selected_date": v}
		case "tier":
			state = map[string]any{"type": "static_select", "selected_option": map[string]any{
				"text": map[string]any{"type": "plain_text", "text": v}, "value": v}}
		case "owner":
			state = map[string]any{"type": "users_select", "selected_user": v}
		case "seats":
			state = map[string]any{"type": "number_input", "value": v}
		default:
			state = map[string]any{"type": "plain_text_input", "value": v}
			if v == "" {
				state["value"] = nil
			}
		}
		out[block] = map[string]any{block: state}
	}
	return out
}

// hoTexts returns every text of a Block Kit array, in order: section and
// context texts, fields and button labels.
func hoTexts(t *testing.T, blocks json.RawMessage) []string {
	t.Helper()
	if len(blocks) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(blocks, &v); err != nil {
		t.Errorf("blocks not understood: %v\n%s", err, blocks)
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				out = append(out, s)
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// hoButton returns the value of the button with the action id in a Block
// Kit array.
func hoButton(t *testing.T, blocks json.RawMessage, actionID string) (string, bool) {
	t.Helper()
	var bs []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(blocks, &bs); err != nil {
		t.Errorf("blocks not understood: %v\n%s", err, blocks)
		return "", false
	}
	for _, b := range bs {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return e.Value, true
			}
		}
	}
	return "", false
}

// hoPosts returns the handoff posts for Acme in a channel: the messages
// whose blocks head "Handoff: Acme Corp".
func hoPosts(s slacktest.Snapshot, channel string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range s.Messages(channel) {
		if bytes.Contains(m.Blocks, []byte("Handoff: Acme Corp")) {
			out = append(out, m)
		}
	}
	return out
}

// hoMessage returns the message ts of a channel as it stands.
func hoMessage(s slacktest.Snapshot, channel, ts string) (slacktest.Message, bool) {
	for _, m := range s.Messages(channel) {
		if m.TS == ts {
			return m, true
		}
	}
	return slacktest.Message{}, false
}

// hoDM returns the id of the bot's DM channel with user, as Slack
// answered conversations.open or a chat.postMessage to the user; "" when
// there is none yet.
func hoDM(s slacktest.Snapshot, user string) string {
	for _, c := range s.Calls("") {
		if !c.OK() {
			continue
		}
		switch {
		case c.Method == "conversations.open" && c.Param("users") == user:
			var r struct {
				Channel struct {
					ID string `json:"id"`
				} `json:"channel"`
			}
			if json.Unmarshal(c.Response, &r) == nil && r.Channel.ID != "" {
				return r.Channel.ID
			}
		case c.Method == "chat.postMessage" && c.Param("channel") == user:
			var r struct {
				Channel string `json:"channel"`
			}
			if json.Unmarshal(c.Response, &r) == nil && r.Channel != "" {
				return r.Channel
			}
		}
	}
	return ""
}

// hoDMsSaying returns the messages of the bot's DM with user whose text
// contains want.
func hoDMsSaying(s slacktest.Snapshot, user, want string) []slacktest.Message {
	dm := hoDM(s, user)
	if dm == "" {
		return nil
	}
	var out []slacktest.Message
	for _, m := range s.Messages(dm) {
		if strings.Contains(m.Text, want) {
			out = append(out, m)
		}
	}
	return out
}

// hoHandoff is a handoff row as the database holds it.
type hoHandoff struct {
	id    int64
	state string
}

// hoHandoffs reads the handoffs in the database at url.
func hoHandoffs(ctx context.Context, t *testing.T, url string) []hoHandoff {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT id, state FROM handoffs ORDER BY id`)
	var out []hoHandoff
	var h hoHandoff
	if _, err := pgx.ForEachRow(rows, []any{&h.id, &h.state}, func() error {
		out = append(out, h)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
