package notifier_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/notifier"
	"github.com/csbot/csbot/store"
)

// replica is one csbot process of the replicas test.
type replica struct {
	name string
	db   *store.Store
	n    *notifier.Notifier
	runs chan string
}

func TestTwoReplicasSendEachNotificationOnce(t *testing.T) {
	sc := newScheduled(t, tomorrowAt10())
	srv, err := slacktest.Start(sc.ctx, slacktest.WithClock(sc.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	addWorkspace(srv)
	sc.mustImport("users", fxUsers)
	sc.mustImport("accounts", fxAccounts)

	const lockKey = 4242
	var replicas []*replica
	for i, db := range []*store.Store{sc.db, sc.openStore()} {
		api := bot.NewClient(srv.BotToken(), srv.AppToken(), srv.URL())
		p := bot.NewPoster(api, bot.PosterOptions{PerChannelInterval: time.Millisecond, WorkspacePerMinute: -1})
		pctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(pctx) }()
		t.Cleanup(func() { cancel(); <-done })
		n, err := notifier.New(notifier.Config{Store: db, Policy: csbot.DefaultPolicy(), Now: sc.clock.Now,
			Slack: notifier.SlackClient{Poster: p, Guard: bot.NewGuard(api, time.Minute, sc.clock.Now, nil), API: api}})
		if err != nil {
			t.Fatal(err)
		}
		r := &replica{name: fmt.Sprintf("replica %d", i+1), db: db, n: n, runs: make(chan string, 64)}
		elector := db.NewElector(lockKey, store.ElectorOptions{})
		t.Cleanup(func() { _ = elector.Close(context.Background()) })
		dctx, stop := context.WithCancel(context.Background())
		ddone := make(chan error, 1)
		go func() { ddone <- db.RunDelivery(dctx, n.Deliver) }()
		t.Cleanup(func() { stop(); <-ddone })
		replicas = append(replicas, r)
		defer sc.start(n, elector, r.runs)() // stop the schedulers before delivery
	}

	sc.waitAt(notifier.JobScores, sc.clock.Now())
	sc.waitAt(notifier.JobDue, sc.clock.Now())

	// Twelve tickets in a week on a high-touch account: a ticket spike.
	var tickets strings.Builder
	tickets.WriteString("external_id,account_external_id,opened_at,severity,status\n")
	for i := range 12 {
		fmt.Fprintf(&tickets, "T-%d,A-OPEN,%s,normal,open\n", i, sc.clock.Now().AddDate(0, 0, -1-i%7).Format(time.RFC3339))
	}
	sc.mustImport("tickets", tickets.String())
	for range 4 { // an hour of quarter-hour ticks; the scores job runs at its end
		sc.step(15*time.Minute, 4, notifier.JobDue)
	}
	sc.waitAt(notifier.JobScores, sc.clock.Now())
	ran := map[string]int{}
	for _, r := range replicas {
		ran[r.name] = len(r.runs)
	}
	if err := replicas[0].n.WaitDelivered(sc.ctx, 20*time.Millisecond, nil); err != nil {
		t.Fatal(err)
	}

	if ran[replicas[0].name] > 0 && ran[replicas[1].name] > 0 {
		t.Errorf("both replicas ran jobs: %v; only the leader should", ran)
	}
	all, err := sc.db.RecentNotifications(sc.ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	spike := false
	for _, n := range all {
		if n.State != csbot.NotificationSent {
			t.Errorf("%s is %s (%s), want sent", n.Key, n.State, n.LastError)
			continue
		}
		if got := keyed(srv.Messages(n.SlackChannel), n.Key); len(got) != 1 {
			t.Errorf("%s: %d messages in %s carry its key, want exactly 1", n.Key, len(got), n.SlackChannel)
		}
		if n.Kind == csbot.NotifyAlert && n.SlackChannel == "C0OPEN" && strings.Contains(string(n.Payload), "ticket_spike") {
			spike = true
		}
	}
	if !spike {
		t.Errorf("no ticket spike alert was posted in C0OPEN; notifications: %d", len(all))
	}
}
