package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/csbot/csbot"
	"github.com/slack-go/slack"
)

// Errors a Send can return. A *Error from the poster matches the sentinel of
// its Slack error code with errors.Is; the limit errors of CheckLimits match
// ErrInvalidBlocks and ErrMessageTooLong too. None of these is retried.
var (
	// ErrNotInChannel: the bot is not a member of the channel
	// (not_in_channel). Invite it, or join a public channel, then send again.
	ErrNotInChannel = errors.New("bot is not in the channel")
	// ErrChannelNotFound: no such channel, or the bot cannot see it
	// (channel_not_found).
	ErrChannelNotFound = errors.New("channel not found")
	// ErrArchived: the channel is archived (is_archived).
	ErrArchived = errors.New("channel is archived")
	// ErrMessageTooLong: the text is too long (msg_too_long,
	// msg_blocks_too_long, or over MaxFallbackText).
	ErrMessageTooLong = errors.New("message too long")
	// ErrInvalidBlocks: Slack refused the blocks (invalid_blocks,
	// invalid_blocks_format), or they break a Block Kit limit.
	ErrInvalidBlocks = errors.New("invalid blocks")
	// ErrMessageNotFound: chat.update found no message to change
	// (message_not_found, cant_update_message).
	ErrMessageNotFound = errors.New("message not found")
	// ErrUserNotInChannel: chat.postEphemeral to a user who is not in the
	// channel or does not exist (user_not_in_channel, user_not_found).
	ErrUserNotInChannel = errors.New("user not in channel")
	// ErrHalted: Slack refused the bot token (token_revoked, invalid_auth,
	// account_inactive, app_uninstalled...). The poster stopped posting for
	// good; every queued and later send fails with it at once.
	ErrHalted = errors.New("slack posting halted: bot token refused")
	// ErrUnavailable: rate limits, 5xx answers or network errors lasted
	// through every attempt. Try again later.
	ErrUnavailable = errors.New("slack unavailable")
	// ErrHistoryTooLong: FindPosted could not search back far enough to
	// tell whether a message was posted.
	ErrHistoryTooLong = errors.New("channel history too long to search")
	// ErrPosterClosed: the poster's Run has ended.
	ErrPosterClosed = errors.New("poster stopped")
)

// Error is a send that failed: Slack refused it, or it kept failing. A
// FindPosted that failed returns one too.
type Error struct {
	// Method is the Web API method: chat.postMessage, chat.postEphemeral,
	// chat.update, or conversations.history for FindPosted.
	Method string
	// Channel is the channel the message was for.
	Channel string
	// Code is Slack's error code, e.g. "not_in_channel"; "" for HTTP and
	// network failures.
	Code string
	// Details are Slack's response_metadata.messages, which point into
	// the payload (e.g. "must be less than 3001 characters
	// [json-pointer:/blocks/0/text/text]") without quoting it.
	Details []string
	// Attempts counts the calls made.
	Attempts int
	// Err is the last underlying error (from slack-go), if any.
	Err error
}

