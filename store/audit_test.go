package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestRecordAuditAndFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "accounts", "external_id,name,tier,arr\nA-1,Acme,high,1000\nA-2,Globex,low,1000\n")
	acme, err := s.AccountByExternalID(ctx, "A-1")
	if err != nil {
		t.Fatal(err)
	}
	globex, err := s.AccountByExternalID(ctx, "A-2")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	entries := []csbot.AuditEntry{
		{At: t0, Actor: "U0CSM1", Action: "command:/health", AccountID: acme.ID, Channel: "C0ACME1", Details: map[string]any{"text": "acme"}},
		{At: t0.Add(time.Hour), Actor: "U0CSM2", Action: "action:pick:", AccountID: globex.ID, Channel: "C0GLOBX", Details: map[string]any{"value": "2"}},
		{At: t0.Add(2 * time.Hour), Actor: "U0CSM1", Action: "view:health_override", AccountID: acme.ID},
		{At: t0.Add(3 * time.Hour), Actor: csbot.AuditActorCLI, Action: "import:accounts", Details: map[string]any{"rows": 2}},
	}
	for _, e := range entries {
		if err := s.RecordAudit(ctx, e); err != nil {
			t.Fatalf("RecordAudit(%+v): %v", e, err)
		}
	}
	if err := s.RecordAudit(ctx, csbot.AuditEntry{Action: "command:/health"}); err == nil {
		t.Error("RecordAudit without an actor = nil, want an error")
	}

	actions := func(es []csbot.AuditEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Action)
		}
		return out
	}
	tests := []struct {
		name string
		f    csbot.AuditFilter
		want []string
	}{
		{"all, newest first", csbot.AuditFilter{}, []string{"import:accounts", "view:health_override", "action:pick:", "command:/health"}},
		{"one account", csbot.AuditFilter{AccountID: acme.ID}, []string{"view:health_override", "command:/health"}},
		{"since", csbot.AuditFilter{Since: t0.Add(90 * time.Minute)}, []string{"import:accounts", "view:health_override"}},
		{"actor", csbot.AuditFilter{Actor: "U0CSM2"}, []string{"action:pick:"}},
		{"limit", csbot.AuditFilter{Limit: 1}, []string{"import:accounts"}},
		{"account and actor", csbot.AuditFilter{AccountID: globex.ID, Actor: "U0CSM1"}, nil},
	}
	for _, tt := range tests {
		got, err := s.Audit(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: Audit: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, actions(got)); diff != "" {
			t.Errorf("%s: Audit(%+v) actions (-want +got):\n%s", tt.name, tt.f, diff)
		}
	}

	got, err := s.Audit(ctx, csbot.AuditFilter{AccountID: acme.ID, Limit: 1, Since: t0})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Audit(ctx, csbot.AuditFilter{Actor: "U0CSM1", Since: t0, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := csbot.AuditEntry{At: t0, Actor: "U0CSM1", Action: "command:/health", AccountID: acme.ID, AccountName: "Acme",
		Channel: "C0ACME1", Details: map[string]any{"text": "acme"}}
	if diff := cmp.Diff(want, first[len(first)-1], cmpopts.IgnoreFields(csbot.AuditEntry{}, "ID"), cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("the /health entry read back (-want +got):\n%s", diff)
	}
	if len(got) != 1 || got[0].Channel != "" || len(got[0].Details) != 0 {
		t.Errorf("an entry without channel or details read back as %+v", got)
	}

	// An entry for an account deleted meanwhile is kept, without its
	// account; deleting an account later keeps its entries.
	if _, err := conn.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, globex.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAudit(ctx, csbot.AuditEntry{At: t0.Add(4 * time.Hour), Actor: "U0CSM2", Action: "action:health_share", AccountID: globex.ID}); err != nil {
		t.Fatalf("RecordAudit for a deleted account: %v", err)
	}
	got, err = s.Audit(ctx, csbot.AuditFilter{Actor: "U0CSM2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].AccountID != 0 || got[1].AccountID != 0 || got[1].AccountName != "" {
		t.Errorf("entries of a deleted account = %+v, want two without an account", got)
	}
}

func TestRecordAuditDefaultsToTheStoreClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStoreAndConn(ctx, t)
	before := time.Now().Add(-time.Second)
	if err := s.RecordAudit(ctx, csbot.AuditEntry{Actor: "U0CSM1", Action: "command:/renewals"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Audit(ctx, csbot.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].At.Before(before) {
		t.Errorf("entry without a time = %+v, want one stamped now", got)
	}
}

func TestAddOverrideIsAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "accounts", "external_id,name,tier,arr\nA-1,Acme,high,1000\n")
	acme, err := s.AccountByExternalID(ctx, "A-1")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	o, err := s.AddOverride(ctx, csbot.HealthOverride{AccountID: acme.ID, Band: csbot.BandYellow, Note: "call jo@acme.com",
		By: "U0CSM1", CreatedAt: now, ExpiresAt: now.AddDate(0, 0, 30)})
	if err != nil {
		t.Fatalf("AddOverride: %v", err)
	}
	got, err := s.Audit(ctx, csbot.AuditFilter{AccountID: acme.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("audit entries = %+v, want one", got)
	}
	e := got[0]
	if e.Action != "health_overridden" || e.Actor != "U0CSM1" || !e.At.Equal(now) || e.Details["band"] != "yellow" ||
		e.Details["override"] != float64(o.ID) || e.Details["score"] != nil {
		t.Errorf("override entry = %+v, want health_overridden by U0CSM1 at %v, band yellow, override %d", e, now, o.ID)
	}
	if _, ok := e.Details["note"]; ok {
		t.Errorf("override entry keeps the note: %+v", e.Details)
	}
	if _, err := s.AddOverride(ctx, csbot.HealthOverride{AccountID: acme.ID + 100, Band: csbot.BandRed, By: "U0CSM1",
		CreatedAt: now, ExpiresAt: now.AddDate(0, 0, 30)}); err == nil {
		t.Error("AddOverride of a missing account = nil, want csbot.ErrNotFound")
	}
	if all, _ := s.Audit(ctx, csbot.AuditFilter{}); len(all) != 1 {
		t.Errorf("after a refused override, %d entries, want 1", len(all))
	}
}
