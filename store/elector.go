package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotLeader is returned by Elector.IsLeader when this replica does not
// lead: another replica holds the lock, this one just lost it, or the
// elector is closed.
var ErrNotLeader = errors.New("not the leader")

// ElectorOptions tune an Elector. The zero value gives the defaults.
type ElectorOptions struct {
	// PingTimeout bounds connecting, taking the lock and each check that
	// the connection holding it is alive. Default 2 s.
	PingTimeout time.Duration
	// Logger gets leadership changes; default the store's logger.
	Logger *slog.Logger
}

// Elector elects one replica to run the scheduled jobs, on a PostgreSQL
// session advisory lock: the replica whose session holds the lock leads.
// It satisfies gocron v2's Elector interface (IsLeader).
//
// The lock is held on a connection of the elector's own, outside the
// store's pool: a pooled connection goes back to the pool and would keep
// the lock with nobody knowing, and it is the death of this connection
// that must end the leadership. When the connection dies (the database
// restarts, the network fails, an administrator ends the session) the
// server releases the lock and another replica takes it at its next try;
// the old leader learns of it at its next IsLeader, whose check of the
// connection fails. (When the network rather than the session failed,
// the server releases the lock only once it notices, so for a while
// nobody leads.) A replica that is not the leader keeps its connection
// for its next try, so a try is one round trip; a connection that fails
// is closed and the next try makes a new one.
//
// Leadership is as of the last IsLeader: a job started as leader runs on
// even if the connection dies meanwhile and another replica takes over,
// so jobs must be safe to run twice (the notifier's are: every
// notification is a unique row).
//
// An Elector is safe for concurrent use; its calls take turns.
type Elector struct {
	key     int64
	cfg     *pgx.ConnConfig
	timeout time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	conn    *pgx.Conn // nil until the first try, and after a failure
	closed  bool
	leading atomic.Bool // read without mu by Leading
}

// NewElector returns an elector on the advisory lock key, connecting to
// the store's database with the store's connection settings. It connects
// lazily, on the first IsLeader.
func (s *Store) NewElector(key int64, opts ElectorOptions) *Elector {
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = 2 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = s.log
	}
	return &Elector{
		key:     key,
		cfg:     s.pool.Config().ConnConfig.Copy(),
		timeout: opts.PingTimeout,
		log:     log.With("component", "elector", "lock_key", key),
	}
}

// IsLeader returns nil when this replica leads, and ErrNotLeader (perhaps
// wrapped with the cause) when it does not. The leader checks that its
// connection is alive (SELECT 1 within PingTimeout); if it is not, the
// leadership is lost, the connection closed, and this call returns
// ErrNotLeader, leaving the lock, which the server released with the
// session (or will, once it notices), to whichever replica tries next, this one included. A replica
// that is not the leader tries to take the lock (pg_try_advisory_lock,
// which never waits). Other errors (the database cannot be reached) also
// mean this replica does not lead.
func (e *Elector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return fmt.Errorf("elector closed: %w", ErrNotLeader)
	}
	if err := ctx.Err(); err != nil {
		// A query under a context already done would break the connection
		// and so lose the lock for nothing.
		return fmt.Errorf("leader election: %w", err)
	}
	if e.leading.Load() {
		err := e.ping(ctx)
		if err == nil {
			return nil
		}
		e.leading.Store(false)
		e.drop(ctx)
		e.log.Warn("lost leadership: the connection holding the lock failed", "err", err)
		return fmt.Errorf("lost leadership: %v: %w", err, ErrNotLeader)
	}
	if e.conn != nil {
		got, err := e.tryLock(ctx)
		if err == nil {
			return e.settle(got)
		}
		e.drop(ctx) // a broken connection: try once more on a new one
	}
	if err := e.connect(ctx); err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	got, err := e.tryLock(ctx)
	if err != nil {
		e.drop(ctx)
		return fmt.Errorf("leader election: %w", err)
	}
	return e.settle(got)
}

// Leading reports whether the last IsLeader found this replica leading.
func (e *Elector) Leading() bool { return e.leading.Load() }

// Close releases the lock, if held, and closes the connection. Later
// calls of IsLeader return ErrNotLeader.
func (e *Elector) Close(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.conn == nil {
		return nil
	}
	var err error
	if e.leading.Swap(false) {
		// Closing the session would release it too; unlocking first hands
		// it over even if the close is slow.
		uctx, cancel := context.WithTimeout(ctx, e.timeout)
		_, err = e.conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, e.key)
		cancel()
		e.log.Info("gave up leadership")
	}
	cctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	if cerr := e.conn.Close(cctx); cerr != nil && err == nil {
		err = cerr
	}
	e.conn = nil
	if err != nil {
		return fmt.Errorf("close elector: %w", err)
	}
	return nil
}

// settle records the outcome of a try.
func (e *Elector) settle(got bool) error {
	if !got {
		return ErrNotLeader
	}
	e.leading.Store(true)
	e.log.Info("became leader")
	return nil
}

// connect opens the elector's connection.
func (e *Elector) connect(ctx context.Context) error {
	cfg := e.cfg.Copy()
	cfg.ConnectTimeout = e.timeout
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	e.conn = conn
	return nil
}

// tryLock tries to take the lock on the connection.
func (e *Elector) tryLock(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	var got bool
	if err := e.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, e.key).Scan(&got); err != nil {
		return false, fmt.Errorf("try lock: %w", err)
	}
	return got, nil
}

// ping checks that the connection holding the lock is alive.
func (e *Elector) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	if _, err := e.conn.Exec(ctx, `SELECT 1`); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// drop closes the connection after a failure; the server releases any
// lock it held when it sees the session end.
func (e *Elector) drop(ctx context.Context) {
	if e.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.timeout)
	defer cancel()
	_ = e.conn.Close(ctx) // already failing: its close error says nothing more
	e.conn = nil
}
