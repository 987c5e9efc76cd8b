package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
)

// The people and channels of the fake workspace.
const (
	csm      = "U0CSM1"   // in the users table, a CSM
	member   = "U0ANA"    // a member the users table does not know
	guest    = "U0GUEST"  // multi-channel guest
	single   = "U0SINGLE" // single-channel guest
	stranger = "U0EXT"    // from another organisation, met in a shared channel
	gridMate = "U0GRID"   // an Enterprise Grid colleague from another workspace

	acme      = "C0ACME"    // internal
	shared    = "C0SHARED"  // Slack Connect
	pending   = "C0PENDING" // Slack Connect invitation pending
	gridChan  = "C0GRID"    // shared within the Grid only
	nowhereCh = "C0NOWHERE" // conversations.info cannot see it
)

const testUsersCSV = `slack_id,role,name,email,manager_slack_id,timezone
U0MGR,manager,Mia Manager,mia@vendor.example,,Europe/Berlin
U0CSM1,csm,Sam CSM,sam@vendor.example,U0MGR,America/New_York
`

// testContext returns a context that ends with the test or after 20 s.
func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// logBuffer keeps what the runtime logs; it is safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// count returns how many records have the message msg.
func (l *logBuffer) count(msg string) int {
	n := 0
	for line := range strings.SplitSeq(l.String(), "\n") {
		var rec struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg {
			n++
		}
	}
	return n
}

// directSender sends straight through the Web API, unpaced: the tests'
// stand-in for the Poster.
type directSender struct{ api *slack.Client }

func (d directSender) Send(ctx context.Context, m Message) (string, error) {
	opts := m.options()
	switch {
	case m.EphemeralUser != "":
		return d.api.PostEphemeralContext(ctx, m.Channel, m.EphemeralUser, opts...)
	case m.UpdateTS != "":
		_, ts, _, err := d.api.UpdateMessageContext(ctx, m.Channel, m.UpdateTS, opts...)
		return ts, err
	}
	_, ts, err := d.api.PostMessageContext(ctx, m.Channel, opts...)
	return ts, err
}

// harness is a fake Slack workspace and a database for runtimes under
// test.
type harness struct {
	srv   *slacktest.Server
	store *store.Store
	logs  *logBuffer
	dones chan *inbound
}

// newHarness starts a fake Slack with the workspace above and a fresh
// database with the users table filled.
func newHarness(ctx context.Context, t testing.TB, opts ...slacktest.Option) *harness {
	t.Helper()
	srv := slacktest.New(t, opts...)
	for _, u := range []slacktest.User{
		{ID: csm, Name: "sam", TZ: "America/New_York"},
		{ID: "U0MGR", Name: "mia"},
		{ID: member, Name: "ana", TZ: "Europe/Paris"},
		{ID: guest, Name: "gus", Restricted: true},
		{ID: single, Name: "sil", UltraRestricted: true},
		{ID: stranger, Name: "eve", TeamID: "T0OTHER", Stranger: true},
		{ID: gridMate, Name: "gil", TeamID: "T0GRID"},
	} {
		srv.AddUser(u)
	}
	for _, c := range []slacktest.Channel{
		{ID: acme, Name: "acct-acme", Member: true},
		{ID: shared, Name: "acme-shared", Member: true, ExtShared: true, Shared: true, ConnectedTeamIDs: []string{"T0OTHER"}},
		{ID: pending, Name: "globex-shared", Member: true, PendingExtShared: true, ConnectedTeamIDs: []string{"T0OTHER"}},
		{ID: gridChan, Name: "grid-wide", Member: true, Shared: true, OrgShared: true, ConnectedTeamIDs: []string{"T0GRID"}},
	} {
		srv.AddChannel(c)
	}
	st, err := store.Open(ctx, pgtest.NewDatabase(ctx, t), nil)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(st.Close)
	kind, err := csbot.LookupImportKind("users")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(ctx, kind, strings.NewReader(testUsersCSV)); err != nil {
		t.Fatalf("import users: %v", err)
	}
	h := &harness{srv: srv, store: st, logs: &logBuffer{}, dones: make(chan *inbound, 4096)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runtime logs:\n%s", h.logs.String())
		}
	})
	return h
}

// running is a Runtime under test.
type running struct {
	rt     *Runtime
	cancel context.CancelFunc
	done   chan error
	link   int // the Connection.ID of its first link
}

