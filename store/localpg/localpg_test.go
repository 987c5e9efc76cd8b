package localpg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// newDataDir returns a directory the server user can reach (t.TempDir's
// parents are 0700, which the unprivileged server user cannot enter when
// the tests run as root). On cleanup it kills any server a failed test left
// running there.
func newDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "localpg-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, pg := range []string{filepath.Join(dir, "data", clusterDirName), filepath.Join(dir, clusterDirName)} {
			if pf, err := readPidFile(pg); err == nil && pidAlive(pf.pid) {
				_ = syscall.Kill(pf.pid, syscall.SIGQUIT)
				waitGone(context.Background(), pf.pid, 5*time.Second)
			}
		}
		os.RemoveAll(dir)
	})
	return dir
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// tWriter sends log lines to t.Log, so they show only for failures and -v.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// mustQuery runs a one-value query on the database at url.
func mustQuery(ctx context.Context, t *testing.T, url, q string) string {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func mustExec(ctx context.Context, t *testing.T, url, q string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func serverPID(t *testing.T, pgDir string) int {
	t.Helper()
	pf, err := readPidFile(pgDir)
	if err != nil {
		t.Fatalf("read postmaster.pid: %v", err)
	}
	return pf.pid
}

// waitStopped fails unless the server of pgDir is gone within a few seconds.
func waitStopped(t *testing.T, pgDir string, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for pidAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("server pid %d still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(pgDir, "postmaster.pid")); pgDir != "" && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("postmaster.pid after stop: err = %v, want not exist", err)
	}
}

func TestSharedLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(newDataDir(t), "data")
	pgDir := filepath.Join(dir, clusterDirName)

	t0 := time.Now()
	a, err := Start(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("cold start (initdb + start): %v", time.Since(t0))
	if got := mustQuery(ctx, t, a.URL(""), "SELECT current_database()"); got != "csbot" {
		t.Errorf("current_database() = %q, want csbot", got)
	}
	if got := mustQuery(ctx, t, a.URL("postgres"), "SHOW listen_addresses"); got != "127.0.0.1" {
		t.Errorf("listen_addresses = %q, want 127.0.0.1", got)
	}
	if !strings.HasPrefix(a.URL(""), "postgres://postgres:") || !strings.HasSuffix(a.URL(""), "/csbot?sslmode=disable") {
		t.Errorf("URL = %q, want postgres://postgres:...@127.0.0.1:port/csbot?sslmode=disable", a.URL(""))
	}
	for _, name := range []string{passwordName, filepath.Join(clusterDirName)} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s mode %04o, want no group or other access", name, perm)
		}
	}
	pid := serverPID(t, pgDir)

	t0 = time.Now()
	b, err := Start(ctx, Options{DataDir: dir, Database: "other", Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("second Start: %v", err)
	}
	t.Logf("reuse of the running server: %v", time.Since(t0))
	if b.Port() != a.Port() || serverPID(t, pgDir) != pid {
		t.Fatalf("second Start: port %d pid %d, want the running server's %d, %d", b.Port(), serverPID(t, pgDir), a.Port(), pid)
	}
	if got := mustQuery(ctx, t, b.URL(""), "SELECT current_database()"); got != "other" {
		t.Errorf("current_database() = %q, want other", got)
	}

	if err := a.Close(ctx); err != nil {
		t.Fatalf("Close first: %v", err)
	}
	if got := mustQuery(ctx, t, b.URL(""), "SELECT 'still up'"); got != "still up" {
		t.Fatalf("after closing the first handle: %q", got)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatalf("Close last: %v", err)
	}
	waitStopped(t, pgDir, pid)

	t0 = time.Now()
	c, err := Start(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("warm Start: %v", err)
	}
	t.Logf("warm start: %v", time.Since(t0))
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestHelperProcess is not a test: the tests below run the test binary as a
// child that starts a cluster and then waits to be killed.
func TestHelperProcess(t *testing.T) {
	mode, dir := os.Getenv("LOCALPG_HELPER"), os.Getenv("LOCALPG_HELPER_DIR")
	if mode == "" {
		return
	}
	c, err := Start(context.Background(), Options{DataDir: dir, Ephemeral: mode == "ephemeral"})
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(1)
	}
	pf, _ := readPidFile(filepath.Join(c.Dir(), clusterDirName))
	fmt.Printf("ready %d %d %s\n", c.Port(), pf.pid, c.Dir())
	select {} // until killed
}

// startHelper runs TestHelperProcess and returns the port, server pid and
// cluster directory it reports, and a func that kills it with SIGKILL.
func startHelper(t *testing.T, mode, dir string) (port, pid int, clusterDir string, kill func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "LOCALPG_HELPER="+mode, "LOCALPG_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	t.Cleanup(kill)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "ready" {
		t.Fatalf("helper: %q", line)
	}
	port, _ = strconv.Atoi(f[1])
	pid, _ = strconv.Atoi(f[2])
	return port, pid, f[3], kill
}

