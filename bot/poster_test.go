package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/csbot/csbot/bot/slacktest"
)

// manualClock is a Clock that moves only when a test advances it. It
// records every deadline the poster asks to be woken at, so tests assert
// the schedule itself rather than wall time.
type manualClock struct {
	mu        sync.Mutex
	now       time.Time
	timers    []manualTimer
	deadlines []time.Time
	changed   chan struct{}
}

type manualTimer struct {
	at time.Time
	ch chan time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Unix(1_700_000_000, 0), changed: make(chan struct{})}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) At(at time.Time) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.deadlines = append(c.deadlines, at)
	if !at.After(c.now) {
		ch <- c.now
	} else {
		c.timers = append(c.timers, manualTimer{at: at, ch: ch})
	}
	close(c.changed)
	c.changed = make(chan struct{})
	return ch
}

// AdvanceTo moves the clock to t and fires the timers due by then.
func (c *manualClock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(c.now) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- c.now
	}
	c.timers = kept
}

// waitDeadline waits until the poster has asked to be woken at a time in
// [from, to] and returns that time.
func (c *manualClock) waitDeadline(ctx context.Context, t *testing.T, from, to time.Time) time.Time {
	t.Helper()
	for {
		c.mu.Lock()
		for _, d := range c.deadlines {
			if !d.Before(from) && !d.After(to) {
				c.mu.Unlock()
				return d
			}
		}
		ch := c.changed
		have := slices.Clone(c.deadlines)
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("no wake-up scheduled in [%v, %v]; scheduled: %v", from, to, have)
		}
	}
}

// requested returns the deadlines asked for so far.
func (c *manualClock) requested() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.deadlines)
}

// posterLogBuffer is a bytes.Buffer safe for concurrent writes.
type posterLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *posterLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *posterLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// posterFixture is a poster on a manual clock, talking through the real
// slack-go client to a fake Slack that shares the clock.
type posterFixture struct {
	srv    *slacktest.Server
	clock  *manualClock
	poster *Poster
	logs   *posterLogBuffer
}

// newPosterFixture returns a fixture whose poster is not running yet;
// channels C1 and C2 exist with the bot in them, and user U1. client, if
// not nil, is the HTTP client slack-go uses.
func newPosterFixture(t testing.TB, opts PosterOptions, client *http.Client) *posterFixture {
	t.Helper()
	f := &posterFixture{clock: newManualClock(), logs: &posterLogBuffer{}}
	f.srv = slacktest.New(t, slacktest.WithClock(f.clock.Now))
	f.srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	f.srv.AddChannel(slacktest.Channel{ID: "C2", Name: "globex", Member: true})
	f.srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	if opts.Clock == nil {
		opts.Clock = f.clock
	}
	opts.Logger = slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.poster = NewPoster(newPosterSlackClient(f.srv, client), opts)
	return f
}

// newPosterSlackClient returns a slack-go client pointed at srv.
func newPosterSlackClient(srv *slacktest.Server, client *http.Client) *slack.Client {
	opts := []slack.Option{slack.OptionAPIURL(srv.URL()), slack.OptionLog(log.New(io.Discard, "", 0))}
	if client != nil {
		opts = append(opts, slack.OptionHTTPClient(client))
	}
	return slack.New(srv.BotToken(), opts...)
}

// run starts the poster until the test ends; the returned func stops it
// and returns Run's error.
func (f *posterFixture) run(t testing.TB) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.poster.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

type posterOutcome struct {
	ts  string
	err error
}

// send runs Send in a goroutine.
func (f *posterFixture) send(ctx context.Context, m Message) <-chan posterOutcome {
	ch := make(chan posterOutcome, 1)
	go func() {
		ts, err := f.poster.Send(ctx, m)
		ch <- posterOutcome{ts, err}
	}()
	return ch
}

// queue queues m at once, so that tests fix the order of the queue, and
// waits for the outcome in a goroutine.
func (f *posterFixture) queue(ctx context.Context, t *testing.T, m Message) <-chan posterOutcome {
	t.Helper()
	j, err := f.poster.enqueue(ctx, m)
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	ch := make(chan posterOutcome, 1)
	go func() {
		ts, err := f.poster.wait(ctx, j)
		ch <- posterOutcome{ts, err}
	}()
	return ch
}

// waitCalls waits until the fake has answered n calls to method.
func (f *posterFixture) waitCalls(ctx context.Context, t *testing.T, method string, n int) []slacktest.Call {
	t.Helper()
	snap, err := f.srv.WaitFor(ctx, func(s slacktest.Snapshot) bool { return len(s.Calls(method)) >= n })
	if err != nil {
		t.Fatalf("waiting for %d %s calls (have %d): %v", n, method, len(f.srv.Calls(method)), err)
	}
	return snap.Calls(method)
}

