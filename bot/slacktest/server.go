package slacktest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// ErrClosed is returned by the Send and WaitFor methods once the server is
// closed.
var ErrClosed = errors.New("slacktest: server closed")

// Defaults of a new Server.
const (
	DefaultBotToken     = "xoxb-1-fake-bot-token"
	DefaultAppToken     = "xapp-1-A0CSBOT-1-fake-app-token"
	DefaultTeamID       = "T0CSBOT"
	DefaultTeamDomain   = "csbot-test"
	DefaultAppID        = "A0CSBOT"
	DefaultBotUserID    = "U0CSBOT"
	DefaultBotID        = "B0CSBOT"
	DefaultAckTimeout   = 3 * time.Second
	DefaultMaxRetries   = 3
	DefaultPingInterval = 10 * time.Second
	DefaultTriggerTTL   = 3 * time.Second
	// ResponseURLUses is how many times Slack accepts a post to one
	// response_url.
	ResponseURLUses = 5
	// ResponseURLTTL is how long a response_url stays valid.
	ResponseURLTTL = 30 * time.Minute
	// maxAckSize is Slack's limit for Socket Mode responses: larger ones are
	// silently dropped.
	maxAckSize = 20 * 1024
)

type config struct {
	botToken, appToken string
	teamID, teamDomain string
	appID              string
	botUserID, botID   string
	verificationToken  string
	ackTimeout         time.Duration
	maxRetries         int
	pingInterval       time.Duration
	triggerTTL         time.Duration
	now                func() time.Time
	scopes             []string // auth.test's x-oauth-scopes (channels_admin.go)
	hostCheck          bool     // see WithHostCheck (hostcheck.go)
}

// Option configures a Server.
type Option func(*config)

// WithTokens sets the bot (xoxb-) and app-level (xapp-) tokens the server
// accepts.
func WithTokens(bot, app string) Option {
	return func(c *config) { c.botToken, c.appToken = bot, app }
}

// WithTeam sets the workspace id and domain.
func WithTeam(id, domain string) Option {
	return func(c *config) { c.teamID, c.teamDomain = id, domain }
}

// WithBot sets the app id, the bot's user id and its bot id.
func WithBot(appID, userID, botID string) Option {
	return func(c *config) { c.appID, c.botUserID, c.botID = appID, userID, botID }
}

// WithAckTimeout sets how long an envelope may stay unacknowledged before it
// is delivered again (Slack: about 3 s).
func WithAckTimeout(d time.Duration) Option {
	return func(c *config) { c.ackTimeout = d }
}

// WithMaxRetries sets how many times an unacknowledged envelope is delivered
// again; 0 disables redelivery.
func WithMaxRetries(n int) Option {
	return func(c *config) { c.maxRetries = n }
}

// WithPingInterval sets how often the server pings each socket. slack-go
// reconnects when no ping arrives within its own interval (30 s by default,
// socketmode.OptionPingInterval), so keep this well below the client's.
func WithPingInterval(d time.Duration) Option {
	return func(c *config) { c.pingInterval = d }
}

// WithTriggerTTL sets how long a trigger_id can open a view (Slack: 3 s).
func WithTriggerTTL(d time.Duration) Option {
	return func(c *config) { c.triggerTTL = d }
}

// WithClock sets the clock used for timestamps and for the expiry of
// trigger ids and response URLs, so a test can step past them without
// waiting. Ack timeouts and pings always run on real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// Channel is a conversation in the fake workspace.
type Channel struct {
	ID   string
	Name string
	// Private marks a private channel (is_private, is_group).
	Private bool
	// ExtShared: shared with another organisation (Slack Connect).
	ExtShared bool
	// PendingExtShared: a Slack Connect invitation is pending.
	PendingExtShared bool
	// Shared: shared with another workspace (Slack Connect or an Enterprise
	// Grid sibling).
	Shared bool
	// OrgShared: shared across an Enterprise Grid organisation.
	OrgShared bool
	// ConnectedTeamIDs lists the other teams of a shared channel.
	ConnectedTeamIDs []string
	Archived         bool
	// Member is whether the bot is in the channel.
	Member bool
}

// User is a member of the fake workspace (or a stranger from another one).
type User struct {
	ID       string
	Name     string
	RealName string
	// TZ is an IANA zone name, e.g. "Europe/Paris".
	TZ string
	// TeamID defaults to the server's team.
	TeamID string
	Email  string
	Bot    bool
	Admin  bool
	// Restricted is a multi-channel guest; UltraRestricted a single-channel
	// guest; Stranger a user of another organisation met in a shared channel.
	Restricted      bool
	UltraRestricted bool
	Stranger        bool
	Deleted         bool
}

type channelState struct {
	Channel
	im      bool
	imUser  string
	created int64
	msgs    []Message // copy-on-write for updates and deletes
	posts   int       // messages outside threads (see Conversation.Posts)
}

