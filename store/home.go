package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// The queries of the App Home. Each list is read with the totals of all
// it selects (window functions over the rows before the LIMIT), so that a
// home costs one round trip whatever the size of the book.
const (
	// homeBookSQL reads the first $2 accounts that have not churned whose
	// CSM is $1, worst health first (Portfolio's order), with the counts
	// and ARR of all of them; the next open renewal is read for those
	// shown only.
	homeBookSQL = `
WITH book AS (
    SELECT a.id, h.day, h.score, h.band,
           row_number() OVER (ORDER BY CASE h.band WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 WHEN 'green' THEN 2 ELSE 3 END,
                                       h.score, a.arr_cents DESC, lower(a.name), a.name, a.id) AS pos,
           count(*) OVER () AS n,
           (sum(a.arr_cents) OVER ())::bigint AS arr,
           count(*) FILTER (WHERE h.band = 'red') OVER () AS red,
           count(*) FILTER (WHERE h.band = 'yellow') OVER () AS yellow,
           count(*) FILTER (WHERE h.band = 'green') OVER () AS green,
           count(*) FILTER (WHERE h.band IS NULL) OVER () AS unscored
      FROM accounts a
      LEFT JOIN LATERAL ` + latestSnapshotOfA + ` h ON true
     WHERE a.csm_slack_id = $1 AND a.stage <> 'churned'
)
SELECT ` + accountColumnsA + `, b.day, b.score, b.band, ` + renewalColumnsR + `,
       b.n, b.arr, b.red, b.yellow, b.green, b.unscored
  FROM book b
  JOIN accounts a ON a.id = b.id
  LEFT JOIN LATERAL (SELECT * FROM renewals
                      WHERE account_id = a.id AND status = 'open' ORDER BY renewal_date, id LIMIT 1) r ON true
 WHERE b.pos <= $2
 ORDER BY b.pos`

	// homeRenewalsSelect reads open renewals dated $2..$3 with their
	// accounts, the accounts' latest snapshots and their active renewal
	// contacts (the first by name), and the count, ARR and number without
	// a contact of all of them. The owner condition, order and LIMIT $4
	// follow.
	homeRenewalsSelect = `
SELECT ` + renewalColumnsR + `, ` + accountColumnsA + `, h.day, h.score, h.band, ` + contactColumnsC + `,
       count(*) OVER (), (sum(r.arr_cents) OVER ())::bigint, count(*) FILTER (WHERE c.id IS NULL) OVER ()
  FROM renewals r
  JOIN accounts a ON a.id = r.account_id
  LEFT JOIN LATERAL ` + latestSnapshotOfA + ` h ON true
  LEFT JOIN LATERAL (SELECT * FROM contacts
                      WHERE account_id = a.id AND role = 'renewal' AND active
                      ORDER BY lower(name), name, id LIMIT 1) c ON true
 WHERE r.status = 'open' AND r.renewal_date BETWEEN $2::date AND $3::date`

	// homeRenewalsOrder orders and caps a list of renewals as /renewals
	// does: by date, then account name.
	homeRenewalsOrder = `
 ORDER BY r.renewal_date, lower(a.name), a.name, r.id
 LIMIT $4`

	// homeRenewalsSQL reads the renewals of the accounts whose CSM or
	// account executive is $1 (those of /renewals).
	homeRenewalsSQL = homeRenewalsSelect + `
   AND (a.csm_slack_id = $1 OR a.ae_slack_id = $1)` + homeRenewalsOrder

	// homeTeamSQL is the team of manager $1: the people who report to
	// them, and themselves (as the weekly digest counts it).
	homeTeamSQL = `
WITH team AS (
    SELECT slack_id FROM users WHERE manager_slack_id = $1
    UNION
    SELECT $1::text
)`

	// homeTeamRenewalsSQL reads the renewals at risk of the team of
	// manager $1 (those of /renewals team at-risk): accounts whose CSM or
	// account executive is in the team, in the yellow or red band.
	homeTeamRenewalsSQL = homeTeamSQL + homeRenewalsSelect + `
   AND (a.csm_slack_id IN (SELECT slack_id FROM team) OR a.ae_slack_id IN (SELECT slack_id FROM team))
   AND h.band IN ('yellow', 'red')` + homeRenewalsOrder

	// homeAlertsSQL reads the first $3 alerts still calling for the
	// attention of CSM $1 on their accounts that have not churned: open or
	// escalated (not acknowledged, resolved, superseded or snoozed), not
	// under a snooze of their kind running at $2, and routed somewhere (a
	// kind the tier's policy or the CSM turned off raises none); the most
	// severe first, then the oldest; with the count of all.
	homeAlertsSQL = `
SELECT al.id, ` + dueBriefColumnsA + `, al.kind, al.severity, al.evidence, al.created_at, count(*) OVER ()
  FROM alerts al
  JOIN accounts a ON a.id = al.account_id
 WHERE a.csm_slack_id = $1 AND a.stage <> 'churned'
   AND al.state IN ('open', 'escalated') AND al.routed IN ('channel', 'dm', 'digest')
   AND (al.snoozed_until IS NULL OR al.snoozed_until <= $2)
   AND NOT EXISTS (SELECT 1 FROM alert_snoozes s
                    WHERE s.account_id = al.account_id AND s.kind = al.kind AND s.until > $2)
 ORDER BY CASE al.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, al.created_at, al.id
 LIMIT $3`

	// homeHandoffsSelect reads open handoffs with their accounts and the
	// count of all; a condition, the order (oldest first) and a LIMIT
	// follow.
	homeHandoffsSelect = `
SELECT h.id, ` + dueBriefColumnsA + `, h.author_slack_id, coalesce(h.owner_slack_id, ''), h.created_at, count(*) OVER ()
  FROM handoffs h
  JOIN accounts a ON a.id = h.account_id
 WHERE h.state = 'open'`

	// homeOwnedHandoffsSQL reads the first $2 open handoffs owned by $1.
	homeOwnedHandoffsSQL = homeHandoffsSelect + ` AND h.owner_slack_id = $1
 ORDER BY h.created_at, h.id
 LIMIT $2`

	// homeAllHandoffsSQL reads the first $1 open handoffs.
	homeAllHandoffsSQL = homeHandoffsSelect + `
 ORDER BY h.created_at, h.id
 LIMIT $1`

	// homeCSMsSQL reads the book of each CSM of the team of manager $1:
	// the owners of the team's accounts that have not churned, and the
	// team's CSMs who own none; the first $2, the most ARR at risk (red
	// and yellow) first, with the team's totals.
	homeCSMsSQL = homeTeamSQL + `,
acc AS MATERIALIZED (
    SELECT a.id, a.arr_cents, a.csm_slack_id AS csm, h.band
      FROM accounts a
      LEFT JOIN LATERAL (SELECT band FROM health_scores
                          WHERE account_id = a.id ORDER BY day DESC LIMIT 1) h ON true
     WHERE a.csm_slack_id IN (SELECT slack_id FROM team) AND a.stage <> 'churned'
),
owners AS (
    SELECT csm AS slack_id FROM acc
    UNION
    SELECT slack_id FROM users WHERE manager_slack_id = $1 AND role = 'csm'
),
per AS (
    SELECT o.slack_id, coalesce(u.name, '') AS name, count(acc.id) AS n,
           coalesce(sum(acc.arr_cents), 0)::bigint AS arr,
           count(acc.id) FILTER (WHERE acc.band = 'red') AS red,
           count(acc.id) FILTER (WHERE acc.band = 'yellow') AS yellow,
           coalesce(sum(acc.arr_cents) FILTER (WHERE acc.band IN ('red', 'yellow')), 0)::bigint AS risk
      FROM owners o
      LEFT JOIN users u ON u.slack_id = o.slack_id
      LEFT JOIN acc ON acc.csm = o.slack_id
     GROUP BY o.slack_id, u.name
)
SELECT slack_id, name, n, arr, red, yellow, risk,
       count(*) OVER (), (sum(n) OVER ())::bigint, (sum(arr) OVER ())::bigint, (sum(risk) OVER ())::bigint,
       (sum(red) OVER ())::bigint, (sum(yellow) OVER ())::bigint
  FROM per
 ORDER BY risk DESC, arr DESC, lower(name), slack_id
 LIMIT $2`
)

