package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// Defaults of a Config.
const (
	DefaultConcurrency       = 32
	DefaultBacklog           = 1024
	DefaultAckBudget         = 2 * time.Second
	DefaultShutdownTimeout   = 10 * time.Second
	DefaultHandlerTimeout    = 2 * time.Minute
	DefaultGuardTTL          = 5 * time.Minute
	DefaultDeliveryRetention = 24 * time.Hour
	// claimTimeout bounds the dedupe claim, so that a database that hangs
	// gets the user an apology rather than silence.
	claimTimeout = 5 * time.Second
	// pruneInterval is how often old delivery keys are pruned.
	pruneInterval = time.Hour
)

// Config configures a Runtime. Only the tokens and Sender are required;
// zero values take the defaults above.
type Config struct {
	// BotToken (SLACK_BOT_TOKEN, xoxb-) and AppToken (SLACK_APP_TOKEN,
	// xapp-) are the tokens the Slack client was made with (see NewClient).
	// Run checks them at start and says which one is wrong.
	BotToken string
	AppToken string
	// Logger receives the runtime's logs, tagged component=bot. Tokens and
	// message text are never logged. Default: discard.
	Logger *slog.Logger
	// Sender sends the replies that cannot go through a response_url (view
	// submissions, events, fallbacks). *Poster satisfies it.
	Sender Sender
	// Deliveries dedupes retried deliveries across replicas; *store.Store
	// satisfies it. Nil keeps the keys in memory, which dedupes on one
	// replica only.
	Deliveries Deliveries
	// Users tells who is who; *store.Store satisfies it. Nil makes every
	// member an unknown (read-only) one.
	Users UserFinder
	// HTTPClient posts to response_urls. Default: a client with a 10 s
	// timeout.
	HTTPClient *http.Client
	// Concurrency caps the handlers running at once; Backlog caps the
	// envelopes acknowledged and waiting for a handler. When both are full
	// the runtime stops acknowledging, so Slack redelivers elsewhere.
	Concurrency int
	Backlog     int
	// AckBudget bounds the answers that travel in the ack (view_submission
	// errors, block_suggestion options). Default 2 s, inside Slack's 3 s.
	AckBudget time.Duration
	// HandlerTimeout bounds one handler and the delivery of its reply.
	HandlerTimeout time.Duration
	// ShutdownTimeout is how long Run waits for work in flight once its
	// context is done, before cancelling it. Default 10 s.
	ShutdownTimeout time.Duration
	// GuardTTL is how long the channel guard trusts conversations.info and
	// users.info answers (see Guard). Default 5 min.
	GuardTTL time.Duration
	// DeliveryRetention is how long delivery keys are kept. Default 24 h.
	DeliveryRetention time.Duration
	// PingInterval is how long the Socket Mode link may go without a ping
	// from Slack before it is reopened. Default: slack-go's (30 s).
	PingInterval time.Duration
	// Now is the clock of the guard's cache and of delivery claims.
	// Default time.Now.
	Now func() time.Time
	// Metrics, when set, records envelopes, acks, the link and handler
	// latencies (see Metrics). Give the same to NewClient (WithMetrics)
	// for the Web API calls.
	Metrics *Metrics
}