type trigger struct {
	userID string
	issued time.Time
	used   bool
}

type responseURL struct {
	envelopeID string
	channel    string
	userID     string
	messageTS  string // the message an interaction came from, for replace/delete_original
	issued     time.Time
	uses       int
}

type faultEntry struct {
	fault     Fault
	remaining int // < 0: forever
}

// Fault describes how the server misbehaves for a call.
type Fault struct {
	// Status is the HTTP status to answer with: 429, 500, 502, 503...; 0
	// means 200.
	Status int
	// RetryAfter goes into the Retry-After header of a 429, in whole seconds
	// rounded up (slack-go's RateLimitedError.RetryAfter).
	RetryAfter time.Duration
	// Error is the Slack error code of an {"ok":false} answer, e.g.
	// "ratelimited", "internal_error", "fatal_error".
	Error string
	// Delay holds the request back before it takes effect; with no Status
	// and Error the normal answer follows. A client that gives up meanwhile
	// leaves no effect.
	Delay time.Duration
	// DelayAfter lets the call take effect normally (a chat.postMessage
	// posts its message, the Call is recorded) and then holds the answer
	// back for DelayAfter: Slack timing out after it accepted the call. A
	// client that gives up meanwhile, or a server that closes, gets no
	// answer at all, so it cannot tell whether the call took effect. With
	// Status or Error the call still takes effect, and that fault is the
	// answer that follows the delay (Slack failing after it acted). The
	// recorded Call holds the answer that was due, and this Fault.
	DelayAfter time.Duration
}

// Server is the fake Slack. Create it with Start or New.
type Server struct {
	cfg      config
	ln       net.Listener
	hs       *http.Server
	base     string // http://127.0.0.1:port
	upgrader websocket.Upgrader
	wg       sync.WaitGroup
	done     chan struct{}
	once     sync.Once

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	closed   bool
	seq      int
	lastTS   int64
	tokenErr string
	faults   map[string][]*faultEntry

	channels  map[string]*channelState
	chanOrder []string
	users     map[string]User
	dms       map[string]string // user id -> D channel id
	triggers  map[string]*trigger
	respURLs  map[string]*responseURL // by URL path
	views     map[string]*View
	viewOrder []string
	uploads   map[string]*pendingUpload // by file id, until completed
	files     []File
	admin     adminState // channel members and pins (channels_admin.go)

	tickets   map[string]*wsConn
	conns     []*wsConn
	envelopes map[string]*envelope // by the envelope_id of every delivery
	idx       index                // change counters and seen ephemerals (index.go)

	calls      []Call
	deliveries []Delivery
	acks       []Ack
	responses  []ResponsePost
	ephemerals []Ephemeral
}