// start runs a runtime against the harness until the test ends, and
// returns once its Socket Mode link is up. edit changes the config;
// setup registers handlers.
func (h *harness) start(ctx context.Context, t testing.TB, edit func(*Config), setup func(*Runtime)) *running {
	t.Helper()
	api := NewClient(h.srv.BotToken(), h.srv.AppToken(), h.srv.URL())
	cfg := Config{
		BotToken:        h.srv.BotToken(),
		AppToken:        h.srv.AppToken(),
		Logger:          slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sender:          directSender{api: api},
		Deliveries:      h.store,
		Users:           h.store,
		ShutdownTimeout: 5 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	rt, err := New(api, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rt.hooks.done = func(in *inbound) {
		select {
		case h.dones <- in:
		default:
		}
	}
	if setup != nil {
		setup(rt)
	}
	before := connected(h.srv.Snapshot())
	runCtx, cancel := context.WithCancel(context.Background())
	r := &running{rt: rt, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- rt.Run(runCtx) }()
	t.Cleanup(func() { _ = r.stop(t) })
	snap, err := h.srv.WaitFor(ctx, func(s slacktest.Snapshot) bool { return connected(s) > before })
	if err != nil {
		select {
		case err := <-r.done:
			t.Fatalf("Run: %v", err)
		default:
		}
		t.Fatalf("runtime never connected: %v", err)
	}
	for _, c := range snap.Connections() {
		if !c.ConnectedAt.IsZero() {
			r.link = c.ID
		}
	}
	return r
}

// stop cancels the runtime and waits for Run to return.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return within 15 s of its context ending")
		return nil
	}
}

// connected counts the links that said hello.
func connected(s slacktest.Snapshot) int {
	n := 0
	for _, c := range s.Connections() {
		if !c.ConnectedAt.IsZero() {
			n++
		}
	}
	return n
}

// command sends a slash command.
func (h *harness) command(ctx context.Context, t testing.TB, cmd, text, user, channel string) slacktest.Envelope {
	t.Helper()
	env, err := h.srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: cmd, Text: text, UserID: user, ChannelID: channel})
	if err != nil {
		t.Fatalf("SendSlashCommand: %v", err)
	}
	return env
}

// response waits for the first response_url post of an envelope.
func (h *harness) response(ctx context.Context, t testing.TB, env slacktest.Envelope) slacktest.ResponsePost {
	t.Helper()
	post, err := h.srv.WaitForResponse(ctx, env.ID)
	if err != nil {
		t.Fatalf("no response_url post for %s: %v", env.ID, err)
	}
	return post
}

// ack waits for the ack of an envelope.
func (h *harness) ack(ctx context.Context, t testing.TB, env slacktest.Envelope) slacktest.Ack {
	t.Helper()
	ack, err := h.srv.WaitForAck(ctx, env.ID)
	if err != nil {
		t.Fatalf("no ack for %s: %v", env.ID, err)
	}
	return ack
}

// waitDone waits until the runtime has finished n deliveries and returns
// them.
func (h *harness) waitDone(ctx context.Context, t testing.TB, n int) []*inbound {
	t.Helper()
	var out []*inbound
	for len(out) < n {
		select {
		case in := <-h.dones:
			out = append(out, in)
		case <-ctx.Done():
			t.Fatalf("%d of %d deliveries finished: %v", len(out), n, ctx.Err())
		}
	}
	return out
}

// postsFor returns the response_url posts of an envelope.
func postsFor(s slacktest.Snapshot, firstID string) []slacktest.ResponsePost {
	var out []slacktest.ResponsePost
	for _, p := range s.ResponsePosts() {
		if p.EnvelopeID == firstID {
			out = append(out, p)
		}
	}
	return out
}

func TestPingAcksFirstThenAnswersThroughResponseURL(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, nil)
	// The reply's work asks Slack who the user is; make that slow, so that
	// an ack that waited for the work would show it.
	const slow = 1500 * time.Millisecond
	h.srv.FailNext("users.info", -1, slacktest.Fault{Delay: slow})

	env := h.command(ctx, t, "/csbot", "ping", csm, acme)
	ack := h.ack(ctx, t, env)
	post := h.response(ctx, t, env)
	h.srv.ClearFaults("users.info")

	if ack.Payload != nil || ack.Duplicate || ack.Unknown {
		t.Errorf("ack = %+v, want a plain ack", ack)
	}
	if ack.Latency <= 0 || ack.Latency > time.Second {
		t.Errorf("ack latency = %v, want it recorded and well under Slack's 3 s", ack.Latency)
	}
	if post.At.Before(ack.At) {
		t.Errorf("response posted at %v, before the ack at %v", post.At, ack.At)
	}
	if post.ResponseType != "ephemeral" || !strings.HasPrefix(post.Text, "pong") ||
		!strings.Contains(post.Text, "ack:") || !strings.Contains(post.Text, "database:") || !strings.Contains(post.Text, "Socket Mode:") {
		t.Errorf("reply = %q (%s), want an ephemeral pong with timings", post.Text, post.ResponseType)
	}
	// The ack did not wait for the work: it came well before the slow
	// users.info call could have answered, and the reply after it.
	if ack.Latency >= slow/2 {
		t.Errorf("ack latency %v: the ack waited for the handler's Slack calls (%v each)", ack.Latency, slow)
	}
	if len(h.srv.Calls("users.info")) == 0 || post.At.Sub(ack.At) < slow/2 {
		t.Errorf("reply %v after the ack; want it after the slow users.info", post.At.Sub(ack.At))
	}
	t.Logf("ack latency %v; reply %v after the ack", ack.Latency, post.At.Sub(ack.At))
}