// awaitPost waits for a send's outcome.
func awaitPost(ctx context.Context, t *testing.T, ch <-chan posterOutcome) posterOutcome {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-ctx.Done():
		t.Fatalf("send did not finish: %v", ctx.Err())
		return posterOutcome{}
	}
}

// posterContext returns a context that ends with the test or after 10 s.
func posterContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPosterHonoursRetryAfter(t *testing.T) {
	ctx := posterContext(t)
	f := newPosterFixture(t, PosterOptions{}, nil)
	f.srv.FailNext("chat.postMessage", 1, slacktest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 3 * time.Second})
	f.run(t)
	t0 := f.clock.Now()

	res := f.send(ctx, Message{Channel: "C1", Text: "renewal in 30 days"})
	// The poster schedules the retry at exactly Retry-After, not at the
	// 1 s pace of the channel.
	at := f.clock.waitDeadline(ctx, t, t0.Add(time.Second), t0.Add(time.Hour))
	if at != t0.Add(3*time.Second) {
		t.Fatalf("retry scheduled at t0+%v, want t0+3s", at.Sub(t0))
	}
	if n := len(f.srv.Calls("chat.postMessage")); n != 1 {
		t.Fatalf("%d calls before the Retry-After passed, want 1", n)
	}
	f.clock.AdvanceTo(at)
	r := awaitPost(ctx, t, res)
	if r.err != nil {
		t.Fatalf("Send: %v", r.err)
	}
	calls := f.srv.Calls("chat.postMessage")
	if len(calls) != 2 || calls[0].Status != http.StatusTooManyRequests || !calls[1].OK() {
		t.Fatalf("calls = %d (%v), want a 429 then a success", len(calls), calls)
	}
	if gap := calls[1].At.Sub(calls[0].At); gap != 3*time.Second {
		t.Errorf("retry after %v, want 3s", gap)
	}
	if msgs := f.srv.Messages("C1"); len(msgs) != 1 || msgs[0].TS != r.ts {
		t.Errorf("messages = %+v, want one with ts %s", msgs, r.ts)
	}
	if !strings.Contains(f.logs.String(), "code=ratelimited") {
		t.Errorf("retry not logged: %s", f.logs)
	}
}

func TestPosterRetries5xxWithBackoff(t *testing.T) {
	ctx := posterContext(t)
	base := 4 * time.Second // above the 1 s pace, so the backoff shows
	f := newPosterFixture(t, PosterOptions{BackoffBase: base}, nil)
	f.srv.FailNext("chat.postMessage", 2, slacktest.Fault{Status: http.StatusServiceUnavailable})
	f.run(t)
	t0 := f.clock.Now()

	res := f.send(ctx, Message{Channel: "C1", Text: "hello"})
	// Attempt n waits between half and all of base*2^(n-1).
	t1 := f.clock.waitDeadline(ctx, t, t0.Add(base/2), t0.Add(base))
	f.clock.AdvanceTo(t1)
	f.waitCalls(ctx, t, "chat.postMessage", 2)
	t2 := f.clock.waitDeadline(ctx, t, t1.Add(base), t1.Add(2*base))
	f.clock.AdvanceTo(t2)
	r := awaitPost(ctx, t, res)
	if r.err != nil {
		t.Fatalf("Send: %v", r.err)
	}
	calls := f.srv.Calls("chat.postMessage")
	if len(calls) != 3 || calls[0].Status != 503 || calls[1].Status != 503 || !calls[2].OK() {
		t.Fatalf("calls = %v, want 503, 503, ok", calls)
	}
	if calls[1].At != t1 || calls[2].At != t2 {
		t.Errorf("calls at t0+%v, t0+%v; want t0+%v, t0+%v", calls[1].At.Sub(t0), calls[2].At.Sub(t0), t1.Sub(t0), t2.Sub(t0))
	}
}

func TestPosterGivesUpAfterMaxAttempts(t *testing.T) {
	ctx := posterContext(t)
	f := newPosterFixture(t, PosterOptions{MaxAttempts: 2, BackoffBase: time.Second}, nil)
	f.srv.FailNext("chat.postMessage", -1, slacktest.Fault{Status: http.StatusBadGateway})
	f.run(t)
	t0 := f.clock.Now()
	res := f.send(ctx, Message{Channel: "C1", Text: "hello"})
	f.clock.AdvanceTo(f.clock.waitDeadline(ctx, t, t0, t0.Add(time.Hour)))
	r := awaitPost(ctx, t, res)
	var sc slack.StatusCodeError
	if !errors.Is(r.err, ErrUnavailable) || !errors.As(r.err, &sc) || sc.Code != http.StatusBadGateway {
		t.Fatalf("Send = %v, want ErrUnavailable wrapping the 502", r.err)
	}
	if n := len(f.srv.Calls("chat.postMessage")); n != 2 {
		t.Errorf("%d calls, want MaxAttempts = 2", n)
	}
}

