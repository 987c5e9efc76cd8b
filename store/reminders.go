package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// reminderCandidatesSQL reads the open renewals of accounts that have not
// churned dated $1..$2, with what routing a reminder needs: the account,
// its CSM's time zone, and the offsets already recorded for the renewal's
// current date.
const reminderCandidatesSQL = `
SELECT r.id, r.account_id, r.renewal_date, r.arr_cents, r.auto_renew,
       a.external_id, a.name, a.tier, a.arr_cents, coalesce(a.csm_slack_id, ''), coalesce(a.ae_slack_id, ''),
       coalesce(a.slack_channel_id, ''), coalesce(u.timezone, ''),
       coalesce((SELECT array_agg(m.offset_days) FROM reminders m
                  WHERE m.renewal_id = r.id AND m.renewal_date = r.renewal_date), '{}')
  FROM renewals r
  JOIN accounts a ON a.id = r.account_id
  LEFT JOIN users u ON u.slack_id = a.csm_slack_id
 WHERE r.status = 'open' AND a.stage <> 'churned' AND r.renewal_date BETWEEN $1 AND $2
 ORDER BY r.renewal_date, r.id`

// insertRemindersSQL records due reminders, all at once; a reminder
// another pass recorded first is left out of what it returns.
const insertRemindersSQL = `
INSERT INTO reminders (renewal_id, renewal_date, offset_days, due_on, late, created_at)
SELECT u.renewal_id, u.renewal_date, u.offset_days, u.due_on, u.late, $6
  FROM unnest($1::bigint[], $2::date[], $3::integer[], $4::date[], $5::boolean[])
       AS u(renewal_id, renewal_date, offset_days, due_on, late)
ON CONFLICT (renewal_id, renewal_date, offset_days) DO NOTHING
RETURNING renewal_id, id`

// reminderDetailsSQL reads, for the accounts $1, the latest health
// snapshot (its score detail without the components) and the active
// renewal contact, the first by name.
const reminderDetailsSQL = `
SELECT a.id, h.score, h.band, h.components - 'components', c.name, c.title
  FROM accounts a
  LEFT JOIN LATERAL (SELECT score, band, components FROM health_scores
                      WHERE account_id = a.id ORDER BY day DESC LIMIT 1) h ON true
  LEFT JOIN LATERAL (SELECT name, title FROM contacts
                      WHERE account_id = a.id AND role = 'renewal' AND active
                      ORDER BY lower(name), name, id LIMIT 1) c ON true
 WHERE a.id = ANY($1)`

// reminderRisksSQL reads the live alerts of the accounts $1, the most
// severe first, then the oldest.
const reminderRisksSQL = `
SELECT account_id, id, kind, severity, evidence
  FROM alerts
 WHERE account_id = ANY($1) AND state IN ('open', 'acknowledged', 'escalated')
 ORDER BY account_id, CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, created_at, id`

// linkRemindersSQL records the notification of each reminder.
const linkRemindersSQL = `
UPDATE reminders m SET notification_id = u.notification_id
  FROM unnest($1::bigint[], $2::bigint[]) AS u(id, notification_id)
 WHERE m.id = u.id`

// reminderCandidate is an open renewal that may have a reminder due.
type reminderCandidate struct {
	renewal csbot.Renewal
	account csbot.AccountBrief
	zone    string
	done    []int // offsets recorded for the renewal's current date
}

// dueReminder is a reminder a pass found due and routable.
type dueReminder struct {
	c   reminderCandidate
	rem csbot.Reminder
	id  int64 // the reminders row, once recorded
}

