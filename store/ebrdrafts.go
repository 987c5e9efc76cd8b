package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// SaveEBRDraft stores v as the next version of its account's draft for
// its period (v.Version is ignored and set), with the hash of its fact
// sheet, and returns it as stored. Two saves at once get two versions:
// the account's row is locked while the next number is taken.
func (s *Store) SaveEBRDraft(ctx context.Context, v csbot.EBRVersion) (csbot.EBRVersion, error) {
	facts, err := json.Marshal(v.Facts)
	if err != nil {
		return v, fmt.Errorf("save EBR draft: %w", err)
	}
	draft, err := json.Marshal(v.Draft)
	if err != nil {
		return v, fmt.Errorf("save EBR draft: %w", err)
	}
	flagged, err := json.Marshal(v.Draft.Flagged)
	if err != nil {
		return v, fmt.Errorf("save EBR draft: %w", err)
	}
	if v.Draft.Flagged == nil {
		flagged = []byte("[]")
	}
	sum := sha256.Sum256(facts)
	v.FactsHash = hex.EncodeToString(sum[:])
	source := v.Draft.Source
	if v.Edited {
		source = "edited"
	}
	if v.CreatedAt.IsZero() {
		v.CreatedAt = s.now()
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, v.AccountID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `
SELECT coalesce(max(version), 0) + 1 FROM ebr_drafts
 WHERE account_id = $1 AND period_start = $2 AND period_end = $3`,
			v.AccountID, v.Period.Start, v.Period.End).Scan(&v.Version); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
INSERT INTO ebr_drafts (account_id, period_start, period_end, requested_by_slack_id, facts, draft, source, model,
                        flagged, created_at, version, facts_hash, prompt_hash, prompt_tokens, completion_tokens,
                        latency_ms, edited)
VALUES ($1, $2, $3, $4, $5, $6, $7, nullif($8, ''), $9, $10, $11, $12, $13, $14, $15, $16, $17)
RETURNING id`,
			v.AccountID, v.Period.Start, v.Period.End, v.By, facts, draft, source, v.Draft.Model, flagged, v.CreatedAt,
			v.Version, v.FactsHash, v.PromptHash, v.PromptTokens, v.CompletionTokens, v.Latency.Milliseconds(), v.Edited,
		).Scan(&v.ID)
	})
	if err != nil {
		return v, fmt.Errorf("save EBR draft of account %d: %w", v.AccountID, notFound(err))
	}
	return v, nil
}

// EBRDraftVersion returns a stored draft version by id (csbot.ErrNotFound
// when there is none).
func (s *Store) EBRDraftVersion(ctx context.Context, id int64) (csbot.EBRVersion, error) {
	var v csbot.EBRVersion
	var facts, draft []byte
	var latency int64
	var label string
	err := s.pool.QueryRow(ctx, `
SELECT id, account_id, period_start, period_end, requested_by_slack_id, facts, draft, version, edited,
       facts_hash, prompt_hash, prompt_tokens, completion_tokens, latency_ms, created_at
  FROM ebr_drafts WHERE id = $1`, id).Scan(&v.ID, &v.AccountID, &v.Period.Start, &v.Period.End, &v.By, &facts, &draft,
		&v.Version, &v.Edited, &v.FactsHash, &v.PromptHash, &v.PromptTokens, &v.CompletionTokens, &latency, &v.CreatedAt)
	if err != nil {
		return v, fmt.Errorf("EBR draft %d: %w", id, notFound(err))
	}
	if err := json.Unmarshal(facts, &v.Facts); err != nil {
		return v, fmt.Errorf("EBR draft %d: facts: %w", id, err)
	}
	if err := json.Unmarshal(draft, &v.Draft); err != nil {
		return v, fmt.Errorf("EBR draft %d: draft: %w", id, err)
	}
	label = v.Facts.Period.Label
	v.Period.Label = label
	v.Period.Start, v.Period.End = v.Period.Start.UTC(), v.Period.End.UTC()
	v.Latency = time.Duration(latency) * time.Millisecond
	return v, nil
}
