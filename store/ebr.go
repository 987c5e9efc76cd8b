package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// The queries of EBRFacts; $1 is always the account.
const (
	// ebrAccountSQL reads the account's brief and its licensed seats.
	ebrAccountSQL = `SELECT ` + dueBriefColumnsA + `, coalesce(a.licensed_seats, 0)
  FROM accounts a WHERE a.id = $1`

	// ebrHandoffSQL reads the goals of the latest handoff that is not
	// closed.
	ebrHandoffSQL = `SELECT goals, success_criteria FROM handoffs
 WHERE account_id = $1 AND state <> 'closed'
 ORDER BY created_at DESC, id DESC LIMIT 1`

	// ebrHealthSQL reads the latest snapshot dated on or before $2, with
	// its score detail without the components.
	ebrHealthSQL = `SELECT score, band, components - 'components' FROM health_scores
 WHERE account_id = $1 AND day <= $2::date
 ORDER BY day DESC LIMIT 1`

	// ebrLatestHealthSQL reads the latest snapshot dated after $2.
	ebrLatestHealthSQL = `SELECT score, band, components - 'components' FROM health_scores
 WHERE account_id = $1 AND day > $2::date
 ORDER BY day DESC LIMIT 1`

	// ebrUsageSQL reads usage over [$2, $3) and the period before,
	// [$4, $2).
	ebrUsageSQL = `SELECT count(*) FILTER (WHERE day >= $2),
       coalesce(avg(active_users) FILTER (WHERE day >= $2), 0)::float8,
       coalesce(max(licensed_seats) FILTER (WHERE day >= $2), 0),
       count(*) FILTER (WHERE day >= $2 AND active_users > 0),
       count(*) FILTER (WHERE day < $2),
       coalesce(avg(active_users) FILTER (WHERE day < $2), 0)::float8
  FROM usage_daily
 WHERE account_id = $1 AND day >= $4::date AND day < $3::date`

	// ebrPeakSQL reads the day of most active users in [$2, $3), the
	// earliest of equals.
	ebrPeakSQL = `SELECT day, active_users FROM usage_daily
 WHERE account_id = $1 AND day >= $2::date AND day < $3::date
 ORDER BY active_users DESC, day LIMIT 1`

	// ebrTicketsSQL reads the support figures of [$2, $3).
	ebrTicketsSQL = `SELECT count(*) FILTER (WHERE opened),
       count(*) FILTER (WHERE opened AND severity = 'low'),
       count(*) FILTER (WHERE opened AND severity = 'normal'),
       count(*) FILTER (WHERE opened AND severity = 'high'),
       count(*) FILTER (WHERE opened AND severity = 'urgent'),
       count(*) FILTER (WHERE resolved),
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - opened_at) / 3600)
                FILTER (WHERE resolved), 0)::float8,
       count(*) FILTER (WHERE opened_at < $3 AND (closed_at IS NULL OR closed_at >= $3))
  FROM (SELECT opened_at, closed_at, severity,
               opened_at >= $2 AND opened_at < $3 AS opened,
               closed_at >= $2 AND closed_at < $3 AS resolved
          FROM tickets WHERE account_id = $1 AND opened_at < $3) t`

	// ebrSubjectsSQL reads the subjects of the latest five tickets opened
	// in [$2, $3).
	ebrSubjectsSQL = `SELECT subject FROM tickets
 WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3 AND btrim(coalesce(subject, '')) <> ''
 ORDER BY opened_at DESC, id DESC LIMIT 5`

	// ebrNPSSQL counts the NPS responses of [$2, $3).
	ebrNPSSQL = `SELECT count(*), count(*) FILTER (WHERE score >= 9),
       count(*) FILTER (WHERE score BETWEEN 7 AND 8), count(*) FILTER (WHERE score <= 6)
  FROM nps_responses WHERE account_id = $1 AND responded_at >= $2 AND responded_at < $3`

	// ebrQuotesSQL reads three comments of [$2, $3), the lowest scores
	// first; never who wrote them.
	ebrQuotesSQL = `SELECT score, comment FROM nps_responses
 WHERE account_id = $1 AND responded_at >= $2 AND responded_at < $3 AND btrim(coalesce(comment, '')) <> ''
 ORDER BY score, responded_at DESC, id LIMIT 3`

	// ebrTouchpointsSQL reads the latest ten touchpoints of [$2, $3).
	ebrTouchpointsSQL = `SELECT at, kind, coalesce(summary, '') FROM touchpoints
 WHERE account_id = $1 AND at >= $2 AND at < $3
 ORDER BY at DESC, id DESC LIMIT 10`

	// ebrRenewalSQL reads the first open renewal dated on or after $2,
	// else the latest open one, with the active renewal contact first by
	// name.
	ebrRenewalSQL = `SELECT r.id, r.renewal_date, r.arr_cents, r.auto_renew, coalesce(c.name, ''), coalesce(c.title, '')
  FROM renewals r
  LEFT JOIN LATERAL (SELECT name, title FROM contacts
                      WHERE account_id = r.account_id AND role = 'renewal' AND active
                      ORDER BY lower(name), name, id LIMIT 1) c ON true
 WHERE r.account_id = $1 AND r.status = 'open'
 ORDER BY r.renewal_date < $2::date, CASE WHEN r.renewal_date >= $2::date THEN r.renewal_date END,
          r.renewal_date DESC, r.id
 LIMIT 1`

	// ebrRisksSQL reads the live alerts, the most severe first, then the
	// oldest.
	ebrRisksSQL = `SELECT id, kind, severity, evidence FROM alerts
 WHERE account_id = $1 AND state IN ('open', 'acknowledged', 'escalated')
 ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, created_at, id`
)

