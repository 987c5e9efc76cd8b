package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// signalsLockKey is the transaction advisory lock that serialises the runs
// of RecordSignals ("csbot-sg").
const signalsLockKey int64 = 0x637362_6f742d7367

// RecordSignals records what a run of signals calls for, in one
// transaction, and writes the notifications it decides, with their
// delivery jobs:
//
//   - it loads the accounts of the run (those of run.Scores and
//     run.Signals), the families their signals were in before (locked),
//     and their snoozes, and decides with csbot.PlanSignals;
//   - signals of accounts seen for the first time are remembered as
//     baselined, and every such account is watched from now on; each CSM
//     with newly watched accounts that have signals gets one baseline
//     summary (NotifyBaseline);
//   - a new or worse signal raises an alert, routed by the account's tier
//     policy (off), the kind's snooze on the account (snoozed) and the
//     CSM's preferences (channel, dm, digest, off). Alerts routed to the
//     channel or by DM go out as one NotifyAlert message per account and
//     target: to the account's channel, else by DM to the CSM; nowhere,
//     and counted as unrouted, when the account has neither. An account
//     gets at most one message per target per
//     Policy.Notifications.AlertIntervalMinutes: new alerts join its
//     latest message while that is still pending and untried, or wait for
//     the end of the interval in a message of their own;
//   - an alert whose family is back within the re-arm period is reopened,
//     and one whose family the complete run no longer returns is
//     resolved; either change updates the alert's message
//     (NotifyAlertUpdate) when it had one.
//
// Each alert and notification is made once: runs serialise on an advisory
// lock, alerts are unique by their signal key and episode, notifications
// by their key, and the families remember what was decided; a repeated
// run, or the same run by a second replica, writes nothing new.
//
// The result lists the notifications written, in the order their
// decisions came (reopened alerts and alert messages, then resolved
// alerts, then baseline summaries), and counts, by name: "new" and
// "worse" (alerts raised), "reopened", "resolved", "baselined" (signals),
// "watched" (accounts), "seen", "snoozed", "off" and "digest" (alerts
// raised without a message), "unrouted" (alerts with nowhere to go), and
// "appended" (alerts added to a message not yet sent).
//
// With run.DryRun it decides and writes everything as usual and then
// rolls the transaction back: the result is what would have been written,
// with ids that were assigned inside the transaction and so name no row.
// Errors say which step failed.
func (s *Store) RecordSignals(ctx context.Context, run csbot.SignalRun) (csbot.RunResult, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return emptyRunResult(), fmt.Errorf("record signals: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	r := &signalRecorder{s: s, tx: tx, run: run, res: emptyRunResult()}
	if err := r.record(ctx); err != nil {
		return emptyRunResult(), fmt.Errorf("record signals: %w", err)
	}
	if run.DryRun {
		return r.res, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return emptyRunResult(), fmt.Errorf("record signals: commit: %w", err)
	}
	return r.res, nil
}

// emptyRunResult is a result with every count of RecordSignals at 0.
func emptyRunResult() csbot.RunResult {
	counts := map[string]int{}
	for _, k := range []string{"new", "worse", "reopened", "resolved", "baselined", "watched", "seen",
		"snoozed", "off", "digest", "unrouted", "appended"} {
		counts[k] = 0
	}
	return csbot.RunResult{Counts: counts}
}

// signalAccount is what a run needs of one of its accounts.
type signalAccount struct {
	brief   csbot.AccountBrief
	watched bool
	prefs   csbot.NotifyPrefs // the CSM's
}

// snoozeKey names a signal kind on an account.
type snoozeKey struct {
	account int64
	kind    csbot.SignalKind
}

// signalRecorder carries one run of RecordSignals through its steps.
type signalRecorder struct {
	s   *Store
	tx  pgx.Tx
	run csbot.SignalRun
	res csbot.RunResult

	accounts map[int64]*signalAccount
	scores   map[int64]csbot.HealthScore
	states   map[string]csbot.FamilyState
	snoozes  map[snoozeKey]time.Time // until when
}

// record runs the steps in order.
func (r *signalRecorder) record(ctx context.Context) error {
	if _, err := r.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, signalsLockKey); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if err := r.load(ctx); err != nil {
		return err
	}
	signals := make([]csbot.Signal, 0, len(r.run.Signals))
	for _, sg := range r.run.Signals {
		if _, ok := r.accounts[sg.AccountID]; ok {
			signals = append(signals, sg) // an account deleted since it was scored has nothing to alert
		}
	}
	unwatched := map[int64]bool{}
	for id, a := range r.accounts {
		if !a.watched {
			unwatched[id] = true
		}
	}
	bands := make(map[int64]csbot.Band, len(r.scores))
	for id, h := range r.scores {
		bands[id] = h.Band
	}
	plan := csbot.PlanSignals(csbot.SignalPlanInput{States: r.states, Signals: signals, Unwatched: unwatched,
		Bands: bands, Complete: r.run.Complete, Policy: r.run.Policy, Now: r.run.Now})

	ap, err := r.applyDecisions(ctx, plan)
	if err != nil {
		return err
	}
	out, err := r.reopen(ctx, ap.reopen)
	if err != nil {
		return err
	}
	msgs, err := r.alertMessages(ctx, ap.raised)
	if err != nil {
		return err
	}
	out = append(out, msgs...)
	superseded, err := r.supersede(ctx, ap.raised)
	if err != nil {
		return err
	}
	out = append(out, superseded...)
	slices.SortStableFunc(out, func(a, b outgoing) int { return cmp.Compare(a.order, b.order) })
	if err := r.write(ctx, out); err != nil {
		return fmt.Errorf("alert messages: %w", err)
	}
	resolved, err := r.resolve(ctx, plan.Resolved)
	if err != nil {
		return err
	}
	if err := r.write(ctx, resolved); err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	baselines, err := r.baseline(ctx, ap.baselined)
	if err != nil {
		return err
	}
	if err := r.write(ctx, baselines); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	return nil
}