// HomeView returns what the App Home of the user q.User shows (see
// csbot.HomeData): their book, worst health first; the open renewals of
// their accounts (as CSM or account executive) dated from
// q.Today-q.OverdueDays through q.Today+q.Days, by date; the open alerts
// of their accounts not snoozed at q.Now, the most severe first; the open
// handoffs they own, or all of them with q.AllHandoffs, oldest first;
// with q.Team, their team's books and its renewals at risk; and their
// alert routes. Each list holds at most q.Limit items (csbot.HomeListLimit
// when 0) and comes with the totals of all. It reads everything in one
// round trip, in one read-only repeatable-read transaction. It returns
// csbot.ErrNotFound (wrapped) when the users table does not know q.User.
func (s *Store) HomeView(ctx context.Context, q csbot.HomeQuery) (csbot.HomeData, error) {
	if q.Limit <= 0 {
		q.Limit = csbot.HomeListLimit
	}
	if q.Days <= 0 {
		q.Days = csbot.HomeRenewalDays
	}
	q.OverdueDays = max(q.OverdueDays, 0)
	from, to := q.Today.AddDate(0, 0, -q.OverdueDays), q.Today.AddDate(0, 0, q.Days)

	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return csbot.HomeData{}, fmt.Errorf("home of %s: %w", q.User, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only

	b := &pgx.Batch{}
	b.Queue(notifyPrefsSQL, q.User)
	b.Queue(homeBookSQL, q.User, q.Limit)
	b.Queue(homeRenewalsSQL, q.User, from, to, q.Limit)
	b.Queue(homeAlertsSQL, q.User, q.Now, q.Limit)
	if q.AllHandoffs {
		b.Queue(homeAllHandoffsSQL, q.Limit)
	} else {
		b.Queue(homeOwnedHandoffsSQL, q.User, q.Limit)
	}
	if q.Team {
		b.Queue(homeCSMsSQL, q.User, q.Limit)
		b.Queue(homeTeamRenewalsSQL, q.User, from, to, q.Limit)
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()

	d, err := readHome(br, q.Team)
	if err != nil {
		return csbot.HomeData{}, fmt.Errorf("home of %s: %w", q.User, err)
	}
	if err := br.Close(); err != nil {
		return csbot.HomeData{}, fmt.Errorf("home of %s: %w", q.User, err)
	}
	return d, nil
}

// readHome reads the results of HomeView's batch, in the order queued.
func readHome(br pgx.BatchResults, team bool) (csbot.HomeData, error) {
	var d csbot.HomeData
	var raw []byte
	if err := br.QueryRow().Scan(&raw); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return d, csbot.ErrNotFound
		}
		return d, fmt.Errorf("preferences: %w", err)
	}
	d.Prefs = readNotifyPrefs(raw)

	var err error
	if d.Book, err = readHomeBook(br); err != nil {
		return d, err
	}
	if d.Renewals, err = readHomeRenewals(br, "renewals"); err != nil {
		return d, err
	}
	if d.Alerts, err = readHomeAlerts(br); err != nil {
		return d, err
	}
	if d.Handoffs, err = readHomeHandoffs(br); err != nil {
		return d, err
	}
	if !team {
		return d, nil
	}
	t, err := readHomeTeam(br)
	if err != nil {
		return d, err
	}
	if t.Renewals, err = readHomeRenewals(br, "team renewals"); err != nil {
		return d, err
	}
	d.Team = &t
	return d, nil
}

