// Package sqlite is the single-node storage backend: one database file driven
// by modernc.org/sqlite (pure Go, no cgo).
//
// The file runs in WAL mode so that readers never wait for the writer. All
// writes go through a pool of exactly one connection: SQLite admits one writer
// at a time anyway, and queueing writers in Go instead of inside SQLite means a
// goroutine waits for its turn rather than failing with SQLITE_BUSY. Reads use
// a separate pool of read-only connections. By default every commit is
// synced to disk before it returns (synchronous=FULL), so an acknowledged
// write survives power loss; see Options for the cheaper choice.
//
// Lookup keys live in indexed columns; the aggregates with nested data
// (tenants, applications, service principals) keep the rest of the record as a
// JSON document. Times are stored as UTC Unix microseconds, PostgreSQL's
// resolution, so both backends return identical values.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlstore"
)

// busyTimeout bounds how long a connection waits on a lock held by another
// process (a second Tessera, the sqlite3 shell, a backup tool). Inside one
// process writers queue on the single write connection instead.
const busyTimeout = 10 * time.Second

// Store is the SQLite backend: the shared SQL store over this file's pools.
type Store = sqlstore.Store

// dialect is SQLite's: '?' placeholders, times as UTC Unix microseconds,
// no row locks (a transaction holds the only write lock from BEGIN
// IMMEDIATE on), statements prepared once per pool.
var dialect = sqlstore.Dialect{
	MicrosecondTimes:  true,
	PrepareStatements: true,
	// Two processes opening one file migrate one after the other: the
	// write connection's transactions take the write lock at BEGIN.
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT    NOT NULL PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`,
	Translate: translate,
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateUntil brings the schema up to the migration file named last ("" for
// all).
func migrateUntil(ctx context.Context, write *sql.DB, last string) error {
	return sqlstore.Migrate(ctx, write, dialect, migrationFiles, last)
}

// Options tune the SQLite store.
type Options struct {
	// Synchronous is "full" (the default) or "normal". In WAL mode FULL
	// syncs the log on every commit, so an acknowledged write survives an
	// operating-system crash or power loss; NORMAL syncs only at
	// checkpoints, which survives a crash of the process (kill -9) but may
	// lose the last commits to a power loss, and never corrupts the file.
	Synchronous string
}

// Open opens (creating if needed) the database file at path and brings its
// schema up to date, with the default options.
func Open(ctx context.Context, path string) (*Store, error) { return OpenWith(ctx, path, Options{}) }

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opts Options) (*Store, error) {
	synchronous := "FULL"
	switch opts.Synchronous {
	case "", "full":
	case "normal":
		synchronous = "NORMAL"
	default:
		return nil, fmt.Errorf("open sqlite store: synchronous %q must be \"full\" or \"normal\"", opts.Synchronous)
	}
	// Every connection must reach the same file: ":memory:" would give each
	// pooled connection a private database, and a '?' would be taken for the
	// start of the driver's parameters.
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open sqlite store: %q is not a plain file path", path)
	}
	// The file holds private signing keys and password hashes, so a new one
	// is made readable by its owner only. SQLite creates the -wal and -shm
	// files with the mode of the database file.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	params := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1", busyTimeout.Milliseconds())

	// _txlock=immediate takes the write lock at BEGIN: a deferred transaction
	// that reads first and writes later could otherwise fail with SQLITE_BUSY
	// when upgrading its lock, which busy_timeout cannot retry.
	write, err := sql.Open("sqlite", path+"?"+params+"&_journal_mode=WAL&_synchronous="+synchronous+"&_txlock=immediate"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", autoCheckpointPages))
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)

	// The write connection switches the file to WAL before any reader opens
	// it, and the migrations create the tables the readers will query.
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	if err := migrateUntil(ctx, write, ""); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}

	read, err := sql.Open("sqlite", path+"?"+params+"&_query_only=1")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	// Readers run in parallel in WAL mode; beyond the number of CPUs more
	// connections only add memory (each has its own page cache).
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	// Idle connections are kept forever so that their prepared statements
	// stay prepared.
	read.SetConnMaxIdleTime(0)
	read.SetConnMaxLifetime(0)
	if err := read.PingContext(ctx); err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}

	cp, err := startCheckpointer(path, params)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	st, err := sqlstore.New(ctx, dialect, write, read, cp.close)
	if err != nil {
		cp.close()
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	return st, nil
}

// translate maps driver errors onto the store sentinels, keeping the driver
// error in the chain for logs. It matches result codes, never message text.
func translate(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
	}
	return err
}
