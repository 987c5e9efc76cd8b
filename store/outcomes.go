package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// ErrRenewalClosed is returned by RecordRenewalOutcome when the renewal is
// no longer open: its outcome is recorded already.
const ErrRenewalClosed = conflictError("the renewal is no longer open")

// renewalOutcomeRecorded is the details of a renewal_outcome_recorded
// audit_log row.
type renewalOutcomeRecorded struct {
	RenewalID int64  `json:"renewal_id"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
	OldARR    int64  `json:"old_arr_cents"`
	NewARR    int64  `json:"new_arr_cents"`
	Reason    string `json:"reason,omitempty"`
}

// RenewalByID returns the renewal with internal id id, or
// csbot.ErrNotFound.
func (s *Store) RenewalByID(ctx context.Context, id int64) (csbot.Renewal, error) {
	const q = `SELECT ` + renewalColumnsR + ` FROM renewals r WHERE r.id = $1`
	var r renewalRow
	if err := s.pool.QueryRow(ctx, q, id).Scan(r.fields()...); err != nil {
		return csbot.Renewal{}, fmt.Errorf("renewal %d: %w", id, notFound(err))
	}
	return r.toRenewal(), nil
}

// OutcomeRecordedBy returns who (a Slack user id) recorded the outcome of
// the renewal with internal id renewalID through RecordRenewalOutcome, and
// when: the latest record when there are several. It returns "" and the
// zero time when nobody did, as for an open renewal or an outcome that came
// in with an import.
func (s *Store) OutcomeRecordedBy(ctx context.Context, renewalID int64) (string, time.Time, error) {
	const q = `SELECT a.actor, a.at FROM audit_log a JOIN renewals r ON r.account_id = a.account_id
		WHERE r.id = $1 AND a.action = 'renewal_outcome_recorded'
			AND a.details @> jsonb_build_object('renewal_id', r.id)
		ORDER BY a.at DESC, a.id DESC LIMIT 1`
	var by string
	var at time.Time
	err := s.pool.QueryRow(ctx, q, renewalID).Scan(&by, &at)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", time.Time{}, nil
	case err != nil:
		return "", time.Time{}, fmt.Errorf("outcome of renewal %d: %w", renewalID, err)
	}
	return by, at.UTC(), nil
}

// RecordRenewalOutcome closes the open renewal with internal id renewalID
// as status (renewed, expanded, downsell or churned), at the time at, for
// the user by (a Slack user id): in one transaction it sets the renewal's
// status and outcome reason (cleared when reason is empty), its ARR when
// arr is not nil, writes a renewal_outcome_recorded row in the audit log
// with the old and new status and ARR, and, for a churn, moves the account
// to the churned stage. Whether by may record it is the caller's to decide.
// It returns the renewal as recorded; csbot.ErrNotFound when the renewal
// does not exist; ErrRenewalClosed, changing nothing, when it is not open;
// and an error when status is open or unknown, arr is negative, or by or at
// is missing.
func (s *Store) RecordRenewalOutcome(ctx context.Context, renewalID int64, status csbot.RenewalStatus, arr *csbot.Cents,
	reason, by string, at time.Time) (csbot.Renewal, error) {
	const lock = `SELECT ` + renewalColumnsR + ` FROM renewals r WHERE r.id = $1 FOR UPDATE`
	const update = `UPDATE renewals r SET status = $2, outcome_reason = NULLIF($3, ''),
			arr_cents = coalesce($4, r.arr_cents), updated_at = $5
		WHERE r.id = $1
		RETURNING ` + renewalColumnsR
	const churn = `UPDATE accounts SET stage = 'churned', updated_at = $2 WHERE id = $1`
	const audit = `INSERT INTO audit_log (at, actor, action, account_id, details)
		VALUES ($1, $2, 'renewal_outcome_recorded', $3, $4)`
	switch {
	case status == csbot.RenewalOpen || !slices.Contains(csbot.RenewalStatuses(), status):
		return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: %q is not an outcome", renewalID, status)
	case arr != nil && *arr < 0:
		return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: negative ARR", renewalID)
	case by == "":
		return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: nobody recorded it", renewalID)
	case at.IsZero():
		return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: no time", renewalID)
	}
	var newARR *int64
	if arr != nil {
		n := int64(*arr)
		newARR = &n
	}

	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: %w", renewalID, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	var row renewalRow
	if err := tx.QueryRow(ctx, lock, renewalID).Scan(row.fields()...); err != nil {
		return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: %w", renewalID, notFound(err))
	}
	old := row.toRenewal()
	if old.Status != csbot.RenewalOpen {
		return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: %w", renewalID, ErrRenewalClosed)
	}
	if err := tx.QueryRow(ctx, update, renewalID, string(status), reason, newARR, at).Scan(row.fields()...); err != nil {
		return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: %w", renewalID, err)
	}
	rec := row.toRenewal()
	if status == csbot.RenewalChurned {
		if _, err := tx.Exec(ctx, churn, rec.AccountID, at); err != nil {
			return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: churn account %d: %w", renewalID, rec.AccountID, err)
		}
	}
	js, err := json.Marshal(renewalOutcomeRecorded{RenewalID: renewalID, OldStatus: string(old.Status), NewStatus: string(rec.Status),
		OldARR: int64(old.ARR), NewARR: int64(rec.ARR), Reason: rec.OutcomeReason})
	if err != nil {
		return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: %w", renewalID, err)
	}
	if _, err := tx.Exec(ctx, audit, at, by, rec.AccountID, js); err != nil {
		return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: audit: %w", renewalID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return csbot.Renewal{}, fmt.Errorf("record outcome of renewal %d: commit: %w", renewalID, err)
	}
	return rec, nil
}
