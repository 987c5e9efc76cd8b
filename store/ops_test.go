package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/csbot/csbot/store"
)

func TestSchemaStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)

	st, err := s.SchemaStatus(ctx)
	if err != nil {
		t.Fatalf("SchemaStatus: %v", err)
	}
	want, err := store.SchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	if st.Applied != want || st.Embedded != want || st.RiverApplied == 0 || st.RiverApplied != st.RiverEmbedded {
		t.Errorf("SchemaStatus of a migrated database = %+v, want csbot %d/%d and river n/n", st, want, want)
	}
	if st.Behind() || st.Ahead() {
		t.Errorf("SchemaStatus %v: Behind %v, Ahead %v; want neither", st, st.Behind(), st.Ahead())
	}

	// A database that missed the newest migration of either is behind.
	if _, err := conn.Exec(ctx, `UPDATE schema_version SET version = version - 1`); err != nil {
		t.Fatal(err)
	}
	st, err = s.SchemaStatus(ctx)
	if err != nil || !st.Behind() || st.Applied != want-1 {
		t.Errorf("after csbot's version went back: SchemaStatus = %v, %v; want behind at %d", st, err, want-1)
	}
	if _, err := conn.Exec(ctx, `UPDATE schema_version SET version = version + 2`); err != nil {
		t.Fatal(err)
	}
	st, err = s.SchemaStatus(ctx)
	if err != nil || st.Behind() || !st.Ahead() {
		t.Errorf("with a newer csbot schema: SchemaStatus = %v, %v; want ahead, not behind", st, err)
	}
	if _, err := conn.Exec(ctx, `UPDATE schema_version SET version = version - 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)`); err != nil {
		t.Fatal(err)
	}
	st, err = s.SchemaStatus(ctx)
	if err != nil || !st.Behind() || st.RiverApplied != st.RiverEmbedded-1 {
		t.Errorf("after River's newest migration row went: SchemaStatus = %v, %v; want river behind by one", st, err)
	}
}

func TestQueueStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

	q, err := s.QueueStats(ctx, now)
	if err != nil || q != (store.QueueStats{}) {
		t.Fatalf("QueueStats of an empty queue = %+v, %v; want zero", q, err)
	}
	for _, n := range []struct {
		key, state string
		due        time.Time
		first      *time.Time
	}{
		{"a", "pending", now.Add(-10 * time.Minute), nil},                        // due 10 min ago
		{"b", "sending", now.Add(-time.Minute), new(now.Add(-25 * time.Minute))}, // first tried 25 min ago
		{"c", "pending", now.Add(time.Hour), nil},                                // later
		{"d", "sent", now.Add(-48 * time.Hour), nil},                             // done
		{"e", "failed", now.Add(-48 * time.Hour), new(now.Add(-48 * time.Hour))}, // done
		{"f", "pending", now.Add(-30 * time.Second), nil},                        // due just now
		{"g", "sending", now.Add(5 * time.Minute), new(now.Add(-2 * time.Hour))}, // retry later
	} {
		if _, err := conn.Exec(ctx, `
INSERT INTO notifications (dedupe_key, kind, target_user, payload, state, next_attempt_at, first_attempt_at)
VALUES ($1, 'digest', 'U0MGR', '{}', $2, $3, $4)`, n.key, n.state, n.due, n.first); err != nil {
			t.Fatal(err)
		}
	}
	q, err = s.QueueStats(ctx, now)
	want := store.QueueStats{Due: 3, Scheduled: 2, OldestDue: 25 * time.Minute}
	if err != nil || q != want {
		t.Errorf("QueueStats = %+v, %v; want %+v", q, err, want)
	}
}
