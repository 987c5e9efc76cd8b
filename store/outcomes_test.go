package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// outcomeRenewals are the renewals of the outcome tests: two open, one
// renewed before csbot knew it.
const outcomeRenewals = `external_id,account_external_id,renewal_date,arr,auto_renew,status,outcome_reason
R-1,A-1,2027-01-31,"1,250,000",false,open,
R-2,A-2,2026-12-15,85000,true,open,
R-0,A-1,2026-01-31,"1,100,000",false,renewed,Signed early
`

// outcomeAudit is a renewal_outcome_recorded audit_log row.
type outcomeAudit struct {
	Actor     string
	AccountID int64
	At        time.Time
	Details   struct {
		RenewalID int64  `json:"renewal_id"`
		OldStatus string `json:"old_status"`
		NewStatus string `json:"new_status"`
		OldARR    int64  `json:"old_arr_cents"`
		NewARR    int64  `json:"new_arr_cents"`
		Reason    string `json:"reason"`
	}
}

// outcomeAudits returns the renewal_outcome_recorded rows of the audit
// log, oldest first.
func outcomeAudits(ctx context.Context, t *testing.T, conn *pgx.Conn) []outcomeAudit {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT actor, account_id, at, details FROM audit_log
		WHERE action = 'renewal_outcome_recorded' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []outcomeAudit
	var r outcomeAudit
	var details []byte
	_, err = pgx.ForEachRow(rows, []any{&r.Actor, &r.AccountID, &r.At, &details}, func() error {
		r.Details.Reason = ""
		if err := json.Unmarshal(details, &r.Details); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// outcomeBook loads the users, accounts and renewals of the outcome tests
// and returns the renewals' internal ids by CRM id.
func outcomeBook(ctx context.Context, t *testing.T, s *store.Store) map[string]csbot.Renewal {
	t.Helper()
	mustImport(ctx, t, s, "users", testUsers)
	mustImport(ctx, t, s, "accounts", testAccounts)
	mustImport(ctx, t, s, "renewals", outcomeRenewals)
	out := map[string]csbot.Renewal{}
	for _, ext := range []string{"A-1", "A-2"} {
		a, err := s.AccountByExternalID(ctx, ext)
		if err != nil {
			t.Fatal(err)
		}
		hist, err := s.RenewalHistory(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range hist {
			out[r.ExternalID] = r
		}
	}
	if len(out) != 3 {
		t.Fatalf("renewals loaded: %+v, want 3", out)
	}
	return out
}

func TestRecordRenewalOutcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	r := outcomeBook(ctx, t, s)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

	got, err := s.RenewalByID(ctx, r["R-1"].ID)
	if err != nil || !cmp.Equal(got, r["R-1"]) {
		t.Errorf("RenewalByID(R-1) = %+v, %v; want %+v", got, err, r["R-1"])
	}
	if _, err := s.RenewalByID(ctx, 999999); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("RenewalByID of a missing renewal error = %v, want ErrNotFound", err)
	}
	if by, when, err := s.OutcomeRecordedBy(ctx, r["R-1"].ID); by != "" || !when.IsZero() || err != nil {
		t.Errorf("OutcomeRecordedBy(open R-1) = %q, %v, %v; want nobody", by, when, err)
	}

	arr := csbot.Cents(150_000_000)
	rec, err := s.RecordRenewalOutcome(ctx, r["R-1"].ID, csbot.RenewalExpanded, &arr, "Added the EU team", "U0CSM1", at)
	if err != nil {
		t.Fatalf("RecordRenewalOutcome: %v", err)
	}
	want := r["R-1"]
	want.Status, want.ARR, want.OutcomeReason = csbot.RenewalExpanded, arr, "Added the EU team"
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("recorded renewal (-want +got):\n%s", diff)
	}
	if got, err := s.RenewalByID(ctx, r["R-1"].ID); err != nil || !cmp.Equal(got, want) {
		t.Errorf("R-1 after recording = %+v, %v; want %+v", got, err, want)
	}
	audit := outcomeAudits(ctx, t, conn)
	if len(audit) != 1 {
		t.Fatalf("audit rows = %+v, want 1", audit)
	}
	a := audit[0]
	if a.Actor != "U0CSM1" || a.AccountID != r["R-1"].AccountID || !a.At.Equal(at) || a.Details.RenewalID != r["R-1"].ID ||
		a.Details.OldStatus != "open" || a.Details.NewStatus != "expanded" ||
		a.Details.OldARR != 125_000_000 || a.Details.NewARR != 150_000_000 || a.Details.Reason != "Added the EU team" {
		t.Errorf("audit row = %+v, want U0CSM1 expanding R-1 from $1.25M to $1.5M", a)
	}
	if by, when, err := s.OutcomeRecordedBy(ctx, r["R-1"].ID); by != "U0CSM1" || !when.Equal(at) || err != nil {
		t.Errorf("OutcomeRecordedBy(R-1) = %q, %v, %v; want U0CSM1 at %v", by, when, err, at)
	}
	acme, err := s.AccountByID(ctx, r["R-1"].AccountID)
	if err != nil || acme.Stage != csbot.StageAdopting {
		t.Errorf("account of an expanded renewal = %+v, %v; want its stage left as adopting", acme, err)
	}

	// A renewal recorded already is refused, and stays as it was.
	other := csbot.Cents(1)
	_, err = s.RecordRenewalOutcome(ctx, r["R-1"].ID, csbot.RenewalChurned, &other, "Too late", "U0MGR", at.Add(time.Hour))
	if !errors.Is(err, store.ErrRenewalClosed) {
		t.Errorf("recording R-1 twice error = %v, want ErrRenewalClosed", err)
	}
	if got, _ := s.RenewalByID(ctx, r["R-1"].ID); !cmp.Equal(got, want) {
		t.Errorf("R-1 after a refused second outcome = %+v, want %+v", got, want)
	}
	// So is one that came in closed from the CRM; nobody recorded it in csbot.
	if _, err := s.RecordRenewalOutcome(ctx, r["R-0"].ID, csbot.RenewalRenewed, nil, "", "U0CSM1", at); !errors.Is(err, store.ErrRenewalClosed) {
		t.Errorf("recording imported R-0 error = %v, want ErrRenewalClosed", err)
	}
	if by, _, err := s.OutcomeRecordedBy(ctx, r["R-0"].ID); by != "" || err != nil {
		t.Errorf("OutcomeRecordedBy(R-0) = %q, %v; want nobody", by, err)
	}
	if n := len(outcomeAudits(ctx, t, conn)); n != 1 {
		t.Errorf("audit rows after refusals = %d, want still 1", n)
	}

	if _, err := s.RecordRenewalOutcome(ctx, 999999, csbot.RenewalRenewed, nil, "", "U0CSM1", at); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("recording a missing renewal error = %v, want ErrNotFound", err)
	}
	negative := csbot.Cents(-1)
	for _, tt := range []struct {
		name   string
		status csbot.RenewalStatus
		arr    *csbot.Cents
		by     string
	}{
		{"open is no outcome", csbot.RenewalOpen, nil, "U0CSM1"},
		{"unknown status", "paused", nil, "U0CSM1"},
		{"negative ARR", csbot.RenewalDownsell, &negative, "U0CSM1"},
		{"nobody", csbot.RenewalRenewed, nil, ""},
	} {
		_, err := s.RecordRenewalOutcome(ctx, r["R-2"].ID, tt.status, tt.arr, "x", tt.by, at)
		if err == nil || errors.Is(err, csbot.ErrNotFound) || errors.Is(err, store.ErrRenewalClosed) {
			t.Errorf("%s: error = %v, want it refused as invalid", tt.name, err)
		}
	}
	if got, _ := s.RenewalByID(ctx, r["R-2"].ID); got.Status != csbot.RenewalOpen {
		t.Errorf("R-2 after invalid outcomes = %+v, want it still open", got)
	}
}

