package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// AccountsByChannel returns the accounts linked to the Slack channel
// channelID, by name; none when there are none.
func (s *Store) AccountsByChannel(ctx context.Context, channelID string) ([]csbot.Account, error) {
	const q = `SELECT ` + accountColumns + ` FROM accounts WHERE slack_channel_id = $1 ORDER BY lower(name), name, id`
	rows, err := s.pool.Query(ctx, q, channelID)
	if err != nil {
		return nil, fmt.Errorf("accounts of channel %s: %w", channelID, err)
	}
	accounts, err := collectAccounts(rows)
	if err != nil {
		return nil, fmt.Errorf("accounts of channel %s: %w", channelID, err)
	}
	return accounts, nil
}

// collectAccounts reads rows of accountColumns.
func collectAccounts(rows pgx.Rows) ([]csbot.Account, error) {
	var out []csbot.Account
	var r accountRow
	_, err := pgx.ForEachRow(rows, r.fields(), func() error {
		out = append(out, r.toAccount())
		return nil
	})
	return out, err
}

// channelLinked is the details of a channel_linked audit_log row.
type channelLinked struct {
	Channel string `json:"channel"`
	// Previous is the channel the account was linked to before, if any.
	Previous string `json:"previous_channel,omitempty"`
	// Unlinked are the ids of the accounts the channel was linked to.
	Unlinked []int64 `json:"unlinked_account_ids"`
}

// SQL that LinkChannel and LinkNewChannel share.
const (
	// linkChannelLock serialises the links of the channel $1 within a
	// transaction.
	linkChannelLock = `SELECT pg_advisory_xact_lock(hashtext('csbot.link_channel'), hashtext($1))`
	// channelLinkedAudit records that $1 linked a channel to the account
	// $2, with the channelLinked details $3.
	channelLinkedAudit = `INSERT INTO audit_log (actor, action, account_id, details) VALUES ($1, 'channel_linked', $2, $3)`
)

// LinkChannel links the Slack channel channelID to the account with
// internal id accountID, unlinking it from every other account, and
// records in the audit log that actor (a Slack user id) did so, all in one
// transaction. Links of one channel are serialised, so that two people
// linking it at once leave it linked to one account. It returns the
// accounts the channel was unlinked from, by name, as they now stand. It
// returns csbot.ErrNotFound, changing nothing, when the account does not
// exist, and an error when channelID is not a Slack channel id.
func (s *Store) LinkChannel(ctx context.Context, accountID int64, channelID, actor string) ([]csbot.Account, error) {
	const account = `SELECT coalesce(slack_channel_id, '') FROM accounts WHERE id = $1 FOR UPDATE`
	const unlink = `WITH unlinked AS (
			UPDATE accounts SET slack_channel_id = NULL, updated_at = now()
			WHERE slack_channel_id = $1 AND id <> $2
			RETURNING ` + accountColumns + `
		)
		SELECT * FROM unlinked ORDER BY lower(name), name, id`
	const link = `UPDATE accounts SET slack_channel_id = $2, updated_at = now()
		WHERE id = $1 AND slack_channel_id IS DISTINCT FROM $2`
	if !csbot.IsSlackChannelID(channelID) {
		return nil, fmt.Errorf("link channel %q to account %d: not a Slack channel id", channelID, accountID)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("link channel %s to account %d: %w", channelID, accountID, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, linkChannelLock, channelID); err != nil {
		return nil, fmt.Errorf("link channel %s to account %d: %w", channelID, accountID, err)
	}
	details := channelLinked{Channel: channelID, Unlinked: []int64{}}
	if err := tx.QueryRow(ctx, account, accountID).Scan(&details.Previous); err != nil {
		return nil, fmt.Errorf("link channel %s to account %d: %w", channelID, accountID, notFound(err))
	}
	if details.Previous == channelID {
		details.Previous = ""
	}
	rows, err := tx.Query(ctx, unlink, channelID, accountID)
	if err != nil {
		return nil, fmt.Errorf("link channel %s to account %d: unlink: %w", channelID, accountID, err)
	}
	unlinked, err := collectAccounts(rows)
	if err != nil {
		return nil, fmt.Errorf("link channel %s to account %d: unlink: %w", channelID, accountID, err)
	}
	for _, a := range unlinked {
		details.Unlinked = append(details.Unlinked, a.ID)
	}
	if _, err := tx.Exec(ctx, link, accountID, channelID); err != nil {
		return nil, fmt.Errorf("link channel %s to account %d: %w", channelID, accountID, err)
	}
	js, err := json.Marshal(details)
	if err != nil {
		return nil, fmt.Errorf("link channel %s to account %d: %w", channelID, accountID, err)
	}
	if _, err := tx.Exec(ctx, channelLinkedAudit, actor, accountID, js); err != nil {
		return nil, fmt.Errorf("link channel %s to account %d: audit: %w", channelID, accountID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("link channel %s to account %d: commit: %w", channelID, accountID, err)
	}
	return unlinked, nil
}

// MoveChannel follows a Slack channel whose id changed from oldID to newID
// (Slack's channel_id_changed event): the accounts linked to oldID are
// linked to newID. It returns how many accounts it changed.
func (s *Store) MoveChannel(ctx context.Context, oldID, newID string) (int64, error) {
	const q = `UPDATE accounts SET slack_channel_id = $2, updated_at = now() WHERE slack_channel_id = $1`
	if oldID == newID {
		return 0, nil
	}
	if !csbot.IsSlackChannelID(newID) {
		return 0, fmt.Errorf("move channel %s to %q: not a Slack channel id", oldID, newID)
	}
	tag, err := s.pool.Exec(ctx, q, oldID, newID)
	if err != nil {
		return 0, fmt.Errorf("move channel %s to %s: %w", oldID, newID, err)
	}
	return tag.RowsAffected(), nil
}
