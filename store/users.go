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
