package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// ErrAccountExists is returned by CreateAccount when an account of that
// name (ignoring case) is already in csbot. It is a conflict (see
// conflictError), not a failure.
const ErrAccountExists = conflictError("an account with that name already exists")

// maxAccountName is the longest name CreateAccount takes, in characters.
const maxAccountName = csbot.HandoffNameLimit

// CreateAccount adds an account that csbot learns of in Slack rather than
// from an import (a handoff for a customer the CRM export does not have
// yet), and records 'account_created' in the audit log, by by (a Slack user
// id), in one transaction. Of a it takes the name (trimmed), domain, tier,
// ARR, licensed seats, CSM, AE and channel; the stage is onboarding and the
// CRM id is generated: "slack-" and the new account's id. When a names no
// AE and by is a sales user, by is the AE. Creations of one name are
// serialised, so two people creating it at once make one account.
//
// It returns the account as stored; ErrAccountExists, creating nothing,
// when an account of that name (ignoring case) exists; and an error when
// the name is empty or longer than 200 characters, the tier unknown or
// the ARR or seats negative.
func (s *Store) CreateAccount(ctx context.Context, a csbot.Account, by string, now time.Time) (csbot.Account, error) {
	const lock = `SELECT pg_advisory_xact_lock(hashtext('csbot.create_account'), hashtext(lower($1)))`
	const exists = `SELECT EXISTS (SELECT 1 FROM accounts WHERE lower(name) = lower($1))`
	const role = `SELECT role FROM users WHERE slack_id = $1`
	// The id is drawn first so that the CRM id can carry it; an imported
	// account that happens to hold that CRM id gets a random tail added.
	const insert = `WITH n AS (SELECT nextval(pg_get_serial_sequence('accounts', 'id')) AS id)
		INSERT INTO accounts (id, external_id, name, domain, tier, arr_cents, stage, csm_slack_id, ae_slack_id,
			slack_channel_id, licensed_seats, created_at, updated_at)
		OVERRIDING SYSTEM VALUE
		SELECT n.id,
			CASE WHEN EXISTS (SELECT 1 FROM accounts WHERE external_id = 'slack-' || n.id)
				THEN 'slack-' || n.id || '-' || substr(md5(random()::text), 1, 6)
				ELSE 'slack-' || n.id END,
			$1, NULLIF($2, ''), $3, $4, 'onboarding', NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, ''),
			NULLIF($8, 0), $9, $9
		FROM n
		RETURNING ` + accountColumns
	name := strings.TrimSpace(a.Name)
	switch {
	case name == "":
		return csbot.Account{}, errors.New("create account: the name is empty")
	case !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0:
		return csbot.Account{}, errors.New("create account: the name is not valid text")
	case utf8.RuneCountInString(name) > maxAccountName:
		return csbot.Account{}, fmt.Errorf("create account: the name is longer than %d characters", maxAccountName)
	case !a.Tier.Valid():
		return csbot.Account{}, fmt.Errorf("create account %q: unknown tier %q", name, a.Tier)
	case a.ARR < 0:
		return csbot.Account{}, fmt.Errorf("create account %q: negative ARR", name)
	case a.LicensedSeats < 0:
		return csbot.Account{}, fmt.Errorf("create account %q: negative seats", name)
	}
	var out csbot.Account
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lock, name); err != nil {
			return err
		}
		var taken bool
		if err := tx.QueryRow(ctx, exists, name).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return ErrAccountExists
		}
		ae := a.AEUserID
		if ae == "" && by != "" {
			var r string
			switch err := tx.QueryRow(ctx, role, by).Scan(&r); {
			case err == nil && csbot.UserRole(r) == csbot.UserSales:
				ae = by
			case err != nil && !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		var row accountRow
		if err := tx.QueryRow(ctx, insert, name, a.Domain, string(a.Tier), int64(a.ARR), a.CSMUserID, ae,
			a.SlackChannelID, a.LicensedSeats, now).Scan(row.fields()...); err != nil {
			return err
		}
		out = row.toAccount()
		return audit(ctx, tx, now, by, "account_created", out.ID, map[string]any{
			"external_id": out.ExternalID, "name": out.Name, "tier": out.Tier, "arr_cents": out.ARR,
		})
	})
	if err != nil {
		return csbot.Account{}, fmt.Errorf("create account %q: %w", name, err)
	}
	return out, nil
}