// Start binds 127.0.0.1 on a free port and serves the fake Slack until
// Close is called or ctx is done.
func Start(ctx context.Context, opts ...Option) (*Server, error) {
	cfg := config{
		botToken:          DefaultBotToken,
		appToken:          DefaultAppToken,
		teamID:            DefaultTeamID,
		teamDomain:        DefaultTeamDomain,
		appID:             DefaultAppID,
		botUserID:         DefaultBotUserID,
		botID:             DefaultBotID,
		verificationToken: "fake-verification-token",
		ackTimeout:        DefaultAckTimeout,
		maxRetries:        DefaultMaxRetries,
		pingInterval:      DefaultPingInterval,
		triggerTTL:        DefaultTriggerTTL,
		now:               time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("slacktest: listen: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		ln:        ln,
		base:      "http://" + ln.Addr().String(),
		done:      make(chan struct{}),
		changed:   make(chan struct{}),
		faults:    make(map[string][]*faultEntry),
		channels:  make(map[string]*channelState),
		users:     make(map[string]User),
		dms:       make(map[string]string),
		triggers:  make(map[string]*trigger),
		respURLs:  make(map[string]*responseURL),
		views:     make(map[string]*View),
		tickets:   make(map[string]*wsConn),
		envelopes: make(map[string]*envelope),
		upgrader: websocket.Upgrader{
			CheckOrigin:     func(*http.Request) bool { return true },
			ReadBufferSize:  32 * 1024,
			WriteBufferSize: 32 * 1024,
		},
	}
	s.users[cfg.botUserID] = User{ID: cfg.botUserID, Name: "csbot", RealName: "csbot", TeamID: cfg.teamID, Bot: true}

	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("/link/", s.serveLink)
	mux.HandleFunc("/commands/", s.serveResponseURL)
	mux.HandleFunc("/actions/", s.serveResponseURL)
	mux.HandleFunc("/upload/", s.serveUpload)
	var handler http.Handler = mux
	if cfg.hostCheck {
		handler = checkHost(mux) // Origin too, before the WebSocket upgrade
	}
	s.hs = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.hs.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// New starts a Server for a test and closes it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(context.Background(), opts...)
	if err != nil {
		t.Fatalf("slacktest.Start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server: it closes every socket, stops redeliveries and
// waits for its goroutines. It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.done)
		var live []*wsConn
		for _, c := range s.conns {
			if c.ws != nil {
				live = append(live, c)
			}
		}
		stopped := map[*envelope]bool{}
		for _, e := range s.envelopes {
			if !stopped[e] {
				stopped[e] = true
				s.stopTimerLocked(e)
			}
		}
		s.notifyLocked()
		s.mu.Unlock()

		_ = s.hs.Close()
		for _, c := range live {
			s.markClosed(c, "server_closed")
			_ = c.ws.Close()
		}
		s.wg.Wait()
	})
}

// URL returns the Web API base URL, ending in "/", for slack.OptionAPIURL.
func (s *Server) URL() string { return s.base + "/api/" }

// BotToken returns the bot token the server accepts.
func (s *Server) BotToken() string { return s.cfg.botToken }

// AppToken returns the app-level token apps.connections.open accepts.
func (s *Server) AppToken() string { return s.cfg.appToken }

// TeamID returns the workspace id.
func (s *Server) TeamID() string { return s.cfg.teamID }

// BotUserID returns the bot's user id (auth.test user_id).
func (s *Server) BotUserID() string { return s.cfg.botUserID }

func (s *Server) now() time.Time { return s.cfg.now() }

// notifyLocked wakes every waiter. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// AddChannel adds a channel, or replaces the settings of the channel with
// the same ID (its messages stay).
func (s *Server) AddChannel(ch Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs, ok := s.channels[ch.ID]; ok {
		cs.Channel = ch
		s.touchWorkspaceLocked()
	} else {
		s.addChannelLocked(&channelState{Channel: ch, created: s.unixNow()})
	}
	s.notifyLocked()
}

// Channel returns the current settings of a channel (conversations.join sets
// Member).
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.channels[id]
	if !ok {
		return Channel{}, false
	}
	return cs.Channel, true
}

// AddUser adds a user, or replaces the user with the same ID.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.TeamID == "" {
		u.TeamID = s.cfg.teamID
	}
	s.users[u.ID] = u
	s.touchWorkspaceLocked()
	s.notifyLocked()
}

// RevokeToken makes every later call with the bot token fail with
// token_revoked.
func (s *Server) RevokeToken() { s.SetTokenError("token_revoked") }

// SetTokenError makes every later call with the bot token fail with code
// ("token_revoked", "invalid_auth", "account_inactive", "app_uninstalled"...);
// "" makes the token good again.
func (s *Server) SetTokenError(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenErr = code
}

// FailNext makes the next n calls to method answer with f; n < 0 means every
// call until ClearFaults. Method is a Web API method name, "response_url"
// for response_url posts, or "*" for every Web API method. Faults queue up:
// a second FailNext for the same method applies after the first is used.
func (s *Server) FailNext(method string, n int, f Fault) {
	if n == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], &faultEntry{fault: f, remaining: n})
}

// ClearFaults removes the pending faults of method, or of every method when
// method is "".
func (s *Server) ClearFaults(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if method == "" {
		clear(s.faults)
		return
	}
	delete(s.faults, method)
}

// takeFaultLocked consumes and returns the fault for method, if any.
func (s *Server) takeFaultLocked(method string) *Fault {
	for _, key := range []string{method, "*"} {
		q := s.faults[key]
		if len(q) == 0 || (key == "*" && method == "response_url") {
			continue
		}
		f := q[0].fault
		if q[0].remaining > 0 {
			q[0].remaining--
			if q[0].remaining == 0 {
				s.faults[key] = q[1:]
			}
		}
		return &f
	}
	return nil
}

// Snapshot returns a consistent copy of the records.
func (s *Server) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshotLocked()
}

func (s *Server) snapshotLocked() Snapshot {
	snap := Snapshot{
		// Append-only records: a capped slice header is a stable copy.
		calls:      s.calls[:len(s.calls):len(s.calls)],
		deliveries: s.deliveries[:len(s.deliveries):len(s.deliveries)],
		acks:       s.acks[:len(s.acks):len(s.acks)],
		responses:  s.responses[:len(s.responses):len(s.responses)],
		ephemerals: s.ephemerals[:len(s.ephemerals):len(s.ephemerals)],
		files:      s.files[:len(s.files):len(s.files)],
		messages:   make(map[string][]Message, len(s.channels)),
		conns:      make([]Connection, len(s.conns)),
		views:      make([]View, 0, len(s.viewOrder)),
		srv:        s,
	}
	for id, cs := range s.channels {
		snap.messages[id] = cs.msgs[:len(cs.msgs):len(cs.msgs)]
	}
	for i, c := range s.conns {
		snap.conns[i] = c.info
	}
	for _, id := range s.viewOrder {
		snap.views = append(snap.views, *s.views[id])
	}
	return snap
}