func TestHelpListsTheCommands(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/health", func(context.Context, CommandRequest) (Reply, error) { return Reply{Text: "ok"}, nil })
	})
	post := h.response(ctx, t, h.command(ctx, t, "/csbot", "help", member, acme))
	for _, c := range Manifest().Commands {
		if !strings.Contains(post.Text, "`"+c.Command+" ") {
			t.Errorf("help does not list %s:\n%s", c.Command, post.Text)
		}
	}
	if !strings.Contains(post.Text, "/renewals") || !strings.Contains(post.Text, "coming soon") {
		t.Errorf("help does not mark unavailable commands:\n%s", post.Text)
	}
	for line := range strings.SplitSeq(post.Text, "\n") {
		if strings.Contains(line, "`/health ") && strings.Contains(line, "coming soon") {
			t.Errorf("help marks /health, which has a handler, as coming soon: %q", line)
		}
	}
	bad := h.response(ctx, t, h.command(ctx, t, "/csbot", "<!here> dance", member, acme))
	if !strings.Contains(bad.Text, "&lt;!here&gt; dance") || strings.Contains(bad.Text, "<!here>") {
		t.Errorf("unknown /csbot argument answered %q, want it escaped", bad.Text)
	}
}

func TestRedeliveredEnvelopeIsAnsweredOnce(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t, slacktest.WithAckTimeout(150*time.Millisecond))
	var calls atomic.Int32
	run := h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/health", func(context.Context, CommandRequest) (Reply, error) {
			calls.Add(1)
			return Reply{Text: "ACME Corp.: 72, green"}, nil
		})
		// The first ack is lost: Slack redelivers with retry_attempt 1.
		rt.hooks.skipAck = func(req socketmode.Request) bool { return req.RetryAttempt == 0 }
	})

	env := h.command(ctx, t, "/health", "acme", csm, acme)
	ack := h.ack(ctx, t, env)
	if ack.RetryAttempt < 1 {
		t.Fatalf("ack = %+v, want the ack of a redelivery", ack)
	}
	dones := h.waitDone(ctx, t, 2)
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	dups := 0
	for _, in := range dones {
		if in.duplicate {
			dups++
		}
		if in.key != "slash:"+env.TriggerID {
			t.Errorf("delivery key = %q, want slash:<trigger_id>", in.key)
		}
	}
	if dups != 1 {
		t.Errorf("%d of 2 deliveries were skipped as duplicates, want 1", dups)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
	if posts := postsFor(h.srv.Snapshot(), env.ID); len(posts) != 1 {
		t.Errorf("%d replies, want 1: %+v", len(posts), posts)
	}
}

func TestRetryOnAnotherReplicaIsNotHandledAgain(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t, slacktest.WithAckTimeout(750*time.Millisecond))
	var calls atomic.Int32
	handle := func(rt *Runtime) {
		rt.HandleCommand("/health", func(context.Context, CommandRequest) (Reply, error) {
			calls.Add(1)
			return Reply{Text: "ACME Corp.: 72, green"}, nil
		})
	}
	// Replica A handles the command, but its ack is lost; then it stops.
	a := h.start(ctx, t, nil, func(rt *Runtime) {
		handle(rt)
		rt.hooks.skipAck = func(socketmode.Request) bool { return true }
	})
	env := h.command(ctx, t, "/health", "acme", csm, acme)
	h.response(ctx, t, env)
	if err := a.stop(t); err != nil {
		t.Fatalf("replica A: %v", err)
	}
	// Slack redelivers to replica B, on the same database.
	b := h.start(ctx, t, nil, handle)
	ack := h.ack(ctx, t, env)
	t.Logf("acked by connection %d on retry_attempt %d", ack.Connection, ack.RetryAttempt)
	if ack.RetryAttempt < 1 || ack.Connection != b.link {
		t.Errorf("ack = %+v, want a redelivery acknowledged by replica B (connection %d)", ack, b.link)
	}
	for {
		in := h.waitDone(ctx, t, 1)[0]
		if in.duplicate {
			break
		}
	}
	if err := b.stop(t); err != nil {
		t.Fatalf("replica B: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler ran %d times across replicas, want 1", n)
	}
	if posts := postsFor(h.srv.Snapshot(), env.ID); len(posts) != 1 {
		t.Errorf("%d replies, want 1", len(posts))
	}
}

