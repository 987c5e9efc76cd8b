package notifier_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
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

// soakConfig is the size and the tuning of a soak run.
type soakConfig struct {
	accounts, channels int
	// workers is the store's delivery workers (DeliveryConfig.Workers).
	workers int
	// concurrency is the poster's calls in flight (PosterOptions.Concurrency).
	concurrency int
	// poolConns is the store's pgx pool size (pool_max_conns in the URL).
	poolConns int
	// poll is DeliveryConfig.PollInterval, which also sets River's fetch
	// cooldown (the lesser of it and 100 ms); 0 is the store's default
	// (1 s). River fetches at most workers jobs per cooldown, so
	// workers/cooldown caps the rate.
	poll time.Duration
	// idleConns, when set, replaces bot.NewClient's HTTP client (which
	// keeps 64 idle connections per host) with one keeping this many, to
	// measure what connection reuse is worth.
	idleConns int
}

// soakConfigFromEnv reads the soak's size and tuning from the
// environment, with the defaults of the documented run.
func soakConfigFromEnv(b *testing.B) soakConfig {
	b.Helper()
	c := soakConfig{accounts: 10000, channels: 2000, workers: 256, concurrency: 16, poolConns: 16}
	pollMS := 0
	for _, e := range []struct {
		name string
		dst  *int
	}{
		{"CSBOT_SOAK_ACCOUNTS", &c.accounts},
		{"CSBOT_SOAK_CHANNELS", &c.channels},
		{"CSBOT_SOAK_WORKERS", &c.workers},
		{"CSBOT_SOAK_POSTER_CONCURRENCY", &c.concurrency},
		{"CSBOT_SOAK_POOL_CONNS", &c.poolConns},
		{"CSBOT_SOAK_POLL_MS", &pollMS},
		{"CSBOT_SOAK_IDLE_CONNS", &c.idleConns},
	} {
		v := os.Getenv(e.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q: want a positive whole number", e.name, v)
		}
		*e.dst = n
	}
	c.poll = time.Duration(pollMS) * time.Millisecond
	c.channels = min(c.channels, c.accounts)
	return c
}

// soakAccountsPerCSM is the size of a CSM's book in the soak.
const soakAccountsPerCSM = 200

func soakChannel(i int) string { return fmt.Sprintf("C0SOAK%06d", i) }
func soakCSM(k int) string     { return fmt.Sprintf("U0SOAK%05d", k) }

// soakBook returns the users, accounts and renewals CSV files of the
// soak: a CSM per 200 accounts, all in UTC; account i in channel
// i % channels, one in five high touch, the rest low touch; and one open
// renewal per account dated renewal, which both tiers remind of 30 days
// ahead.
func soakBook(c soakConfig, renewal time.Time) (users, accounts, renewals string) {
	var u, a, r strings.Builder
	u.WriteString("slack_id,role,name,email,manager_slack_id,timezone\n")
	for k := range (c.accounts + soakAccountsPerCSM - 1) / soakAccountsPerCSM {
		fmt.Fprintf(&u, "%s,csm,Soak CSM %d,soak.csm%d@vendor.example,,UTC\n", soakCSM(k), k, k)
	}
	a.WriteString("external_id,name,tier,arr,stage,csm,ae,channel\n")
	r.WriteString("external_id,account_external_id,renewal_date,arr,start_date,auto_renew,status,outcome_reason\n")
	date := renewal.Format(time.DateOnly)
	for i := range c.accounts {
		tier := "low"
		if i%5 == 0 {
			tier = "high"
		}
		fmt.Fprintf(&a, "S-%06d,Soak Account %d,%s,48000,adopting,%s,,%s\n",
			i, i, tier, soakCSM(i/soakAccountsPerCSM), soakChannel(i%c.channels))
		fmt.Fprintf(&r, "R-%06d,S-%06d,%s,48000,,false,open,\n", i, i, date)
	}
	return u.String(), a.String(), r.String()
}

