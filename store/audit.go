package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// auditChannelKey is where an entry's channel is kept in details.
const auditChannelKey = "channel"

// RecordAudit writes e to the audit log, in one INSERT: at e.At (the
// store's clock when zero), its channel kept in details. An account id
// that names no account (deleted meanwhile) is recorded as none. It
// returns an error when e has no actor or action.
func (s *Store) RecordAudit(ctx context.Context, e csbot.AuditEntry) error {
	const q = `INSERT INTO audit_log (at, actor, action, account_id, details)
		VALUES ($1, $2, $3, (SELECT id FROM accounts WHERE id = $4), $5)`
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("record audit %q by %q: an entry needs an actor and an action", e.Action, e.Actor)
	}
	at := e.At
	if at.IsZero() {
		at = s.now()
	}
	details := make(map[string]any, len(e.Details)+1)
	maps.Copy(details, e.Details)
	if e.Channel != "" {
		details[auditChannelKey] = e.Channel
	}
	js, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("record audit %s: %w", e.Action, err)
	}
	if _, err := s.pool.Exec(ctx, q, at, e.Actor, e.Action, e.AccountID, js); err != nil {
		return fmt.Errorf("record audit %s: %w", e.Action, err)
	}
	return nil
}

// Audit returns the audit entries f selects, newest first, each with the
// name of its account (empty when it has none, or it was deleted).
func (s *Store) Audit(ctx context.Context, f csbot.AuditFilter) ([]csbot.AuditEntry, error) {
	const q = `SELECT l.id, l.at, l.actor, l.action, coalesce(l.account_id, 0), coalesce(a.name, ''), l.details
		  FROM audit_log l
		  LEFT JOIN accounts a ON a.id = l.account_id
		 WHERE ($1::bigint = 0 OR l.account_id = $1)
		   AND ($2::timestamptz IS NULL OR l.at >= $2)
		   AND ($3::text = '' OR l.actor = $3)
		 ORDER BY l.at DESC, l.id DESC
		 LIMIT $4`
	var since *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	rows, err := s.pool.Query(ctx, q, f.AccountID, since, f.Actor, f.EffectiveLimit())
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	var out []csbot.AuditEntry
	var e csbot.AuditEntry
	var details []byte
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.At, &e.Actor, &e.Action, &e.AccountID, &e.AccountName, &details}, func() error {
		e.Details, e.Channel = nil, ""
		if err := json.Unmarshal(details, &e.Details); err != nil {
			return fmt.Errorf("details of entry %d: %w", e.ID, err)
		}
		if ch, ok := e.Details[auditChannelKey].(string); ok {
			e.Channel = ch
			delete(e.Details, auditChannelKey)
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}
