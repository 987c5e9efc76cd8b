package notifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/notifier"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/jonboulle/clockwork"
)

// scheduled is a notifier on a database whose clock is a fake one, and
// the runs of its scheduler's jobs.
type scheduled struct {
	t     *testing.T
	ctx   context.Context
	url   string
	clock *clockwork.FakeClock
	db    *store.Store
	n     *notifier.Notifier
	runs  chan string

	mu      sync.Mutex
	lastRun map[string]time.Time // the latest pass time of each job
	ran     chan struct{}        // closed and replaced at each run
}

func newScheduled(t *testing.T, start time.Time) *scheduled {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	sc := &scheduled{t: t, ctx: ctx, clock: clockwork.NewFakeClockAt(start), runs: make(chan string, 64),
		lastRun: map[string]time.Time{}, ran: make(chan struct{})}
	sc.url = pgtest.NewDatabase(ctx, t)
	sc.db = sc.openStore()
	sc.n = sc.newNotifier(sc.db)
	return sc
}

func (sc *scheduled) openStore() *store.Store {
	s, err := store.Open(sc.ctx, sc.url, nil, store.WithClock(sc.clock.Now), store.WithQueueClock(sc.clock.Now))
	if err != nil {
		sc.t.Fatal(err)
	}
	sc.t.Cleanup(s.Close)
	return s
}

func (sc *scheduled) newNotifier(s *store.Store) *notifier.Notifier {
	p := csbot.DefaultPolicy()
	n, err := notifier.New(notifier.Config{Store: s, Policy: p, Now: sc.clock.Now, Location: time.UTC})
	if err != nil {
		sc.t.Fatal(err)
	}
	return n
}

// start runs a scheduler of n until the returned stop is called (or the
// test ends); runs of its jobs go to runs.
func (sc *scheduled) start(n *notifier.Notifier, elector interface {
	IsLeader(context.Context) error
}, runs chan string) (stop func()) {
	var stopping atomic.Bool
	opts := notifier.SchedulerOptions{Clock: sc.clock, OnRun: func(job string, at time.Time, err error) {
		if err != nil && !errors.Is(err, context.Canceled) && !stopping.Load() {
			sc.t.Errorf("job %s: %v", job, err)
		}
		sc.mu.Lock()
		if at.After(sc.lastRun[job]) {
			sc.lastRun[job] = at
		}
		close(sc.ran)
		sc.ran = make(chan struct{})
		sc.mu.Unlock()
		select {
		case runs <- job:
		default: // nobody is counting these runs any more
		}
	}}
	if elector != nil {
		opts.Elector = elector
	}
	s, err := n.Schedule(opts)
	if err != nil {
		sc.t.Fatal(err)
	}
	s.Start()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			stopping.Store(true)
			if err := s.Shutdown(); err != nil {
				sc.t.Errorf("scheduler shutdown: %v", err)
			}
		})
	}
	sc.t.Cleanup(stop)
	return stop
}

// waitRuns waits for the named job runs, in any order.
func (sc *scheduled) waitRuns(runs chan string, jobs ...string) {
	sc.t.Helper()
	want := map[string]int{}
	for _, j := range jobs {
		want[j]++
	}
	for len(want) > 0 {
		select {
		case j := <-runs:
			if want[j] > 0 {
				want[j]--
				if want[j] == 0 {
					delete(want, j)
				}
			}
		case <-sc.ctx.Done():
			sc.t.Fatalf("waiting for runs of %v at %s: %v", want, sc.clock.Now().Format(time.RFC3339), sc.ctx.Err())
		}
	}
}

// step moves the clock by d once every scheduler's timers are set, and
// waits until the job has run at the new time (a run queued behind
// another reads the clock when it starts, so runs are told apart by the
// time they ran at, not counted).
func (sc *scheduled) step(d time.Duration, timers int, job string) {
	sc.t.Helper()
	if err := sc.clock.BlockUntilContext(sc.ctx, timers); err != nil {
		sc.t.Fatalf("waiting for the scheduler's timers: %v", err)
	}
	sc.clock.Advance(d)
	sc.waitAt(job, sc.clock.Now())
}

// waitAt waits until the job has run at target or later.
func (sc *scheduled) waitAt(job string, target time.Time) {
	sc.t.Helper()
	for {
		sc.mu.Lock()
		done, ran := !sc.lastRun[job].Before(target), sc.ran
		sc.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ran:
		case <-sc.ctx.Done():
			sc.t.Fatalf("waiting for %s to run at %s: %v", job, target.Format(time.RFC3339), sc.ctx.Err())
		}
	}
}

func (sc *scheduled) mustImport(kind, text string) {
	sc.t.Helper()
	k, err := csbot.LookupImportKind(kind)
	if err != nil {
		sc.t.Fatal(err)
	}
	if _, err := sc.db.Import(sc.ctx, k, strings.NewReader(text)); err != nil {
		sc.t.Fatalf("import %s: %v", kind, err)
	}
}

// listNotifications reads every notification of a kind.
func (sc *scheduled) listNotifications(kind csbot.NotificationKind) []csbot.Notification {
	sc.t.Helper()
	out, err := sc.db.RecentNotifications(sc.ctx, kind, 10000)
	if err != nil {
		sc.t.Fatal(err)
	}
	return out
}