func TestSharedReusedAfterKill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := newDataDir(t)
	port, pid, _, kill := startHelper(t, "shared", dir)
	kill() // SIGKILL: no Close, the server stays up

	if !pidAlive(pid) {
		t.Fatalf("server pid %d died with its user", pid)
	}
	c, err := Start(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if c.Port() != port || serverPID(t, c.pgDir) != pid {
		t.Errorf("Start: port %d pid %d, want the running server's %d, %d", c.Port(), serverPID(t, c.pgDir), port, pid)
	}
	mustQuery(ctx, t, c.URL(""), "SELECT 1")
	// The killed process no longer holds users.lock: this is the last user.
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitStopped(t, c.pgDir, pid)
}

func TestSharedStalePostmasterPid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := newDataDir(t)
	c, err := Start(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	mustExec(ctx, t, c.URL(""), "CREATE TABLE survivor (id int); INSERT INTO survivor VALUES (42)")
	pgDir := c.pgDir

	// A crash: the postmaster dies with SIGKILL and leaves postmaster.pid
	// naming a dead process. Drop the handle without Close.
	pid := serverPID(t, pgDir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.usersLock.Close()
	deadline := time.Now().Add(10 * time.Second)
	for pidAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(pgDir, "postmaster.pid")); err != nil {
		t.Fatalf("postmaster.pid after crash: %v", err)
	}
	c, err = Start(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start after crash: %v", err)
	}
	if got := mustQuery(ctx, t, c.URL(""), "SELECT id::text FROM survivor"); got != "42" {
		t.Errorf("after crash recovery: survivor = %q, want 42", got)
	}
	if serverPID(t, pgDir) == pid {
		t.Errorf("server pid unchanged after crash")
	}

	// postmaster.pid naming a live process that is not our server (a pid
	// reused after a reboot or in a new container): copy the live file,
	// stop the server, and put the file back with this test's pid in it.
	live, err := os.ReadFile(filepath.Join(pgDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid = serverPID(t, pgDir)
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitStopped(t, pgDir, pid)
	lines := strings.SplitN(string(live), "\n", 2)
	stale := strconv.Itoa(os.Getpid()) + "\n" + lines[1]
	if err := os.WriteFile(filepath.Join(pgDir, "postmaster.pid"), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Start(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start over a postmaster.pid of another process: %v", err)
	}
	mustQuery(ctx, t, c.URL(""), "SELECT 1")
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestUnreachableDataDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	closed := newDataDir(t)
	if err := os.Chmod(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(closed, "home", ".csbot")
	c, err := Start(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if os.Geteuid() != 0 {
		// Not root: the server runs as this user, who owns the directory.
		if err != nil {
			t.Fatalf("Start as non-root: %v", err)
		}
		if err := c.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		return
	}
	if !errors.Is(err, ErrDataDirUnreachable) {
		t.Fatalf("Start under a 0700 root directory: err = %v, want ErrDataDirUnreachable", err)
	}
	for _, want := range []string{closed + " (mode 0700, owner root)", "CSBOT_DATA_DIR=/var/lib/csbot"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestBlockingDir(t *testing.T) {
	t.Parallel()
	top := newDataDir(t) // 0755
	closed := filepath.Join(top, "closed")
	inner := filepath.Join(closed, "inner")
	if err := os.MkdirAll(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	stranger := serverUser{name: "stranger", uid: 4242424, gid: 4242424}
	if got, _, _, err := blockingDir(inner, stranger); err != nil || got != closed {
		t.Errorf("blockingDir(%s, stranger) = %q, %v, want %q", inner, got, err, closed)
	}
	owner := serverUser{name: "owner", uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}
	if got, _, _, err := blockingDir(inner, owner); err != nil || got != "" {
		t.Errorf("blockingDir(%s, owner) = %q, %v, want none", inner, got, err)
	}
}

func TestMissingBinaries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	empty := t.TempDir()
	_, err := Start(ctx, Options{DataDir: t.TempDir(), search: &binSearch{path: empty, globs: []string{filepath.Join(empty, "*", "bin")}}})
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("Start without binaries: err = %v, want ErrNoBinaries", err)
	}
	want := "PostgreSQL server binaries not found (initdb, pg_ctl): install them with `apt-get install -y postgresql` (Debian/Ubuntu), or set DATABASE_URL to an existing server"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestFindBinaries(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	install := func(dir string, names ...string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := []string{"initdb", "pg_ctl", "postgres"}
	install(filepath.Join(root, "lib", "9.6", "bin"), all...)
	install(filepath.Join(root, "lib", "16", "bin"), all...)
	install(filepath.Join(root, "lib", "17", "bin"), "initdb", "pg_ctl") // incomplete
	glob := filepath.Join(root, "lib", "*", "bin")

	b, err := findBinaries(&binSearch{globs: []string{glob}})
	if err != nil || b.dir != filepath.Join(root, "lib", "16", "bin") {
		t.Errorf("highest complete version: got %q, %v, want lib/16/bin", b.dir, err)
	}

	// On PATH through a symlink, as /usr/local/bin/initdb: the real
	// directory is used, as that is where initdb looks for postgres.
	onPath := filepath.Join(root, "path")
	install(onPath)
	for _, n := range all {
		if err := os.Symlink(filepath.Join(root, "lib", "9.6", "bin", n), filepath.Join(onPath, n)); err != nil {
			t.Fatal(err)
		}
	}
	b, err = findBinaries(&binSearch{path: onPath, globs: []string{glob}})
	if err != nil || b.dir != filepath.Join(root, "lib", "9.6", "bin") || b.postgres != filepath.Join(root, "lib", "9.6", "bin", "postgres") {
		t.Errorf("PATH first: got %+v, %v, want lib/9.6/bin", b, err)
	}
}

func TestEphemeral(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	parent := newDataDir(t)
	t0 := time.Now()
	c, err := Start(ctx, Options{DataDir: parent, Ephemeral: true, Database: "postgres", Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("ephemeral cold start: %v", time.Since(t0))
	if !strings.HasPrefix(filepath.Base(c.Dir()), ephemeralPrefix) || filepath.Dir(c.Dir()) != parent {
		t.Errorf("Dir() = %q, want %s/%s*", c.Dir(), parent, ephemeralPrefix)
	}
	for _, setting := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		if got := mustQuery(ctx, t, c.URL(""), "SHOW "+setting); got != "off" {
			t.Errorf("%s = %q, want off", setting, got)
		}
	}
	pid := serverPID(t, c.pgDir)
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitStopped(t, "", pid)
	if _, err := os.Stat(c.Dir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temp dir after Close: err = %v, want not exist", err)
	}
}

func TestEphemeralDiesWithOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	parent := newDataDir(t)
	_, pid, stale, kill := startHelper(t, "ephemeral", parent)
	kill() // Pdeathsig must take the server down with it

	waitStopped(t, "", pid)
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("the killed owner's dir: %v", err)
	}
	// What the next Start does first, without the cost of a second cluster.
	live := filepath.Join(parent, ephemeralPrefix+"live")
	if err := os.Mkdir(live, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(live, ownerFileName), []byte(fmt.Sprintf("%d %s\n", os.Getpid(), procStartTime(os.Getpid()))), 0o600); err != nil {
		t.Fatal(err)
	}
	(&Cluster{log: testLogger(t)}).removeStale(ctx, parent)
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale dir %s of a dead owner: err = %v, want removed", stale, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("dir of a live owner: %v", err)
	}
}
