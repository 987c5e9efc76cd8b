// Package pgtest gives each test a fresh, migrated PostgreSQL database of
// its own, with no set-up.
//
// When TEST_DATABASE_URL is set, databases are made on that server (its
// user needs CREATEDB). Otherwise the first call starts one throwaway
// cluster for the whole test binary from the machine's PostgreSQL binaries
// (see package localpg). Either way the schema is migrated once, into a
// template database, and every test gets a quick copy of it, so tests may
// call t.Parallel.
//
// A package's TestMain should hand over to Run, which stops the cluster
// and drops the template when the tests are done:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//
// Without it everything still works: the cluster dies with the test binary
// (localpg's parent-death signal) and its directory is removed by the next
// run; only a template on a TEST_DATABASE_URL server is left behind, and is
// dropped by a later run after a day.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/localpg"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvURL names the variable that points the tests at an existing server.
const EnvURL = "TEST_DATABASE_URL"

// setupTimeout bounds starting the cluster and migrating the template.
const setupTimeout = 2 * time.Minute

// server is what the tests of one binary share.
type server struct {
	once     sync.Once
	err      error
	cluster  *localpg.Cluster // nil when EnvURL is set
	admin    *pgxpool.Pool    // on the server's maintenance database
	baseURL  string           // a URL (or keyword/value string) of that database
	template string
	prefix   string // of test database names
	n        atomic.Int64
}

// shared is the one server of this test binary. It is package state, the
// exception to "no mutable globals": a cluster takes a second to start and
// migrate, so all tests in the binary must share it, including tests that
// know nothing of each other and binaries without a TestMain.
var shared server

// NewDatabase returns the URL of a new, migrated database for t alone,
// dropped when t ends. It fails t when no server can be had.
func NewDatabase(ctx context.Context, t testing.TB) string {
	t.Helper()
	began := time.Now()
	started := false
	shared.once.Do(func() {
		started = true
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), setupTimeout)
		defer cancel()
		shared.err = shared.setup(ctx)
	})
	if shared.err != nil {
		t.Fatalf("pgtest: %v", shared.err)
	}
	if started {
		where := "TEST_DATABASE_URL"
		if shared.cluster != nil {
			where = fmt.Sprintf("local PostgreSQL on 127.0.0.1:%d", shared.cluster.Port())
		}
		t.Logf("pgtest: %s, template migrated in %v", where, time.Since(began).Round(time.Millisecond))
	}

	name := fmt.Sprintf("%s%d", shared.prefix, shared.n.Add(1))
	// Tests may do this concurrently: PostgreSQL refuses to copy a template
	// only while someone is connected to it, and the creating sessions are
	// connected to the maintenance database, no one to the template.
	create := "CREATE DATABASE " + ident(name) + " TEMPLATE " + ident(shared.template)
	_, err := shared.admin.Exec(ctx, create)
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, err := shared.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(shared.baseURL, name)
}

// Run runs the tests, then stops the cluster (or, on a TEST_DATABASE_URL
// server, drops the template) and returns the exit code for os.Exit.
func Run(m *testing.M) int {
	code := m.Run()
	if err := shared.teardown(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// setup connects to (or starts) the server and makes the template.
func (s *server) setup(ctx context.Context) error {
	run := runID()
	if u := os.Getenv(EnvURL); u != "" {
		s.baseURL = u
		s.template = "csbot_tmpl_" + run
		s.prefix = "csbot_test_" + run + "_"
	} else {
		c, err := localpg.Start(ctx, localpg.Options{Ephemeral: true, Database: "postgres"})
		if errors.Is(err, localpg.ErrNoBinaries) {
			return fmt.Errorf("%w (for tests: %s)", err, EnvURL)
		}
		if err != nil {
			return err
		}
		s.cluster = c
		s.baseURL = c.URL("postgres")
		s.template = "csbot_template"
		s.prefix = "test_"
	}
	cfg, err := pgxpool.ParseConfig(s.baseURL)
	if err != nil {
		return fmt.Errorf("parse %s: malformed connection string", EnvURL)
	}
	cfg.MaxConns = 4
	if s.admin, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if s.cluster == nil {
		s.dropOld(ctx)
	}
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+ident(s.template)); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	if _, _, err := store.Migrate(ctx, withDatabase(s.baseURL, s.template)); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	// No one may connect to the template again: CREATE DATABASE fails when
	// someone is connected to its source. (It waits a few seconds for the
	// migration's backend, which may still be exiting.)
	if _, err := s.admin.Exec(ctx, "ALTER DATABASE "+ident(s.template)+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("lock template: %w", err)
	}
	return nil
}

// teardown undoes setup, if it ran.
func (s *server) teardown(ctx context.Context) error {
	var errs []error
	if s.admin != nil {
		if s.cluster == nil && s.template != "" {
			if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(s.template)+" WITH (FORCE)"); err != nil {
				errs = append(errs, fmt.Errorf("drop template: %w", err))
			}
		}
		s.admin.Close()
	}
	if s.cluster != nil {
		if err := s.cluster.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// oldName matches the databases of earlier runs on a TEST_DATABASE_URL
// server; the first group is the run's start time.
var oldName = regexp.MustCompile(`^csbot_(?:tmpl|test)_(\d{10})_[0-9a-f]{8}(?:_\d+)?$`)

// dropOld drops, best effort, what runs killed more than a day ago left
// on a TEST_DATABASE_URL server.
func (s *server) dropOld(ctx context.Context) {
	rows, err := s.admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'csbot\_t%'`)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		m := oldName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if sec, _ := strconv.ParseInt(m[1], 10, 64); time.Since(time.Unix(sec, 0)) > 24*time.Hour {
			_, _ = s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)")
		}
	}
}

// runID names this run of the test binary: its start time and a random
// part, unique among test binaries sharing a server.
func runID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return strconv.FormatInt(time.Now().Unix(), 10) + "_" + hex.EncodeToString(b)
}

// withDatabase returns conn, a URL or keyword/value connection string, with
// its database replaced by db.
func withDatabase(conn, db string) string {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		if u, err := url.Parse(conn); err == nil {
			u.Path = "/" + db
			u.RawPath = ""
			return u.String()
		}
	}
	return conn + " dbname=" + db // the last setting wins
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
