package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Notifications are delivered through River (riverqueue/river), a job
// queue in this database: the transaction that decides a notification is
// due writes its row and inserts its delivery job (InsertTx), so a
// decision is never recorded without its delivery, nor the other way
// round. River runs each job at least once, retrying with backoff and
// rescuing the jobs of a replica that died; the notification row's state
// makes the posting happen once (see Delivery and DeliveryHandler).

// deliverArgs are the arguments of a delivery job.
type deliverArgs struct {
	Notification int64 `json:"notification"`
}

// Kind names the job kind in River's tables.
func (deliverArgs) Kind() string { return "csbot_deliver" }

// DeliveryConfig tunes delivery. The zero value gives the defaults.
type DeliveryConfig struct {
	// Workers is how many notifications are delivered at once per
	// replica. They spend most of their time waiting for the poster's
	// per-channel pace, so this is well above the CPU count; it also caps
	// the rate, since River fetches at most this many jobs per fetch
	// cooldown (100 ms). Default 128.
	Workers int
	// MaxAttempts caps the attempts of one notification; the last failure
	// is recorded as failed. Default 12.
	MaxAttempts int
	// RetryBase and RetryMax shape the backoff between attempts: attempt n
	// waits a random time between half and all of
	// min(RetryBase*2^(n-1), RetryMax). Defaults 2 s and 10 min, which
	// spreads 12 attempts over about an hour.
	RetryBase, RetryMax time.Duration
	// JobTimeout bounds one attempt, the wait for the channel's pace
	// included. Default 5 min.
	JobTimeout time.Duration
	// RescueAfter is how long an attempt may look stuck (its replica died)
	// before another replica retries it. Default JobTimeout plus a minute.
	RescueAfter time.Duration
	// PollInterval is how often idle workers look for due jobs besides
	// being told of new ones. Default 1 s.
	PollInterval time.Duration
	// AfterHandler, when set, runs after the handler returns and before
	// its outcome is recorded; an error stops the attempt there, as a
	// crash would, leaving the notification sending. Tests use it.
	AfterHandler func(ctx context.Context, d csbot.Delivery, r csbot.DeliveryResult) error
}

func (c DeliveryConfig) withDefaults() DeliveryConfig {
	if c.Workers <= 0 {
		c.Workers = 128
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 12
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 2 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 10 * time.Minute
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 5 * time.Minute
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = c.JobTimeout + time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	return c
}

// Option configures a Store.
type Option func(*options)

type options struct {
	now, queueNow func() time.Time
	delivery      DeliveryConfig
}

// WithClock makes the store read the time from now where it decides
// (whether a notification is due yet, when an attempt began). `csbot
// notify --at` and tests use it. Default time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithQueueClock makes the delivery queue (River) read the time from now
// too: when a delayed or retried job is due, when an attempt looks stuck.
// Only tests that move a fake clock need it; every replica's queue must
// agree on the time, so production keeps the wall clock. It must never
// run behind the wall clock: River's rescuer compares the times it
// recorded with the wall clock, and would take running jobs for stuck. Delays are
// handed to the queue relative to its clock, so a store deciding at
// another time (notify --at) still delivers at once.
func WithQueueClock(now func() time.Time) Option { return func(o *options) { o.queueNow = now } }

// WithDelivery tunes the delivery of notifications.
func WithDelivery(c DeliveryConfig) Option { return func(o *options) { o.delivery = c } }

// riverTime is River's clock: the store's.
type riverTime struct {
	now     func() time.Time
	stubbed bool
}

func (t riverTime) Now() time.Time { return t.now() }

func (t riverTime) NowOrNil() *time.Time {
	if !t.stubbed {
		return nil
	}
	n := t.now().UTC()
	return &n
}

// newRiver builds the River client of s: it can insert at once, and works
// jobs once RunDelivery starts it.
func (s *Store) newRiver(o options) error {
	workers := river.NewWorkers()
	river.AddWorker(workers, &deliverWorker{s: s})
	cfg := &river.Config{
		Logger:               s.log.With("library", "river"),
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: s.dcfg.Workers}},
		Workers:              workers,
		MaxAttempts:          s.dcfg.MaxAttempts,
		JobTimeout:           s.dcfg.JobTimeout,
		RescueStuckJobsAfter: s.dcfg.RescueAfter,
		FetchPollInterval:    s.dcfg.PollInterval,
		FetchCooldown:        min(s.dcfg.PollInterval, river.FetchCooldownDefault),
		Test:                 river.TestConfig{Time: riverTime{now: s.queueNow, stubbed: o.queueNow != nil}},
	}
	c, err := river.NewClient(riverpgxv5.New(s.pool), cfg)
	if err != nil {
		return fmt.Errorf("delivery queue: %w", err)
	}
	s.river = c
	return nil
}

