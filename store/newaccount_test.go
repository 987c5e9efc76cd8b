package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
)

// newAccountNow is the clock of the CreateAccount tests.
func newAccountNow() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }

const newAccountUsers = `slack_id,role,name,email,manager,timezone
U0SALES,sales,Sam Sales,sam@vendor.example,,
U0CSM1,csm,Dana Scully,dana@vendor.example,,
`

const newAccountBook = `external_id,name,tier,arr
ACME-001,Acme Corp,high,120000
slack-999999,Imported With A Slack-Like Id,low,1000
`

func TestCreateAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", newAccountUsers)
	mustImport(ctx, t, s, "accounts", newAccountBook)

	got, err := s.CreateAccount(ctx, csbot.Account{Name: "  Initrode Ltd ", Tier: csbot.TierLow, ARR: 4_500_000,
		Stage: csbot.StageRenewing}, "U0SALES", newAccountNow())
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if got.ID == 0 || got.ExternalID != "slack-"+strconv.FormatInt(got.ID, 10) {
		t.Errorf("created id %d, CRM id %q; want an id and slack-<id>", got.ID, got.ExternalID)
	}
	if got.Name != "Initrode Ltd" || got.Tier != csbot.TierLow || got.ARR != 4_500_000 || got.Stage != csbot.StageOnboarding ||
		got.AEUserID != "U0SALES" || got.CSMUserID != "" || !got.CreatedAt.Equal(newAccountNow()) {
		t.Errorf("created %+v; want Initrode Ltd, low, $45,000, onboarding, AE U0SALES, created now", got)
	}
	back, err := s.AccountByID(ctx, got.ID)
	if err != nil || back.Name != got.Name || back.ExternalID != got.ExternalID {
		t.Errorf("AccountByID(%d) = %+v, %v; want the created account", got.ID, back, err)
	}
	// It is found as /health finds accounts.
	res, err := s.FindAccounts(ctx, "initrode", 5)
	if err != nil || len(res.Matches) != 1 || res.Matches[0].Account.ID != got.ID {
		t.Errorf("FindAccounts(initrode) = %+v, %v; want the new account", res, err)
	}

	var actor, action string
	var details []byte
	if err := conn.QueryRow(ctx, `SELECT actor, action, details FROM audit_log WHERE account_id = $1`, got.ID).
		Scan(&actor, &action, &details); err != nil {
		t.Fatalf("audit row: %v", err)
	}
	var d map[string]any
	if err := json.Unmarshal(details, &d); err != nil {
		t.Fatal(err)
	}
	if actor != "U0SALES" || action != "account_created" || d["name"] != "Initrode Ltd" || d["external_id"] != got.ExternalID {
		t.Errorf("audit %s %s %s; want U0SALES account_created with the name and CRM id", actor, action, details)
	}

	// A CSM is not made the AE.
	csm, err := s.CreateAccount(ctx, csbot.Account{Name: "Vandelay Industries", Tier: csbot.TierTech}, "U0CSM1", newAccountNow())
	if err != nil {
		t.Fatalf("CreateAccount by a CSM: %v", err)
	}
	if csm.AEUserID != "" || csm.ExternalID == got.ExternalID {
		t.Errorf("created by a CSM: AE %q, CRM id %q; want no AE and a CRM id of its own", csm.AEUserID, csm.ExternalID)
	}
}

func TestCreateAccountRefusesATakenName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "accounts", newAccountBook)
	_, err := s.CreateAccount(ctx, csbot.Account{Name: "ACME corp", Tier: csbot.TierHigh}, "U0SALES", newAccountNow())
	if !errors.Is(err, store.ErrAccountExists) {
		t.Fatalf("CreateAccount(ACME corp) = %v, want ErrAccountExists", err)
	}
	var c interface{ Conflict() bool }
	if !errors.As(err, &c) || !c.Conflict() {
		t.Errorf("error %v is not a conflict", err)
	}
	if !strings.Contains(err.Error(), `"ACME corp"`) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("error %q does not say which name exists", err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d accounts (%v) after the refusal, want 2", n, err)
	}
}

func TestCreateAccountRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	for _, a := range []csbot.Account{
		{Name: "  ", Tier: csbot.TierLow},
		{Name: strings.Repeat("é", 201), Tier: csbot.TierLow},
		{Name: "Bad\x00Name", Tier: csbot.TierLow},
		{Name: "No Tier"},
		{Name: "Odd Tier", Tier: "gold"},
		{Name: "Negative", Tier: csbot.TierLow, ARR: -1},
		{Name: "Negative Seats", Tier: csbot.TierLow, LicensedSeats: -3},
	} {
		if got, err := s.CreateAccount(ctx, a, "U0SALES", newAccountNow()); err == nil {
			t.Errorf("CreateAccount(%+v) = %+v, want an error", a, got)
		} else if errors.Is(err, store.ErrAccountExists) {
			t.Errorf("CreateAccount(%+v) = %v, want an input error", a, err)
		}
	}
}

func TestCreateAccountCRMIDTakenByAnImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	// The next id is made to clash with an imported CRM id.
	mustImport(ctx, t, s, "accounts", newAccountBook)
	if _, err := conn.Exec(ctx, `SELECT setval(pg_get_serial_sequence('accounts', 'id'), 999998)`); err != nil {
		t.Fatal(err)
	}
	got, err := s.CreateAccount(ctx, csbot.Account{Name: "Clash", Tier: csbot.TierLow}, "", newAccountNow())
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if got.ID != 999999 || !strings.HasPrefix(got.ExternalID, "slack-999999-") {
		t.Errorf("created id %d CRM id %q, want 999999 and slack-999999-<tail>", got.ID, got.ExternalID)
	}
}

func TestCreateAccountConcurrentSameName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.CreateAccount(ctx, csbot.Account{Name: "Soylent", Tier: csbot.TierHigh}, "U0SALES", newAccountNow())
		}()
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, store.ErrAccountExists):
			t.Errorf("CreateAccount: %v", err)
		}
	}
	var rows int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE lower(name) = 'soylent'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if created != 1 || rows != 1 {
		t.Errorf("%d creations succeeded, %d rows; want exactly one", created, rows)
	}
}
