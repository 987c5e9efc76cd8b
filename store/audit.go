package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

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
	// Only the filters given are in the query, so that its plan can use
	// the (account_id, at) and (actor, at) indexes; values are parameters.
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.AccountID != 0 {
		add("l.account_id = $%d", f.AccountID)
	}
	if !f.Since.IsZero() {
		add("l.at >= $%d", f.Since)
	}
	if f.Actor != "" {
		add("l.actor = $%d", f.Actor)
	}
	q := `SELECT l.id, l.at, l.actor, l.action, coalesce(l.account_id, 0), coalesce(a.name, ''), l.details
	        FROM audit_log l
	        LEFT JOIN accounts a ON a.id = l.account_id`
	if len(where) > 0 {
		q += "\n WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.EffectiveLimit())
	q += fmt.Sprintf("\n ORDER BY l.at DESC, l.id DESC\n LIMIT $%d", len(args))
	rows, err := s.pool.Query(ctx, q, args...)
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