func TestPosterRefusalsAreNotRetried(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*slacktest.Server)
		msg   Message
		code  string
		want  error
	}{
		{"not in channel", func(s *slacktest.Server) { s.AddChannel(slacktest.Channel{ID: "C9", Name: "x"}) },
			Message{Channel: "C9", Text: "hi"}, "not_in_channel", ErrNotInChannel},
		{"archived", func(s *slacktest.Server) {
			s.AddChannel(slacktest.Channel{ID: "C9", Name: "x", Member: true, Archived: true})
		}, Message{Channel: "C9", Text: "hi"}, "is_archived", ErrArchived},
		{"channel not found", func(*slacktest.Server) {}, Message{Channel: "C404", Text: "hi"}, "channel_not_found", ErrChannelNotFound},
		{"invalid blocks", func(s *slacktest.Server) {
			s.FailNext("chat.postMessage", 1, slacktest.Fault{Error: "invalid_blocks"})
		}, Message{Channel: "C1", Text: "hi"}, "invalid_blocks", ErrInvalidBlocks},
		{"too long", func(s *slacktest.Server) {
			s.FailNext("chat.postMessage", 1, slacktest.Fault{Error: "msg_too_long"})
		}, Message{Channel: "C1", Text: "hi"}, "msg_too_long", ErrMessageTooLong},
		{"ephemeral to unknown user", func(*slacktest.Server) {},
			Message{Channel: "C1", Text: "hi", EphemeralUser: "U404"}, "user_not_found", ErrUserNotInChannel},
		{"update of unknown message", func(*slacktest.Server) {},
			Message{Channel: "C1", Text: "hi", UpdateTS: "1700000000.000001"}, "message_not_found", ErrMessageNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := posterContext(t)
			f := newPosterFixture(t, PosterOptions{}, nil)
			tt.setup(f.srv)
			f.run(t)
			_, err := f.poster.Send(ctx, tt.msg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Send = %v, want %v", err, tt.want)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != tt.code || pe.Attempts != 1 || pe.Method != tt.msg.method() {
				t.Errorf("Send = %#v, want *Error{Code: %q, Attempts: 1, Method: %s}", err, tt.code, tt.msg.method())
			}
			if n := len(f.srv.Snapshot().Calls("")); n != 1 {
				t.Errorf("%d calls, want 1", n)
			}
			if d := f.clock.requested(); len(d) != 0 {
				t.Errorf("wake-ups scheduled %v: a refusal must not be retried", d)
			}
			if errors.Is(err, ErrHalted) || f.poster.Halted() {
				t.Error("a refusal halted the poster")
			}
		})
	}
}

func TestPosterChecksLimitsBeforeSending(t *testing.T) {
	ctx := posterContext(t)
	f := newPosterFixture(t, PosterOptions{}, nil)
	f.run(t)
	longHeader := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("h", MaxHeaderText+1), false, false))
	tests := []struct {
		msg  Message
		want error
	}{
		{Message{Channel: "C1", Text: strings.Repeat("x", MaxFallbackText+1)}, ErrMessageTooLong},
		{Message{Channel: "C1", Text: "x", Blocks: []slack.Block{FitSection("a"), longHeader}}, ErrInvalidBlocks},
	}
	for _, tt := range tests {
		if _, err := f.poster.Send(ctx, tt.msg); !errors.Is(err, tt.want) {
			t.Errorf("Send = %v, want %v", err, tt.want)
		}
	}
	for _, m := range []Message{
		{Text: "no channel"},
		{Channel: "C1"},
		{Channel: "C1", Text: "x", EphemeralUser: "U1", UpdateTS: "1.2"},
		{Channel: "C1", Text: "x", Metadata: &slack.SlackMetadata{}},
	} {
		if _, err := f.poster.Send(ctx, m); err == nil {
			t.Errorf("Send(%+v) = nil error", m)
		}
	}
	if n := len(f.srv.Snapshot().Calls("")); n != 0 {
		t.Errorf("%d calls, want none", n)
	}
}

