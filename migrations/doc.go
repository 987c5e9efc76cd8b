// Package migrations embeds csbot's PostgreSQL schema as numbered SQL files,
// applied in order by jackc/tern (see store.Migrate). Each file is one
// migration run in its own transaction; never edit a released file, add a
// new one.
package migrations

import "embed"

// FS holds the migration files, named NNN_name.sql.
//
//go:embed *.sql
var FS embed.FS