// The queries of the load step, for the accounts $1.
const (
	signalAccountsSQL = `
SELECT a.id, a.external_id, a.name, a.tier, a.arr_cents, coalesce(a.csm_slack_id, ''), coalesce(a.ae_slack_id, ''),
       coalesce(a.slack_channel_id, ''), w.account_id IS NOT NULL, u.notify_prefs
  FROM accounts a
  LEFT JOIN watched_accounts w ON w.account_id = a.id
  LEFT JOIN users u ON u.slack_id = a.csm_slack_id
 WHERE a.id = ANY($1::bigint[])`

	signalFamiliesSQL = `
SELECT f.family, f.account_id, f.kind, f.episode, f.signal_key, f.severity, f.evidence, f.first_seen, f.last_seen,
       f.baselined, coalesce(f.alert_id, 0), coalesce(a.state, ''), a.created_at
  FROM signal_families f
  LEFT JOIN alerts a ON a.id = f.alert_id
 WHERE f.account_id = ANY($1::bigint[])`

	// signalSnoozesSQL: the snoozes of the accounts $1 still running at $2.
	signalSnoozesSQL = `
SELECT account_id, kind, until FROM alert_snoozes WHERE account_id = ANY($1::bigint[]) AND until > $2`
)

// load reads the accounts of the run, their families and their snoozes,
// in one round trip.
func (r *signalRecorder) load(ctx context.Context) error {
	r.scores = make(map[int64]csbot.HealthScore, len(r.run.Scores))
	ids := make([]int64, 0, len(r.run.Scores)+len(r.run.Signals))
	for _, h := range r.run.Scores {
		r.scores[h.AccountID] = h
		ids = append(ids, h.AccountID)
	}
	for _, sg := range r.run.Signals {
		ids = append(ids, sg.AccountID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)

	b := &pgx.Batch{}
	b.Queue(signalAccountsSQL, ids)
	b.Queue(signalFamiliesSQL, ids)
	b.Queue(signalSnoozesSQL, ids, r.run.Now)
	br := r.tx.SendBatch(ctx, b)
	defer br.Close()

	r.accounts = make(map[int64]*signalAccount, len(ids))
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("load accounts: %w", err)
	}
	var a signalAccount
	var tier string
	var arr int64
	var prefs []byte
	_, err = pgx.ForEachRow(rows, []any{&a.brief.ID, &a.brief.ExternalID, &a.brief.Name, &tier, &arr, &a.brief.CSM,
		&a.brief.AE, &a.brief.Channel, &a.watched, &prefs}, func() error {
		acct := a
		acct.brief.Tier, acct.brief.ARR = csbot.Tier(tier), csbot.Cents(arr)
		if len(prefs) > 0 && json.Unmarshal(prefs, &acct.prefs) != nil {
			acct.prefs = csbot.NotifyPrefs{} // unreadable preferences are none
		}
		r.accounts[acct.brief.ID] = &acct
		return nil
	})
	if err != nil {
		return fmt.Errorf("load accounts: %w", err)
	}

	r.states = map[string]csbot.FamilyState{}
	rows, err = br.Query()
	if err != nil {
		return fmt.Errorf("load families: %w", err)
	}
	var st csbot.FamilyState
	var alertAt *time.Time
	_, err = pgx.ForEachRow(rows, []any{&st.Family, &st.AccountID, &st.Kind, &st.Episode, &st.SignalKey, &st.Severity,
		&st.Evidence, &st.FirstSeen, &st.LastSeen, &st.Baselined, &st.AlertID, &st.AlertState, &alertAt}, func() error {
		st.AlertAt = deref(alertAt)
		r.states[st.Family] = st
		return nil
	})
	if err != nil {
		return fmt.Errorf("load families: %w", err)
	}

	r.snoozes = map[snoozeKey]time.Time{}
	rows, err = br.Query()
	if err != nil {
		return fmt.Errorf("load snoozes: %w", err)
	}
	var k snoozeKey
	var until time.Time
	_, err = pgx.ForEachRow(rows, []any{&k.account, &k.kind, &until}, func() error {
		r.snoozes[k] = until
		return nil
	})
	if err != nil {
		return fmt.Errorf("load snoozes: %w", err)
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

// raisedAlert is an alert a decision raised.
type raisedAlert struct {
	order    int // of its decision
	d        csbot.SignalDecision
	account  *signalAccount
	routed   string // channel, dm, digest, off or snoozed
	state    csbot.AlertState
	snoozed  *time.Time // until when, for a snoozed one
	key      string     // the alert's dedupe key
	id       int64      // once inserted
	inserted bool
}

// item returns the alert as an item of its message.
func (a *raisedAlert) item() csbot.AlertItem {
	sg := a.d.Signal
	it := csbot.AlertItem{AlertID: a.id, Kind: sg.Kind, Severity: sg.Severity, Evidence: sg.Evidence, SignalKey: sg.DedupeKey}
	if a.d.Action == csbot.ActionWorse && a.d.Previous != nil {
		it.Was, it.WasSeverity, it.WasAt = a.d.Previous.Evidence, a.d.Previous.Severity, a.d.Previous.AlertAt
	}
	return it
}

// reopening is an alert a decision reopens.
type reopening struct {
	order   int
	family  string
	alertID int64
	account int64
}

// baselinedSignal is a signal remembered without an alert.
type baselinedSignal struct {
	order int
	sg    csbot.Signal
}

// applied is what applying the decisions leaves to the later steps.
type applied struct {
	raised    []*raisedAlert // inserted, in decision order
	reopen    []reopening
	baselined []baselinedSignal
}

// familyRow is a signal_families row to write.
type familyRow struct {
	st    csbot.FamilyState
	alert int64 // 0 for none
}

const (
	insertAlertsSQL = `
INSERT INTO alerts (account_id, kind, severity, dedupe_key, evidence, state, family, episode, supersedes_id, routed,
                    snoozed_until, created_at, updated_at)
SELECT u.account_id, u.kind, u.severity, u.dedupe_key, u.evidence, u.state, u.family, u.episode,
       nullif(u.supersedes_id, 0), u.routed, u.snoozed_until, $12, $12
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::integer[],
              $9::bigint[], $10::text[], $11::timestamptz[])
       AS u(account_id, kind, severity, dedupe_key, evidence, state, family, episode, supersedes_id, routed,
            snoozed_until)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id, dedupe_key`

	// existingAlertsSQL finds the alerts of the keys $1 another writer
	// made.
	existingAlertsSQL = `SELECT id, dedupe_key FROM alerts WHERE dedupe_key = ANY($1::text[])`

	upsertFamiliesSQL = `
INSERT INTO signal_families (family, account_id, kind, episode, signal_key, severity, evidence, first_seen, last_seen,
                             baselined, resolved_at, alert_id)
SELECT u.family, u.account_id, u.kind, u.episode, u.signal_key, u.severity, u.evidence, u.first_seen, u.last_seen,
       u.baselined, NULL, nullif(u.alert_id, 0)
  FROM unnest($1::text[], $2::bigint[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[],
              $8::timestamptz[], $9::timestamptz[], $10::boolean[], $11::bigint[])
       AS u(family, account_id, kind, episode, signal_key, severity, evidence, first_seen, last_seen, baselined,
            alert_id)
ON CONFLICT (family) DO UPDATE
   SET account_id = excluded.account_id, kind = excluded.kind, episode = excluded.episode,
       signal_key = excluded.signal_key, severity = excluded.severity, evidence = excluded.evidence,
       first_seen = excluded.first_seen, last_seen = excluded.last_seen, baselined = excluded.baselined,
       resolved_at = NULL, alert_id = excluded.alert_id`

	seenFamiliesSQL = `UPDATE signal_families SET last_seen = $2 WHERE family = ANY($1::text[])`
)

// applyDecisions records the decisions: the alerts they raise and the
// state of their families.
func (r *signalRecorder) applyDecisions(ctx context.Context, plan csbot.SignalPlan) (applied, error) {
	now := r.run.Now
	rearm := time.Duration(r.run.Policy.SignalRearmDays) * 24 * time.Hour
	var ap applied
	var raised []*raisedAlert
	var families []string
	rows := map[string]familyRow{}
	put := func(row familyRow) {
		if _, ok := rows[row.st.Family]; !ok {
			families = append(families, row.st.Family)
		}
		rows[row.st.Family] = row
	}
	var seen []string
	for i, d := range plan.Decisions {
		sg := d.Signal
		acct := r.accounts[sg.AccountID]
		st := csbot.FamilyState{Family: sg.Family(), AccountID: sg.AccountID, Kind: sg.Kind, Episode: d.Episode,
			SignalKey: sg.DedupeKey, Severity: sg.Severity, Evidence: sg.Evidence, FirstSeen: now, LastSeen: now}
		switch d.Action {
		case csbot.ActionBaseline:
			if p := d.Previous; p != nil && now.Before(p.LastSeen.Add(rearm)) {
				st.FirstSeen = p.FirstSeen // the episode goes on
			}
			st.Baselined = true
			put(familyRow{st: st})
			ap.baselined = append(ap.baselined, baselinedSignal{order: i, sg: sg})
			r.res.Counts["baselined"]++
		case csbot.ActionAlert, csbot.ActionWorse:
			if d.Action == csbot.ActionWorse && d.Previous != nil {
				st.FirstSeen = d.Previous.FirstSeen
			}
			put(familyRow{st: st}) // its alert is filled in below
			raised = append(raised, r.route(i, d, acct))
		case csbot.ActionReopen:
			if d.Previous != nil {
				ap.reopen = append(ap.reopen, reopening{order: i, family: st.Family, alertID: d.Previous.AlertID, account: sg.AccountID})
			}
		case csbot.ActionSeen:
			seen = append(seen, st.Family)
			r.res.Counts["seen"]++
		}
	}

	if err := r.insertAlerts(ctx, raised); err != nil {
		return ap, err
	}
	for _, a := range raised {
		row := rows[a.d.Signal.Family()]
		if row.st.SignalKey == a.d.Signal.DedupeKey {
			row.alert = a.id
			rows[row.st.Family] = row
		}
		if !a.inserted {
			continue
		}
		ap.raised = append(ap.raised, a)
		if a.d.Action == csbot.ActionWorse {
			r.res.Counts["worse"]++
		} else {
			r.res.Counts["new"]++
		}
		switch a.routed {
		case "snoozed", "off", "digest":
			r.res.Counts[a.routed]++
		}
	}

	if len(families) > 0 {
		n := len(families)
		fam, kind, key, sev, evidence := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		account, alert := make([]int64, n), make([]int64, n)
		episode := make([]int, n)
		first, last := make([]time.Time, n), make([]time.Time, n)
		baselined := make([]bool, n)
		for i, f := range families {
			row := rows[f]
			st := row.st
			fam[i], account[i], kind[i], episode[i], key[i] = st.Family, st.AccountID, string(st.Kind), st.Episode, st.SignalKey
			sev[i], evidence[i], first[i], last[i] = string(st.Severity), st.Evidence, st.FirstSeen, st.LastSeen
			baselined[i], alert[i] = st.Baselined, row.alert
		}
		if _, err := r.tx.Exec(ctx, upsertFamiliesSQL, fam, account, kind, episode, key, sev, evidence, first, last,
			baselined, alert); err != nil {
			return ap, fmt.Errorf("record families: %w", err)
		}
	}
	if len(seen) > 0 {
		if _, err := r.tx.Exec(ctx, seenFamiliesSQL, seen, now); err != nil {
			return ap, fmt.Errorf("record families seen: %w", err)
		}
	}
	return ap, nil
}

// route decides where the alert of decision d goes.
func (r *signalRecorder) route(order int, d csbot.SignalDecision, acct *signalAccount) *raisedAlert {
	sg := d.Signal
	a := &raisedAlert{order: order, d: d, account: acct, state: csbot.AlertOpen,
		key: sg.DedupeKey + "#" + strconv.Itoa(d.Episode)}
	until, snoozed := r.snoozes[snoozeKey{sg.AccountID, sg.Kind}]
	switch {
	case !r.run.Policy.Tier(acct.brief.Tier).Alerts.Alerting(sg.Kind):
		a.routed = string(csbot.RouteOff)
	case snoozed:
		a.routed, a.state, a.snoozed = "snoozed", csbot.AlertSnoozed, &until
	default:
		a.routed = string(acct.prefs.Route(sg.Kind, r.run.Policy))
	}
	return a
}

// insertAlerts inserts the alerts raised, in one statement, and fills in
// their ids. An alert whose key another writer recorded first is left
// uninserted, with the id of that writer's alert.
func (r *signalRecorder) insertAlerts(ctx context.Context, raised []*raisedAlert) error {
	if len(raised) == 0 {
		return nil
	}
	n := len(raised)
	account, supersedes := make([]int64, n), make([]int64, n)
	kind, sev, key, evidence, state, family, routed := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	episode := make([]int, n)
	snoozed := make([]*time.Time, n)
	for i, a := range raised {
		sg := a.d.Signal
		account[i], kind[i], sev[i], key[i], evidence[i] = sg.AccountID, string(sg.Kind), string(sg.Severity), a.key, sg.Evidence
		state[i], family[i], episode[i], routed[i], snoozed[i] = string(a.state), sg.Family(), a.d.Episode, a.routed, a.snoozed
		if a.d.Action == csbot.ActionWorse && a.d.Previous != nil {
			supersedes[i] = a.d.Previous.AlertID
		}
	}
	rows, err := r.tx.Query(ctx, insertAlertsSQL, account, kind, sev, key, evidence, state, family, episode,
		supersedes, routed, snoozed, r.run.Now)
	if err != nil {
		return fmt.Errorf("insert alerts: %w", err)
	}
	ids := map[string]int64{}
	var id int64
	var k string
	if _, err := pgx.ForEachRow(rows, []any{&id, &k}, func() error { ids[k] = id; return nil }); err != nil {
		return fmt.Errorf("insert alerts: %w", err)
	}
	var taken []string
	for _, a := range raised {
		if id, ok := ids[a.key]; ok {
			a.id, a.inserted = id, true
			delete(ids, a.key) // a key twice in one run is inserted once
		} else {
			taken = append(taken, a.key)
		}
	}
	if len(taken) == 0 {
		return nil
	}
	rows, err = r.tx.Query(ctx, existingAlertsSQL, taken)
	if err != nil {
		return fmt.Errorf("existing alerts: %w", err)
	}
	existing := map[string]int64{}
	if _, err := pgx.ForEachRow(rows, []any{&id, &k}, func() error { existing[k] = id; return nil }); err != nil {
		return fmt.Errorf("existing alerts: %w", err)
	}
	for _, a := range raised {
		if !a.inserted {
			a.id = existing[a.key]
		}
	}
	return nil
}

// outgoing is a notification to write, and the alerts whose message it
// is.
type outgoing struct {
	order   int // of the decision that made it
	n       csbot.Notification
	alerts  []int64
	channel string // the channel of those alerts, when posted in one
}

// alertChangeTargets ends the queries that change alerts (an "up" CTE
// returning id, account_id, notification_id): each alert changed with the
// target of its message.
const alertChangeTargets = `
SELECT up.id, up.account_id, coalesce(n.id, 0), coalesce(n.target_channel, ''), coalesce(n.target_user, '')
  FROM up
  LEFT JOIN notifications n ON n.id = up.notification_id`

const (
	// reopenAlertsSQL reopens the resolved alerts $1 at $2 and returns
	// them with the targets of their messages.
	reopenAlertsSQL = `
WITH up AS (
    UPDATE alerts SET state = CASE WHEN acked_at IS NULL THEN 'open' ELSE 'acknowledged' END,
                      resolved_at = NULL, updated_at = $2
     WHERE id = ANY($1::bigint[]) AND state = 'resolved'
    RETURNING id, account_id, notification_id
)` + alertChangeTargets

	reopenFamiliesSQL = `UPDATE signal_families SET last_seen = $2, resolved_at = NULL WHERE family = ANY($1::text[])`

	// resolveAlertsSQL resolves the live alerts $1 at $2 and returns them
	// with the targets of their messages.
	resolveAlertsSQL = `
WITH up AS (
    UPDATE alerts SET state = 'resolved', resolved_at = $2, updated_at = $2
     WHERE id = ANY($1::bigint[]) AND state <> 'resolved'
    RETURNING id, account_id, notification_id
)` + alertChangeTargets

	resolveFamiliesSQL = `UPDATE signal_families SET resolved_at = $2 WHERE family = ANY($1::text[])`

	// supersedeAlertsSQL marks the live alerts $1, which a worse alert of
	// the same signal replaces, superseded at $2, so that they escalate,
	// resolve and count no more; their messages say so.
	supersedeAlertsSQL = `
WITH up AS (
    UPDATE alerts SET state = 'superseded', updated_at = $2
     WHERE id = ANY($1::bigint[]) AND state IN ('open', 'acknowledged', 'escalated', 'snoozed')
    RETURNING id, account_id, notification_id
)` + alertChangeTargets
)

// supersede marks the alerts that worse alerts replace as superseded, and
// returns the updates of their messages. A worse alert that is not posted
// (snoozed, off, digest only) leaves the one before it standing.
func (r *signalRecorder) supersede(ctx context.Context, raised []*raisedAlert) ([]outgoing, error) {
	var ids []int64
	order := map[int64]int{}
	for _, a := range raised {
		posted := a.routed == string(csbot.RouteChannel) || a.routed == string(csbot.RouteDM)
		if a.d.Action == csbot.ActionWorse && posted && a.d.Previous != nil && a.d.Previous.AlertID != 0 {
			ids = append(ids, a.d.Previous.AlertID)
			order[a.d.Previous.AlertID] = a.order
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	out, _, err := r.changeAlerts(ctx, supersedeAlertsSQL, ids, "superseded", order)
	if err != nil {
		return nil, fmt.Errorf("supersede: %w", err)
	}
	return out, nil
}

// reopen reopens the alerts of the families back within the re-arm
// period, and returns the updates of their messages.
func (r *signalRecorder) reopen(ctx context.Context, reopen []reopening) ([]outgoing, error) {
	if len(reopen) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(reopen))
	families := make([]string, len(reopen))
	order := map[int64]int{}
	for i, o := range reopen {
		ids[i], families[i] = o.alertID, o.family
		if _, ok := order[o.alertID]; !ok {
			order[o.alertID] = o.order
		}
	}
	if _, err := r.tx.Exec(ctx, reopenFamiliesSQL, families, r.run.Now); err != nil {
		return nil, fmt.Errorf("reopen: families: %w", err)
	}
	out, n, err := r.changeAlerts(ctx, reopenAlertsSQL, ids, "reopened", order)
	if err != nil {
		return nil, fmt.Errorf("reopen: %w", err)
	}
	r.res.Counts["reopened"] += n
	return out, nil
}

// resolve resolves the alerts of the families that cleared, and returns
// the updates of their messages, in the plan's order.
func (r *signalRecorder) resolve(ctx context.Context, resolved []csbot.FamilyState) ([]outgoing, error) {
	if len(resolved) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(resolved))
	families := make([]string, len(resolved))
	order := map[int64]int{}
	for i, st := range resolved {
		ids[i], families[i], order[st.AlertID] = st.AlertID, st.Family, i
	}
	if _, err := r.tx.Exec(ctx, resolveFamiliesSQL, families, r.run.Now); err != nil {
		return nil, fmt.Errorf("resolve: families: %w", err)
	}
	out, n, err := r.changeAlerts(ctx, resolveAlertsSQL, ids, "resolved", order)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	r.res.Counts["resolved"] += n
	slices.SortStableFunc(out, func(a, b outgoing) int { return cmp.Compare(a.order, b.order) })
	return out, nil
}

// changeAlerts runs q, reopenAlertsSQL or resolveAlertsSQL, over the
// alerts ids, and returns an update of the message of each alert changed
// that had one, and how many it changed.
func (r *signalRecorder) changeAlerts(ctx context.Context, q string, ids []int64, change string, order map[int64]int) ([]outgoing, int, error) {
	rows, err := r.tx.Query(ctx, q, ids, r.run.Now)
	if err != nil {
		return nil, 0, err
	}
	var out []outgoing
	changed := 0
	var alert, account, notification int64
	var channel, user string
	_, err = pgx.ForEachRow(rows, []any{&alert, &account, &notification, &channel, &user}, func() error {
		changed++
		if notification == 0 {
			return nil
		}
		payload, err := json.Marshal(csbot.AlertUpdate{Notification: notification, AlertID: alert, Change: change, At: r.run.Now})
		if err != nil {
			return err
		}
		n := csbot.Notification{
			Key:       fmt.Sprintf("alert_update:%d:%s:%d", alert, change, r.run.Now.Unix()),
			Kind:      csbot.NotifyAlertUpdate,
			AccountID: account,
			Channel:   channel,
			User:      user,
			Payload:   payload,
		}
		if a := r.accounts[account]; a != nil {
			n.FallbackUser = a.brief.CSM
		}
		out = append(out, outgoing{order: order[alert], n: n})
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, changed, nil
}

// target is where an account's alert message goes: a channel or a user.
type target struct {
	account       int64
	channel, user string
}

// alertGroup is the alerts of one message.
type alertGroup struct {
	target
	order  int
	alerts []*raisedAlert
	// latest is the account's latest alert message to the target, if any.
	latest *latestMessage
}

// latestMessage is an account's latest alert message to a target.
type latestMessage struct {
	id       int64
	state    csbot.NotificationState
	attempts int
	// outAt is when it went out (sent_at), or is due to (its not-before),
	// whichever is later: the next message waits the interval from then.
	outAt time.Time
}

const (
	// latestMessagesSQL reads the latest alert message of each account
	// $1 to the target $2 (channel) or $3 (user); $4 numbers the targets.
	latestMessagesSQL = `
SELECT g.i, n.id, n.state, n.attempts, greatest(n.next_attempt_at, coalesce(n.sent_at, n.next_attempt_at))
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[]) AS g(account_id, channel, usr, i)
  JOIN LATERAL (SELECT id, state, attempts, created_at, next_attempt_at, sent_at FROM notifications n
                 WHERE n.account_id = g.account_id AND n.kind = 'alert'
                   AND coalesce(n.target_channel, '') = g.channel AND coalesce(n.target_user, '') = g.usr
                 ORDER BY n.created_at DESC, n.id DESC
                 LIMIT 1) n ON true`

	// lockPendingSQL locks the messages $1 that are still pending and
	// untried, and reads their payloads.
	lockPendingSQL = `
SELECT id, payload FROM notifications
 WHERE id = ANY($1::bigint[]) AND kind = 'alert' AND state = 'pending' AND attempts = 0
   FOR UPDATE`

	appendPayloadsSQL = `
UPDATE notifications n SET payload = u.payload::jsonb, updated_at = $3
  FROM unnest($1::bigint[], $2::text[]) AS u(id, payload)
 WHERE n.id = u.id`

	// linkAlertsSQL records the message of each alert, and the channel it
	// is posted in.
	linkAlertsSQL = `
UPDATE alerts a SET notification_id = u.notification_id, channel_id = nullif(u.channel, ''), updated_at = $4
  FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS u(id, notification_id, channel)
 WHERE a.id = u.id`

	// signalRenewalsSQL reads, for the accounts $1, the next open renewal
	// dated $2 or later and its active renewal contact, the first by name.
	signalRenewalsSQL = `
SELECT g.id, r.id, r.renewal_date, r.arr_cents, r.auto_renew, coalesce(c.name, ''), coalesce(c.title, '')
  FROM unnest($1::bigint[]) AS g(id)
  JOIN LATERAL (SELECT id, renewal_date, arr_cents, auto_renew FROM renewals
                 WHERE account_id = g.id AND status = 'open' AND renewal_date >= $2::date
                 ORDER BY renewal_date, id
                 LIMIT 1) r ON true
  LEFT JOIN LATERAL (SELECT name, title FROM contacts
                      WHERE account_id = g.id AND role = 'renewal' AND active
                      ORDER BY lower(name), name, id
                      LIMIT 1) c ON true`
)

// alertMessages groups the alerts routed to a channel or by DM into one
// message per account and target, joins them to the target's message
// still pending, and returns the messages to write.
func (r *signalRecorder) alertMessages(ctx context.Context, raised []*raisedAlert) ([]outgoing, error) {
	var groups []*alertGroup
	byTarget := map[target]*alertGroup{}
	warned := map[int64]bool{}
	for _, a := range raised {
		if a.routed != string(csbot.RouteChannel) && a.routed != string(csbot.RouteDM) {
			continue
		}
		b := a.account.brief
		t := target{account: b.ID}
		switch {
		case a.routed == string(csbot.RouteChannel) && b.Channel != "":
			t.channel = b.Channel
		case b.CSM != "":
			t.user = b.CSM
		default:
			r.res.Counts["unrouted"]++
			if !warned[b.ID] {
				warned[b.ID] = true
				r.s.log.WarnContext(ctx, "alert not sent: the account has no channel and no CSM", "account", b.ID,
					"alert", a.id, "kind", a.d.Signal.Kind)
			}
			continue
		}
		g := byTarget[t]
		if g == nil {
			g = &alertGroup{target: t, order: a.order}
			byTarget[t] = g
			groups = append(groups, g)
		}
		g.alerts = append(g.alerts, a)
	}
	if len(groups) == 0 {
		return nil, nil
	}
	if err := r.latestMessages(ctx, groups); err != nil {
		return nil, fmt.Errorf("alert messages: %w", err)
	}
	rest, err := r.appendToPending(ctx, groups)
	if err != nil {
		return nil, fmt.Errorf("alert messages: %w", err)
	}
	renewals, err := r.renewals(ctx, rest)
	if err != nil {
		return nil, fmt.Errorf("alert messages: %w", err)
	}

	interval := time.Duration(r.run.Policy.Notifications.AlertIntervalMinutes) * time.Minute
	out := make([]outgoing, 0, len(rest))
	for _, g := range rest {
		acct := r.accounts[g.account]
		msg := csbot.AlertMessage{Account: acct.brief, Health: csbot.BriefOf(r.scores[g.account]),
			Renewal: renewals[g.account], At: r.run.Now}
		o := outgoing{order: g.order, channel: g.channel}
		first := g.alerts[0].id
		for _, a := range g.alerts {
			msg.Items = append(msg.Items, a.item())
			o.alerts = append(o.alerts, a.id)
			first = min(first, a.id)
		}
		payload, err := json.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("alert messages: %w", err)
		}
		o.n = csbot.Notification{
			Key:          fmt.Sprintf("alert:%d:%d", g.account, first),
			Kind:         csbot.NotifyAlert,
			AccountID:    g.account,
			Channel:      g.channel,
			User:         g.user,
			FallbackUser: acct.brief.CSM,
			Payload:      payload,
			NotBefore:    r.run.Now,
		}
		if l := g.latest; l != nil && r.run.Now.Sub(l.outAt) < interval {
			o.n.NotBefore = l.outAt.Add(interval)
		}
		out = append(out, o)
	}
	return out, nil
}

// latestMessages finds the latest alert message of each group's account
// to its target, in one query.
func (r *signalRecorder) latestMessages(ctx context.Context, groups []*alertGroup) error {
	n := len(groups)
	accounts, index := make([]int64, n), make([]int, n)
	channels, users := make([]string, n), make([]string, n)
	for i, g := range groups {
		accounts[i], channels[i], users[i], index[i] = g.account, g.channel, g.user, i
	}
	rows, err := r.tx.Query(ctx, latestMessagesSQL, accounts, channels, users, index)
	if err != nil {
		return fmt.Errorf("latest messages: %w", err)
	}
	var i int
	var l latestMessage
	_, err = pgx.ForEachRow(rows, []any{&i, &l.id, &l.state, &l.attempts, &l.outAt}, func() error {
		if i >= 0 && i < n {
			latest := l
			groups[i].latest = &latest
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("latest messages: %w", err)
	}
	return nil
}

// appendToPending adds the alerts of each group whose latest message is
// still pending and untried to that message, and returns the groups that
// need a message of their own.
func (r *signalRecorder) appendToPending(ctx context.Context, groups []*alertGroup) ([]*alertGroup, error) {
	var pending []int64
	for _, g := range groups {
		if l := g.latest; l != nil && l.state == csbot.NotificationPending && l.attempts == 0 {
			pending = append(pending, l.id)
		}
	}
	if len(pending) == 0 {
		return groups, nil
	}
	rows, err := r.tx.Query(ctx, lockPendingSQL, pending)
	if err != nil {
		return nil, fmt.Errorf("lock pending messages: %w", err)
	}
	payloads := map[int64][]byte{}
	var id int64
	var payload []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &payload}, func() error {
		payloads[id] = slices.Clone(payload)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lock pending messages: %w", err)
	}

	var rest []*alertGroup
	var ids []int64
	var texts []string
	var linkAlerts, linkMessages []int64
	var linkChannels []string
	for _, g := range groups {
		var old []byte
		if g.latest != nil {
			old = payloads[g.latest.id]
		}
		if old == nil {
			rest = append(rest, g) // sent meanwhile, or never pending
			continue
		}
		var msg csbot.AlertMessage
		if err := json.Unmarshal(old, &msg); err != nil {
			r.s.log.WarnContext(ctx, "pending alert message unreadable; writing a new one", "notification", g.latest.id, "err", err)
			rest = append(rest, g)
			continue
		}
		for _, a := range g.alerts {
			msg.Items = append(msg.Items, a.item())
			linkAlerts, linkMessages, linkChannels = append(linkAlerts, a.id), append(linkMessages, g.latest.id), append(linkChannels, g.channel)
		}
		b, err := json.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("append to message %d: %w", g.latest.id, err)
		}
		ids, texts = append(ids, g.latest.id), append(texts, string(b))
		r.res.Counts["appended"] += len(g.alerts)
	}
	if len(ids) == 0 {
		return rest, nil
	}
	if _, err := r.tx.Exec(ctx, appendPayloadsSQL, ids, texts, r.run.Now); err != nil {
		return nil, fmt.Errorf("append to pending messages: %w", err)
	}
	if _, err := r.tx.Exec(ctx, linkAlertsSQL, linkAlerts, linkMessages, linkChannels, r.run.Now); err != nil {
		return nil, fmt.Errorf("link alerts to pending messages: %w", err)
	}
	return rest, nil
}

// renewals reads the next renewal of the accounts of groups.
func (r *signalRecorder) renewals(ctx context.Context, groups []*alertGroup) (map[int64]*csbot.RenewalBrief, error) {
	out := map[int64]*csbot.RenewalBrief{}
	if len(groups) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(groups))
	for _, g := range groups {
		ids = append(ids, g.account)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	u := r.run.Now.UTC()
	today := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	rows, err := r.tx.Query(ctx, signalRenewalsSQL, ids, today)
	if err != nil {
		return nil, fmt.Errorf("renewals: %w", err)
	}
	var account, arr int64
	var rb csbot.RenewalBrief
	_, err = pgx.ForEachRow(rows, []any{&account, &rb.ID, &rb.Date, &arr, &rb.AutoRenew, &rb.Contact, &rb.ContactRef}, func() error {
		b := rb
		b.ARR = csbot.Cents(arr)
		d := b.Date.UTC()
		b.Date = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		b.DaysLeft = int(b.Date.Sub(today).Hours() / 24)
		out[account] = &b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("renewals: %w", err)
	}
	return out, nil
}

// write writes the notifications of out in order, and links each alert
// message to its alerts.
func (r *signalRecorder) write(ctx context.Context, out []outgoing) error {
	var alerts, messages []int64
	var channels []string
	batch := make([]csbot.Notification, len(out))
	for i, o := range out {
		batch[i] = o.n
	}
	ns, written, err := r.s.insertNotifications(ctx, r.tx, batch, r.run.Now)
	if err != nil {
		return err
	}
	for i, o := range out {
		if !written[i] {
			continue // another pass wrote this very message
		}
		n := ns[i]
		r.res.Notifications = append(r.res.Notifications, n)
		for _, a := range o.alerts {
			alerts, messages, channels = append(alerts, a), append(messages, n.ID), append(channels, o.channel)
		}
	}
	if len(alerts) == 0 {
		return nil
	}
	if _, err := r.tx.Exec(ctx, linkAlertsSQL, alerts, messages, channels, r.run.Now); err != nil {
		return fmt.Errorf("link alerts to messages: %w", err)
	}
	return nil
}

const watchAccountsSQL = `
INSERT INTO watched_accounts (account_id, since)
SELECT id, $2 FROM unnest($1::bigint[]) AS u(id)
ON CONFLICT (account_id) DO NOTHING
RETURNING account_id`

// baseline watches every account of the run not yet watched, and returns
// one summary per CSM of the risks their newly watched accounts already
// had.
func (r *signalRecorder) baseline(ctx context.Context, baselined []baselinedSignal) ([]outgoing, error) {
	var unwatched []int64
	for id, a := range r.accounts {
		if !a.watched {
			unwatched = append(unwatched, id)
		}
	}
	if len(unwatched) == 0 {
		return nil, nil
	}
	slices.Sort(unwatched)
	rows, err := r.tx.Query(ctx, watchAccountsSQL, unwatched, r.run.Now)
	if err != nil {
		return nil, fmt.Errorf("baseline: watch accounts: %w", err)
	}
	watched := map[int64]bool{}
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { watched[id] = true; return nil }); err != nil {
		return nil, fmt.Errorf("baseline: watch accounts: %w", err)
	}
	r.res.Counts["watched"] = len(watched)

	type summary struct {
		order    int
		first    int64 // the smallest newly watched account id
		accounts map[int64]*csbot.BaselineAccount
		watched  int
	}
	byCSM := map[string]*summary{}
	for id := range watched {
		csm := r.accounts[id].brief.CSM
		if csm == "" {
			continue // watched, with nobody to tell
		}
		sm := byCSM[csm]
		if sm == nil {
			sm = &summary{order: -1, first: id, accounts: map[int64]*csbot.BaselineAccount{}}
			byCSM[csm] = sm
		}
		sm.watched++
		sm.first = min(sm.first, id)
	}
	for _, b := range baselined {
		acct := r.accounts[b.sg.AccountID]
		sm := byCSM[acct.brief.CSM]
		if !watched[acct.brief.ID] || sm == nil {
			continue
		}
		if sm.order < 0 {
			sm.order = b.order
		}
		ba := sm.accounts[acct.brief.ID]
		if ba == nil {
			ba = &csbot.BaselineAccount{Account: acct.brief, Health: csbot.BriefOf(r.scores[acct.brief.ID])}
			sm.accounts[acct.brief.ID] = ba
		}
		ba.Signals = append(ba.Signals, csbot.AlertItem{Kind: b.sg.Kind, Severity: b.sg.Severity,
			Evidence: b.sg.Evidence, SignalKey: b.sg.DedupeKey})
	}

	var out []outgoing
	for csm, sm := range byCSM {
		if len(sm.accounts) == 0 {
			continue
		}
		msg := csbot.BaselineMessage{CSM: csm, Watched: sm.watched, At: r.run.Now}
		for _, ba := range sm.accounts {
			msg.Accounts = append(msg.Accounts, *ba)
		}
		slices.SortFunc(msg.Accounts, func(a, b csbot.BaselineAccount) int {
			return cmp.Or(cmp.Compare(b.Account.ARR, a.Account.ARR), cmp.Compare(a.Account.Name, b.Account.Name),
				cmp.Compare(a.Account.ID, b.Account.ID))
		})
		payload, err := json.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		out = append(out, outgoing{order: sm.order, n: csbot.Notification{
			Key:          fmt.Sprintf("baseline:%s:%d", csm, sm.first),
			Kind:         csbot.NotifyBaseline,
			User:         csm,
			FallbackUser: csm,
			Payload:      payload,
		}})
	}
	slices.SortFunc(out, func(a, b outgoing) int { return cmp.Or(cmp.Compare(a.order, b.order), cmp.Compare(a.n.Key, b.n.Key)) })
	return out, nil
}