func TestReconnectsAndAnswersTheNextCommand(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	started, release := make(chan struct{}, 1), make(chan struct{})
	var calls atomic.Int32
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/health", func(context.Context, CommandRequest) (Reply, error) {
			calls.Add(1)
			started <- struct{}{}
			<-release
			return Reply{Text: "ACME Corp.: 72, green"}, nil
		})
	})
	// Work in flight when the link goes carries on across the reconnects.
	slow := h.command(ctx, t, "/health", "acme", csm, acme)
	h.ack(ctx, t, slow)
	<-started

	for i, cut := range []struct {
		name string
		do   func() error
	}{
		{"refresh_requested", func() error { return h.srv.Disconnect("refresh_requested") }},
		{"link lost", h.srv.DropConnection},
	} {
		if err := cut.do(); err != nil {
			t.Fatalf("%s: %v", cut.name, err)
		}
		snap, err := h.srv.WaitFor(ctx, func(s slacktest.Snapshot) bool {
			live := 0
			for _, c := range s.Connections() {
				if c.Live() {
					live++
				}
			}
			return connected(s) >= i+2 && live == 1
		})
		if err != nil {
			t.Fatalf("after %s: no new link: %v", cut.name, err)
		}
		conns := snap.Connections()
		last := conns[len(conns)-1]
		env := h.command(ctx, t, "/csbot", "ping", csm, acme)
		post := h.response(ctx, t, env)
		if !strings.HasPrefix(post.Text, "pong") {
			t.Errorf("after %s: reply %q, want pong", cut.name, post.Text)
		}
		if ack := h.ack(ctx, t, env); ack.Connection != last.ID {
			t.Errorf("after %s: acked on connection %d, want the new one %d", cut.name, ack.Connection, last.ID)
		}
	}
	close(release)
	if post := h.response(ctx, t, slow); post.Text != "ACME Corp.: 72, green" {
		t.Errorf("command in flight across reconnects answered %q", post.Text)
	}
	h.waitDone(ctx, t, 3)
	if n, posts := calls.Load(), postsFor(h.srv.Snapshot(), slow.ID); n != 1 || len(posts) != 1 {
		t.Errorf("command in flight ran %d times and answered %d times, want once", n, len(posts))
	}
	if n := h.logs.count("socket mode reconnected"); n != 2 {
		t.Errorf("logged %d reconnections, want 2", n)
	}
}

func TestReplyFallsBackToTheWebAPIWhenResponseURLFails(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, func(rt *Runtime) { rt.HandleCommand("/health", healthReply) })
	h.srv.FailNext("response_url", 1, slacktest.Fault{Status: 500})
	env := h.command(ctx, t, "/health", "acme", csm, shared)
	call, err := h.srv.WaitForCall(ctx, "chat.postEphemeral", nil)
	if err != nil || !call.OK() || call.Param("channel") != shared || call.Param("user") != csm ||
		!strings.Contains(call.Param("text"), noteShared) {
		t.Errorf("fallback = %+v, %v; want an ephemeral with the note through the Web API", call, err)
	}
	if posts := postsFor(h.srv.Snapshot(), env.ID); len(posts) != 1 || posts[0].Status != 500 {
		t.Errorf("response_url posts = %+v, want the one failed post", posts)
	}
}

// healthReply is an internal reply meant for the channel.
func healthReply(context.Context, CommandRequest) (Reply, error) {
	return Reply{Text: "ACME Corp.: health 41, red; renewal in 38 days", Visibility: InChannel}, nil
}

func TestInternalDataStaysOutOfSharedChannels(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/health", func(ctx context.Context, req CommandRequest) (Reply, error) {
			switch req.Text {
			case "blocks":
				return Reply{Text: "ACME Corp.: red", Visibility: InChannel, Blocks: []slack.Block{
					slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*ACME Corp.*: red", false, false), nil, nil),
				}}, nil
			case "public":
				return Reply{Text: "csbot is up", Visibility: InChannel, Public: true}, nil
			}
			return healthReply(ctx, req)
		})
	})
	for _, tt := range []struct {
		channel, text string
		wantType      string
		wantNote      string
	}{
		{acme, "", "in_channel", ""},
		{gridChan, "", "in_channel", ""}, // is_shared alone: an Enterprise Grid channel
		{shared, "", "ephemeral", noteShared},
		{pending, "", "ephemeral", noteShared},
		{nowhereCh, "", "ephemeral", noteUnverified},
		{shared, "public", "in_channel", ""},
	} {
		post := h.response(ctx, t, h.command(ctx, t, "/health", tt.text, csm, tt.channel))
		if post.ResponseType != tt.wantType {
			t.Errorf("%s in %s: response_type %q, want %q", tt.text, tt.channel, post.ResponseType, tt.wantType)
		}
		if tt.wantNote == "" && strings.Contains(post.Text, "Only you can see this") {
			t.Errorf("%s in %s: unexpected note in %q", tt.text, tt.channel, post.Text)
		}
		if tt.wantNote != "" && (!strings.Contains(post.Text, tt.wantNote) || !strings.Contains(post.Text, "ACME Corp.")) {
			t.Errorf("%s in %s: reply %q, want the data and the note %q", tt.text, tt.channel, post.Text, tt.wantNote)
		}
	}
	// With blocks, the note is a context block at the end.
	post := h.response(ctx, t, h.command(ctx, t, "/health", "blocks", csm, shared))
	var blocks []map[string]any
	if err := json.Unmarshal(post.Blocks, &blocks); err != nil || len(blocks) != 2 || blocks[1]["type"] != "context" ||
		!strings.Contains(string(post.Blocks), "shared with another organisation") || post.ResponseType != "ephemeral" {
		t.Errorf("reply with blocks in a shared channel = %s (%s), want the section and a context note, ephemeral", post.Blocks, post.ResponseType)
	}
	if msgs := h.srv.Messages(shared); len(msgs) != 1 || msgs[0].Text != "csbot is up" {
		t.Errorf("messages in the shared channel = %+v, want only the public one", msgs)
	}
}

