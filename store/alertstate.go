package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

const alertStatusesSQL = `
SELECT id, state, coalesce(acked_by_slack_id, ''), acked_at, snoozed_until, resolved_at
  FROM alerts
 WHERE id = ANY($1::bigint[])`

// AlertStatuses returns where the alerts with the ids stand now; ids
// without an alert are left out.
func (s *Store) AlertStatuses(ctx context.Context, ids []int64) (map[int64]csbot.AlertStatus, error) {
	out := make(map[int64]csbot.AlertStatus, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, alertStatusesSQL, ids)
	if err != nil {
		return nil, fmt.Errorf("alert statuses: %w", err)
	}
	var st csbot.AlertStatus
	var acked, snoozed, resolved *time.Time
	_, err = pgx.ForEachRow(rows, []any{&st.ID, &st.State, &st.AckedBy, &acked, &snoozed, &resolved}, func() error {
		st.AckedAt, st.SnoozedUntil, st.ResolvedAt = deref(acked), deref(snoozed), deref(resolved)
		out[st.ID] = st
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("alert statuses: %w", err)
	}
	return out, nil
}

const postedAsSQL = `
WITH RECURSIVE chain AS (
    SELECT n.id, 0 AS depth FROM notifications n WHERE n.id = $1
    UNION ALL
    SELECT f.id, c.depth + 1 FROM notifications f JOIN chain c ON f.fallback_of = c.id WHERE c.depth < 10
)
SELECT` + notificationColumns + `
  FROM notifications
 WHERE id IN (SELECT id FROM chain) AND state IN ('sent', 'pending', 'sending')
 ORDER BY state = 'sent' DESC, id
 LIMIT 1`

// PostedAs returns the notification that carries the message of
// notification id: itself once sent, else the sent fallback made from it
// (a DM to the CSM when the channel refused it), followed down the chain.
// It returns csbot.ErrNotYet while none is sent and one is still to be
// delivered, and csbot.ErrNotFound when none was sent nor will be.
func (s *Store) PostedAs(ctx context.Context, id int64) (csbot.Notification, error) {
	n, err := scanNotification(s.pool.QueryRow(ctx, postedAsSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return csbot.Notification{}, fmt.Errorf("message of notification %d: %w", id, csbot.ErrNotFound)
	}
	if err != nil {
		return csbot.Notification{}, fmt.Errorf("message of notification %d: %w", id, err)
	}
	if n.State != csbot.NotificationSent {
		return csbot.Notification{}, fmt.Errorf("message of notification %d: %w", id, csbot.ErrNotYet)
	}
	return n, nil
}