// withPoolConns returns the connection string url with the pgx pool
// capped at n connections.
func withPoolConns(conn string, n int) string {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		if u, err := url.Parse(conn); err == nil {
			q := u.Query()
			q.Set("pool_max_conns", strconv.Itoa(n))
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return conn + " pool_max_conns=" + strconv.Itoa(n)
}

// memPeak samples the memory of the process until stopped.
type memPeak struct {
	heapInuse, sys uint64 // bytes, from runtime.MemStats
	rssKB          int64  // VmRSS, from /proc/self/status; 0 when unreadable
	stop           chan struct{}
	done           chan struct{}
	once           sync.Once
}

// sampleMemory samples every interval until the returned peak's finish is
// called.
func sampleMemory(interval time.Duration) *memPeak {
	m := &memPeak{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			m.sample()
			select {
			case <-m.stop:
				m.sample()
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *memPeak) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.heapInuse = max(m.heapInuse, ms.HeapInuse)
	m.sys = max(m.sys, ms.Sys)
	if kb := procStatusKB("VmRSS"); kb > 0 {
		m.rssKB = max(m.rssKB, kb)
	}
}

// finish stops the sampling and waits for its last sample. It may be
// called more than once.
func (m *memPeak) finish() {
	m.once.Do(func() { close(m.stop) })
	<-m.done
}

// procStatusKB reads a "kB" field of /proc/self/status, 0 when it cannot.
func procStatusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	return 0
}

const mb = 1 << 20

// BenchmarkNotifierSoak is the soak benchmark of deciding and delivering:
// 10,000 accounts' worth of alerts and reminders across 2,000 channels,
// through the real poster and slack-go client into the fake Slack. It
// reports the notifications per second achieved against the limit that
// Slack's pace sets (one message per second per channel, so the ceiling is
// as many notifications per second as there are channels), the decisions
// per second of the two passes, and memory.
//
// It is a soak, not a loop: the body runs once whatever b.N is. Run it
// with
//
//	go test -run '^$' -bench NotifierSoak -benchtime 1x -timeout 30m ./notifier/
//
// The environment sets the size and the tuning: CSBOT_SOAK_ACCOUNTS
// (default 10000), CSBOT_SOAK_CHANNELS (2000), CSBOT_SOAK_WORKERS (the
// store's delivery workers, 256), CSBOT_SOAK_POSTER_CONCURRENCY (the
// poster's calls in flight, 16 as by default), CSBOT_SOAK_POOL_CONNS (the
// store's database connections, 16), CSBOT_SOAK_POLL_MS (the delivery
// poll interval, which sets River's fetch cooldown too; unset, the
// store's default) and CSBOT_SOAK_IDLE_CONNS (unset, bot.NewClient's HTTP
// client, which keeps 64 idle connections to Slack; set, a client keeping
// that many).
//
// The timer covers the delivery only: from starting RunDelivery until
// WaitDelivered returns. Afterwards it fails when a notification was not
// sent, a key is not in Slack exactly once, or a channel got two messages
// less than about a second apart or more than one a second over a run.
func BenchmarkNotifierSoak(b *testing.B) {
	b.StopTimer()
	c := soakConfigFromEnv(b)
	for i := range b.N {
		if i == 0 {
			runSoak(b, c)
		}
	}
}

// soakPaceTolerance is how much closer than the poster's pace two
// messages of a channel may reach the fake Slack. The poster spaces the
// starts of a channel's calls a second apart, and the time from a call's
// start to its arrival varies (goroutine scheduling, a new connection,
// the database and the fake sharing the CPUs), so about half the gaps
// measured at the far end are somewhat under a second; what must hold is
// that they stay near it and that no channel drifts faster than one
// message a second.
const soakPaceTolerance = 300 * time.Millisecond

func runSoak(b *testing.B, c soakConfig) {
	ctx, cancel := context.WithTimeout(b.Context(), 25*time.Minute)
	defer cancel()
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC) // after 09:00, the reminder hour
	clock := newTestClock(now)
	policy := csbot.DefaultPolicy()
	total := 2 * c.accounts

	// The fake Slack, its channels and the CSMs.
	srv, err := slacktest.Start(ctx, slacktest.WithClock(clock.Now))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	channels := make([]string, c.channels)
	for i := range channels {
		channels[i] = soakChannel(i)
		srv.AddChannel(slacktest.Channel{ID: channels[i], Name: fmt.Sprintf("soak-%d", i), Member: true})
	}
	for k := range (c.accounts + soakAccountsPerCSM - 1) / soakAccountsPerCSM {
		srv.AddUser(slacktest.User{ID: soakCSM(k), Name: fmt.Sprintf("soak-csm-%d", k), TZ: "UTC"})
	}

	// The database and the book.
	dbURL := withPoolConns(pgtest.NewDatabase(ctx, b), c.poolConns)
	db, err := store.Open(ctx, dbURL, nil, store.WithClock(clock.Now), store.WithDelivery(store.DeliveryConfig{
		Workers: c.workers, PollInterval: c.poll,
		RetryBase: 100 * time.Millisecond, RetryMax: 2 * time.Second,
	}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	users, accounts, renewals := soakBook(c, now.AddDate(0, 0, 30))
	for _, f := range []struct{ kind, text string }{{"users", users}, {"accounts", accounts}, {"renewals", renewals}} {
		k, err := csbot.LookupImportKind(f.kind)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Import(ctx, k, strings.NewReader(f.text)); err != nil {
			b.Fatalf("import %s: %v", f.kind, err)
		}
	}
	facts, err := db.AccountFacts(ctx, now)
	if err != nil {
		b.Fatal(err)
	}
	if len(facts) != c.accounts {
		b.Fatalf("%d accounts in the database, want %d", len(facts), c.accounts)
	}
	scores := make([]csbot.HealthScore, len(facts))
	signals := make([]csbot.Signal, len(facts))
	for i, f := range facts {
		scores[i] = csbot.HealthScore{AccountID: f.AccountID, At: now, Score: 55, Band: csbot.BandYellow, Coverage: 100}
		signals[i] = csbot.Signal{Kind: csbot.SignalTicketSpike, AccountID: f.AccountID, Severity: csbot.SignalWarning,
			Evidence: "14 tickets opened in 30 days", DedupeKey: fmt.Sprintf("%s:%d:>10", csbot.SignalTicketSpike, f.AccountID)}
	}

	// Watch every account, so that the run below alerts.
	watch, err := db.RecordSignals(ctx, csbot.SignalRun{Now: now, Policy: policy, Scores: scores, Complete: true})
	if err != nil {
		b.Fatal(err)
	}
	if watch.Counts["watched"] != c.accounts || len(watch.Notifications) != 0 {
		b.Fatalf("watching run: %d watched and %d notifications, want %d and none",
			watch.Counts["watched"], len(watch.Notifications), c.accounts)
	}

	// Decide: an alert and a reminder per account.
	began := time.Now()
	alerts, err := db.RecordSignals(ctx, csbot.SignalRun{Now: now, Policy: policy, Scores: scores, Signals: signals, Complete: true})
	if err != nil {
		b.Fatal(err)
	}
	alertsTook := time.Since(began)
	began = time.Now()
	reminders, err := db.QueueReminders(ctx, csbot.ReminderRun{Now: now, Policy: policy, Zone: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	remindersTook := time.Since(began)
	if len(alerts.Notifications) != c.accounts || len(reminders.Notifications) != c.accounts {
		b.Fatalf("decided %d alert messages and %d reminders, want %d of each",
			len(alerts.Notifications), len(reminders.Notifications), c.accounts)
	}

	// Deliver at Slack's pace, with no workspace budget.
	api := bot.NewClient(srv.BotToken(), srv.AppToken(), srv.URL())
	if c.idleConns > 0 {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = c.idleConns
		api = slack.New(srv.BotToken(), slack.OptionAppLevelToken(srv.AppToken()), slack.OptionAPIURL(srv.URL()),
			slack.OptionHTTPClient(&http.Client{Transport: tr}))
	}
	poster := bot.NewPoster(api, bot.PosterOptions{WorkspacePerMinute: -1, Concurrency: c.concurrency})
	pctx, stopPoster := context.WithCancel(context.Background())
	posterDone := make(chan error, 1)
	go func() { posterDone <- poster.Run(pctx) }()
	defer func() { stopPoster(); <-posterDone }()
	n, err := notifier.New(notifier.Config{Store: db, Policy: policy, Now: clock.Now,
		Slack: notifier.SlackClient{Poster: poster, Guard: bot.NewGuard(api, time.Minute, clock.Now, nil), API: api}})
	if err != nil {
		b.Fatal(err)
	}

	mem := sampleMemory(100 * time.Millisecond)
	defer mem.finish()
	dctx, stopDelivery := context.WithCancel(ctx)
	deliveryDone := make(chan error, 1)
	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			stopDelivery()
			if err := <-deliveryDone; err != nil {
				b.Errorf("RunDelivery: %v", err)
			}
		})
	}
	defer stop()
	b.StartTimer()
	began = time.Now()
	go func() { deliveryDone <- db.RunDelivery(dctx, n.Deliver) }()
	if err := n.WaitDelivered(ctx, 100*time.Millisecond, nil); err != nil {
		b.Fatalf("waiting for delivery: %v", err)
	}
	took := time.Since(began)
	b.StopTimer()
	mem.finish()
	stop()

	// Every notification sent, each key in Slack once, in its channel,
	// and each channel paced.
	all, err := db.RecentNotifications(ctx, "", total+1)
	if err != nil {
		b.Fatal(err)
	}
	if len(all) != total {
		b.Fatalf("%d notifications in the database, want %d", len(all), total)
	}
	snap := srv.Snapshot()
	posted := map[string][]slacktest.Message{} // by key
	messages := 0
	minGap := time.Duration(-1)
	shortGaps := 0 // gaps under a second, within the tolerance
	for _, ch := range channels {
		msgs := slices.Clone(snap.Messages(ch))
		messages += len(msgs)
		for _, m := range msgs {
			if m.Metadata != nil {
				if key, ok := m.Metadata.EventPayload["key"].(string); ok {
					posted[key] = append(posted[key], m)
				}
			}
		}
		slices.SortFunc(msgs, func(x, y slacktest.Message) int { return x.PostedAt.Compare(y.PostedAt) })
		for i := 1; i < len(msgs); i++ {
			gap := msgs[i].PostedAt.Sub(msgs[i-1].PostedAt)
			if minGap < 0 || gap < minGap {
				minGap = gap
			}
			if gap < time.Second {
				shortGaps++
			}
			if gap < time.Second-soakPaceTolerance {
				b.Fatalf("%s got messages %v apart (ts %s and %s), want about a second at least", ch, gap, msgs[i-1].TS, msgs[i].TS)
			}
			// Jitter does not add up: message i comes i seconds after the
			// first, less the tolerance, at the earliest.
			if since := msgs[i].PostedAt.Sub(msgs[0].PostedAt); since < time.Duration(i)*time.Second-soakPaceTolerance {
				b.Fatalf("%s got %d messages in %v, faster than one a second", ch, i+1, since)
			}
		}
	}
	for _, nt := range all {
		if nt.State != csbot.NotificationSent {
			b.Fatalf("%s is %s (%s), want sent", nt.Key, nt.State, nt.LastError)
		}
		got := posted[nt.Key]
		if len(got) != 1 || got[0].Channel != nt.Channel || got[0].TS != nt.SlackTS {
			b.Fatalf("%s: %d messages carry its key, want exactly 1 in %s with ts %s", nt.Key, len(got), nt.Channel, nt.SlackTS)
		}
	}
	if messages != total {
		b.Fatalf("the channels hold %d messages, want %d", messages, total)
	}

	rate := float64(total) / took.Seconds()
	ceiling := float64(c.channels)
	perChannel := (total + c.channels - 1) / c.channels
	ideal := time.Duration(perChannel-1) * time.Second // the first message of each channel goes at once
	b.ReportMetric(rate, "notifications/s")
	b.ReportMetric(ceiling, "ceiling_notifications/s")
	b.ReportMetric(100*rate/ceiling, "pct_of_ceiling")
	b.ReportMetric(float64(len(alerts.Notifications))/alertsTook.Seconds(), "alert_decisions/s")
	b.ReportMetric(float64(len(reminders.Notifications))/remindersTook.Seconds(), "reminder_decisions/s")
	b.ReportMetric(float64(mem.heapInuse)/mb, "peak_heap_MB")
	b.ReportMetric(float64(mem.sys)/mb, "peak_sys_MB")
	if mem.rssKB > 0 {
		b.ReportMetric(float64(mem.rssKB)/1024, "peak_rss_MB")
	}
	b.ReportMetric(float64(minGap)/float64(time.Millisecond), "min_channel_gap_ms")
	b.ReportMetric(float64(shortGaps), "gaps_under_1s")
	poll := "1s (the default)"
	if c.poll > 0 {
		poll = c.poll.String()
	}
	idle := "64 (bot.NewClient's)"
	if c.idleConns > 0 {
		idle = strconv.Itoa(c.idleConns)
	}
	hwm := "unknown"
	if kb := procStatusKB("VmHWM"); kb > 0 {
		hwm = fmt.Sprintf("%.0f MB", float64(kb)/1024)
	}
	b.Logf("soak: %d notifications (%d alerts, %d reminders) over %d channels delivered in %v: %.0f/s, %.0f%% of the %d/s ceiling "+
		"(ideal %v at 1/s per channel); decided alerts in %v (%.0f/s), reminders in %v (%.0f/s); "+
		"peak heap %.0f MB, sys %.0f MB, RSS %.0f MB, VmHWM %s; closest messages of a channel %v apart, %d gaps of %d under a second; "+
		"%d delivery workers, poster concurrency %d, %d database connections, poll %s, idle HTTP connections %s",
		total, len(alerts.Notifications), len(reminders.Notifications), c.channels, took.Round(time.Millisecond), rate,
		100*rate/ceiling, c.channels, ideal, alertsTook.Round(time.Millisecond), float64(c.accounts)/alertsTook.Seconds(),
		remindersTook.Round(time.Millisecond), float64(c.accounts)/remindersTook.Seconds(),
		float64(mem.heapInuse)/mb, float64(mem.sys)/mb, float64(mem.rssKB)/1024, hwm, minGap.Round(time.Millisecond), shortGaps, total-c.channels,
		c.workers, c.concurrency, c.poolConns, poll, idle)
}