func TestPosterHaltsWhenTokenRefused(t *testing.T) {
	for _, code := range []string{"token_revoked", "invalid_auth", "account_inactive", "app_uninstalled"} {
		t.Run(code, func(t *testing.T) {
			ctx := posterContext(t)
			f := newPosterFixture(t, PosterOptions{}, nil)
			f.srv.SetTokenError(code)
			first := f.queue(ctx, t, Message{Channel: "C1", Text: "secret renewal note 1"})
			queued := f.queue(ctx, t, Message{Channel: "C1", Text: "secret renewal note 2"})
			f.run(t)

			r := awaitPost(ctx, t, first)
			var pe *Error
			if !errors.Is(r.err, ErrHalted) || !errors.As(r.err, &pe) || pe.Code != code {
				t.Fatalf("Send = %v, want ErrHalted with code %s", r.err, code)
			}
			if r := awaitPost(ctx, t, queued); !errors.Is(r.err, ErrHalted) {
				t.Errorf("queued Send = %v, want ErrHalted", r.err)
			}
			if !f.poster.Halted() {
				t.Error("Halted() = false")
			}
			// Later sends fail at once, without a call, even once the token
			// works again: a restart resumes.
			f.srv.SetTokenError("")
			_, err := f.poster.Send(ctx, Message{Channel: "C2", Text: "later", Priority: PriorityInteractive})
			if !errors.Is(err, ErrHalted) {
				t.Errorf("later Send = %v, want ErrHalted", err)
			}
			if n := len(f.srv.Calls("chat.postMessage")); n != 1 {
				t.Errorf("%d calls, want 1", n)
			}
			logs := f.logs.String()
			if n := strings.Count(logs, "level=ERROR"); n != 1 {
				t.Errorf("%d Error logs, want exactly 1:\n%s", n, logs)
			}
			if !strings.Contains(logs, "code="+code) {
				t.Errorf("halt log does not name %s:\n%s", code, logs)
			}
			if strings.Contains(logs, "secret") || strings.Contains(logs, f.srv.BotToken()) {
				t.Errorf("logs carry message text or the token:\n%s", logs)
			}
		})
	}
}

func TestPosterPacesEachChannelAndInterleaves(t *testing.T) {
	ctx := posterContext(t)
	f := newPosterFixture(t, PosterOptions{}, nil)
	t0 := f.clock.Now()
	var results []<-chan posterOutcome
	for _, ch := range []string{"C1", "C1", "C1", "C2", "C2", "C2"} {
		results = append(results, f.queue(ctx, t, Message{Channel: ch, Text: "digest"}))
	}
	f.run(t)

	for i := 1; i <= 2; i++ {
		// Both channels go every second: C2 does not wait behind C1.
		f.waitCalls(ctx, t, "chat.postMessage", 2*i)
		next := t0.Add(time.Duration(i) * time.Second)
		f.clock.waitDeadline(ctx, t, next, next)
		f.clock.AdvanceTo(next)
	}
	for _, r := range results {
		if r := awaitPost(ctx, t, r); r.err != nil {
			t.Fatalf("Send: %v", r.err)
		}
	}
	got := map[string][]time.Duration{}
	for _, c := range f.srv.Calls("chat.postMessage") {
		got[c.Param("channel")] = append(got[c.Param("channel")], c.At.Sub(t0))
	}
	want := []time.Duration{0, time.Second, 2 * time.Second}
	for _, ch := range []string{"C1", "C2"} {
		if !slices.Equal(got[ch], want) {
			t.Errorf("%s posted at %v, want %v", ch, got[ch], want)
		}
	}
}

func TestPosterInteractiveJumpsTheQueue(t *testing.T) {
	ctx := posterContext(t)
	f := newPosterFixture(t, PosterOptions{}, nil)
	t0 := f.clock.Now()
	var background []<-chan posterOutcome
	for i := range 4 {
		background = append(background, f.queue(ctx, t, Message{Channel: "C1", Text: fmt.Sprintf("alert %d", i)}))
	}
	reply := f.queue(ctx, t, Message{Channel: "C1", Text: "reply", Priority: PriorityInteractive})
	f.run(t)

	if r := awaitPost(ctx, t, reply); r.err != nil {
		t.Fatalf("reply: %v", r.err)
	}
	for i := 1; i <= 4; i++ {
		f.waitCalls(ctx, t, "chat.postMessage", i)
		f.clock.AdvanceTo(t0.Add(time.Duration(i) * time.Second))
	}
	for _, r := range background {
		if r := awaitPost(ctx, t, r); r.err != nil {
			t.Fatalf("background: %v", r.err)
		}
	}
	var texts []string
	for _, m := range f.srv.Messages("C1") {
		texts = append(texts, m.Text)
	}
	want := []string{"reply", "alert 0", "alert 1", "alert 2", "alert 3"}
	if !slices.Equal(texts, want) {
		t.Errorf("order = %q, want %q", texts, want)
	}
}

