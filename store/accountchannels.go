package store

import (
	"context"
	"fmt"

	"github.com/csbot/csbot"
)

// AccountsWithoutChannel returns the accounts that have no Slack channel
// linked, churned ones left out, by name: those csbot channels sync
// creates channels for.
func (s *Store) AccountsWithoutChannel(ctx context.Context) ([]csbot.Account, error) {
	const q = `SELECT ` + accountColumns + ` FROM accounts
		WHERE coalesce(slack_channel_id, '') = '' AND stage <> 'churned'
		ORDER BY lower(name), name, id`
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("accounts without a channel: %w", err)
	}
	accounts, err := collectAccounts(rows)
	if err != nil {
		return nil, fmt.Errorf("accounts without a channel: %w", err)
	}
	return accounts, nil
}

// AccountsWithChannel returns the accounts that have a Slack channel
// linked, by channel and then name: those csbot doctor checks in Slack.
func (s *Store) AccountsWithChannel(ctx context.Context) ([]csbot.Account, error) {
	const q = `SELECT ` + accountColumns + ` FROM accounts
		WHERE coalesce(slack_channel_id, '') <> ''
		ORDER BY slack_channel_id, lower(name), id`
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("accounts with a channel: %w", err)
	}
	accounts, err := collectAccounts(rows)
	if err != nil {
		return nil, fmt.Errorf("accounts with a channel: %w", err)
	}
	return accounts, nil
}
