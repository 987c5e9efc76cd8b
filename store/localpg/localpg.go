package localpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Names inside the data directory.
const (
	clusterDirName = "pg"
	logFileName    = "postgresql.log"
	passwordName   = "password"
	startLockName  = "start.lock"
	usersLockName  = "users.lock"
	ownerFileName  = "owner"

	// superuser is the role initdb creates and clients log in as.
	superuser = "postgres"
	// ephemeralPrefix starts the name of every ephemeral cluster's temp dir.
	ephemeralPrefix = "csbot-pgtest-"
	// startTimeout bounds one server start, crash recovery included.
	startTimeout = 60 * time.Second
	// startAttempts is how often a start is tried, each on a fresh port.
	startAttempts = 3
)

// Options configure Start.
type Options struct {
	// DataDir is where the cluster lives (shared mode; required), or the
	// directory in which the ephemeral cluster's temporary directory is made
	// (default os.TempDir()).
	DataDir string
	// Ephemeral selects a throwaway cluster for tests: a fresh temporary
	// directory, durability off, the server a child process that gets
	// SIGQUIT when the caller dies, everything removed by Close.
	Ephemeral bool
	// Database is created on start when missing; default "csbot".
	Database string
	// Logger receives start and stop events with their timings; default none.
	Logger *slog.Logger

	// search overrides where the binaries are looked for (tests).
	search *binSearch
}

// Cluster is a running local PostgreSQL server. Its methods are safe for
// concurrent use.
type Cluster struct {
	log       *slog.Logger
	dir       string // the data directory, or the ephemeral temp dir
	pgDir     string // PGDATA
	bin       binaries
	user      serverUser
	ephemeral bool
	database  string
	password  string
	port      int

	usersLock *os.File // shared mode: held shared while this handle is open
	server    *child   // ephemeral mode: the postmaster

	closeOnce sync.Once
	closeErr  error
}

// Start initialises the cluster when needed, starts its server or reuses
// the one already running on the data directory, and creates the database
// named in opts when missing.
//
// It returns an error wrapping ErrNoBinaries when the PostgreSQL server
// binaries are not installed, and one wrapping ErrDataDirUnreachable when
// the caller is root and the server user cannot reach the data directory.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	began := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{
		log:       log.With("component", "localpg"),
		ephemeral: opts.Ephemeral,
		database:  opts.Database,
	}
	if c.database == "" {
		c.database = "csbot"
	}
	bin, err := findBinaries(opts.search)
	if err != nil {
		return nil, err
	}
	c.bin = bin
	if opts.Ephemeral {
		err = c.startEphemeral(ctx, opts.DataDir)
	} else {
		if opts.DataDir == "" {
			return nil, errors.New("localpg: start: no data directory")
		}
		err = c.startShared(ctx, opts.DataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("localpg: start: %w", err)
	}
	c.log.Debug("postgres ready", "port", c.port, "database", c.database, "took", time.Since(began))
	return c, nil
}

// URL returns the connection URL of database db on this cluster, or of the
// database named in Options when db is empty. The URL holds the password:
// do not log it.
func (c *Cluster) URL(db string) string {
	if db == "" {
		db = c.database
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the server listens on at 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// Dir returns the data directory (shared mode) or the temporary directory
// (ephemeral mode) of the cluster.
func (c *Cluster) Dir() string { return c.dir }

// Close gives up this handle. In shared mode it stops the server only when
// no other process (or handle) still uses it; in ephemeral mode it stops the
// server and removes its directory. Later calls return the first result.
func (c *Cluster) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		if c.ephemeral {
			c.closeErr = c.closeEphemeral(ctx)
		} else {
			c.closeErr = c.closeShared(ctx)
		}
		if c.closeErr != nil {
			c.closeErr = fmt.Errorf("localpg: close: %w", c.closeErr)
		}
	})
	return c.closeErr
}