// RunDelivery delivers notifications with h until ctx ends, then lets the
// attempts in flight finish (up to the job timeout). Every replica may run
// it: River hands each job to one worker at a time.
func (s *Store) RunDelivery(ctx context.Context, h csbot.DeliveryHandler) error {
	if !s.handler.CompareAndSwap(nil, &h) {
		return errors.New("delivery already running")
	}
	defer s.handler.Store(nil)
	if err := s.river.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return fmt.Errorf("start delivery: %w", err)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.dcfg.JobTimeout)
	defer cancel()
	if err := s.river.Stop(stopCtx); err != nil {
		hard, cancelHard := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancelHard()
		_ = s.river.StopAndCancel(hard)
		return fmt.Errorf("stop delivery: %w", err)
	}
	return nil
}

// handlerBox holds the running delivery handler.
type handlerBox = atomic.Pointer[csbot.DeliveryHandler]

// deliverWorker is River's worker of delivery jobs.
type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	s *Store
}

// Work makes one delivery attempt.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	s := w.s
	h := s.handler.Load()
	if h == nil {
		return errors.New("no delivery handler")
	}
	d, wait, done, err := s.claimNotification(ctx, job.Args.Notification, job.Attempt, job.MaxAttempts)
	switch {
	case err != nil:
		return err
	case done:
		return nil
	case wait > 0:
		return river.JobSnooze(wait)
	}
	res := (*h)(ctx, d)
	if hook := s.dcfg.AfterHandler; hook != nil {
		if err := hook(ctx, d, res); err != nil {
			return err
		}
	}
	return s.recordDelivery(context.WithoutCancel(ctx), d, res)
}

// NextRetry returns when a failed attempt is tried again.
func (w *deliverWorker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	return w.s.queueNow().Add(csbot.Backoff(job.Attempt, w.s.dcfg.RetryBase, w.s.dcfg.RetryMax))
}

// errNotificationMissing: a job whose notification row is gone (its
// account was deleted).
var errNotificationMissing = errors.New("notification no longer exists")

// notificationColumns are the columns scanNotification reads.
const notificationColumns = `
       id, dedupe_key, kind, coalesce(account_id, 0), coalesce(target_channel, ''), coalesce(target_user, ''),
       coalesce(fallback_user, ''), coalesce(fallback_of, 0), note, payload, state, attempts,
       next_attempt_at, first_attempt_at, coalesce(slack_channel, ''), coalesce(slack_ts, ''),
       coalesce(last_error, ''), created_at`

// claimSQL marks notification $1 sending at $2 when it is to be sent and
// due, in one statement (a transaction of its own), and returns it as it
// was before: its state says whether an earlier attempt's outcome is
// unknown.
const claimSQL = `
WITH old AS (
    SELECT id, state, attempts, first_attempt_at FROM notifications WHERE id = $1 FOR UPDATE
)
UPDATE notifications n
   SET state = 'sending', attempts = n.attempts + 1, first_attempt_at = coalesce(n.first_attempt_at, $2), updated_at = $2
  FROM old
 WHERE n.id = old.id AND old.state IN ('pending', 'sending') AND n.next_attempt_at <= $2
RETURNING n.id, n.dedupe_key, n.kind, coalesce(n.account_id, 0), coalesce(n.target_channel, ''), coalesce(n.target_user, ''),
       coalesce(n.fallback_user, ''), coalesce(n.fallback_of, 0), n.note, n.payload, old.state, old.attempts,
       n.next_attempt_at, old.first_attempt_at, coalesce(n.slack_channel, ''), coalesce(n.slack_ts, ''),
       coalesce(n.last_error, ''), n.created_at`

