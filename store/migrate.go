package store

import (
	"context"
	"fmt"

	"github.com/csbot/csbot/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// versionTable is where tern records the schema version.
const versionTable = "public.schema_version"

// migrateLockKey is the advisory lock that serialises csbot's and River's
// migrations across processes ("csbot-mi" in ASCII).
const migrateLockKey int64 = 0x637362_6f742d6d69

// Migrate brings the database at url to the newest schema: csbot's own
// migrations (embedded SQL files applied with tern), then River's, the
// delivery queue's tables, with River's own migrator (rivermigrate). It is
// safe to call from several processes at once: both run under one
// PostgreSQL session advisory lock, and each migration in its own
// transaction. It returns csbot's schema version before and after.
func Migrate(ctx context.Context, url string) (from, to int32, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return 0, 0, errMalformedURL // pgx's error may quote the password
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return 0, 0, fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey) //nolint:errcheck // closing the connection unlocks too
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return 0, 0, fmt.Errorf("migrate: load migrations: %w", err)
	}
	from, err = m.GetCurrentVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: current version: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return from, 0, fmt.Errorf("migrate: %w", err)
	}
	to, err = m.GetCurrentVersion(ctx)
	if err != nil {
		return from, 0, fmt.Errorf("migrate: current version: %w", err)
	}
	if err := migrateRiver(ctx, conn); err != nil {
		return from, to, err
	}
	return from, to, nil
}

// migrateRiver applies River's migrations on conn, each in its own
// transaction (some add an enum value that the next one uses).
func migrateRiver(ctx context.Context, conn *pgx.Conn) error {
	rm, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	for {
		applied := 0
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			res, err := rm.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1})
			if err == nil {
				applied = len(res.Versions)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate river: %w", err)
		}
		if applied == 0 {
			return nil
		}
	}
}

// SchemaVersion is the number of migrations this build knows.
func SchemaVersion() (int32, error) {
	names, err := migrate.FindMigrations(migrations.FS)
	if err != nil {
		return 0, fmt.Errorf("find migrations: %w", err)
	}
	return int32(len(names)), nil
}