// withDefaults fills in the defaults.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: c.Metrics.transport(nil, "response_url")}
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Backlog <= 0 {
		c.Backlog = DefaultBacklog
	}
	if c.AckBudget <= 0 {
		c.AckBudget = DefaultAckBudget
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = DefaultHandlerTimeout
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.GuardTTL <= 0 {
		c.GuardTTL = DefaultGuardTTL
	}
	if c.DeliveryRetention <= 0 {
		c.DeliveryRetention = DefaultDeliveryRetention
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Sender sends one message to Slack and returns its ts. *Poster satisfies
// it; the runtime sends with PriorityInteractive.
type Sender interface {
	Send(ctx context.Context, m Message) (ts string, err error)
}

// Deliveries remembers which Slack deliveries have been taken on, so that
// a retried one is handled once whichever replica it reaches.
// *store.Store satisfies it.
type Deliveries interface {
	// ClaimDelivery reports whether key is claimed for the first time.
	ClaimDelivery(ctx context.Context, key string, at time.Time) (first bool, err error)
	// PruneDeliveries forgets keys claimed before before.
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
}

// TokenError says which Slack token is missing, malformed or refused.
type TokenError struct {
	// Var is the environment variable of the token: SLACK_BOT_TOKEN or
	// SLACK_APP_TOKEN.
	Var string
	// Problem says what is wrong, for a person.
	Problem string
	// Err is Slack's answer, if it refused the token.
	Err error
}

// Error names the variable and the problem, never the token.
func (e *TokenError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Var, e.Problem, e.Err)
	}
	return e.Var + ": " + e.Problem
}

// Unwrap returns Slack's answer.
func (e *TokenError) Unwrap() error { return e.Err }

// Runtime is csbot's Slack runtime: it holds the Socket Mode link,
// acknowledges every envelope at once, hands the work to handlers with
// bounded concurrency and delivers their replies, guarded (see Guard).
// Register handlers before Run; they are safe to register concurrently.
type Runtime struct {
	api   *slack.Client
	sm    *socketmode.Client
	cfg   Config
	log   *slog.Logger
	guard *Guard
	reg   *registry

	sender     Sender
	deliveries Deliveries
	users      UserFinder

	admit    chan struct{} // envelopes acknowledged and not finished
	slots    chan struct{} // handlers running
	inflight sync.WaitGroup
	busy     atomic.Int64

	started atomic.Bool
	links   atomic.Int64 // Socket Mode connections made
	linkAt  atomic.Int64 // unix nanoseconds of the last one
	linkUp  atomic.Bool  // the link is up now

	metrics *Metrics // nil records nothing

	hooks testHooks
}

// testHooks let tests of this package watch and disturb the runtime.
type testHooks struct {
	// skipAck, when it returns true, leaves the envelope unacknowledged
	// (as if the ack were lost), so that Slack redelivers it.
	skipAck func(req socketmode.Request) bool
	// done is called when the runtime is finished with a delivery.
	done func(in *inbound)
}

// ClientOption configures the client NewClient returns.
type ClientOption func(*clientOptions)

type clientOptions struct {
	metrics *Metrics
}

// WithMetrics counts and times every Web API call of the client in m (see
// Metrics.RoundTripper).
func WithMetrics(m *Metrics) ClientOption { return func(o *clientOptions) { o.metrics = m } }