// readHomeBook reads the result of homeBookSQL.
func readHomeBook(br pgx.BatchResults) (csbot.HomeBook, error) {
	book := csbot.HomeBook{ByBand: map[csbot.Band]int{}}
	var a accountRow
	var h snapshotRow
	var r renewalRow
	var arr int64
	var red, yellow, green, unscored int
	dest := append(append(a.fields(), h.fields()...), r.fields()...)
	dest = append(dest, &book.Total, &arr, &red, &yellow, &green, &unscored)
	err := forEachBatchRow(br, "book", dest, func() error {
		book.Accounts = append(book.Accounts, csbot.PortfolioEntry{Account: a.toAccount(), Health: h.toSnapshot(), NextRenewal: r.toRenewal()})
		return nil
	})
	if err != nil {
		return book, err
	}
	book.ARR = csbot.Cents(arr)
	for band, n := range map[csbot.Band]int{csbot.BandRed: red, csbot.BandYellow: yellow, csbot.BandGreen: green, "": unscored} {
		if n > 0 {
			book.ByBand[band] = n
		}
	}
	return book, nil
}

// readHomeRenewals reads the result of homeRenewalsSQL or
// homeTeamRenewalsSQL.
func readHomeRenewals(br pgx.BatchResults, what string) (csbot.HomeRenewals, error) {
	var out csbot.HomeRenewals
	var r renewalRow
	var a accountRow
	var h snapshotRow
	var c contactRow
	var arr int64
	dest := append(append(append(r.fields(), a.fields()...), h.fields()...), c.fields()...)
	dest = append(dest, &out.Total, &arr, &out.NoContact)
	err := forEachBatchRow(br, what, dest, func() error {
		out.Lines = append(out.Lines, csbot.RenewalLine{Renewal: r.toRenewal(), Account: a.toAccount(),
			Health: h.toSnapshot(), Contact: c.toContact()})
		return nil
	})
	out.ARR = csbot.Cents(arr)
	return out, err
}

