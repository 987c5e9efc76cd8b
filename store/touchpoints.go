package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5/pgconn"
)

// conflictError is an error of a change that clashes with what the
// database already holds. Its Conflict method lets packages that may not
// import store (commands) tell it from a failure, with errors.As.
type conflictError string

func (e conflictError) Error() string { return string(e) }

// Conflict reports that the error is a conflict, not a failure.
func (conflictError) Conflict() bool { return true }

// ErrTouchpointExists is returned by AddTouchpoint when the account
// already has a touchpoint of the same kind at the same instant.
const ErrTouchpointExists = conflictError("a touchpoint of this kind is already logged at that time")

// AddTouchpoint records a contact with an account (a meeting, a call...)
// and returns it with its id and its time as stored (to the microsecond).
// Its summary and author may be empty. It returns csbot.ErrNotFound when
// the account does not exist, ErrTouchpointExists when the account has a
// touchpoint of that kind at that very time, and an error when the kind is
// unknown or the time is missing.
func (s *Store) AddTouchpoint(ctx context.Context, t csbot.Touchpoint) (csbot.Touchpoint, error) {
	const q = `INSERT INTO touchpoints (account_id, at, kind, summary, user_slack_id)
		SELECT id, $2, $3, NULLIF($4, ''), NULLIF($5, '') FROM accounts WHERE id = $1
		RETURNING id, at`
	switch {
	case !slices.Contains(csbot.TouchKinds(), t.Kind):
		return t, fmt.Errorf("add touchpoint to account %d: unknown kind %q", t.AccountID, t.Kind)
	case t.At.IsZero():
		return t, fmt.Errorf("add touchpoint to account %d: no time", t.AccountID)
	}
	var at time.Time
	err := s.pool.QueryRow(ctx, q, t.AccountID, t.At, string(t.Kind), t.Summary, t.UserID).Scan(&t.ID, &at)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "touchpoints_natural_key":
		return t, fmt.Errorf("add touchpoint to account %d: %w", t.AccountID, ErrTouchpointExists)
	case errors.As(err, &pgErr) && pgErr.Code == "23503":
		// The account was deleted between the SELECT and the insert.
		return t, fmt.Errorf("add touchpoint to account %d: %w", t.AccountID, csbot.ErrNotFound)
	case err != nil:
		return t, fmt.Errorf("add touchpoint to account %d: %w", t.AccountID, notFound(err))
	}
	t.At = at.UTC()
	return t, nil
}
