// Package sqlite is the single-node storage backend: one database file driven
// by modernc.org/sqlite (pure Go, no cgo).
//
// The file runs in WAL mode so that readers never wait for the writer. All
// writes go through a pool of exactly one connection: SQLite admits one writer
// at a time anyway, and queueing writers in Go instead of inside SQLite means a
// goroutine waits for its turn rather than failing with SQLITE_BUSY. Reads use
// a separate pool of read-only connections. synchronous=NORMAL in WAL mode
// makes a commit durable against a crash of the process (kill -9) as soon as
// it returns; only an operating-system crash or power loss can lose the last
// few commits, and never corrupts the file.
//
// Lookup keys live in indexed columns; the aggregates with nested data
// (tenants, applications, service principals) keep the rest of the record as a
// JSON document. Times are stored as UTC Unix microseconds, PostgreSQL's
// resolution, so both backends return identical values.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tessera-id/tessera/internal/store"
)

// busyTimeout bounds how long a connection waits on a lock held by another
// process (a second Tessera, the sqlite3 shell, a backup tool). Inside one
// process writers queue on the single write connection instead.
const busyTimeout = 10 * time.Second

// Store is the SQLite backend; its methods implement store.Store and follow
// the contracts documented there. The value returned by Open is safe for
// concurrent use; the Store handed to an InTx callback is bound to that
// transaction and must not be shared between goroutines.
type Store struct {
	h  *handles
	tx *sql.Tx // non-nil when the Store is bound to a transaction
}

// handles are the connection pools shared by a Store and the transaction
// Stores derived from it.
type handles struct {
	write  *sql.DB
	read   *sql.DB
	wstmts *stmtCache
	rstmts *stmtCache
	// checkpoint copies the WAL into the database file off the commit path.
	checkpoint *checkpointer
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
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
	write, err := sql.Open("sqlite", path+"?"+params+"&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"+
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
	if err := migrate(ctx, write); err != nil {
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
	h := &handles{
		write:      write,
		read:       read,
		wstmts:     newStmtCache(write),
		rstmts:     newStmtCache(read),
		checkpoint: cp,
	}
	// Statements first run inside a transaction cannot be cached then (see
	// stmt), so the one that runs there on a hot path, the audit insert of
	// a batch, is prepared now.
	if _, err := h.wstmts.get(ctx, auditInsert); err != nil {
		h.wstmts.close()
		cp.close()
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	return &Store{h: h}, nil
}

// Close closes both pools. It is a no-op on a transaction-bound Store.
func (s *Store) Close() error {
	if s.tx != nil {
		return nil
	}
	return errors.Join(s.h.checkpoint.close(), s.h.rstmts.close(), s.h.wstmts.close(), s.h.read.Close(), s.h.write.Close())
}

// Ping checks that both pools can reach the file.
func (s *Store) Ping(ctx context.Context) error {
	if s.tx != nil {
		return nil
	}
	if err := s.h.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite store: %w", err)
	}
	if err := s.h.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite store: %w", err)
	}
	return nil
}

// InTx runs fn in one transaction on the write connection. While it runs,
// every other writer of this Store waits, so fn should be short and must use
// the Store it is given: a write through the outer Store would wait for the
// connection fn holds until ctx ends.
//
// Nested calls run fn inside a savepoint, so an error from an inner fn undoes
// only the inner writes if the outer fn chooses to carry on.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.atomic(ctx, func(ts *Store) error { return fn(ts) })
}

