package store

import (
	"context"
	"fmt"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// ClaimDelivery records that the Slack delivery with key is being handled,
// at time at, and reports whether this was the first claim of that key.
// Replicas sharing the database agree: of any number of concurrent claims of
// one key, exactly one returns true. A key stays claimed until
// PruneDeliveries removes it.
func (s *Store) ClaimDelivery(ctx context.Context, key string, at time.Time) (first bool, err error) {
	const q = `INSERT INTO slack_deliveries (key, claimed_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`
	tag, err := s.pool.Exec(ctx, q, key, at)
	if err != nil {
		return false, fmt.Errorf("claim delivery %q: %w", key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// PruneDeliveries forgets the delivery keys claimed before before and
// returns how many it removed.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	const q = `DELETE FROM slack_deliveries WHERE claimed_at < $1`
	tag, err := s.pool.Exec(ctx, q, before)
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	return tag.RowsAffected(), nil
}

// userRow is a users row as read for Slack.
type userRow struct {
	SlackID        string
	Role           string
	Name           string
	Email          *string
	ManagerSlackID *string
	Timezone       *string
}

func (r userRow) toUser() csbot.User {
	return csbot.User{
		SlackID: r.SlackID, Role: csbot.UserRole(r.Role), Name: r.Name, Email: deref(r.Email),
		ManagerSlackID: deref(r.ManagerSlackID), Timezone: deref(r.Timezone),
	}
}

// UserBySlackID returns the member of the team with Slack user id slackID,
// or csbot.ErrNotFound when the users table does not know them.
func (s *Store) UserBySlackID(ctx context.Context, slackID string) (csbot.User, error) {
	const q = `SELECT slack_id, role, name, email, manager_slack_id, timezone FROM users WHERE slack_id = $1`
	rows, _ := s.pool.Query(ctx, q, slackID)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[userRow])
	if err != nil {
		return csbot.User{}, fmt.Errorf("user %s: %w", slackID, notFound(err))
	}
	return r.toUser(), nil
}