// Error says what failed, never what the message said.
func (e *Error) Error() string {
	what := e.Code
	if what == "" && e.Err != nil {
		what = e.Err.Error()
	}
	s := fmt.Sprintf("%s to %s: %s", e.Method, e.Channel, what)
	if len(e.Details) > 0 {
		s += fmt.Sprintf(" %q", e.Details)
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel of the error code (ErrNotInChannel for
// not_in_channel, and so on).
func (e *Error) Is(target error) bool {
	s := codeSentinel(e.Code)
	return s != nil && s == target
}

// codeSentinel maps a Slack error code to its sentinel error.
func codeSentinel(code string) error {
	switch code {
	case "not_in_channel":
		return ErrNotInChannel
	case "channel_not_found":
		return ErrChannelNotFound
	case "is_archived":
		return ErrArchived
	case "msg_too_long", "msg_blocks_too_long":
		return ErrMessageTooLong
	case "invalid_blocks", "invalid_blocks_format":
		return ErrInvalidBlocks
	case "message_not_found", "cant_update_message":
		return ErrMessageNotFound
	case "user_not_in_channel", "user_not_found":
		return ErrUserNotInChannel
	}
	if haltCode(code) {
		return ErrHalted
	}
	return nil
}

// haltCode reports whether code means the bot token no longer works.
func haltCode(code string) bool {
	switch code {
	case "token_revoked", "token_expired", "invalid_auth", "not_authed",
		"account_inactive", "app_uninstalled", "team_disabled":
		return true
	}
	return false
}

// Priority orders sends competing for the workspace budget and for a
// channel's turn.
type Priority int

const (
	// PriorityBackground is for alerts, reminders, digests and other posts
	// nobody is waiting on. It is the zero value, so a forgotten priority
	// never lets a fan-out crowd out replies.
	PriorityBackground Priority = iota
	// PriorityInteractive is for replies to a person: they go before every
	// background send and have a share of the workspace budget kept for
	// them.
	PriorityInteractive
)

// String returns "background" or "interactive".
func (p Priority) String() string {
	if p == PriorityInteractive {
		return "interactive"
	}
	return "background"
}

// Message is one send to Slack: chat.postMessage, or chat.postEphemeral
// when EphemeralUser is set, or chat.update when UpdateTS is set.
type Message struct {
	// Channel is the conversation id (or a user id, for their DM).
	Channel string
	// Text is the fallback text (notifications, screen readers), or the
	// message itself when there are no blocks. It is sent as is: escape
	// data in it with Escape.
	Text string
	// Blocks are the Block Kit blocks.
	Blocks []slack.Block
	// ThreadTS posts the message as a reply in that thread.
	ThreadTS string
	// Metadata is Slack message metadata. Notifications put their dedupe
	// key in it, and the poster uses it to find a message whose first
	// posting had an unknown outcome (a 5xx, a dropped connection) before
	// posting it again (see Poster).
	Metadata *slack.SlackMetadata
	// EphemeralUser, when set, sends the message with chat.postEphemeral to
	// this user only.
	EphemeralUser string
	// UpdateTS, when set, replaces the message with that ts using
	// chat.update. Without blocks, Slack keeps the message's old blocks.
	UpdateTS string
	// Priority says whether a person is waiting for this message.
	Priority Priority
}

// method returns the Web API method that sends m.
func (m *Message) method() string {
	switch {
	case m.EphemeralUser != "":
		return "chat.postEphemeral"
	case m.UpdateTS != "":
		return "chat.update"
	}
	return "chat.postMessage"
}

// check reports what is wrong with m before any call is made.
func (m *Message) check() error {
	switch {
	case m.Channel == "":
		return errors.New("message has no channel")
	case m.EphemeralUser != "" && m.UpdateTS != "":
		return errors.New("message is both ephemeral and an update")
	case m.Text == "" && len(m.Blocks) == 0:
		return errors.New("message has neither text nor blocks")
	case m.Metadata != nil && m.Metadata.EventType == "":
		return errors.New("message metadata has no event_type")
	}
	if err := CheckLimits(SurfaceMessage, m.Blocks, m.Text); err != nil {
		return fmt.Errorf("message over Slack's limits: %w", err)
	}
	return nil
}

// options returns the slack-go options that carry m.
func (m *Message) options() []slack.MsgOption {
	var opts []slack.MsgOption
	if m.Text != "" {
		opts = append(opts, slack.MsgOptionText(m.Text, false))
	}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	if m.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(m.ThreadTS))
	}
	if m.Metadata != nil {
		opts = append(opts, slack.MsgOptionMetadata(*m.Metadata))
	}
	return opts
}

// Clock is the poster's time source; tests substitute a manual one.
type Clock interface {
	Now() time.Time
	// At returns a channel that receives once the clock reaches t (at
	// once if it has). The time is absolute so that a clock moved between
	// Now and At does not shift the wake-up.
	At(t time.Time) <-chan time.Time
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                  { return time.Now() }
func (realClock) At(t time.Time) <-chan time.Time { return time.After(time.Until(t)) }

// PosterOptions configure a Poster. The zero value gives Slack's pace and
// sensible defaults.
type PosterOptions struct {
	// Logger receives retries (Info/Warn) and the halt (Error, once).
	// Message text and tokens are never logged. Default: discard.
	Logger *slog.Logger
	// PerChannelInterval is the least time between two sends to the same
	// channel. Default 1 s, Slack's pace for chat.postMessage; negative
	// turns pacing off.
	PerChannelInterval time.Duration
	// WorkspacePerMinute is the budget of sends per minute for the whole
	// workspace, a token bucket. Default 100; negative means no budget.
	WorkspacePerMinute int
	// WorkspaceBurst is the bucket's size: how many sends may go at once
	// after a quiet spell. Default 10.
	WorkspaceBurst int
	// InteractiveReserve is how many tokens background sends leave in the
	// bucket for replies to people. Default WorkspaceBurst/5, at least 1
	// and at most WorkspaceBurst-1.
	InteractiveReserve int
	// MaxAttempts caps the calls made for one message, retries of 429,
	// 5xx and network errors included. Default 5.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the exponential backoff after a 5xx
	// or network error: attempt n waits a random time between half and all
	// of min(BackoffBase*2^(n-1), BackoffMax). Defaults 500 ms and 30 s.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// AttemptTimeout bounds one call. Default 15 s.
	AttemptTimeout time.Duration
	// Concurrency caps the calls in flight at once. Default 16.
	Concurrency int
	// Clock is the time source for pacing, budget and backoff. Default:
	// the wall clock.
	Clock Clock
}

// withDefaults fills in the defaults.
func (o PosterOptions) withDefaults() PosterOptions {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PerChannelInterval == 0 {
		o.PerChannelInterval = time.Second
	}
	if o.PerChannelInterval < 0 {
		o.PerChannelInterval = 0
	}
	if o.WorkspacePerMinute == 0 {
		o.WorkspacePerMinute = 100
	}
	if o.WorkspaceBurst <= 0 {
		o.WorkspaceBurst = 10
	}
	if o.InteractiveReserve <= 0 {
		o.InteractiveReserve = max(o.WorkspaceBurst/5, 1)
	}
	o.InteractiveReserve = min(o.InteractiveReserve, o.WorkspaceBurst-1)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 500 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 30 * time.Second
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 15 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	return o
}

// chatAPI is the part of slack-go's client the poster calls.
type chatAPI interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
}

// Poster is the one way csbot sends messages to Slack. It queues sends and
// makes the calls from Run:
//
//   - at most one send per PerChannelInterval (1 s) per channel, one at a
//     time and in order per channel and priority, while other channels go
//     on;
//   - within a workspace budget (a token bucket), with a reserve that
//     background sends leave for replies;
//   - interactive sends first: they jump every queued background send, in
//     their channel and across channels, so a backlog of alerts never delays
//     a reply to a person;
//   - a 429 holds the channel for its Retry-After (and background sends in
//     every channel, since the limit may be the workspace's), then retries;
//     5xx answers, Slack's internal_error/fatal_error/service_unavailable
//     and network errors are retried with exponential backoff and jitter;
//     all up to MaxAttempts calls;
//   - before posting again a chat.postMessage whose earlier attempt may have
//     gone through (5xx, network error, timeout), it looks for a message with
//     the same Metadata in the channel's history since just before the first
//     attempt (FindPosted: conversations.history, which needs the
//     channels:history and groups:history scopes) and returns that one's ts
//     instead of posting a duplicate. Thread replies and messages without Metadata are posted
//     again: delivery is at least once;
//   - Slack's refusals (not_in_channel, channel_not_found, is_archived,
//     msg_too_long, invalid_blocks, ...) come back at once as *Error,
//     matching the sentinel errors, and are never retried;
//   - when Slack refuses the token itself (token_revoked, invalid_auth,
//     account_inactive, app_uninstalled...), the poster halts: it logs one
//     Error, Halted reports true, and every queued and later send fails at
//     once with ErrHalted. It does not hold sends in memory: durable work
//     waits in the notifications outbox, and a restart with a working token
//     resumes.
//
// The slack.Client must not retry by itself (no slack.OptionRetry or
// OptionRetryConfig), or 429s and 5xx would be retried twice and the
// pacing would not see them. A Poster is safe for concurrent use.
type Poster struct {
	api   chatAPI
	log   *slog.Logger
	clock Clock
	o     PosterOptions

	wake chan struct{} // pokes Run: a send queued, a call ended

	mu       sync.Mutex
	chans    map[string]*channelQueue
	seq      uint64
	queued   int
	inflight int
	tokens   float64
	refilled time.Time
	bgHold   time.Time // no background sends before, after a 429
	state    posterState
	haltCode string
}

type posterState int

const (
	posterIdle posterState = iota
	posterRunning
	posterStopped
)

// channelQueue is the pending sends of one channel.
type channelQueue struct {
	q    [2][]*postJob // by Priority
	busy bool          // a call for this channel is in flight
	next time.Time     // earliest start of the next call
}

func (cq *channelQueue) empty() bool { return len(cq.q[0]) == 0 && len(cq.q[1]) == 0 }

// postJob is one queued send.
type postJob struct {
	ctx       context.Context
	msg       Message
	seq       uint64
	done      chan postResult // buffered: the sender may have given up
	attempts  int
	firstAt   time.Time
	ambiguous bool // an earlier attempt may have posted the message
}

type postResult struct {
	ts  string
	err error
}

// NewPoster returns a Poster that sends through api. Start it with Run.
func NewPoster(api *slack.Client, opts PosterOptions) *Poster {
	return newPoster(api, opts)
}

func newPoster(api chatAPI, opts PosterOptions) *Poster {
	o := opts.withDefaults()
	return &Poster{
		api:      api,
		log:      o.Logger.With("component", "poster"),
		clock:    o.Clock,
		o:        o,
		wake:     make(chan struct{}, 1),
		chans:    make(map[string]*channelQueue),
		tokens:   float64(o.WorkspaceBurst),
		refilled: o.Clock.Now(),
	}
}

// Halted reports whether the poster stopped because Slack refused the
// token.
func (p *Poster) Halted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.haltCode != ""
}

