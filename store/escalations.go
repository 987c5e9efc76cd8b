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

// alertPostedSQL follows the alerts of a CTE named cand (columns id,
// notification_id) to the notification that carried each one's message:
// the alert's notification once sent, else the first sent fallback made
// from it, down the chain. It defines the CTEs chain and posted (alert_id,
// sent_at, slack_channel, slack_ts); the statement must begin WITH
// RECURSIVE.
const alertPostedSQL = `,
chain AS (
    SELECT c.id AS alert_id, n.id, n.state, n.sent_at, n.slack_channel, n.slack_ts, 0 AS depth
      FROM cand c JOIN notifications n ON n.id = c.notification_id
    UNION ALL
    SELECT ch.alert_id, f.id, f.state, f.sent_at, f.slack_channel, f.slack_ts, ch.depth + 1
      FROM chain ch JOIN notifications f ON f.fallback_of = ch.id
     WHERE ch.depth < 10
),
posted AS (
    SELECT DISTINCT ON (alert_id) alert_id, sent_at, coalesce(slack_channel, '') AS slack_channel,
           coalesce(slack_ts, '') AS slack_ts
      FROM chain
     WHERE state = 'sent' AND sent_at IS NOT NULL
     ORDER BY alert_id, id
)`

// escalationCandidatesSQL reads the alerts that may be due to escalate:
// open, never escalated, routed to a channel or by DM, on accounts of the
// tiers $1 that have not churned, whose message was posted at $2 or
// earlier; with their accounts, and the time zone and manager of each
// account's CSM.
const escalationCandidatesSQL = `
WITH RECURSIVE cand AS (
    SELECT al.id, al.notification_id
      FROM alerts al
      JOIN accounts a ON a.id = al.account_id
     WHERE al.state = 'open' AND al.escalated_at IS NULL AND al.routed IN ('channel', 'dm')
       AND al.notification_id IS NOT NULL AND a.tier = ANY($1::text[]) AND a.stage <> 'churned'
)` + alertPostedSQL + `
SELECT al.id, al.kind, al.severity, al.evidence, al.dedupe_key, ` + dueBriefColumnsA + `,
       coalesce(u.timezone, ''), coalesce(u.manager_slack_id, ''), p.sent_at, p.slack_channel, p.slack_ts
  FROM posted p
  JOIN alerts al ON al.id = p.alert_id
  JOIN accounts a ON a.id = al.account_id
  LEFT JOIN users u ON u.slack_id = a.csm_slack_id
 WHERE p.sent_at <= $2
 ORDER BY p.sent_at, al.id`

// escalateAlertsSQL marks the alerts $1 escalated at $2, unless another
// pass (or an acknowledgement) changed them first, and returns those it
// marked.
const escalateAlertsSQL = `
UPDATE alerts SET state = 'escalated', escalated_at = $2, updated_at = $2
 WHERE id = ANY($1::bigint[]) AND state = 'open' AND escalated_at IS NULL
RETURNING id`

// ackReminderCandidatesSQL reads the alerts acknowledged at $1 or earlier
// and not yet reminded of, on accounts that have not churned, whose signal
// family is still live, with the message that carried each.
const ackReminderCandidatesSQL = `
WITH RECURSIVE cand AS (
    SELECT al.id, al.notification_id
      FROM alerts al
      JOIN accounts a ON a.id = al.account_id
     WHERE al.state = 'acknowledged' AND al.ack_reminded_at IS NULL AND al.acked_at <= $1
       AND coalesce(al.acked_by_slack_id, '') <> '' AND a.stage <> 'churned'
       AND EXISTS (SELECT 1 FROM signal_families f WHERE f.alert_id = al.id AND f.resolved_at IS NULL)
)` + alertPostedSQL + `
SELECT al.id, al.kind, al.severity, al.evidence, al.dedupe_key, ` + dueBriefColumnsA + `,
       al.acked_by_slack_id, al.acked_at, coalesce(p.slack_channel, ''), coalesce(p.slack_ts, '')
  FROM cand c
  JOIN alerts al ON al.id = c.id
  JOIN accounts a ON a.id = al.account_id
  LEFT JOIN posted p ON p.alert_id = c.id
 ORDER BY al.acked_at, al.id`

// ackRemindedSQL marks the alerts $1 reminded of at $2, unless another
// pass (or a change of state) came first, and returns those it marked.
const ackRemindedSQL = `
UPDATE alerts SET ack_reminded_at = $2, updated_at = $2
 WHERE id = ANY($1::bigint[]) AND state = 'acknowledged' AND ack_reminded_at IS NULL
RETURNING id`