// claimNotification marks notification id sending, and commits that
// before anything is posted. It returns the delivery to attempt; done when
// the notification needs nothing more (sent, failed, skipped, gone); or the
// wait before it falls due.
func (s *Store) claimNotification(ctx context.Context, id int64, attempt, maxAttempts int) (d csbot.Delivery, wait time.Duration, done bool, err error) {
	now := s.now()
	n, err := scanNotification(s.pool.QueryRow(ctx, claimSQL, id, now))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// Done, gone or not due: the rare path reads why.
		cur, err := s.Notification(ctx, id)
		switch {
		case errors.Is(err, csbot.ErrNotFound):
			return csbot.Delivery{}, 0, true, nil
		case err != nil:
			return csbot.Delivery{}, 0, false, fmt.Errorf("claim notification %d: %w", id, err)
		case cur.State != csbot.NotificationPending && cur.State != csbot.NotificationSending:
			return csbot.Delivery{}, 0, true, nil
		}
		return csbot.Delivery{}, max(cur.NotBefore.Sub(now), time.Millisecond), false, nil
	case err != nil:
		return csbot.Delivery{}, 0, false, fmt.Errorf("claim notification %d: %w", id, err)
	}
	d = csbot.Delivery{
		Notification: n,
		Attempt:      attempt,
		Final:        attempt >= maxAttempts,
		Uncertain:    n.State == csbot.NotificationSending,
	}
	if d.Notification.FirstAttemptAt.IsZero() {
		d.Notification.FirstAttemptAt = now
	}
	d.Notification.Attempts++
	d.Notification.State = csbot.NotificationSending
	return d, 0, false, nil
}

// scanNotification reads a row of notificationColumns (or claimSQL's).
func scanNotification(row pgx.Row) (csbot.Notification, error) {
	var n csbot.Notification
	var first *time.Time
	var payload []byte
	err := row.Scan(&n.ID, &n.Key, &n.Kind, &n.AccountID, &n.Channel, &n.User, &n.FallbackUser, &n.FallbackOf,
		&n.Note, &payload, &n.State, &n.Attempts, &n.NotBefore, &first, &n.SlackChannel, &n.SlackTS,
		&n.LastError, &n.CreatedAt)
	if err != nil {
		return csbot.Notification{}, err
	}
	n.Payload = payload
	if first != nil {
		n.FirstAttemptAt = *first
	}
	return n, nil
}

const (
	markSentSQL = `
UPDATE notifications
   SET state = 'sent', slack_channel = $2, slack_ts = $3, sent_at = $4, last_error = NULL, updated_at = $4
 WHERE id = $1`
	markStateSQL = `
UPDATE notifications SET state = $2, last_error = $3, updated_at = $4 WHERE id = $1`
)

// recordDelivery records the outcome of an attempt, with its fallback in
// the same transaction. It returns an error when River is to try again.
func (s *Store) recordDelivery(ctx context.Context, d csbot.Delivery, r csbot.DeliveryResult) error {
	n := d.Notification
	now := s.now()
	reason := r.Reason
	if reason == "" {
		reason = r.Status.String()
	}
	if r.Status == csbot.DeliverySent {
		if _, err := s.pool.Exec(ctx, markSentSQL, n.ID, r.Channel, r.TS, now); err != nil {
			return fmt.Errorf("record delivery of notification %d: %w", n.ID, err)
		}
		return nil
	}
	var retry error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		switch r.Status {
		case csbot.DeliverySent:
			_, err := tx.Exec(ctx, markSentSQL, n.ID, r.Channel, r.TS, now)
			return err
		case csbot.DeliveryRetry, csbot.DeliveryUnknown:
			state := csbot.NotificationPending
			if r.Status == csbot.DeliveryUnknown || d.Uncertain {
				// An attempt that may have posted stays sending until one
				// has looked in the channel's history.
				state = csbot.NotificationSending
			}
			if d.Final {
				state = csbot.NotificationFailed
				reason = fmt.Sprintf("gave up after %d attempts: %s", d.Attempt, reason)
			} else {
				retry = fmt.Errorf("notification %d (%s): %s", n.ID, n.Kind, reason)
			}
			_, err := tx.Exec(ctx, markStateSQL, n.ID, state, reason, now)
			return err
		case csbot.DeliveryFailed, csbot.DeliverySkipped:
			state := csbot.NotificationFailed
			if r.Status == csbot.DeliverySkipped {
				state = csbot.NotificationSkipped
			}
			if _, err := tx.Exec(ctx, markStateSQL, n.ID, state, reason, now); err != nil {
				return err
			}
			if r.Fallback == nil {
				return nil
			}
			fb := *r.Fallback
			fb.FallbackOf = n.ID
			_, _, err := s.insertNotification(ctx, tx, fb, now)
			return err
		}
		return fmt.Errorf("unknown delivery status %v", r.Status)
	})
	if err != nil {
		return fmt.Errorf("record delivery of notification %d: %w", n.ID, err)
	}
	if r.Status != csbot.DeliverySent && retry == nil {
		s.log.Warn("notification not sent", "notification", n.ID, "kind", n.Kind, "status", r.Status.String(),
			"reason", reason, "fallback", r.Fallback != nil)
	}
	return retry
}

