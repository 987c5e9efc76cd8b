// Package localpg runs a local PostgreSQL cluster from the machine's own
// server binaries (initdb, pg_ctl, postgres), found on PATH or under
// /usr/lib/postgresql/<version>/bin.
//
// It serves two callers with the same code:
//
//   - the csbot binary, as its embedded default database when DATABASE_URL
//     is unset (shared mode: the cluster lives under a data directory and
//     outlives any one process);
//   - package pgtest, as one throwaway cluster per test binary (ephemeral
//     mode: a temporary directory, durability switched off, the server a
//     child process that dies with its parent).
//
// The server listens only on 127.0.0.1, on a free port chosen at every
// start, with no unix socket. Clients authenticate with scram-sha-256 as the
// superuser postgres, whose random password is kept in a 0600 file in the
// data directory.
//
// PostgreSQL refuses to run as root. When the caller is root, initdb,
// pg_ctl and postgres run as the unprivileged user postgres (or nobody when
// it does not exist), and the data directory must be reachable by that user.
//
// # Shared mode
//
// Several processes may use the same data directory at once (the bot and a
// csbot import, say). They coordinate with flock(2) on two lock files: an
// exclusive start.lock around check-and-start and around stop, and a shared
// users.lock that each user holds while it uses the cluster. On Close, the
// user that can take users.lock exclusively is the last one and stops the
// server; the others leave it running. A process killed with SIGKILL leaves
// the server running, and the next Start reuses it.
//
// # Layout of the data directory
//
//	pg/              the cluster (PGDATA), owned by the server user, 0700
//	postgresql.log   the server log (shared mode; ephemeral: in the temp dir)
//	password         the superuser password, 0600
//	start.lock       held exclusively while starting or stopping the server
//	users.lock       held shared by every process using the server
//	owner            ephemeral only: the pid owning a csbot-pgtest-* dir
package localpg