func TestGuestsAndExternalUsersAreRefused(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	var mu sync.Mutex
	var asked []string
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/health", func(ctx context.Context, req CommandRequest) (Reply, error) {
			mu.Lock()
			asked = append(asked, req.UserID)
			mu.Unlock()
			return healthReply(ctx, req)
		})
	})
	for _, tt := range []struct {
		user    string
		refused bool
	}{
		{guest, true},
		{single, true},
		{stranger, true},
		{gridMate, false}, // another team_id alone is no outsider
		{member, false},
	} {
		post := h.response(ctx, t, h.command(ctx, t, "/health", "acme", tt.user, shared))
		if refused := post.Text == msgOutsider; refused != tt.refused {
			t.Errorf("%s: reply %q, refused %v, want %v", tt.user, post.Text, refused, tt.refused)
		}
		if post.ResponseType != "ephemeral" {
			t.Errorf("%s: response_type %q, want ephemeral", tt.user, post.ResponseType)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(asked, ",") != gridMate+","+member {
		t.Errorf("handler ran for %v, want only the members", asked)
	}
}

func TestPanickingHandlerGetsAnApology(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/health", func(context.Context, CommandRequest) (Reply, error) { panic("index out of range") })
		rt.HandleCommand("/renewals", func(context.Context, CommandRequest) (Reply, error) {
			return Reply{}, errors.New("renewals query: connection reset")
		})
	})
	post := h.response(ctx, t, h.command(ctx, t, "/health", "acme", csm, acme))
	if post.Text != msgFailed || post.ResponseType != "ephemeral" {
		t.Errorf("reply = %q (%s), want the ephemeral apology", post.Text, post.ResponseType)
	}
	post = h.response(ctx, t, h.command(ctx, t, "/renewals", "", csm, acme))
	if post.Text != msgFailed {
		t.Errorf("reply to a failing handler = %q, want the apology", post.Text)
	}
	// The runtime goes on.
	if post := h.response(ctx, t, h.command(ctx, t, "/csbot", "ping", csm, acme)); !strings.HasPrefix(post.Text, "pong") {
		t.Errorf("after a panic, ping answered %q", post.Text)
	}
	if n := h.logs.count("handler panicked"); n != 1 {
		t.Errorf("panic logged %d times, want once", n)
	}
	if n := h.logs.count("handler failed"); n != 1 {
		t.Errorf("handler error logged %d times, want once", n)
	}
	if strings.Contains(h.logs.String(), h.srv.BotToken()) || strings.Contains(h.logs.String(), h.srv.AppToken()) {
		t.Error("a token was logged")
	}
}

func TestGracefulShutdownFinishesWorkInFlight(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	started, release := make(chan struct{}, 1), make(chan struct{})
	run := h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/health", func(ctx context.Context, _ CommandRequest) (Reply, error) {
			started <- struct{}{}
			select {
			case <-release:
				return Reply{Text: "finished"}, nil
			case <-ctx.Done():
				return Reply{}, ctx.Err()
			}
		})
	})
	env := h.command(ctx, t, "/health", "acme", csm, acme)
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("handler never started")
	}
	run.cancel()
	// The link closes: no more envelopes are taken.
	if _, err := h.srv.WaitFor(ctx, func(s slacktest.Snapshot) bool {
		for _, c := range s.Connections() {
			if c.Live() {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatalf("link still up after cancel: %v", err)
	}
	select {
	case err := <-run.done:
		t.Fatalf("Run returned (%v) while a handler was still running", err)
	default:
	}
	close(release)
	select {
	case err := <-run.done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("Run did not return after the work finished")
	}
	close(run.done)
	// The reply went out before Run returned.
	if posts := postsFor(h.srv.Snapshot(), env.ID); len(posts) != 1 || posts[0].Text != "finished" {
		t.Errorf("replies = %+v, want the finished one", posts)
	}
}

func TestShutdownDeadlineCancelsWorkInFlight(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	started, stopped := make(chan struct{}, 1), make(chan error, 1)
	run := h.start(ctx, t, func(c *Config) { c.ShutdownTimeout = 200 * time.Millisecond }, func(rt *Runtime) {
		rt.HandleCommand("/health", func(ctx context.Context, _ CommandRequest) (Reply, error) {
			started <- struct{}{}
			<-ctx.Done()
			stopped <- ctx.Err()
			return Reply{}, ctx.Err()
		})
	})
	h.command(ctx, t, "/health", "acme", csm, acme)
	<-started
	began := time.Now()
	if err := run.stop(t); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	t.Logf("shutdown took %v", time.Since(began))
	if took := time.Since(began); took < 200*time.Millisecond || took > 3*time.Second {
		t.Errorf("shutdown took %v, want about the 200 ms deadline", took)
	}
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler's context ended with %v, want context.Canceled", err)
		}
	default:
		t.Error("handler's context was not cancelled at the deadline")
	}
}

