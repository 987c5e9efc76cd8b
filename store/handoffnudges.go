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

// The business days an open handoff waits before its owner is nudged and
// before their manager is told.
const (
	handoffNudgeDays      = 1
	handoffEscalationDays = 3
)

// handoffNudgeCandidatesSQL reads the open handoffs created at $1 or
// earlier, on accounts that have not churned, that lack a nudge or an
// escalation: with their owner's time zone and manager, and which of the
// two notifications exist already (so a pass finds what is done in the
// same query).
const handoffNudgeCandidatesSQL = `
SELECT c.id, c.account_id, c.author, c.owner, c.created_at, c.zone, c.manager, c.nudged, c.escalated
  FROM (
    SELECT h.id, h.account_id, h.author_slack_id AS author, coalesce(h.owner_slack_id, '') AS owner, h.created_at,
           coalesce(u.timezone, '') AS zone, coalesce(u.manager_slack_id, '') AS manager,
           EXISTS (SELECT 1 FROM notifications n WHERE n.dedupe_key = 'handoff_nudge:' || h.id) AS nudged,
           EXISTS (SELECT 1 FROM notifications n WHERE n.dedupe_key = 'handoff_escalation:' || h.id) AS escalated
      FROM handoffs h
      JOIN accounts a ON a.id = h.account_id
      LEFT JOIN users u ON u.slack_id = h.owner_slack_id
     WHERE h.state = 'open' AND h.created_at <= $1 AND a.stage <> 'churned'
  ) c
 WHERE NOT (c.nudged AND c.escalated)
 ORDER BY c.created_at, c.id`

// nudgeCandidate is a row of handoffNudgeCandidatesSQL.
type nudgeCandidate struct {
	id, account                  int64
	author, owner, zone, manager string
	created                      time.Time
	nudged, escalated            bool
}

// QueueHandoffNudges writes, in one transaction, the nudges and
// escalations of open handoffs due at run.Now; with run.DryRun it rolls
// that back and returns what it would have written (ids 0).
//
// Business days are counted from the handoff's creation on its owner's
// calendar (users.timezone; run.Zone when there is no owner, or the owner
// has no zone Go knows; see csbot.AddBusinessDays). After one business day
// the handoff is nudged (a NotifyHandoffNudge, key "handoff_nudge:<id>"):
// to its owner by DM, else in onboardingChannel, else to its author by
// DM. After three it escalates (a NotifyHandoffEscalation, key
// "handoff_escalation:<id>") to the owner's manager (users.manager_slack_id)
// by DM, else (no owner, or an owner without a manager) in
// onboardingChannel; with neither, nobody is told and it is counted
// "no_manager". The keys make each once, whatever passes run, at once or
// not. Handoffs on churned accounts are left alone.
//
// Counts: "handoff_nudges", "handoff_escalations" (written), "no_manager".
func (s *Store) QueueHandoffNudges(ctx context.Context, run csbot.DueRun, onboardingChannel string) (csbot.RunResult, error) {
	res := csbot.RunResult{Counts: map[string]int{"handoff_nudges": 0, "handoff_escalations": 0, "no_manager": 0}}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("queue handoff nudges: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	// One business day later is at least 24 hours later, less an hour when
	// the clocks go forward on the way: handoffs created since are not due.
	createdBy := run.Now.Add(-time.Duration(handoffNudgeDays)*24*time.Hour + 2*time.Hour)
	rows, err := tx.Query(ctx, handoffNudgeCandidatesSQL, createdBy)
	if err != nil {
		return res, fmt.Errorf("queue handoff nudges: %w", err)
	}
	var cands []nudgeCandidate
	var c nudgeCandidate
	if _, err := pgx.ForEachRow(rows, []any{&c.id, &c.account, &c.author, &c.owner, &c.created, &c.zone, &c.manager,
		&c.nudged, &c.escalated}, func() error {
		cands = append(cands, c)
		return nil
	}); err != nil {
		return res, fmt.Errorf("queue handoff nudges: %w", err)
	}

	zones := zoneCache{fallback: run.Zone, m: map[string]*time.Location{}}
	var ns []csbot.Notification
	for _, c := range cands {
		loc := zones.get(c.zone)
		if !c.nudged && !csbot.AddBusinessDays(c.created, handoffNudgeDays, loc).After(run.Now) {
			n, err := handoffNudge(c, csbot.NotifyHandoffNudge, handoffNudgeDays, nudgeTarget(c, onboardingChannel), run.Now)
			if err != nil {
				return res, fmt.Errorf("queue handoff nudges: %w", err)
			}
			ns = append(ns, n)
		}
		if !c.escalated && !csbot.AddBusinessDays(c.created, handoffEscalationDays, loc).After(run.Now) {
			to := escalationTarget(c, onboardingChannel)
			if to == (nudgeTo{}) {
				res.Counts["no_manager"]++
				continue
			}
			n, err := handoffNudge(c, csbot.NotifyHandoffEscalation, handoffEscalationDays, to, run.Now)
			if err != nil {
				return res, fmt.Errorf("queue handoff nudges: %w", err)
			}
			ns = append(ns, n)
		}
	}

	ns, written, err := s.insertNotifications(ctx, tx, ns, run.Now)
	if err != nil {
		return res, fmt.Errorf("queue handoff nudges: %w", err)
	}
	for i, n := range ns {
		if !written[i] {
			continue // a concurrent pass wrote it first
		}
		if n.Kind == csbot.NotifyHandoffEscalation {
			res.Counts["handoff_escalations"]++
		} else {
			res.Counts["handoff_nudges"]++
		}
		res.Notifications = append(res.Notifications, n)
	}
	return finishDueRun(ctx, tx, run, res, "queue handoff nudges")
}

// nudgeTo is where a nudge or an escalation goes: a user by DM or a
// channel.
type nudgeTo struct{ user, channel string }

// nudgeTarget returns where the nudge of c goes: its owner, else the
// onboarding channel, else its author.
func nudgeTarget(c nudgeCandidate, onboardingChannel string) nudgeTo {
	switch {
	case c.owner != "":
		return nudgeTo{user: c.owner}
	case onboardingChannel != "":
		return nudgeTo{channel: onboardingChannel}
	}
	return nudgeTo{user: c.author}
}

// escalationTarget returns where the escalation of c goes: its owner's
// manager, else the onboarding channel, else nowhere (the zero nudgeTo).
func escalationTarget(c nudgeCandidate, onboardingChannel string) nudgeTo {
	switch {
	case c.owner != "" && c.manager != "":
		return nudgeTo{user: c.manager}
	case onboardingChannel != "":
		return nudgeTo{channel: onboardingChannel}
	}
	return nudgeTo{}
}

// handoffNudge returns the notification of kind (a nudge or an
// escalation) of handoff c after days business days, to to, keyed
// "<kind>:<id>". One posted in a channel falls back to a DM to the
// author.
func handoffNudge(c nudgeCandidate, kind csbot.NotificationKind, days int, to nudgeTo, now time.Time) (csbot.Notification, error) {
	p := csbot.HandoffPost{Handoff: c.id, BusinessDays: days, At: now}
	var fallback string
	if to.channel != "" {
		p.Place, fallback = csbot.HandoffInOnboarding, c.author
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return csbot.Notification{}, fmt.Errorf("%s of handoff %d: %w", kind, c.id, err)
	}
	return csbot.Notification{
		Key: string(kind) + ":" + strconv.FormatInt(c.id, 10), Kind: kind, AccountID: c.account,
		Channel: to.channel, User: to.user, FallbackUser: fallback, Payload: payload, NotBefore: now,
	}, nil
}
