package playground

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/csbot/csbot/bot/slacktest"
)

// The workspace of the tests.
const (
	userDana = "U0DANA" // a CSM
	userMax  = "U0MAX"  // her manager
	chanAcme = "C0ACME" // Acme's channel
)

// fakeBot is a small Slack app on a real slack-go Socket Mode client: it
// answers /health with a card, opens a form from the card's button,
// refuses the form's first submission with an error on a field and
// accepts the second, and publishes an App Home. It records what it was
// sent.
type fakeBot struct {
	api    *slack.Client
	client *socketmode.Client

	mu          sync.Mutex
	actions     []slack.InteractionCallback
	submissions []slack.InteractionCallback
	commands    []slack.SlashCommand
	// ackCommand, when set, gives the ack of a slash command, and the
	// command gets no other answer; answerSubmission, when set, gives the
	// ack of a view submission.
	ackCommand       func(slack.SlashCommand) any
	answerSubmission func(slack.InteractionCallback) any
}

func startFakeBot(ctx context.Context, t *testing.T, sim *slacktest.Server) *fakeBot {
	t.Helper()
	quiet := log.New(io.Discard, "", 0)
	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.URL()), slack.OptionAppLevelToken(sim.AppToken()), slack.OptionLog(quiet))
	b := &fakeBot{api: api, client: socketmode.New(api, socketmode.OptionLog(quiet))}
	runCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = b.client.RunContext(runCtx)
	}()
	go func() {
		defer wg.Done()
		b.serve(runCtx)
	}()
	t.Cleanup(func() {
		stop()
		wg.Wait()
	})
	if _, err := sim.WaitForConnection(ctx, 1); err != nil {
		t.Fatalf("the fake bot never connected: %v", err)
	}
	return b
}

func (b *fakeBot) serve(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-b.client.Events:
			b.handle(ctx, evt)
		}
	}
}

func (b *fakeBot) handle(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		cmd := evt.Data.(slack.SlashCommand)
		b.mu.Lock()
		b.commands = append(b.commands, cmd)
		ackCommand := b.ackCommand
		b.mu.Unlock()
		if ackCommand != nil {
			_ = b.client.Ack(*evt.Request, ackCommand(cmd))
			return
		}
		_ = b.client.Ack(*evt.Request)
		_ = slack.PostWebhookContext(ctx, cmd.ResponseURL, &slack.WebhookMessage{
			Text: "Acme Corp is red", Blocks: &slack.Blocks{BlockSet: healthCard()}})
	case socketmode.EventTypeInteractive:
		cb := evt.Data.(slack.InteractionCallback)
		switch cb.Type {
		case slack.InteractionTypeBlockActions:
			b.mu.Lock()
			b.actions = append(b.actions, cb)
			b.mu.Unlock()
			_ = b.client.Ack(*evt.Request)
			if len(cb.ActionCallback.BlockActions) == 1 && cb.ActionCallback.BlockActions[0].ActionID == "touchpoint" {
				_, _ = b.api.OpenViewContext(ctx, cb.TriggerID, touchpointForm())
			}
		case slack.InteractionTypeViewSubmission:
			b.mu.Lock()
			b.submissions = append(b.submissions, cb)
			first := len(b.submissions) == 1
			answer := b.answerSubmission
			b.mu.Unlock()
			if answer != nil {
				_ = b.client.Ack(*evt.Request, answer(cb))
				return
			}
			if first {
				_ = b.client.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"note": "Say a little more"}))
				return
			}
			_ = b.client.Ack(*evt.Request)
			note := cb.View.State.Values["note"]["note_input"].Value
			_, _, _ = b.api.PostMessageContext(ctx, chanAcme, slack.MsgOptionText("Touchpoint logged: "+slackEscape(note), false))
		default:
			_ = b.client.Ack(*evt.Request)
		}
	case socketmode.EventTypeEventsAPI:
		_ = b.client.Ack(*evt.Request)
		var p struct {
			Event struct {
				Type string `json:"type"`
				User string `json:"user"`
			} `json:"event"`
		}
		user := ""
		if json.Unmarshal(evt.Request.Payload, &p) == nil && p.Event.Type == "app_home_opened" {
			user = p.Event.User
		}
		if user != "" {
			_, _ = b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: slack.HomeTabViewRequest{
				Type:   slack.VTHomeTab,
				Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(mk("*Your book*: 12 accounts"), nil, nil)}},
			}})
		}
	}
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func mk(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}

func plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
}

// healthCard is the fake /health answer; a field holds text a customer
// typed, escaped as a bot must.
func healthCard() []slack.Block {
	log := slack.NewButtonBlockElement("touchpoint", "acme-1", plain("Log a touchpoint"))
	log.Style = slack.StylePrimary
	ack := slack.NewButtonBlockElement("ack", "alert-7", plain("Acknowledge"))
	ack.Confirm = slack.NewConfirmationBlockObject(plain("Acknowledge?"), mk("Mark the alert *acknowledged*?"), plain("Yes"), plain("No"))
	more := slack.NewOverflowBlockElement("more", slack.NewOptionBlockObject("snooze7", plain("Snooze 7 days"), nil))
	return []slack.Block{
		slack.NewHeaderBlock(plain("Acme Corp")),
		slack.NewSectionBlock(mk("*Health* 38/100 🔴 red, down 21 in 30 days\n<@"+userDana+"> owns it; see <#"+chanAcme+">"), []*slack.TextBlockObject{
			mk("*ARR*\n$120,000"), mk("*Last NPS comment*\n" + slackEscape(`<script>alert("x")</script> & more`)),
		}, nil),
		slack.NewDividerBlock(),
		slack.NewActionBlock("card_actions", log, ack, more),
		slack.NewContextBlock("", mk("Computed just now · <https://csbot.example/acme|details>")),
	}
}

// touchpointForm is the form the card's button opens.
func touchpointForm() slack.ModalViewRequest {
	note := slack.NewPlainTextInputBlockElement(plain("What happened?"), "note_input")
	note.Multiline = true
	kind := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Kind"), "kind_select",
		slack.NewOptionBlockObject("call", plain("Call"), nil), slack.NewOptionBlockObject("meeting", plain("Meeting"), nil))
	who := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("Who"), "who_select")
	flags := slack.NewCheckboxGroupsBlockElement("flags_check",
		slack.NewOptionBlockObject("exec", mk("Exec sponsor was there"), nil), slack.NewOptionBlockObject("followup", mk("Follow-up needed"), nil))
	when := slack.NewDatePickerBlockElement("when_date")
	whoBlock := slack.NewInputBlock("who", plain("With"), nil, who)
	whoBlock.Optional = true
	flagsBlock := slack.NewInputBlock("flags", plain("Notes"), nil, flags)
	flagsBlock.Optional = true
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: "touchpoint", PrivateMetadata: "acme-1",
		Title: plain("Log a touchpoint"), Submit: plain("Save"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("note", plain("Note"), nil, note),
			slack.NewInputBlock("kind", plain("Kind"), nil, kind),
			slack.NewInputBlock("when", plain("When"), nil, when),
			whoBlock, flagsBlock,
		}},
	}
}

// testPlayground is a playground on a simulator with a fake bot.
type testPlayground struct {
	sim  *slacktest.Server
	bot  *fakeBot
	pg   *Server
	http *httptest.Server
	logs *syncBuffer
}

// syncBuffer is a log's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestPlayground(ctx context.Context, t *testing.T, runs func(ctx context.Context, at time.Time) (string, error)) *testPlayground {
	t.Helper()
	sim := slacktest.New(t)
	sim.AddUser(slacktest.User{ID: userDana, Name: "userDana", RealName: "Dana Smith", TZ: "Europe/Berlin"})
	sim.AddUser(slacktest.User{ID: userMax, Name: "max", RealName: "Max Manager", TZ: "America/New_York"})
	sim.AddChannel(slacktest.Channel{ID: chanAcme, Name: "acme-corp", Member: true})
	sim.AddChannel(slacktest.Channel{ID: "C0PARTNER", Name: "partner-shared", Member: true, ExtShared: true, Shared: true})
	logs := &syncBuffer{}
	page, err := New(Config{
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Slack:  sim,
		People: []Person{
			{ID: userDana, Name: "Dana Smith", Role: "csm", TZ: "Europe/Berlin", Channels: []string{chanAcme}},
			{ID: userMax, Name: "Max Manager", Role: "manager", TZ: "America/New_York"},
		},
		Commands:     []Command{{Name: "/health", Usage: "[account]", Description: "An account's health"}},
		Clock:        NewClock(nil),
		RunSchedules: runs,
		AckTimeout:   5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(page.Handler())
	t.Cleanup(ts.Close)
	t.Cleanup(page.Close)
	return &testPlayground{sim: sim, bot: startFakeBot(ctx, t, sim), pg: page, http: ts, logs: logs}
}

// post calls the page's API and decodes its JSON answer into out.
func (p *testPlayground) post(t *testing.T, path string, body, out any) int {
	t.Helper()
	raw, _ := json.Marshal(body)
	res, err := http.Post(p.http.URL+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("POST %s: decode answer: %v", path, err)
		}
	}
	return res.StatusCode
}

