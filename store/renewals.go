package store

import (
	"context"
	"fmt"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// renewalRow is a renewals row, or the NULLs of a renewal a LEFT JOIN did
// not find (ID nil).
type renewalRow struct {
	ID            *int64
	ExternalID    *string
	AccountID     *int64
	StartDate     *time.Time
	RenewalDate   *time.Time
	ARRCents      *int64
	AutoRenew     *bool
	Status        *string
	OutcomeReason *string
}

// renewalColumnsR are the columns of renewalRow, of the renewals aliased r.
const renewalColumnsR = `r.id, r.external_id, r.account_id, r.start_date, r.renewal_date, r.arr_cents, r.auto_renew,
	r.status, r.outcome_reason`

func (r *renewalRow) fields() []any {
	return []any{&r.ID, &r.ExternalID, &r.AccountID, &r.StartDate, &r.RenewalDate, &r.ARRCents, &r.AutoRenew,
		&r.Status, &r.OutcomeReason}
}

// toRenewal returns the renewal, the zero Renewal when there is none.
func (r renewalRow) toRenewal() csbot.Renewal {
	if r.ID == nil {
		return csbot.Renewal{}
	}
	return csbot.Renewal{
		ID: *r.ID, ExternalID: deref(r.ExternalID), AccountID: deref(r.AccountID), StartDate: deref(r.StartDate),
		RenewalDate: deref(r.RenewalDate), ARR: csbot.Cents(deref(r.ARRCents)), AutoRenew: deref(r.AutoRenew),
		Status: csbot.RenewalStatus(deref(r.Status)), OutcomeReason: deref(r.OutcomeReason),
	}
}

// snapshotRow is a health snapshot, or the NULLs of one a LEFT JOIN did not
// find.
type snapshotRow struct {
	Day   *time.Time
	Score *int
	Band  *string
}

func (h *snapshotRow) fields() []any { return []any{&h.Day, &h.Score, &h.Band} }

func (h snapshotRow) toSnapshot() csbot.HealthSnapshot {
	return csbot.HealthSnapshot{Day: deref(h.Day), Score: deref(h.Score), Band: csbot.Band(deref(h.Band))}
}

// contactRow is a contact, or the NULLs of one a LEFT JOIN did not find.
type contactRow struct {
	ID        *int64
	AccountID *int64
	Name      *string
	Role      *string
	Email     *string
	Title     *string
	Active    *bool
}

// contactColumnsC are the columns of contactRow, of the contacts aliased c.
const contactColumnsC = `c.id, c.account_id, c.name, c.role, c.email, c.title, c.active`

func (c *contactRow) fields() []any {
	return []any{&c.ID, &c.AccountID, &c.Name, &c.Role, &c.Email, &c.Title, &c.Active}
}

func (c contactRow) toContact() csbot.Contact {
	return csbot.Contact{
		ID: deref(c.ID), AccountID: deref(c.AccountID), Name: deref(c.Name), Role: csbot.ContactRole(deref(c.Role)),
		Email: deref(c.Email), Title: deref(c.Title), Active: deref(c.Active),
	}
}

// nullAccountRow is an accountRow of a LEFT JOIN, NULLs when there was
// none.
type nullAccountRow struct {
	ID             *int64
	ExternalID     *string
	Name           *string
	Domain         *string
	Tier           *string
	ARRCents       *int64
	Stage          *string
	CSMSlackID     *string
	AESlackID      *string
	SlackChannelID *string
	LicensedSeats  *int32
	CreatedAt      *time.Time
	UpdatedAt      *time.Time
}

// fields returns where to scan accountColumns into r.
func (r *nullAccountRow) fields() []any {
	return []any{&r.ID, &r.ExternalID, &r.Name, &r.Domain, &r.Tier, &r.ARRCents, &r.Stage, &r.CSMSlackID,
		&r.AESlackID, &r.SlackChannelID, &r.LicensedSeats, &r.CreatedAt, &r.UpdatedAt}
}

// toAccount returns the account, the zero Account when there is none.
func (r nullAccountRow) toAccount() csbot.Account {
	if r.ID == nil {
		return csbot.Account{}
	}
	return accountRow{
		ID: *r.ID, ExternalID: deref(r.ExternalID), Name: deref(r.Name), Domain: r.Domain, Tier: deref(r.Tier),
		ARRCents: deref(r.ARRCents), Stage: deref(r.Stage), CSMSlackID: r.CSMSlackID, AESlackID: r.AESlackID,
		SlackChannelID: r.SlackChannelID, LicensedSeats: r.LicensedSeats, CreatedAt: deref(r.CreatedAt), UpdatedAt: deref(r.UpdatedAt),
	}.toAccount()
}

// latestSnapshotOfA is a lateral subquery giving the latest stored health
// snapshot (day, score, band) of the account aliased a.
const latestSnapshotOfA = `(SELECT day, score, band FROM health_scores
		WHERE account_id = a.id ORDER BY day DESC LIMIT 1)`

// Portfolio returns the accounts that have not churned whose CSM is one of
// owners (none when owners is empty), each with its latest stored health
// snapshot and its next open renewal (the earliest, past-due ones
// included): red first, then yellow, green and never scored; within a
// band by score, lowest first, then by ARR, largest first, then by name.
func (s *Store) Portfolio(ctx context.Context, owners []string) ([]csbot.PortfolioEntry, error) {
	const q = `SELECT ` + accountColumnsA + `, h.day, h.score, h.band, ` + renewalColumnsR + `
		FROM accounts a
		LEFT JOIN LATERAL ` + latestSnapshotOfA + ` h ON true
		LEFT JOIN LATERAL (SELECT * FROM renewals
			WHERE account_id = a.id AND status = 'open' ORDER BY renewal_date, id LIMIT 1) r ON true
		WHERE a.csm_slack_id = ANY($1) AND a.stage <> 'churned'
		ORDER BY CASE h.band WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 WHEN 'green' THEN 2 ELSE 3 END,
			h.score, a.arr_cents DESC, lower(a.name), a.name, a.id`
	if len(owners) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, q, owners)
	if err != nil {
		return nil, fmt.Errorf("portfolio: %w", err)
	}
	var a accountRow
	var h snapshotRow
	var r renewalRow
	dest := append(append(a.fields(), h.fields()...), r.fields()...)
	var out []csbot.PortfolioEntry
	_, err = pgx.ForEachRow(rows, dest, func() error {
		out = append(out, csbot.PortfolioEntry{Account: a.toAccount(), Health: h.toSnapshot(), NextRenewal: r.toRenewal()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("portfolio: %w", err)
	}
	return out, nil
}

// The renewals a report selects: open, dated $1..$2, of the owners $4
// (renewalsHead, then one of the owner conditions, then renewalsTail),
// and of an account whose latest band is yellow or red when $3; the
// totals of them all, by month; and the page $5 (offset), $6 (limit, NULL
// for all) of them, with their accounts, the accounts' latest snapshots
// and their active renewal contacts (the first by name). The selection
// is read once, the latest band only of the renewals dated and owned, and
// the details only for the page. Every row carries the totals; when the
// page is empty there is one row, of totals alone.
const (
	renewalsHead = `WITH dated AS MATERIALIZED (
			SELECT r.id AS renewal_id, r.account_id, r.renewal_date, r.arr_cents, a.name
			FROM renewals r JOIN accounts a ON a.id = r.account_id
			WHERE r.status = 'open' AND r.renewal_date BETWEEN $1 AND $2`
	// everyOwner keeps every account: $4 is NULL, a condition settled
	// before the query runs. Its own SQL text keeps its plans apart from
	// those of someOwners, which reads the accounts by owner.
	everyOwner   = ` AND $4::text[] IS NULL`
	someOwners   = ` AND (a.csm_slack_id = ANY($4) OR a.ae_slack_id = ANY($4))`
	renewalsTail = `
		),
		selected AS MATERIALIZED (
			SELECT * FROM dated d
			WHERE NOT $3 OR (SELECT band FROM health_scores
				WHERE account_id = d.account_id ORDER BY day DESC LIMIT 1) IN ('yellow', 'red')
		),
		months AS (
			SELECT date_trunc('month', renewal_date::timestamp)::date AS month, count(*) AS n, sum(arr_cents)::bigint AS arr
			FROM selected GROUP BY 1
		),
		totals AS (
			SELECT coalesce(sum(n), 0)::bigint AS n, coalesce(sum(arr), 0)::bigint AS arr,
				array_agg(month ORDER BY month) AS months, array_agg(n ORDER BY month) AS month_n,
				array_agg(arr ORDER BY month) AS month_arr
			FROM months
		),
		page AS (
			SELECT renewal_id, account_id FROM selected
			ORDER BY renewal_date, lower(name), name, renewal_id OFFSET $5 LIMIT $6
		)
		SELECT t.n, t.arr, t.months, t.month_n, t.month_arr,
			` + renewalColumnsR + `, ` + accountColumnsA + `, h.day, h.score, h.band, ` + contactColumnsC + `
		FROM totals t
		LEFT JOIN page p ON true
		LEFT JOIN renewals r ON r.id = p.renewal_id
		LEFT JOIN accounts a ON a.id = p.account_id
		LEFT JOIN LATERAL ` + latestSnapshotOfA + ` h ON true
		LEFT JOIN LATERAL (SELECT * FROM contacts
			WHERE account_id = a.id AND role = 'renewal' AND active ORDER BY lower(name), name, id LIMIT 1) c ON true
		ORDER BY r.renewal_date, lower(a.name), a.name, r.id`
)

// Renewals returns the page f.Offset, f.Limit (all when 0) of the open
// renewals f selects, by date then account name, each with its account,
// the account's latest stored health snapshot and its renewal contact;
// and the count and ARR of every renewal selected, in all and by calendar
// month. It reads them in one statement.
func (s *Store) Renewals(ctx context.Context, f csbot.RenewalFilter) (csbot.RenewalReport, error) {
	const every = renewalsHead + everyOwner + renewalsTail
	const some = renewalsHead + someOwners + renewalsTail
	var rep csbot.RenewalReport
	if f.Owners != nil && len(f.Owners) == 0 {
		return rep, nil
	}
	q := every
	if f.Owners != nil {
		q = some
	}
	var limit *int
	if f.Limit > 0 {
		limit = &f.Limit
	}
	rows, err := s.pool.Query(ctx, q, f.From, f.To, f.AtRisk, f.Owners, max(f.Offset, 0), limit)
	if err != nil {
		return rep, fmt.Errorf("renewals: %w", err)
	}
	var arr int64
	var months []time.Time
	var monthN, monthARR []int64
	var r renewalRow
	var a nullAccountRow // NULL when the page is empty
	var h snapshotRow
	var c contactRow
	dest := append([]any{&rep.Total, &arr, &months, &monthN, &monthARR}, r.fields()...)
	dest = append(append(append(dest, a.fields()...), h.fields()...), c.fields()...)
	first := true
	_, err = pgx.ForEachRow(rows, dest, func() error {
		if first {
			first = false
			rep.ARR = csbot.Cents(arr)
			for i, m := range months {
				rep.Months = append(rep.Months, csbot.MonthTotal{Month: m, Renewals: int(monthN[i]), ARR: csbot.Cents(monthARR[i])})
			}
		}
		if r.ID == nil {
			return nil // no line: the page is empty
		}
		rep.Lines = append(rep.Lines, csbot.RenewalLine{Renewal: r.toRenewal(), Account: a.toAccount(),
			Health: h.toSnapshot(), Contact: c.toContact()})
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("renewals: %w", err)
	}
	return rep, nil
}

// RenewalHistory returns every renewal of the account with internal id
// accountID, whatever its status, latest renewal date first; none when
// the account does not exist.
func (s *Store) RenewalHistory(ctx context.Context, accountID int64) ([]csbot.Renewal, error) {
	const q = `SELECT ` + renewalColumnsR + ` FROM renewals r WHERE r.account_id = $1
		ORDER BY r.renewal_date DESC, r.id DESC`
	rows, err := s.pool.Query(ctx, q, accountID)
	if err != nil {
		return nil, fmt.Errorf("renewal history of account %d: %w", accountID, err)
	}
	var r renewalRow
	var out []csbot.Renewal
	_, err = pgx.ForEachRow(rows, r.fields(), func() error {
		out = append(out, r.toRenewal())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("renewal history of account %d: %w", accountID, err)
	}
	return out, nil
}

// TeamOf returns the users whose manager is the user with Slack id
// managerID, by name; none when there are none.
func (s *Store) TeamOf(ctx context.Context, managerID string) ([]csbot.User, error) {
	const q = `SELECT slack_id, role, name, email, manager_slack_id, timezone FROM users
		WHERE manager_slack_id = $1 ORDER BY lower(name), name, slack_id`
	rows, err := s.pool.Query(ctx, q, managerID)
	if err != nil {
		return nil, fmt.Errorf("team of %s: %w", managerID, err)
	}
	team, err := pgx.CollectRows(rows, pgx.RowToStructByPos[userRow])
	if err != nil {
		return nil, fmt.Errorf("team of %s: %w", managerID, err)
	}
	out := make([]csbot.User, len(team))
	for i, u := range team {
		out[i] = u.toUser()
	}
	return out, nil
}