func TestDatabaseDownGetsAnApology(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, nil)
	h.store.Close()
	post := h.response(ctx, t, h.command(ctx, t, "/csbot", "ping", csm, acme))
	if post.Text != msgDatabase || post.ResponseType != "ephemeral" {
		t.Errorf("reply = %q (%s), want the ephemeral database apology", post.Text, post.ResponseType)
	}
}

func TestUnknownCommandsActionsAndShortcuts(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, nil)

	if post := h.response(ctx, t, h.command(ctx, t, "/nope", "", member, acme)); !strings.Contains(post.Text, "I don't know `/nope`") {
		t.Errorf("unknown command answered %q", post.Text)
	}
	if post := h.response(ctx, t, h.command(ctx, t, "/renewals", "30", member, acme)); !strings.Contains(post.Text, "isn't available yet") {
		t.Errorf("declared command without a handler answered %q", post.Text)
	}
	env, err := h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "block_actions", UserID: member, ChannelID: acme, MessageTS: "1700000000.000100",
		Actions: []slacktest.Action{{ActionID: "gone:42", Value: "x", Text: "Old"}}})
	if err != nil {
		t.Fatal(err)
	}
	if post := h.response(ctx, t, env); post.Text != msgOldButton || post.ReplaceOriginal {
		t.Errorf("unknown action answered %q (replace %v)", post.Text, post.ReplaceOriginal)
	}
	env, err = h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "message_action", UserID: member, ChannelID: acme,
		MessageTS: "1700000000.000100", CallbackID: "message_to_handoff"})
	if err != nil {
		t.Fatal(err)
	}
	if post := h.response(ctx, t, env); !strings.Contains(post.Text, "isn't available yet") {
		t.Errorf("message shortcut without a handler answered %q", post.Text)
	}
	if _, err := h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "shortcut", UserID: member, CallbackID: "new_handoff"}); err != nil {
		t.Fatal(err)
	}
	call, err := h.srv.WaitForCall(ctx, "views.open", nil)
	if err != nil || !call.OK() || !strings.Contains(string(call.JSON), "isn't available yet") {
		t.Errorf("global shortcut without a handler: views.open = %+v, %v", call, err)
	}
}

func TestActorsAreMatchedToTheUsersTable(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	actors := make(chan Actor, 2)
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/health", func(_ context.Context, req CommandRequest) (Reply, error) {
			actors <- req.Actor
			if !req.Actor.CanChange() {
				return Reply{Text: "You can look accounts up; changes need a CSM, a manager or an admin."}, nil
			}
			return Reply{Text: "Override saved."}, nil
		})
	})
	post := h.response(ctx, t, h.command(ctx, t, "/health", "override acme red", csm, acme))
	a := <-actors
	if !a.Known || a.Role != csbot.UserCSM || !a.CanChange() || !a.Is(csbot.UserCSM, csbot.UserManager) ||
		a.Name != "Sam CSM" || a.TZ != "America/New_York" || post.Text != "Override saved." {
		t.Errorf("CSM: actor %+v, reply %q", a, post.Text)
	}
	post = h.response(ctx, t, h.command(ctx, t, "/health", "override acme red", member, acme))
	a = <-actors
	if a.Known || a.Role != "" || a.CanChange() || a.Is(csbot.UserAdmin) || a.Name != "ana" || a.TZ != "Europe/Paris" ||
		!strings.HasPrefix(post.Text, "You can look") {
		t.Errorf("unknown member: actor %+v, reply %q", a, post.Text)
	}
}

