package localpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ephemeralConf trades durability for speed: a test cluster is thrown away.
var ephemeralConf = []string{
	"fsync = off",
	"synchronous_commit = off",
	"full_page_writes = off",
}

// staleAge is how old an ephemeral directory without an owner file must be
// before it is taken for the leftover of a crash and removed.
const staleAge = time.Hour

// child is a server process started by this process.
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been waited for
	err  error         // Wait's result, set before done is closed
}

// startChild starts cmd from a goroutine locked to its OS thread that
// lives as long as the child. Linux delivers Pdeathsig when the thread that
// forked the child ends, not the process; Go may end idle threads, so the
// child must not be forked from an arbitrary one.
func startChild(cmd *exec.Cmd) (*child, error) {
	ch := &child{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		ch.err = cmd.Wait()
		close(ch.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return ch, nil
}

// stop sends sig, waits up to grace for the exit, then kills.
func (ch *child) stop(ctx context.Context, sig syscall.Signal, grace time.Duration) {
	_ = ch.cmd.Process.Signal(sig)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-ch.done:
		return
	case <-ctx.Done():
	case <-t.C:
	}
	_ = ch.cmd.Process.Kill()
	<-ch.done
}

// startEphemeral makes a temporary cluster under parent and runs its
// server as a child process.
func (c *Cluster) startEphemeral(ctx context.Context, parent string) (err error) {
	began := time.Now()
	if parent == "" {
		parent = os.TempDir()
	}
	if parent, err = filepath.Abs(parent); err != nil {
		return fmt.Errorf("temp directory: %w", err)
	}
	if c.user, err = chooseServerUser(""); err != nil {
		return err
	}
	c.removeStale(ctx, parent)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	if c.dir, err = os.MkdirTemp(parent, ephemeralPrefix+"*"); err != nil {
		return fmt.Errorf("create temp directory: %w", err)
	}
	c.pgDir = filepath.Join(c.dir, clusterDirName)
	defer func() {
		if err != nil {
			if c.server != nil {
				c.server.stop(context.WithoutCancel(ctx), syscall.SIGQUIT, 5*time.Second)
			}
			os.RemoveAll(c.dir)
		}
	}()
	pid := os.Getpid()
	owner := fmt.Sprintf("%d %s\n", pid, procStartTime(pid))
	if err := os.WriteFile(filepath.Join(c.dir, ownerFileName), []byte(owner), 0o600); err != nil {
		return fmt.Errorf("write owner: %w", err)
	}
	if err := c.prepareDir(c.dir, "TMPDIR=/tmp"); err != nil {
		return err
	}
	t0 := time.Now()
	if err := c.initCluster(ctx, c.pgDir, ephemeralConf); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	initTook := time.Since(t0)
	t0 = time.Now()
	if err := c.runChild(ctx); err != nil {
		return err
	}
	startTook := time.Since(t0)
	if err := c.ensureDatabase(ctx); err != nil {
		return err
	}
	c.log.Info("started ephemeral postgres", "dir", c.dir, "port", c.port, "bin", c.bin.dir,
		"initdb", initTook, "start", startTook, "took", time.Since(began))
	return nil
}

// runChild starts postgres on a free port and waits until it is ready,
// trying another port when the chosen one was taken meanwhile.
func (c *Cluster) runChild(ctx context.Context) error {
	logPath := filepath.Join(c.dir, logFileName)
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		port, perr := freePort()
		if perr != nil {
			return perr
		}
		offset := fileSize(logPath)
		err = c.runChildOnce(ctx, port, logPath)
		if err == nil {
			c.port = port
			return nil
		}
		tail := logSince(logPath, offset)
		if ctx.Err() != nil || !retryableStart(tail) {
			return fmt.Errorf("%w\n%s", err, tail)
		}
		c.log.Warn("server start failed; retrying", "attempt", attempt, "port", port, "log", tail)
	}
	return err
}

func (c *Cluster) runChildOnce(ctx context.Context, port int, logPath string) error {
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd := exec.Command(c.bin.postgres, "-D", c.pgDir, "-p", strconv.Itoa(port))
	cmd.Dir = c.dir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: c.user.cred,
		// Immediate shutdown when this process dies, however it dies.
		Pdeathsig: syscall.SIGQUIT,
	}
	ch, err := startChild(cmd)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		pf, err := readPidFile(c.pgDir)
		if err == nil && pf.pid == cmd.Process.Pid && pf.status == "ready" {
			c.server = ch
			return nil
		}
		select {
		case <-ch.done:
			return fmt.Errorf("postgres exited during start: %w", ch.err)
		case <-ctx.Done():
			ch.stop(context.WithoutCancel(ctx), syscall.SIGQUIT, 5*time.Second)
			return ctx.Err()
		case <-deadline.C:
			ch.stop(context.WithoutCancel(ctx), syscall.SIGQUIT, 5*time.Second)
			return fmt.Errorf("postgres not ready after %v", startTimeout)
		case <-tick.C:
		}
	}
}

// closeEphemeral stops the server (immediate shutdown: nothing in it is
// worth a checkpoint) and removes the temporary directory.
func (c *Cluster) closeEphemeral(ctx context.Context) error {
	t0 := time.Now()
	if c.server != nil {
		c.server.stop(ctx, syscall.SIGQUIT, 10*time.Second)
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("remove %s: %w", c.dir, err)
	}
	c.log.Debug("stopped ephemeral postgres", "dir", c.dir, "took", time.Since(t0))
	return nil
}

// removeStale removes the csbot-pgtest-* directories under parent whose
// owning process is gone (a test binary killed before its cleanup), first
// stopping any server still running in one. Failures are only logged.
func (c *Cluster) removeStale(ctx context.Context, parent string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, ephemeralPrefix+"*"))
	for _, dir := range dirs {
		if !ownerGone(dir) {
			continue
		}
		pgDir := filepath.Join(dir, clusterDirName)
		if pf, err := readPidFile(pgDir); err == nil && pidAlive(pf.pid) && isPostmasterOf(pf.pid, pgDir) {
			_ = syscall.Kill(pf.pid, syscall.SIGQUIT)
			waitGone(ctx, pf.pid, 5*time.Second)
		}
		if err := os.RemoveAll(dir); err != nil {
			c.log.Warn("could not remove stale test cluster", "dir", dir, "err", err)
			continue
		}
		c.log.Info("removed stale test cluster", "dir", dir)
	}
}

// ownerGone reports whether the process that made the ephemeral directory
// dir has died: its pid is free, or taken by a process started later.
func ownerGone(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ownerFileName))
	if err != nil {
		fi, serr := os.Stat(dir)
		return errors.Is(err, os.ErrNotExist) && serr == nil && fi.IsDir() && time.Since(fi.ModTime()) > staleAge
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return false
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil {
		return false
	}
	if !pidAlive(pid) {
		return true
	}
	if len(fields) > 1 {
		if st := procStartTime(pid); st != "" && st != fields[1] {
			return true
		}
	}
	return false
}

// waitGone waits up to limit for process pid to disappear.
func waitGone(ctx context.Context, pid int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for pidAlive(pid) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	if pidAlive(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
