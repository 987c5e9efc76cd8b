package store

import (
	"context"
	"encoding/json"
	"fmt"
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
	w := csbot.WindowsAt(now)
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("account facts: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	l := &factLoader{tx: tx, byID: map[int64]int{}}
	steps := []struct {
		name string
		fn   func(context.Context, time.Time, csbot.FactWindows) error
	}{
		{"accounts", l.accounts},
		{"usage", l.usage},
		{"tickets", l.tickets},
		{"nps", l.nps},
		{"invoices", l.invoices},
		{"touchpoints", l.touchpoints},
		{"contacts", l.contacts},
		{"outages", l.outages},
		{"renewals", l.renewals},
		{"snapshots", l.snapshots},
		{"overrides", l.overrides},
	}
	for _, st := range steps {
		if err := st.fn(ctx, now, w); err != nil {
			return nil, fmt.Errorf("account facts: %s: %w", st.name, err)
		}
	}
	return l.facts, nil
}

// factLoader fills one AccountFacts per account, query by query.
type factLoader struct {
	tx    pgx.Tx
	facts []csbot.AccountFacts
	byID  map[int64]int
}

// each runs q and calls fn with the facts of the row's account (the first
// scanned value must be the account id); rows of unknown accounts are
// skipped.
func (l *factLoader) each(ctx context.Context, q string, args []any, dest []any, fn func(f *csbot.AccountFacts)) error {
	rows, err := l.tx.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	id := dest[0].(*int64)
	_, err = pgx.ForEachRow(rows, dest, func() error {
		if i, ok := l.byID[*id]; ok {
			fn(&l.facts[i])
		}
		return nil
	})
	return err
}

func (l *factLoader) accounts(ctx context.Context, now time.Time, _ csbot.FactWindows) error {
	const q = `SELECT id, tier, created_at, coalesce(licensed_seats, 0) FROM accounts
		WHERE stage <> 'churned' ORDER BY id`
	rows, err := l.tx.Query(ctx, q)
	if err != nil {
		return err
	}
	var f csbot.AccountFacts
	var tier string
	_, err = pgx.ForEachRow(rows, []any{&f.AccountID, &tier, &f.CreatedAt, &f.LicensedSeats}, func() error {
		f.Tier = csbot.Tier(tier)
		l.byID[f.AccountID] = len(l.facts)
		l.facts = append(l.facts, f)
		return nil
	})
	return err
}

func (l *factLoader) usage(ctx context.Context, _ time.Time, w csbot.FactWindows) error {
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
		WHERE a.stage <> 'churned'`
	var id, cur, prior int64
	var first, last *time.Time
	return l.each(ctx, q, []any{w.UsageFrom, w.UsageTo, w.PriorFrom, w.PriorTo}, []any{&id, &first, &last, &cur, &prior}, func(f *csbot.AccountFacts) {
		f.UsageFirstDay, f.LastActiveDay = deref(first), deref(last)
		f.ActiveUserDays, f.PriorActiveUserDays = cur, prior
	})
}

func (l *factLoader) tickets(ctx context.Context, now time.Time, w csbot.FactWindows) error {
	// A ticket counts as unresolved at now when it is open or pending, or
	// was closed only after now.
	const q = `SELECT account_id,
			count(*) FILTER (WHERE opened_at >= $2),
			count(*) FILTER (WHERE unresolved AND severity = 'urgent'),
			count(*) FILTER (WHERE unresolved AND severity = 'high'),
			min(opened_at) FILTER (WHERE unresolved)
		FROM (SELECT account_id, opened_at, severity,
				(status IN ('open', 'pending') OR closed_at > $1) AS unresolved
			FROM tickets WHERE opened_at <= $1) t
		GROUP BY account_id`
	var id int64
	var n30, urgent, high int
	var oldest *time.Time
	return l.each(ctx, q, []any{now, w.RecentSince}, []any{&id, &n30, &urgent, &high, &oldest}, func(f *csbot.AccountFacts) {
		f.TicketsOnRecord = true
		f.Tickets30, f.OpenUrgent, f.OpenHigh, f.OldestOpenAt = n30, urgent, high, deref(oldest)
	})
}

func (l *factLoader) nps(ctx context.Context, now time.Time, w csbot.FactWindows) error {
	const q = `SELECT account_id, id, responded_at, score, coalesce(respondent_email, ''), coalesce(comment, '')
		FROM nps_responses WHERE responded_at >= $1 AND responded_at <= $2`
	var r csbot.NPSResponse
	return l.each(ctx, q, []any{w.NPSSince, now}, []any{&r.AccountID, &r.ID, &r.RespondedAt, &r.Score, &r.RespondentEmail, &r.Comment}, func(f *csbot.AccountFacts) {
		f.NPS = append(f.NPS, r)
	})
}

func (l *factLoader) invoices(ctx context.Context, _ time.Time, w csbot.FactWindows) error {
	const onRecord = `SELECT DISTINCT account_id FROM invoices WHERE coalesce(issued_on, due_on) <= $1`
	var id int64
	if err := l.each(ctx, onRecord, []any{w.Today}, []any{&id}, func(f *csbot.AccountFacts) { f.InvoicesOnRecord = true }); err != nil {
		return err
	}
	const overdue = `SELECT account_id, id, external_id, due_on, amount_cents FROM invoices
		WHERE due_on < $1 AND (paid_on IS NULL OR paid_on > $1)`
	var inv csbot.Invoice
	var amount int64
	return l.each(ctx, overdue, []any{w.Today}, []any{&inv.AccountID, &inv.ID, &inv.ExternalID, &inv.DueOn, &amount}, func(f *csbot.AccountFacts) {
		inv.Amount = csbot.Cents(amount)
		f.Overdue = append(f.Overdue, inv)
	})
}

func (l *factLoader) touchpoints(ctx context.Context, now time.Time, _ csbot.FactWindows) error {
	const q = `SELECT account_id, max(at), max(at) FILTER (WHERE kind = 'ebr')
		FROM touchpoints WHERE at <= $1 GROUP BY account_id`
	var id int64
	var last, ebr *time.Time
	return l.each(ctx, q, []any{now}, []any{&id, &last, &ebr}, func(f *csbot.AccountFacts) {
		f.LastTouchAt, f.LastEBRAt = deref(last), deref(ebr)
	})
}

func (l *factLoader) contacts(ctx context.Context, _ time.Time, _ csbot.FactWindows) error {
	const counts = `SELECT account_id,
			count(*) FILTER (WHERE active AND role = 'champion'),
			count(*) FILTER (WHERE active AND role = 'exec_sponsor')
		FROM contacts GROUP BY account_id`
	var id int64
	var champions, sponsors int
	if err := l.each(ctx, counts, nil, []any{&id, &champions, &sponsors}, func(f *csbot.AccountFacts) {
		f.ActiveChampions, f.ExecSponsors = champions, sponsors
	}); err != nil {
		return err
	}
	const inactive = `SELECT account_id, id, name FROM contacts
		WHERE role = 'champion' AND NOT active ORDER BY account_id, updated_at DESC, id DESC`
	var c csbot.Contact
	return l.each(ctx, inactive, nil, []any{&c.AccountID, &c.ID, &c.Name}, func(f *csbot.AccountFacts) {
		f.InactiveChampions = append(f.InactiveChampions, c)
	})
}

func (l *factLoader) outages(ctx context.Context, now time.Time, w csbot.FactWindows) error {
	const q = `SELECT id, coalesce(account_id, 0), started_at FROM outages
		WHERE started_at >= $1 AND started_at <= $2 ORDER BY started_at`
	rows, err := l.tx.Query(ctx, q, w.RecentSince, now)
	if err != nil {
		return err
	}
	var global []csbot.Outage
	var o csbot.Outage
	_, err = pgx.ForEachRow(rows, []any{&o.ID, &o.AccountID, &o.StartedAt}, func() error {
		if o.AccountID == 0 {
			global = append(global, o)
		} else if i, ok := l.byID[o.AccountID]; ok {
			l.facts[i].Outages = append(l.facts[i].Outages, o)
		}
		return nil
	})
	if err != nil || len(global) == 0 {
		return err
	}
	for i := range l.facts {
		if len(l.facts[i].Outages) == 0 {
			l.facts[i].Outages = global // shared: Score and Signals never modify it
		} else {
			l.facts[i].Outages = append(l.facts[i].Outages, global...)
		}
	}
	return nil
}

func (l *factLoader) renewals(ctx context.Context, _ time.Time, w csbot.FactWindows) error {
	const q = `SELECT DISTINCT ON (account_id) account_id, id, renewal_date, arr_cents, auto_renew
		FROM renewals WHERE status = 'open' AND renewal_date >= $1
		ORDER BY account_id, renewal_date, id`
	var r csbot.Renewal
	var arr int64
	return l.each(ctx, q, []any{w.Today}, []any{&r.AccountID, &r.ID, &r.RenewalDate, &arr, &r.AutoRenew}, func(f *csbot.AccountFacts) {
		r.ARR, r.Status = csbot.Cents(arr), csbot.RenewalOpen
		f.NextRenewal = r
	})
}

func (l *factLoader) snapshots(ctx context.Context, _ time.Time, w csbot.FactWindows) error {
	// The latest snapshot before today, the latest 7..14 days before, and
	// the latest 30..45 days before.
	const latest = `SELECT DISTINCT ON (account_id) account_id, day, score, band FROM health_scores
		WHERE day < $1 ORDER BY account_id, day DESC`
	const inRange = `SELECT DISTINCT ON (account_id) account_id, day, score, band FROM health_scores
		WHERE day BETWEEN $1 AND $2 ORDER BY account_id, day DESC`
	var id int64
	var snap csbot.HealthSnapshot
	var band string
	dest := []any{&id, &snap.Day, &snap.Score, &band}
	if err := l.each(ctx, latest, []any{w.Today}, dest, func(f *csbot.AccountFacts) {
		snap.Band = csbot.Band(band)
		f.Previous = snap
	}); err != nil {
		return err
	}
	if err := l.each(ctx, inRange, []any{w.Today.AddDate(0, 0, -14), w.Today.AddDate(0, 0, -7)}, dest, func(f *csbot.AccountFacts) {
		snap.Band = csbot.Band(band)
		f.Week = snap
	}); err != nil {
		return err
	}
	return l.each(ctx, inRange, []any{w.Today.AddDate(0, 0, -45), w.Today.AddDate(0, 0, -30)}, dest, func(f *csbot.AccountFacts) {
		snap.Band = csbot.Band(band)
		f.Month = snap
	})
}

func (l *factLoader) overrides(ctx context.Context, now time.Time, _ csbot.FactWindows) error {
	const q = `SELECT DISTINCT ON (account_id) account_id, id, score, coalesce(band, ''), note, by_slack_id, created_at, expires_at
		FROM health_overrides WHERE created_at <= $1 ORDER BY account_id, created_at DESC, id DESC`
	var o csbot.HealthOverride
	var score *int
	var band string
	return l.each(ctx, q, []any{now}, []any{&o.AccountID, &o.ID, &score, &band, &o.Note, &o.By, &o.CreatedAt, &o.ExpiresAt}, func(f *csbot.AccountFacts) {
		ov := o
		ov.Band = csbot.Band(band)
		if score != nil {
			ov.Score, ov.HasScore = *score, true
		}
		f.Override = &ov
	})
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