// page returns the page as person in channel (and tab).
func (p *testPlayground) page(t *testing.T, query string) string {
	t.Helper()
	res, err := http.Get(p.http.URL + "/?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /?%s = %d: %s", query, res.StatusCode, b)
	}
	return string(b)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestCommandCardAndForm runs a person's round trip through the page: a
// slash command reaches the bot over Socket Mode and its card is
// rendered; the card's button reaches the bot as a block action and opens
// a form; the form is checked as Slack's client checks it, refused by the
// bot with an error on a field, shown with that error, and accepted.
func TestCommandCardAndForm(t *testing.T) {
	ctx := testContext(t)
	p := newTestPlayground(ctx, t, nil)
	q := "as=" + userDana + "&in=" + chanAcme

	var answer map[string]any
	if code := p.post(t, "/api/command", map[string]string{"as": userDana, "in": chanAcme, "text": "/health acme @max #acme-corp"}, &answer); code != http.StatusOK {
		t.Fatalf("POST /api/command = %d %v", code, answer)
	}
	p.bot.mu.Lock()
	got := p.bot.commands[0]
	p.bot.mu.Unlock()
	if got.Command != "/health" || got.Text != "acme <@"+userMax+"|max> <#"+chanAcme+"|acme-corp>" || got.UserID != userDana || got.ChannelID != chanAcme {
		t.Errorf("the bot got %+v, want /health with Slack's escaping of mentions, from Dana in #acme-corp", got)
	}
	if _, err := p.sim.WaitFor(ctx, func(s slacktest.Snapshot) bool { return len(s.Ephemerals()) == 1 }); err != nil {
		t.Fatal(err)
	}
	html := p.page(t, q)
	for _, want := range []string{
		`<code>/health acme @max #acme-corp</code>`,
		`Only visible to you`,
		`<h2 class="block header">Acme Corp</h2>`,
		`<b>Health</b> 38/100 🔴 red, down 21 in 30 days<br><span class="md-mention">@Dana Smith</span> owns it; see <span class="md-mention">#acme-corp</span>`,
		`<b>Last NPS comment</b><br>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more`,
		`<button type="button" class="btn btn-primary" data-path="3/0" data-action-id="touchpoint">Log a touchpoint</button>`,
		`<div class="c-text">Mark the alert <b>acknowledged</b>?</div>`,
		`<option value="snooze7">Snooze 7 days</option>`,
		`<a class="md-link" href="https://csbot.example/acme" target="_blank" rel="noopener noreferrer">details</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(html, "<script>alert") {
		t.Error("text the bot escaped became a script tag")
	}
	ts := regexp.MustCompile(`class="msg ephemeral" data-channel="` + chanAcme + `" data-ts="([0-9.]+)"`).FindStringSubmatch(html)
	if ts == nil {
		t.Fatalf("no ephemeral message with a ts in the page:\n%s", html)
	}

	// The button: a block action on the ephemeral message, which opens the
	// form.
	if code := p.post(t, "/api/action", map[string]any{"as": userDana, "in": chanAcme, "ts": ts[1], "path": "3/0", "action_id": "touchpoint"}, &answer); code != http.StatusOK {
		t.Fatalf("POST /api/action = %d %v", code, answer)
	}
	p.bot.mu.Lock()
	cb := p.bot.actions[0]
	p.bot.mu.Unlock()
	if a := cb.ActionCallback.BlockActions; len(a) != 1 || a[0].ActionID != "touchpoint" || a[0].BlockID != "card_actions" || a[0].Value != "acme-1" ||
		cb.User.ID != userDana || cb.Channel.ID != chanAcme || cb.Container.MessageTs != ts[1] || !cb.Container.IsEphemeral || cb.ResponseURL == "" {
		t.Errorf("block action = %+v %+v, want the touchpoint button of Dana's ephemeral card in #acme-corp", cb.ActionCallback.BlockActions, cb.Container)
	}
	if _, err := p.sim.WaitForCall(ctx, "views.open", nil); err != nil {
		t.Fatal(err)
	}
	html = p.page(t, q)
	for _, want := range []string{`<h2 id="modal-title">Log a touchpoint</h2>`, `<textarea class="text" id="in-0/e"`,
		`<option value="call">Call</option>`, `<input type="date"`, `<option value="` + userMax + `">Max Manager</option>`,
		`<input type="checkbox" name="g-4/e" data-path="4/e" data-action-id="flags_check" value="exec">`,
		`<button type="submit" class="btn btn-primary">Save</button>`} {
		if !strings.Contains(html, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	view := p.sim.Views()[0].ID

	// Required fields left empty: Slack's client says so and sends nothing.
	var sub submitAnswer
	p.post(t, "/api/submit", map[string]any{"as": userDana, "view": view, "state": map[string][]string{}}, &sub)
	if sub.Errors["note"] != "Please complete this required field." || sub.Errors["kind"] == "" || sub.Errors["who"] != "" || sub.Closed {
		t.Errorf("empty submission = %+v, want the required fields named, the optional ones not", sub)
	}

	filled := map[string][]string{"0/e": {"Called the champion <b>now</b>"}, "1/e": {"call"}, "2/e": {"2026-03-02"},
		"3/e": {userMax}, "4/e": {"exec", "followup"}}
	p.post(t, "/api/submit", map[string]any{"as": userDana, "view": view, "state": filled}, &sub)
	if sub.Errors["note"] != "Say a little more" || sub.Closed {
		t.Fatalf("first submission = %+v, want the bot's error on the note", sub)
	}
	if html := p.page(t, q); !strings.Contains(html, `<div class="block input has-error" data-block-id="note">`) ||
		!strings.Contains(html, `<div class="error" role="alert">Say a little more</div>`) {
		t.Error("the bot's error is not shown on the note")
	}
	sub = submitAnswer{}
	p.post(t, "/api/submit", map[string]any{"as": userDana, "view": view, "state": filled}, &sub)
	if !sub.Closed || len(sub.Errors) > 0 {
		t.Fatalf("second submission = %+v, want the form closed", sub)
	}
	p.bot.mu.Lock()
	v := p.bot.submissions[1].View
	p.bot.mu.Unlock()
	st := v.State.Values
	if st["note"]["note_input"].Value != "Called the champion <b>now</b>" || st["kind"]["kind_select"].SelectedOption.Value != "call" ||
		st["when"]["when_date"].SelectedDate != "2026-03-02" || st["who"]["who_select"].SelectedUser != userMax ||
		len(st["flags"]["flags_check"].SelectedOptions) != 2 || v.CallbackID != "touchpoint" || v.PrivateMetadata != "acme-1" {
		t.Errorf("submitted view = callback %q, metadata %q, state %+v", v.CallbackID, v.PrivateMetadata, st)
	}
	if _, err := p.sim.WaitFor(ctx, func(s slacktest.Snapshot) bool { return len(s.Messages(chanAcme)) == 1 }); err != nil {
		t.Fatal(err)
	}
	html = p.page(t, q)
	if strings.Contains(html, `class="overlay"`) {
		t.Error("the form is still shown after it was accepted")
	}
	if !strings.Contains(html, "Touchpoint logged: Called the champion &lt;b&gt;now&lt;/b&gt;") {
		t.Error("the bot's message in the channel is not shown")
	}
}

// TestEventStreamFollowsTheBot reads the page's event stream: the first
// event is the page as it stands, the next ones carry what the bot sends.
func TestEventStreamFollowsTheBot(t *testing.T) {
	ctx := testContext(t)
	p := newTestPlayground(ctx, t, nil)
	st := p.follow(ctx, t, "as="+userDana+"&in="+chanAcme)
	first := st.next(t)
	if first.Main == nil || !strings.Contains(*first.Main, "Nothing here yet") || first.Sidebar == nil ||
		!strings.Contains(*first.Sidebar, "acme-corp") || first.Modal == nil || first.Modal.Key != "" || first.Clock == nil {
		t.Fatalf("first event = %+v, want the whole page, no modal", first)
	}
	if _, err := p.sim.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/health", Text: "acme", UserID: userDana, ChannelID: chanAcme}); err != nil {
		t.Fatal(err)
	}
	st.until(t, func() bool { return strings.Contains(st.feed(), "Acme Corp") })
}

// TestHomeTab opens the App Home: the page sends app_home_opened, and
// shows the view the bot publishes.
func TestHomeTab(t *testing.T) {
	ctx := testContext(t)
	p := newTestPlayground(ctx, t, nil)
	dm := p.sim.OpenDM(userDana)
	if html := p.page(t, "as="+userDana+"&in="+dm+"&tab=home"); !strings.Contains(html, "has not published a Home tab") {
		t.Errorf("the Home tab before the bot published one:\n%s", html)
	}
	var answer map[string]any
	if code := p.post(t, "/api/home", map[string]string{"as": userDana}, &answer); code != http.StatusOK {
		t.Fatalf("POST /api/home = %d %v", code, answer)
	}
	if _, err := p.sim.WaitForCall(ctx, "views.publish", nil); err != nil {
		t.Fatal(err)
	}
	if html := p.page(t, "as="+userDana+"&in="+dm+"&tab=home"); !strings.Contains(html, "<b>Your book</b>: 12 accounts") {
		t.Errorf("the Home tab does not show the published view:\n%s", html)
	}
}

func TestUnknownCommandsAndMessagesAreRefused(t *testing.T) {
	ctx := testContext(t)
	p := newTestPlayground(ctx, t, nil)
	for text, want := range map[string]string{
		"/frobnicate": "/frobnicate is not a valid command. csbot knows /health.",
		"hello":       "Type a slash command",
	} {
		var answer map[string]any
		if code := p.post(t, "/api/command", map[string]string{"as": userDana, "in": chanAcme, "text": text}, &answer); code != http.StatusBadRequest ||
			!strings.HasPrefix(fmt.Sprint(answer["error"]), want) {
			t.Errorf("%q = %d %v, want 400 %q", text, code, answer, want)
		}
	}
	var answer map[string]any
	if code := p.post(t, "/api/command", map[string]string{"as": userDana, "in": "C0NOPE", "text": "/health acme"}, &answer); code != http.StatusBadRequest {
		t.Errorf("a command in an unknown channel = %d %v, want 400", code, answer)
	}
	if code := p.post(t, "/api/command", map[string]string{"as": userDana, "in": p.sim.OpenDM(userMax), "text": "/health acme"}, &answer); code != http.StatusBadRequest {
		t.Errorf("a command in someone else's DM = %d %v, want 400", code, answer)
	}
	if n := len(p.sim.Deliveries()); n != 0 {
		t.Errorf("%d envelopes sent for refused input", n)
	}
}

func TestClockControl(t *testing.T) {
	ctx := testContext(t)
	var mu sync.Mutex
	var ran []time.Time
	p := newTestPlayground(ctx, t, func(_ context.Context, at time.Time) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		ran = append(ran, at)
		return "2 notifications delivered", nil
	})
	before := p.pg.now()
	var answer map[string]any
	if code := p.post(t, "/api/clock", map[string]string{"as": userDana, "step": "day"}, &answer); code != http.StatusOK ||
		answer["summary"] != "2 notifications delivered" {
		t.Fatalf("POST /api/clock = %d %v", code, answer)
	}
	mu.Lock()
	at := ran[0]
	mu.Unlock()
	if d := at.Sub(before); d < 24*time.Hour || d > 24*time.Hour+time.Minute {
		t.Errorf("+1 day ran the schedules %v after the clock read %v", d, before)
	}
	if now := p.pg.now(); now.Before(at) {
		t.Errorf("the clock reads %v after running at %v", now, at)
	}
	if html := p.page(t, "as="+userDana); !strings.Contains(html, "2 notifications delivered") || !strings.Contains(html, `<span class="ahead">1d ahead</span>`) {
		t.Error("the page does not show the run and the clock ahead")
	}
	if code := p.post(t, "/api/clock", map[string]string{"as": userDana, "step": "at", "at": "2001-01-01T09:00"}, &answer); code != http.StatusBadRequest ||
		!strings.Contains(fmt.Sprint(answer["error"]), "only moves forward") {
		t.Errorf("a time in the past = %d %v", code, answer)
	}
}

func TestClockTarget(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin") // time/tzdata is linked in: no skip
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 4, 16, 30, 0, 0, berlin) // a Wednesday
	tests := []struct {
		step, at string
		want     time.Time
	}{
		{"hour", "", now.Add(time.Hour)},
		{"day", "", now.Add(24 * time.Hour)},
		{"monday", "", time.Date(2026, 3, 9, 9, 0, 0, 0, berlin)},
		{"at", "2026-03-05T08:15", time.Date(2026, 3, 5, 8, 15, 0, 0, berlin)},
	}
	for _, tt := range tests {
		got, err := clockTarget(now, berlin, tt.step, tt.at)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("clockTarget(%s, %q) = %v, %v; want %v", tt.step, tt.at, got, err, tt.want)
		}
	}
	monday := time.Date(2026, 3, 9, 8, 0, 0, 0, berlin)
	if got, _ := clockTarget(monday, berlin, "monday", ""); !got.Equal(time.Date(2026, 3, 9, 9, 0, 0, 0, berlin)) {
		t.Errorf("next Monday 09:00 from Monday 08:00 = %v, want that day", got)
	}
	if got, _ := clockTarget(monday.Add(2*time.Hour), berlin, "monday", ""); !got.Equal(time.Date(2026, 3, 16, 9, 0, 0, 0, berlin)) {
		t.Errorf("next Monday 09:00 from Monday 10:00 = %v, want a week later", got)
	}
	for _, bad := range []struct{ step, at string }{{"at", "tomorrow"}, {"at", "2026-03-04T16:00"}, {"week", ""}} {
		if _, err := clockTarget(now, berlin, bad.step, bad.at); err == nil {
			t.Errorf("clockTarget(%s, %q) did not fail", bad.step, bad.at)
		}
	}
}

func TestClockOnlyMovesForward(t *testing.T) {
	wall := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	c := NewClock(func() time.Time { return wall })
	if err := c.AdvanceTo(wall.Add(-time.Hour)); err == nil {
		t.Error("the clock went back")
	}
	if err := c.AdvanceTo(wall.Add(48 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	wall = wall.Add(time.Minute)
	if got, want := c.Now(), wall.Add(48*time.Hour); !got.Equal(want) {
		t.Errorf("Now = %v, want %v: the moved clock runs on", got, want)
	}
}

// TestOtherSitesAreKeptOut checks the guard against cross-site requests
// and DNS rebinding.
func TestOtherSitesAreKeptOut(t *testing.T) {
	ctx := testContext(t)
	p := newTestPlayground(ctx, t, nil)
	do := func(method, path, contentType, origin, host string) int {
		req, _ := http.NewRequestWithContext(ctx, method, p.http.URL+path, strings.NewReader(`{"as":"`+userDana+`","in":"`+chanAcme+`","text":"/health x"}`))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if host != "" {
			req.Host = host
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := do(http.MethodPost, "/api/command", "text/plain", "", ""); got != http.StatusUnsupportedMediaType {
		t.Errorf("a form post = %d, want 415", got)
	}
	if got := do(http.MethodPost, "/api/command", "application/json", "http://evil.example", ""); got != http.StatusForbidden {
		t.Errorf("a cross-origin post = %d, want 403", got)
	}
	if got := do(http.MethodGet, "/", "", "", "evil.example:8088"); got != http.StatusForbidden {
		t.Errorf("a request for another host name = %d, want 403", got)
	}
	if got := do(http.MethodGet, "/", "", "", "localhost:8088"); got != http.StatusOK {
		t.Errorf("a request for localhost = %d, want 200", got)
	}
	if n := len(p.sim.Deliveries()); n != 0 {
		t.Errorf("%d envelopes sent for refused requests", n)
	}
}

// TestServeStopsWithItsContext checks that Serve ends its event streams
// and returns when its context ends.
func TestServeStopsWithItsContext(t *testing.T) {
	ctx := testContext(t)
	p := newTestPlayground(ctx, t, nil)
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- p.pg.Serve(serveCtx, ln) }()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/events?as="+userDana, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := bufio.NewReader(res.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := io.Copy(io.Discard, res.Body); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Logf("event stream ended with %v", err)
	}
}
