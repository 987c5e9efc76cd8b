package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/localpg"
)

// database is an open, migrated store and what must be closed after it.
type database struct {
	*store.Store
	cluster *localpg.Cluster // nil with DATABASE_URL
}

// openDatabase connects to DATABASE_URL, or starts (or joins) the embedded
// cluster under CSBOT_DATA_DIR, and migrates the schema.
func openDatabase(ctx context.Context, cfg config, log *slog.Logger, opts ...store.Option) (*database, error) {
	db := &database{}
	url := cfg.DatabaseURL
	if url == "" {
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		began := time.Now()
		db.cluster, err = localpg.Start(ctx, localpg.Options{DataDir: dir, Logger: log})
		if err != nil {
			if errors.Is(err, localpg.ErrNoBinaries) {
				return nil, fmt.Errorf("embedded database: %w", err)
			}
			return nil, fmt.Errorf("embedded database in %s: %w", dir, err)
		}
		log.Info("embedded database ready", "dir", dir, "port", db.cluster.Port(), "took", time.Since(began).Round(time.Millisecond))
		url = db.cluster.URL("")
	}
	from, to, err := store.Migrate(ctx, url)
	if err != nil {
		db.close()
		return nil, err
	}
	if from != to {
		log.Info("schema migrated", "from", from, "to", to)
	}
	db.Store, err = store.Open(ctx, url, log, opts...)
	if err != nil {
		db.close()
		return nil, err
	}
	return db, nil
}

// close closes the store and leaves the embedded cluster (stopping it when
// this was its last user).
func (db *database) close() {
	if db.Store != nil {
		db.Store.Close()
	}
	if db.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.cluster.Close(ctx)
	}
}