// dueAlert is an alert a pass found due for an escalation or a reminder.
type dueAlert struct {
	item    csbot.AlertItem
	account csbot.AccountBrief
	to      string    // the manager, or who acknowledged it
	since   time.Time // posted, or acknowledged
	days    int       // business days waited, for an escalation
	channel string    // where its message was posted
	ts      string
}

// QueueEscalations writes, in one transaction, the escalations and the
// acknowledged-alert reminders due at run.Now; with run.DryRun it rolls
// that back and returns what it would have written.
//
// An alert escalates to its account's CSM's manager (users.manager_slack_id)
// by DM when it is open (not acknowledged, snoozed, resolved or escalated
// before), was routed to a channel or by DM, and its message (or the
// fallback DM made from it) was posted at least
// Alerts.EscalateAfterBusinessDays business days before run.Now (0: the
// tier never escalates), counted on the CSM's calendar (users.timezone,
// else run.Zone; see csbot.AddBusinessDays). The alert is then marked
// escalated; both that and the key "escalation:<alert id>" make it once,
// whatever passes run, at once or not. An alert due whose CSM has no
// manager is left as it is.
//
// An acknowledged alert whose signal family is still live
// Notifications.AckedReminderDays days after it was acknowledged (0:
// never) reminds whoever acknowledged it by DM, once (key
// "ack_reminder:<alert id>", and alerts.ack_reminded_at).
//
// Counts: "escalations", "ack_reminders" (written), "no_manager" (due to
// escalate, with nobody to escalate to).
func (s *Store) QueueEscalations(ctx context.Context, run csbot.DueRun) (csbot.RunResult, error) {
	res := csbot.RunResult{Counts: map[string]int{"escalations": 0, "ack_reminders": 0, "no_manager": 0}}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("queue escalations: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	due, err := dueEscalations(ctx, tx, run, res.Counts)
	if err != nil {
		return res, fmt.Errorf("queue escalations: %w", err)
	}
	due, err = claimAlerts(ctx, tx, escalateAlertsSQL, due, run.Now)
	if err != nil {
		return res, fmt.Errorf("queue escalations: %w", err)
	}
	for _, d := range due {
		n, written, err := s.insertDueAlert(ctx, tx, d, run.Now, "escalation", csbot.NotifyEscalation, csbot.EscalationMessage{
			Manager: d.to, Account: d.account, Alert: d.item, Since: d.since, BusinessDays: d.days,
			Channel: d.channel, TS: d.ts, At: run.Now,
		})
		if err != nil {
			return res, fmt.Errorf("queue escalations: %w", err)
		}
		if written {
			res.Counts["escalations"]++
			res.Notifications = append(res.Notifications, n)
		}
	}

	if days := run.Policy.Notifications.AckedReminderDays; days > 0 {
		due, err := dueAckReminders(ctx, tx, run.Now.Add(-time.Duration(days)*24*time.Hour))
		if err != nil {
			return res, fmt.Errorf("queue acknowledged-alert reminders: %w", err)
		}
		due, err = claimAlerts(ctx, tx, ackRemindedSQL, due, run.Now)
		if err != nil {
			return res, fmt.Errorf("queue acknowledged-alert reminders: %w", err)
		}
		for _, d := range due {
			n, written, err := s.insertDueAlert(ctx, tx, d, run.Now, "ack_reminder", csbot.NotifyAckReminder, csbot.AckReminderMessage{
				User: d.to, Account: d.account, Alert: d.item, AckedAt: d.since, Channel: d.channel, TS: d.ts, At: run.Now,
			})
			if err != nil {
				return res, fmt.Errorf("queue acknowledged-alert reminders: %w", err)
			}
			if written {
				res.Counts["ack_reminders"]++
				res.Notifications = append(res.Notifications, n)
			}
		}
	}
	return finishDueRun(ctx, tx, run, res, "queue escalations")
}

// dueEscalations returns the alerts due to escalate at run.Now whose CSM
// has a manager, counting in counts["no_manager"] those whose CSM has
// none.
func dueEscalations(ctx context.Context, tx pgx.Tx, run csbot.DueRun, counts map[string]int) ([]dueAlert, error) {
	var tiers []string
	least := 0
	for _, t := range csbot.Tiers() {
		if n := run.Policy.Tier(t).Alerts.EscalateAfterBusinessDays; n > 0 {
			tiers = append(tiers, string(t))
			if least == 0 || n < least {
				least = n
			}
		}
	}
	if len(tiers) == 0 {
		return nil, nil
	}
	// n business days later is at least n days of 24 hours later, less an
	// hour when the clocks go forward on the way: alerts posted since are
	// not due yet.
	postedBy := run.Now.Add(-time.Duration(least)*24*time.Hour + 2*time.Hour)
	rows, err := tx.Query(ctx, escalationCandidatesSQL, tiers, postedBy)
	if err != nil {
		return nil, fmt.Errorf("alerts to escalate: %w", err)
	}
	zones := zoneCache{fallback: run.Zone, m: map[string]*time.Location{}}
	var out []dueAlert
	var d dueAlert
	var a dueBriefRow
	var kind, severity, key, zone string
	dest := append([]any{&d.item.AlertID, &kind, &severity, &d.item.Evidence, &key}, a.fields()...)
	dest = append(dest, &zone, &d.to, &d.since, &d.channel, &d.ts)
	_, err = pgx.ForEachRow(rows, dest, func() error {
		d.account = a.brief()
		d.item.Kind, d.item.Severity, d.item.SignalKey = csbot.SignalKind(kind), csbot.SignalSeverity(severity), alertSignalKey(key)
		d.days = run.Policy.Tier(d.account.Tier).Alerts.EscalateAfterBusinessDays
		if d.days <= 0 || csbot.AddBusinessDays(d.since, d.days, zones.get(zone)).After(run.Now) {
			return nil
		}
		if d.to == "" {
			counts["no_manager"]++
			return nil
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("alerts to escalate: %w", err)
	}
	return out, nil
}

// dueAckReminders returns the acknowledged alerts due for a reminder:
// acknowledged at ackedBy or earlier, their signal still live.
func dueAckReminders(ctx context.Context, tx pgx.Tx, ackedBy time.Time) ([]dueAlert, error) {
	rows, err := tx.Query(ctx, ackReminderCandidatesSQL, ackedBy)
	if err != nil {
		return nil, fmt.Errorf("acknowledged alerts: %w", err)
	}
	var out []dueAlert
	var d dueAlert
	var a dueBriefRow
	var kind, severity, key string
	dest := append([]any{&d.item.AlertID, &kind, &severity, &d.item.Evidence, &key}, a.fields()...)
	dest = append(dest, &d.to, &d.since, &d.channel, &d.ts)
	_, err = pgx.ForEachRow(rows, dest, func() error {
		d.account = a.brief()
		d.item.Kind, d.item.Severity, d.item.SignalKey = csbot.SignalKind(kind), csbot.SignalSeverity(severity), alertSignalKey(key)
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("acknowledged alerts: %w", err)
	}
	return out, nil
}

// claimAlerts runs update (escalateAlertsSQL or ackRemindedSQL) on the
// alerts of due and returns, in due's order, those it changed: a
// concurrent pass that changed one first makes this one wait for it to
// commit and then leave it out.
func claimAlerts(ctx context.Context, tx pgx.Tx, update string, due []dueAlert, now time.Time) ([]dueAlert, error) {
	if len(due) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(due))
	for i, d := range due {
		ids[i] = d.item.AlertID
	}
	rows, err := tx.Query(ctx, update, ids, now)
	if err != nil {
		return nil, fmt.Errorf("mark alerts: %w", err)
	}
	claimed, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("mark alerts: %w", err)
	}
	mine := make(map[int64]bool, len(claimed))
	for _, id := range claimed {
		mine[id] = true
	}
	out := due[:0]
	for _, d := range due {
		if mine[d.item.AlertID] {
			out = append(out, d)
		}
	}
	return out, nil
}

// insertDueAlert writes the notification of kind about alert d, a DM to
// d.to keyed "<prefix>:<alert id>", with msg as its payload.
func (s *Store) insertDueAlert(ctx context.Context, tx pgx.Tx, d dueAlert, now time.Time, prefix string,
	kind csbot.NotificationKind, msg any) (csbot.Notification, bool, error) {
	payload, err := json.Marshal(msg)
	if err != nil {
		return csbot.Notification{}, false, fmt.Errorf("%s of alert %d: %w", kind, d.item.AlertID, err)
	}
	return s.insertNotification(ctx, tx, csbot.Notification{
		Key:       prefix + ":" + strconv.FormatInt(d.item.AlertID, 10),
		Kind:      kind,
		AccountID: d.account.ID,
		User:      d.to,
		Payload:   payload,
		NotBefore: now,
	}, now)
}
