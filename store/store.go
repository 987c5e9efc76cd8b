// Package store is csbot's PostgreSQL persistence: the only package that
// speaks SQL. It opens a pgx pool, applies the embedded migrations with
// jackc/tern, and maps rows to the domain types of package csbot.
//
// Subpackages: localpg runs the embedded PostgreSQL cluster used when no
// DATABASE_URL is configured, and pgtest gives each test a fresh database.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// defaultMaxConns is the pool size unless the URL sets pool_max_conns.
const defaultMaxConns = 16

// Store is a handle on csbot's database. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time
	// queueNow is River's clock (see WithQueueClock).
	queueNow func() time.Time

	// river delivers notifications (see RunDelivery).
	river   *river.Client[pgx.Tx]
	dcfg    DeliveryConfig
	handler handlerBox
}

// Open connects to the database at url and checks that it answers. It does
// not migrate; call Migrate first.
func Open(ctx context.Context, url string, log *slog.Logger, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errMalformedURL
	}
	if !strings.Contains(url, "pool_max_conns") {
		// Delivery workers each hold a connection while they claim and
		// record an attempt; pgx's default (the CPU count, at least 4)
		// starves them.
		cfg.MaxConns = max(cfg.MaxConns, defaultMaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{pool: pool, log: log.With("component", "store"), now: o.now, dcfg: o.delivery.withDefaults()}
	if s.now == nil {
		s.now = time.Now
	}
	s.queueNow = o.queueNow
	if s.queueNow == nil {
		s.queueNow = time.Now
	}
	if err := s.newRiver(o); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close releases every connection.
func (s *Store) Close() { s.pool.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// notFound turns pgx's no-rows error into csbot.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return csbot.ErrNotFound
	}
	return err
}

// errMalformedURL replaces pgx's parse error, which may quote the URL and
// so its password.
var errMalformedURL = errors.New("parse database url: malformed connection string (check DATABASE_URL)")