// Send queues m and waits for its outcome: the message's ts (for
// chat.postEphemeral, the message_ts Slack returns) or an error. Sends may
// be queued before Run starts; they wait for it.
//
// It returns at once an error matching ErrInvalidBlocks or
// ErrMessageTooLong when m breaks Slack's limits (see CheckLimits), and an
// error for a message without channel or content; ErrHalted once the token
// was refused; ErrPosterClosed once Run has ended. Slack's refusals come
// back as *Error matching ErrNotInChannel, ErrChannelNotFound, ErrArchived
// and the other sentinels; failures that lasted through every attempt match
// ErrUnavailable. When ctx ends first, Send returns ctx's error; a call
// already in flight is then abandoned, and may or may not have posted.
func (p *Poster) Send(ctx context.Context, m Message) (string, error) {
	if err := m.check(); err != nil {
		return "", fmt.Errorf("%s to %s: %w", m.method(), m.Channel, err)
	}
	j, err := p.enqueue(ctx, m)
	if err != nil {
		return "", err
	}
	return p.wait(ctx, j)
}

// enqueue queues m.
func (p *Poster) enqueue(ctx context.Context, m Message) (*postJob, error) {
	if m.Priority != PriorityInteractive {
		m.Priority = PriorityBackground
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.haltCode != "":
		return nil, p.haltErrLocked(&m)
	case p.state == posterStopped:
		return nil, fmt.Errorf("%s to %s: %w", m.method(), m.Channel, ErrPosterClosed)
	}
	p.seq++
	j := &postJob{ctx: ctx, msg: m, seq: p.seq, done: make(chan postResult, 1)}
	cq := p.chans[m.Channel]
	if cq == nil {
		cq = &channelQueue{}
		p.chans[m.Channel] = cq
	}
	cq.q[m.Priority] = append(cq.q[m.Priority], j)
	p.queued++
	p.poke()
	return j, nil
}

