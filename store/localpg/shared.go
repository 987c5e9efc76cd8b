package localpg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// maxLogSize is the size past which the server log is rotated (to
// postgresql.log.1) before the next start.
const maxLogSize = 10 << 20

// startShared sets up the cluster under dir when needed and starts or
// reuses its server, all under the exclusive start lock, and then takes a
// shared hold on users.lock for the life of the handle.
func (c *Cluster) startShared(ctx context.Context, dir string) (err error) {
	began := time.Now()
	if c.dir, err = filepath.Abs(dir); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	c.pgDir = filepath.Join(c.dir, clusterDirName)
	if c.user, err = chooseServerUser(c.pgDir); err != nil {
		return err
	}
	if err := c.prepareDir(c.dir, "CSBOT_DATA_DIR=/var/lib/csbot"); err != nil {
		return err
	}
	startLock, err := openLockFile(filepath.Join(c.dir, startLockName))
	if err != nil {
		return err
	}
	defer startLock.Close() // releases the lock
	if err := lock(ctx, startLock, syscall.LOCK_EX); err != nil {
		return err
	}

	var initTook time.Duration
	if _, err := os.Stat(filepath.Join(c.pgDir, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		t0 := time.Now()
		// initdb into a side directory and rename it into place, so a
		// crashed initdb never leaves a half-made cluster behind as pg/.
		tmp := c.pgDir + ".init"
		if err := c.initCluster(ctx, tmp, nil); err != nil {
			return fmt.Errorf("initdb: %w", err)
		}
		if err := os.Rename(tmp, c.pgDir); err != nil {
			return fmt.Errorf("initdb: %w", err)
		}
		initTook = time.Since(t0)
		c.log.Info("initialised cluster", "dir", c.pgDir, "bin", c.bin.dir, "user", c.user.name, "took", initTook)
	} else if err != nil {
		return fmt.Errorf("stat cluster: %w", err)
	} else if err := c.readPassword(); err != nil {
		return err
	}

	reused, err := c.findRunning(ctx)
	if err != nil {
		return err
	}
	var startTook time.Duration
	if !reused {
		t0 := time.Now()
		if err := c.pgCtlStart(ctx); err != nil {
			return err
		}
		startTook = time.Since(t0)
	}

	usersLock, err := openLockFile(filepath.Join(c.dir, usersLockName))
	if err != nil {
		return err
	}
	if err := lock(ctx, usersLock, syscall.LOCK_SH); err != nil {
		usersLock.Close()
		return err
	}
	c.usersLock = usersLock
	if err := c.ensureDatabase(ctx); err != nil {
		// Undo the start if no one else uses the server.
		if last, _ := tryLock(usersLock, syscall.LOCK_EX); last && !reused {
			_ = c.pgCtlStop(context.WithoutCancel(ctx))
		}
		usersLock.Close()
		return err
	}
	if reused {
		c.log.Info("reusing running postgres", "dir", c.dir, "port", c.port, "took", time.Since(began))
	} else {
		c.log.Info("started postgres", "dir", c.dir, "port", c.port, "cold", initTook > 0,
			"initdb", initTook, "start", startTook, "took", time.Since(began))
	}
	return nil
}

// findRunning looks for a server already running on the cluster and, when
// it answers, adopts its port. A postmaster.pid left by a dead server is
// left for postgres to clear (it first checks that no orphaned backend still
// uses the old shared memory); one whose pid now belongs to an unrelated
// process is removed, as postgres would refuse to start over it.
func (c *Cluster) findRunning(ctx context.Context) (bool, error) {
	deadline := time.Now().Add(startTimeout)
	for {
		pf, err := readPidFile(c.pgDir)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read postmaster.pid: %w", err)
		}
		switch {
		case pf.pid == 0:
			// Being written, or left empty by a crash: give a writer a
			// moment, then treat it as stale (postgres rejects it as bogus).
			if fi, err := os.Stat(filepath.Join(c.pgDir, "postmaster.pid")); err == nil && time.Since(fi.ModTime()) > 2*time.Second {
				c.log.Info("removing empty postmaster.pid")
				if err := os.Remove(filepath.Join(c.pgDir, "postmaster.pid")); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return false, fmt.Errorf("remove stale postmaster.pid: %w", err)
				}
				return false, nil
			}
		case !pidAlive(pf.pid):
			c.log.Info("found postmaster.pid of a server that is gone; recovering", "pid", pf.pid)
			return false, c.clearDeadServer(ctx, pf.pid)
		case !isPostmasterOf(pf.pid, c.pgDir):
			c.log.Info("removing postmaster.pid whose pid belongs to another process", "pid", pf.pid)
			if err := os.Remove(filepath.Join(c.pgDir, "postmaster.pid")); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, fmt.Errorf("remove stale postmaster.pid: %w", err)
			}
			return false, nil
		case pf.port > 0 && (pf.status == "ready" || pf.status == ""):
			c.port = pf.port
			if c.answers(ctx) {
				return true, nil
			}
		}
		// Starting up, recovering, shutting down, or not answering yet.
		if time.Now().After(deadline) {
			return false, fmt.Errorf("server pid %d on %s neither answers nor exits; see %s",
				pf.pid, c.pgDir, filepath.Join(c.dir, logFileName))
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// clearDeadServer prepares a start after the server pid died: it waits
// for the dead server's backends to exit (they notice the postmaster's death
// within moments), and removes postmaster.pid if pid lingers as a zombie,
// which postgres would take for a running server (an init that is slow to
// reap, or none, as in some containers).
func (c *Cluster) clearDeadServer(ctx context.Context, pid int) error {
	deadline := time.Now().Add(startTimeout)
	for {
		left := processesIn(c.pgDir)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v of a dead server still run in %s", left, c.pgDir)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
		c.log.Info("removing postmaster.pid of a zombie server", "pid", pid)
		if err := os.Remove(filepath.Join(c.pgDir, "postmaster.pid")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale postmaster.pid: %w", err)
		}
	}
	return nil
}

// pgCtlStart starts the server daemonised with pg_ctl on a free port,
// trying another port when the chosen one was taken meanwhile.
func (c *Cluster) pgCtlStart(ctx context.Context) error {
	logPath := filepath.Join(c.dir, logFileName)
	if err := c.prepareLog(logPath); err != nil {
		return err
	}
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		port, perr := freePort()
		if perr != nil {
			return perr
		}
		offset := fileSize(logPath)
		err = c.user.run(ctx, c.dir, c.bin.pgCtl, "start",
			"-D", c.pgDir, "-l", logPath, "-w", "-s",
			"-t", strconv.Itoa(int(startTimeout/time.Second)),
			"-o", "-p "+strconv.Itoa(port))
		if err == nil {
			c.port = port
			if pf, rerr := readPidFile(c.pgDir); rerr == nil && pf.port > 0 {
				c.port = pf.port
			}
			return nil
		}
		tail := logSince(logPath, offset)
		if ctx.Err() != nil || !retryableStart(tail) {
			return fmt.Errorf("start server: %w\n%s", err, tail)
		}
		c.log.Warn("server start failed; retrying", "attempt", attempt, "port", port, "log", tail)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
		}
	}
	return fmt.Errorf("start server: %w (see %s)", err, logPath)
}