func TestPosterKeepsBudgetForReplies(t *testing.T) {
	ctx := posterContext(t)
	// 60 a minute, bursts of 3, one token kept for replies.
	f := newPosterFixture(t, PosterOptions{WorkspacePerMinute: 60, WorkspaceBurst: 3, InteractiveReserve: 1}, nil)
	for i := 3; i <= 7; i++ {
		f.srv.AddChannel(slacktest.Channel{ID: fmt.Sprintf("C%d", i), Name: fmt.Sprintf("c%d", i), Member: true})
	}
	t0 := f.clock.Now()
	var background []<-chan posterOutcome
	for i := 1; i <= 6; i++ {
		background = append(background, f.queue(ctx, t, Message{Channel: fmt.Sprintf("C%d", i), Text: "digest"}))
	}
	f.run(t)
	f.waitCalls(ctx, t, "chat.postMessage", 2)
	// The bucket is down to the reserve: background waits for a token...
	f.clock.waitDeadline(ctx, t, t0.Add(time.Second), t0.Add(time.Second))
	// ...while a reply to a person goes at once, ahead of a backlog of 4.
	ts, err := f.poster.Send(ctx, Message{Channel: "C7", Text: "reply", Priority: PriorityInteractive, EphemeralUser: "U1"})
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	if eph := f.srv.Calls("chat.postEphemeral"); len(eph) != 1 || eph[0].At != t0 || ts == "" {
		t.Fatalf("reply calls %v, want one at t0", eph)
	}
	// Step the clock a second at a time, letting each due send go first.
	for i := 1; i <= 5; i++ {
		f.clock.AdvanceTo(t0.Add(time.Duration(i) * time.Second))
		if i >= 2 {
			f.waitCalls(ctx, t, "chat.postMessage", i+1)
		}
	}
	for _, r := range background {
		if r := awaitPost(ctx, t, r); r.err != nil {
			t.Fatalf("background: %v", r.err)
		}
	}
	var at []time.Duration
	for _, c := range f.srv.Calls("chat.postMessage") {
		at = append(at, c.At.Sub(t0))
	}
	// Tokens: 3 -> 1 (two sends) -> 0 (the reply), then +1 a second;
	// background needs 2, so it goes at 2 s, then every second.
	want := []time.Duration{0, 0, 2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second}
	if !slices.Equal(at, want) {
		t.Errorf("background calls at %v, want %v", at, want)
	}
}

