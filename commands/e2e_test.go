package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/commands"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
)

// These tests run /health and /renewals end to end: the fake Slack
// delivers envelopes over Socket Mode to the real runtime (slack-go
// client, Poster, channel guard), the commands answer from a real
// database, and the assertions read what Slack received.

// The people and channels of the fake workspace.
const (
	e2eCSM      = "U0CSM1"   // Dana Scully, Acme's CSM
	e2eOtherCSM = "U0CSM2"   // Fox Mulder, Globex's CSM
	e2eBookCSM  = "U0CSM3"   // Kim Book, the CSM of the paged book
	e2eManager  = "U0BOSS1"  // Walter Skinner, manages Dana and Fox
	e2eMember   = "U0NOBODY" // a member the users table does not know
	e2eGuest    = "U0GUEST"  // a multi-channel guest
	e2eStranger = "U0EXT"    // from another organisation, in the shared channel

	e2eAcmeChannel = "C0ACME1"  // Acme's own channel
	e2eChannel     = "C0ELSE1"  // an ordinary internal channel
	e2eShared      = "C0SHARED" // a Slack Connect channel
	e2eNewChannel  = "C0NEW01"  // not linked to any account yet
	e2eNewChannel2 = "C0NEW02"  // not linked to any account yet
)

// e2eOutsiderNote is part of the refusal guests and external users get.
const e2eOutsiderNote = "isn't available to guests or to people from other organisations"

// e2eSharedNote is part of the note on a reply kept out of a shared
// channel.
const e2eSharedNote = "this channel is shared with another organisation"

// e2eNow is the commands' fixed clock: a Monday morning.
func e2eNow() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }

// e2eContext returns a context that ends with the test or after 45 s, so
// that a broken test fails rather than hangs.
func e2eContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// e2eBook is the book the tests load, CSV by import kind: the handler
// tests' book (healthBook) with a third CSM, Kim, whose renewals the
// paging test adds.
func e2eBook() map[string]string {
	book := healthBook()
	book["users"] += "U0CSM3,csm,Kim Book,kim@vendor.example,U0BOSS1,\n"
	return book
}

// e2eBookCSV returns the CSV files of Kim's book: n accounts renewing
// over the 90 days after e2eNow, every fourth without a renewal contact.
func e2eBookCSV(n int) map[string]string {
	var acc, con, ren strings.Builder
	acc.WriteString("external_id,name,tier,arr,csm\n")
	con.WriteString("account_external_id,name,role\n")
	ren.WriteString("external_id,account_external_id,renewal_date,arr,auto_renew\n")
	today := e2eNow().Truncate(24 * time.Hour)
	for i := range n {
		fmt.Fprintf(&acc, "B%03d,Book Account %03d,low,%d,%s\n", i, i, 1000*(i+1), e2eBookCSM)
		if i%4 != 3 {
			fmt.Fprintf(&con, "B%03d,Contact %03d,renewal\n", i, i)
		}
		fmt.Fprintf(&ren, "RB%03d,B%03d,%s,%d,%v\n", i, i, today.AddDate(0, 0, 1+i*89/n).Format(time.DateOnly), 1000*(i+1), i%2 == 0)
	}
	return map[string]string{"accounts": acc.String(), "contacts": con.String(), "renewals": ren.String()}
}

// e2eLogs keeps what the runtime and the commands log; it is safe for
// concurrent use.
type e2eLogs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *e2eLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *e2eLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// e2eOptions change the world of one test.
type e2eOptions struct {
	// slack configures the fake Slack.
	slack []slacktest.Option
	// config edits the runtime's config.
	config func(*bot.Config)
	// files are CSV files by import kind, imported after the book.
	files map[string]string
}

// e2eWorld is a fake Slack workspace and a database, with csbot running
// on them as production wires it: the runtime with a Poster as its
// Sender, the store as its deliveries and users, and the commands
// registered with the runtime's guard as their Channels.
type e2eWorld struct {
	srv   *slacktest.Server
	store *store.Store
	logs  *e2eLogs

	stopRuntime context.CancelFunc
	runDone     chan error
	stopPoster  context.CancelFunc
	posterDone  chan error
	stopOnce    sync.Once
	runErr      error
}

// e2eStart builds the world and runs csbot on it until the test ends. It
// returns once the runtime's Socket Mode link is up.
func e2eStart(ctx context.Context, t *testing.T, o e2eOptions) *e2eWorld {
	t.Helper()
	srv := slacktest.New(t, o.slack...)
	for _, u := range []slacktest.User{
		{ID: e2eCSM, Name: "dana", TZ: "America/New_York"},
		{ID: e2eOtherCSM, Name: "fox", TZ: "America/Los_Angeles"},
		{ID: e2eBookCSM, Name: "kim"},
		{ID: e2eManager, Name: "walter", TZ: "America/New_York"},
		{ID: "U0SALES", Name: "sam"},
		{ID: "U0ADMIN", Name: "ada"},
		{ID: e2eMember, Name: "ana", TZ: "Europe/Paris"},
		{ID: e2eGuest, Name: "gus", Restricted: true},
		{ID: e2eStranger, Name: "eve", TeamID: "T0OTHER", Stranger: true},
	} {
		srv.AddUser(u)
	}
	for _, c := range []slacktest.Channel{
		{ID: e2eAcmeChannel, Name: "acct-acme", Member: true},
		{ID: "C0GLOBX", Name: "acct-globex", Member: true},
		{ID: e2eChannel, Name: "cs-team", Member: true},
		{ID: e2eShared, Name: "acme-shared", Member: true, ExtShared: true, Shared: true, ConnectedTeamIDs: []string{"T0OTHER"}},
		{ID: e2eNewChannel, Name: "globex-renewal", Member: true},
		{ID: e2eNewChannel2, Name: "random", Member: true},
	} {
		srv.AddChannel(c)
	}

	st, err := store.Open(ctx, pgtest.NewDatabase(ctx, t), nil)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(st.Close)
	e2eImport(ctx, t, st, e2eBook())
	if o.files != nil {
		e2eImport(ctx, t, st, o.files)
	}
	facts, err := st.AccountFacts(ctx, e2eNow())
	if err != nil {
		t.Fatalf("AccountFacts: %v", err)
	}
	scores, _ := csbot.ScoreAll(facts, csbot.DefaultPolicy(), e2eNow())
	if _, err := st.SaveScores(ctx, scores); err != nil {
		t.Fatalf("SaveScores: %v", err)
	}

	w := &e2eWorld{srv: srv, store: st, logs: &e2eLogs{}, runDone: make(chan error, 1), posterDone: make(chan error, 1)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("csbot logs:\n%s", w.logs.String())
		}
	})
	log := slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := bot.NewClient(srv.BotToken(), srv.AppToken(), srv.URL())
	poster := bot.NewPoster(api, bot.PosterOptions{Logger: log})
	cfg := bot.Config{
		BotToken: srv.BotToken(), AppToken: srv.AppToken(), Logger: log,
		Sender: poster, Deliveries: st, Users: st, ShutdownTimeout: 10 * time.Second,
	}
	if o.config != nil {
		o.config(&cfg)
	}
	rt, err := bot.New(api, cfg)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	commands.New(commands.Config{Store: st, Policy: csbot.DefaultPolicy(), Channels: rt.Guard(), Now: e2eNow, Logger: log,
		Slack: api}).Register(rt)

	pctx, stopPoster := context.WithCancel(context.Background())
	w.stopPoster = stopPoster
	go func() { w.posterDone <- poster.Run(pctx) }()
	rctx, stopRuntime := context.WithCancel(context.Background())
	w.stopRuntime = stopRuntime
	go func() { w.runDone <- rt.Run(rctx) }()
	t.Cleanup(func() { w.stop(t) })

	linked := make(chan error, 1)
	go func() {
		_, err := srv.WaitFor(ctx, func(s slacktest.Snapshot) bool {
			return slices.ContainsFunc(s.Connections(), slacktest.Connection.Live)
		})
		linked <- err
	}()
	select {
	case err := <-linked:
		if err != nil {
			t.Fatalf("the runtime never connected: %v", err)
		}
	case err := <-w.runDone:
		w.runDone <- err
		t.Fatalf("Run returned before connecting: %v", err)
	}
	return w
}

