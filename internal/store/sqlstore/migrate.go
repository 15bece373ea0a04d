package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"
)

// Migrate applies a backend's embedded schema files, migrations/*.sql in
// files, that db's database has not recorded in schema_migrations, up to
// and including the file named last ("" for all: the upgrade tests build a
// database as an earlier release left it). Files apply in name order (hence
// the zero-padded numbers); a file, once released, is never edited: changes
// go into a new file.
//
// The migrations run on one connection of db, with d.MigrationLock held
// where the dialect has one. Each runs in its own transaction and re-reads
// whether it was applied inside it, so of two processes migrating at once
// the second skips what the first did.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, files fs.FS, last string) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if d.MigrationLock != nil {
		unlock, err := d.MigrationLock(ctx, conn)
		if err != nil {
			return fmt.Errorf("migrate: take lock: %w", err)
		}
		defer unlock()
	}
	if _, err := conn.ExecContext(ctx, d.MigrationsTable); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	entries, err := fs.ReadDir(files, "migrations")
	if err != nil {
		return fmt.Errorf("read embedded migrations: %w", err)
	}
	h := &handles{d: d}
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		if err := applyMigration(ctx, conn, h, files, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if name == last {
			return nil
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *sql.Conn, h *handles, files fs.FS, name string) error {
	body, err := fs.ReadFile(files, path.Join("migrations", name))
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var n int
	if err := tx.QueryRowContext(ctx, h.query(`SELECT count(*) FROM schema_migrations WHERE version = ?`), name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// Without arguments both drivers run the file as one script of several
	// statements.
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	ts := &Store{h: h}
	if _, err := tx.ExecContext(ctx, h.query(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`),
		name, ts.t(time.Now())); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