// wait waits for j's outcome or the end of ctx.
func (p *Poster) wait(ctx context.Context, j *postJob) (string, error) {
	select {
	case r := <-j.done:
		return r.ts, r.err
	case <-ctx.Done():
		p.mu.Lock()
		p.removeLocked(j)
		p.mu.Unlock()
		return "", fmt.Errorf("%s to %s: %w", j.msg.method(), j.msg.Channel, context.Cause(ctx))
	}
}

// removeLocked drops j from its queue if it is still there.
func (p *Poster) removeLocked(j *postJob) {
	cq := p.chans[j.msg.Channel]
	if cq == nil {
		return
	}
	q := cq.q[j.msg.Priority]
	if i := slices.Index(q, j); i >= 0 {
		cq.q[j.msg.Priority] = slices.Delete(q, i, i+1)
		p.queued--
	}
}

// poke wakes Run without blocking.
func (p *Poster) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run makes the calls until ctx ends. It then stops taking sends, fails
// the queued ones with ErrPosterClosed, waits for the calls in flight (each
// bounded by its sender's context and AttemptTimeout) and returns nil.
// It returns an error at once if the poster was already run.
func (p *Poster) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.state != posterIdle {
		p.mu.Unlock()
		return errors.New("poster: Run called twice")
	}
	p.state = posterRunning
	p.mu.Unlock()

	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		p.mu.Lock()
		now := p.clock.Now()
		for p.inflight < p.o.Concurrency {
			cq, j := p.pickLocked(now)
			if j == nil {
				break
			}
			p.startLocked(now, cq, j)
			wg.Go(func() { p.attempt(cq, j) })
		}
		wakeAt, timed := p.nextWakeLocked(now)
		p.mu.Unlock()

		var timer <-chan time.Time
		if timed {
			timer = p.clock.At(wakeAt)
		}
		select {
		case <-ctx.Done():
			p.stop()
			return nil
		case <-p.wake:
		case <-timer:
		}
	}
}

