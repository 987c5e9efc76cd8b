package store

import (
	"context"
	"fmt"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// BusiestCSM returns the user who is CSM of the most accounts (the first by
// Slack id on a tie), or csbot.ErrNotFound when no account has a CSM the
// users table knows. csbot try acts as them when no one is named.
func (s *Store) BusiestCSM(ctx context.Context) (csbot.User, error) {
	const q = `SELECT u.slack_id, u.role, u.name, u.email, u.manager_slack_id, u.timezone
		FROM users u JOIN accounts a ON a.csm_slack_id = u.slack_id
		GROUP BY u.slack_id ORDER BY count(*) DESC, u.slack_id LIMIT 1`
	rows, _ := s.pool.Query(ctx, q)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[userRow])
	if err != nil {
		return csbot.User{}, fmt.Errorf("busiest CSM: %w", notFound(err))
	}
	return r.toUser(), nil
}

// UsersWithoutTimezone returns up to limit users whose time zone is not
// known (NULL: never asked), people who get reminders or digests first:
// CSMs and managers.
func (s *Store) UsersWithoutTimezone(ctx context.Context, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
SELECT slack_id FROM users
 WHERE timezone IS NULL
 ORDER BY role IN ('csm', 'manager') DESC, slack_id
 LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("users without a time zone: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("users without a time zone: %w", err)
	}
	return ids, nil
}

// SetUserTimezone records the IANA time zone Slack gives for a user whose
// zone was not known; "" records that Slack gives none, so that csbot does
// not ask again. A zone set by an import is never replaced.
func (s *Store) SetUserTimezone(ctx context.Context, slackID, tz string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE users SET timezone = $2, updated_at = now() WHERE slack_id = $1 AND timezone IS NULL`,
		slackID, tz); err != nil {
		return fmt.Errorf("set time zone of %s: %w", slackID, err)
	}
	return nil
}
