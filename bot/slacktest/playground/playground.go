package playground

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/maphash"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/csbot/csbot/bot/slacktest"
)

//go:embed templates static
var assets embed.FS

// Config configures a playground Server.
type Config struct {
	// Slack is the simulator the bot runs against.
	Slack *slacktest.Server
	// People are those one can act as, in the order listed; each must be a
	// user of the simulator.
	People []Person
	// DefaultPerson is the id of the person the page starts as; default
	// the first.
	DefaultPerson string
	// Commands are the slash commands the app declares; the page refuses
	// others, as Slack does. None: any command goes.
	Commands []Command
	// Clock is the playground's time; nil reads the wall clock and cannot
	// be moved.
	Clock *Clock
	// RunSchedules runs the bot's scheduled passes as at the given time
	// and returns once what they decided is delivered, with a line saying
	// what happened. Its context ends only when the playground stops
	// (Serve returns, or Close). Nil hides the page's clock control.
	RunSchedules func(ctx context.Context, at time.Time) (string, error)
	// Location is the time zone of people whose own is unknown. Default
	// UTC.
	Location *time.Location
	// AckTimeout is how long the page waits for the bot to acknowledge an
	// envelope before it says the bot is not answering. Default 10 s.
	AckTimeout time.Duration
	Logger     *slog.Logger
}

// Person is someone of the team the page can act as.
type Person struct {
	// ID is their Slack user id.
	ID string
	// Name is their full name.
	Name string
	// Role is their role in csbot: csm, manager, sales, onboarding or
	// admin.
	Role string
	// TZ is their IANA time zone, "" when unknown.
	TZ string
	// Channels are the channels of their own accounts, listed first.
	Channels []string
}

// Command is a slash command the app declares.
type Command struct {
	// Name includes the slash: "/health".
	Name        string
	Usage       string
	Description string
}

// Server serves the playground page. Create it with New.
type Server struct {
	cfg    Config
	sim    *slacktest.Server
	log    *slog.Logger
	tmpl   *template.Template
	static http.Handler
	people map[string]Person
	modals *modals
	names  atomic.Pointer[nameTable]
	cmds   commandLog
	seed   maphash.Seed // of the fingerprints of rendered parts (stream.go)

	// life ends when the server stops: the schedule runs go on while it
	// lasts, whoever asked for them.
	life     context.Context
	stopLife context.CancelFunc

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when the page's own state changes
	rev     uint64        // counts the changes of the page's own state
	status  scheduleStatus
	stopped bool           // Close was called: no more runs
	runs    sync.WaitGroup // schedule runs under way

	running atomic.Bool // a schedules run is under way
}

// scheduleStatus says what the last run of the schedules did.
type scheduleStatus struct {
	// At is the time the schedules ran at; zero before the first run.
	At      time.Time
	Running bool
	// Text is the run's summary, or why it failed.
	Text   string
	Failed bool
}

// New returns a playground Server. It returns an error when the
// configuration lacks the simulator or a person.
func New(cfg Config) (*Server, error) {
	if cfg.Slack == nil {
		return nil, errors.New("playground: no Slack simulator")
	}
	if len(cfg.People) == 0 {
		return nil, errors.New("playground: nobody to act as")
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     cfg,
		sim:     cfg.Slack,
		log:     cfg.Logger.With("component", "playground"),
		people:  make(map[string]Person, len(cfg.People)),
		modals:  newModals(),
		changed: make(chan struct{}),
		seed:    maphash.MakeSeed(),
	}
	s.life, s.stopLife = context.WithCancel(context.Background())
	for _, p := range cfg.People {
		s.people[p.ID] = p
	}
	if _, ok := s.people[cfg.DefaultPerson]; !ok {
		s.cfg.DefaultPerson = cfg.People[0].ID
	}
	tmpl, err := template.New("").Funcs(s.funcs()).ParseFS(assets, "templates/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("playground: templates: %w", err)
	}
	s.tmpl = tmpl
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, fmt.Errorf("playground: static files: %w", err)
	}
	s.static = http.StripPrefix("/static/", http.FileServerFS(static))
	s.refreshNames()
	return s, nil
}