func TestPosterConcurrentSends(t *testing.T) {
	ctx := posterContext(t)
	srv := slacktest.New(t)
	const channels, senders, perSender = 8, 24, 10
	for i := range channels {
		srv.AddChannel(slacktest.Channel{ID: fmt.Sprintf("C%d", i), Name: fmt.Sprintf("c%d", i), Member: true})
	}
	p := NewPoster(newPosterSlackClient(srv, nil), PosterOptions{PerChannelInterval: time.Millisecond, WorkspacePerMinute: -1})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()

	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		tss = map[string]bool{}
	)
	for s := range senders {
		wg.Go(func() {
			for i := range perSender {
				prio := PriorityBackground
				if i%3 == 0 {
					prio = PriorityInteractive
				}
				ts, err := p.Send(ctx, Message{Channel: fmt.Sprintf("C%d", (s+i)%channels), Text: "x", Priority: prio})
				if err != nil {
					t.Errorf("Send: %v", err)
					continue
				}
				mu.Lock()
				if tss[ts] {
					t.Errorf("ts %s returned twice", ts)
				}
				tss[ts] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if n := len(srv.Calls("chat.postMessage")); n != senders*perSender || len(tss) != senders*perSender {
		t.Errorf("%d calls, %d ts; want %d", n, len(tss), senders*perSender)
	}
}

// dropFirst is a transport that delivers the first request to path to the
// server but loses the answer, like a connection reset after Slack acted:
// the outcome is unknown to the client.
type dropFirst struct {
	path    string
	dropped atomic.Bool
}

func (d *dropFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, d.path) && d.dropped.CompareAndSwap(false, true) {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return nil, errors.New("connection reset by peer")
	}
	return resp, err
}

func TestPosterChecksHistoryAfterUnknownOutcome(t *testing.T) {
	for _, withMetadata := range []bool{true, false} {
		t.Run(fmt.Sprintf("metadata=%v", withMetadata), func(t *testing.T) {
			ctx := posterContext(t)
			drop := &dropFirst{path: "/chat.postMessage"}
			f := newPosterFixture(t, PosterOptions{BackoffBase: 4 * time.Second}, &http.Client{Transport: drop})
			f.run(t)
			t0 := f.clock.Now()
			m := Message{Channel: "C1", Text: "Acme: health fell to red"}
			if withMetadata {
				m.Metadata = &slack.SlackMetadata{EventType: "csbot_notification",
					EventPayload: map[string]any{"dedupe_key": "risk:acme:2026-03-02", "attempt": 1}}
			}
			res := f.send(ctx, m)
			f.clock.AdvanceTo(f.clock.waitDeadline(ctx, t, t0.Add(time.Second), t0.Add(4*time.Second)))
			r := awaitPost(ctx, t, res)
			if r.err != nil {
				t.Fatalf("Send: %v", r.err)
			}
			msgs := f.srv.Messages("C1")
			posts := len(f.srv.Calls("chat.postMessage"))
			history := len(f.srv.Calls("conversations.history"))
			if withMetadata {
				if len(msgs) != 1 || msgs[0].TS != r.ts || posts != 1 || history != 1 {
					t.Errorf("%d messages, %d posts, %d history calls, ts %s; want the first message found, not posted twice",
						len(msgs), posts, history, r.ts)
				}
				return
			}
			// Without metadata there is nothing to look for: at least once.
			if len(msgs) != 2 || posts != 2 || history != 0 {
				t.Errorf("%d messages, %d posts, %d history calls; want posted again", len(msgs), posts, history)
			}
		})
	}
}

// findFixture is a poster that is not running, a fake Slack on a manual
// clock, and a slack-go client to post to it as csbot did earlier.
type findFixture struct {
	*posterFixture
	api *slack.Client
}

func newFindFixture(t *testing.T) *findFixture {
	t.Helper()
	return &findFixture{posterFixture: newPosterFixture(t, PosterOptions{}, nil)}
}

// post posts text to channel, with md when not nil, and returns its ts.
func (f *findFixture) post(ctx context.Context, t *testing.T, channel, text string, md *slack.SlackMetadata) string {
	t.Helper()
	if f.api == nil {
		f.api = newPosterSlackClient(f.srv, nil)
	}
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if md != nil {
		opts = append(opts, slack.MsgOptionMetadata(*md))
	}
	_, ts, err := f.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		t.Fatalf("posting %q: %v", text, err)
	}
	return ts
}

func notification(key string, attempt any) slack.SlackMetadata {
	return slack.SlackMetadata{EventType: "csbot_notification",
		EventPayload: map[string]any{"dedupe_key": key, "attempt": attempt}}
}

func TestPosterFindPostedFound(t *testing.T) {
	ctx := posterContext(t)
	f := newFindFixture(t)
	since := f.clock.Now()
	md := notification("risk:acme:2026-03-02", 1)
	f.post(ctx, t, "C1", "no metadata", nil)
	f.post(ctx, t, "C1", "other payload", new(notification("risk:globex:2026-03-02", 1)))
	f.post(ctx, t, "C1", "other event type", &slack.SlackMetadata{EventType: "csbot_digest", EventPayload: md.EventPayload})
	want := f.post(ctx, t, "C1", "Acme: health fell to red", &md)
	f.post(ctx, t, "C1", "later", new(notification("risk:acme:2026-03-03", 1)))

	// The payload compares by its JSON, whatever Go types built it; the
	// poster need not run.
	ts, err := f.poster.FindPosted(ctx, "C1", notification("risk:acme:2026-03-02", 1.0), since)
	if err != nil || ts != want {
		t.Fatalf("FindPosted = %q, %v; want %s", ts, err, want)
	}
	calls := f.srv.Calls("conversations.history")
	if len(calls) != 1 {
		t.Fatalf("%d conversations.history calls, want 1", len(calls))
	}
	oldest := since.Add(-historyMargin)
	c := calls[0]
	if c.Param("channel") != "C1" || !slices.Contains([]string{"1", "true"}, c.Param("include_all_metadata")) || c.Param("limit") != "200" ||
		c.Param("oldest") != fmt.Sprintf("%d.%06d", oldest.Unix(), oldest.Nanosecond()/1000) {
		t.Errorf("conversations.history params = %v", c.Params)
	}
}

func TestPosterFindPostedNotFound(t *testing.T) {
	ctx := posterContext(t)
	f := newFindFixture(t)
	since := f.clock.Now()
	f.post(ctx, t, "C1", "other payload", new(notification("risk:globex:2026-03-02", 1)))
	f.post(ctx, t, "C1", "other attempt", new(notification("risk:acme:2026-03-02", 2)))
	// The same notification in another channel does not count.
	f.post(ctx, t, "C2", "Acme: health fell to red", new(notification("risk:acme:2026-03-02", 1)))
	if ts, err := f.poster.FindPosted(ctx, "C1", notification("risk:acme:2026-03-02", 1), since); err != nil || ts != "" {
		t.Errorf("FindPosted = %q, %v; want none", ts, err)
	}
	f.srv.AddChannel(slacktest.Channel{ID: "C3", Name: "empty", Member: true})
	if ts, err := f.poster.FindPosted(ctx, "C3", notification("risk:acme:2026-03-02", 1), since); err != nil || ts != "" {
		t.Errorf("FindPosted in an empty channel = %q, %v; want none", ts, err)
	}
}

func TestPosterFindPostedIgnoresOlderMessages(t *testing.T) {
	ctx := posterContext(t)
	f := newFindFixture(t)
	t0 := f.clock.Now()
	md := notification("risk:acme:2026-03-02", 1)
	old := f.post(ctx, t, "C1", "Acme: health fell to red", &md)
	f.clock.AdvanceTo(t0.Add(10 * time.Minute))
	f.post(ctx, t, "C1", "newer, other payload", new(notification("risk:acme:2026-03-03", 1)))

	if ts, err := f.poster.FindPosted(ctx, "C1", md, t0.Add(5*time.Minute)); err != nil || ts != "" {
		t.Errorf("FindPosted since after the message = %q, %v; want none", ts, err)
	}
	// Within the margin before since, it is found.
	if ts, err := f.poster.FindPosted(ctx, "C1", md, t0.Add(historyMargin/2)); err != nil || ts != old {
		t.Errorf("FindPosted since just after the message = %q, %v; want %s", ts, err, old)
	}
}

func TestPosterFindPostedPages(t *testing.T) {
	ctx := posterContext(t)
	f := newFindFixture(t)
	since := f.clock.Now()
	md := notification("risk:acme:2026-03-02", 1)
	want := f.post(ctx, t, "C1", "Acme: health fell to red", &md)
	for i := range findPageSize + 50 {
		f.post(ctx, t, "C1", "filler", new(notification(fmt.Sprintf("filler:%d", i), 1)))
	}
	ts, err := f.poster.FindPosted(ctx, "C1", md, since)
	if err != nil || ts != want {
		t.Fatalf("FindPosted = %q, %v; want %s from the second page", ts, err, want)
	}
	calls := f.srv.Calls("conversations.history")
	if len(calls) != 2 || calls[0].Param("cursor") != "" || calls[1].Param("cursor") == "" {
		t.Errorf("%d conversations.history calls (cursors %q); want 2, the second with a cursor", len(calls), cursors(calls))
	}
}

func TestPosterFindPostedStopsAfterMaxPages(t *testing.T) {
	ctx := posterContext(t)
	f := newFindFixture(t)
	since := f.clock.Now()
	md := notification("risk:acme:2026-03-02", 1)
	f.post(ctx, t, "C1", "Acme: health fell to red", &md)
	for range findPageSize * findMaxPages {
		f.post(ctx, t, "C1", "filler", nil)
	}
	ts, err := f.poster.FindPosted(ctx, "C1", md, since)
	if !errors.Is(err, ErrHistoryTooLong) || ts != "" {
		t.Fatalf("FindPosted = %q, %v; want ErrHistoryTooLong past the page cap, never a guess", ts, err)
	}
	if calls := f.srv.Calls("conversations.history"); len(calls) != findMaxPages {
		t.Errorf("%d conversations.history calls, want %d", len(calls), findMaxPages)
	}
}

func TestPosterFindPostedErrors(t *testing.T) {
	ctx := posterContext(t)
	f := newFindFixture(t)
	f.srv.AddChannel(slacktest.Channel{ID: "C3", Name: "private", Private: true})
	since := f.clock.Now()
	md := notification("risk:acme:2026-03-02", 1)
	want := f.post(ctx, t, "C1", "Acme: health fell to red", &md)

	f.srv.FailNext("conversations.history", 1, slacktest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second})
	ts, err := f.poster.FindPosted(ctx, "C1", md, since)
	if !errors.Is(err, ErrUnavailable) || ts != "" {
		t.Errorf("FindPosted on a 429 = %q, %v; want an error matching ErrUnavailable", ts, err)
	}
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 30*time.Second {
		t.Errorf("FindPosted on a 429 = %v; want slack-go's RateLimitedError kept", err)
	}
	f.srv.FailNext("conversations.history", 1, slacktest.Fault{Status: http.StatusServiceUnavailable})
	if _, err := f.poster.FindPosted(ctx, "C1", md, since); !errors.Is(err, ErrUnavailable) {
		t.Errorf("FindPosted on a 503 = %v; want an error matching ErrUnavailable", err)
	}
	_, err = f.poster.FindPosted(ctx, "C3", md, since)
	if !errors.Is(err, ErrNotInChannel) || errors.Is(err, ErrUnavailable) {
		t.Errorf("FindPosted in a channel the bot is not in = %v; want ErrNotInChannel, not ErrUnavailable", err)
	}
	// No retry inside FindPosted: the caller retries, and then it works.
	if n := len(f.srv.Calls("conversations.history")); n != 3 {
		t.Errorf("%d conversations.history calls, want 3", n)
	}
	if ts, err := f.poster.FindPosted(ctx, "C1", md, since); err != nil || ts != want {
		t.Errorf("FindPosted after the faults = %q, %v; want %s", ts, err, want)
	}
	if _, err := f.poster.FindPosted(ctx, "C1", slack.SlackMetadata{}, since); err == nil {
		t.Errorf("FindPosted without event_type: no error")
	}
}

