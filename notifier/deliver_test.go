package notifier_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/store"
	"github.com/jackc/pgx/v5"
)

// only returns the one notification of ns, failing the test otherwise.
func only(t *testing.T, ns []csbot.Notification) csbot.Notification {
	t.Helper()
	if len(ns) != 1 {
		keys := make([]string, len(ns))
		for i, n := range ns {
			keys[i] = n.Key
		}
		t.Fatalf("got %d notifications %q, want 1", len(ns), keys)
	}
	return ns[0]
}

func TestAlertIsPostedOnceWithItsKey(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	sig := f.signal("A-OPEN", csbot.SignalTicketSpike, csbot.SignalWarning, ">10", "14 tickets opened in 30 days")
	n := only(t, f.record([]csbot.Signal{sig}, true))
	f.waitDelivered()

	got := f.notification(n.ID)
	if got.State != csbot.NotificationSent || got.SlackChannel != "C0OPEN" || got.SlackTS == "" {
		t.Fatalf("notification = %s in %q at %q, want sent in C0OPEN", got.State, got.SlackChannel, got.SlackTS)
	}
	msgs := keyed(f.srv.Messages("C0OPEN"), n.Key)
	if len(msgs) != 1 || msgs[0].TS != got.SlackTS {
		t.Fatalf("C0OPEN has %d messages with key %s, want 1 with ts %s", len(msgs), n.Key, got.SlackTS)
	}
	for _, want := range []string{"Ticket spike", "14 tickets opened", "Open Channel Co", "alert_ack", "alert_snooze_7", "pick:health:alert", "pick:touchpoint:alert"} {
		if !strings.Contains(string(msgs[0].Blocks), want) {
			t.Errorf("message blocks lack %q", want)
		}
	}

	// The same signal again: nothing new is written or posted.
	if again := f.record([]csbot.Signal{sig}, true); len(again) != 0 {
		t.Fatalf("second run wrote %d notifications, want 0", len(again))
	}
	f.waitDelivered()
	if got := len(f.srv.Calls("chat.postMessage")); got != 1 {
		t.Fatalf("chat.postMessage called %d times, want 1", got)
	}
}

func TestCrashBetweenPostAndRecordPostsOnce(t *testing.T) {
	// Replica A posts, then dies before recording it; replica B takes the
	// job over, finds the message in the channel's history, and records it.
	var crashes atomic.Int32
	crashed := make(chan struct{})
	f := newFixture(t, fixtureOptions{noRun: true, delivery: store.DeliveryConfig{
		AfterHandler: func(ctx context.Context, d csbot.Delivery, r csbot.DeliveryResult) error {
			if r.Status == csbot.DeliverySent && crashes.Add(1) == 1 {
				close(crashed)
				return errors.New("replica died between posting and recording")
			}
			return nil
		},
	}})
	stopA := f.runDelivery(f.db, f.n)
	n := only(t, f.record([]csbot.Signal{
		f.signal("A-OPEN", csbot.SignalUsageDrop, csbot.SignalCritical, "-50%", "usage down 55%"),
	}, true))
	select {
	case <-crashed:
	case <-f.ctx.Done():
		t.Fatal("the first attempt never posted")
	}
	stopA()
	if st := f.notification(n.ID).State; st != csbot.NotificationSending {
		t.Fatalf("after the crash the notification is %s, want sending", st)
	}

	dbB := f.openStore(store.DeliveryConfig{})
	nB := f.newNotifier(dbB, bot.PosterOptions{})
	f.runDelivery(dbB, nB)
	f.waitDelivered()

	if got := f.allKeyed(n.Key); len(got) != 1 {
		t.Fatalf("%d messages carry key %s, want exactly 1", len(got), n.Key)
	}
	got := f.notification(n.ID)
	if got.State != csbot.NotificationSent || got.SlackTS != keyed(f.srv.Messages("C0OPEN"), n.Key)[0].TS {
		t.Fatalf("notification = %s at %q, want sent with the posted message's ts", got.State, got.SlackTS)
	}
	if len(f.srv.Calls("conversations.history")) == 0 {
		t.Error("replica B re-posted without looking at the channel's history")
	}
}

func TestSlackTimingOutAfterAcceptingPostsOnce(t *testing.T) {
	f := newFixture(t, fixtureOptions{poster: bot.PosterOptions{AttemptTimeout: 150 * time.Millisecond, MaxAttempts: 1}})
	f.srv.FailNext("chat.postMessage", 1, slacktest.Fault{DelayAfter: 2 * time.Second})
	n := only(t, f.record([]csbot.Signal{
		f.signal("A-OPEN", csbot.SignalInvoiceOverdue, csbot.SignalWarning, "15d", "invoice INV-1 unpaid 20 days past due"),
	}, true))
	f.waitDelivered()

	if got := keyed(f.srv.Messages("C0OPEN"), n.Key); len(got) != 1 {
		t.Fatalf("C0OPEN has %d messages with key %s, want exactly 1", len(got), n.Key)
	}
	got := f.notification(n.ID)
	if got.State != csbot.NotificationSent || got.Attempts < 2 {
		t.Fatalf("notification = %s after %d attempts, want sent after a retry", got.State, got.Attempts)
	}
}