func TestViewSubmissionErrorsTravelInTheAck(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	submitted := make(chan string, 2)
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleView("override", ViewHandler{
			Validate: func(_ context.Context, req ViewRequest) (map[string]string, error) {
				if req.View.State.Values["score"]["value"].Value == "" {
					return map[string]string{"score": "Enter a score from 0 to 100."}, nil
				}
				return nil, nil
			},
			Submit: func(_ context.Context, req ViewRequest) (Reply, error) {
				submitted <- req.View.State.Values["score"]["value"].Value
				return Reply{Text: "Override saved for ACME Corp."}, nil
			},
		})
	})
	values := func(v string) map[string]map[string]any {
		return map[string]map[string]any{"score": {"value": map[string]any{"type": "plain_text_input", "value": v}}}
	}
	env, err := h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "view_submission", UserID: csm, CallbackID: "override", Values: values("")})
	if err != nil {
		t.Fatal(err)
	}
	ack := h.ack(ctx, t, env)
	var resp slack.ViewSubmissionResponse
	if err := ack.DecodePayload(&resp); err != nil || resp.ResponseAction != slack.RAErrors || resp.Errors["score"] == "" {
		t.Errorf("ack of an invalid submission = %s, %v; want response_action errors on score", ack.Payload, err)
	}

	env, err = h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "view_submission", UserID: csm, CallbackID: "override", Values: values("35")})
	if err != nil {
		t.Fatal(err)
	}
	if ack := h.ack(ctx, t, env); ack.Payload != nil || ack.Latency > DefaultAckBudget {
		t.Errorf("ack of a valid submission = %+v, want an empty one within the budget", ack)
	}
	select {
	case v := <-submitted:
		if v != "35" {
			t.Errorf("submitted %q, want 35", v)
		}
	case <-ctx.Done():
		t.Fatal("Submit never ran")
	}
	if len(submitted) != 0 {
		t.Error("Submit ran for the invalid submission")
	}

	// A guest's submission (which csbot never showed them the form for)
	// is refused in the ack and never submitted.
	env, err = h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "view_submission", UserID: guest, CallbackID: "override", Values: values("35")})
	if err != nil {
		t.Fatal(err)
	}
	ack = h.ack(ctx, t, env)
	resp = slack.ViewSubmissionResponse{}
	if err := ack.DecodePayload(&resp); err != nil || resp.ResponseAction != slack.RAErrors || !strings.Contains(resp.Errors["score"], "guests") {
		t.Errorf("ack of a guest's submission = %s, %v; want the refusal as a form error", ack.Payload, err)
	}
	call, err := h.srv.WaitForCall(ctx, "chat.postMessage", func(c slacktest.Call) bool { return c.Param("channel") == csm })
	if err != nil || !call.OK() || call.Param("text") != "Override saved for ACME Corp." {
		t.Errorf("reply to the submission: %+v, %v; want a DM", call, err)
	}
}

func TestSuggestionsTravelInTheAck(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleSuggestion("account", func(hctx context.Context, req SuggestionRequest) ([]*slack.OptionBlockObject, error) {
			if d, ok := hctx.Deadline(); !ok || time.Until(d) > DefaultAckBudget {
				return nil, errors.New("no deadline")
			}
			var opts []*slack.OptionBlockObject
			for _, name := range []string{"ACME Corp.", "Acme Labs", "Globex"} {
				if strings.HasPrefix(strings.ToLower(name), strings.ToLower(req.Value)) {
					opts = append(opts, slack.NewOptionBlockObject(name, slack.NewTextBlockObject(slack.PlainTextType, name, false, false), nil))
				}
			}
			return opts, nil
		})
	})
	for _, tt := range []struct {
		user string
		want int
	}{{csm, 2}, {guest, 0}} {
		env, err := h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "block_suggestion", UserID: tt.user, ChannelID: acme,
			MessageTS: "1700000000.000100", ActionID: "account", BlockID: "pick", Value: "ac"})
		if err != nil {
			t.Fatal(err)
		}
		ack := h.ack(ctx, t, env)
		var got slack.OptionsResponse
		if err := ack.DecodePayload(&got); err != nil || len(got.Options) != tt.want || !strings.Contains(string(ack.Payload), `"options":[`) {
			t.Errorf("%s: ack payload %s, %v; want %d options", tt.user, ack.Payload, err, tt.want)
		}
	}
}

func TestChannelSharedEventDropsTheGuardCache(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, func(rt *Runtime) { rt.HandleCommand("/health", healthReply) })

	if post := h.response(ctx, t, h.command(ctx, t, "/health", "acme", csm, acme)); post.ResponseType != "in_channel" {
		t.Fatalf("before sharing: %s, want in_channel", post.ResponseType)
	}
	h.waitDone(ctx, t, 1)
	// ACME's channel becomes a Slack Connect channel; the cached answer
	// is dropped by the event, not by time.
	h.srv.AddChannel(slacktest.Channel{ID: acme, Name: "acct-acme", Member: true, ExtShared: true, Shared: true, ConnectedTeamIDs: []string{"T0OTHER"}})
	if _, err := h.srv.SendEvent(ctx, slacktest.ChannelShared(acme, "T0OTHER")); err != nil {
		t.Fatal(err)
	}
	h.waitDone(ctx, t, 1)
	post := h.response(ctx, t, h.command(ctx, t, "/health", "acme", csm, acme))
	if post.ResponseType != "ephemeral" || !strings.Contains(post.Text, noteShared) {
		t.Errorf("after channel_shared: %q (%s), want ephemeral with the note", post.Text, post.ResponseType)
	}
	if n := len(h.srv.Calls("conversations.info")); n != 2 {
		t.Errorf("conversations.info called %d times, want 2 (cached, then dropped)", n)
	}
}

