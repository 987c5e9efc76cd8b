package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/csbot/csbot"
)

// AddOverride records a CSM's own view of an account's health, with who
// made it and when it expires, and a health_overridden entry in the audit
// log (its note left out), in one statement, and returns it with its id.
// Whether the author may override is the caller's to decide
// (csbot.CanOverride); the override itself must be valid
// (csbot.HealthOverride.Validate). It returns csbot.ErrNotFound when the
// account does not exist.
func (s *Store) AddOverride(ctx context.Context, o csbot.HealthOverride) (csbot.HealthOverride, error) {
	if err := o.Validate(); err != nil {
		return o, fmt.Errorf("add override: %w", err)
	}
	const q = `WITH o AS (
		INSERT INTO health_overrides (account_id, score, band, note, by_slack_id, created_at, expires_at)
		SELECT id, $2, $3, $4, $5, $6, $7 FROM accounts WHERE id = $1
		RETURNING id, account_id
	), audit AS (
		INSERT INTO audit_log (at, actor, action, account_id, details)
		SELECT $6, $5, 'health_overridden', o.account_id,
		       jsonb_build_object('override', o.id, 'score', $2::int, 'band', $3::text, 'expires_at', $7::timestamptz)
		  FROM o
	)
	SELECT id FROM o`
	var score *int
	if o.HasScore {
		score = &o.Score
	}
	var band *string
	if o.Band != "" {
		b := string(o.Band)
		band = &b
	}
	err := s.pool.QueryRow(ctx, q, o.AccountID, score, band, o.Note, o.By, o.CreatedAt, o.ExpiresAt).Scan(&o.ID)
	if err != nil {
		return o, fmt.Errorf("add override for account %d: %w", o.AccountID, notFound(err))
	}
	return o, nil
}

// ManagerOf returns the Slack id of the manager of the user with Slack id
// userID, or "" when the user or their manager is unknown.
func (s *Store) ManagerOf(ctx context.Context, userID string) (string, error) {
	var m *string
	err := s.pool.QueryRow(ctx, `SELECT manager_slack_id FROM users WHERE slack_id = $1`, userID).Scan(&m)
	if err != nil {
		if errors.Is(notFound(err), csbot.ErrNotFound) {
			return "", nil
		}
		return "", fmt.Errorf("manager of %s: %w", userID, err)
	}
	return deref(m), nil
}
