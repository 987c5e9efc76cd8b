package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// AccountDetail returns what /health shows of the account with internal id
// id at now: the account, its CSM, its health facts (exactly those
// AccountFacts gives it, but read for this account alone, and given for a
// churned account too), its active contacts by role (in the order of
// csbot.ContactRoles) then name, and its latest touchpoint at or before
// now. Everything is read from one snapshot of the database, in one round
// trip of queries. It returns csbot.ErrNotFound when the account does not
// exist.
func (s *Store) AccountDetail(ctx context.Context, id int64, now time.Time) (csbot.AccountDetail, error) {
	const account = `SELECT ` + accountColumnsA + `,
			coalesce(u.role, ''), coalesce(u.name, ''), coalesce(u.email, ''),
			coalesce(u.manager_slack_id, ''), coalesce(u.timezone, '')
		FROM accounts a LEFT JOIN users u ON u.slack_id = a.csm_slack_id
		WHERE a.id = $1`
	const contacts = `SELECT ` + contactColumns + ` FROM contacts
		WHERE account_id = $1 AND active
		ORDER BY array_position($2::text[], role), lower(name), name, id`
	const lastTouch = `SELECT id, account_id, at, kind, coalesce(summary, ''), coalesce(user_slack_id, '')
		FROM touchpoints WHERE account_id = $1 AND at <= $2
		ORDER BY at DESC, id DESC LIMIT 1`
	var d csbot.AccountDetail
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return d, fmt.Errorf("account detail %d: %w", id, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only

	b := &pgx.Batch{}
	b.Queue(account, id)
	b.Queue(contacts, id, contactRoleOrder())
	b.Queue(lastTouch, id, now)
	facts := queueAccountFacts(b, id, now)
	br := tx.SendBatch(ctx, b)
	defer br.Close()

	var a accountRow
	var role string
	dest := append(a.fields(), &role, &d.CSM.Name, &d.CSM.Email, &d.CSM.ManagerSlackID, &d.CSM.Timezone)
	if err := br.QueryRow().Scan(dest...); err != nil {
		return d, fmt.Errorf("account detail %d: %w", id, notFound(err))
	}
	d.Account = a.toAccount()
	d.CSM.SlackID, d.CSM.Role = d.Account.CSMUserID, csbot.UserRole(role)

	rows, err := br.Query()
	if err != nil {
		return d, fmt.Errorf("account detail %d: contacts: %w", id, err)
	}
	d.Contacts, err = pgx.CollectRows(rows, scanContact)
	if err != nil {
		return d, fmt.Errorf("account detail %d: contacts: %w", id, err)
	}

	var t csbot.Touchpoint
	var kind string
	switch err := br.QueryRow().Scan(&t.ID, &t.AccountID, &t.At, &kind, &t.Summary, &t.UserID); {
	case err == nil:
		t.Kind = csbot.TouchKind(kind)
		d.LastTouch = t
	case !errors.Is(err, pgx.ErrNoRows):
		return d, fmt.Errorf("account detail %d: last touch: %w", id, err)
	}

	if d.Facts, err = facts.readAccountFacts(br); err != nil {
		return d, fmt.Errorf("account detail %d: facts: %w", id, err)
	}
	if err := br.Close(); err != nil {
		return d, fmt.Errorf("account detail %d: %w", id, err)
	}
	return d, nil
}

// contactColumns are the columns scanContact reads.
const contactColumns = `id, account_id, name, role, coalesce(email, ''), coalesce(title, ''), active`

// scanContact scans contactColumns.
func scanContact(row pgx.CollectableRow) (csbot.Contact, error) {
	var c csbot.Contact
	var role string
	err := row.Scan(&c.ID, &c.AccountID, &c.Name, &role, &c.Email, &c.Title, &c.Active)
	c.Role = csbot.ContactRole(role)
	return c, err
}

// contactRoleOrder is csbot.ContactRoles as SQL sorts contacts by it:
// array_position($n::text[], role).
func contactRoleOrder() []string {
	roles := csbot.ContactRoles()
	order := make([]string, len(roles))
	for i, r := range roles {
		order[i] = string(r)
	}
	return order
}