// stop ends the poster: queued sends fail with ErrPosterClosed.
func (p *Poster) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = posterStopped
	p.failQueuedLocked(func(j *postJob) error {
		return p.jobErr(j, "", nil, ErrPosterClosed)
	})
}

// failQueuedLocked fails every queued send with the error errFor gives.
func (p *Poster) failQueuedLocked(errFor func(*postJob) error) {
	for id, cq := range p.chans {
		for prio := range cq.q {
			for _, j := range cq.q[prio] {
				j.done <- postResult{err: errFor(j)}
			}
			cq.q[prio] = nil
		}
		if !cq.busy {
			delete(p.chans, id)
		}
	}
	p.queued = 0
}

// refillLocked adds the tokens earned since the last refill.
func (p *Poster) refillLocked(now time.Time) {
	if p.o.WorkspacePerMinute < 0 {
		return
	}
	if dt := now.Sub(p.refilled); dt > 0 {
		p.tokens = min(float64(p.o.WorkspaceBurst), p.tokens+dt.Seconds()*p.ratePerSecond())
	}
	p.refilled = now
}

func (p *Poster) ratePerSecond() float64 { return float64(p.o.WorkspacePerMinute) / 60 }

// need is how many tokens the bucket must hold for a send of prio to go.
func (p *Poster) need(prio Priority) float64 {
	if prio == PriorityInteractive {
		return 1
	}
	return 1 + float64(p.o.InteractiveReserve)
}

// tokenEpsilon absorbs float rounding in the bucket.
const tokenEpsilon = 1e-9

// pickLocked returns the next send to make now, or nil: interactive sends
// first, then background ones; among them, the longest waiting.
func (p *Poster) pickLocked(now time.Time) (*channelQueue, *postJob) {
	if p.haltCode != "" || p.state == posterStopped || p.queued == 0 {
		return nil, nil
	}
	p.refillLocked(now)
	for prio := PriorityInteractive; prio >= PriorityBackground; prio-- {
		if p.o.WorkspacePerMinute >= 0 && p.tokens+tokenEpsilon < p.need(prio) {
			continue
		}
		if prio == PriorityBackground && now.Before(p.bgHold) {
			continue
		}
		var best *channelQueue
		for _, cq := range p.chans {
			if cq.busy || len(cq.q[prio]) == 0 || now.Before(cq.next) {
				continue
			}
			if prio == PriorityBackground && len(cq.q[PriorityInteractive]) > 0 {
				continue
			}
			if best == nil || cq.q[prio][0].seq < best.q[prio][0].seq {
				best = cq
			}
		}
		if best != nil {
			j := best.q[prio][0]
			best.q[prio] = best.q[prio][1:]
			return best, j
		}
	}
	return nil, nil
}

