package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/google/go-cmp/cmp"
)

func TestAddTouchpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "users", testUsers)
	mustImport(ctx, t, s, "accounts", testAccounts)
	acme, err := s.AccountByExternalID(ctx, "A-1")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 14, 5, 6, 123456000, time.UTC)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

	tp, err := s.AddTouchpoint(ctx, csbot.Touchpoint{AccountID: acme.ID, At: at, Kind: csbot.TouchCall,
		Summary: "Walked the CFO through the renewal quote", UserID: "U0CSM1"})
	if err != nil {
		t.Fatalf("AddTouchpoint: %v", err)
	}
	if tp.ID == 0 || !tp.At.Equal(at) {
		t.Errorf("AddTouchpoint = %+v, want an id and the time %v", tp, at)
	}
	d, err := s.AccountDetail(ctx, acme.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	want := csbot.Touchpoint{ID: tp.ID, AccountID: acme.ID, At: at, Kind: csbot.TouchCall,
		Summary: "Walked the CFO through the renewal quote", UserID: "U0CSM1"}
	if diff := cmp.Diff(want, d.LastTouch, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("last touch after AddTouchpoint (-want +got):\n%s", diff)
	}
	if !d.Facts.LastTouchAt.Equal(at) {
		t.Errorf("facts' last touch = %v, want %v: a logged touchpoint counts for engagement", d.Facts.LastTouchAt, at)
	}

	// The same kind at the same instant is a duplicate; another kind is not.
	_, err = s.AddTouchpoint(ctx, csbot.Touchpoint{AccountID: acme.ID, At: at, Kind: csbot.TouchCall, Summary: "again"})
	if !errors.Is(err, store.ErrTouchpointExists) {
		t.Errorf("duplicate AddTouchpoint error = %v, want ErrTouchpointExists", err)
	}
	var c interface{ Conflict() bool }
	if !errors.As(err, &c) || !c.Conflict() {
		t.Errorf("duplicate AddTouchpoint error %v does not say it is a conflict", err)
	}
	note, err := s.AddTouchpoint(ctx, csbot.Touchpoint{AccountID: acme.ID, At: at, Kind: csbot.TouchNote})
	if err != nil || note.ID == tp.ID {
		t.Errorf("a note at the same time = %+v, %v; want a new touchpoint", note, err)
	}

	if _, err := s.AddTouchpoint(ctx, csbot.Touchpoint{AccountID: 999999, At: at, Kind: csbot.TouchEmail}); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("AddTouchpoint on a missing account error = %v, want ErrNotFound", err)
	}
	for _, bad := range []csbot.Touchpoint{
		{AccountID: acme.ID, At: at.Add(time.Hour), Kind: "lunch"},
		{AccountID: acme.ID, Kind: csbot.TouchEmail},
	} {
		if _, err := s.AddTouchpoint(ctx, bad); err == nil || errors.Is(err, csbot.ErrNotFound) || errors.Is(err, store.ErrTouchpointExists) {
			t.Errorf("AddTouchpoint(%+v) error = %v, want it refused as invalid", bad, err)
		}
	}
	if n := count(ctx, t, s, "touchpoints"); n != 2 {
		t.Errorf("touchpoints = %d, want the call and the note", n)
	}
}