// NewClient returns the slack-go client csbot uses: the bot token for the
// Web API, the app-level token for Socket Mode, and apiURL (SLACK_API_URL)
// when not empty, e.g. the fake server's.
//
// Its HTTP client keeps enough idle connections to Slack for the poster's
// calls in flight (net/http keeps 2 per host by default, so busy posting
// would open a new TLS connection for most calls).
func NewClient(botToken, appToken, apiURL string, options ...ClientOption) *slack.Client {
	var co clientOptions
	for _, o := range options {
		o(&co)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	hc := &http.Client{Transport: co.metrics.RoundTripper(tr)}
	opts := []slack.Option{slack.OptionAppLevelToken(appToken), slack.OptionHTTPClient(hc)}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return slack.New(botToken, opts...)
}

// New returns a Runtime on api, which must carry cfg's tokens (see
// NewClient). It registers the built-in /csbot command and the events the
// runtime handles itself. It fails when cfg has no Sender.
func New(api *slack.Client, cfg Config) (*Runtime, error) {
	if api == nil {
		return nil, errors.New("bot: no slack client")
	}
	if cfg.Sender == nil {
		return nil, errors.New("bot: config has no Sender")
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger.With("component", "bot")
	smOpts := []socketmode.Option{socketmode.OptionLog(slog.NewLogLogger(log.Handler(), slog.LevelDebug))}
	if cfg.PingInterval > 0 {
		smOpts = append(smOpts, socketmode.OptionPingInterval(cfg.PingInterval))
	}
	r := &Runtime{
		api:        api,
		sm:         socketmode.New(api, smOpts...),
		cfg:        cfg,
		log:        log,
		guard:      NewGuard(api, cfg.GuardTTL, cfg.Now, cfg.Logger),
		reg:        newRegistry(),
		sender:     cfg.Sender,
		deliveries: cfg.Deliveries,
		users:      cfg.Users,
		admit:      make(chan struct{}, cfg.Concurrency+cfg.Backlog),
		slots:      make(chan struct{}, cfg.Concurrency),
		metrics:    cfg.Metrics,
	}
	if r.deliveries == nil {
		r.deliveries = newMemoryDeliveries()
	}
	r.registerBuiltins()
	return r, nil
}

// Guard returns the runtime's channel guard, for background senders
// (alerts, reminders) that must check a channel before posting to it. Its
// cache is dropped by the channel events the runtime receives.
func (r *Runtime) Guard() *Guard { return r.guard }

// Check verifies the tokens: the bot token with auth.test, and the app
// token's kind and its acceptance by apps.connections.open. It returns a
// *TokenError naming the variable at fault, or another error when Slack
// cannot be reached.
func (r *Runtime) Check(ctx context.Context) error {
	switch bot := r.cfg.BotToken; {
	case bot == "":
		return &TokenError{Var: "SLACK_BOT_TOKEN", Problem: "not set (the bot token, xoxb-..., from OAuth & Permissions)"}
	case strings.HasPrefix(bot, "xapp-"):
		return &TokenError{Var: "SLACK_BOT_TOKEN", Problem: "holds an app-level token (xapp-); the bot token starts with xoxb- (are the two swapped?)"}
	case !strings.HasPrefix(bot, "xoxb-"):
		return &TokenError{Var: "SLACK_BOT_TOKEN", Problem: "is not a bot token: it should start with xoxb-"}
	}
	switch app := r.cfg.AppToken; {
	case app == "":
		return &TokenError{Var: "SLACK_APP_TOKEN", Problem: "not set (Socket Mode needs an app-level token, xapp-..., with connections:write)"}
	case strings.HasPrefix(app, "xoxb-"):
		return &TokenError{Var: "SLACK_APP_TOKEN", Problem: "holds a bot token (xoxb-); the app-level token starts with xapp- (are the two swapped?)"}
	case !strings.HasPrefix(app, "xapp-"):
		return &TokenError{Var: "SLACK_APP_TOKEN", Problem: "is not an app-level token: it should start with xapp-"}
	}
	auth, err := r.api.AuthTestContext(ctx)
	if err != nil {
		if refused(err) {
			return &TokenError{Var: "SLACK_BOT_TOKEN", Problem: "refused by Slack (auth.test)", Err: err}
		}
		return fmt.Errorf("auth.test: %w", err)
	}
	if _, _, err := r.api.StartSocketModeContext(ctx); err != nil {
		if refused(err) {
			return &TokenError{Var: "SLACK_APP_TOKEN", Problem: "refused by Slack (apps.connections.open; it needs the connections:write scope)", Err: err}
		}
		return fmt.Errorf("apps.connections.open: %w", err)
	}
	r.log.Info("slack tokens ok", "team", auth.TeamID, "bot_user", auth.UserID)
	return nil
}

// refused reports whether err is Slack refusing a token.
func refused(err error) bool {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return tokenRefusal(se.Err)
	}
	return tokenRefusal(err.Error())
}

func tokenRefusal(code string) bool {
	switch code {
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
		"app_uninstalled", "team_disabled", "not_allowed_token_type", "missing_scope":
		return true
	}
	return false
}

// Run checks the tokens and the handlers, then holds the Socket Mode link
// (reconnecting when Slack asks or the link drops) and handles envelopes
// until ctx is done. Then it stops taking envelopes (Slack redelivers the
// ones it did not acknowledge), lets the work in flight finish for up to
// ShutdownTimeout, cancels what is left, and returns nil. It returns an
// error at once when a token is wrong (*TokenError) or a handler is
// registered for something manifest.yml does not declare, and after the
// drain when the link fails for good (e.g. the app token is revoked).
func (r *Runtime) Run(ctx context.Context) error {
	if !r.started.CompareAndSwap(false, true) {
		return errors.New("bot: Run called twice")
	}
	if err := r.reg.checkDeclared(); err != nil {
		return err
	}
	if err := r.Check(ctx); err != nil {
		return err
	}
	for _, what := range r.reg.unhandled() {
		r.log.Info("declared in manifest.yml, no handler yet: users get a 'not available yet' answer", "what", what)
	}

	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	linkCtx, stopLink := context.WithCancel(ctx)
	defer stopLink()
	linkDone := make(chan error, 1)
	go func() { linkDone <- r.sm.RunContext(linkCtx) }()
	pruneDone := make(chan struct{})
	go func() {
		defer close(pruneDone)
		r.pruneLoop(linkCtx)
	}()

	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case lerr := <-linkDone:
			linkDone = nil
			if ctx.Err() == nil {
				err = fmt.Errorf("socket mode: %w", lerr)
				if refused(lerr) {
					err = &TokenError{Var: "SLACK_APP_TOKEN", Problem: "refused by Slack while reconnecting", Err: lerr}
				}
				r.log.Error("socket mode link failed for good", "err", lerr)
			}
			break loop
		case evt := <-r.sm.Events:
			r.route(ctx, workCtx, evt)
		}
	}
	stopLink()
	r.setLink(false)
	r.drain(cancelWork)
	if linkDone != nil {
		<-linkDone
	}
	<-pruneDone
	return err
}