// The zones of the time-zone tests: CSMs in Los Angeles (DST from
// 2026-03-08), Berlin (DST from 2026-03-29) and Kolkata (no DST).
const tzUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0LA,csm,Lee Angeles,lee@vendor.example,,America/Los_Angeles
U0BER,csm,Bea Berlin,bea@vendor.example,,Europe/Berlin
U0KOL,csm,Kay Kolkata,kay@vendor.example,,Asia/Kolkata
`

// Tech-touch renewals that auto-renew get one reminder, 30 days ahead:
// on 2026-03-08 (LA's change) for LA and Kolkata, on 2026-03-29 (Berlin's
// change) for Berlin.
const tzAccounts = `external_id,name,tier,arr,stage,csm,ae,channel
TZ-LA,Los Angeles Co,tech,1000,adopting,U0LA,,C0LA
TZ-BER,Berlin GmbH,tech,1000,adopting,U0BER,,C0BER
TZ-KOL,Kolkata Pvt,tech,1000,adopting,U0KOL,,C0KOL
`

const tzRenewals = `external_id,account_external_id,renewal_date,arr,start_date,auto_renew,status,outcome_reason
R-LA,TZ-LA,2026-04-07,1000,,true,open,
R-BER,TZ-BER,2026-04-28,1000,,true,open,
R-KOL,TZ-KOL,2026-04-07,1000,,true,open,
`

func TestRemindersGoAtNineLocalAcrossDaylightSaving(t *testing.T) {
	// Start off the quarter hour, so that the run at start and the first
	// quarter-hour run are two runs, then step from quarter to quarter.
	sc := newScheduled(t, time.Date(2026, 3, 7, 11, 55, 0, 0, time.UTC))
	sc.mustImport("users", tzUsers)
	sc.mustImport("accounts", tzAccounts)
	sc.mustImport("renewals", tzRenewals)
	sc.start(sc.n, nil, sc.runs)
	sc.waitRuns(sc.runs, notifier.JobScores, notifier.JobDue)
	sc.step(5*time.Minute, 2, notifier.JobDue)

	zone := map[string]string{"R-LA": "America/Los_Angeles", "R-BER": "Europe/Berlin", "R-KOL": "Asia/Kolkata"}
	walk := func(until time.Time) {
		for sc.clock.Now().Before(until) {
			sc.step(15*time.Minute, 2, notifier.JobDue)
		}
	}
	walk(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC))
	// Jump to the eve of Berlin's change; the pass after the jump finds
	// nothing due in between. (Off the quarter hour again: landing on one
	// would make it due twice.)
	sc.step(time.Date(2026, 3, 28, 11, 55, 0, 0, time.UTC).Sub(sc.clock.Now()), 2, notifier.JobDue)
	sc.step(5*time.Minute, 2, notifier.JobDue)
	walk(time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC))

	// Each reminder was decided (created_at is the pass's time) by the
	// pass at 09:00 local on its day.
	got := sc.listNotifications(csbot.NotifyReminder)
	if len(got) != 3 {
		t.Fatalf("%d reminder notifications, want 3", len(got))
	}
	for _, n := range got {
		var m csbot.ReminderMessage
		if err := json.Unmarshal(n.Payload, &m); err != nil {
			t.Fatal(err)
		}
		loc, err := time.LoadLocation(zone[renewalExt(m)])
		if err != nil {
			t.Fatalf("%s: %v", n.Key, err)
		}
		local := n.CreatedAt.In(loc)
		if local.Hour() != 9 || local.Minute() != 0 {
			t.Errorf("%s written at %s local (%s), want 09:00 local", n.Key, local.Format("2006-01-02 15:04 MST"), zone[renewalExt(m)])
		}
		if m.Reminder.Late {
			t.Errorf("%s is marked late", n.Key)
		}
	}
}

// renewalExt names the renewal of a reminder by its account's external id.
func renewalExt(m csbot.ReminderMessage) string {
	switch m.Account.ExternalID {
	case "TZ-LA":
		return "R-LA"
	case "TZ-BER":
		return "R-BER"
	case "TZ-KOL":
		return "R-KOL"
	}
	return ""
}

func TestThreeDaysDownSendsOneLateReminderEach(t *testing.T) {
	sc := newScheduled(t, time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC))
	sc.mustImport("users", tzUsers)
	sc.mustImport("accounts", tzAccounts)
	sc.mustImport("renewals", strings.ReplaceAll(tzRenewals, "2026-04-28", "2026-04-07"))
	stop := sc.start(sc.n, nil, sc.runs)
	sc.waitRuns(sc.runs, notifier.JobScores, notifier.JobDue)
	stop()
	if n := len(sc.listNotifications(csbot.NotifyReminder)); n != 0 {
		t.Fatalf("%d reminders before the due day, want 0", n)
	}

	// Down from the 7th to the 11th: the 30-day reminders fell due on the
	// 8th.
	sc.clock.Advance(4 * 24 * time.Hour)
	runs := make(chan string, 64)
	sc.start(sc.newNotifier(sc.db), nil, runs)
	sc.waitRuns(runs, notifier.JobScores, notifier.JobDue)

	got := sc.listNotifications(csbot.NotifyReminder)
	if len(got) != 3 {
		t.Fatalf("%d reminders after three days down, want exactly 3 (one per renewal)", len(got))
	}
	for _, n := range got {
		var m csbot.ReminderMessage
		if err := json.Unmarshal(n.Payload, &m); err != nil {
			t.Fatal(err)
		}
		if !m.Reminder.Late || m.Reminder.OffsetDays != 30 {
			t.Errorf("%s: late %v offset %d, want the 30-day reminder, late", n.Key, m.Reminder.Late, m.Reminder.OffsetDays)
		}
	}
	// The next runs add nothing.
	sc.clock.Advance(15 * time.Minute)
	sc.waitRuns(runs, notifier.JobDue)
	if n := len(sc.listNotifications(csbot.NotifyReminder)); n != 3 {
		t.Errorf("%d reminders after another pass, want still 3", n)
	}
}
