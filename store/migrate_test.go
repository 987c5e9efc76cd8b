package store_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/jackc/pgx/v5"
)

// emptyDatabase creates a database with no schema on the test server and
// returns its URL.
func emptyDatabase(ctx context.Context, t *testing.T) string {
	t.Helper()
	base := pgtest.NewDatabase(ctx, t)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("%s_empty", conn.Config().Database)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := emptyDatabase(ctx, t)
	want, err := store.SchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	const migrators = 4
	var wg sync.WaitGroup
	errs := make([]error, migrators)
	tos := make([]int32, migrators)
	for i := range migrators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, tos[i], errs[i] = store.Migrate(ctx, dbURL)
		}()
	}
	wg.Wait()
	for i := range migrators {
		if errs[i] != nil || tos[i] != want {
			t.Errorf("migrator %d: version %d, error %v; want version %d and no error", i, tos[i], errs[i], want)
		}
	}
	// Running it again is a no-op.
	from, to, err := store.Migrate(ctx, dbURL)
	if err != nil || from != want || to != want {
		t.Errorf("Migrate again = %d -> %d, %v; want %d -> %d", from, to, err, want, want)
	}
	s, err := store.Open(ctx, dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.TableCounts(ctx); err != nil {
		t.Errorf("tables missing after concurrent migration: %v", err)
	}
}
