package store

import (
	"context"
	"fmt"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// BookSummary counts the accounts by tier and by the band of their latest
// health snapshot, and the open renewals due from now to now+days.
func (s *Store) BookSummary(ctx context.Context, now time.Time, days int) (csbot.BookSummary, error) {
	const byTier = `SELECT tier, count(*), coalesce(sum(arr_cents), 0) FROM accounts
		WHERE stage <> 'churned' GROUP BY tier`
	const byBand = `SELECT coalesce(h.band, ''), count(*) FROM accounts a
		LEFT JOIN LATERAL (SELECT band FROM health_scores h WHERE h.account_id = a.id ORDER BY day DESC LIMIT 1) h ON true
		WHERE a.stage <> 'churned' GROUP BY 1`
	const renewals = `SELECT count(*), coalesce(sum(arr_cents), 0) FROM renewals
		WHERE status = 'open' AND renewal_date >= $1::date AND renewal_date < $1::date + $2::int`
	sum := csbot.BookSummary{ByBand: map[string]int{}, RenewalsDays: days}
	tiers := map[csbot.Tier]csbot.TierSummary{}
	rows, err := s.pool.Query(ctx, byTier)
	if err != nil {
		return sum, fmt.Errorf("book summary: %w", err)
	}
	for rows.Next() {
		var t csbot.TierSummary
		var arr int64
		if err := rows.Scan(&t.Tier, &t.Accounts, &arr); err != nil {
			return sum, fmt.Errorf("book summary: %w", err)
		}
		t.ARR = csbot.Cents(arr)
		tiers[t.Tier] = t
	}
	if err := rows.Err(); err != nil {
		return sum, fmt.Errorf("book summary: %w", err)
	}
	for _, t := range csbot.Tiers() {
		ts := tiers[t]
		ts.Tier = t
		sum.ByTier = append(sum.ByTier, ts)
		sum.Accounts += ts.Accounts
		sum.ARR += ts.ARR
	}
	rows, err = s.pool.Query(ctx, byBand)
	if err != nil {
		return sum, fmt.Errorf("book summary: bands: %w", err)
	}
	for rows.Next() {
		var band string
		var n int
		if err := rows.Scan(&band, &n); err != nil {
			return sum, fmt.Errorf("book summary: bands: %w", err)
		}
		if band == "" {
			sum.Unscored = n
		} else {
			sum.ByBand[band] = n
		}
	}
	if err := rows.Err(); err != nil {
		return sum, fmt.Errorf("book summary: bands: %w", err)
	}
	var arr int64
	if err := s.pool.QueryRow(ctx, renewals, now, days).Scan(&sum.Renewals, &arr); err != nil {
		return sum, fmt.Errorf("book summary: renewals: %w", err)
	}
	sum.RenewalsARR = csbot.Cents(arr)
	return sum, nil
}

// AccountCount is the number of accounts stored.
func (s *Store) AccountCount(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

// TableCounts returns the number of rows of each table of the book.
func (s *Store) TableCounts(ctx context.Context) (map[string]int64, error) {
	const q = `SELECT 'users', count(*) FROM users UNION ALL
		SELECT 'accounts', count(*) FROM accounts UNION ALL
		SELECT 'contacts', count(*) FROM contacts UNION ALL
		SELECT 'renewals', count(*) FROM renewals UNION ALL
		SELECT 'usage_daily', count(*) FROM usage_daily UNION ALL
		SELECT 'tickets', count(*) FROM tickets UNION ALL
		SELECT 'nps_responses', count(*) FROM nps_responses UNION ALL
		SELECT 'invoices', count(*) FROM invoices UNION ALL
		SELECT 'outages', count(*) FROM outages UNION ALL
		SELECT 'touchpoints', count(*) FROM touchpoints UNION ALL
		SELECT 'health_scores', count(*) FROM health_scores`
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("table counts: %w", err)
	}
	counts := map[string]int64{}
	var name string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&name, &n}, func() error { counts[name] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("table counts: %w", err)
	}
	return counts, nil
}