// prepareLog creates the log file for the server user to append to, and
// rotates it once it has grown past maxLogSize.
func (c *Cluster) prepareLog(path string) error {
	if fileSize(path) > maxLogSize {
		if err := os.Rename(path, path+".1"); err != nil {
			return fmt.Errorf("rotate log: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	f.Close()
	return c.user.chown(path)
}

// pgCtlStop stops the server with a fast shutdown, if it runs.
func (c *Cluster) pgCtlStop(ctx context.Context) error {
	pf, err := readPidFile(c.pgDir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !pidAlive(pf.pid)) {
		return nil
	}
	t0 := time.Now()
	if err := c.user.run(ctx, c.dir, c.bin.pgCtl, "stop", "-D", c.pgDir, "-m", "fast", "-w", "-s",
		"-t", strconv.Itoa(int(startTimeout/time.Second))); err != nil {
		return fmt.Errorf("stop server: %w", err)
	}
	c.log.Info("stopped postgres", "dir", c.dir, "took", time.Since(t0))
	return nil
}

// closeShared drops this handle's hold on the server and stops the server
// when no one else holds it.
func (c *Cluster) closeShared(ctx context.Context) error {
	defer c.usersLock.Close()
	startLock, err := openLockFile(filepath.Join(c.dir, startLockName))
	if err != nil {
		return err
	}
	defer startLock.Close()
	if err := lock(ctx, startLock, syscall.LOCK_EX); err != nil {
		return err
	}
	// Under the start lock no one can join; if our shared hold converts to
	// an exclusive one, we were the last user.
	last, err := tryLock(c.usersLock, syscall.LOCK_EX)
	if err != nil {
		return err
	}
	if !last {
		c.log.Debug("leaving postgres running for its other users", "dir", c.dir)
		return nil
	}
	return c.pgCtlStop(ctx)
}