// initCluster runs initdb into target (removing what a crashed earlier
// attempt left there), with a fresh password written to the password file,
// and appends csbot's settings to its postgresql.conf.
func (c *Cluster) initCluster(ctx context.Context, target string, extra []string) error {
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("remove unfinished cluster: %w", err)
	}
	if err := os.Mkdir(target, 0o700); err != nil {
		return fmt.Errorf("create cluster directory: %w", err)
	}
	if err := c.user.chown(target); err != nil {
		return err
	}
	pw, err := newPassword()
	if err != nil {
		return err
	}
	pwFile := filepath.Join(c.dir, passwordName)
	if err := writePrivate(pwFile, pw+"\n"); err != nil {
		return err
	}
	// initdb, running as the server user, reads the file.
	if err := c.user.chown(pwFile); err != nil {
		return err
	}
	args := []string{
		"-D", target,
		"-U", superuser,
		"--pwfile=" + pwFile,
		"--auth-host=scram-sha-256",
		"--auth-local=peer",
		"-E", "UTF8",
		"--locale=C",
		"--no-instructions",
	}
	if c.ephemeral {
		args = append(args, "--no-sync")
	}
	if err := c.user.run(ctx, c.dir, c.bin.initdb, args...); err != nil {
		return err
	}
	conf := []string{
		"",
		"# Added by csbot (store/localpg): TCP on loopback only, no unix socket;",
		"# the port is given on the command line at each start.",
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = ''",
	}
	conf = append(conf, extra...)
	f, err := os.OpenFile(filepath.Join(target, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("configure cluster: %w", err)
	}
	_, err = io.WriteString(f, strings.Join(conf, "\n")+"\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("configure cluster: %w", err)
	}
	c.password = pw
	return nil
}

// readPassword loads the superuser password from the data directory.
func (c *Cluster) readPassword() error {
	b, err := os.ReadFile(filepath.Join(c.dir, passwordName))
	if err != nil {
		return fmt.Errorf("read password (remove %s to start afresh): %w", c.dir, err)
	}
	c.password = strings.TrimSpace(string(b))
	if c.password == "" {
		return fmt.Errorf("password file in %s is empty (remove the directory to start afresh)", c.dir)
	}
	return nil
}

// ensureDatabase creates c.database when missing.
func (c *Cluster) ensureDatabase(ctx context.Context) error {
	conn, err := c.connect(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	const q = `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`
	if err := conn.QueryRow(ctx, q, c.database).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", c.database, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.database}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", c.database, err)
	}
	c.log.Info("created database", "database", c.database)
	return nil
}

// connect opens a connection to database db, failing fast when the server
// does not answer.
func (c *Cluster) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(c.URL(db))
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	cfg.ConnectTimeout = 5 * time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to 127.0.0.1:%d: %w", c.port, err)
	}
	return conn, nil
}

// answers reports whether the server on c.port accepts our password.
func (c *Cluster) answers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := c.connect(ctx, "postgres")
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Ping(ctx) == nil
}

// freePort asks the kernel for a free port on 127.0.0.1. Someone else may
// take it before the server binds it; callers retry on another.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// retryableStart reports whether a failed start, judged by what it wrote to
// the log, may succeed on another attempt: the port was taken, or the
// processes of a crashed server had not yet let go of its shared memory.
func retryableStart(logTail string) bool {
	for _, s := range []string{"could not bind", "Address already in use", "could not create any TCP/IP sockets", "pre-existing shared memory block"} {
		if strings.Contains(logTail, s) {
			return true
		}
	}
	return false
}

// logSince returns what the log file gained after offset, at most 4 KiB.
func logSince(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size()-offset > 4096 {
		offset = fi.Size() - 4096
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, 4096))
	return strings.TrimSpace(string(b))
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func newPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// writePrivate writes a 0600 file atomically.
func writePrivate(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// prepareDir creates dir when missing (parents 0755, dir 0700) and, when
// the server runs as another user, lets that user through it: dir is made
// 0711 if the caller owns it, then every directory on the way is checked
// (hint says how to choose another place).
func (c *Cluster) prepareDir(dir, hint string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if c.user.cred == nil {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("stat %s: %w", dir, err)
	}
	if blocked, _, owner, _ := blockingDir(dir, c.user); blocked == dir && owner == uint32(os.Geteuid()) {
		if err := os.Chmod(dir, fi.Mode().Perm()|0o011); err != nil {
			return fmt.Errorf("chmod %s: %w", dir, err)
		}
	}
	return checkReachable(dir, c.user, hint)
}