func TestRateLimitsAndServerErrorsAreRiddenOut(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.srv.FailNext("chat.postMessage", 2, slacktest.Fault{Status: 429, RetryAfter: time.Second})
	f.srv.FailNext("chat.postMessage", 2, slacktest.Fault{Status: 503})
	n := only(t, f.record([]csbot.Signal{
		f.signal("A-OPEN", csbot.SignalDetractor, csbot.SignalCritical, "<=3", "NPS 2 three days ago"),
	}, true))
	f.waitDelivered()
	if got := keyed(f.srv.Messages("C0OPEN"), n.Key); len(got) != 1 {
		t.Fatalf("C0OPEN has %d messages with key %s, want exactly 1", len(got), n.Key)
	}
	if st := f.notification(n.ID).State; st != csbot.NotificationSent {
		t.Fatalf("notification is %s, want sent", st)
	}
}

func TestChannelsThatRefuseFallBackToTheCSM(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ns := f.record([]csbot.Signal{
		f.signal("A-SHARED", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "usage down 35%"),
		f.signal("A-ARCH", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "usage down 31%"),
		f.signal("A-PRIV", csbot.SignalUsageDrop, csbot.SignalWarning, "-30%", "usage down 40%"),
	}, true)
	if len(ns) != 3 {
		t.Fatalf("got %d notifications, want 3", len(ns))
	}
	f.waitDelivered()

	for _, ch := range []string{"C0SHARED", "C0ARCH", "C0PRIV"} {
		if msgs := f.srv.Messages(ch); len(msgs) != 0 {
			t.Errorf("%s got %d messages, want none", ch, len(msgs))
		}
	}
	dm := f.dmOf("U0SAM")
	wantReason := map[string]string{
		"C0SHARED": "shared outside the company",
		"C0ARCH":   "archived",
		"C0PRIV":   "not a member of the private",
	}
	for _, n := range ns {
		orig := f.notification(n.ID)
		if orig.State != csbot.NotificationFailed || !strings.Contains(orig.LastError, wantReason[n.Channel]) {
			t.Errorf("%s: notification = %s (%q), want failed because %s", n.Channel, orig.State, orig.LastError, wantReason[n.Channel])
		}
		got := keyed(f.srv.Messages(dm), n.Key+"/dm")
		if len(got) != 1 {
			t.Errorf("%s: the CSM's DM has %d messages with key %s/dm, want 1", n.Channel, len(got), n.Key)
			continue
		}
		if !strings.Contains(string(got[0].Blocks), "came to you") {
			t.Errorf("%s: the DM does not say why it came as a DM", n.Channel)
		}
	}
}

func TestBotJoinsPublicAccountChannel(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	n := only(t, f.record([]csbot.Signal{
		f.signal("A-OUT", csbot.SignalNoTouch, csbot.SignalWarning, "180d", "no touchpoint for 190 days"),
	}, true))
	f.waitDelivered()
	if ch, _ := f.srv.Channel("C0OUT"); !ch.Member {
		t.Fatal("the bot did not join C0OUT")
	}
	if got := keyed(f.srv.Messages("C0OUT"), n.Key); len(got) != 1 {
		t.Fatalf("C0OUT has %d messages with key %s, want 1", len(got), n.Key)
	}
}

func TestAccountWithoutChannelAlertsTheCSMByDM(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	n := only(t, f.record([]csbot.Signal{
		f.signal("A-NONE", csbot.SignalTicketSpike, csbot.SignalWarning, ">20", "25 tickets opened in 30 days"),
	}, true))
	if n.User != "U0ADA" || n.Channel != "" {
		t.Fatalf("notification to channel %q user %q, want a DM to U0ADA", n.Channel, n.User)
	}
	f.waitDelivered()
	got := f.notification(n.ID)
	if got.State != csbot.NotificationSent || !strings.HasPrefix(got.SlackChannel, "D") {
		t.Fatalf("notification = %s in %q, want sent in a DM channel", got.State, got.SlackChannel)
	}
	if msgs := keyed(f.srv.Messages(got.SlackChannel), n.Key); len(msgs) != 1 {
		t.Fatalf("the DM has %d messages with the key, want 1", len(msgs))
	}
}

func TestResolvedSignalUpdatesTheMessageInPlace(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	n := only(t, f.record([]csbot.Signal{
		f.signal("A-OPEN", csbot.SignalTicketSpike, csbot.SignalWarning, ">10", "14 tickets opened in 30 days"),
	}, true))
	f.waitDelivered()
	sent := f.notification(n.ID)

	f.clock.Advance(24 * time.Hour)
	up := only(t, f.record(nil, true))
	if up.Kind != csbot.NotifyAlertUpdate {
		t.Fatalf("run without the signal wrote a %s, want an alert update", up.Kind)
	}
	f.waitDelivered()
	msgs := f.srv.Messages("C0OPEN")
	if len(msgs) != 1 {
		t.Fatalf("C0OPEN has %d messages, want the one alert, updated", len(msgs))
	}
	m := msgs[0]
	if m.TS != sent.SlackTS || m.Edits != 1 || !strings.Contains(string(m.Blocks), "resolved on") {
		t.Fatalf("message ts %s edits %d, want ts %s edited once to say resolved; blocks: %s", m.TS, m.Edits, sent.SlackTS, m.Blocks)
	}
	if strings.Contains(string(m.Blocks), "alert_ack") {
		t.Error("a resolved alert still offers Acknowledge")
	}
}

