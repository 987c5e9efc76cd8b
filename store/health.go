package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// AccountFacts reads, for every account that has not churned, the
// aggregates the health engine scores at now (see csbot.AccountFacts), in
// a few set-based queries: never one query per account. Everything after
// now is ignored, so a past now gives the facts as they stood then, as far
// as the data tells (a ticket closed after now was still open at now).
func (s *Store) AccountFacts(ctx context.Context, now time.Time) ([]csbot.AccountFacts, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("account facts: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	l := newFactLoader()
	for _, q := range l.queries(now) {
		rows, err := tx.Query(ctx, q.scoped(false), q.args...)
		if err != nil {
			return nil, fmt.Errorf("account facts: %s: %w", q.name, err)
		}
		if _, err := pgx.ForEachRow(rows, q.dest, q.row); err != nil {
			return nil, fmt.Errorf("account facts: %s: %w", q.name, err)
		}
	}
	l.finish()
	return l.facts, nil
}

// queueAccountFacts queues on b the fact queries restricted to the account
// id, churned or not; after the queries that precede them in b, read them
// with readAccountFacts. The facts are those AccountFacts gives the account.
func queueAccountFacts(b *pgx.Batch, id int64, now time.Time) *factLoader {
	l := newFactLoader()
	l.pending = l.queries(now)
	for _, q := range l.pending {
		b.Queue(q.scoped(true), append(q.args[:len(q.args):len(q.args)], id)...)
	}
	return l
}

// readAccountFacts reads the results of the queries queueAccountFacts
// queued, and returns the facts of the account: AccountID 0 when it does
// not exist.
func (l *factLoader) readAccountFacts(br pgx.BatchResults) (csbot.AccountFacts, error) {
	for _, q := range l.pending {
		rows, err := br.Query()
		if err != nil {
			return csbot.AccountFacts{}, fmt.Errorf("%s: %w", q.name, err)
		}
		if _, err := pgx.ForEachRow(rows, q.dest, q.row); err != nil {
			return csbot.AccountFacts{}, fmt.Errorf("%s: %w", q.name, err)
		}
	}
	l.finish()
	if len(l.facts) == 0 {
		return csbot.AccountFacts{}, nil
	}
	return l.facts[0], nil
}

// factLoader fills one AccountFacts per account, query by query.
type factLoader struct {
	facts  []csbot.AccountFacts
	byID   map[int64]int
	global []csbot.Outage // the outages of every account
	// pending are the queries queued in a batch, in order.
	pending []factQuery
}

func newFactLoader() *factLoader { return &factLoader{byID: map[int64]int{}} }

// factScope marks in a fact query's SQL where it is restricted: to the
// accounts of the whole book, or to one account.
const factScope = "/*scope*/"

// factQuery is one query of the fact loader: its SQL, with factScope
// where the restriction goes; its arguments; where its rows are scanned;
// and what is done with each.
type factQuery struct {
	name string
	sql  string
	// book replaces factScope for the whole book ("" when every row
	// counts); one replaces it for one account, whose id comes as the
	// parameter after args.
	book, one string
	args      []any
	dest      []any
	row       func() error
}

// scoped returns the query's SQL for one account or for the whole book.
func (q factQuery) scoped(one bool) string {
	if one {
		return strings.Replace(q.sql, factScope, q.one, 1)
	}
	return strings.Replace(q.sql, factScope, q.book, 1)
}

// queries returns the fact queries at now, in the order they must run:
// accounts first.
func (l *factLoader) queries(now time.Time) []factQuery {
	w := csbot.WindowsAt(now)
	return []factQuery{
		l.accounts(),
		l.usage(w),
		l.tickets(now, w),
		l.nps(now, w),
		l.invoicesOnRecord(w),
		l.overdueInvoices(w),
		l.touchpoints(now),
		l.contactCounts(),
		l.inactiveChampions(),
		l.outages(now, w),
		l.renewals(w),
		l.latestSnapshot(w),
		l.snapshotIn("week snapshot", w.Today.AddDate(0, 0, -14), w.Today.AddDate(0, 0, -7), func(f *csbot.AccountFacts) *csbot.HealthSnapshot { return &f.Week }),
		l.snapshotIn("month snapshot", w.Today.AddDate(0, 0, -45), w.Today.AddDate(0, 0, -30), func(f *csbot.AccountFacts) *csbot.HealthSnapshot { return &f.Month }),
		l.overrides(now),
	}
}

// each returns a row function that calls fn with the facts of the account
// *id; rows of accounts not loaded are skipped.
func (l *factLoader) each(id *int64, fn func(f *csbot.AccountFacts)) func() error {
	return func() error {
		if i, ok := l.byID[*id]; ok {
			fn(&l.facts[i])
		}
		return nil
	}
}

func (l *factLoader) accounts() factQuery {
	const q = `SELECT id, tier, created_at, coalesce(licensed_seats, 0) FROM accounts
		WHERE ` + factScope + ` ORDER BY id`
	var f csbot.AccountFacts
	var tier string
	return factQuery{name: "accounts", sql: q, book: `stage <> 'churned'`, one: `id = $1`,
		dest: []any{&f.AccountID, &tier, &f.CreatedAt, &f.LicensedSeats},
		row: func() error {
			f.Tier = csbot.Tier(tier)
			l.byID[f.AccountID] = len(l.facts)
			l.facts = append(l.facts, f)
			return nil
		}}
}

func (l *factLoader) usage(w csbot.FactWindows) factQuery {
	const q = `SELECT a.id,
			(SELECT min(day) FROM usage_daily u WHERE u.account_id = a.id AND u.day <= $2),
			(SELECT max(day) FROM usage_daily u WHERE u.account_id = a.id AND u.day <= $2 AND u.active_users > 0),
			coalesce(s.cur, 0), coalesce(s.prior, 0)
		FROM accounts a
		LEFT JOIN (
			SELECT account_id,
				sum(active_users) FILTER (WHERE day BETWEEN $1 AND $2) AS cur,
				sum(active_users) FILTER (WHERE day BETWEEN $3 AND $4) AS prior
			FROM usage_daily WHERE day BETWEEN $3 AND $2 GROUP BY account_id
		) s ON s.account_id = a.id
		WHERE ` + factScope
	var id, cur, prior int64
	var first, last *time.Time
	return factQuery{name: "usage", sql: q, book: `a.stage <> 'churned'`, one: `a.id = $5`,
		args: []any{w.UsageFrom, w.UsageTo, w.PriorFrom, w.PriorTo}, dest: []any{&id, &first, &last, &cur, &prior},
		row: l.each(&id, func(f *csbot.AccountFacts) {
			f.UsageFirstDay, f.LastActiveDay = deref(first), deref(last)
			f.ActiveUserDays, f.PriorActiveUserDays = cur, prior
		})}
}

func (l *factLoader) tickets(now time.Time, w csbot.FactWindows) factQuery {
	// A ticket counts as unresolved at now when it is open or pending, or
	// was closed only after now.
	const q = `SELECT account_id,
			count(*) FILTER (WHERE opened_at >= $2),
			count(*) FILTER (WHERE unresolved AND severity = 'urgent'),
			count(*) FILTER (WHERE unresolved AND severity = 'high'),
			min(opened_at) FILTER (WHERE unresolved)
		FROM (SELECT account_id, opened_at, severity,
				(status IN ('open', 'pending') OR closed_at > $1) AS unresolved
			FROM tickets WHERE opened_at <= $1 ` + factScope + `) t
		GROUP BY account_id`
	var id int64
	var n30, urgent, high int
	var oldest *time.Time
	return factQuery{name: "tickets", sql: q, one: `AND account_id = $3`,
		args: []any{now, w.RecentSince}, dest: []any{&id, &n30, &urgent, &high, &oldest},
		row: l.each(&id, func(f *csbot.AccountFacts) {
			f.TicketsOnRecord = true
			f.Tickets30, f.OpenUrgent, f.OpenHigh, f.OldestOpenAt = n30, urgent, high, deref(oldest)
		})}
}

func (l *factLoader) nps(now time.Time, w csbot.FactWindows) factQuery {
	const q = `SELECT account_id, id, responded_at, score, coalesce(respondent_email, ''), coalesce(comment, '')
		FROM nps_responses WHERE responded_at >= $1 AND responded_at <= $2 ` + factScope
	var r csbot.NPSResponse
	return factQuery{name: "nps", sql: q, one: `AND account_id = $3`,
		args: []any{w.NPSSince, now}, dest: []any{&r.AccountID, &r.ID, &r.RespondedAt, &r.Score, &r.RespondentEmail, &r.Comment},
		row: l.each(&r.AccountID, func(f *csbot.AccountFacts) {
			f.NPS = append(f.NPS, r)
		})}
}

func (l *factLoader) invoicesOnRecord(w csbot.FactWindows) factQuery {
	const q = `SELECT DISTINCT account_id FROM invoices WHERE coalesce(issued_on, due_on) <= $1 ` + factScope
	var id int64
	return factQuery{name: "invoices", sql: q, one: `AND account_id = $2`,
		args: []any{w.Today}, dest: []any{&id},
		row: l.each(&id, func(f *csbot.AccountFacts) { f.InvoicesOnRecord = true })}
}

func (l *factLoader) overdueInvoices(w csbot.FactWindows) factQuery {
	const q = `SELECT account_id, id, external_id, due_on, amount_cents FROM invoices
		WHERE due_on < $1 AND (paid_on IS NULL OR paid_on > $1) ` + factScope + `
		ORDER BY account_id, due_on, id`
	var inv csbot.Invoice
	var amount int64
	return factQuery{name: "overdue invoices", sql: q, one: `AND account_id = $2`,
		args: []any{w.Today}, dest: []any{&inv.AccountID, &inv.ID, &inv.ExternalID, &inv.DueOn, &amount},
		row: l.each(&inv.AccountID, func(f *csbot.AccountFacts) {
			inv.Amount = csbot.Cents(amount)
			f.Overdue = append(f.Overdue, inv)
		})}
}

func (l *factLoader) touchpoints(now time.Time) factQuery {
	const q = `SELECT account_id, max(at), max(at) FILTER (WHERE kind = 'ebr')
		FROM touchpoints WHERE at <= $1 ` + factScope + ` GROUP BY account_id`
	var id int64
	var last, ebr *time.Time
	return factQuery{name: "touchpoints", sql: q, one: `AND account_id = $2`,
		args: []any{now}, dest: []any{&id, &last, &ebr},
		row: l.each(&id, func(f *csbot.AccountFacts) {
			f.LastTouchAt, f.LastEBRAt = deref(last), deref(ebr)
		})}
}

func (l *factLoader) contactCounts() factQuery {
	const q = `SELECT account_id,
			count(*) FILTER (WHERE active AND role = 'champion'),
			count(*) FILTER (WHERE active AND role = 'exec_sponsor')
		FROM contacts WHERE true ` + factScope + ` GROUP BY account_id`
	var id int64
	var champions, sponsors int
	return factQuery{name: "contacts", sql: q, one: `AND account_id = $1`,
		dest: []any{&id, &champions, &sponsors},
		row: l.each(&id, func(f *csbot.AccountFacts) {
			f.ActiveChampions, f.ExecSponsors = champions, sponsors
		})}
}

func (l *factLoader) inactiveChampions() factQuery {
	const q = `SELECT account_id, id, name FROM contacts
		WHERE role = 'champion' AND NOT active ` + factScope + ` ORDER BY account_id, updated_at DESC, id DESC`
	var c csbot.Contact
	return factQuery{name: "inactive champions", sql: q, one: `AND account_id = $1`,
		dest: []any{&c.AccountID, &c.ID, &c.Name},
		row: l.each(&c.AccountID, func(f *csbot.AccountFacts) {
			f.InactiveChampions = append(f.InactiveChampions, c)
		})}
}

func (l *factLoader) outages(now time.Time, w csbot.FactWindows) factQuery {
	const q = `SELECT id, coalesce(account_id, 0), started_at FROM outages
		WHERE started_at >= $1 AND started_at <= $2 ` + factScope + ` ORDER BY started_at, id`
	var o csbot.Outage
	return factQuery{name: "outages", sql: q, one: `AND (account_id IS NULL OR account_id = $3)`,
		args: []any{w.RecentSince, now}, dest: []any{&o.ID, &o.AccountID, &o.StartedAt},
		row: func() error {
			if o.AccountID == 0 {
				l.global = append(l.global, o)
			} else if i, ok := l.byID[o.AccountID]; ok {
				l.facts[i].Outages = append(l.facts[i].Outages, o)
			}
			return nil
		}}
}

// finish completes the facts once every query has run: it adds the
// outages of every account to each account's own, and puts the NPS
// responses in order (by time, then id; cheaper here than in SQL), so
// that the facts of an account do not depend on how they were read.
func (l *factLoader) finish() {
	for i := range l.facts {
		f := &l.facts[i]
		if len(f.NPS) > 1 {
			slices.SortFunc(f.NPS, func(a, b csbot.NPSResponse) int {
				return cmp.Or(a.RespondedAt.Compare(b.RespondedAt), cmp.Compare(a.ID, b.ID))
			})
		}
		if len(l.global) == 0 {
			continue
		}
		if len(f.Outages) == 0 {
			f.Outages = l.global // shared: Score and Signals never modify it
		} else {
			f.Outages = append(f.Outages, l.global...)
		}
	}
}

// renewals reads, in one pass, each account's earliest open renewal from
// today on (NextRenewal) and its earliest open one before today
// (OverdueRenewal).
func (l *factLoader) renewals(w csbot.FactWindows) factQuery {
	const q = `SELECT DISTINCT ON (account_id, renewal_date < $1) account_id, renewal_date < $1, id, renewal_date, arr_cents, auto_renew
		FROM renewals WHERE status = 'open' ` + factScope + `
		ORDER BY account_id, renewal_date < $1, renewal_date, id`
	var r csbot.Renewal
	var arr int64
	var overdue bool
	return factQuery{name: "renewals", sql: q, one: `AND account_id = $2`,
		args: []any{w.Today}, dest: []any{&r.AccountID, &overdue, &r.ID, &r.RenewalDate, &arr, &r.AutoRenew},
		row: l.each(&r.AccountID, func(f *csbot.AccountFacts) {
			r.ARR, r.Status = csbot.Cents(arr), csbot.RenewalOpen
			if overdue {
				f.OverdueRenewal = r
			} else {
				f.NextRenewal = r
			}
		})}
}

// latestSnapshot reads the latest snapshot before today.
func (l *factLoader) latestSnapshot(w csbot.FactWindows) factQuery {
	const q = `SELECT DISTINCT ON (account_id) account_id, day, score, band FROM health_scores
		WHERE day < $1 ` + factScope + ` ORDER BY account_id, day DESC`
	var id int64
	var snap csbot.HealthSnapshot
	var band string
	return factQuery{name: "snapshots", sql: q, one: `AND account_id = $2`,
		args: []any{w.Today}, dest: []any{&id, &snap.Day, &snap.Score, &band},
		row: l.each(&id, func(f *csbot.AccountFacts) {
			snap.Band = csbot.Band(band)
			f.Previous = snap
		})}
}

// snapshotIn reads the latest snapshot dated from..to into the field of
// the facts that field returns.
func (l *factLoader) snapshotIn(name string, from, to time.Time, field func(*csbot.AccountFacts) *csbot.HealthSnapshot) factQuery {
	const q = `SELECT DISTINCT ON (account_id) account_id, day, score, band FROM health_scores
		WHERE day BETWEEN $1 AND $2 ` + factScope + ` ORDER BY account_id, day DESC`
	var id int64
	var snap csbot.HealthSnapshot
	var band string
	return factQuery{name: name, sql: q, one: `AND account_id = $3`,
		args: []any{from, to}, dest: []any{&id, &snap.Day, &snap.Score, &band},
		row: l.each(&id, func(f *csbot.AccountFacts) {
			snap.Band = csbot.Band(band)
			*field(f) = snap
		})}
}

func (l *factLoader) overrides(now time.Time) factQuery {
	const q = `SELECT DISTINCT ON (account_id) account_id, id, score, coalesce(band, ''), note, by_slack_id, created_at, expires_at
		FROM health_overrides WHERE created_at <= $1 ` + factScope + ` ORDER BY account_id, created_at DESC, id DESC`
	var o csbot.HealthOverride
	var score *int
	var band string
	return factQuery{name: "overrides", sql: q, one: `AND account_id = $2`,
		args: []any{now}, dest: []any{&o.AccountID, &o.ID, &score, &band, &o.Note, &o.By, &o.CreatedAt, &o.ExpiresAt},
		row: l.each(&o.AccountID, func(f *csbot.AccountFacts) {
			ov := o
			ov.Band = csbot.Band(band)
			if score != nil {
				ov.Score, ov.HasScore = *score, true
			}
			f.Override = &ov
		})}
}

// scoreDetail is what health_scores.components holds beside the score.
type scoreDetail struct {
	Coverage   int               `json:"coverage"`
	Trend      csbot.Trend       `json:"trend"`
	Components []csbot.Component `json:"components"`
}

// SaveScores writes one snapshot per score, dated by the UTC day of its
// At; a recomputation the same day replaces that day's snapshot. Scores
// with no band (no data at all) are not written. It returns how many were
// written.
func (s *Store) SaveScores(ctx context.Context, scores []csbot.HealthScore) (int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("save scores: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	const staging = `CREATE TEMP TABLE csbot_scores (account_id bigint, day date, computed_at timestamptz,
		score smallint, band text, components jsonb, drivers jsonb) ON COMMIT DROP`
	if _, err := tx.Exec(ctx, staging); err != nil {
		return 0, fmt.Errorf("save scores: %w", err)
	}
	i := 0
	var row []any
	src := pgx.CopyFromFunc(func() ([]any, error) {
		for ; i < len(scores); i++ {
			h := scores[i]
			if h.Band == "" {
				continue
			}
			detail, err := json.Marshal(scoreDetail{Coverage: h.Coverage, Trend: h.Trend, Components: h.Components})
			if err != nil {
				return nil, err
			}
			drivers, err := json.Marshal(h.Drivers)
			if err != nil {
				return nil, err
			}
			day := time.Date(h.At.UTC().Year(), h.At.UTC().Month(), h.At.UTC().Day(), 0, 0, 0, 0, time.UTC)
			row = append(row[:0], h.AccountID, day, h.At, int16(h.Score), string(h.Band), detail, drivers)
			i++
			return row, nil
		}
		return nil, nil
	})
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"csbot_scores"}, []string{"account_id", "day", "computed_at", "score", "band", "components", "drivers"}, src)
	if err != nil {
		return 0, fmt.Errorf("save scores: copy: %w", err)
	}
	const upsert = `INSERT INTO health_scores (account_id, day, computed_at, score, band, components, drivers)
		SELECT account_id, day, computed_at, score, band, components, drivers FROM csbot_scores
		ON CONFLICT (account_id, day) DO UPDATE SET computed_at = excluded.computed_at, score = excluded.score,
			band = excluded.band, components = excluded.components, drivers = excluded.drivers`
	if _, err := tx.Exec(ctx, upsert); err != nil {
		return 0, fmt.Errorf("save scores: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("save scores: commit: %w", err)
	}
	return n, nil
}
