package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrDataDirUnreachable is returned by Start when the process runs as root
// and the unprivileged user that must run the server cannot reach the data
// directory.
var ErrDataDirUnreachable = errors.New("data directory not reachable by the PostgreSQL server user")

// serverUser is the account the server programs run as: the caller itself,
// or, when the caller is root, an unprivileged user.
type serverUser struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32
	cred   *syscall.Credential // nil: run as the caller
}

// chooseServerUser returns the caller when it is not root. For root it
// returns the owner of an existing cluster directory pgDir when that is not
// root, else postgres, else nobody.
func chooseServerUser(pgDir string) (serverUser, error) {
	if os.Geteuid() != 0 {
		u := serverUser{name: strconv.Itoa(os.Geteuid()), uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}
		if cu, err := user.Current(); err == nil {
			u.name = cu.Username
		}
		gs, _ := os.Getgroups()
		for _, g := range gs {
			u.groups = append(u.groups, uint32(g))
		}
		return u, nil
	}
	var candidates []func() (*user.User, error)
	if fi, err := os.Stat(pgDir); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
			uid := strconv.FormatUint(uint64(st.Uid), 10)
			candidates = append(candidates, func() (*user.User, error) { return user.LookupId(uid) })
		}
	}
	candidates = append(candidates,
		func() (*user.User, error) { return user.Lookup("postgres") },
		func() (*user.User, error) { return user.Lookup("nobody") })
	for _, lookup := range candidates {
		u, err := lookup()
		if err != nil {
			continue
		}
		su, err := toServerUser(u)
		if err != nil {
			return serverUser{}, err
		}
		return su, nil
	}
	return serverUser{}, errors.New("running as root and no unprivileged user (postgres or nobody) to run PostgreSQL as")
}

func toServerUser(u *user.User) (serverUser, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return serverUser{}, fmt.Errorf("user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return serverUser{}, fmt.Errorf("user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	su := serverUser{name: u.Username, uid: uint32(uid), gid: uint32(gid)}
	ids, _ := u.GroupIds()
	for _, id := range ids {
		if g, err := strconv.ParseUint(id, 10, 32); err == nil {
			su.groups = append(su.groups, uint32(g))
		}
	}
	su.cred = &syscall.Credential{Uid: su.uid, Gid: su.gid, Groups: su.groups}
	return su, nil
}

// chown gives path to the server user when the caller is root.
func (u serverUser) chown(path string) error {
	if u.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(u.uid), int(u.gid)); err != nil {
		return fmt.Errorf("chown %s to %s: %w", path, u.name, err)
	}
	return nil
}

// blockingDir returns the first directory on the way to dir (dir included)
// that user u cannot search, or "" when every one is searchable. It judges
// by the permission bits alone, as root would otherwise see none of it.
func blockingDir(dir string, u serverUser) (string, os.FileMode, uint32, error) {
	dir = filepath.Clean(dir)
	var chain []string
	for d := dir; ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		fi, err := os.Stat(chain[i])
		if err != nil {
			return "", 0, 0, fmt.Errorf("stat %s: %w", chain[i], err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || u.uid == 0 {
			continue
		}
		var bit os.FileMode = 0o001
		switch {
		case st.Uid == u.uid:
			bit = 0o100
		case st.Gid == u.gid || containsUint32(u.groups, st.Gid):
			bit = 0o010
		}
		if fi.Mode().Perm()&bit == 0 {
			return chain[i], fi.Mode().Perm(), st.Uid, nil
		}
	}
	return "", 0, 0, nil
}

func containsUint32(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// checkReachable returns an error wrapping ErrDataDirUnreachable, naming the
// blocking directory and suggesting hint (such as CSBOT_DATA_DIR=/var/lib/csbot),
// when u cannot search its way to dir.
func checkReachable(dir string, u serverUser, hint string) error {
	blocked, mode, owner, err := blockingDir(dir, u)
	if err != nil {
		return err
	}
	if blocked == "" {
		return nil
	}
	ownerName := strconv.FormatUint(uint64(owner), 10)
	if ou, err := user.LookupId(ownerName); err == nil {
		ownerName = ou.Username
	}
	return fmt.Errorf("%s: PostgreSQL refuses to run as root, so it runs as user %q, "+
		"which cannot enter %s (mode %04o, owner %s); put the data directory where %s can reach it, "+
		"e.g. %s: %w",
		dir, u.name, blocked, mode, ownerName, u.name, hint, ErrDataDirUnreachable)
}

// childEnv is the environment of the server programs: the caller's, minus
// libpq and locale variables that could redirect or translate them.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// command prepares a server program to run as the server user in dir.
func (u serverUser) command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = childEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u.cred}
	// pg_ctl start leaves a daemon behind; should it ever keep our output
	// pipe open, do not wait for it forever.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs a server program to completion; its output goes into the error.
func (u serverUser) run(ctx context.Context, dir, name string, args ...string) error {
	cmd := u.command(ctx, dir, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			return fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		return fmt.Errorf("%s: %s: %w", filepath.Base(name), msg, err)
	}
	return nil
}

// pidAlive reports whether a process with this pid exists.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A zombie (exited, not yet reaped, as under a container init that
	// does not reap) still answers kill(2).
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return true
	}
	return b[i+2] != 'Z' && b[i+2] != 'X'
}

// isPostmasterOf reports whether the live process pid is a postmaster
// serving pgDir: the postmaster's working directory is its data directory.
// Without /proc it trusts the pid.
func isPostmasterOf(pid int, pgDir string) bool {
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			return !dirExists("/proc/self")
		}
		return strings.TrimSpace(string(comm)) == "postgres"
	}
	want, err := filepath.EvalSymlinks(pgDir)
	if err != nil {
		want = pgDir
	}
	return cwd == want
}

// processesIn returns the live processes whose working directory is dir:
// a postmaster and its backends work in the data directory. Processes this
// one may not inspect are not seen; without /proc it returns none.
func processesIn(dir string) []int {
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd"); err == nil && cwd == want && pidAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// procStartTime returns the start time of pid in clock ticks since boot
// (field 22 of /proc/<pid>/stat), or "" when it cannot be read.
func procStartTime(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces; count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return ""
	}
	return fields[19]
}

// pidFile is what a running postmaster writes to postmaster.pid.
type pidFile struct {
	pid    int
	port   int
	status string // "starting", "stopping", "ready", "standby"; "" before PostgreSQL 10
}

// readPidFile parses pgDir/postmaster.pid. It returns an error satisfying
// errors.Is(err, fs.ErrNotExist) when there is none.
func readPidFile(pgDir string) (pidFile, error) {
	b, err := os.ReadFile(filepath.Join(pgDir, "postmaster.pid"))
	if err != nil {
		return pidFile{}, err
	}
	lines := strings.Split(string(b), "\n")
	var pf pidFile
	if len(lines) > 0 {
		pf.pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	}
	if len(lines) > 3 {
		pf.port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	if len(lines) > 7 {
		pf.status = strings.TrimSpace(lines[7])
	}
	return pf, nil
}

// lock takes a flock(2) lock (syscall.LOCK_SH or LOCK_EX) on f, waiting
// until ctx is done.
func lock(ctx context.Context, f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lock %s: %w", f.Name(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// tryLock takes a flock(2) lock without waiting and reports whether it got it.
func tryLock(f *os.File, how int) (bool, error) {
	err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return true, nil
}

// openLockFile opens (creating) a lock file.
func openLockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	return f, nil
}