// readHomeAlerts reads the result of homeAlertsSQL.
func readHomeAlerts(br pgx.BatchResults) (csbot.HomeAlerts, error) {
	var out csbot.HomeAlerts
	var it csbot.HomeAlert
	var a dueBriefRow
	var kind, severity string
	dest := append(append([]any{&it.ID}, a.fields()...), &kind, &severity, &it.Evidence, &it.Since, &out.Total)
	err := forEachBatchRow(br, "alerts", dest, func() error {
		item := it
		item.Account, item.Kind, item.Severity = a.brief(), csbot.SignalKind(kind), csbot.SignalSeverity(severity)
		out.Items = append(out.Items, item)
		return nil
	})
	return out, err
}

// readHomeHandoffs reads the result of homeOwnedHandoffsSQL or
// homeAllHandoffsSQL.
func readHomeHandoffs(br pgx.BatchResults) (csbot.HomeHandoffs, error) {
	var out csbot.HomeHandoffs
	var h csbot.HomeHandoff
	var a dueBriefRow
	dest := append(append([]any{&h.ID}, a.fields()...), &h.Author, &h.Owner, &h.CreatedAt, &out.Total)
	err := forEachBatchRow(br, "handoffs", dest, func() error {
		item := h
		item.Account = a.brief()
		out.Items = append(out.Items, item)
		return nil
	})
	return out, err
}

// readHomeTeam reads the result of homeCSMsSQL.
func readHomeTeam(br pgx.BatchResults) (csbot.HomeTeam, error) {
	var t csbot.HomeTeam
	var c csbot.HomeCSM
	var arr, risk, teamARR, teamRisk, red, yellow int64
	dest := []any{&c.CSM, &c.Name, &c.Accounts, &arr, &c.Red, &c.Yellow, &risk,
		&t.TotalCSMs, &t.Accounts, &teamARR, &teamRisk, &red, &yellow}
	err := forEachBatchRow(br, "team", dest, func() error {
		c.ARR, c.AtRisk = csbot.Cents(arr), csbot.Cents(risk)
		t.CSMs = append(t.CSMs, c)
		return nil
	})
	t.ARR, t.AtRisk, t.Red, t.Yellow = csbot.Cents(teamARR), csbot.Cents(teamRisk), int(red), int(yellow)
	return t, err
}

// adminsSQL reads the first $1 admins by name.
const adminsSQL = `SELECT slack_id, role, name, email, manager_slack_id, timezone FROM users
	WHERE role = 'admin' ORDER BY lower(name), name, slack_id LIMIT $1`

// Admins returns the users with role admin, by name, at most limit of
// them: whom to ask to be added to csbot.
func (s *Store) Admins(ctx context.Context, limit int) ([]csbot.User, error) {
	rows, err := s.pool.Query(ctx, adminsSQL, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("admins: %w", err)
	}
	admins, err := pgx.CollectRows(rows, pgx.RowToStructByPos[userRow])
	if err != nil {
		return nil, fmt.Errorf("admins: %w", err)
	}
	out := make([]csbot.User, len(admins))
	for i, u := range admins {
		out[i] = u.toUser()
	}
	return out, nil
}