// e2eImport imports CSV files by kind, in the order imports depend on.
func e2eImport(ctx context.Context, t *testing.T, st *store.Store, files map[string]string) {
	t.Helper()
	for _, kind := range csbot.ImportKindNames() {
		text, ok := files[kind]
		if !ok {
			continue
		}
		k, err := csbot.LookupImportKind(kind)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Import(ctx, k, strings.NewReader(text)); err != nil {
			t.Fatalf("import %s: %v", kind, err)
		}
	}
}

// stop ends the runtime, which finishes the work in flight, then the
// poster. It is safe to call more than once.
func (w *e2eWorld) stop(t *testing.T) {
	t.Helper()
	w.stopOnce.Do(func() {
		w.stopRuntime()
		select {
		case w.runErr = <-w.runDone:
		case <-time.After(20 * time.Second):
			t.Error("Run did not return within 20 s of its context ending")
		}
		w.stopPoster()
		select {
		case <-w.posterDone:
		case <-time.After(10 * time.Second):
			t.Error("the poster did not stop within 10 s")
		}
	})
}

// finish stops csbot, so that everything it started has been sent, and
// checks every Block Kit payload Slack received against Slack's limits.
func (w *e2eWorld) finish(t *testing.T) slacktest.Snapshot {
	t.Helper()
	w.stop(t)
	if w.runErr != nil {
		t.Errorf("Run = %v, want nil", w.runErr)
	}
	snap := w.srv.Snapshot()
	e2eCheckLimits(t, snap)
	return snap
}

// e2eCheckLimits checks what the bot sent, as Slack recorded it: every
// response_url post, every chat.* message and every view.
func e2eCheckLimits(t *testing.T, snap slacktest.Snapshot) {
	t.Helper()
	checked := 0
	for i, p := range snap.ResponsePosts() {
		checked++
		if err := bot.CheckLimits(bot.SurfaceMessage, e2eSlackBlocks(t, p.Blocks), p.Text); err != nil {
			t.Errorf("response_url post %d (%.60q) over Slack's limits: %v", i, p.Text, err)
		}
	}
	for _, method := range []string{"chat.postMessage", "chat.postEphemeral", "chat.update"} {
		for i, c := range snap.Calls(method) {
			checked++
			if err := bot.CheckLimits(bot.SurfaceMessage, e2eSlackBlocks(t, json.RawMessage(c.Param("blocks"))), c.Param("text")); err != nil {
				t.Errorf("%s %d (%.60q) over Slack's limits: %v", method, i, c.Param("text"), err)
			}
		}
	}
	for _, method := range []string{"views.open", "views.push", "views.update"} {
		for i, c := range snap.Calls(method) {
			checked++
			var v slack.ModalViewRequest
			if err := json.Unmarshal([]byte(c.Param("view")), &v); err != nil {
				t.Errorf("%s %d: view not understood: %v", method, i, err)
				continue
			}
			e2eSameCount(t, method, json.RawMessage(c.Param("view")), len(v.Blocks.BlockSet))
			if err := bot.CheckView(v); err != nil {
				t.Errorf("%s %d over Slack's limits: %v", method, i, err)
			}
			if err := bot.CheckLimits(bot.SurfaceModal, v.Blocks.BlockSet, ""); err != nil {
				t.Errorf("%s %d blocks over Slack's limits: %v", method, i, err)
			}
		}
	}
	for i, c := range snap.Calls("views.publish") {
		checked++
		var v slack.HomeTabViewRequest
		if err := json.Unmarshal([]byte(c.Param("view")), &v); err != nil {
			t.Errorf("views.publish %d: view not understood: %v", i, err)
			continue
		}
		if err := bot.CheckHome(v); err != nil {
			t.Errorf("views.publish %d over Slack's limits: %v", i, err)
		}
	}
	if checked == 0 {
		t.Error("Slack received nothing from csbot to check")
	}
}

