package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// alertsOfMessageSQL selects the live alerts shown by the message of a
// notification: those of its payload (a fallback carries its original's
// payload, so its alerts are the same).
const alertsOfMessageSQL = `
SELECT a.id, a.account_id, a.kind
  FROM notifications n
  CROSS JOIN LATERAL jsonb_array_elements(n.payload -> 'items') AS it
  JOIN alerts a ON a.id = (it ->> 'alert_id')::bigint
 WHERE n.id = $1 AND n.kind = 'alert' AND a.state IN ('open', 'escalated', 'acknowledged')
 ORDER BY a.id
 FOR UPDATE OF a`

// messageAlert is a live alert of a message.
type messageAlert struct {
	id, account int64
	kind        string
}

func (s *Store) alertsOfMessage(ctx context.Context, tx pgx.Tx, notification int64) ([]messageAlert, error) {
	rows, err := tx.Query(ctx, alertsOfMessageSQL, notification)
	if err != nil {
		return nil, err
	}
	var out []messageAlert
	var a messageAlert
	_, err = pgx.ForEachRow(rows, []any{&a.id, &a.account, &a.kind}, func() error {
		out = append(out, a)
		return nil
	})
	return out, err
}

// AckAlerts records that by acknowledged the live alerts of an alert
// message (notification id) at at, with an audit entry; alerts already
// acknowledged keep their first acknowledgement. It returns how many it
// acknowledged.
func (s *Store) AckAlerts(ctx context.Context, notification int64, by string, at time.Time) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		alerts, err := s.alertsOfMessage(ctx, tx, notification)
		if err != nil {
			return err
		}
		for _, a := range alerts {
			tag, err := tx.Exec(ctx, `
UPDATE alerts SET state = 'acknowledged', acked_by_slack_id = $2, acked_at = $3, updated_at = $3
 WHERE id = $1 AND state IN ('open', 'escalated')`, a.id, by, at)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				continue
			}
			n++
			if err := audit(ctx, tx, at, by, "alert_acknowledged", a.account, map[string]any{"alert": a.id, "kind": a.kind}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("acknowledge alerts of notification %d: %w", notification, err)
	}
	return n, nil
}

// SnoozeAlerts snoozes, until until, the signal kinds of the live alerts of
// an alert message on their accounts: those alerts stop escalating, and
// new alerts of those kinds on those accounts are recorded without a
// message until then. It returns the kinds snoozed.
func (s *Store) SnoozeAlerts(ctx context.Context, notification int64, by string, at, until time.Time) ([]csbot.SignalKind, error) {
	var kinds []csbot.SignalKind
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		alerts, err := s.alertsOfMessage(ctx, tx, notification)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, a := range alerts {
			if _, err := tx.Exec(ctx, `
UPDATE alerts SET state = 'snoozed', snoozed_until = $2, updated_at = $3 WHERE id = $1`, a.id, until, at); err != nil {
				return err
			}
			key := fmt.Sprintf("%d/%s", a.account, a.kind)
			if seen[key] {
				continue
			}
			seen[key] = true
			kinds = append(kinds, csbot.SignalKind(a.kind))
			if _, err := tx.Exec(ctx, `
INSERT INTO alert_snoozes (account_id, kind, until, by_slack_id, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (account_id, kind) DO UPDATE SET until = excluded.until, by_slack_id = excluded.by_slack_id,
                                            created_at = excluded.created_at`, a.account, a.kind, until, by, at); err != nil {
				return err
			}
			if err := audit(ctx, tx, at, by, "alert_snoozed", a.account, map[string]any{"alert": a.id, "kind": a.kind, "until": until}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("snooze alerts of notification %d: %w", notification, err)
	}
	return kinds, nil
}

// audit writes an audit_log entry in tx.
func audit(ctx context.Context, tx pgx.Tx, at time.Time, actor, action string, account int64, details map[string]any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (at, actor, action, account_id, details) VALUES ($1, $2, $3, nullif($4, 0::bigint), $5)`,
		at, actor, action, account, b)
	return err
}

// SnoozeReminder puts off a renewal reminder (notification id): the same
// reminder is sent again at until, once, to the same place, and the
// snooze is recorded on the reminder with an audit entry. It returns the
// follow-up notification. Snoozing again while a follow-up is still to
// be sent moves that follow-up to until rather than adding another.
func (s *Store) SnoozeReminder(ctx context.Context, notification int64, by string, at, until time.Time) (csbot.Notification, error) {
	var out csbot.Notification
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		orig, err := scanNotification(tx.QueryRow(ctx, `SELECT`+notificationColumns+`
  FROM notifications WHERE id = $1 AND kind = 'renewal_reminder' FOR UPDATE`, notification))
		if err != nil {
			return notFound(err)
		}
		base := orig.Key
		if i := strings.Index(base, "/again:"); i >= 0 {
			base = base[:i]
		}
		// A follow-up still to be sent is moved; its job finds it not due
		// yet and waits.
		pending, err := scanNotification(tx.QueryRow(ctx, `SELECT`+notificationColumns+`
  FROM notifications
 WHERE dedupe_key LIKE $1 AND kind = 'renewal_reminder' AND state = 'pending' AND attempts = 0
 ORDER BY id DESC LIMIT 1 FOR UPDATE`, base+"/again:%"))
		switch {
		case err == nil:
			if _, err := tx.Exec(ctx, `UPDATE notifications SET next_attempt_at = $2, updated_at = $3 WHERE id = $1`,
				pending.ID, until, at); err != nil {
				return err
			}
			pending.NotBefore = until
			out = pending
		case errors.Is(err, pgx.ErrNoRows):
			var sent int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE dedupe_key LIKE $1`, base+"/again:%").Scan(&sent); err != nil {
				return err
			}
			follow := orig
			follow.ID, follow.FallbackOf = 0, 0
			follow.Key = fmt.Sprintf("%s/again:%d", base, sent+1)
			follow.NotBefore = until
			if orig.SlackChannel != "" {
				follow.Channel = orig.SlackChannel
				follow.User = ""
			}
			n, _, err := s.insertNotification(ctx, tx, follow, at)
			if err != nil {
				return err
			}
			out = n
		default:
			return err
		}
		if _, err := tx.Exec(ctx, `
UPDATE reminders SET snoozed_until = $2, snoozed_by = $3 WHERE notification_id = $1`, notification, until, by); err != nil {
			return err
		}
		return audit(ctx, tx, at, by, "reminder_snoozed", orig.AccountID, map[string]any{"notification": notification, "until": until})
	})
	if err != nil {
		return csbot.Notification{}, fmt.Errorf("snooze reminder %d: %w", notification, err)
	}
	return out, nil
}
