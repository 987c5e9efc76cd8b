package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/csbot/csbot"
)

func TestOverrideShowsBesideTheComputedScore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "users", testUsers)
	mustImport(ctx, t, s, "accounts", testAccounts)
	acme, err := s.AccountByExternalID(ctx, "A-1")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	p := csbot.DefaultPolicy()

	mgr, err := s.ManagerOf(ctx, acme.CSMUserID)
	if err != nil || mgr != "U0MGR" {
		t.Fatalf("ManagerOf(%s) = %q, %v; want U0MGR", acme.CSMUserID, mgr, err)
	}
	for _, tt := range []struct {
		actor csbot.User
		may   bool
	}{
		{csbot.User{SlackID: "U0CSM1", Role: csbot.UserCSM}, true},
		{csbot.User{SlackID: "U0MGR", Role: csbot.UserManager}, true},
		{csbot.User{SlackID: "U0AE1", Role: csbot.UserSales}, false},
		{csbot.User{SlackID: "U0ADMIN", Role: csbot.UserAdmin}, true},
	} {
		if got := csbot.CanOverride(tt.actor, acme, mgr); got != tt.may {
			t.Errorf("CanOverride(%s) = %v, want %v", tt.actor.SlackID, got, tt.may)
		}
	}

	o, err := s.AddOverride(ctx, csbot.HealthOverride{AccountID: acme.ID, Band: csbot.BandRed, Note: "Champion hinted at a competitor",
		By: "U0CSM1", CreatedAt: now.Add(-time.Hour), ExpiresAt: p.OverrideExpiresAt(now.Add(-time.Hour))})
	if err != nil || o.ID == 0 {
		t.Fatalf("AddOverride = %+v, %v", o, err)
	}
	if _, err := s.AddOverride(ctx, csbot.HealthOverride{AccountID: acme.ID, By: "U0CSM1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err == nil {
		t.Error("AddOverride without score, band or note succeeded, want an error")
	}
	if _, err := s.AddOverride(ctx, csbot.HealthOverride{AccountID: 999999, Score: 10, HasScore: true, Note: "x", By: "U0CSM1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("AddOverride on a missing account error = %v, want ErrNotFound", err)
	}

	facts, err := s.AccountFacts(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range facts {
		if f.AccountID != acme.ID {
			continue
		}
		h := csbot.Score(f, p, now)
		if h.Override == nil || h.Override.Band != csbot.BandRed || h.Override.Note == "" {
			t.Errorf("score of A-1 carries override %+v, want the red one", h.Override)
		}
		if h.Band == "" {
			t.Errorf("score of A-1 has no computed band; the override must not hide it")
		}
		later := csbot.Score(f, p, o.ExpiresAt.Add(time.Minute))
		if later.Override != nil {
			t.Errorf("override still shown after it expired: %+v", later.Override)
		}
	}
}