// cursors returns the cursor of each call.
func cursors(calls []slacktest.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Param("cursor"))
	}
	return out
}

func TestPosterEphemeralAndUpdate(t *testing.T) {
	ctx := posterContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	p := NewPoster(newPosterSlackClient(srv, nil), PosterOptions{PerChannelInterval: -1})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = p.Run(runCtx) }()

	ts, err := p.Send(ctx, Message{Channel: "C1", Text: "only you", EphemeralUser: "U1", Priority: PriorityInteractive})
	if err != nil || ts == "" {
		t.Fatalf("ephemeral Send = %q, %v", ts, err)
	}
	if e := srv.Ephemerals(); len(e) != 1 || e[0].User != "U1" || e[0].Text != "only you" {
		t.Errorf("ephemerals = %+v", e)
	}
	ts, err = p.Send(ctx, Message{Channel: "C1", Text: "draft", Blocks: []slack.Block{FitSection("draft")}})
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	uts, err := p.Send(ctx, Message{Channel: "C1", Text: "final", Blocks: []slack.Block{FitSection("*final*")}, UpdateTS: ts})
	if err != nil || uts != ts {
		t.Fatalf("update = %q, %v; want ts %s", uts, err, ts)
	}
	if m := srv.Messages("C1"); len(m) != 1 || m[0].Text != "final" || m[0].Edits != 1 {
		t.Errorf("messages = %+v", m)
	}
}

