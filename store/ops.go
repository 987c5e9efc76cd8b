package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// SchemaStatus compares the migrations a database has with those this
// build embeds: csbot's own (tern) and River's (the delivery queue).
type SchemaStatus struct {
	// Applied is csbot's schema version in the database (0 before the
	// first migration), Embedded the number of migrations this build has.
	Applied, Embedded int32
	// RiverApplied is the newest River migration in the database (0
	// before the first), RiverEmbedded the newest this build's River has.
	RiverApplied, RiverEmbedded int
}

// Behind reports whether the database lacks migrations this build has:
// this build cannot run on it until `csbot migrate` (or a start) applies
// them.
func (s SchemaStatus) Behind() bool {
	return s.Applied < s.Embedded || s.RiverApplied < s.RiverEmbedded
}

// Ahead reports whether the database has migrations this build does not
// know, as when a newer replica has migrated it during a rolling upgrade.
// Migrations only add, so an older build keeps working on it.
func (s SchemaStatus) Ahead() bool {
	return s.Applied > s.Embedded || s.RiverApplied > s.RiverEmbedded
}

// String describes the status for a person, e.g. "csbot 9/9, river 6/6".
func (s SchemaStatus) String() string {
	return fmt.Sprintf("csbot %d/%d, river %d/%d", s.Applied, s.Embedded, s.RiverApplied, s.RiverEmbedded)
}

// SchemaStatus reads which migrations the database has and compares them
// with what this build embeds. It only reads; it never migrates.
func (s *Store) SchemaStatus(ctx context.Context) (SchemaStatus, error) {
	var st SchemaStatus
	var err error
	if st.Embedded, err = SchemaVersion(); err != nil {
		return st, err
	}
	rm, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return st, fmt.Errorf("schema status: river: %w", err)
	}
	if all := rm.AllVersions(); len(all) > 0 {
		st.RiverEmbedded = all[len(all)-1].Version
	}
	// tern keeps one row with the version; River one row per migration.
	// A table not there yet means nothing applied.
	const q = `SELECT version FROM ` + versionTable
	if err := s.pool.QueryRow(ctx, q).Scan(&st.Applied); err != nil && !undefinedTable(err) && !errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("schema status: csbot version: %w", err)
	}
	const rq = `SELECT coalesce(max(version), 0) FROM river_migration WHERE line = 'main'`
	if err := s.pool.QueryRow(ctx, rq).Scan(&st.RiverApplied); err != nil && !undefinedTable(err) {
		return st, fmt.Errorf("schema status: river version: %w", err)
	}
	return st, nil
}

// undefinedTable reports whether err is PostgreSQL's undefined_table.
func undefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}

// QueueStats is the state of the notification delivery queue at a moment.
type QueueStats struct {
	// Due counts the notifications to deliver that are due: pending, or
	// sending (an attempt in flight or cut short).
	Due int
	// Scheduled counts those to deliver later (a delay, or a retry's
	// backoff).
	Scheduled int
	// OldestDue is how long the longest-waiting due notification has been
	// waiting since it first fell due (its first attempt, or its due time
	// when none was made); 0 when none is due.
	OldestDue time.Duration
}

// queueStatsSQL reads the queue in one pass over the partial index of
// undelivered notifications.
const queueStatsSQL = `
SELECT count(*) FILTER (WHERE next_attempt_at <= $1),
       count(*) FILTER (WHERE next_attempt_at > $1),
       min(coalesce(first_attempt_at, next_attempt_at)) FILTER (WHERE next_attempt_at <= $1)
  FROM notifications
 WHERE state IN ('pending', 'sending')`

// QueueStats returns the state of the delivery queue at at.
func (s *Store) QueueStats(ctx context.Context, at time.Time) (QueueStats, error) {
	var q QueueStats
	var oldest *time.Time
	if err := s.pool.QueryRow(ctx, queueStatsSQL, at).Scan(&q.Due, &q.Scheduled, &oldest); err != nil {
		return QueueStats{}, fmt.Errorf("queue stats: %w", err)
	}
	if oldest != nil && at.After(*oldest) {
		q.OldestDue = at.Sub(*oldest)
	}
	return q, nil
}
