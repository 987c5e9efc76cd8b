package localpg

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned by Start when the PostgreSQL server binaries
// cannot be found on PATH or in the usual installation directories.
var ErrNoBinaries = errors.New("PostgreSQL server binaries not found (initdb, pg_ctl): " +
	"install them with `apt-get install -y postgresql` (Debian/Ubuntu), " +
	"or set DATABASE_URL to an existing server")

// defaultGlobs are where distributions install versioned server binaries
// that are not on PATH: Debian/Ubuntu, then the PGDG RPMs.
var defaultGlobs = []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"}

// binSearch says where to look for the server binaries. The zero value
// means $PATH, then defaultGlobs.
type binSearch struct {
	path  string   // a PATH-style list
	globs []string // directories to try when PATH has none, highest version first
}

// binaries are the absolute paths of the server programs, all from one
// installation.
type binaries struct {
	dir                     string
	initdb, pgCtl, postgres string
}

// findBinaries returns the first installation that has initdb, pg_ctl and
// postgres side by side: on PATH (following symlinks, as initdb and pg_ctl
// look for postgres next to their real selves), else the highest version
// matched by the globs. It returns ErrNoBinaries when there is none.
func findBinaries(s *binSearch) (binaries, error) {
	path, globs := os.Getenv("PATH"), defaultGlobs
	if s != nil {
		path, globs = s.path, s.globs
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		initdb := filepath.Join(dir, "initdb")
		if !isExecutable(initdb) {
			continue
		}
		real, err := filepath.EvalSymlinks(initdb)
		if err != nil {
			continue
		}
		if b, ok := binariesIn(filepath.Dir(real)); ok {
			return b, nil
		}
	}
	var dirs []string
	for _, g := range globs {
		m, _ := filepath.Glob(g)
		dirs = append(dirs, m...)
	}
	sort.SliceStable(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, dir := range dirs {
		if b, ok := binariesIn(dir); ok {
			return b, nil
		}
	}
	return binaries{}, ErrNoBinaries
}

// binariesIn reports whether dir holds all three server programs.
func binariesIn(dir string) (binaries, bool) {
	b := binaries{
		dir:      dir,
		initdb:   filepath.Join(dir, "initdb"),
		pgCtl:    filepath.Join(dir, "pg_ctl"),
		postgres: filepath.Join(dir, "postgres"),
	}
	ok := isExecutable(b.initdb) && isExecutable(b.pgCtl) && isExecutable(b.postgres)
	return b, ok
}

// versionOf extracts the major version from a directory such as
// /usr/lib/postgresql/15/bin or /usr/pgsql-16/bin; 0 when there is none.
func versionOf(dir string) float64 {
	for _, part := range strings.Split(dir, string(filepath.Separator)) {
		part = strings.TrimPrefix(part, "pgsql-")
		if v, err := strconv.ParseFloat(part, 64); err == nil {
			return v
		}
	}
	return 0
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