// insertNotification writes n in tx, unless a notification with its key
// exists, and then enqueues its delivery in the same transaction. It
// returns n with its id and whether it was written. NotBefore defaults to
// now. It is insertNotifications for one.
func (s *Store) insertNotification(ctx context.Context, tx pgx.Tx, n csbot.Notification, now time.Time) (csbot.Notification, bool, error) {
	out, written, err := s.insertNotifications(ctx, tx, []csbot.Notification{n}, now)
	if err != nil {
		return n, false, err
	}
	return out[0], written[0], nil
}

const insertNotificationsSQL = `
INSERT INTO notifications (dedupe_key, kind, account_id, target_channel, target_user, fallback_user,
                           fallback_of, note, payload, next_attempt_at, created_at, updated_at)
SELECT u.key, u.kind, nullif(u.account, 0), nullif(u.channel, ''), nullif(u.usr, ''), nullif(u.fallback, ''),
       nullif(u.fallback_of, 0), u.note, u.payload::jsonb, u.not_before, $11, $11
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[],
              $9::text[], $10::timestamptz[])
       AS u(key, kind, account, channel, usr, fallback, fallback_of, note, payload, not_before)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id, dedupe_key`

// insertNotifications is insertNotification for many notifications at
// once: one INSERT and one batch of delivery jobs. It returns, in the
// order given, each notification with its id, and whether it was written
// (false: a notification with its key exists). Keys must differ.
func (s *Store) insertNotifications(ctx context.Context, tx pgx.Tx, ns []csbot.Notification, now time.Time) ([]csbot.Notification, []bool, error) {
	out := slices.Clone(ns)
	written := make([]bool, len(ns))
	if len(ns) == 0 {
		return out, written, nil
	}
	n := len(ns)
	keys, kinds, channels, users, fallbacks, notes, payloads := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	accounts, fallbackOf := make([]int64, n), make([]int64, n)
	notBefore := make([]time.Time, n)
	at := make(map[string]int, n)
	for i := range out {
		m := &out[i]
		if m.Key == "" || m.Kind == "" {
			return nil, nil, errors.New("notification without key or kind")
		}
		if m.Channel == "" && m.User == "" {
			return nil, nil, fmt.Errorf("notification %s has neither channel nor user", m.Key)
		}
		if _, dup := at[m.Key]; dup {
			return nil, nil, fmt.Errorf("notification %s twice in one batch", m.Key)
		}
		at[m.Key] = i
		if m.NotBefore.IsZero() || m.NotBefore.Before(now) {
			m.NotBefore = now
		}
		payload := string(m.Payload)
		if payload == "" {
			payload = "{}"
		}
		keys[i], kinds[i], accounts[i], channels[i], users[i] = m.Key, string(m.Kind), m.AccountID, m.Channel, m.User
		fallbacks[i], fallbackOf[i], notes[i], payloads[i], notBefore[i] = m.FallbackUser, m.FallbackOf, m.Note, payload, m.NotBefore
	}
	rows, err := tx.Query(ctx, insertNotificationsSQL, keys, kinds, accounts, channels, users, fallbacks, fallbackOf, notes, payloads, notBefore, now)
	if err != nil {
		return nil, nil, fmt.Errorf("insert notifications: %w", err)
	}
	var id int64
	var key string
	if _, err := pgx.ForEachRow(rows, []any{&id, &key}, func() error {
		i := at[key]
		out[i].ID, out[i].State, out[i].CreatedAt = id, csbot.NotificationPending, now
		written[i] = true
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("insert notifications: %w", err)
	}
	var jobs []river.InsertManyParams
	for i, w := range written {
		if !w {
			continue
		}
		jobs = append(jobs, river.InsertManyParams{Args: deliverArgs{Notification: out[i].ID},
			InsertOpts: s.jobOpts(out[i].NotBefore.Sub(now))})
	}
	if len(jobs) > 0 {
		if _, err := s.river.InsertManyTx(ctx, tx, jobs); err != nil {
			return nil, nil, fmt.Errorf("enqueue notifications: %w", err)
		}
	}
	return out, written, nil
}

// enqueue inserts the delivery job of notification id in tx, due after
// delay. A job due now is inserted available, so an idle worker takes it
// at once; a delayed one is scheduled relative to the queue's clock.
func (s *Store) enqueue(ctx context.Context, tx pgx.Tx, id int64, delay time.Duration) error {
	_, err := s.river.InsertTx(ctx, tx, deliverArgs{Notification: id}, s.jobOpts(delay))
	return err
}

// jobOpts are the insert options of a delivery job due after delay: none
// for a job due now (inserted available), else a time on the queue's
// clock.
func (s *Store) jobOpts(delay time.Duration) *river.InsertOpts {
	opts := &river.InsertOpts{}
	if delay > 0 {
		opts.ScheduledAt = s.queueNow().Add(delay)
	}
	return opts
}

// orphansSQL finds the notifications not yet done whose delivery job is
// gone: River discarded it after a last attempt that failed before its
// outcome was recorded (the process died, the database was out), or it
// was deleted. $1 is the cut-off: rows untouched since before it.
const orphansSQL = `
SELECT n.id, n.attempts, n.next_attempt_at
  FROM notifications n
 WHERE n.state IN ('pending', 'sending') AND n.updated_at < $1 AND n.next_attempt_at < $1
   AND NOT EXISTS (SELECT 1 FROM river_job j
                    WHERE j.kind = 'csbot_deliver' AND j.args @> jsonb_build_object('notification', n.id)
                      AND j.state IN ('available', 'pending', 'running', 'retryable', 'scheduled'))
 ORDER BY n.id
 LIMIT 1000
   FOR UPDATE OF n SKIP LOCKED`

// orphanGraceAttempts is how many rounds of attempts an orphan gets before
// it is recorded as failed.
const orphanGraceAttempts = 3

// RequeueOrphans gives every notification still to deliver whose delivery
// job is gone a new job, so that none is left behind; one whose attempts
// ran out several times over is recorded as failed instead. A row left
// sending is attempted as uncertain: its channel's history is searched
// before it is posted again. It returns how many it requeued and failed.
func (s *Store) RequeueOrphans(ctx context.Context, now time.Time) (requeued, failed int, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, orphansSQL, now.Add(-s.dcfg.RescueAfter))
		if err != nil {
			return err
		}
		type orphan struct {
			id       int64
			attempts int
		}
		var list []orphan
		var o orphan
		var due time.Time
		if _, err := pgx.ForEachRow(rows, []any{&o.id, &o.attempts, &due}, func() error {
			list = append(list, o)
			return nil
		}); err != nil {
			return err
		}
		for _, o := range list {
			if o.attempts >= orphanGraceAttempts*s.dcfg.MaxAttempts {
				if _, err := tx.Exec(ctx, markStateSQL, o.id, csbot.NotificationFailed,
					fmt.Sprintf("gave up after %d attempts whose outcome was never recorded", o.attempts), now); err != nil {
					return err
				}
				failed++
				continue
			}
			if err := s.enqueue(ctx, tx, o.id, 0); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE notifications SET updated_at = $2 WHERE id = $1`, o.id, now); err != nil {
				return err
			}
			requeued++
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("requeue orphaned notifications: %w", err)
	}
	if requeued+failed > 0 {
		s.log.Warn("notifications without a delivery job", "requeued", requeued, "failed", failed)
	}
	return requeued, failed, nil
}

// PendingNotifications counts the notifications not yet delivered that
// are due by at: pending, or sending (an attempt in flight or cut short).
func (s *Store) PendingNotifications(ctx context.Context, at time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
SELECT count(*) FROM notifications
 WHERE state IN ('pending', 'sending') AND next_attempt_at <= $1`, at).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pending notifications: %w", err)
	}
	return n, nil
}

// Notification returns the notification with id.
func (s *Store) Notification(ctx context.Context, id int64) (csbot.Notification, error) {
	n, err := scanNotification(s.pool.QueryRow(ctx, notificationByIDSQL, id))
	if err != nil {
		return csbot.Notification{}, fmt.Errorf("notification %d: %w", id, notFound(err))
	}
	return n, nil
}

const notificationByIDSQL = `SELECT` + notificationColumns + `
  FROM notifications
 WHERE id = $1`

// interface checks
var _ rivertype.TimeGenerator = riverTime{}

// RecentNotifications returns the newest notifications of a kind (every
// kind when kind is empty), newest first, at most limit.
func (s *Store) RecentNotifications(ctx context.Context, kind csbot.NotificationKind, limit int) ([]csbot.Notification, error) {
	rows, err := s.pool.Query(ctx, `SELECT`+notificationColumns+`
  FROM notifications
 WHERE $1 = '' OR kind = $1
 ORDER BY id DESC
 LIMIT $2`, kind, limit)
	if err != nil {
		return nil, fmt.Errorf("recent notifications: %w", err)
	}
	defer rows.Close()
	var out []csbot.Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("recent notifications: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent notifications: %w", err)
	}
	return out, nil
}
