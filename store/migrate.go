package store

import (
	"context"
	"fmt"

	"github.com/csbot/csbot/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

// versionTable is where tern records the schema version.
const versionTable = "public.schema_version"

// Migrate brings the database at url to the newest schema. It is safe to
// call from several processes at once: tern serialises them on a PostgreSQL
// advisory lock, and each migration runs in its own transaction. It returns
// the schema version before and after.
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
	return from, to, nil
}

// SchemaVersion is the number of migrations this build knows.
func SchemaVersion() (int32, error) {
	names, err := migrate.FindMigrations(migrations.FS)
	if err != nil {
		return 0, fmt.Errorf("find migrations: %w", err)
	}
	return int32(len(names)), nil
}
