package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
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

// LinkNewChannel links the Slack channel channelID to the account with
// internal id accountID only if the account still has no channel and no
// other account has channelID, and then records in the audit log that
// actor (a Slack user id, or csbot.AuditActorCLI) did so, as LinkChannel
// does, all in one transaction. It is how csbot links a channel it found
// or created for an account from a list read earlier (csbot channels
// sync, "Create account channel"): unlike LinkChannel it never relinks an
// account nor takes a channel from another, so a link made meanwhile
// (`/health link`, another click) stands. linked is false, changing and
// recording nothing, when the account got a channel meanwhile or another
// account has channelID. It returns csbot.ErrNotFound when the account
// does not exist, and an error when channelID is not a Slack channel id.
func (s *Store) LinkNewChannel(ctx context.Context, accountID int64, channelID, actor string) (linked bool, err error) {
	// The lock serialises this with every other link of the channel, so
	// the NOT EXISTS below reads the links committed before it; the row
	// lock of the UPDATE serialises it with any link of the account, and
	// the WHERE is checked again on the row as a link before it left it.
	const link = `UPDATE accounts SET slack_channel_id = $2, updated_at = now()
		WHERE id = $1 AND coalesce(slack_channel_id, '') = ''
			AND NOT EXISTS (SELECT 1 FROM accounts other WHERE other.slack_channel_id = $2 AND other.id <> $1)
		RETURNING id`
	const exists = `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)`
	if !csbot.IsSlackChannelID(channelID) {
		return false, fmt.Errorf("link new channel %q to account %d: not a Slack channel id", channelID, accountID)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("link new channel %s to account %d: %w", channelID, accountID, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, linkChannelLock, channelID); err != nil {
		return false, fmt.Errorf("link new channel %s to account %d: %w", channelID, accountID, err)
	}
	var id int64
	switch err := tx.QueryRow(ctx, link, accountID, channelID).Scan(&id); {
	case errors.Is(err, pgx.ErrNoRows):
		var found bool
		if err := tx.QueryRow(ctx, exists, accountID).Scan(&found); err != nil {
			return false, fmt.Errorf("link new channel %s to account %d: %w", channelID, accountID, err)
		}
		if !found {
			return false, fmt.Errorf("link new channel %s to account %d: %w", channelID, accountID, csbot.ErrNotFound)
		}
		return false, nil
	case err != nil:
		return false, fmt.Errorf("link new channel %s to account %d: %w", channelID, accountID, err)
	}
	js, err := json.Marshal(channelLinked{Channel: channelID, Unlinked: []int64{}})
	if err != nil {
		return false, fmt.Errorf("link new channel %s to account %d: %w", channelID, accountID, err)
	}
	if _, err := tx.Exec(ctx, channelLinkedAudit, actor, accountID, js); err != nil {
		return false, fmt.Errorf("link new channel %s to account %d: audit: %w", channelID, accountID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("link new channel %s to account %d: commit: %w", channelID, accountID, err)
	}
	return true, nil
}