// drain waits for the work in flight, at most ShutdownTimeout, then
// cancels it and waits a little more for it to notice.
func (r *Runtime) drain(cancelWork context.CancelFunc) {
	done := make(chan struct{})
	go func() {
		r.inflight.Wait()
		close(done)
	}()
	n := r.busy.Load()
	if n > 0 {
		r.log.Info("shutting down: finishing work in flight", "deliveries", n, "deadline", r.cfg.ShutdownTimeout)
	}
	t := time.NewTimer(r.cfg.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	r.log.Warn("shutdown deadline passed: cancelling work in flight", "deliveries", r.busy.Load())
	cancelWork()
	grace := time.NewTimer(time.Second)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		r.log.Error("work in flight ignored its cancellation; abandoning it", "deliveries", r.busy.Load())
	}
}

// pruneLoop forgets old delivery keys now and every pruneInterval.
func (r *Runtime) pruneLoop(ctx context.Context) {
	t := time.NewTicker(pruneInterval)
	defer t.Stop()
	for {
		before := r.cfg.Now().Add(-r.cfg.DeliveryRetention)
		if n, err := r.deliveries.PruneDeliveries(ctx, before); err != nil && ctx.Err() == nil {
			r.log.Warn("prune delivery keys", "err", err)
		} else if n > 0 {
			r.log.Debug("pruned delivery keys", "n", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// route handles one event of the Socket Mode client. It runs on the loop
// and must not block: envelopes are acknowledged here, their work runs
// elsewhere.
func (r *Runtime) route(ctx, workCtx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		r.setLink(false)
		r.log.Debug("socket mode connecting")
	case socketmode.EventTypeConnected:
		n := r.links.Add(1)
		r.linkAt.Store(time.Now().UnixNano())
		r.setLink(true)
		if n == 1 {
			r.log.Info("socket mode connected")
		} else {
			r.log.Info("socket mode reconnected", "connections", n)
		}
	case socketmode.EventTypeConnectionError:
		r.setLink(false)
		if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			r.log.Warn("socket mode connection failed; retrying", "err", ce.ErrorObj, "attempt", ce.Attempt, "backoff", ce.Backoff)
		}
	case socketmode.EventTypeInvalidAuth:
		r.setLink(false)
		r.log.Error("socket mode: app token refused")
	case socketmode.EventTypeIncomingError:
		if ie, ok := evt.Data.(*slack.IncomingEventError); ok {
			r.log.Warn("socket mode read failed", "err", ie.ErrorObj)
		}
	case socketmode.EventTypeErrorWriteFailed:
		if we, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok {
			r.log.Warn("socket mode write failed", "err", we.Cause)
		}
	case socketmode.EventTypeErrorBadMessage:
		r.metrics.envelope("bad_message")
		r.ackBadMessage(ctx, evt)
	case socketmode.EventTypeHello:
		r.metrics.envelope("hello")
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		r.metrics.envelope(string(evt.Type))
		r.accept(ctx, workCtx, evt)
	}
}

// setLink records whether the Socket Mode link is up.
func (r *Runtime) setLink(up bool) {
	if r.linkUp.Swap(up) != up || up {
		r.metrics.link(up)
	}
}

// ackBadMessage acknowledges an envelope slack-go could not decode, so
// that Slack does not redeliver what will never decode.
func (r *Runtime) ackBadMessage(ctx context.Context, evt socketmode.Event) {
	bm, ok := evt.Data.(*socketmode.ErrorBadMessage)
	if !ok {
		return
	}
	var env struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	_ = json.Unmarshal(bm.Message, &env)
	log := r.log.With(RequestIDAttr, newRequestID(env.EnvelopeID))
	if env.EnvelopeID == "" {
		log.Warn("socket mode message not understood", "err", bm.Cause)
		return
	}
	log.Warn("envelope not understood; acknowledged and dropped", "type", env.Type, "err", bm.Cause)
	if err := r.sm.AckCtx(ctx, env.EnvelopeID, nil); err != nil {
		log.Warn("ack failed", "err", err)
	}
}

// inbound is one envelope on its way through the runtime.
type inbound struct {
	envelopeID string
	requestID  string       // the envelope id, in logs and in the work's ctx
	log        *slog.Logger // the runtime's, with request_id
	typ        string       // slash_commands, interactive, events_api
	retry      int
	payload    json.RawMessage
	key        string // dedupe key, set by the worker

	received time.Time // when the loop read it
	acked    time.Time // when its ack was queued
	started  time.Time // when its handler got a slot

	command     *slack.SlashCommand
	interaction *slack.InteractionCallback
	event       *slackevents.EventsAPIEvent

	duplicate bool // a retry of a delivery already taken on
}

// accept acknowledges an envelope and starts its work. Only the answers
// that can travel nowhere but in the ack are computed before it, off the
// loop.
func (r *Runtime) accept(ctx, workCtx context.Context, evt socketmode.Event) {
	req := evt.Request
	if req == nil || req.EnvelopeID == "" {
		return
	}
	in := &inbound{envelopeID: req.EnvelopeID, typ: req.Type, retry: req.RetryAttempt, payload: req.Payload, received: time.Now()}
	in.requestID = newRequestID(req.EnvelopeID)
	in.log = r.log.With(RequestIDAttr, in.requestID)
	ctx, workCtx = WithRequestID(ctx, in.requestID), WithRequestID(workCtx, in.requestID)
	switch d := evt.Data.(type) {
	case slack.SlashCommand:
		in.command = &d
	case slack.InteractionCallback:
		in.interaction = &d
	case slackevents.EventsAPIEvent:
		in.event = &d
	}
	// Backpressure: when the backlog is full, stop acknowledging; Slack
	// redelivers to a replica that has room.
	select {
	case r.admit <- struct{}{}:
	case <-ctx.Done():
		return
	}
	r.inflight.Add(1)
	r.busy.Add(1)
	if r.answersInAck(in) {
		go r.ackWithAnswer(ctx, workCtx, in)
		return
	}
	r.ack(ctx, in, nil)
	go r.work(workCtx, in)
}

// ack acknowledges in, with payload when not nil.
func (r *Runtime) ack(ctx context.Context, in *inbound, payload any) {
	if h := r.hooks.skipAck; h != nil && h(socketmode.Request{Type: in.typ, EnvelopeID: in.envelopeID, RetryAttempt: in.retry, Payload: in.payload}) {
		in.acked = time.Now()
		return
	}
	if err := r.sm.AckCtx(ctx, in.envelopeID, payload); err != nil {
		in.log.Warn("ack failed", "type", in.typ, "err", err)
	}
	in.acked = time.Now()
	r.metrics.acked(in.typ, in.acked.Sub(in.received))
}

// ackWithAnswer computes the ack's payload within AckBudget, acknowledges,
// and goes on with the work when there is any.
func (r *Runtime) ackWithAnswer(ctx, workCtx context.Context, in *inbound) {
	payload, more := r.answerForAck(ctx, in)
	r.ack(ctx, in, payload)
	if !more {
		r.finish(in)
		return
	}
	r.work(workCtx, in)
}

// work runs the handler of in once a slot is free.
func (r *Runtime) work(ctx context.Context, in *inbound) {
	defer r.finish(in)
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		in.log.Warn("dropped before its handler ran: shutting down", "type", in.typ)
		return
	}
	defer func() { <-r.slots }()
	defer func() {
		if p := recover(); p != nil {
			in.log.Error("panic in dispatch", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	in.started = time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.HandlerTimeout)
	defer cancel()
	r.dispatch(ctx, in)
}

// finish releases what accept took for in.
func (r *Runtime) finish(in *inbound) {
	if h := r.hooks.done; h != nil {
		h(in)
	}
	r.busy.Add(-1)
	<-r.admit
	r.inflight.Done()
}

// deliveryKey returns the key under which in is deduped: the event_id of
// an event, the trigger_id of a command or interaction, or else a hash of
// the payload (Slack redelivers the same payload under a new envelope_id).
func deliveryKey(in *inbound) string {
	switch {
	case in.command != nil && in.command.TriggerID != "":
		return "slash:" + in.command.TriggerID
	case in.interaction != nil && in.interaction.TriggerID != "":
		return "interactive:" + in.interaction.TriggerID
	case in.event != nil:
		if cb, ok := in.event.Data.(*slackevents.EventsAPICallbackEvent); ok && cb.EventID != "" {
			return "event:" + cb.EventID
		}
	}
	sum := sha256.Sum256(in.payload)
	return in.typ + ":sha256:" + hex.EncodeToString(sum[:])
}

// memoryDeliveries dedupes in memory, for a runtime without a database.
type memoryDeliveries struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func newMemoryDeliveries() *memoryDeliveries {
	return &memoryDeliveries{seen: make(map[string]time.Time)}
}

func (m *memoryDeliveries) ClaimDelivery(_ context.Context, key string, at time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.seen[key]; ok {
		return false, nil
	}
	m.seen[key] = at
	return true, nil
}

func (m *memoryDeliveries) PruneDeliveries(_ context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for k, at := range m.seen {
		if at.Before(before) {
			delete(m.seen, k)
			n++
		}
	}
	return n, nil
}

// Connected reports whether the Socket Mode link is up now, and since
// when. It is false before Run connects, while the link is reopened, and
// after Run.
func (r *Runtime) Connected() (up bool, since time.Time) {
	if !r.linkUp.Load() {
		return false, time.Time{}
	}
	_, since = r.linkInfo()
	return true, since
}

// linkInfo says how many Socket Mode connections were made and since when
// the current one is up.
func (r *Runtime) linkInfo() (connections int64, since time.Time) {
	n := r.links.Load()
	if n == 0 {
		return 0, time.Time{}
	}
	return n, time.Unix(0, r.linkAt.Load())
}