func TestRecordRenewalOutcomeChurnSetsTheStage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	r := outcomeBook(ctx, t, s)
	at := time.Date(2026, 12, 16, 9, 30, 0, 0, time.UTC)

	rec, err := s.RecordRenewalOutcome(ctx, r["R-2"].ID, csbot.RenewalChurned, nil,
		"Moved to a competitor's bundle; a multi-year discount would have kept them", "U0AE1", at)
	if err != nil {
		t.Fatalf("RecordRenewalOutcome: %v", err)
	}
	if rec.Status != csbot.RenewalChurned || rec.ARR != r["R-2"].ARR || rec.OutcomeReason == "" {
		t.Errorf("churned renewal = %+v, want churned with its ARR at stake kept and the reason", rec)
	}
	globex, err := s.AccountByID(ctx, rec.AccountID)
	if err != nil || globex.Stage != csbot.StageChurned {
		t.Errorf("account after the churn = %+v, %v; want stage churned", globex, err)
	}
	acme, err := s.AccountByID(ctx, r["R-1"].AccountID)
	if err != nil || acme.Stage != csbot.StageAdopting {
		t.Errorf("another account after the churn = %+v, %v; want it untouched", acme, err)
	}
}

func TestRecordRenewalOutcomeOnceUnderRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	r := outcomeBook(ctx, t, s)
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	statuses := []csbot.RenewalStatus{csbot.RenewalRenewed, csbot.RenewalChurned, csbot.RenewalExpanded, csbot.RenewalDownsell}
	errs := make([]error, len(statuses))
	var wg sync.WaitGroup
	for i, st := range statuses {
		wg.Go(func() {
			_, errs[i] = s.RecordRenewalOutcome(ctx, r["R-2"].ID, st, nil, "reason", "U0CSM1", at)
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("both %s and %s were recorded", statuses[won], statuses[i])
		case err == nil:
			won = i
		case !errors.Is(err, store.ErrRenewalClosed):
			t.Errorf("recording %s: %v, want ErrRenewalClosed for all but one", statuses[i], err)
		}
	}
	if won < 0 {
		t.Fatal("no outcome was recorded")
	}
	if got, _ := s.RenewalByID(ctx, r["R-2"].ID); got.Status != statuses[won] {
		t.Errorf("R-2 = %s, want %s, the one outcome recorded", got.Status, statuses[won])
	}
}
