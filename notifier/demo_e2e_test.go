package notifier_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/notifier"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

// demoRows reads the CSV file of a demo kind as maps by column name.
func demoRows(t *testing.T, d *csbot.Demo, kind string) []map[string]string {
	t.Helper()
	var buf bytes.Buffer
	if err := d.WriteCSV(kind, &buf); err != nil {
		t.Fatalf("demo %s: %v", kind, err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("demo %s: %d records, %v", kind, len(recs), err)
	}
	out := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, col := range recs[0] {
			row[col] = rec[i]
		}
		out = append(out, row)
	}
	return out
}

// demoAccount is what the test knows of a demo account.
type demoAccount struct {
	id                   int64
	ext                  string
	tier                 csbot.Tier
	csm, channel         string
	watchedBeforeTheDemo bool
}

// keySet returns the signal keys of items.
func keySet(items []csbot.AlertItem) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.SignalKey)
	}
	slices.Sort(out)
	return out
}

// TestDemoPortfolioAlertsOnce runs the demo book through the score pass,
// delivery through the real poster and slack-go client, and the fake
// Slack, at a fixed instant.
//
// Half the CSMs' books are watched before the pass (recorded once with
// no signals, as if csbot had known them since before the demo's risks
// appeared): their accounts alert, one message per account gathering
// every signal that the domain's own scoring finds, in the account's
// channel, or by DM to the CSM for tech-touch accounts, which have none.
// The other books are new to csbot: their signals are baselined, one
// summary per CSM with risky accounts, and raise no alert. A second pass
// an hour later writes and posts nothing.
func TestDemoPortfolioAlertsOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	now := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	clock := newTestClock(now)
	policy := csbot.DefaultPolicy()
	demo := csbot.NewDemo(csbot.DemoOptions{Accounts: 300, Seed: 7, Now: now})

	srv, err := slacktest.Start(ctx, slacktest.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	for _, u := range demoRows(t, demo, "users") {
		srv.AddUser(slacktest.User{ID: u["slack_id"], Name: strings.ToLower(strings.ReplaceAll(u["name"], " ", ".")),
			RealName: u["name"], Email: u["email"], TZ: u["timezone"]})
	}
	accountRows := demoRows(t, demo, "accounts")
	for _, a := range accountRows {
		if a["channel"] != "" {
			srv.AddChannel(slacktest.Channel{ID: a["channel"], Name: "acct-" + strings.ToLower(a["external_id"]), Member: true})
		}
	}

	db, err := store.Open(ctx, pgtest.NewDatabase(ctx, t), nil, store.WithClock(clock.Now), store.WithDelivery(store.DeliveryConfig{
		Workers: 32, PollInterval: 50 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	began := time.Now()
	if err := db.ImportDemo(ctx, demo, nil); err != nil {
		t.Fatal(err)
	}
	imported := time.Since(began)

	// Score the days before, oldest first, so that trends exist.
	began = time.Now()
	for d := 35; d >= 1; d-- {
		when := now.AddDate(0, 0, -d)
		facts, err := db.AccountFacts(ctx, when)
		if err != nil {
			t.Fatal(err)
		}
		scores, _ := csbot.ScoreAll(facts, policy, when)
		if _, err := db.SaveScores(ctx, scores); err != nil {
			t.Fatal(err)
		}
	}
	scored := time.Since(began)

	// The book, and which CSMs csbot watched before: every other CSM of
	// each tier, in the order of their ids.
	accounts := map[int64]*demoAccount{}
	csmsByTier := map[csbot.Tier][]string{}
	for _, row := range accountRows {
		got, err := db.AccountByExternalID(ctx, row["external_id"])
		if err != nil {
			t.Fatal(err)
		}
		a := &demoAccount{id: got.ID, ext: row["external_id"], tier: csbot.Tier(row["tier"]),
			csm: row["csm"], channel: row["channel"]}
		accounts[a.id] = a
		if !slices.Contains(csmsByTier[a.tier], a.csm) {
			csmsByTier[a.tier] = append(csmsByTier[a.tier], a.csm)
		}
	}
	watchedCSM := map[string]bool{}
	for _, csms := range csmsByTier {
		slices.Sort(csms)
		for i, csm := range csms {
			watchedCSM[csm] = i%2 == 0
		}
	}
	var watchScores []csbot.HealthScore
	for _, a := range accounts {
		a.watchedBeforeTheDemo = watchedCSM[a.csm]
		if a.watchedBeforeTheDemo {
			watchScores = append(watchScores, csbot.HealthScore{AccountID: a.id, At: now.Add(-time.Hour), Score: 80, Band: csbot.BandGreen})
		}
	}
	watch, err := db.RecordSignals(ctx, csbot.SignalRun{Now: now.Add(-time.Hour), Policy: policy, Scores: watchScores})
	if err != nil {
		t.Fatal(err)
	}
	if watch.Counts["watched"] != len(watchScores) || len(watch.Notifications) != 0 {
		t.Fatalf("watching run: %d watched, %d notifications; want %d and none", watch.Counts["watched"],
			len(watch.Notifications), len(watchScores))
	}

	// What the pass must write, from the domain's scoring of the same
	// facts: an alert message per watched account with signals, and a
	// baseline summary per CSM new to csbot with risky accounts.
	facts, err := db.AccountFacts(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	_, signals := csbot.ScoreAll(facts, policy, now)
	type target struct{ channel, user string }
	wantAlerts := map[int64][]string{} // account -> signal keys
	wantTarget := map[int64]target{}
	wantBaselines := map[string]map[int64][]string{} // CSM -> account -> signal keys
	newBooks := map[string]int{}                     // CSM -> accounts new to csbot
	for _, a := range accounts {
		if !a.watchedBeforeTheDemo {
			newBooks[a.csm]++
		}
	}
	for _, sg := range signals {
		a := accounts[sg.AccountID]
		if a == nil {
			t.Fatalf("signal %s of an account not in the demo's files", sg.DedupeKey)
		}
		if !a.watchedBeforeTheDemo {
			if wantBaselines[a.csm] == nil {
				wantBaselines[a.csm] = map[int64][]string{}
			}
			wantBaselines[a.csm][a.id] = append(wantBaselines[a.csm][a.id], sg.DedupeKey)
			continue
		}
		if !policy.Tier(a.tier).Alerts.Alerting(sg.Kind) {
			continue
		}
		var to target
		switch route := (csbot.NotifyPrefs{}).Route(sg.Kind, policy); {
		case route == csbot.RouteChannel && a.channel != "":
			to.channel = a.channel
		case (route == csbot.RouteChannel || route == csbot.RouteDM) && a.csm != "":
			to.user = a.csm
		default:
			continue // digest only, off, or nowhere to go
		}
		wantAlerts[a.id] = append(wantAlerts[a.id], sg.DedupeKey)
		wantTarget[a.id] = to
	}
	for _, keys := range wantAlerts {
		slices.Sort(keys)
	}
	for _, byAccount := range wantBaselines {
		for _, keys := range byAccount {
			slices.Sort(keys)
		}
	}
	var channelAlerts, dmAlerts int
	for id := range wantAlerts {
		if wantTarget[id].channel != "" {
			channelAlerts++
		} else {
			dmAlerts++
		}
	}
	if channelAlerts == 0 || dmAlerts == 0 || len(wantBaselines) == 0 {
		t.Fatalf("the demo gives %d channel alerts, %d DM alerts and %d baseline summaries; the test needs some of each",
			channelAlerts, dmAlerts, len(wantBaselines))
	}

	// Deliver through the real poster, its pace shortened.
	api := bot.NewClient(srv.BotToken(), srv.AppToken(), srv.URL())
	poster := bot.NewPoster(api, bot.PosterOptions{PerChannelInterval: 5 * time.Millisecond, WorkspacePerMinute: -1,
		BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
	pctx, stopPoster := context.WithCancel(context.Background())
	posterDone := make(chan error, 1)
	go func() { posterDone <- poster.Run(pctx) }()
	t.Cleanup(func() { stopPoster(); <-posterDone })
	n, err := notifier.New(notifier.Config{Store: db, Policy: policy, Now: clock.Now,
		Slack: notifier.SlackClient{Poster: poster, Guard: bot.NewGuard(api, time.Minute, clock.Now, nil), API: api}})
	if err != nil {
		t.Fatal(err)
	}
	dctx, stopDelivery := context.WithCancel(context.Background())
	deliveryDone := make(chan error, 1)
	go func() { deliveryDone <- db.RunDelivery(dctx, n.Deliver) }()
	t.Cleanup(func() {
		stopDelivery()
		if err := <-deliveryDone; err != nil {
			t.Errorf("RunDelivery: %v", err)
		}
	})

	began = time.Now()
	first, err := n.ScorePass(ctx, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if first.Scored != len(accounts) {
		t.Errorf("the pass scored %d accounts, want %d", first.Scored, len(accounts))
	}
	gotAlerts := map[int64][]string{}
	gotBaselines := map[string]map[int64][]string{}
	var written []csbot.Notification
	for _, nt := range first.Notifications {
		written = append(written, nt)
		switch nt.Kind {
		case csbot.NotifyAlert:
			a := accounts[nt.AccountID]
			if a == nil || !a.watchedBeforeTheDemo {
				t.Errorf("%s: an alert about account %d, which csbot had not watched before", nt.Key, nt.AccountID)
				continue
			}
			if _, dup := gotAlerts[nt.AccountID]; dup {
				t.Errorf("%s: a second alert message for %s", nt.Key, a.ext)
			}
			m := payload[csbot.AlertMessage](t, nt)
			gotAlerts[nt.AccountID] = keySet(m.Items)
			if a.tier == csbot.TierTech && (nt.Channel != "" || nt.User != a.csm) {
				t.Errorf("%s: a tech-touch account's alert to channel %q user %q, want a DM to its CSM %s", nt.Key, nt.Channel, nt.User, a.csm)
			}
			if to := (target{nt.Channel, nt.User}); to != wantTarget[nt.AccountID] {
				t.Errorf("%s (%s, %s): sent to %+v, want %+v", nt.Key, a.ext, a.tier, to, wantTarget[nt.AccountID])
			}
		case csbot.NotifyBaseline:
			m := payload[csbot.BaselineMessage](t, nt)
			if nt.User != m.CSM || gotBaselines[m.CSM] != nil {
				t.Errorf("%s: a baseline summary for %s by DM to %q, or a second one", nt.Key, m.CSM, nt.User)
			}
			if m.Watched != newBooks[m.CSM] {
				t.Errorf("%s: says %d accounts newly watched, want %d", nt.Key, m.Watched, newBooks[m.CSM])
			}
			byAccount := map[int64][]string{}
			for _, ba := range m.Accounts {
				byAccount[ba.Account.ID] = keySet(ba.Signals)
			}
			gotBaselines[m.CSM] = byAccount
		default:
			t.Errorf("%s: a %s notification, want only alerts and baseline summaries", nt.Key, nt.Kind)
		}
	}
	if diff := cmp.Diff(wantAlerts, gotAlerts); diff != "" {
		t.Errorf("alert messages: account -> signal keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantBaselines, gotBaselines); diff != "" {
		t.Errorf("baseline summaries: CSM -> account -> signal keys (-want +got):\n%s", diff)
	}
	if t.Failed() {
		t.FailNow()
	}

	if err := n.WaitDelivered(ctx, 20*time.Millisecond, nil); err != nil {
		t.Fatalf("waiting for delivery: %v", err)
	}
	delivered := time.Since(began)
	dms := map[string]string{} // user -> the bot's DM channel with them
	dmOf := func(user string) string {
		if ch, ok := dms[user]; ok {
			return ch
		}
		ch, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
		if err != nil {
			t.Fatal(err)
		}
		dms[user] = ch.ID
		return ch.ID
	}
	snap := srv.Snapshot()
	for _, w := range written {
		nt, err := db.Notification(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		where := nt.Channel
		if where == "" {
			where = dmOf(nt.User)
		}
		if nt.State != csbot.NotificationSent || nt.SlackChannel != where {
			t.Errorf("%s is %s in %q (%s), want sent in %s", nt.Key, nt.State, nt.SlackChannel, nt.LastError, where)
			continue
		}
		if got := keyed(snap.Messages(where), nt.Key); len(got) != 1 || got[0].TS != nt.SlackTS {
			t.Errorf("%s: %d messages in %s carry its key, want 1 with ts %s", nt.Key, len(got), where, nt.SlackTS)
		}
	}
	posts := 0
	for _, c := range snap.Calls("chat.postMessage") {
		if c.OK() {
			posts++
		}
	}
	if posts != len(written) {
		t.Errorf("%d messages posted, want %d (one per notification)", posts, len(written))
	}

	// An hour later: the same risks, nothing new to say.
	clock.Advance(time.Hour)
	second, err := n.ScorePass(ctx, now.Add(time.Hour), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Notifications) != 0 {
		keys := make([]string, len(second.Notifications))
		for i, nt := range second.Notifications {
			keys[i] = nt.Key
		}
		t.Errorf("the second pass wrote %d notifications %q, want none", len(keys), keys)
	}
	if err := n.WaitDelivered(ctx, 20*time.Millisecond, nil); err != nil {
		t.Fatalf("waiting for delivery: %v", err)
	}
	if got := len(srv.Calls("chat.postMessage")); got != len(snap.Calls("chat.postMessage")) {
		t.Errorf("chat.postMessage called %d times after the second pass, want still %d", got, len(snap.Calls("chat.postMessage")))
	}
	t.Logf("%d accounts imported in %v, 35 days scored in %v; %d alert messages (%d in channels, %d by DM) and %d baseline summaries "+
		"written and delivered in %v; counts %s",
		len(accounts), imported.Round(time.Millisecond), scored.Round(time.Millisecond), len(gotAlerts), channelAlerts, dmAlerts,
		len(gotBaselines), delivered.Round(time.Millisecond), countsText(first.Counts))
}

// countsText formats a pass's counts, in key order, without the zeros.
func countsText(counts map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if counts[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
	}
	return strings.Join(parts, ", ")
}