// e2eSameCount checks that slack-go decoded every block of a view.
func e2eSameCount(t *testing.T, what string, view json.RawMessage, decoded int) {
	t.Helper()
	var raw struct {
		Blocks []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(view, &raw); err != nil || len(raw.Blocks) != decoded {
		t.Errorf("%s: decoded %d of %d blocks (%v)", what, decoded, len(raw.Blocks), err)
	}
}

// e2eSlackBlocks decodes a blocks array as Slack received it into
// slack-go's blocks, for bot.CheckLimits; nil for none.
func e2eSlackBlocks(t *testing.T, raw json.RawMessage) []slack.Block {
	t.Helper()
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var bs slack.Blocks
	if err := json.Unmarshal(raw, &bs); err != nil {
		t.Errorf("blocks not understood: %v\n%s", err, raw)
		return nil
	}
	var all []json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil || len(all) != len(bs.BlockSet) {
		t.Errorf("decoded %d of %d blocks (%v)", len(bs.BlockSet), len(all), err)
	}
	return bs.BlockSet
}

// command types a slash command and returns its envelope.
func (w *e2eWorld) command(ctx context.Context, t *testing.T, user, channel, cmd, text string) slacktest.Envelope {
	t.Helper()
	env, err := w.srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: cmd, Text: text, UserID: user, ChannelID: channel})
	if err != nil {
		t.Fatalf("%s %s: %v", cmd, text, err)
	}
	return env
}

// response waits for the first response_url post of an envelope.
func (w *e2eWorld) response(ctx context.Context, t *testing.T, env slacktest.Envelope) slacktest.ResponsePost {
	t.Helper()
	post, err := w.srv.WaitForResponse(ctx, env.ID)
	if err != nil {
		t.Fatalf("no response_url post for envelope %s: %v", env.ID, err)
	}
	if post.Status != 200 || post.Error != "" {
		t.Errorf("Slack refused the response_url post: %d %s\n%s", post.Status, post.Error, post.Body)
	}
	return post
}

// ask types a slash command and returns the first response_url post it
// got.
func (w *e2eWorld) ask(ctx context.Context, t *testing.T, user, channel, cmd, text string) slacktest.ResponsePost {
	t.Helper()
	return w.response(ctx, t, w.command(ctx, t, user, channel, cmd, text))
}

// ephemeralOf returns the ephemeral message a response_url post made.
func (w *e2eWorld) ephemeralOf(t *testing.T, post slacktest.ResponsePost) slacktest.Ephemeral {
	t.Helper()
	for _, e := range w.srv.Ephemerals() {
		if e.Via == "response_url" && e.At.Equal(post.At) && e.Text == post.Text && bytes.Equal(e.Blocks, post.Blocks) {
			return e
		}
	}
	t.Fatalf("the response_url post %.60q made no ephemeral message", post.Text)
	return slacktest.Ephemeral{}
}

// click presses a button of a message in the channel (ts) as user.
func (w *e2eWorld) click(ctx context.Context, t *testing.T, user, channel, ts string, b e2eButton) slacktest.Envelope {
	t.Helper()
	env, err := w.srv.SendInteraction(ctx, slacktest.Interaction{Type: "block_actions", UserID: user, ChannelID: channel, MessageTS: ts,
		Actions: []slacktest.Action{{ActionID: b.ActionID, BlockID: b.BlockID, Value: b.Value, Text: b.Text}}})
	if err != nil {
		t.Fatalf("click %s: %v", b.ActionID, err)
	}
	return env
}

// accountID returns the internal id of the account with the CRM id.
func (w *e2eWorld) accountID(ctx context.Context, t *testing.T, extID string) string {
	t.Helper()
	a, err := w.store.AccountByExternalID(ctx, extID)
	if err != nil {
		t.Fatalf("account %s: %v", extID, err)
	}
	return strconv.FormatInt(a.ID, 10)
}

// e2eDoc is a Block Kit blocks array as Slack received it, for reading.
type e2eDoc []map[string]any

// e2eDecode decodes a blocks array; nil for none.
func e2eDecode(t *testing.T, raw json.RawMessage) e2eDoc {
	t.Helper()
	if len(raw) == 0 {
		return nil
	}
	var d e2eDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("blocks not understood: %v\n%s", err, raw)
	}
	return d
}

// header returns the text of the first block when it is a header.
func (d e2eDoc) header() string {
	if len(d) == 0 || d[0]["type"] != "header" {
		return ""
	}
	text, _ := d[0]["text"].(map[string]any)
	s, _ := text["text"].(string)
	return s
}

