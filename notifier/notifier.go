// Package notifier is csbot's scheduled side: it recomputes health and
// risk signals, decides which alerts, reminders and digests are due, and
// posts them to Slack, each once.
//
// Deciding and posting are apart. A pass (Notifier.ScorePass,
// Notifier.DuePass) reads the database as it stands and writes every
// notification that is due by then and not yet written, each a row with a
// unique key in the transaction that decides it, with its delivery job.
// Passes run on the scheduler's leader (see Scheduler) or from `csbot
// notify --once`; a pass repeated, or run by two replicas at once, writes
// nothing twice. Posting (Notifier.Deliver) runs on every replica, as the
// store's delivery queue hands it jobs.
package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/csbot/csbot"
)

// Store is the part of the store the notifier needs; *store.Store
// satisfies it.
type Store interface {
	AccountFacts(ctx context.Context, now time.Time) ([]csbot.AccountFacts, error)
	SaveScores(ctx context.Context, scores []csbot.HealthScore) (int64, error)
	RecordSignals(ctx context.Context, run csbot.SignalRun) (csbot.RunResult, error)
	QueueReminders(ctx context.Context, run csbot.ReminderRun) (csbot.RunResult, error)
	QueueDigests(ctx context.Context, run csbot.DueRun) (csbot.RunResult, error)
	QueueEscalations(ctx context.Context, run csbot.DueRun) (csbot.RunResult, error)
	QueueOutageNotices(ctx context.Context, run csbot.DueRun) (csbot.RunResult, error)
	PendingNotifications(ctx context.Context, at time.Time) (int, error)
	// RequeueOrphans gives notifications whose delivery job is gone a new
	// one (see store.RequeueOrphans).
	RequeueOrphans(ctx context.Context, now time.Time) (requeued, failed int, err error)
	// Notification returns a notification by id (csbot.ErrNotFound when
	// there is none).
	Notification(ctx context.Context, id int64) (csbot.Notification, error)
	// PostedAs returns the notification that carries the message of
	// notification id: itself once sent, else the fallback made from it,
	// followed to the end (csbot.ErrNotFound when none was sent).
	PostedAs(ctx context.Context, id int64) (csbot.Notification, error)
	// UsersWithoutTimezone and SetUserTimezone fill in the time zones the
	// users import left empty, from Slack.
	UsersWithoutTimezone(ctx context.Context, limit int) ([]string, error)
	SetUserTimezone(ctx context.Context, slackID, tz string) error
	// HandoffView returns a handoff as its messages show it.
	HandoffView(ctx context.Context, id int64) (csbot.HandoffView, error)
	// QueueHandoffNudges writes the nudges and escalations of handoffs
	// nobody acknowledged.
	QueueHandoffNudges(ctx context.Context, run csbot.DueRun, onboardingChannel string) (csbot.RunResult, error)
	// AlertStatuses returns the current state of the alerts.
	AlertStatuses(ctx context.Context, ids []int64) (map[int64]csbot.AlertStatus, error)
}

