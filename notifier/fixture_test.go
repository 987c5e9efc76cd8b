package notifier_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/notifier"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/slack-go/slack"
)

// testClock is a clock that ticks with real time from a chosen start, and
// can jump ahead: River's retries and the poster's pacing keep working,
// while the day is the test's.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func newTestClock(start time.Time) *testClock { return &testClock{offset: time.Until(start)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC()
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// tomorrowAt10 is 10:00 UTC tomorrow: a start for test clocks that River
// also reads. River's rescuer compares the times it recorded with the
// wall clock, so a queue clock must never run behind it.
func tomorrowAt10() time.Time {
	return time.Now().UTC().Truncate(24 * time.Hour).Add(34 * time.Hour)
}

// The book of the delivery tests: Sam's accounts have channels of every
// kind; Ada's account has none.
const (
	fxUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0MGR,manager,Mia Manager,mia@vendor.example,,Europe/Berlin
U0SAM,csm,Sam CSM,sam@vendor.example,U0MGR,America/Los_Angeles
U0ADA,csm,Ada CSM,ada@vendor.example,U0MGR,
`
	fxAccounts = `external_id,name,tier,arr,stage,csm,ae,channel
A-OPEN,Open Channel Co,high,120000,adopting,U0SAM,,C0OPEN
A-SHARED,Shared Channel Co,high,90000,adopting,U0SAM,,C0SHARED
A-ARCH,Archived Channel Co,low,30000,adopting,U0SAM,,C0ARCH
A-OUT,Outside Channel Co,low,20000,adopting,U0SAM,,C0OUT
A-PRIV,Private Channel Co,low,15000,adopting,U0SAM,,C0PRIV
A-NONE,No Channel Co,low,10000,adopting,U0ADA,,
`
)

// fixture is a database with the book, the fake Slack with its channels,
// and a notifier delivering through the real poster.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	url   string
	clock *testClock
	srv   *slacktest.Server
	db    *store.Store
	n     *notifier.Notifier
	ids   map[string]int64
}

type fixtureOptions struct {
	delivery store.DeliveryConfig
	poster   bot.PosterOptions
	noRun    bool // do not start delivery
}

func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	f := &fixture{t: t, ctx: ctx, clock: newTestClock(tomorrowAt10())}
	f.url = pgtest.NewDatabase(ctx, t)
	srv, err := slacktest.Start(ctx, slacktest.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	f.srv = srv
	addWorkspace(srv)

	f.db = f.openStore(o.delivery)
	f.mustImport("users", fxUsers)
	f.mustImport("accounts", fxAccounts)
	f.ids = map[string]int64{}
	for _, ext := range []string{"A-OPEN", "A-SHARED", "A-ARCH", "A-OUT", "A-PRIV", "A-NONE"} {
		a, err := f.db.AccountByExternalID(ctx, ext)
		if err != nil {
			t.Fatal(err)
		}
		f.ids[ext] = a.ID
	}
	f.n = f.newNotifier(f.db, o.poster)
	if !o.noRun {
		f.runDelivery(f.db, f.n)
	}
	// Watch every account, so that later signals alert.
	f.record(nil, true)
	return f
}

// addWorkspace adds the book's people and channels to the fake Slack.
func addWorkspace(srv *slacktest.Server) {
	for _, u := range []string{"U0MGR", "U0SAM", "U0ADA"} {
		srv.AddUser(slacktest.User{ID: u, Name: strings.ToLower(u)})
	}
	srv.AddChannel(slacktest.Channel{ID: "C0OPEN", Name: "acct-open", Member: true})
	srv.AddChannel(slacktest.Channel{ID: "C0SHARED", Name: "acct-shared", Member: true, ExtShared: true, Shared: true})
	srv.AddChannel(slacktest.Channel{ID: "C0ARCH", Name: "acct-arch", Member: true, Archived: true})
	srv.AddChannel(slacktest.Channel{ID: "C0OUT", Name: "acct-out", Member: false})
	srv.AddChannel(slacktest.Channel{ID: "C0PRIV", Name: "acct-priv", Member: false, Private: true})
}

// openStore opens another store on the fixture's database (a replica).
func (f *fixture) openStore(dc store.DeliveryConfig) *store.Store {
	f.t.Helper()
	if dc.RetryBase == 0 {
		dc.RetryBase, dc.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	}
	if dc.PollInterval == 0 {
		dc.PollInterval = 50 * time.Millisecond
	}
	if dc.Workers == 0 {
		dc.Workers = 8
	}
	s, err := store.Open(f.ctx, f.url, nil, store.WithClock(f.clock.Now), store.WithQueueClock(f.clock.Now), store.WithDelivery(dc))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(s.Close)
	return s
}

// newNotifier returns a notifier on s posting to the fake Slack through a
// poster of its own.
func (f *fixture) newNotifier(s *store.Store, po bot.PosterOptions) *notifier.Notifier {
	f.t.Helper()
	api := bot.NewClient(f.srv.BotToken(), f.srv.AppToken(), f.srv.URL())
	if po.PerChannelInterval == 0 {
		po.PerChannelInterval = time.Millisecond
	}
	if po.WorkspacePerMinute == 0 {
		po.WorkspacePerMinute = -1
	}
	if po.BackoffBase == 0 {
		po.BackoffBase, po.BackoffMax = 10*time.Millisecond, 50*time.Millisecond
	}
	p := bot.NewPoster(api, po)
	pctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	f.t.Cleanup(func() { cancel(); <-done })
	n, err := notifier.New(notifier.Config{
		Store:  s,
		Policy: csbot.DefaultPolicy(),
		Slack:  notifier.SlackClient{Poster: p, Guard: bot.NewGuard(api, time.Minute, f.clock.Now, nil), API: api},
		Now:    f.clock.Now,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// runDelivery delivers with n from s until the test ends; it returns a
// function that stops it and waits.
func (f *fixture) runDelivery(s *store.Store, n *notifier.Notifier) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.RunDelivery(ctx, n.Deliver) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				f.t.Errorf("RunDelivery: %v", err)
			}
		})
	}
	f.t.Cleanup(stop)
	return stop
}

func (f *fixture) mustImport(kind, text string) {
	f.t.Helper()
	k, err := csbot.LookupImportKind(kind)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.db.Import(f.ctx, k, strings.NewReader(text)); err != nil {
		f.t.Fatalf("import %s: %v", kind, err)
	}
}

// score is a plain score of an account for a run.
func (f *fixture) score(ext string, score int, band csbot.Band) csbot.HealthScore {
	return csbot.HealthScore{AccountID: f.ids[ext], At: f.clock.Now(), Score: score, Band: band, Coverage: 100}
}

// signal is a signal of an account.
func (f *fixture) signal(ext string, kind csbot.SignalKind, sev csbot.SignalSeverity, step, evidence string) csbot.Signal {
	id := f.ids[ext]
	return csbot.Signal{Kind: kind, AccountID: id, Severity: sev, Evidence: evidence,
		DedupeKey: fmt.Sprintf("%s:%d:%s", kind, id, step)}
}

// record runs the alert decisions over signals, with a score for every
// account, and returns the notifications written.
func (f *fixture) record(signals []csbot.Signal, complete bool) []csbot.Notification {
	f.t.Helper()
	var scores []csbot.HealthScore
	for ext := range f.ids {
		scores = append(scores, f.score(ext, 55, csbot.BandYellow))
	}
	res, err := f.db.RecordSignals(f.ctx, csbot.SignalRun{Now: f.clock.Now(), Policy: csbot.DefaultPolicy(),
		Scores: scores, Signals: signals, Complete: complete})
	if err != nil {
		f.t.Fatalf("RecordSignals: %v", err)
	}
	return res.Notifications
}

// waitDelivered waits until every notification due is done.
func (f *fixture) waitDelivered() {
	f.t.Helper()
	if err := f.n.WaitDelivered(f.ctx, 20*time.Millisecond, nil); err != nil {
		f.t.Fatalf("waiting for delivery: %v", err)
	}
}

// notification reads a notification back.
func (f *fixture) notification(id int64) csbot.Notification {
	f.t.Helper()
	n, err := f.db.Notification(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// keyed returns the messages in channel whose metadata carries key.
func keyed(msgs []slacktest.Message, key string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range msgs {
		if m.Metadata != nil && m.Metadata.EventType == csbot.NotificationEventType && m.Metadata.EventPayload["key"] == key {
			out = append(out, m)
		}
	}
	return out
}

// allKeyed returns every message csbot posted anywhere with key.
func (f *fixture) allKeyed(key string) []slacktest.Message {
	snap := f.srv.Snapshot()
	var out []slacktest.Message
	for _, c := range snap.Calls("chat.postMessage") {
		if !c.OK() {
			continue
		}
		ch := c.Param("channel")
		out = append(out, keyed(snap.Messages(ch), key)...)
	}
	// A channel may have had several posts; keep each message once.
	seen := map[string]bool{}
	uniq := out[:0]
	for _, m := range out {
		if !seen[m.Channel+m.TS] {
			seen[m.Channel+m.TS] = true
			uniq = append(uniq, m)
		}
	}
	return uniq
}

// payload decodes a notification's payload.
func payload[T any](t *testing.T, n csbot.Notification) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(n.Payload, &v); err != nil {
		t.Fatalf("payload of %s: %v", n.Key, err)
	}
	return v
}

// dmOf returns the id of the bot's DM channel with a user.
func (f *fixture) dmOf(user string) string {
	f.t.Helper()
	api := bot.NewClient(f.srv.BotToken(), f.srv.AppToken(), f.srv.URL())
	ch, _, _, err := api.OpenConversationContext(f.ctx, &slack.OpenConversationParameters{Users: []string{user}})
	if err != nil {
		f.t.Fatal(err)
	}
	return ch.ID
}