func TestPosterStop(t *testing.T) {
	ctx := posterContext(t)
	f := newPosterFixture(t, PosterOptions{}, nil)
	stop := f.run(t)
	t0 := f.clock.Now()
	if r := awaitPost(ctx, t, f.send(ctx, Message{Channel: "C1", Text: "a"})); r.err != nil {
		t.Fatalf("first: %v", r.err)
	}
	// A second send to C1 waits its turn; a third is abandoned by its sender.
	second := f.send(ctx, Message{Channel: "C1", Text: "b"})
	f.clock.waitDeadline(ctx, t, t0.Add(time.Second), t0.Add(time.Second))
	cctx, cancel := context.WithCancel(ctx)
	third := f.send(cctx, Message{Channel: "C1", Text: "c"})
	cancel()
	if r := awaitPost(ctx, t, third); !errors.Is(r.err, context.Canceled) {
		t.Errorf("abandoned Send = %v, want context.Canceled", r.err)
	}
	if err := stop(); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if r := awaitPost(ctx, t, second); !errors.Is(r.err, ErrPosterClosed) {
		t.Errorf("queued Send = %v, want ErrPosterClosed", r.err)
	}
	if _, err := f.poster.Send(ctx, Message{Channel: "C1", Text: "d"}); !errors.Is(err, ErrPosterClosed) {
		t.Errorf("Send after stop = %v, want ErrPosterClosed", err)
	}
	if err := f.poster.Run(ctx); err == nil {
		t.Error("second Run = nil error")
	}
	if n := len(f.srv.Messages("C1")); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

// BenchmarkPosterThroughput sends rounds of one message to each of 500
// channels through the fake Slack on loopback, paced on the real clock
// with no workspace budget, and reports the rate achieved against the
// ceiling the pace allows (channels/interval). With r rounds, the first
// goes at once and each later one waits for the pace, so the ideal time is
// (r-1) intervals: "%ideal" is that over the time taken, "paced-msgs/s" the
// rate of the paced rounds. Run it with -benchtime=1x: the 1s interval is
// Slack's pace; 100ms shows the scheduler's headroom at 5,000/s.
func BenchmarkPosterThroughput(b *testing.B) {
	for _, interval := range []time.Duration{time.Second, 100 * time.Millisecond} {
		b.Run(fmt.Sprintf("interval=%v", interval), func(b *testing.B) {
			const channels, rounds = 500, 4
			srv := slacktest.New(b)
			for i := range channels {
				srv.AddChannel(slacktest.Channel{ID: fmt.Sprintf("C%04d", i), Name: fmt.Sprintf("c%d", i), Member: true})
			}
			p := NewPoster(newPosterSlackClient(srv, nil), PosterOptions{PerChannelInterval: interval, WorkspacePerMinute: -1})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { _ = p.Run(ctx) }()

			var elapsed time.Duration
			runs := 0
			for b.Loop() {
				start := time.Now()
				var wg sync.WaitGroup
				for c := range channels {
					wg.Go(func() {
						for range rounds {
							if _, err := p.Send(ctx, Message{Channel: fmt.Sprintf("C%04d", c), Text: "digest"}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed += time.Since(start)
				runs++
			}
			perRun := elapsed / time.Duration(runs)
			b.ReportMetric(float64(channels*rounds)/perRun.Seconds(), "msgs/s")
			b.ReportMetric(float64(channels*(rounds-1))/perRun.Seconds(), "paced-msgs/s")
			b.ReportMetric(float64(channels)/interval.Seconds(), "ceiling-msgs/s")
			b.ReportMetric(float64(interval*(rounds-1))/float64(perRun)*100, "%ideal")
		})
	}
}
