package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// digestLimit caps each list of a digest.
const digestLimit = 20

// dueBriefColumnsA are the columns of an AccountBrief, of the accounts
// aliased a; scan them with dueBriefRow.
const dueBriefColumnsA = `a.id, a.external_id, a.name, a.tier, a.arr_cents, coalesce(a.csm_slack_id, ''),
       coalesce(a.ae_slack_id, ''), coalesce(a.slack_channel_id, '')`

// dueBriefRow scans dueBriefColumnsA.
type dueBriefRow struct {
	b    csbot.AccountBrief
	tier string
	arr  int64
}

func (r *dueBriefRow) fields() []any {
	return []any{&r.b.ID, &r.b.ExternalID, &r.b.Name, &r.tier, &r.arr, &r.b.CSM, &r.b.AE, &r.b.Channel}
}

// brief returns the account brief scanned.
func (r *dueBriefRow) brief() csbot.AccountBrief {
	b := r.b
	b.Tier, b.ARR = csbot.Tier(r.tier), csbot.Cents(r.arr)
	return b
}

// dueHealthRow scans a health snapshot's score, band and score detail
// (its components column without the components), NULLs when there is
// none.
type dueHealthRow struct {
	score  *int
	band   *string
	detail []byte
}

func (h *dueHealthRow) fields() []any { return []any{&h.score, &h.band, &h.detail} }

// brief returns the health brief scanned; the zero brief without a
// snapshot.
func (h *dueHealthRow) brief() (csbot.HealthBrief, error) {
	hb := csbot.HealthBrief{Score: deref(h.score), Band: csbot.Band(deref(h.band))}
	if len(h.detail) > 0 {
		var sd scoreDetail
		if err := json.Unmarshal(h.detail, &sd); err != nil {
			return hb, fmt.Errorf("score detail: %w", err)
		}
		hb.Trend, hb.Coverage = sd.Trend, sd.Coverage
	}
	return hb, nil
}

// alertSignalKey returns the signal key of an alert: its dedupe key
// without the "#<episode>" suffix.
func alertSignalKey(dedupeKey string) string {
	if i := strings.LastIndexByte(dedupeKey, '#'); i >= 0 {
		return dedupeKey[:i]
	}
	return dedupeKey
}