// startLocked books a call: the channel's turn and a token.
func (p *Poster) startLocked(now time.Time, cq *channelQueue, j *postJob) {
	p.queued--
	p.inflight++
	cq.busy = true
	cq.next = now.Add(p.o.PerChannelInterval)
	if p.o.WorkspacePerMinute >= 0 {
		p.tokens--
	}
	if j.firstAt.IsZero() {
		j.firstAt = now
	}
}

// nextWakeLocked returns when a queued send can go next (pacing,
// Retry-After, budget), or false when only a poke can change anything. It
// also forgets idle channels whose pace has passed.
func (p *Poster) nextWakeLocked(now time.Time) (time.Time, bool) {
	var earliest time.Time
	for id, cq := range p.chans {
		if cq.busy {
			continue
		}
		if cq.empty() {
			if !now.Before(cq.next) {
				delete(p.chans, id)
			}
			continue
		}
		if p.inflight >= p.o.Concurrency || p.haltCode != "" || p.state == posterStopped {
			continue
		}
		prio := PriorityBackground
		if len(cq.q[PriorityInteractive]) > 0 {
			prio = PriorityInteractive
		}
		t := cq.next
		if prio == PriorityBackground && p.bgHold.After(t) {
			t = p.bgHold
		}
		if tt := p.tokensAtLocked(now, p.need(prio)); tt.After(t) {
			t = tt
		}
		if earliest.IsZero() || t.Before(earliest) {
			earliest = t
		}
	}
	if earliest.IsZero() {
		return time.Time{}, false
	}
	return laterOf(earliest, now), true
}

// tokensAtLocked returns when the bucket will hold n tokens.
func (p *Poster) tokensAtLocked(now time.Time, n float64) time.Time {
	if p.o.WorkspacePerMinute < 0 || p.tokens+tokenEpsilon >= n {
		return now
	}
	if p.o.WorkspacePerMinute == 0 {
		return now.Add(time.Hour)
	}
	secs := (n - p.tokens) / p.ratePerSecond()
	return now.Add(time.Duration(math.Ceil(secs * float64(time.Second))))
}

// attempt makes one call for j and settles what follows: done, retry or
// halt.
func (p *Poster) attempt(cq *channelQueue, j *postJob) {
	ctx, cancel := context.WithTimeout(j.ctx, p.o.AttemptTimeout)
	ts, err := p.call(ctx, j)
	cancel()

	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.poke()
	p.inflight--
	cq.busy = false
	j.attempts++
	now := p.clock.Now()
	if err == nil {
		j.done <- postResult{ts: ts}
		return
	}
	f := classifyPostErr(err)
	switch {
	case f.halt:
		p.haltLocked(f.code, j)
		j.done <- postResult{err: p.jobErr(j, f.code, f.details, err)}
	case j.ctx.Err() != nil:
		j.done <- postResult{err: fmt.Errorf("%s to %s: %w", j.msg.method(), j.msg.Channel, context.Cause(j.ctx))}
	case !f.retry:
		j.done <- postResult{err: p.jobErr(j, f.code, f.details, err)}
	case p.haltCode != "":
		j.done <- postResult{err: p.haltErrLocked(&j.msg)}
	case p.state == posterStopped:
		j.done <- postResult{err: p.jobErr(j, f.code, f.details, fmt.Errorf("%w; last error: %w", ErrPosterClosed, err))}
	case j.attempts >= p.o.MaxAttempts:
		j.done <- postResult{err: p.jobErr(j, f.code, f.details, fmt.Errorf("%w: %w", ErrUnavailable, err))}
	default:
		wait := f.retryAfter
		if f.rateLimited {
			wait = max(wait, time.Second)
			p.bgHold = laterOf(p.bgHold, now.Add(wait))
		} else {
			wait = p.backoff(j.attempts)
		}
		if f.ambiguous {
			j.ambiguous = true
		}
		cq.next = laterOf(cq.next, now.Add(wait))
		cq.q[j.msg.Priority] = slices.Insert(cq.q[j.msg.Priority], 0, j)
		p.queued++
		level := slog.LevelWarn
		if f.rateLimited {
			level = slog.LevelInfo
		}
		p.log.Log(j.ctx, level, "slack send will be retried",
			"method", j.msg.method(), "channel", j.msg.Channel, "attempt", j.attempts,
			"wait", wait, "code", f.code, "err", err)
	}
}