// EBRFacts returns the fact sheet of the account for the period p: what
// an EBR draft may state of it, read from one snapshot of the database in
// one round trip. Usage, support, NPS and touchpoints count over
// [p.Start, p.End); health is the latest snapshot on or before p.End (and
// p.Start, for HealthStart; HealthNow is the latest one after p.End); the renewal is the first open one dated on or
// after p.End (else the latest open one), its DaysLeft counted from now's
// UTC date. It holds no contact or respondent emails. It returns
// csbot.ErrNotFound (wrapped) when the account does not exist.
func (s *Store) EBRFacts(ctx context.Context, accountID int64, p csbot.EBRPeriod, now time.Time) (csbot.EBRFacts, error) {
	f := csbot.EBRFacts{Period: p}
	fail := func(what string, err error) (csbot.EBRFacts, error) {
		if what != "" {
			what = ": " + what
		}
		return csbot.EBRFacts{}, fmt.Errorf("ebr facts of account %d%s: %w", accountID, what, err)
	}
	start, end := p.Start, p.End
	prevStart := start.Add(-end.Sub(start))
	endDay := utcDay(end)

	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return fail("", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only

	b := &pgx.Batch{}
	b.Queue(ebrAccountSQL, accountID)
	b.Queue(ebrHandoffSQL, accountID)
	b.Queue(ebrHealthSQL, accountID, endDay)
	b.Queue(ebrHealthSQL, accountID, utcDay(start))
	b.Queue(ebrLatestHealthSQL, accountID, endDay)
	b.Queue(ebrUsageSQL, accountID, start, end, prevStart)
	b.Queue(ebrPeakSQL, accountID, start, end)
	b.Queue(ebrTicketsSQL, accountID, start, end)
	b.Queue(ebrSubjectsSQL, accountID, start, end)
	b.Queue(ebrNPSSQL, accountID, start, end)
	b.Queue(ebrQuotesSQL, accountID, start, end)
	b.Queue(ebrTouchpointsSQL, accountID, start, end)
	b.Queue(ebrRenewalSQL, accountID, endDay)
	b.Queue(ebrRisksSQL, accountID)
	br := tx.SendBatch(ctx, b)
	defer br.Close()

	var acc dueBriefRow
	var seats int
	if err := br.QueryRow().Scan(append(acc.fields(), &seats)...); err != nil {
		return fail("", notFound(err))
	}
	f.Account = acc.brief()

	if err := optional(br.QueryRow().Scan(&f.Goals, &f.SuccessCriteria)); err != nil {
		return fail("handoff", err)
	}

	for i, h := range []*csbot.HealthBrief{&f.Health, {}, {}} {
		var band string
		var detail []byte
		switch err := br.QueryRow().Scan(&h.Score, &band, &detail); {
		case errors.Is(err, pgx.ErrNoRows):
			continue
		case err != nil:
			return fail("health", err)
		}
		h.Band = csbot.Band(band)
		var d scoreDetail
		if json.Unmarshal(detail, &d) == nil {
			h.Coverage, h.Trend = d.Coverage, d.Trend
		}
		switch i {
		case 1:
			f.HealthStart = h
		case 2:
			f.HealthNow = h
		}
	}

	u := &f.Usage
	var days, prevDays, usageSeats int
	var avg, prevAvg float64
	if err := br.QueryRow().Scan(&days, &avg, &usageSeats, &u.DaysWithActivity, &prevDays, &prevAvg); err != nil {
		return fail("usage", err)
	}
	u.HasData, u.HasPrev = days > 0, prevDays > 0
	u.Seats = seats
	if u.Seats <= 0 {
		u.Seats = usageSeats
	}
	u.AvgActiveUsers, u.PrevAvgActive = round1(avg), round1(prevAvg)
	if u.HasData && u.Seats > 0 {
		u.AdoptionPct = int(math.Round(avg / float64(u.Seats) * 100))
	}
	if u.HasData && u.HasPrev && prevAvg > 0 {
		u.ChangePct = int(math.Round((avg - prevAvg) / prevAvg * 100))
	}
	var peakDay time.Time
	switch err := br.QueryRow().Scan(&peakDay, &u.PeakActiveUsers); {
	case err == nil:
		u.PeakDay = peakDay.Format(time.DateOnly)
	case !errors.Is(err, pgx.ErrNoRows):
		return fail("usage peak", err)
	}

	sp := &f.Support
	var low, normal, high int
	if err := br.QueryRow().Scan(&sp.Opened, &low, &normal, &high, &sp.UrgentOpened,
		&sp.Resolved, &sp.MedianHours, &sp.OpenAtEnd); err != nil {
		return fail("tickets", err)
	}
	sp.MedianHours = round1(sp.MedianHours)
	for sev, n := range map[string]int{"low": low, "normal": normal, "high": high, "urgent": sp.UrgentOpened} {
		if n > 0 {
			if sp.BySeverity == nil {
				sp.BySeverity = map[string]int{}
			}
			sp.BySeverity[sev] = n
		}
	}
	rows, err := br.Query()
	if err != nil {
		return fail("ticket subjects", err)
	}
	if sp.Subjects, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return fail("ticket subjects", err)
	}

	sat := &f.Satisfaction
	if err := br.QueryRow().Scan(&sat.Responses, &sat.Promoters, &sat.Passives, &sat.Detractors); err != nil {
		return fail("nps", err)
	}
	if sat.Responses > 0 {
		sat.NPS = int(math.Round(float64(sat.Promoters-sat.Detractors) * 100 / float64(sat.Responses)))
	}
	rows, err = br.Query()
	if err != nil {
		return fail("nps comments", err)
	}
	if sat.Quotes, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (csbot.EBRQuote, error) {
		var q csbot.EBRQuote
		err := row.Scan(&q.Score, &q.Comment)
		return q, err
	}); err != nil {
		return fail("nps comments", err)
	}

	rows, err = br.Query()
	if err != nil {
		return fail("touchpoints", err)
	}
	if f.Touchpoints, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (csbot.EBRTouchpoint, error) {
		var t csbot.EBRTouchpoint
		var at time.Time
		var kind string
		err := row.Scan(&at, &kind, &t.Summary)
		t.Day, t.Kind = at.UTC().Format(time.DateOnly), csbot.TouchKind(kind)
		return t, err
	}); err != nil {
		return fail("touchpoints", err)
	}

	var r csbot.RenewalBrief
	var arr int64
	switch err := br.QueryRow().Scan(&r.ID, &r.Date, &arr, &r.AutoRenew, &r.Contact, &r.ContactRef); {
	case err == nil:
		r.ARR, r.Date = csbot.Cents(arr), utcDay(r.Date)
		r.DaysLeft = int(r.Date.Sub(utcDay(now)).Hours() / 24)
		f.Renewal = &r
	case !errors.Is(err, pgx.ErrNoRows):
		return fail("renewal", err)
	}

	rows, err = br.Query()
	if err != nil {
		return fail("risks", err)
	}
	if f.Risks, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (csbot.AlertItem, error) {
		var a csbot.AlertItem
		var kind, severity string
		err := row.Scan(&a.AlertID, &kind, &severity, &a.Evidence)
		a.Kind, a.Severity = csbot.SignalKind(kind), csbot.SignalSeverity(severity)
		return a, err
	}); err != nil {
		return fail("risks", err)
	}

	if err := br.Close(); err != nil {
		return fail("", err)
	}
	return f, nil
}

// optional returns err, or nil when it is pgx.ErrNoRows.
func optional(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return err
}

// round1 rounds x to one decimal.
func round1(x float64) float64 { return math.Round(x*10) / 10 }
