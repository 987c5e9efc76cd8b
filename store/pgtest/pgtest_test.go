package pgtest_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/csbot/csbot/store/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestNewDatabase(t *testing.T) {
	ctx := context.Background()
	var (
		mu   sync.Mutex
		urls = map[string]string{}
	)
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"first", "second"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				url := pgtest.NewDatabase(ctx, t)
				mu.Lock()
				urls[name] = url
				mu.Unlock()

				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				defer conn.Close(ctx)
				var migrated bool
				if err := conn.QueryRow(ctx, `SELECT to_regclass('public.accounts') IS NOT NULL`).Scan(&migrated); err != nil {
					t.Fatal(err)
				}
				if !migrated {
					t.Errorf("table accounts missing: schema not migrated")
				}
				// Had the two tests one database, one of them would fail
				// here or count two rows, whatever the timing.
				if _, err := conn.Exec(ctx, `CREATE TABLE probe (owner text)`); err != nil {
					t.Fatalf("create table: %v", err)
				}
				if _, err := conn.Exec(ctx, `INSERT INTO probe VALUES ($1)`, name); err != nil {
					t.Fatal(err)
				}
				var n int
				if err := conn.QueryRow(ctx, `SELECT count(*) FROM probe`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Errorf("probe has %d rows, want 1", n)
				}
			})
		}
	})
	if len(urls) != 2 || urls["first"] == urls["second"] {
		t.Fatalf("urls = %v, want two different databases", urls)
	}
	// Both databases were dropped when their tests ended.
	for name, url := range urls {
		_, err := pgx.Connect(ctx, url)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
			t.Errorf("%s: connect after its test: err = %v, want database does not exist", name, err)
		}
	}
}

func TestManyParallel(t *testing.T) {
	ctx := context.Background()
	for i := range 8 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			url := pgtest.NewDatabase(ctx, t)
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, `CREATE TABLE probe (i int)`); err != nil {
				t.Fatalf("test %d: %v", i, err)
			}
			if _, err := conn.Exec(ctx, `INSERT INTO probe VALUES ($1)`, i); err != nil {
				t.Fatalf("test %d: %v", i, err)
			}
		})
	}
}