// Config configures a Notifier.
type Config struct {
	Store  Store
	Policy csbot.Policy
	// OnboardingChannel is where handoffs go besides the account channel,
	// and their nudges when they have no owner (CSBOT_ONBOARDING_CHANNEL).
	OnboardingChannel string
	// Location is the zone of users whose own zone is unknown
	// (CSBOT_TIMEZONE). Default UTC.
	Location *time.Location
	// Slack posts; nil for a notifier that only decides (imports, dry
	// runs). Deliver then fails every attempt as retryable.
	Slack Slack
	// Now is the clock. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Notifier decides and delivers notifications.
type Notifier struct {
	cfg Config
	log *slog.Logger
	dm  dmCache
}

// New returns a notifier.
func New(cfg Config) (*Notifier, error) {
	if cfg.Store == nil {
		return nil, errors.New("notifier: no store")
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("notifier: policy: %w", err)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{cfg: cfg, log: cfg.Logger.With("component", "notifier")}, nil
}

// PassResult is what a pass decided.
type PassResult struct {
	// Pass names it: "scores" or "due".
	Pass string
	At   time.Time
	// Scored counts the accounts scored (score pass).
	Scored int
	// Notifications are those written (or, in a dry run, that would be).
	Notifications []csbot.Notification
	// Counts say what was found, by name, for the logs.
	Counts map[string]int
	Took   time.Duration
}

// ScorePass scores every account at now, saves the day's snapshots and
// decides the alerts of the signals: new ones, worse ones, resolved ones,
// and each CSM's baseline summary of accounts seen for the first time. A
// dry run saves nothing.
func (n *Notifier) ScorePass(ctx context.Context, now time.Time, dryRun bool) (PassResult, error) {
	began := time.Now()
	facts, err := n.cfg.Store.AccountFacts(ctx, now)
	if err != nil {
		return PassResult{}, fmt.Errorf("score pass: %w", err)
	}
	scores, signals := csbot.ScoreAll(facts, n.cfg.Policy, now)
	if !dryRun {
		if _, err := n.cfg.Store.SaveScores(ctx, scores); err != nil {
			return PassResult{}, fmt.Errorf("score pass: %w", err)
		}
	}
	res, err := n.cfg.Store.RecordSignals(ctx, csbot.SignalRun{
		Now: now, Policy: n.cfg.Policy, Scores: scores, Signals: signals, Complete: true, DryRun: dryRun,
	})
	if err != nil {
		return PassResult{}, fmt.Errorf("score pass: %w", err)
	}
	out := PassResult{Pass: "scores", At: now, Scored: len(scores), Notifications: res.Notifications,
		Counts: res.Counts, Took: time.Since(began)}
	n.logPass(ctx, out, dryRun)
	return out, nil
}

// DuePass writes what falls due at now by the calendar and the clock:
// renewal reminders at the reminder hour in each CSM's zone, weekly
// digests at the digest hour in each manager's, escalations of alerts
// nobody acknowledged in time, reminders of acknowledged alerts still
// open, outage notices, and nudges and escalations of handoffs nobody
// acknowledged. Everything due by now and not yet written is
// written once, however long csbot was down. It also requeues the
// delivery of any notification whose job was lost, so none is left
// behind.
func (n *Notifier) DuePass(ctx context.Context, now time.Time, dryRun bool) (PassResult, error) {
	began := time.Now()
	out := PassResult{Pass: "due", At: now, Counts: map[string]int{}}
	run := csbot.DueRun{Now: now, Policy: n.cfg.Policy, Zone: n.cfg.Location, DryRun: dryRun}
	steps := []struct {
		name string
		fn   func() (csbot.RunResult, error)
	}{
		{"timezones", func() (csbot.RunResult, error) {
			if dryRun {
				return csbot.RunResult{}, nil
			}
			n, err := n.fillTimezones(ctx)
			return csbot.RunResult{Counts: map[string]int{"timezones": n}}, err
		}},
		{"reminders", func() (csbot.RunResult, error) {
			return n.cfg.Store.QueueReminders(ctx, csbot.ReminderRun{Now: now, Policy: n.cfg.Policy, Zone: n.cfg.Location, DryRun: dryRun})
		}},
		{"digests", func() (csbot.RunResult, error) { return n.cfg.Store.QueueDigests(ctx, run) }},
		{"escalations", func() (csbot.RunResult, error) { return n.cfg.Store.QueueEscalations(ctx, run) }},
		{"outages", func() (csbot.RunResult, error) { return n.cfg.Store.QueueOutageNotices(ctx, run) }},
		{"handoff nudges", func() (csbot.RunResult, error) {
			return n.cfg.Store.QueueHandoffNudges(ctx, run, n.cfg.OnboardingChannel)
		}},
		{"orphans", func() (csbot.RunResult, error) {
			if dryRun {
				return csbot.RunResult{}, nil
			}
			requeued, failed, err := n.cfg.Store.RequeueOrphans(ctx, now)
			return csbot.RunResult{Counts: map[string]int{"requeued": requeued, "gave_up": failed}}, err
		}},
	}
	var errs []error
	for _, st := range steps {
		res, err := st.fn()
		if err != nil {
			// One failing step does not hold the others back; the next
			// pass catches up on it.
			errs = append(errs, fmt.Errorf("due pass: %s: %w", st.name, err))
			continue
		}
		out.Notifications = append(out.Notifications, res.Notifications...)
		for k, v := range res.Counts {
			out.Counts[k] += v
		}
	}
	out.Took = time.Since(began)
	n.logPass(ctx, out, dryRun)
	return out, errors.Join(errs...)
}

// timezonesPerPass caps the users.info calls of one due pass (Slack's
// Tier 4: about 100 a minute).
const timezonesPerPass = 50

// fillTimezones asks Slack for the time zone of users the users import
// left without one, so that their reminders and digests come at 09:00
// their time rather than CSBOT_TIMEZONE's. It returns how many it filled.
func (n *Notifier) fillTimezones(ctx context.Context) (int, error) {
	if n.cfg.Slack == nil {
		return 0, nil
	}
	ids, err := n.cfg.Store.UsersWithoutTimezone(ctx, timezonesPerPass)
	if err != nil {
		return 0, err
	}
	filled := 0
	for _, id := range ids {
		tz, err := n.cfg.Slack.UserTimezone(ctx, id)
		if err != nil {
			if slackCode(err) != "user_not_found" {
				n.log.WarnContext(ctx, "cannot read a user's time zone from Slack; will ask again", "user", id, "err", err)
				continue
			}
			tz = ""
		}
		if _, err := time.LoadLocation(tz); err != nil {
			tz = ""
		}
		if err := n.cfg.Store.SetUserTimezone(ctx, id, tz); err != nil {
			return filled, err
		}
		if tz != "" {
			filled++
		}
	}
	return filled, nil
}

// RunOnce runs every pass at now, in order: scores and alerts, then what
// the calendar makes due.
func (n *Notifier) RunOnce(ctx context.Context, now time.Time, dryRun bool) ([]PassResult, error) {
	score, err := n.ScorePass(ctx, now, dryRun)
	if err != nil {
		return nil, err
	}
	due, err := n.DuePass(ctx, now, dryRun)
	if err != nil {
		return []PassResult{score}, err
	}
	return []PassResult{score, due}, nil
}

// waitLookahead is how far past now WaitDelivered counts notifications as
// due.
const waitLookahead = 5 * time.Second

// WaitDelivered waits until no notification due by now (the notifier's
// clock, read at each look) is left pending or sending: each was posted
// or recorded as failed, fallbacks made meanwhile included. It polls
// every interval (default 200 ms) and reports the count left as it goes.
func (n *Notifier) WaitDelivered(ctx context.Context, interval time.Duration, progress func(left int)) error {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	last := -1
	for {
		// A little ahead of now: a fallback written while this look runs
		// is due at the moment it was written, after the now read here.
		left, err := n.cfg.Store.PendingNotifications(ctx, n.cfg.Now().Add(waitLookahead))
		if err != nil {
			return err
		}
		if left != last && progress != nil {
			progress(left)
		}
		last = left
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}

func (n *Notifier) logPass(ctx context.Context, r PassResult, dryRun bool) {
	attrs := []any{"pass", r.Pass, "at", r.At, "notifications", len(r.Notifications), "took", r.Took.Round(time.Millisecond)}
	if r.Scored > 0 {
		attrs = append(attrs, "scored", r.Scored)
	}
	for k, v := range r.Counts {
		if v != 0 {
			attrs = append(attrs, k, v)
		}
	}
	if dryRun {
		attrs = append(attrs, "dry_run", true)
	}
	n.log.InfoContext(ctx, "notifier pass done", attrs...)
}
