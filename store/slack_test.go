package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/google/go-cmp/cmp"
)

func TestClaimDeliveryOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	first, err := s.ClaimDelivery(ctx, "event:Ev1", at)
	if err != nil || !first {
		t.Fatalf("first ClaimDelivery = %v, %v; want true, nil", first, err)
	}
	again, err := s.ClaimDelivery(ctx, "event:Ev1", at.Add(time.Second))
	if err != nil || again {
		t.Fatalf("second ClaimDelivery = %v, %v; want false, nil", again, err)
	}

	// Many replicas racing for one key: exactly one wins.
	const n = 16
	var wg sync.WaitGroup
	wins := make(chan bool, n)
	for range n {
		wg.Go(func() {
			first, err := s.ClaimDelivery(ctx, "slash:race", at)
			if err != nil {
				t.Errorf("ClaimDelivery: %v", err)
			}
			wins <- first
		})
	}
	wg.Wait()
	close(wins)
	won := 0
	for w := range wins {
		if w {
			won++
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent claims of one key won %d times, want 1", n, won)
	}
}

func TestPruneDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, age := range []time.Duration{48 * time.Hour, 25 * time.Hour, time.Hour, 0} {
		if _, err := s.ClaimDelivery(ctx, "k"+string(rune('a'+i)), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneDeliveries(ctx, now.Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PruneDeliveries = %d, %v; want 2, nil", n, err)
	}
	// A pruned key can be claimed again; a kept one cannot.
	if first, _ := s.ClaimDelivery(ctx, "ka", now); !first {
		t.Error("pruned key ka is still claimed")
	}
	if first, _ := s.ClaimDelivery(ctx, "kc", now); first {
		t.Error("kept key kc was claimed again")
	}
}

func TestUserBySlackID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "users", testUsers)

	got, err := s.UserBySlackID(ctx, "U0CSM1")
	if err != nil {
		t.Fatalf("UserBySlackID(U0CSM1): %v", err)
	}
	want := csbot.User{SlackID: "U0CSM1", Role: csbot.UserCSM, Name: "Sam CSM", Email: "sam@vendor.example",
		ManagerSlackID: "U0MGR", Timezone: "America/New_York"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UserBySlackID(U0CSM1) (-want +got):\n%s", diff)
	}
	mgr, err := s.UserBySlackID(ctx, "U0MGR")
	if err != nil || mgr.Role != csbot.UserManager || mgr.ManagerSlackID != "" {
		t.Errorf("UserBySlackID(U0MGR) = %+v, %v; want a manager without a manager", mgr, err)
	}
	if _, err := s.UserBySlackID(ctx, "U0NOBODY"); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("UserBySlackID(U0NOBODY) error = %v, want csbot.ErrNotFound", err)
	}
}

func TestClaimDeliveryDatabaseDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	s.Close()
	if _, err := s.ClaimDelivery(ctx, "event:Ev2", time.Now()); err == nil {
		t.Error("ClaimDelivery on a closed store succeeded, want an error")
	}
}