// Calls returns the recorded Web API calls to method ("" for all).
func (s *Server) Calls(method string) []Call { return s.Snapshot().Calls(method) }

// Messages returns the messages visible in channel, oldest first.
func (s *Server) Messages(channel string) []Message { return s.Snapshot().Messages(channel) }

// Acks returns every ack received.
func (s *Server) Acks() []Ack { return s.Snapshot().Acks() }

// Deliveries returns every envelope delivery.
func (s *Server) Deliveries() []Delivery { return s.Snapshot().Deliveries() }

// Connections returns every Socket Mode connection.
func (s *Server) Connections() []Connection { return s.Snapshot().Connections() }

// ResponsePosts returns every response_url post.
func (s *Server) ResponsePosts() []ResponsePost { return s.Snapshot().ResponsePosts() }

// Ephemerals returns every ephemeral message.
func (s *Server) Ephemerals() []Ephemeral { return s.Snapshot().Ephemerals() }

// Views returns the current version of every view.
func (s *Server) Views() []View { return s.Snapshot().Views() }

// WaitFor blocks until cond holds for a snapshot of the records, and returns
// that snapshot. cond runs after every change, without the server's lock
// held. It returns ctx's error, or ErrClosed, if that comes first.
func (s *Server) WaitFor(ctx context.Context, cond func(Snapshot) bool) (Snapshot, error) {
	for {
		s.mu.Lock()
		snap := s.snapshotLocked()
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		if cond(snap) {
			return snap, nil
		}
		if closed {
			return snap, ErrClosed
		}
		select {
		case <-ctx.Done():
			return snap, fmt.Errorf("slacktest: wait: %w", ctx.Err())
		case <-ch:
		}
	}
}

// WaitForCall blocks until a call to method matching match (nil: any) has
// been answered, and returns the first such call.
func (s *Server) WaitForCall(ctx context.Context, method string, match func(Call) bool) (Call, error) {
	var found Call
	_, err := s.WaitFor(ctx, func(snap Snapshot) bool {
		for _, c := range snap.Calls(method) {
			if match == nil || match(c) {
				found = c
				return true
			}
		}
		return false
	})
	if err != nil {
		return Call{}, fmt.Errorf("call to %s: %w", method, err)
	}
	return found, nil
}

// WaitForAck blocks until the envelope whose first envelope_id is firstID
// has been acknowledged (through any of its deliveries) and returns the ack.
func (s *Server) WaitForAck(ctx context.Context, firstID string) (Ack, error) {
	var found Ack
	_, err := s.WaitFor(ctx, func(snap Snapshot) bool {
		a, ok := snap.AckFor(firstID)
		found = a
		return ok
	})
	if err != nil {
		return Ack{}, fmt.Errorf("ack of %s: %w", firstID, err)
	}
	return found, nil
}

// WaitForConnection blocks until the n-th Socket Mode connection (from 1)
// has said hello, and returns it.
func (s *Server) WaitForConnection(ctx context.Context, n int) (Connection, error) {
	var found Connection
	_, err := s.WaitFor(ctx, func(snap Snapshot) bool {
		conns := snap.Connections()
		if len(conns) < n || conns[n-1].ConnectedAt.IsZero() {
			return false
		}
		found = conns[n-1]
		return true
	})
	if err != nil {
		return Connection{}, fmt.Errorf("connection %d: %w", n, err)
	}
	return found, nil
}

// WaitForResponse blocks until a post to a response_url of the envelope
// firstID has been answered, and returns the first one.
func (s *Server) WaitForResponse(ctx context.Context, firstID string) (ResponsePost, error) {
	var found ResponsePost
	_, err := s.WaitFor(ctx, func(snap Snapshot) bool {
		for _, p := range snap.ResponsePosts() {
			if p.EnvelopeID == firstID {
				found = p
				return true
			}
		}
		return false
	})
	if err != nil {
		return ResponsePost{}, fmt.Errorf("response to %s: %w", firstID, err)
	}
	return found, nil
}

// IssueTriggerID returns a fresh trigger_id for userID, as if the user had
// just interacted, for tests that open views without pushing an envelope.
func (s *Server) IssueTriggerID(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueTriggerLocked(userID)
}

// IssueResponseURL returns a fresh response_url for a reply to userID in
// channel; with messageTS, replace_original and delete_original act on that
// message. Its posts are recorded with an empty EnvelopeID.
func (s *Server) IssueResponseURL(channel, userID, messageTS string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueResponseURLLocked("actions", "", channel, userID, messageTS)
}
