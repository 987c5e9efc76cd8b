package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// outageNoticeWindow and ongoingOutageWindow bound the outages a pass
// tells accounts of: those that started within the last day, and those
// still going on that started within the last week.
const (
	outageNoticeWindow  = 24 * time.Hour
	ongoingOutageWindow = 7 * 24 * time.Hour
)

// outageNoticesSQL reads, for the outages that started in ($2, $1], or
// that started in ($3, $1] and had not ended by $1, each account affected
// (the outage's account, or every account for a global one) that has not
// churned, is of a tier in $4 and has no notice of the outage yet. It
// reads them in one statement, whatever the number of accounts.
const outageNoticesSQL = `
WITH o AS (
    SELECT id, external_id, account_id, started_at, ended_at, coalesce(severity, '') AS severity,
           coalesce(summary, '') AS summary
      FROM outages
     WHERE started_at <= $1
       AND (started_at > $2 OR (started_at > $3 AND (ended_at IS NULL OR ended_at > $1)))
),
hit AS (
    SELECT o.id AS outage_id, o.account_id FROM o WHERE o.account_id IS NOT NULL
    UNION ALL
    SELECT o.id, a.id FROM o CROSS JOIN accounts a WHERE o.account_id IS NULL
)
SELECT o.id, o.external_id, coalesce(o.account_id, 0), o.started_at, o.ended_at, o.severity, o.summary,
       ` + dueBriefColumnsA + `
  FROM hit
  JOIN o ON o.id = hit.outage_id
  JOIN accounts a ON a.id = hit.account_id
 WHERE a.stage <> 'churned' AND a.tier = ANY($4::text[])
   AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.dedupe_key = 'outage:' || o.id || ':' || a.id)
 ORDER BY o.started_at, o.id, a.arr_cents DESC, a.id`

// QueueOutageNotices writes, in one transaction, a notice of each recent
// outage to each account it affects; with run.DryRun it rolls that back
// and returns what it would have written.
//
// The outages are those that started within the 24 hours up to run.Now,
// and those that started within the 7 days up to run.Now and had not
// ended by then. One with an account affects that account; one without
// (global) affects every account. An account is told when it has not
// churned and its tier has Alerts.OutageNotices. The notice goes to the
// account's channel, else by DM to its CSM, who is also the fallback; an
// account with neither is skipped. The key "outage:<outage id>:<account
// id>" makes it once per outage and account: the accounts already told
// are left out in SQL, so a pass reads only what it writes.
//
// Counts: "outage_notices" (written), "unrouted" (affected accounts with
// neither a channel nor a CSM).
func (s *Store) QueueOutageNotices(ctx context.Context, run csbot.DueRun) (csbot.RunResult, error) {
	res := csbot.RunResult{Counts: map[string]int{"outage_notices": 0, "unrouted": 0}}
	var tiers []string
	for _, t := range csbot.Tiers() {
		if run.Policy.Tier(t).Alerts.OutageNotices {
			tiers = append(tiers, string(t))
		}
	}
	if len(tiers) == 0 {
		return res, nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("queue outage notices: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	notices, err := outageNotices(ctx, tx, run, tiers)
	if err != nil {
		return res, fmt.Errorf("queue outage notices: %w", err)
	}
	var batch []csbot.Notification
	for _, m := range notices {
		if m.Account.Channel == "" && m.Account.CSM == "" {
			res.Counts["unrouted"]++
			continue
		}
		payload, err := json.Marshal(m)
		if err != nil {
			return res, fmt.Errorf("queue outage notices: outage %d: %w", m.Outage.ID, err)
		}
		n := csbot.Notification{
			Key:          "outage:" + strconv.FormatInt(m.Outage.ID, 10) + ":" + strconv.FormatInt(m.Account.ID, 10),
			Kind:         csbot.NotifyOutage,
			AccountID:    m.Account.ID,
			Channel:      m.Account.Channel,
			FallbackUser: m.Account.CSM,
			Payload:      payload,
			NotBefore:    run.Now,
		}
		if n.Channel == "" {
			n.User = m.Account.CSM
		}
		batch = append(batch, n)
	}
	ns, written, err := s.insertNotifications(ctx, tx, batch, run.Now)
	if err != nil {
		return res, fmt.Errorf("queue outage notices: %w", err)
	}
	for i, n := range ns {
		if written[i] {
			res.Counts["outage_notices"]++
			res.Notifications = append(res.Notifications, n)
		}
	}
	return finishDueRun(ctx, tx, run, res, "queue outage notices")
}

// outageNotices reads the notices due at run.Now on accounts of tiers, as
// their messages.
func outageNotices(ctx context.Context, tx pgx.Tx, run csbot.DueRun, tiers []string) ([]csbot.OutageMessage, error) {
	rows, err := tx.Query(ctx, outageNoticesSQL, run.Now, run.Now.Add(-outageNoticeWindow),
		run.Now.Add(-ongoingOutageWindow), tiers)
	if err != nil {
		return nil, fmt.Errorf("outages: %w", err)
	}
	var out []csbot.OutageMessage
	var o csbot.Outage
	var ended *time.Time
	var a dueBriefRow
	dest := append([]any{&o.ID, &o.ExternalID, &o.AccountID, &o.StartedAt, &ended, &o.Severity, &o.Summary}, a.fields()...)
	_, err = pgx.ForEachRow(rows, dest, func() error {
		m := csbot.OutageMessage{Account: a.brief(), Outage: o, Global: o.AccountID == 0, At: run.Now}
		if ended != nil && !ended.After(run.Now) {
			m.Outage.EndedAt = *ended
			m.Duration = ended.Sub(o.StartedAt)
		} else {
			// Ongoing as of run.Now, even when an end is already on
			// record for later.
			m.Ongoing = true
			m.Duration = run.Now.Sub(o.StartedAt)
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outages: %w", err)
	}
	return out, nil
}