// utcDay returns midnight UTC of t's UTC date: the day health snapshots
// are dated by.
func utcDay(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

// digestTeamSQL selects the accounts of the team of manager $1 that have
// not churned: those whose CSM is the manager or reports to them. Each
// comes with its latest snapshot dated $2 or earlier and the band of the
// latest dated $3 (a week before) or earlier. Every digest query starts
// with it.
const digestTeamSQL = `
WITH team AS (
    SELECT slack_id FROM users WHERE manager_slack_id = $1
    UNION
    SELECT $1::text
),
acc AS MATERIALIZED (
    SELECT a.id, a.arr_cents, a.name, coalesce(a.csm_slack_id, '') AS csm,
           h.score, h.band, h.detail, w.band AS was_band
      FROM accounts a
      LEFT JOIN LATERAL (SELECT score, band, components - 'components' AS detail FROM health_scores
                          WHERE account_id = a.id AND day <= $2::date
                          ORDER BY day DESC LIMIT 1) h ON true
      LEFT JOIN LATERAL (SELECT band FROM health_scores
                          WHERE account_id = a.id AND day <= $3::date
                          ORDER BY day DESC LIMIT 1) w ON true
     WHERE a.csm_slack_id IN (SELECT slack_id FROM team) AND a.stage <> 'churned'
)`

const (
	// digestTurnedSQL reads the team's accounts now yellow or red and
	// worse than a week before.
	digestTurnedSQL = digestTeamSQL + `
SELECT ` + dueBriefColumnsA + `, acc.score, acc.band, acc.detail, acc.was_band
  FROM acc JOIN accounts a ON a.id = acc.id
 WHERE acc.band IN ('yellow', 'red') AND acc.was_band IS NOT NULL
   AND array_position(ARRAY['green', 'yellow', 'red']::text[], acc.band)
       > array_position(ARRAY['green', 'yellow', 'red']::text[], acc.was_band)
 ORDER BY a.arr_cents DESC, lower(a.name), a.id
 LIMIT $4`

	// digestTotalsSQL reads the team's ARR in red and in yellow, and its
	// open handoffs.
	digestTotalsSQL = digestTeamSQL + `
SELECT coalesce(sum(arr_cents) FILTER (WHERE band = 'red'), 0)::bigint,
       coalesce(sum(arr_cents) FILTER (WHERE band = 'yellow'), 0)::bigint,
       (SELECT count(*) FROM handoffs h WHERE h.state = 'open' AND h.account_id IN (SELECT id FROM acc))
  FROM acc`

	// digestRenewalsSQL reads the open renewals dated $4..$5 of the
	// team's accounts that are not green, with their active renewal
	// contacts (the first by name).
	digestRenewalsSQL = digestTeamSQL + `
SELECT ` + dueBriefColumnsA + `, acc.score, acc.band, acc.detail,
       r.id, r.renewal_date, r.arr_cents, r.auto_renew, coalesce(c.name, ''), coalesce(c.title, '')
  FROM acc
  JOIN accounts a ON a.id = acc.id
  JOIN renewals r ON r.account_id = acc.id AND r.status = 'open' AND r.renewal_date BETWEEN $4::date AND $5::date
  LEFT JOIN LATERAL (SELECT name, title FROM contacts
                      WHERE account_id = acc.id AND role = 'renewal' AND active
                      ORDER BY lower(name), name, id LIMIT 1) c ON true
 WHERE acc.band IS DISTINCT FROM 'green'
 ORDER BY r.arr_cents DESC, r.renewal_date, lower(a.name), r.id
 LIMIT $6`

	// digestUnackedSQL reads the team's alerts left open (or escalated)
	// since before $4 that reached someone (routed to a channel, a DM or
	// the digest).
	digestUnackedSQL = digestTeamSQL + `
SELECT ` + dueBriefColumnsA + `, al.id, al.kind, al.severity, al.evidence, al.dedupe_key, al.created_at
  FROM acc
  JOIN accounts a ON a.id = acc.id
  JOIN alerts al ON al.account_id = acc.id
 WHERE al.state IN ('open', 'escalated') AND al.routed IN ('channel', 'dm', 'digest') AND al.created_at < $4
 ORDER BY a.arr_cents DESC, lower(a.name), a.id, al.created_at, al.id
 LIMIT $5`

	// digestCSMsSQL reads each CSM's book in the team: the owners of the
	// team's accounts, and the team's CSMs who own none.
	digestCSMsSQL = digestTeamSQL + `,
owners AS (
    SELECT csm AS slack_id FROM acc
    UNION
    SELECT slack_id FROM users WHERE manager_slack_id = $1 AND role = 'csm'
)
SELECT o.slack_id, coalesce(u.name, ''), count(acc.id), coalesce(sum(acc.arr_cents), 0)::bigint,
       count(acc.id) FILTER (WHERE acc.band = 'red'), count(acc.id) FILTER (WHERE acc.band = 'yellow')
  FROM owners o
  LEFT JOIN users u ON u.slack_id = o.slack_id
  LEFT JOIN acc ON acc.csm = o.slack_id
 GROUP BY o.slack_id, u.name
 ORDER BY 4 DESC, lower(coalesce(u.name, '')), o.slack_id`
)

// managerSQL reads a user's role and time zone.
const managerSQL = `SELECT role, coalesce(timezone, '') FROM users WHERE slack_id = $1`

// Digest returns the weekly at-risk digest of manager (a Slack user id)
// as it stands at now under p. The team is the accounts that have not
// churned whose CSM reports to the manager (users.manager_slack_id) or is
// the manager. Bands are those of each account's latest health snapshot
// dated on or before now's UTC date, compared for Turned with the latest
// one a week earlier. Each list is sorted by the ARR at stake, most
// first, and holds at most 20 entries. Week is the ISO week of the
// digest most recently due at now in the manager's time zone (UTC when
// they have none). It reads everything in one repeatable-read
// transaction. It returns csbot.ErrNotFound (wrapped) when manager is not
// a user with role manager.
func (s *Store) Digest(ctx context.Context, manager string, now time.Time, p csbot.Policy) (csbot.DigestMessage, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return csbot.DigestMessage{}, fmt.Errorf("digest of %s: %w", manager, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	var role, zone string
	if err := tx.QueryRow(ctx, managerSQL, manager).Scan(&role, &zone); err != nil {
		return csbot.DigestMessage{}, fmt.Errorf("digest of %s: %w", manager, notFound(err))
	}
	if role != string(csbot.UserManager) {
		return csbot.DigestMessage{}, fmt.Errorf("digest of %s: not a manager: %w", manager, csbot.ErrNotFound)
	}
	loc := zoneCache{fallback: time.UTC, m: map[string]*time.Location{}}.get(zone)
	d, _, err := buildDigest(ctx, tx, manager, loc, now, p)
	if err != nil {
		return csbot.DigestMessage{}, fmt.Errorf("digest of %s: %w", manager, err)
	}
	return d, nil
}

// digestWeek returns the ISO week of the digest most recently due at now
// in loc under p.
func digestWeek(now time.Time, loc *time.Location, p csbot.Policy) (string, error) {
	wd, ok := csbot.ParseWeekday(p.Notifications.DigestWeekday)
	if !ok {
		return "", fmt.Errorf("digest weekday %q is not a day of the week", p.Notifications.DigestWeekday)
	}
	week, _ := csbot.DigestWeek(now, loc, wd, p.Notifications.DigestHour)
	return week, nil
}

// buildDigest reads the digest of manager in tx, in one round trip, and
// returns it with the number of the team's accounts.
func buildDigest(ctx context.Context, tx pgx.Tx, manager string, loc *time.Location, now time.Time, p csbot.Policy) (csbot.DigestMessage, int, error) {
	week, err := digestWeek(now, loc, p)
	if err != nil {
		return csbot.DigestMessage{}, 0, err
	}
	today := utcDay(now)
	weekAgo := today.AddDate(0, 0, -7)
	unackedBefore := now.Add(-time.Duration(p.Notifications.UnackedDigestDays) * 24 * time.Hour)
	d := csbot.DigestMessage{
		Manager: manager, Week: week, At: now,
		Turned: []csbot.DigestAccount{}, Renewals: []csbot.DigestAccount{}, Unacked: []csbot.DigestAlert{},
		CSMs: []csbot.DigestCSM{},
	}

	b := &pgx.Batch{}
	b.Queue(digestTurnedSQL, manager, today, weekAgo, digestLimit)
	b.Queue(digestTotalsSQL, manager, today, weekAgo)
	b.Queue(digestRenewalsSQL, manager, today, weekAgo, today, today.AddDate(0, 0, 90), digestLimit)
	b.Queue(digestUnackedSQL, manager, today, weekAgo, unackedBefore, digestLimit)
	b.Queue(digestCSMsSQL, manager, today, weekAgo)
	br := tx.SendBatch(ctx, b)
	defer br.Close()

	var a dueBriefRow
	var h dueHealthRow
	var was string
	if err := forEachBatchRow(br, "turned", append(append(a.fields(), h.fields()...), &was), func() error {
		hb, err := h.brief()
		if err != nil {
			return err
		}
		d.Turned = append(d.Turned, csbot.DigestAccount{Account: a.brief(), Health: hb, WasBand: csbot.Band(was)})
		return nil
	}); err != nil {
		return d, 0, err
	}

	var red, yellow int64
	if err := br.QueryRow().Scan(&red, &yellow, &d.OpenHandoffs); err != nil {
		return d, 0, fmt.Errorf("totals: %w", err)
	}
	d.RedARR, d.YellowARR = csbot.Cents(red), csbot.Cents(yellow)

	var rb csbot.RenewalBrief
	var renewalARR int64
	dest := append(append(a.fields(), h.fields()...), &rb.ID, &rb.Date, &renewalARR, &rb.AutoRenew, &rb.Contact, &rb.ContactRef)
	if err := forEachBatchRow(br, "renewals", dest, func() error {
		hb, err := h.brief()
		if err != nil {
			return err
		}
		r := rb
		r.ARR = csbot.Cents(renewalARR)
		r.Date = utcDay(r.Date)
		r.DaysLeft = int(r.Date.Sub(today).Hours() / 24)
		d.Renewals = append(d.Renewals, csbot.DigestAccount{Account: a.brief(), Health: hb, Renewal: &r})
		return nil
	}); err != nil {
		return d, 0, err
	}

	var it csbot.AlertItem
	var kind, severity, key string
	var created time.Time
	dest = append(a.fields(), &it.AlertID, &kind, &severity, &it.Evidence, &key, &created)
	if err := forEachBatchRow(br, "unacknowledged alerts", dest, func() error {
		item := it
		item.Kind, item.Severity, item.SignalKey = csbot.SignalKind(kind), csbot.SignalSeverity(severity), alertSignalKey(key)
		d.Unacked = append(d.Unacked, csbot.DigestAlert{Account: a.brief(), Alert: item, Since: created,
			Days: int(now.Sub(created) / (24 * time.Hour))})
		return nil
	}); err != nil {
		return d, 0, err
	}

	accounts := 0
	var c csbot.DigestCSM
	var arr int64
	if err := forEachBatchRow(br, "csms", []any{&c.CSM, &c.Name, &c.Accounts, &arr, &c.Red, &c.Yellow}, func() error {
		c.ARR = csbot.Cents(arr)
		accounts += c.Accounts
		d.CSMs = append(d.CSMs, c)
		return nil
	}); err != nil {
		return d, 0, err
	}
	if err := br.Close(); err != nil {
		return d, 0, err
	}
	return d, accounts, nil
}

// forEachBatchRow reads the next result of br into dest, calling fn after
// each row.
func forEachBatchRow(br pgx.BatchResults, what string, dest []any, fn func() error) error {
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := pgx.ForEachRow(rows, dest, fn); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// managersSQL reads every manager and their time zone.
const managersSQL = `SELECT slack_id, coalesce(timezone, '') FROM users WHERE role = 'manager' ORDER BY slack_id`

// existingKeysSQL returns which of the keys $1 notifications already have.
const existingKeysSQL = `SELECT dedupe_key FROM notifications WHERE dedupe_key = ANY($1::text[])`

// QueueDigests writes the weekly digest of every manager (users with role
// manager) most recently due at run.Now, in one transaction; with
// run.DryRun it rolls that back and returns what it would have written.
//
// A digest is due on run.Policy's DigestWeekday at its DigestHour on the
// manager's clock (users.timezone; run.Zone when they have none or it is
// not a zone Go knows; see csbot.DigestWeek). Its key,
// "digest:<manager>:<ISO week>", makes it once per week: a pass finds the
// digests already written with one query and builds only the others, so
// passes between two due times cost one query per pass; after days down,
// a pass writes the current week's digest once. A manager whose team has
// no accounts gets none. The digest goes by DM to the manager.
//
// Counts: "digests" (written), "empty" (no accounts, nothing written),
// "already" (written earlier, or by a concurrent pass).
func (s *Store) QueueDigests(ctx context.Context, run csbot.DueRun) (csbot.RunResult, error) {
	res := csbot.RunResult{Counts: map[string]int{"digests": 0, "empty": 0, "already": 0}}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("queue digests: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	type due struct {
		manager string
		loc     *time.Location
		key     string
	}
	rows, err := tx.Query(ctx, managersSQL)
	if err != nil {
		return res, fmt.Errorf("queue digests: managers: %w", err)
	}
	zones := zoneCache{fallback: run.Zone, m: map[string]*time.Location{}}
	var managers []due
	var keys []string
	var manager, zone string
	_, err = pgx.ForEachRow(rows, []any{&manager, &zone}, func() error {
		loc := zones.get(zone)
		week, err := digestWeek(run.Now, loc, run.Policy)
		if err != nil {
			return err
		}
		key := "digest:" + manager + ":" + week
		managers = append(managers, due{manager: manager, loc: loc, key: key})
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("queue digests: managers: %w", err)
	}
	if len(managers) == 0 {
		return res, nil
	}
	rows, err = tx.Query(ctx, existingKeysSQL, keys)
	if err != nil {
		return res, fmt.Errorf("queue digests: existing: %w", err)
	}
	existing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return res, fmt.Errorf("queue digests: existing: %w", err)
	}
	done := make(map[string]bool, len(existing))
	for _, k := range existing {
		done[k] = true
	}

	for _, m := range managers {
		if done[m.key] {
			res.Counts["already"]++
			continue
		}
		d, accounts, err := buildDigest(ctx, tx, m.manager, m.loc, run.Now, run.Policy)
		if err != nil {
			return res, fmt.Errorf("queue digests: digest of %s: %w", m.manager, err)
		}
		if accounts == 0 {
			res.Counts["empty"]++
			continue
		}
		payload, err := json.Marshal(d)
		if err != nil {
			return res, fmt.Errorf("queue digests: digest of %s: %w", m.manager, err)
		}
		n, written, err := s.insertNotification(ctx, tx, csbot.Notification{
			Key: m.key, Kind: csbot.NotifyDigest, User: m.manager, Payload: payload, NotBefore: run.Now,
		}, run.Now)
		if err != nil {
			return res, fmt.Errorf("queue digests: %w", err)
		}
		if !written {
			res.Counts["already"]++
			continue
		}
		res.Counts["digests"]++
		res.Notifications = append(res.Notifications, n)
	}
	return finishDueRun(ctx, tx, run, res, "queue digests")
}

// finishDueRun commits tx, or with run.DryRun leaves it to be rolled back
// and clears the ids of res's notifications, which name nothing then.
func finishDueRun(ctx context.Context, tx pgx.Tx, run csbot.DueRun, res csbot.RunResult, what string) (csbot.RunResult, error) {
	if run.DryRun {
		for i := range res.Notifications {
			res.Notifications[i].ID = 0
		}
		return res, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return csbot.RunResult{Counts: map[string]int{}}, fmt.Errorf("%s: commit: %w", what, err)
	}
	return res, nil
}