// call makes the Web API call for j.
func (p *Poster) call(ctx context.Context, j *postJob) (string, error) {
	m := &j.msg
	switch {
	case m.EphemeralUser != "":
		return p.api.PostEphemeralContext(ctx, m.Channel, m.EphemeralUser, m.options()...)
	case m.UpdateTS != "":
		_, ts, _, err := p.api.UpdateMessageContext(ctx, m.Channel, m.UpdateTS, m.options()...)
		return ts, err
	}
	if j.ambiguous && m.Metadata != nil && m.ThreadTS == "" {
		ts, err := p.FindPosted(ctx, m.Channel, *m.Metadata, j.firstAt)
		if err != nil {
			// Not knowing is no licence to post a second copy: the send
			// fails (or is retried) and the caller decides.
			p.log.WarnContext(ctx, "cannot check channel history before posting again; not posting",
				"channel", m.Channel, "event_type", m.Metadata.EventType, "err", err)
			return "", err
		}
		if ts != "" {
			p.log.InfoContext(ctx, "message found in channel history; not posting again",
				"channel", m.Channel, "event_type", m.Metadata.EventType, "ts", ts)
			return ts, nil
		}
	}
	_, ts, err := p.api.PostMessageContext(ctx, m.Channel, m.options()...)
	return ts, err
}

// historyMargin is how far before since FindPosted looks, for clocks that
// disagree and for the time a post takes.
const historyMargin = time.Minute

// FindPosted reads conversations.history in pages of findPageSize
// messages, at most findMaxPages of them.
const (
	findPageSize = 200
	findMaxPages = 5
)

// FindPosted looks in the channel's history since just before since for a
// message csbot posted with metadata md (same event type, same payload),
// and returns its ts, or "" when there is none. It is the check to make
// before posting again a message whose earlier attempt, maybe made by
// another process, began at since and had an unknown outcome.
//
// It reads conversations.history (the channels:history and groups:history
// scopes) from the newest message back to a minute before since, at most 5
// pages of 200 messages: past that it returns ErrHistoryTooLong rather than
// risk a second copy. Thread replies are not in the
// channel's history and are never found. A zero since reads the newest
// messages with no lower bound.
//
// The calls go straight to Slack, not through the poster's queues: they
// need no Run and are paced by conversations.history's own rate limit. A
// rate limit, a 5xx or a network error returns an error matching
// ErrUnavailable: try again later. Slack's refusals return an *Error
// (ErrNotInChannel, ErrChannelNotFound, ErrHalted...).
func (p *Poster) FindPosted(ctx context.Context, channel string, md slack.SlackMetadata, since time.Time) (string, error) {
	const method = "conversations.history"
	if md.EventType == "" {
		return "", fmt.Errorf("%s in %s: metadata has no event_type", method, channel)
	}
	want, err := canonicalJSON(md.EventPayload)
	if err != nil {
		return "", fmt.Errorf("%s in %s: metadata payload: %w", method, channel, err)
	}
	params := &slack.GetConversationHistoryParameters{
		ChannelID:          channel,
		Inclusive:          true,
		Limit:              findPageSize,
		IncludeAllMetadata: true,
	}
	if !since.IsZero() {
		oldest := since.Add(-historyMargin)
		params.Oldest = fmt.Sprintf("%d.%06d", oldest.Unix(), oldest.Nanosecond()/1000)
	}
	for page := 1; ; page++ {
		resp, err := p.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return "", historyErr(ctx, channel, err)
		}
		for _, m := range resp.Messages {
			if m.Metadata.EventType != md.EventType {
				continue
			}
			got, err := canonicalJSON(m.Metadata.EventPayload)
			if err == nil && bytes.Equal(got, want) {
				return m.Timestamp, nil
			}
		}
		next := resp.ResponseMetaData.NextCursor
		if !resp.HasMore || next == "" {
			return "", nil
		}
		if page == findMaxPages {
			return "", fmt.Errorf("%s in %s: %w (%d messages read)", method, channel, ErrHistoryTooLong, page*findPageSize)
		}
		params.Cursor = next
	}
}

