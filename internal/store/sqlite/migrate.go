package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"
)

// Migrations are applied in file-name order (hence the zero-padded numbers)
// and each is recorded by file name once applied. A file, once released, is
// never edited: changes go into a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies the migrations db has not seen yet. Each runs in its own
// immediate transaction (the write pool's _txlock), which also serialises two
// processes opening the same file at once: the second re-reads the applied
// set under the lock and skips what the first did.
func migrate(ctx context.Context, db *sql.DB) error { return migrateUntil(ctx, db, "") }

// migrateUntil applies the migrations up to and including the file named
// last ("" for all): the upgrade tests build a database as an earlier
// release left it.
func migrateUntil(ctx context.Context, db *sql.DB, last string) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT    NOT NULL PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("read embedded migrations: %w", err)
	}
	for _, e := range entries { // ReadDir sorts by name
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		if err := applyMigration(ctx, db, e.Name()); err != nil {
			return err
		}
		if e.Name() == last {
			return nil
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, name string) error {
	body, err := migrationFiles.ReadFile(path.Join("migrations", name))
	if err != nil {
		return fmt.Errorf("read migration %s: %w", name, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", name, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		name, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("migration %s: record: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", name, err)
	}
	return nil
}