func TestEventsAreDedupedByEventID(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	var calls atomic.Int32
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleEvent("member_joined_channel", func(_ context.Context, req EventRequest) (Reply, error) {
			calls.Add(1)
			if req.UserID != member || req.ChannelID != acme {
				t.Errorf("event request = %+v", req)
			}
			return Reply{Text: "Welcome to ACME's channel.", Public: true}, nil
		})
	})
	ev := slacktest.MemberJoinedChannel(member, acme)
	ev.EventID = "Ev0DUPLICATE"
	for range 2 {
		if _, err := h.srv.SendEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	dups := 0
	for _, in := range h.waitDone(ctx, t, 2) {
		if in.key != "event:Ev0DUPLICATE" {
			t.Errorf("delivery key %q, want event:Ev0DUPLICATE", in.key)
		}
		if in.duplicate {
			dups++
		}
	}
	if calls.Load() != 1 || dups != 1 {
		t.Errorf("handler ran %d times and %d deliveries were skipped; want 1 and 1", calls.Load(), dups)
	}
	eph := h.srv.Ephemerals()
	if len(eph) != 1 || eph[0].User != member || eph[0].Channel != acme || eph[0].Via != "chat.postEphemeral" {
		t.Errorf("ephemerals = %+v, want one welcome to the member", eph)
	}
}

func TestAppHomeOpenedPublishesAHome(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, nil)
	if _, err := h.srv.SendEvent(ctx, slacktest.AppHomeOpened(csm)); err != nil {
		t.Fatal(err)
	}
	call, err := h.srv.WaitForCall(ctx, "views.publish", nil)
	if err != nil || !call.OK() || call.Param("user_id") != csm || !strings.Contains(string(call.JSON), "/csbot help") {
		t.Errorf("views.publish = %+v, %v", call, err)
	}
}

func TestShortcutOpensAModal(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleShortcut("new_handoff", func(_ context.Context, req ShortcutRequest) (Reply, error) {
			return Reply{OpenView: &slack.ModalViewRequest{
				Type:       slack.VTModal,
				CallbackID: "handoff",
				Title:      slack.NewTextBlockObject(slack.PlainTextType, "New handoff", false, false),
				Blocks: slack.Blocks{BlockSet: []slack.Block{
					slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "For "+req.Actor.Name, false, false), nil, nil),
				}},
			}}, nil
		})
	})
	if _, err := h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "shortcut", UserID: csm, CallbackID: "new_handoff"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.srv.WaitFor(ctx, func(s slacktest.Snapshot) bool {
		for _, v := range s.Views() {
			if v.CallbackID == "handoff" && v.UserID == csm && strings.Contains(string(v.Blocks), "For Sam CSM") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Errorf("handoff modal never opened: %v", err)
	}
}

func TestThreadRepliesAreGuarded(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleView("question", ViewHandler{
			Submit: func(_ context.Context, req ViewRequest) (Reply, error) {
				ch := req.View.PrivateMetadata
				return Reply{Text: "Asked in the thread.", Post: &ChannelPost{Channel: ch, TS: "1700000000.000100", Text: "Who runs SSO?"}}, nil
			},
		})
	})
	for _, tt := range []struct {
		channel string
		posted  bool
	}{{acme, true}, {shared, false}} {
		env, err := h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "view_submission", UserID: csm, CallbackID: "question",
			PrivateMetadata: tt.channel})
		if err != nil {
			t.Fatal(err)
		}
		h.ack(ctx, t, env)
		call, err := h.srv.WaitForCall(ctx, "chat.postMessage", func(c slacktest.Call) bool {
			return c.Param("channel") == csm && strings.Contains(c.Param("text"), "Asked in the thread.") &&
				strings.Contains(c.Param("text"), notePostFailed) == !tt.posted
		})
		if err != nil || !call.OK() {
			t.Fatalf("%s: the asker's confirmation: %+v, %v", tt.channel, call, err)
		}
		var inThread []slacktest.Call
		for _, c := range h.srv.Calls("chat.postMessage") {
			if c.OK() && c.Param("channel") == tt.channel && c.Param("thread_ts") == "1700000000.000100" {
				inThread = append(inThread, c)
			}
		}
		if got := len(inThread) == 1; got != tt.posted {
			t.Errorf("%s: %d thread replies, want posted=%v", tt.channel, len(inThread), tt.posted)
		}
	}
}

// An event's handler is told who its user is, with Slack's time zone
// when the users table has none.
func TestEventHandlerIsToldItsActor(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	got := make(chan Actor, 1)
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleEvent("app_home_opened", func(_ context.Context, req EventRequest) (Reply, error) {
			got <- req.Actor
			return Reply{}, nil
		})
	})
	if _, err := h.srv.SendEvent(ctx, slacktest.AppHomeOpened(csm)); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		if a.SlackID != csm || !a.Known || a.TZ == "" {
			t.Errorf("actor = %+v, want the CSM, known, with a time zone", a)
		}
	case <-ctx.Done():
		t.Fatal("the handler never ran")
	}
}
