package store

import (
	"context"
	"fmt"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// accountRow is an accounts row as stored.
type accountRow struct {
	ID             int64
	ExternalID     string
	Name           string
	Domain         *string
	Tier           string
	ARRCents       int64
	Stage          string
	CSMSlackID     *string
	AESlackID      *string
	SlackChannelID *string
	LicensedSeats  *int32
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

const accountColumns = `id, external_id, name, domain, tier, arr_cents, stage, csm_slack_id, ae_slack_id,
	slack_channel_id, licensed_seats, created_at, updated_at`

func (r accountRow) toAccount() csbot.Account {
	return csbot.Account{
		ID: r.ID, ExternalID: r.ExternalID, Name: r.Name, Domain: deref(r.Domain),
		Tier: csbot.Tier(r.Tier), ARR: csbot.Cents(r.ARRCents), Stage: csbot.Stage(r.Stage),
		CSMUserID: deref(r.CSMSlackID), AEUserID: deref(r.AESlackID), SlackChannelID: deref(r.SlackChannelID),
		LicensedSeats: int(deref(r.LicensedSeats)), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// AccountByExternalID returns the account with the CRM id extID, or
// csbot.ErrNotFound.
func (s *Store) AccountByExternalID(ctx context.Context, extID string) (csbot.Account, error) {
	const q = `SELECT ` + accountColumns + ` FROM accounts WHERE external_id = $1`
	a, err := s.oneAccount(ctx, q, extID)
	if err != nil {
		return a, fmt.Errorf("account %q: %w", extID, err)
	}
	return a, nil
}

// oneAccount runs q, which selects accountColumns of at most one account,
// and returns csbot.ErrNotFound when it finds none.
func (s *Store) oneAccount(ctx context.Context, q string, arg any) (csbot.Account, error) {
	rows, _ := s.pool.Query(ctx, q, arg)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[accountRow])
	if err != nil {
		return csbot.Account{}, notFound(err)
	}
	return r.toAccount(), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// AccountByID returns the account with internal id id, or
// csbot.ErrNotFound.
func (s *Store) AccountByID(ctx context.Context, id int64) (csbot.Account, error) {
	const q = `SELECT ` + accountColumns + ` FROM accounts WHERE id = $1`
	a, err := s.oneAccount(ctx, q, id)
	if err != nil {
		return a, fmt.Errorf("account %d: %w", id, err)
	}
	return a, nil
}