// Serve serves the page on ln until ctx ends, then stops: event streams
// and requests in flight end, a schedules run under way is cancelled, and
// Serve returns once the server is down and the run over (see Close).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	base, stopRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRequests()
	defer s.Close()
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("playground: %w", err)
	case <-ctx.Done():
	}
	stopRequests() // event streams end
	s.Close()      // and schedule runs
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		<-served
		return fmt.Errorf("playground: shut down: %w", err)
	}
	<-served
	return nil
}

// Handler returns the page's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.servePage)
	mux.Handle("GET /static/", s.static)
	mux.HandleFunc("GET /events", s.serveEvents)
	mux.HandleFunc("POST /api/command", s.apiCommand)
	mux.HandleFunc("POST /api/action", s.apiAction)
	mux.HandleFunc("POST /api/submit", s.apiSubmit)
	mux.HandleFunc("POST /api/close", s.apiClose)
	mux.HandleFunc("POST /api/home", s.apiHome)
	mux.HandleFunc("POST /api/clock", s.apiClock)
	return guard(mux)
}

// guard keeps other web sites out: the page answers only requests made
// to an IP address or localhost (no DNS rebinding), and its API only
// JSON requests from its own origin (no cross-site requests).
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		host = strings.Trim(host, "[]")
		if host != "localhost" && net.ParseIP(host) == nil {
			http.Error(w, "the playground answers on its IP address or localhost only", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost {
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				http.Error(w, "JSON only", http.StatusUnsupportedMediaType)
				return
			}
			if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
				http.Error(w, "cross-origin request refused", http.StatusForbidden)
				return
			}
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// Close cancels a schedules run under way and waits for it to end; later
// runs are refused. Serve calls it as it stops; call it for a Server used
// through Handler alone. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.stopLife()
	s.runs.Wait()
}

// ErrBusy is returned by RunSchedules while another run is under way.
var ErrBusy = errors.New("the schedules are running already; wait for them to finish")

// ErrStopped is returned by RunSchedules once the server has stopped.
var ErrStopped = errors.New("the playground is stopping")

// RunSchedules moves the clock on to at (when it is later) and runs the
// schedules there, as the page's clock control does; the page shows the
// run while it lasts, and how it went. The run goes on until it ends or
// the server stops, whatever becomes of ctx: ctx bounds only the wait for
// its result, so a page that goes away after the clock moved leaves the
// run to finish. A run that fails is logged, unless the server's stop
// ended it. RunSchedules returns ErrBusy when another run is under way,
// ErrStopped once the server has stopped, ctx's error when it gives up
// waiting, or the run's error.
func (s *Server) RunSchedules(ctx context.Context, at time.Time) (string, error) {
	if s.cfg.RunSchedules == nil {
		return "", errors.New("the schedules cannot be run from this page")
	}
	if !s.running.CompareAndSwap(false, true) {
		return "", ErrBusy
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		s.running.Store(false)
		return "", ErrStopped
	}
	s.runs.Add(1)
	s.mu.Unlock()
	if c := s.cfg.Clock; c != nil && at.After(c.Now()) {
		if err := c.AdvanceTo(at); err != nil {
			s.running.Store(false)
			s.runs.Done()
			return "", err
		}
	}
	s.setStatus(scheduleStatus{At: at, Running: true})
	type result struct {
		summary string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		defer s.runs.Done()
		summary, err := s.runSchedules(at)
		s.running.Store(false)
		done <- result{summary, err}
	}()
	select {
	case r := <-done:
		return r.summary, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("stopped waiting for the schedules at %s, which run on: %w", at.Format(time.RFC3339), ctx.Err())
	}
}