func TestUncertainAttemptIsNeverRetriedBlind(t *testing.T) {
	// Attempt 1 posts and dies before recording; the attempts after it
	// cannot even check the channel (conversations.info fails). The row
	// must stay uncertain, so that whichever attempt next gets through
	// looks in the history rather than posting a second copy.
	var crashes atomic.Int32
	var fx *fixture
	f := newFixture(t, fixtureOptions{delivery: store.DeliveryConfig{
		AfterHandler: func(ctx context.Context, d csbot.Delivery, r csbot.DeliveryResult) error {
			if r.Status == csbot.DeliverySent && crashes.Add(1) == 1 {
				fx.srv.FailNext("conversations.info", 3, slacktest.Fault{Status: 503})
				fx.clock.Advance(2 * bot.ChannelRecheck) // the guard asks Slack again
				return errors.New("replica died between posting and recording")
			}
			return nil
		},
	}})
	fx = f
	n := only(t, f.record([]csbot.Signal{
		f.signal("A-OPEN", csbot.SignalUsageDrop, csbot.SignalCritical, "-50%", "usage down 55%"),
	}, true))
	f.waitDelivered()

	if got := keyed(f.srv.Messages("C0OPEN"), n.Key); len(got) != 1 {
		t.Fatalf("C0OPEN has %d messages with key %s, want exactly 1", len(got), n.Key)
	}
	got := f.notification(n.ID)
	if got.State != csbot.NotificationSent || got.Attempts < 5 {
		t.Fatalf("notification is %s after %d attempts, want sent after the 3 failed checks", got.State, got.Attempts)
	}
	if len(f.srv.Calls("conversations.history")) == 0 {
		t.Error("the history was never searched")
	}
}

func TestNotificationWhoseJobIsLostIsRequeued(t *testing.T) {
	f := newFixture(t, fixtureOptions{noRun: true})
	n := only(t, f.record([]csbot.Signal{
		f.signal("A-OPEN", csbot.SignalTicketSpike, csbot.SignalWarning, ">10", "12 tickets"),
	}, true))
	conn, err := pgx.Connect(f.ctx, f.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(f.ctx)
	if tag, err := conn.Exec(f.ctx, `DELETE FROM river_job WHERE kind = 'csbot_deliver'`); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("deleting the job: %v (%d rows)", err, tag.RowsAffected())
	}
	f.runDelivery(f.db, f.n)

	// Too recent to be an orphan: a job may be on its way.
	if requeued, _, err := f.db.RequeueOrphans(f.ctx, f.clock.Now()); err != nil || requeued != 0 {
		t.Fatalf("RequeueOrphans at once = %d, %v; want 0", requeued, err)
	}
	f.clock.Advance(time.Hour)
	if requeued, failed, err := f.db.RequeueOrphans(f.ctx, f.clock.Now()); err != nil || requeued != 1 || failed != 0 {
		t.Fatalf("RequeueOrphans an hour later = %d requeued, %d failed, %v; want 1 requeued", requeued, failed, err)
	}
	f.waitDelivered()
	if got := keyed(f.srv.Messages("C0OPEN"), n.Key); len(got) != 1 {
		t.Fatalf("C0OPEN has %d messages with key %s, want 1", len(got), n.Key)
	}
	if requeued, _, _ := f.db.RequeueOrphans(f.ctx, f.clock.Now().Add(time.Hour)); requeued != 0 {
		t.Errorf("a delivered notification was requeued")
	}
}

func TestDuePassFillsMissingTimezonesFromSlack(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.srv.AddUser(slacktest.User{ID: "U0ADA", Name: "ada", TZ: "Asia/Tokyo"})
	f.srv.AddUser(slacktest.User{ID: "U0SAM", Name: "sam", TZ: "Europe/Paris"})
	f.mustImport("users", "slack_id,role,name\nU0GONE,csm,Gone Person\n")
	if _, err := f.n.DuePass(f.ctx, f.clock.Now(), false); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"U0ADA":  "Asia/Tokyo",          // empty in the import: Slack's
		"U0SAM":  "America/Los_Angeles", // set by the import: kept
		"U0GONE": "",                    // unknown to Slack: asked once
	} {
		u, err := f.db.UserBySlackID(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Timezone != want {
			t.Errorf("%s: time zone %q, want %q", id, u.Timezone, want)
		}
	}
	if left, err := f.db.UsersWithoutTimezone(f.ctx, 10); err != nil || len(left) != 0 {
		t.Errorf("users still without a time zone: %v, %v; want none (each asked once)", left, err)
	}
}
