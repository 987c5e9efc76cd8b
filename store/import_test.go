package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/google/go-cmp/cmp"
)

// newTestStore returns a store on a fresh database of its own.
func newTestStore(ctx context.Context, t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(ctx, pgtest.NewDatabase(ctx, t), nil)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// importText imports CSV text of a kind.
func importText(ctx context.Context, t *testing.T, s *store.Store, kind, text string) (store.ImportResult, error) {
	t.Helper()
	k, err := csbot.LookupImportKind(kind)
	if err != nil {
		t.Fatalf("LookupImportKind(%q): %v", kind, err)
	}
	return s.Import(ctx, k, strings.NewReader(text))
}

// mustImport imports CSV text and fails the test on error.
func mustImport(ctx context.Context, t *testing.T, s *store.Store, kind, text string) store.ImportResult {
	t.Helper()
	res, err := importText(ctx, t, s, kind, text)
	if err != nil {
		t.Fatalf("import %s: %v", kind, err)
	}
	return res
}

// wantRowErrors checks that err is an ImportError listing exactly want.
func wantRowErrors(t *testing.T, err error, want ...string) {
	t.Helper()
	var ie *csbot.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v, want an *csbot.ImportError", err)
	}
	got := make([]string, len(ie.Rows))
	for i, r := range ie.Rows {
		got[i] = r.Error()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row errors (-want +got):\n%s", diff)
	}
}

// count returns the number of rows of a table.
func count(ctx context.Context, t *testing.T, s *store.Store, table string) int {
	t.Helper()
	counts, err := s.TableCounts(ctx)
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	n, ok := counts[table]
	if !ok {
		t.Fatalf("no count for table %s", table)
	}
	return int(n)
}

const testUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0MGR,manager,Mia Manager,mia@vendor.example,,Europe/Berlin
U0CSM1,csm,Sam CSM,sam@vendor.example,U0MGR,America/New_York
U0AE1,sales,Alex AE,alex@vendor.example,U0MGR,
`

const testAccounts = `external_id,name,tier,arr,domain,stage,csm,ae,channel,licensed_seats
A-1,ACME Corp.,high,"$1,250,000.00",acme.example,adopting,sam@vendor.example,U0AE1,C0ACME,500
A-2,Globex Inc.,low,85000,globex.example,renewing,U0CSM1,alex@vendor.example,,50
A-3,Initech LLC,tech,1200.50,,,,,,
`

func TestImportInsertsThenReimportChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)

	res := mustImport(ctx, t, s, "users", testUsers)
	if res.Inserted != 3 || res.Updated != 0 {
		t.Errorf("users first import = %+v, want 3 inserted", res)
	}
	res = mustImport(ctx, t, s, "accounts", testAccounts)
	if diff := cmp.Diff(store.ImportResult{Kind: "accounts", Rows: 3, Inserted: 3}, res); diff != "" {
		t.Errorf("accounts first import (-want +got):\n%s", diff)
	}
	res = mustImport(ctx, t, s, "accounts", testAccounts)
	if diff := cmp.Diff(store.ImportResult{Kind: "accounts", Rows: 3, Unchanged: 3}, res); diff != "" {
		t.Errorf("accounts re-import (-want +got):\n%s", diff)
	}
	changed := strings.Replace(testAccounts, "85000", "90000", 1)
	res = mustImport(ctx, t, s, "accounts", changed)
	if res.Updated != 1 || res.Unchanged != 2 || res.Inserted != 0 {
		t.Errorf("accounts import with one change = %+v, want 1 updated, 2 unchanged", res)
	}

	acme, err := s.AccountByExternalID(ctx, "A-1")
	if err != nil {
		t.Fatalf("AccountByExternalID: %v", err)
	}
	want := csbot.Account{ID: acme.ID, ExternalID: "A-1", Name: "ACME Corp.", Domain: "acme.example", Tier: csbot.TierHigh,
		ARR: 125000000, Stage: csbot.StageAdopting, CSMUserID: "U0CSM1", AEUserID: "U0AE1", SlackChannelID: "C0ACME", LicensedSeats: 500,
		CreatedAt: acme.CreatedAt, UpdatedAt: acme.UpdatedAt}
	if diff := cmp.Diff(want, acme); diff != "" {
		t.Errorf("account A-1 (-want +got):\n%s", diff)
	}
	initech, err := s.AccountByExternalID(ctx, "A-3")
	if err != nil {
		t.Fatalf("AccountByExternalID: %v", err)
	}
	if initech.Stage != csbot.StageOnboarding || initech.ARR != 120050 || initech.CSMUserID != "" {
		t.Errorf("account A-3 = %+v, want stage onboarding by default, ARR 120050 cents, no CSM", initech)
	}
	if _, err := s.AccountByExternalID(ctx, "nope"); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("AccountByExternalID(nope) error = %v, want ErrNotFound", err)
	}
}

func TestImportAbsentColumnKeepsStoredValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "users", testUsers)
	mustImport(ctx, t, s, "accounts", testAccounts)
	res := mustImport(ctx, t, s, "accounts", "external_id,name,tier,arr\nA-1,ACME Corp.,high,1250000\n")
	if res.Unchanged != 1 {
		t.Errorf("import without optional columns = %+v, want 1 unchanged", res)
	}
	acme, err := s.AccountByExternalID(ctx, "A-1")
	if err != nil {
		t.Fatal(err)
	}
	if acme.SlackChannelID != "C0ACME" || acme.LicensedSeats != 500 {
		t.Errorf("after import without those columns, A-1 = %+v, want channel and seats kept", acme)
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "users", testUsers)

	bad := "external_id,name,tier,arr,csm\n" +
		"A-1,Good One,high,100,U0CSM1\n" +
		"A-2,Bad Tier,platinum,100,\n" +
		"A-3,Good Two,low,100,nobody@vendor.example\n" +
		"A-1,Again,low,5,\n"
	_, err := importText(ctx, t, s, "accounts", bad)
	wantRowErrors(t, err,
		"row 3, column tier: must be one of high, low, tech",
		"row 4, column csm: no user with this email (import users first, or use a Slack user id)",
		"row 5, column external_id: same external_id as row 2",
	)
	if n := count(ctx, t, s, "accounts"); n != 0 {
		t.Errorf("accounts after a refused file = %d, want 0", n)
	}

	dup := "external_id,name,tier,arr\nA-1,One,high,100\nA-2,Two,low,100\nA-1,One again,low,5\n"
	_, err = importText(ctx, t, s, "accounts", dup)
	wantRowErrors(t, err, "row 4, column external_id: same external_id as row 2")
	if n := count(ctx, t, s, "accounts"); n != 0 {
		t.Errorf("accounts after a file with duplicates = %d, want 0", n)
	}
}

func TestImportReferencesAndChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "users", testUsers)
	mustImport(ctx, t, s, "accounts", testAccounts)

	_, err := importText(ctx, t, s, "renewals", "external_id,account_external_id,renewal_date,arr,start_date\n"+
		"R-1,A-1,2027-01-31,1250000,2026-02-01\n"+
		"R-2,A-404,2027-01-31,100,\n"+
		"R-3,A-2,2027-01-31,100,2027-02-01\n")
	wantRowErrors(t, err,
		`row 3, column account_external_id: no account "A-404" (import accounts first, or check the id)`,
		"row 4, column start_date: start_date is after renewal_date",
	)
	if n := count(ctx, t, s, "renewals"); n != 0 {
		t.Errorf("renewals after a refused file = %d, want 0", n)
	}

	_, err = importText(ctx, t, s, "tickets", "external_id,account_external_id,opened_at,severity,status,closed_at\n"+
		"T-1,A-1,2026-05-02T10:00:00Z,high,solved,2026-05-01T10:00:00Z\n")
	wantRowErrors(t, err, "row 2, column closed_at: closed_at is before opened_at")

	_, err = importText(ctx, t, s, "users", "slack_id,role,email\nU0NEW,csm,sam@vendor.example\nU0SELF,csm,\n")
	wantRowErrors(t, err, "row 2, column email: this email belongs to another user already")
}

func TestImportEveryKind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	files := []struct {
		kind, text, table string
		rows              int
	}{
		{"users", testUsers, "users", 3},
		{"accounts", testAccounts, "accounts", 3},
		{"contacts", "account_external_id,name,role,email,title,active\nA-1,Carla Champion,champion,carla@acme.example,VP Ops,true\nA-1,Carla Champion,renewal,carla@acme.example,VP Ops,\nA-1,Eve Exec,exec sponsor,,CEO,no\n", "contacts", 3},
		{"renewals", "external_id,account_external_id,renewal_date,arr,auto_renew,status\nR-1,A-1,2027-01-31,1250000,false,open\nR-0,A-1,2026-01-31,1100000,,renewed\n", "renewals", 2},
		{"usage", "account_external_id,day,active_users,licensed_seats,events\nA-1,2026-11-01,310,500,12000\nA-1,2026-11-02,320,,\nA-2,2026-11-01,40,50,900\n", "usage_daily", 3},
		{"tickets", "external_id,account_external_id,opened_at,severity,status,closed_at,subject\nT-1,A-1,2026-11-01T09:00:00Z,urgent,open,,Login fails\nT-2,A-2,2026-10-01 09:00:00+02:00,low,closed,2026-10-02T09:00:00Z,Question\n", "tickets", 2},
		{"nps", "account_external_id,responded_at,score,respondent_email,comment\nA-1,2026-10-15T12:00:00Z,4,carla@acme.example,Too slow\nA-1,2026-10-15T12:00:00Z,9,,\nA-2,2026-09-01,10,,Great\n", "nps_responses", 3},
		{"invoices", "external_id,account_external_id,due_on,amount,issued_on,paid_on\nI-1,A-1,2026-09-30,\"$18,400.00\",2026-09-01,\nI-2,A-2,2026-08-31,7083.33,2026-08-01,2026-08-30\n", "invoices", 2},
		{"outages", "external_id,started_at,ended_at,account_external_id,severity,summary\nO-1,2026-11-01T10:00:00Z,2026-11-01T11:00:00Z,,major,API down\nO-2,2026-11-03T10:00:00Z,,A-1,minor,Slow reports\n", "outages", 2},
		{"touchpoints", "account_external_id,at,kind,summary,user\nA-1,2026-11-05T15:00:00Z,meeting,Monthly status,sam@vendor.example\nA-2,2026-10-05T15:00:00Z,call,,U0CSM1\n", "touchpoints", 2},
	}
	for _, f := range files {
		res := mustImport(ctx, t, s, f.kind, f.text)
		if res.Inserted != int64(f.rows) {
			t.Errorf("import %s = %+v, want %d inserted", f.kind, res, f.rows)
		}
		if n := count(ctx, t, s, f.table); n != f.rows {
			t.Errorf("%s rows = %d, want %d", f.table, n, f.rows)
		}
		again := mustImport(ctx, t, s, f.kind, f.text)
		if again.Unchanged != int64(f.rows) || again.Inserted+again.Updated != 0 {
			t.Errorf("re-import %s = %+v, want all %d unchanged", f.kind, again, f.rows)
		}
	}
}

func TestImportFileProblems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	_, err := importText(ctx, t, s, "accounts", "")
	var ie *csbot.ImportError
	if !errors.As(err, &ie) || !strings.Contains(ie.Problem, "empty") {
		t.Errorf("empty file error = %v, want an ImportError saying it is empty", err)
	}
	res, err := importText(ctx, t, s, "accounts", "external_id,name,tier,arr\r\n")
	if err != nil || res.Rows != 0 || len(res.Warnings) != 1 {
		t.Errorf("header-only file = %+v, %v, want no rows and one warning", res, err)
	}
	_, err = importText(ctx, t, s, "usage", "account_external_id,day,active_users\n"+strings.Repeat("A-9,2026-01-01,1\n", 120))
	if !errors.As(err, &ie) || ie.Total != 120 || len(ie.Rows) != csbot.MaxReportedRowErrors {
		t.Errorf("120 bad rows: error = %v, want 120 in all and the first %d listed", err, csbot.MaxReportedRowErrors)
	}
}

func TestImportReviewedEdgeCases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "users", testUsers)
	mustImport(ctx, t, s, "accounts", testAccounts)

	// Non-UTF-8 in an email cell is a row error, not a database failure.
	// (after 5,000 good rows, past the start of file that is sniffed for binary data)
	var b strings.Builder
	b.WriteString("account_external_id,name,role,email\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "A-1,Person %d,user,p%d@acme.example\n", i, i)
	}
	b.WriteString("A-1,Jose,champion,jos\xe9@acme.example\n")
	_, err := importText(ctx, t, s, "contacts", b.String())
	wantRowErrors(t, err, "row 5002, column email: not valid UTF-8 text (save the file as UTF-8 CSV)")

	// A key repeated in a file whose upsert has nothing to update.
	_, err = importText(ctx, t, s, "touchpoints", "account_external_id,at,kind\nA-1,2026-11-01T10:00:00Z,call\nA-1,2026-11-01T10:00:00Z,call\n")
	wantRowErrors(t, err, "row 3, column at: same account, at and kind as row 2")

	// A row that conflicts with a stored value is refused as input.
	mustImport(ctx, t, s, "renewals", "external_id,account_external_id,renewal_date,arr,start_date\nR-1,A-1,2027-01-31,100,2026-06-01\n")
	_, err = importText(ctx, t, s, "renewals", "external_id,account_external_id,renewal_date,arr\nR-1,A-1,2026-03-31,100\n")
	var ie *csbot.ImportError
	if !errors.As(err, &ie) || !strings.Contains(ie.Problem, "start_date would be after renewal_date") {
		t.Errorf("renewal date before the stored start: error = %v, want an ImportError naming the conflict", err)
	}
}