// runSchedules runs the schedules at at on the server's life, and logs
// and shows how it went.
func (s *Server) runSchedules(at time.Time) (string, error) {
	began := time.Now()
	summary, err := s.cfg.RunSchedules(s.life, at)
	if err != nil {
		if s.life.Err() == nil {
			s.log.Warn("schedules failed", "at", at, "err", err)
		} else {
			s.log.Info("schedules stopped: the playground is stopping", "at", at, "err", err)
		}
		s.setStatus(scheduleStatus{At: at, Text: err.Error(), Failed: true})
		return "", err
	}
	s.log.Info("schedules run", "at", at, "took", time.Since(began).Round(time.Millisecond), "summary", summary)
	s.setStatus(scheduleStatus{At: at, Text: summary})
	return summary, nil
}

func (s *Server) setStatus(st scheduleStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = st
	s.notifyLocked()
}

func (s *Server) scheduleStatus() scheduleStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// touch wakes the event streams after a change of the page's own state.
func (s *Server) touch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifyLocked()
}

func (s *Server) notifyLocked() {
	s.rev++
	close(s.changed)
	s.changed = make(chan struct{})
}

// localChanged returns a channel closed at the next change of the page's
// own state, and the count of its changes so far.
func (s *Server) localChanged() (<-chan struct{}, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed, s.rev
}

// now returns the playground's time.
func (s *Server) now() time.Time {
	if s.cfg.Clock != nil {
		return s.cfg.Clock.Now()
	}
	return time.Now()
}

// person returns the person with id, or the default one.
func (s *Server) person(id string) Person {
	if p, ok := s.people[id]; ok {
		return p
	}
	return s.people[s.cfg.DefaultPerson]
}

// zone returns a person's time zone.
func (s *Server) zone(p Person) *time.Location {
	if p.TZ != "" {
		if loc, err := time.LoadLocation(p.TZ); err == nil {
			return loc
		}
	}
	return s.cfg.Location
}

// nameTable resolves the ids in mentions; it is rebuilt as the simulator
// gains users and channels.
type nameTable struct {
	users    map[string]string
	handles  map[string]string // handle -> user id
	channels map[string]slacktest.Conversation
	byName   map[string]string // channel name -> id
	count    int               // users + conversations, to notice new ones
}

func (t *nameTable) UserName(id string) (string, bool) {
	n, ok := t.users[id]
	return n, ok
}

func (t *nameTable) ChannelName(id string) (string, bool) {
	c, ok := t.channels[id]
	if !ok || c.Name == "" {
		return "", false
	}
	return c.Name, true
}

// refreshNames rebuilds the name table when the simulator's users or
// conversations changed in number, and returns it.
func (s *Server) refreshNames() *nameTable {
	users, convs := s.sim.Users(), s.sim.Conversations()
	if t := s.names.Load(); t != nil && t.count == len(users)+len(convs) {
		return t
	}
	t := &nameTable{users: map[string]string{}, handles: map[string]string{},
		channels: map[string]slacktest.Conversation{}, byName: map[string]string{}, count: len(users) + len(convs)}
	for _, u := range users {
		t.users[u.ID] = cmp.Or(u.RealName, u.Name, u.ID)
		if u.Name != "" {
			t.handles[strings.ToLower(u.Name)] = u.ID
		}
	}
	for _, c := range convs {
		t.channels[c.ID] = c
		if !c.IM && c.Name != "" {
			t.byName[c.Name] = c.ID
		}
	}
	s.names.Store(t)
	return t
}

// channels returns the conversations people can pick: channels, not DMs,
// by name.
func (s *Server) channels() []slacktest.Conversation { return channelsOf(s.sim.Conversations()) }

// channelsOf returns the conversations of convs people can pick, by name.
func channelsOf(convs []slacktest.Conversation) []slacktest.Conversation {
	var out []slacktest.Conversation
	for _, c := range convs {
		if c.IM || c.Name == "" || strings.HasPrefix(c.Name, "mpdm-") {
			continue
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b slacktest.Conversation) int { return strings.Compare(a.Name, b.Name) })
	return out
}