// atomic runs fn, which may issue several statements, so that they take
// effect together: in a new transaction, or in a savepoint of the current one.
func (s *Store) atomic(ctx context.Context, fn func(ts *Store) error) error {
	if s.tx != nil {
		return s.savepoint(ctx, fn)
	}
	tx, err := s.h.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	committed := false
	defer func() {
		// Also reached when fn panics: the panic goes on, the writes do not,
		// and the write connection returns to the pool.
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if err := fn(&Store{h: s.h, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", translate(err))
	}
	committed = true
	return nil
}

// savepoint runs fn inside a savepoint of s's transaction. One name serves
// every level because savepoints nest as a stack and ROLLBACK TO / RELEASE
// address the innermost savepoint of that name.
func (s *Store) savepoint(ctx context.Context, fn func(ts *Store) error) (err error) {
	if _, err := s.tx.ExecContext(ctx, "SAVEPOINT tessera"); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	done := false
	defer func() {
		if !done {
			// ROLLBACK TO keeps the savepoint open; RELEASE pops it.
			_, _ = s.tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO tessera")
			_, _ = s.tx.ExecContext(context.WithoutCancel(ctx), "RELEASE tessera")
		}
	}()
	if err := fn(s); err != nil {
		return err
	}
	if _, err := s.tx.ExecContext(ctx, "RELEASE tessera"); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	done = true
	return nil
}

// stmt returns a prepared statement for q: from the write pool for writes,
// from the read pool for reads. Inside a transaction it returns nil: the
// transaction holds the only write connection, so preparing through the pool
// would wait for that very connection. Callers then use the transaction
// directly (see exec, queryRow, queryAll), reusing the pool's statement when
// the connection has already prepared it.
func (s *Store) stmt(ctx context.Context, q string, write bool) (*sql.Stmt, error) {
	if s.tx != nil {
		if st := s.h.wstmts.lookup(q); st != nil {
			return s.tx.StmtContext(ctx, st), nil
		}
		return nil, nil
	}
	if write {
		return s.h.wstmts.get(ctx, q)
	}
	return s.h.rstmts.get(ctx, q)
}

func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, q, true)
	if err != nil {
		return nil, err
	}
	var res sql.Result
	if st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = s.tx.ExecContext(ctx, q, args...)
	}
	return res, translate(err)
}

// execOne runs a statement that must touch exactly one row, so that an update
// or delete of a missing record reports ErrNotFound.
func (s *Store) execOne(ctx context.Context, q string, args ...any) error {
	res, err := s.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// queryRow scans the single row of q into dest; no row is ErrNotFound.
func (s *Store) queryRow(ctx context.Context, q string, args []any, dest ...any) error {
	row, err := s.row(ctx, q, args...)
	if err != nil {
		return err
	}
	return translate(row.Scan(dest...))
}

func (s *Store) row(ctx context.Context, q string, args ...any) (*sql.Row, error) {
	st, err := s.stmt(ctx, q, false)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return s.tx.QueryRowContext(ctx, q, args...), nil
	}
	return st.QueryRowContext(ctx, args...), nil
}

// queryAll calls scan for each row of q.
func (s *Store) queryAll(ctx context.Context, q string, args []any, scan func(*sql.Rows) error) error {
	st, err := s.stmt(ctx, q, false)
	if err != nil {
		return err
	}
	var rows *sql.Rows
	if st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = s.tx.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// translate maps driver errors onto the store sentinels, keeping the driver
// error in the chain for logs. It matches result codes, never message text.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
	}
	return err
}

// stmtCache prepares each distinct query once per pool. database/sql then
// keeps it prepared on every connection that ran it, which skips SQLite's
// parse and plan on the hot read paths.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: make(map[string]*sql.Stmt)}
}

// lookup returns the statement for q if it was prepared already.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[q]
}

func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	if st := c.lookup(q); st != nil {
		return st, nil
	}
	// Prepare without holding the lock: on the write pool, preparing waits
	// for the connection, which a transaction may hold while it looks up
	// statements in this cache.
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", q, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[q]; ok {
		st.Close() // another goroutine won the race
		return prev, nil
	}
	c.m[q] = st
	return st, nil
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// Times are kept as UTC Unix microseconds; the zero time is NULL, because
// year 1 has no Unix microsecond value that round-trips.

func toMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}