// historyErr builds the error of a failed conversations.history call.
func historyErr(ctx context.Context, channel string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("conversations.history in %s: %w", channel, context.Cause(ctx))
	}
	f := classifyPostErr(err)
	if f.retry {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return &Error{Method: "conversations.history", Channel: channel, Code: f.code,
		Details: f.details, Attempts: 1, Err: err}
}

// canonicalJSON encodes v as JSON after a round trip, so that equal
// payloads compare equal whatever Go types they were built from.
func canonicalJSON(v map[string]any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, err
	}
	return json.Marshal(generic)
}

// backoff returns the wait before attempt n+1 after n failed attempts.
func (p *Poster) backoff(n int) time.Duration {
	return csbot.Backoff(n, p.o.BackoffBase, p.o.BackoffMax)
}

// haltLocked stops all posting after Slack refused the token: it logs once
// and fails every queued send.
func (p *Poster) haltLocked(code string, j *postJob) {
	if p.haltCode != "" {
		return
	}
	p.haltCode = code
	p.log.Error("Slack refused the bot token: posting halted until restart; check SLACK_BOT_TOKEN and the app's installation",
		"code", code, "method", j.msg.method(), "channel", j.msg.Channel, "queued_dropped", p.queued)
	p.failQueuedLocked(func(q *postJob) error { return p.haltErrLocked(&q.msg) })
}

// haltErrLocked is the error of a send refused because the poster halted.
func (p *Poster) haltErrLocked(m *Message) error {
	return &Error{Method: m.method(), Channel: m.Channel, Code: p.haltCode, Err: ErrHalted}
}

// jobErr builds the *Error of j.
func (p *Poster) jobErr(j *postJob, code string, details []string, err error) error {
	return &Error{Method: j.msg.method(), Channel: j.msg.Channel, Code: code,
		Details: details, Attempts: j.attempts, Err: err}
}

// postFailure is what an error from slack-go means for the send.
type postFailure struct {
	code        string
	details     []string
	halt        bool
	retry       bool
	rateLimited bool
	retryAfter  time.Duration
	ambiguous   bool // the call may have taken effect
}

// classifyPostErr sorts a slack-go error.
func classifyPostErr(err error) postFailure {
	if errors.Is(err, ErrHistoryTooLong) {
		return postFailure{code: "history_too_long"}
	}
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return postFailure{code: "ratelimited", retry: true, rateLimited: true, retryAfter: rl.RetryAfter}
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		switch {
		case sc.Code == http.StatusTooManyRequests:
			return postFailure{code: "ratelimited", retry: true, rateLimited: true}
		case sc.Code >= 500:
			return postFailure{retry: true, ambiguous: true}
		}
		return postFailure{}
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		f := postFailure{code: se.Err, details: se.ResponseMetadata.Messages}
		switch {
		case haltCode(se.Err):
			f.halt = true
		case se.Err == "ratelimited":
			f.retry, f.rateLimited = true, true
		case se.Err == "internal_error" || se.Err == "fatal_error":
			// "It's possible some aspect of the operation succeeded."
			f.retry, f.ambiguous = true, true
		case se.Err == "service_unavailable" || se.Err == "request_timeout":
			f.retry = true
		}
		return f
	}
	if _, ok := errors.AsType[*json.MarshalerError](err); ok {
		return postFailure{}
	}
	if _, ok := errors.AsType[*json.UnsupportedValueError](err); ok {
		return postFailure{}
	}
	// Network errors, timeouts of one attempt, unreadable answers.
	return postFailure{retry: true, ambiguous: true}
}

// laterOf returns the later of a and b.
func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
