package store

import (
	"context"
	"fmt"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// SetupGaps is what is missing from the data for csbot to work well, as
// csbot doctor reports it. Each list holds at most the limit asked for,
// first things first; its Total counts them all.
type SetupGaps struct {
	// UsersWithoutTimezone have no time zone (none imported, and Slack
	// gave none or was not asked yet): their reminders and digests follow
	// CSBOT_TIMEZONE. CSMs and managers first.
	UsersWithoutTimezone      []csbot.User
	UsersWithoutTimezoneTotal int
	// AccountsWithoutCSM have nobody to alert; largest ARR first, churned
	// accounts left out.
	AccountsWithoutCSM      []csbot.Account
	AccountsWithoutCSMTotal int
	// AccountsWithoutRenewalContact have no active renewal contact: asking
	// the wrong person is a top reason renewals slip. Largest ARR first,
	// churned accounts left out.
	AccountsWithoutRenewalContact      []csbot.Account
	AccountsWithoutRenewalContactTotal int
}

// SetupGaps returns what is missing from the data, each list capped at
// limit (at least 1).
func (s *Store) SetupGaps(ctx context.Context, limit int) (SetupGaps, error) {
	const users = `SELECT slack_id, role, name, email, manager_slack_id, timezone, count(*) OVER ()
		FROM users WHERE coalesce(timezone, '') = ''
		ORDER BY role IN ('csm', 'manager') DESC, slack_id
		LIMIT $1`
	const noCSM = `SELECT ` + accountColumns + `, count(*) OVER () FROM accounts
		WHERE coalesce(csm_slack_id, '') = '' AND stage <> 'churned'
		ORDER BY arr_cents DESC, lower(name), id
		LIMIT $1`
	const noRenewalContact = `SELECT ` + accountColumnsA + `, count(*) OVER () FROM accounts a
		WHERE a.stage <> 'churned'
		  AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = a.id AND c.role = 'renewal' AND c.active)
		ORDER BY a.arr_cents DESC, lower(a.name), a.id
		LIMIT $1`
	limit = max(limit, 1)
	var g SetupGaps
	rows, err := s.pool.Query(ctx, users, limit)
	if err != nil {
		return g, fmt.Errorf("users without a time zone: %w", err)
	}
	var u userRow
	_, err = pgx.ForEachRow(rows, []any{&u.SlackID, &u.Role, &u.Name, &u.Email, &u.ManagerSlackID, &u.Timezone, &g.UsersWithoutTimezoneTotal}, func() error {
		g.UsersWithoutTimezone = append(g.UsersWithoutTimezone, u.toUser())
		return nil
	})
	if err != nil {
		return g, fmt.Errorf("users without a time zone: %w", err)
	}
	if g.AccountsWithoutCSM, g.AccountsWithoutCSMTotal, err = s.countedAccounts(ctx, noCSM, limit); err != nil {
		return g, fmt.Errorf("accounts without a CSM: %w", err)
	}
	if g.AccountsWithoutRenewalContact, g.AccountsWithoutRenewalContactTotal, err = s.countedAccounts(ctx, noRenewalContact, limit); err != nil {
		return g, fmt.Errorf("accounts without a renewal contact: %w", err)
	}
	return g, nil
}

// countedAccounts runs q, which selects accountColumns and the count of
// every row it would select, with limit.
func (s *Store) countedAccounts(ctx context.Context, q string, limit int) ([]csbot.Account, int, error) {
	rows, err := s.pool.Query(ctx, q, limit)
	if err != nil {
		return nil, 0, err
	}
	var out []csbot.Account
	var total int
	var r accountRow
	_, err = pgx.ForEachRow(rows, append(r.fields(), &total), func() error {
		out = append(out, r.toAccount())
		return nil
	})
	return out, total, err
}
