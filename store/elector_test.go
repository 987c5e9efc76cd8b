package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot/store"
	"github.com/jackc/pgx/v5"
)

// electorKey is the advisory lock key of the tests; each test has a
// database of its own, and advisory locks are per database.
const electorKey int64 = 0x63_73626f74 // "csbot"

// newElectors returns two electors on one key, as two replicas would have,
// closed when the test ends, and a connection of the test's own.
func newElectors(ctx context.Context, t *testing.T) (a, b *store.Elector, conn *pgx.Conn) {
	t.Helper()
	s, conn := newStoreAndConn(ctx, t)
	a = s.NewElector(electorKey, store.ElectorOptions{PingTimeout: 5 * time.Second})
	b = s.NewElector(electorKey, store.ElectorOptions{PingTimeout: 5 * time.Second})
	t.Cleanup(func() {
		for _, e := range []*store.Elector{a, b} {
			if err := e.Close(context.WithoutCancel(ctx)); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
	return a, b, conn
}

// lockHolders returns the backend pids holding the advisory lock of
// electorKey in the connection's database.
func lockHolders(ctx context.Context, t *testing.T, conn *pgx.Conn) []uint32 {
	t.Helper()
	const q = `SELECT pid FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND (classid::bigint << 32) | objid::bigint = $1`
	rows, err := conn.Query(ctx, q, electorKey)
	if err != nil {
		t.Fatalf("lock holders: %v", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		t.Fatalf("lock holders: %v", err)
	}
	return pids
}

// wantLeader checks that e leads, by IsLeader and by Leading.
func wantLeader(ctx context.Context, t *testing.T, name string, e *store.Elector) {
	t.Helper()
	if err := e.IsLeader(ctx); err != nil {
		t.Fatalf("%s.IsLeader = %v, want nil (leader)", name, err)
	}
	if !e.Leading() {
		t.Errorf("%s.Leading() = false after IsLeader returned nil", name)
	}
}

// wantFollower checks that e does not lead.
func wantFollower(ctx context.Context, t *testing.T, name string, e *store.Elector) {
	t.Helper()
	if err := e.IsLeader(ctx); !errors.Is(err, store.ErrNotLeader) {
		t.Fatalf("%s.IsLeader = %v, want ErrNotLeader", name, err)
	}
	if e.Leading() {
		t.Errorf("%s.Leading() = true after IsLeader returned ErrNotLeader", name)
	}
}

func TestElectorOneLeaderThenHandOverOnClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, conn := newElectors(ctx, t)

	if a.Leading() || b.Leading() {
		t.Fatal("an elector leads before its first IsLeader")
	}
	wantLeader(ctx, t, "a", a)
	wantFollower(ctx, t, "b", b)
	for i := range 3 {
		wantLeader(ctx, t, "a", a)
		wantFollower(ctx, t, "b", b)
		if got := lockHolders(ctx, t, conn); len(got) != 1 {
			t.Fatalf("call %d: lock held by %v, want one session", i, got)
		}
	}

	if err := a.Close(ctx); err != nil {
		t.Fatalf("a.Close: %v", err)
	}
	if a.Leading() {
		t.Error("a.Leading() = true after Close")
	}
	wantLeader(ctx, t, "b", b)
	if err := a.IsLeader(ctx); !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("a.IsLeader after Close = %v, want ErrNotLeader", err)
	}
	if got := lockHolders(ctx, t, conn); len(got) != 1 {
		t.Errorf("lock held by %v after the hand-over, want one session", got)
	}
}

func TestElectorConcurrentCallsOneLeader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, _ := newElectors(ctx, t)

	var wg sync.WaitGroup
	var mu sync.Mutex
	leads := map[*store.Elector]int{}
	for range 8 {
		for _, e := range []*store.Elector{a, b} {
			wg.Go(func() {
				err := e.IsLeader(ctx)
				if err != nil && !errors.Is(err, store.ErrNotLeader) {
					t.Errorf("IsLeader: %v", err)
					return
				}
				if err == nil {
					mu.Lock()
					leads[e]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(leads) != 1 || a.Leading() == b.Leading() {
		t.Errorf("leaders = %d electors (a %v, b %v), want exactly one", len(leads), a.Leading(), b.Leading())
	}
}

func TestElectorLosesLeadershipWithItsConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, conn := newElectors(ctx, t)

	wantLeader(ctx, t, "a", a)
	wantFollower(ctx, t, "b", b)
	holders := lockHolders(ctx, t, conn)
	if len(holders) != 1 {
		t.Fatalf("lock held by %v, want a's session alone", holders)
	}
	var ended bool
	// The timeout makes pg_terminate_backend wait for the session to end.
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1, 10000)`, int32(holders[0])).Scan(&ended); err != nil || !ended {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v; want true", holders[0], ended, err)
	}

	if err := a.IsLeader(ctx); !errors.Is(err, store.ErrNotLeader) {
		t.Fatalf("a.IsLeader after its session ended = %v, want ErrNotLeader", err)
	}
	if a.Leading() {
		t.Error("a.Leading() = true after its session ended")
	}

	// Poll b, as its scheduler would, until it leads.
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := b.IsLeader(ctx)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrNotLeader) || time.Now().After(deadline) {
			t.Fatalf("b.IsLeader = %v; want b to lead within 10 s of a's session ending", err)
		}
		<-tick.C
	}
	wantFollower(ctx, t, "a", a)
	if got := lockHolders(ctx, t, conn); len(got) != 1 || got[0] == holders[0] {
		t.Errorf("lock held by %v, want b's session alone (a's was %d)", got, holders[0])
	}
}