// QueueReminders records the renewal reminders due at run.Now and queues
// their notifications, in one transaction; with run.DryRun it rolls that
// back and returns what it would have written.
//
// Reminders fall due at run.Policy's ReminderHour in each CSM's time zone
// (users.timezone; run.Zone when the CSM has none or it is not a zone Go
// knows; UTC when run.Zone is nil too). A pass works out from the
// database alone everything due by run.Now (csbot.ReminderDay, then
// csbot.DueReminder for every open renewal of an account that has not
// churned), so it needs no memory of earlier passes: after a restart
// three days late it sends each renewal's one most recent reminder, once,
// marked late, and skips the older missed ones. Each reminder is a unique reminders row (renewal, renewal date,
// offset), written in the transaction that writes its notification, whose
// key is the reminder's; so a second pass, or a second replica running
// the same pass at once, writes nothing more.
//
// A reminder goes to the account's channel, else by DM to the CSM (who is
// also the fallback when the channel refuses it). A reminder with neither
// is not recorded, so it is found again by later passes, and is counted
// as "unrouted". Counts: "due" (found due and not yet recorded, unrouted
// ones included), "late" (of those, due on an earlier day), "queued"
// (notifications written), "unrouted".
func (s *Store) QueueReminders(ctx context.Context, run csbot.ReminderRun) (csbot.RunResult, error) {
	res := csbot.RunResult{Counts: map[string]int{"due": 0, "late": 0, "queued": 0, "unrouted": 0}}
	from, to, ok := reminderDates(run.Now, run.Policy)
	if !ok {
		return res, nil
	}
	fail := func(err error) (csbot.RunResult, error) {
		return csbot.RunResult{}, fmt.Errorf("queue reminders: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	cands, err := reminderCandidates(ctx, tx, from, to)
	if err != nil {
		return fail(err)
	}
	zones := zoneCache{fallback: run.Zone, m: map[string]*time.Location{}}
	hour := run.Policy.Notifications.ReminderHour
	var due []dueReminder
	for _, c := range cands {
		day := csbot.ReminderDay(run.Now, zones.get(c.zone), hour)
		rem, ok := csbot.DueReminder(c.renewal, c.account.Tier, run.Policy, day)
		if !ok || slices.Contains(c.done, rem.OffsetDays) {
			continue
		}
		if c.account.Channel == "" && c.account.CSM == "" {
			res.Counts["due"]++
			res.Counts["unrouted"]++
			if rem.Late {
				res.Counts["late"]++
			}
			continue
		}
		due = append(due, dueReminder{c: c, rem: rem})
	}
	if len(due) == 0 {
		return res, nil
	}

	due, err = recordReminders(ctx, tx, due, run.Now)
	if err != nil {
		return fail(err)
	}
	for _, d := range due {
		res.Counts["due"]++
		if d.rem.Late {
			res.Counts["late"]++
		}
	}
	details, err := reminderDetails(ctx, tx, due)
	if err != nil {
		return fail(err)
	}
	var reminderIDs, notificationIDs []int64
	batch := make([]csbot.Notification, 0, len(due))
	for _, d := range due {
		n, err := reminderNotification(d, details[d.c.account.ID], run.Now)
		if err != nil {
			return fail(err)
		}
		batch = append(batch, n)
	}
	ns, written, err := s.insertNotifications(ctx, tx, batch, run.Now)
	if err != nil {
		return fail(err)
	}
	for i, d := range due {
		n := ns[i]
		if !written[i] {
			continue // its key was written by an earlier reminders row, since removed
		}
		res.Counts["queued"]++
		res.Notifications = append(res.Notifications, n)
		reminderIDs = append(reminderIDs, d.id)
		notificationIDs = append(notificationIDs, n.ID)
	}
	if len(reminderIDs) > 0 {
		if _, err := tx.Exec(ctx, linkRemindersSQL, reminderIDs, notificationIDs); err != nil {
			return fail(fmt.Errorf("link notifications: %w", err))
		}
	}
	if run.DryRun {
		for i := range res.Notifications {
			res.Notifications[i].ID = 0 // rolled back: the ids name nothing
		}
		return res, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(fmt.Errorf("commit: %w", err))
	}
	return res, nil
}

// reminderDates returns the renewal dates that may have a reminder due at
// now under p, in any time zone: from the day before yesterday (UTC) to
// the largest reminder offset beyond tomorrow. It reports false when p
// has no reminder days at all.
func reminderDates(now time.Time, p csbot.Policy) (from, to time.Time, ok bool) {
	most := -1
	for _, tier := range csbot.Tiers() {
		rp := p.Tier(tier).Renewals
		for _, o := range slices.Concat(rp.ReminderDays, rp.AutoRenewReminderDays) {
			most = max(most, o)
		}
	}
	if most < 0 {
		return time.Time{}, time.Time{}, false
	}
	u := now.UTC()
	today := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	// Local dates run from a day behind UTC's to a day ahead of it, and a
	// reminder day is the local date or the day before.
	return today.AddDate(0, 0, -2), today.AddDate(0, 0, most+2), true
}

// reminderCandidates reads the open renewals dated from..to.
func reminderCandidates(ctx context.Context, tx pgx.Tx, from, to time.Time) ([]reminderCandidate, error) {
	rows, err := tx.Query(ctx, reminderCandidatesSQL, from, to)
	if err != nil {
		return nil, fmt.Errorf("open renewals: %w", err)
	}
	var c reminderCandidate
	var tier string
	var arr, accountARR int64
	dest := []any{&c.renewal.ID, &c.renewal.AccountID, &c.renewal.RenewalDate, &arr, &c.renewal.AutoRenew,
		&c.account.ExternalID, &c.account.Name, &tier, &accountARR, &c.account.CSM, &c.account.AE,
		&c.account.Channel, &c.zone, &c.done}
	var out []reminderCandidate
	_, err = pgx.ForEachRow(rows, dest, func() error {
		c.renewal.Status = csbot.RenewalOpen
		c.renewal.ARR = csbot.Cents(arr)
		c.account.ID = c.renewal.AccountID
		c.account.Tier = csbot.Tier(tier)
		c.account.ARR = csbot.Cents(accountARR)
		out = append(out, c)
		c.done = nil // scanned anew into a fresh slice, not into the one kept
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open renewals: %w", err)
	}
	return out, nil
}

// recordReminders inserts the reminders rows of due and returns those it
// wrote, with their ids, in due's order. A concurrent pass that wrote one
// first makes this one wait for it to commit and then leave it out.
func recordReminders(ctx context.Context, tx pgx.Tx, due []dueReminder, now time.Time) ([]dueReminder, error) {
	renewals := make([]int64, len(due))
	dates := make([]time.Time, len(due))
	offsets := make([]int, len(due))
	dueOn := make([]time.Time, len(due))
	late := make([]bool, len(due))
	for i, d := range due {
		renewals[i], dates[i], offsets[i], dueOn[i], late[i] = d.rem.RenewalID, d.rem.RenewalDate, d.rem.OffsetDays, d.rem.DueOn, d.rem.Late
	}
	rows, err := tx.Query(ctx, insertRemindersSQL, renewals, dates, offsets, dueOn, late, now)
	if err != nil {
		return nil, fmt.Errorf("record reminders: %w", err)
	}
	ids := map[int64]int64{}
	var renewal, id int64
	if _, err := pgx.ForEachRow(rows, []any{&renewal, &id}, func() error { ids[renewal] = id; return nil }); err != nil {
		return nil, fmt.Errorf("record reminders: %w", err)
	}
	out := due[:0]
	for _, d := range due {
		if id, ok := ids[d.rem.RenewalID]; ok {
			d.id = id
			out = append(out, d)
		}
	}
	return out, nil
}

// reminderDetail is what a reminder says of its account beyond the
// account itself.
type reminderDetail struct {
	health     csbot.HealthBrief
	contact    string
	contactRef string
	risks      []csbot.AlertItem
}

// reminderDetails reads the details of the accounts of due, in one round
// trip.
func reminderDetails(ctx context.Context, tx pgx.Tx, due []dueReminder) (map[int64]*reminderDetail, error) {
	out := map[int64]*reminderDetail{}
	var accounts []int64
	for _, d := range due {
		if _, ok := out[d.c.account.ID]; !ok {
			out[d.c.account.ID] = &reminderDetail{}
			accounts = append(accounts, d.c.account.ID)
		}
	}
	b := &pgx.Batch{}
	b.Queue(reminderDetailsSQL, accounts)
	b.Queue(reminderRisksSQL, accounts)
	br := tx.SendBatch(ctx, b)
	defer br.Close()

	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("reminder details: %w", err)
	}
	var id int64
	var score *int
	var band, contact, title *string
	var detail []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &score, &band, &detail, &contact, &title}, func() error {
		d := out[id]
		d.health = csbot.HealthBrief{Score: deref(score), Band: csbot.Band(deref(band))}
		if len(detail) > 0 {
			var sd scoreDetail
			if err := json.Unmarshal(detail, &sd); err != nil {
				return fmt.Errorf("score detail of account %d: %w", id, err)
			}
			d.health.Trend, d.health.Coverage = sd.Trend, sd.Coverage
		}
		d.contact, d.contactRef = deref(contact), deref(title)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reminder details: %w", err)
	}

	rows, err = br.Query()
	if err != nil {
		return nil, fmt.Errorf("reminder risks: %w", err)
	}
	var it csbot.AlertItem
	var kind, severity string
	_, err = pgx.ForEachRow(rows, []any{&id, &it.AlertID, &kind, &severity, &it.Evidence}, func() error {
		it.Kind, it.Severity = csbot.SignalKind(kind), csbot.SignalSeverity(severity)
		out[id].risks = append(out[id].risks, it)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reminder risks: %w", err)
	}
	return out, br.Close()
}

// reminderNotification returns the notification of reminder d.
func reminderNotification(d dueReminder, detail *reminderDetail, now time.Time) (csbot.Notification, error) {
	if detail == nil {
		detail = &reminderDetail{}
	}
	r := d.c.renewal
	msg := csbot.ReminderMessage{
		Account: d.c.account,
		Health:  detail.health,
		Renewal: csbot.RenewalBrief{
			ID: r.ID, Date: r.RenewalDate, ARR: r.ARR, AutoRenew: r.AutoRenew, DaysLeft: d.rem.DaysLeft,
			Contact: detail.contact, ContactRef: detail.contactRef,
		},
		Reminder: d.rem,
		Risks:    detail.risks,
		At:       now,
	}
	payload, err := json.Marshal(msg)
	if err != nil {
		return csbot.Notification{}, fmt.Errorf("reminder %s: %w", d.rem.Key, err)
	}
	n := csbot.Notification{
		Key:          d.rem.Key,
		Kind:         csbot.NotifyReminder,
		AccountID:    d.c.account.ID,
		Channel:      d.c.account.Channel,
		FallbackUser: d.c.account.CSM,
		Payload:      payload,
	}
	if n.Channel == "" {
		n.User = d.c.account.CSM
	}
	return n, nil
}

// zoneCache loads each time zone once per pass.
type zoneCache struct {
	fallback *time.Location // for unknown and missing zones; nil is UTC
	m        map[string]*time.Location
}

// get returns the zone named name, or the fallback when name is empty or
// not a zone Go knows.
func (z zoneCache) get(name string) *time.Location {
	if loc, ok := z.m[name]; ok {
		return loc
	}
	loc := z.fallback
	if name != "" {
		if l, err := time.LoadLocation(name); err == nil {
			loc = l
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	z.m[name] = loc
	return loc
}