// blockText returns every text of block i, one after another.
func (d e2eDoc) blockText(i int) string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				b.WriteString(s + "\n")
			}
			for _, k := range []string{"text", "fields", "elements", "accessory"} {
				if x, ok := v[k]; ok {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(d[i])
	return b.String()
}

// text returns every text of the blocks.
func (d e2eDoc) text() string {
	var b strings.Builder
	for i := range d {
		b.WriteString(d.blockText(i))
	}
	return b.String()
}

// sections returns the text of every section block, in order.
func (d e2eDoc) sections() []string {
	var out []string
	for _, b := range d {
		if b["type"] != "section" {
			continue
		}
		if text, ok := b["text"].(map[string]any); ok {
			s, _ := text["text"].(string)
			out = append(out, s)
		}
	}
	return out
}

// e2eButton is a button of a message: what a click sends back.
type e2eButton struct{ ActionID, Value, BlockID, Text string }

// buttons returns the buttons of the blocks, in order.
func (d e2eDoc) buttons() []e2eButton {
	var out []e2eButton
	add := func(blockID string, el any) {
		e, _ := el.(map[string]any)
		if e["type"] != "button" {
			return
		}
		b := e2eButton{BlockID: blockID}
		b.ActionID, _ = e["action_id"].(string)
		b.Value, _ = e["value"].(string)
		if text, ok := e["text"].(map[string]any); ok {
			b.Text, _ = text["text"].(string)
		}
		out = append(out, b)
	}
	for _, blk := range d {
		id, _ := blk["block_id"].(string)
		if acc, ok := blk["accessory"]; ok {
			add(id, acc)
		}
		if els, ok := blk["elements"].([]any); ok && blk["type"] == "actions" {
			for _, el := range els {
				add(id, el)
			}
		}
	}
	return out
}

// button returns the button with the action_id, failing the test when
// there is none.
func (d e2eDoc) button(t *testing.T, actionID string) e2eButton {
	t.Helper()
	for _, b := range d.buttons() {
		if b.ActionID == actionID {
			return b
		}
	}
	t.Fatalf("no %s button among %+v", actionID, d.buttons())
	return e2eButton{}
}

// e2eScoreRE matches a health card's computed score line.
var e2eScoreRE = regexp.MustCompile(`\*(\d{1,3})/100\* (green|yellow|red)`)

// e2eCard checks that a post is the health card of the account named
// name, and returns its blocks.
func e2eCard(t *testing.T, what string, post slacktest.ResponsePost, name string) e2eDoc {
	t.Helper()
	d := e2eDecode(t, post.Blocks)
	if got := d.header(); got != name {
		t.Fatalf("%s: header %q, want the card of %s (text %q)", what, got, name, post.Text)
	}
	if !e2eScoreRE.MatchString(d.text()) {
		t.Errorf("%s: the card shows no score:\n%s", what, d.text())
	}
	if !strings.HasPrefix(post.Text, name+": ") {
		t.Errorf("%s: fallback text %q, want it to start with the account's name", what, post.Text)
	}
	return d
}

func TestE2EHealthCardForACSM(t *testing.T) {
	t.Parallel()
	ctx := e2eContext(t)
	w := e2eStart(ctx, t, e2eOptions{})
	acme := w.accountID(ctx, t, "ACME-001")

	env := w.command(ctx, t, e2eCSM, e2eChannel, "/health", "acme corp")
	ack, err := w.srv.WaitForAck(ctx, env.ID)
	if err != nil {
		t.Fatalf("no ack: %v", err)
	}
	post := w.response(ctx, t, env)
	if ack.Payload != nil || ack.RetryAttempt != 0 {
		t.Errorf("ack = %+v, want a plain ack of the first delivery", ack)
	}
	if post.At.Before(ack.At) {
		t.Errorf("the reply was posted at %v, before the ack at %v", post.At, ack.At)
	}
	if post.ResponseType != "ephemeral" || post.ReplaceOriginal {
		t.Errorf("response_type %q, replace_original %v; want a new ephemeral reply", post.ResponseType, post.ReplaceOriginal)
	}
	d := e2eCard(t, "/health acme corp", post, "Acme Corp")
	all := d.text()
	for _, want := range []string{"$120,000", "<@U0CSM1>", "Road Runner, CFO (rr@acme.com)", "<#C0ACME1>", "Quarterly check-in"} {
		if !strings.Contains(all, want) {
			t.Errorf("Acme's card lacks %q:\n%s", want, all)
		}
	}
	var got []string
	for _, b := range d.buttons() {
		got = append(got, b.Text+"="+b.ActionID+":"+b.Value)
	}
	want := []string{"Renewals=pick:renewals:" + acme, "Share in channel=" + commands.ActionShareForTest + ":" + acme,
		"Override health=" + commands.ActionOverrideForTest + ":" + acme, "Draft EBR=pick:ebr:" + acme}
	if !slices.Equal(got, want) {
		t.Errorf("the card's buttons are %q, want %q", got, want)
	}

	snap := w.finish(t)
	eph := snap.Ephemerals()
	if len(eph) != 1 || eph[0].User != e2eCSM || eph[0].Channel != e2eChannel || eph[0].Via != "response_url" {
		t.Errorf("ephemerals = %+v, want one reply to %s in %s through the response_url", eph, e2eCSM, e2eChannel)
	}
	if n := len(snap.ResponsePosts()); n != 1 {
		t.Errorf("%d response_url posts, want 1", n)
	}
	if msgs := snap.Messages(e2eChannel); len(msgs) != 0 {
		t.Errorf("messages in the channel = %+v, want none: the card is for the CSM alone", msgs)
	}
}

func TestE2EHealthPickListLeadsToTheCard(t *testing.T) {
	t.Parallel()
	ctx := e2eContext(t)
	w := e2eStart(ctx, t, e2eOptions{})

	post := w.ask(ctx, t, e2eCSM, e2eChannel, "/health", "initech")
	list := e2eDecode(t, post.Blocks)
	if list.header() != "" || post.ResponseType != "ephemeral" {
		t.Errorf("/health initech: header %q, response_type %q; want an ephemeral pick-list", list.header(), post.ResponseType)
	}
	if !strings.Contains(post.Text, "2 accounts match") {
		t.Errorf("/health initech: text %q, want it to say 2 accounts match", post.Text)
	}
	// Each entry names an account and carries a button leading to its
	// card, with the account's id as its value.
	ids := map[string]string{w.accountID(ctx, t, "INI-EU"): "Initech Europe", w.accountID(ctx, t, "INI-AS"): "Initech Asia"}
	var names []string
	for _, pick := range list.buttons() {
		if pick.ActionID != "pick:health" {
			continue
		}
		i := slices.IndexFunc(list, func(b map[string]any) bool { return b["block_id"] == pick.BlockID })
		if i < 0 || pick.BlockID == "" {
			t.Fatalf("the button %+v is in no block of its own", pick)
		}
		text, _ := list[i]["text"].(map[string]any)
		name, _ := text["text"].(string)
		name = strings.Trim(name, "*")
		if ids[pick.Value] != name {
			t.Errorf("the entry %q has a button for account %q (%s)", name, pick.Value, ids[pick.Value])
		}
		names = append(names, name)

		card := w.response(ctx, t, w.click(ctx, t, e2eCSM, e2eChannel, w.ephemeralOf(t, post).TS, pick))
		if !card.ReplaceOriginal || card.ResponseType != "ephemeral" {
			t.Errorf("picking %s: replace_original %v, response_type %q; want the list replaced, ephemeral",
				name, card.ReplaceOriginal, card.ResponseType)
		}
		e2eCard(t, "picking "+name, card, name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Initech Asia", "Initech Europe"}) {
		t.Errorf("the pick-list offers %q, want both Initech accounts", names)
	}

	snap := w.finish(t)
	for _, e := range snap.Ephemerals() {
		if e.User != e2eCSM || e.Channel != e2eChannel {
			t.Errorf("ephemeral to %s in %s, want only to %s in %s", e.User, e.Channel, e2eCSM, e2eChannel)
		}
	}
	if msgs := snap.Messages(e2eChannel); len(msgs) != 0 {
		t.Errorf("messages in the channel = %+v, want none", msgs)
	}
}

func TestE2EHealthShareInChannel(t *testing.T) {
	t.Parallel()
	ctx := e2eContext(t)
	w := e2eStart(ctx, t, e2eOptions{})

	// In an internal channel the card is posted for everyone.
	post := w.ask(ctx, t, e2eCSM, e2eChannel, "/health", "acme")
	share := e2eCard(t, "/health acme", post, "Acme Corp").button(t, commands.ActionShareForTest)
	shared := w.response(ctx, t, w.click(ctx, t, e2eCSM, e2eChannel, w.ephemeralOf(t, post).TS, share))
	if shared.ResponseType != "in_channel" || shared.ReplaceOriginal {
		t.Errorf("Share in %s: response_type %q, replace_original %v; want a new in-channel message",
			e2eChannel, shared.ResponseType, shared.ReplaceOriginal)
	}
	d := e2eCard(t, "Share", shared, "Acme Corp")
	if slices.ContainsFunc(d.buttons(), func(b e2eButton) bool { return b.ActionID == commands.ActionShareForTest }) {
		t.Error("the card posted in the channel still has a Share button")
	}
	if strings.Contains(d.text(), e2eSharedNote) {
		t.Errorf("the card in an internal channel carries the shared-channel note:\n%s", d.text())
	}
	msgs := w.srv.Messages(e2eChannel)
	if len(msgs) != 1 || msgs[0].Via != "response_url" || e2eDecode(t, msgs[0].Blocks).header() != "Acme Corp" {
		t.Errorf("messages in %s = %+v, want Acme's card", e2eChannel, msgs)
	}

	// In a Slack Connect channel neither the button nor "public" posts
	// anything: the requester alone sees the card, with the reason.
	post = w.ask(ctx, t, e2eCSM, e2eShared, "/health", "acme")
	share = e2eCard(t, "/health acme in the shared channel", post, "Acme Corp").button(t, commands.ActionShareForTest)
	kept := w.response(ctx, t, w.click(ctx, t, e2eCSM, e2eShared, w.ephemeralOf(t, post).TS, share))
	public := w.ask(ctx, t, e2eCSM, e2eShared, "/health", "acme public")
	for what, p := range map[string]slacktest.ResponsePost{"Share": kept, "/health acme public": public} {
		if p.ResponseType != "ephemeral" || p.ReplaceOriginal {
			t.Errorf("%s in the shared channel: response_type %q, replace_original %v; want a new ephemeral", what, p.ResponseType, p.ReplaceOriginal)
		}
		d := e2eCard(t, what+" in the shared channel", p, "Acme Corp")
		if last := d.blockText(len(d) - 1); d[len(d)-1]["type"] != "context" || !strings.Contains(last, e2eSharedNote) {
			t.Errorf("%s in the shared channel: last block %q, want the note why it is private", what, last)
		}
		if e := w.ephemeralOf(t, p); e.User != e2eCSM || e.Channel != e2eShared {
			t.Errorf("%s in the shared channel went to %s in %s, want %s", what, e.User, e.Channel, e2eCSM)
		}
	}

	snap := w.finish(t)
	if msgs := snap.Messages(e2eShared); len(msgs) != 0 {
		t.Errorf("messages posted in the shared channel: %+v", msgs)
	}
	if n := len(snap.Calls("chat.postMessage")); n != 0 {
		t.Errorf("%d chat.postMessage calls, want none", n)
	}
}

func TestE2EGuestsAndExternalUsersAreRefused(t *testing.T) {
	t.Parallel()
	ctx := e2eContext(t)
	w := e2eStart(ctx, t, e2eOptions{})

	for _, tt := range []struct{ user, channel, cmd, text string }{
		{e2eGuest, e2eChannel, "/health", "acme"},
		{e2eGuest, e2eAcmeChannel, "/health", ""},
		{e2eGuest, e2eChannel, "/renewals", "all"},
		{e2eStranger, e2eShared, "/health", "acme"},
		{e2eStranger, e2eShared, "/health", "acme public"},
		{e2eStranger, e2eShared, "/renewals", "all"},
	} {
		post := w.ask(ctx, t, tt.user, tt.channel, tt.cmd, tt.text)
		if !strings.Contains(post.Text, e2eOutsiderNote) || post.Blocks != nil || post.ResponseType != "ephemeral" {
			t.Errorf("%s %s by %s: %q (%s, blocks %s), want the polite ephemeral refusal", tt.cmd, tt.text, tt.user,
				post.Text, post.ResponseType, post.Blocks)
		}
		if e := w.ephemeralOf(t, post); e.User != tt.user {
			t.Errorf("the refusal went to %s, want %s", e.User, tt.user)
		}
	}

	snap := w.finish(t)
	for _, p := range snap.ResponsePosts() {
		if !strings.Contains(p.Text, e2eOutsiderNote) || p.Blocks != nil {
			t.Errorf("a reply other than the refusal reached Slack: %s", p.Body)
		}
	}
	for _, ch := range []string{e2eChannel, e2eAcmeChannel, e2eShared} {
		if msgs := snap.Messages(ch); len(msgs) != 0 {
			t.Errorf("messages in %s: %+v", ch, msgs)
		}
	}
	for _, m := range []string{"chat.postMessage", "chat.postEphemeral", "views.open"} {
		if n := len(snap.Calls(m)); n != 0 {
			t.Errorf("%d %s calls, want none", n, m)
		}
	}
	for _, e := range snap.Ephemerals() {
		for _, leak := range []string{"Acme", "Globex", "Initech", "$"} {
			if strings.Contains(e.Text, leak) || bytes.Contains(e.Blocks, []byte(leak)) {
				t.Errorf("an outsider's ephemeral carries %q: %q", leak, e.Text)
			}
		}
	}
}

func TestE2EHealthLinkThenHealthHere(t *testing.T) {
	t.Parallel()
	ctx := e2eContext(t)
	w := e2eStart(ctx, t, e2eOptions{})

	post := w.ask(ctx, t, e2eCSM, e2eNewChannel, "/health", "link globex")
	if !strings.HasPrefix(post.Text, "Linked <#C0NEW01> to *Globex International*: its alerts and reminders will be posted here.") ||
		post.ResponseType != "ephemeral" {
		t.Fatalf("/health link globex = %q (%s), want the link confirmed to the CSM", post.Text, post.ResponseType)
	}
	if !strings.Contains(post.Text, "<#C0GLOBX>") {
		t.Errorf("/health link globex = %q, want it to name the channel it was linked to before", post.Text)
	}
	here := w.ask(ctx, t, e2eCSM, e2eNewChannel, "/health", "")
	e2eCard(t, "/health in the newly linked channel", here, "Globex International")
	if here.ResponseType != "ephemeral" {
		t.Errorf("/health in the linked channel: response_type %q, want ephemeral", here.ResponseType)
	}

	// A member csbot does not know may look accounts up, not link them.
	look := w.ask(ctx, t, e2eMember, e2eNewChannel2, "/health", "acme")
	e2eCard(t, "an unknown member's /health acme", look, "Acme Corp")
	refused := w.ask(ctx, t, e2eMember, e2eNewChannel2, "/health", "link acme")
	if !strings.Contains(refused.Text, "Only CSMs, CS managers and admins can link a channel") || refused.Blocks != nil ||
		refused.ResponseType != "ephemeral" {
		t.Errorf("an unknown member's /health link acme = %q (%s), want an ephemeral refusal", refused.Text, refused.ResponseType)
	}

	snap := w.finish(t)
	if got, err := w.store.AccountsByChannel(ctx, e2eNewChannel2); err != nil || len(got) != 0 {
		t.Errorf("after the refused link %s has accounts %v (%v), want none", e2eNewChannel2, got, err)
	}
	if got, err := w.store.AccountsByChannel(ctx, e2eNewChannel); err != nil || len(got) != 1 || got[0].Name != "Globex International" {
		t.Errorf("%s has accounts %v (%v), want Globex", e2eNewChannel, got, err)
	}
	for _, ch := range []string{e2eNewChannel, e2eNewChannel2} {
		if msgs := snap.Messages(ch); len(msgs) != 0 {
			t.Errorf("messages in %s: %+v, want none", ch, msgs)
		}
	}
}

// e2eMonthRE matches a month heading of a renewals report; e2eLineDateRE the
// date of one of its lines.
var (
	e2eMonthRE    = regexp.MustCompile(`^\*([A-Z][a-z]+) (\d{4})\* · (\d+) renewals? · `)
	e2eLineDateRE = regexp.MustCompile(`· ([A-Z][a-z]{2}) \d{1,2}, (\d{4}), `)
)

// e2eRenewalsPage reads a renewals report page: the accounts it shows,
// in order, checking that each is under the heading of its month.
func e2eRenewalsPage(t *testing.T, what string, d e2eDoc) []string {
	t.Helper()
	var names []string
	month, headings := "", 0
	for _, s := range d.sections() {
		if m := e2eMonthRE.FindStringSubmatch(s); m != nil {
			month = m[1][:3] + " " + m[2]
			headings++
			continue
		}
		if !strings.Contains(s, "\nRenewal contact: ") && !strings.Contains(s, "\n⚠️ no renewal contact on file") {
			continue
		}
		_, rest, _ := strings.Cut(s, "*")
		name, _, _ := strings.Cut(rest, "*")
		names = append(names, name)
		m := e2eLineDateRE.FindStringSubmatch(s)
		if m == nil || m[1]+" "+m[2] != month {
			t.Errorf("%s: %s (%v) is not under its month's heading (%q)", what, name, m, month)
		}
	}
	if len(names) > 0 && headings == 0 {
		t.Errorf("%s: no month headings", what)
	}
	return names
}

func TestE2ERenewalsPagesAndHints(t *testing.T) {
	t.Parallel()
	ctx := e2eContext(t)
	const n = 45
	w := e2eStart(ctx, t, e2eOptions{files: e2eBookCSV(n)})

	post := w.ask(ctx, t, e2eBookCSM, e2eChannel, "/renewals", "")
	first := e2eDecode(t, post.Blocks)
	if h := first.header(); h != "Your renewals, next 90 days" || post.ResponseType != "ephemeral" {
		t.Errorf("/renewals: header %q, response_type %q; want Kim's renewals, ephemeral", h, post.ResponseType)
	}
	if !strings.Contains(post.Text, fmt.Sprintf("%d renewals", n)) {
		t.Errorf("/renewals: text %q, want all %d renewals counted", post.Text, n)
	}
	page1 := e2eRenewalsPage(t, "page 1", first)
	months := 0
	for _, s := range first.sections() {
		if e2eMonthRE.MatchString(s) {
			months++
		}
	}
	if len(page1) != 40 || months < 3 {
		t.Errorf("page 1 shows %d renewals under %d month headings, want 40 under several", len(page1), months)
	}
	more := first.button(t, "renewals_more")
	if !strings.HasPrefix(more.Text, "Show more (41–45 of 45)") {
		t.Errorf("Show more button label %q", more.Text)
	}

	next := w.response(ctx, t, w.click(ctx, t, e2eBookCSM, e2eChannel, w.ephemeralOf(t, post).TS, more))
	if next.ReplaceOriginal || next.ResponseType != "ephemeral" {
		t.Errorf("Show more: replace_original %v, response_type %q; want a new ephemeral message", next.ReplaceOriginal, next.ResponseType)
	}
	second := e2eDecode(t, next.Blocks)
	page2 := e2eRenewalsPage(t, "page 2", second)
	if !strings.Contains(second.text(), "Showing 41–45") || len(page2) != n-40 {
		t.Errorf("page 2 shows %d renewals (%q), want the last %d", len(page2), page2, n-40)
	}
	if slices.ContainsFunc(second.buttons(), func(b e2eButton) bool { return b.ActionID == "renewals_more" }) {
		t.Error("the last page has a Show more button")
	}
	all := append(slices.Clone(page1), page2...)
	for i, name := range all {
		if want := fmt.Sprintf("Book Account %03d", i); name != want {
			t.Errorf("renewal %d across the pages is %s, want %s (by date, none twice)", i, name, want)
			break
		}
	}

	hint := w.ask(ctx, t, e2eBookCSM, e2eChannel, "/renewals", "tema")
	if !strings.Contains(hint.Text, "did you mean `team`?") || hint.ResponseType != "ephemeral" {
		t.Errorf("/renewals tema = %q (%s), want an ephemeral usage hint with \"did you mean\"", hint.Text, hint.ResponseType)
	}
	if d := e2eDecode(t, hint.Blocks); len(e2eRenewalsPage(t, "/renewals tema", d)) != 0 || !strings.Contains(d.text(), "/renewals team") {
		t.Errorf("/renewals tema blocks:\n%s\nwant the usage and no renewals", d.text())
	}

	snap := w.finish(t)
	for _, e := range snap.Ephemerals() {
		if e.User != e2eBookCSM || e.Channel != e2eChannel {
			t.Errorf("an ephemeral went to %s in %s, want %s", e.User, e.Channel, e2eBookCSM)
		}
	}
	if msgs := snap.Messages(e2eChannel); len(msgs) != 0 {
		t.Errorf("messages in the channel: %+v, want none", msgs)
	}
}

// e2eModalState returns the state a submission of the override modal
// carries, keyed by the block_ids and action_ids the modal declares: a
// band and a score, a note and a lifetime in days.
func e2eModalState(t *testing.T, view slacktest.View, band, score, note, days string) map[string]map[string]any {
	t.Helper()
	blocks := e2eDecode(t, view.Blocks)
	state := map[string]map[string]any{}
	option := func(el map[string]any, value string) map[string]any {
		opts, _ := el["options"].([]any)
		for _, o := range opts {
			if om, _ := o.(map[string]any); om["value"] == value {
				return om
			}
		}
		t.Fatalf("the modal's %v offers no option %q", el["action_id"], value)
		return nil
	}
	for _, b := range blocks {
		if b["type"] != "input" {
			continue
		}
		id, _ := b["block_id"].(string)
		el, _ := b["element"].(map[string]any)
		action, _ := el["action_id"].(string)
		typ, _ := el["type"].(string)
		var v map[string]any
		switch id {
		case "band":
			v = map[string]any{"type": typ, "selected_option": option(el, band)}
		case "score":
			v = map[string]any{"type": typ, "value": score}
		case "note":
			v = map[string]any{"type": typ, "value": note}
		case "expires":
			v = map[string]any{"type": typ, "selected_option": option(el, days)}
		default:
			t.Fatalf("the override modal has an input %q the test does not know", id)
		}
		state[id] = map[string]any{action: v}
	}
	for _, id := range []string{"band", "score", "note", "expires"} {
		if state[id] == nil {
			t.Fatalf("the override modal has no %q input: %s", id, view.Blocks)
		}
	}
	return state
}

func TestE2EHealthOverrideModal(t *testing.T) {
	t.Parallel()
	ctx := e2eContext(t)
	w := e2eStart(ctx, t, e2eOptions{})
	acme := w.accountID(ctx, t, "ACME-001")

	post := w.ask(ctx, t, e2eCSM, e2eChannel, "/health", "acme")
	before := e2eCard(t, "/health acme", post, "Acme Corp")
	computed := e2eScoreRE.FindString(before.text())
	override := before.button(t, commands.ActionOverrideForTest)
	click := w.click(ctx, t, e2eCSM, e2eChannel, w.ephemeralOf(t, post).TS, override)

	snap, err := w.srv.WaitFor(ctx, func(s slacktest.Snapshot) bool { return len(s.Views()) > 0 })
	if err != nil {
		t.Fatalf("Override health opened no modal: %v", err)
	}
	modal := snap.Views()[0]
	if modal.Type != "modal" || modal.CallbackID != commands.OverrideCallbackTest || modal.UserID != e2eCSM ||
		modal.PrivateMetadata != acme || modal.Title != "Override health" {
		t.Fatalf("modal = %+v, want the override form of Acme (%s) for %s", modal, acme, e2eCSM)
	}
	if c := snap.Calls("views.open"); len(c) != 1 || !c[0].OK() || c[0].Param("trigger_id") != click.TriggerID {
		t.Errorf("views.open calls = %+v, want one with the click's trigger_id", c)
	}
	if !strings.Contains(e2eDecode(t, modal.Blocks).text(), "*Acme Corp*") {
		t.Errorf("the modal does not name Acme:\n%s", modal.Blocks)
	}

	state := e2eModalState(t, modal, "yellow", "65", "Exec sponsor confirmed the renewal <!here> & legal is on it", "14")
	env, err := w.srv.SendInteraction(ctx, slacktest.Interaction{Type: "view_submission", UserID: e2eCSM, ViewID: modal.ID, Values: state})
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := w.srv.WaitForAck(ctx, env.ID); err != nil || ack.Payload != nil {
		t.Errorf("ack of a valid submission = %+v, %v; want an empty ack that closes the modal", ack, err)
	}
	dm, err := w.srv.WaitForCall(ctx, "chat.postMessage", func(c slacktest.Call) bool { return c.Param("channel") == e2eCSM })
	if err != nil || !dm.OK() ||
		!strings.HasPrefix(dm.Param("text"), "Saved your view of *Acme Corp*'s health: 🟡 yellow, 65/100, until Dec 7, 2026.") {
		t.Errorf("the confirmation = %q (%+v, %v), want it in the CSM's DM", dm.Param("text"), dm, err)
	}

	after := e2eCard(t, "/health acme after the override", w.ask(ctx, t, e2eOtherCSM, e2eChannel, "/health", "acme"), "Acme Corp")
	scoreAt := -1
	for k := range after {
		if after[k]["type"] == "section" && e2eScoreRE.MatchString(after.blockText(k)) {
			scoreAt = k
			break
		}
	}
	wantNote := "✍️ *Override* by <@U0CSM1> until Dec 7, 2026: 🟡 yellow, 65/100 · “Exec sponsor confirmed the renewal &lt;!here&gt; &amp; legal is on it”"
	switch {
	case scoreAt < 0:
		t.Errorf("the card after the override has no computed score:\n%s", after.text())
	case e2eScoreRE.FindString(after.blockText(scoreAt)) != computed:
		t.Errorf("the computed score went from %q to %q: the override must not replace it", computed, e2eScoreRE.FindString(after.blockText(scoreAt)))
	case scoreAt+1 >= len(after) || after[scoreAt+1]["type"] != "context" || !strings.Contains(after.blockText(scoreAt+1), wantNote):
		t.Errorf("the block after the score does not show the override %q:\n%s", wantNote, after.text())
	}

	// Another CSM may not override Acme: the button says so, and a
	// submission of the form is refused in the ack.
	other := w.ask(ctx, t, e2eOtherCSM, e2eChannel, "/health", "acme")
	refusal := w.response(ctx, t, w.click(ctx, t, e2eOtherCSM, e2eChannel, w.ephemeralOf(t, other).TS,
		e2eCard(t, "Fox's /health acme", other, "Acme Corp").button(t, commands.ActionOverrideForTest)))
	if !strings.Contains(refusal.Text, "Only the account's CSM, their manager or an admin") || refusal.ResponseType != "ephemeral" {
		t.Errorf("Fox clicking Override = %q (%s), want an ephemeral refusal", refusal.Text, refusal.ResponseType)
	}
	env, err = w.srv.SendInteraction(ctx, slacktest.Interaction{Type: "view_submission", UserID: e2eOtherCSM,
		CallbackID: commands.OverrideCallbackTest, PrivateMetadata: acme,
		Values: e2eModalState(t, modal, "red", "10", "I think it is worse", "7")})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := w.srv.WaitForAck(ctx, env.ID)
	if err != nil {
		t.Fatalf("no ack of Fox's submission: %v", err)
	}
	var resp slack.ViewSubmissionResponse
	if err := ack.DecodePayload(&resp); err != nil || resp.ResponseAction != slack.RAErrors ||
		!strings.Contains(resp.Errors["note"], "Only the account's CSM") {
		t.Errorf("ack of Fox's submission = %s (%v), want response_action errors on the note", ack.Payload, err)
	}
	still := e2eCard(t, "/health acme after Fox's submission", w.ask(ctx, t, e2eCSM, e2eChannel, "/health", "acme"), "Acme Corp")
	if s := still.text(); !strings.Contains(s, wantNote) || strings.Contains(s, "<@U0CSM2> until") {
		t.Errorf("after Fox's refused submission the card shows:\n%s\nwant Dana's override only", s)
	}

	snap = w.finish(t)
	// Four cards and Fox's refusal; opening the modal and saving the
	// override said nothing through the response_url.
	if n := len(snap.ResponsePosts()); n != 5 {
		t.Errorf("%d response_url posts, want 5: four cards and one refusal", n)
	}
	if n := len(snap.Views()); n != 1 {
		t.Errorf("%d views opened, want only Dana's", n)
	}
	for _, c := range snap.Calls("chat.postMessage") {
		if c.Param("channel") != e2eCSM {
			t.Errorf("chat.postMessage to %s (%q), want only Dana's confirmation", c.Param("channel"), c.Param("text"))
		}
	}
	if n := len(snap.Calls("chat.postMessage")); n != 1 {
		t.Errorf("%d chat.postMessage calls, want Dana's confirmation alone", n)
	}
}

func TestE2ERedeliveredCommandIsAnsweredOnce(t *testing.T) {
	t.Parallel()
	ctx := e2eContext(t)
	// One handler at a time and a backlog of one: while the first reply
	// is held up, the runtime stops acknowledging, so Slack redelivers
	// the third command with retry_attempt 1 before the runtime takes
	// its first delivery.
	w := e2eStart(ctx, t, e2eOptions{
		slack:  []slacktest.Option{slacktest.WithAckTimeout(100 * time.Millisecond), slacktest.WithMaxRetries(1)},
		config: func(c *bot.Config) { c.Concurrency, c.Backlog = 1, 1 },
	})
	w.srv.FailNext("response_url", 1, slacktest.Fault{Delay: 3 * time.Second})

	first := w.command(ctx, t, e2eCSM, e2eChannel, "/health", "globex")
	second := w.command(ctx, t, e2eCSM, e2eChannel, "/health", "initech europe")
	third := w.command(ctx, t, e2eCSM, e2eChannel, "/health", "acme")

	// The third command is answered once the held-up reply is through;
	// by then Slack has long redelivered it.
	post := w.response(ctx, t, third)
	e2eCard(t, "the redelivered /health acme", post, "Acme Corp")
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	snap, err := w.srv.WaitFor(wctx, func(s slacktest.Snapshot) bool {
		attempts := map[int]bool{}
		for _, a := range s.Acks() {
			if a.FirstID == third.ID {
				attempts[a.RetryAttempt] = true
			}
		}
		return attempts[0] && attempts[1]
	})
	if err != nil {
		var seen []string
		for _, d := range snap.Deliveries() {
			if d.FirstID == third.ID {
				seen = append(seen, fmt.Sprintf("attempt %d", d.RetryAttempt))
			}
		}
		t.Fatalf("the runtime did not receive and acknowledge both deliveries of the command (deliveries: %v): %v", seen, err)
	}

	snap = w.finish(t)
	var retry slacktest.Delivery
	for _, d := range snap.Deliveries() {
		if d.FirstID == third.ID && d.RetryAttempt == 1 {
			retry = d
		}
	}
	if retry.RetryReason != "timeout" || retry.EnvelopeID == third.ID {
		t.Errorf("redelivery = %+v, want retry_attempt 1 under a new envelope_id, reason timeout", retry)
	}
	for _, env := range []slacktest.Envelope{first, second, third} {
		n := 0
		for _, p := range snap.ResponsePosts() {
			if p.EnvelopeID == env.ID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("envelope %s was answered %d times, want once", env.ID, n)
		}
	}
	if n := len(snap.Ephemerals()); n != 3 {
		t.Errorf("%d ephemerals for 3 commands, want 3", n)
	}
	// Both deliveries of the third command reached the runtime's
	// dispatch, and the redelivery was the one skipped.
	skipped := 0
	for line := range strings.SplitSeq(w.logs.String(), "\n") {
		var rec struct {
			Msg   string `json:"msg"`
			Key   string `json:"key"`
			Retry int    `json:"retry_attempt"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "delivery already handled; skipped" &&
			rec.Key == "slash:"+third.TriggerID {
			skipped++
			if rec.Retry != 1 {
				t.Errorf("the delivery skipped had retry_attempt %d, want the redelivery (1)", rec.Retry)
			}
		}
	}
	if skipped != 1 {
		t.Errorf("the runtime skipped %d deliveries of the third command, want 1", skipped)
	}
}
