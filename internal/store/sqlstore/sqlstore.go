// Package sqlstore holds every query and row mapping of Tessera's SQL
// backends, written once over database/sql. A backend (sqlite, postgres) is
// only its connection pools, its migrations and a Dialect: how placeholders
// are written, how a time is encoded, how driver errors map onto the store's
// sentinels, and the few places where the two databases need different
// words for the same rule.
//
// Queries are written with '?' placeholders; a dialect with numbered
// placeholders rewrites them once per distinct query. Times are bound through
// the dialect (SQLite keeps UTC Unix microseconds, PostgreSQL timestamptz)
// and scanned through one Scanner that reads either, so every row mapping is
// shared.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/storedoc"
)

// Dialect is what differs between two SQL databases for the same rules.
type Dialect struct {
	// NumberedPlaceholders rewrites '?' into $1, $2, ... (PostgreSQL).
	NumberedPlaceholders bool
	// MicrosecondTimes stores times as UTC Unix microseconds in an integer
	// column (SQLite); otherwise they are bound as time.Time (timestamptz).
	MicrosecondTimes bool
	// LockRows is appended to a SELECT that reads a row the transaction is
	// about to decide on (" FOR UPDATE"). Empty where the transaction holds
	// the database's only write lock from its start (SQLite's BEGIN
	// IMMEDIATE), which orders writers already.
	LockRows string
	// GuardWrites runs each write of an InTx transaction in a savepoint: on
	// PostgreSQL any error aborts the whole transaction, and a caller that
	// sees ErrConflict from one write may well go on with the others.
	GuardWrites bool
	// PrepareStatements keeps a prepared statement per distinct query and
	// pool. Off where the driver caches statements per connection itself
	// (pgx), since database/sql would prepare again on every connection it
	// borrows from an external pool.
	PrepareStatements bool
	// NotifyChanges runs in a transaction that appended changes, to wake
	// the other processes' followers when it commits (PostgreSQL's NOTIFY).
	NotifyChanges string
	// MigrationsTable creates schema_migrations (version, applied_at) if it
	// does not exist.
	MigrationsTable string
	// MigrationLock, when set, serialises processes that migrate one
	// database at once; it returns the function that releases the lock.
	MigrationLock func(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
	// Translate maps a driver error onto the store's sentinels (ErrConflict
	// for a unique violation), keeping the driver error in the chain. It
	// matches error codes, never message text. sql.ErrNoRows is handled here.
	Translate func(error) error
}

// Store implements store.Store over a write pool and a read pool (the same
// pool where the database has no single-writer rule). The value returned by
// New is safe for concurrent use; the Store handed to an InTx callback is
// bound to that transaction and must not be shared between goroutines.
type Store struct {
	h  *handles
	tx *sql.Tx // non-nil when the Store is bound to a transaction
	// guard runs each write in its own savepoint; see Dialect.GuardWrites.
	guard bool
	// pending are the transaction's changes for the feed (see changed).
	pending *[]store.Change
}

// handles are the pools and caches shared by a Store and the transaction
// Stores derived from it.
type handles struct {
	d      Dialect
	write  *sql.DB
	read   *sql.DB
	wstmts *stmtCache
	rstmts *stmtCache
	// queries maps a '?' query to the dialect's text.
	queries sync.Map
	// onClose releases what the backend opened besides the pools.
	onClose func() error
	// signal and onCommit serve store.Feed.
	signal   chan struct{}
	onCommit atomic.Pointer[func(ctx context.Context, revision int64)]
}

var _ store.Store = (*Store)(nil)

// New builds a Store over open pools whose schema is up to date. read may be
// write itself. Close closes both pools, then calls onClose (may be nil).
func New(ctx context.Context, d Dialect, write, read *sql.DB, onClose func() error) (*Store, error) {
	h := &handles{d: d, write: write, read: read, onClose: onClose, signal: make(chan struct{}, 1)}
	if d.PrepareStatements {
		h.wstmts, h.rstmts = newStmtCache(write), newStmtCache(read)
		// Statements first run inside a transaction cannot be cached then
		// (see stmt), so the one that runs there on a hot path, the audit
		// insert of a batch, is prepared now.
		if _, err := h.wstmts.get(ctx, h.query(auditInsert)); err != nil {
			h.wstmts.close()
			return nil, err
		}
	}
	return &Store{h: h}, nil
}

// Close closes both pools. It is a no-op on a transaction-bound Store.
func (s *Store) Close() error {
	if s.tx != nil {
		return nil
	}
	errs := []error{}
	if s.h.d.PrepareStatements {
		errs = append(errs, s.h.rstmts.close(), s.h.wstmts.close())
	}
	if s.h.read != s.h.write {
		errs = append(errs, s.h.read.Close())
	}
	errs = append(errs, s.h.write.Close())
	if s.h.onClose != nil {
		errs = append(errs, s.h.onClose())
	}
	return errors.Join(errs...)
}

// Ping checks that both pools reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if s.tx != nil {
		return nil
	}
	if err := s.h.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	if err := s.h.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// InTx runs fn in one transaction on the write pool. Nested calls run fn
// inside a savepoint, so an error from an inner fn undoes only the inner
// writes if the outer fn chooses to carry on. On SQLite every other writer
// waits while fn runs, so fn should be short and must use the Tx it is given:
// a write through the outer Store would wait for the connection fn holds.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.atomic(ctx, s.h.d.GuardWrites, func(ts *Store) error { return fn(ts) })
}

// atomic runs fn, which may issue several statements, so that they take
// effect together: in a new transaction, or in a savepoint of the current one.
// guard is set for transactions whose code may carry on after a failed write
// (InTx callbacks); the package's own multi-statement writes give up at the
// first error, so they need no savepoint per statement.
func (s *Store) atomic(ctx context.Context, guard bool, fn func(ts *Store) error) error {
	if s.tx != nil {
		return s.savepoint(ctx, guard, fn)
	}
	tx, err := s.h.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	committed := false
	defer func() {
		// Also reached when fn panics: the panic goes on, the writes do not,
		// and the connection returns to the pool.
		if !committed {
			_ = tx.Rollback()
		}
	}()
	var pending []store.Change
	if err := fn(&Store{h: s.h, tx: tx, guard: guard, pending: &pending}); err != nil {
		return err
	}
	var revision int64
	if len(pending) > 0 {
		if revision, err = s.appendChanges(ctx, tx, pending); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", s.translate(err))
	}
	committed = true
	if revision > 0 {
		s.committed(ctx, revision)
	}
	return nil
}

// savepoint runs fn inside a savepoint of s's transaction. One name serves
// every level because savepoints nest as a stack and ROLLBACK TO / RELEASE
// address the innermost savepoint of that name, in both databases.
func (s *Store) savepoint(ctx context.Context, guard bool, fn func(ts *Store) error) error {
	if _, err := s.tx.ExecContext(ctx, "SAVEPOINT tessera"); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	done := false
	recorded := len(*s.pending)
	defer func() {
		if !done {
			*s.pending = (*s.pending)[:recorded]
			// ROLLBACK TO keeps the savepoint open; RELEASE pops it.
			_, _ = s.tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT tessera")
			_, _ = s.tx.ExecContext(context.WithoutCancel(ctx), "RELEASE SAVEPOINT tessera")
		}
	}()
	if err := fn(&Store{h: s.h, tx: s.tx, guard: guard, pending: s.pending}); err != nil {
		return err
	}
	if _, err := s.tx.ExecContext(ctx, "RELEASE SAVEPOINT tessera"); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	done = true
	return nil
}

// query returns q in the dialect's placeholder syntax.
func (h *handles) query(q string) string {
	if !h.d.NumberedPlaceholders {
		return q
	}
	if v, ok := h.queries.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	h.queries.Store(q, out)
	return out
}

// stmt returns a prepared statement for q (in dialect syntax): from the write
// pool for writes, from the read pool for reads, or nil when q is to run
// unprepared. Inside a transaction it reuses the pool's statement when one
// exists and otherwise runs q directly: the transaction may hold the only
// write connection, so preparing through the pool would wait for that very
// connection.
func (s *Store) stmt(ctx context.Context, q string, write bool) (*sql.Stmt, error) {
	if !s.h.d.PrepareStatements {
		return nil, nil
	}
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

// conn is what runs an unprepared statement: the transaction or a pool.
func (s *Store) conn(write bool) interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
} {
	switch {
	case s.tx != nil:
		return s.tx
	case write:
		return s.h.write
	default:
		return s.h.read
	}
}

// exec runs one write; in a guarded transaction, inside a savepoint.
func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s.guard {
		var res sql.Result
		err := s.savepoint(ctx, false, func(ts *Store) error {
			var err error
			res, err = ts.exec(ctx, q, args...)
			return err
		})
		return res, err
	}
	q = s.h.query(q)
	st, err := s.stmt(ctx, q, true)
	if err != nil {
		return nil, err
	}
	var res sql.Result
	if st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = s.conn(true).ExecContext(ctx, q, args...)
	}
	return res, s.translate(err)
}

// execOne runs a statement that must touch exactly one row, so that an update
// or delete of a missing record reports ErrNotFound.
func (s *Store) execOne(ctx context.Context, q string, args ...any) error {
	n, err := s.execCount(ctx, q, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// execCount runs a write and returns how many rows it touched.
func (s *Store) execCount(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// queryRow scans the single row of q into dest; no row is ErrNotFound.
func (s *Store) queryRow(ctx context.Context, q string, args []any, dest ...any) error {
	row, err := s.row(ctx, q, args...)
	if err != nil {
		return err
	}
	return s.translate(row.Scan(dest...))
}

// row runs a query of at most one row.
func (s *Store) row(ctx context.Context, q string, args ...any) (*sql.Row, error) {
	q = s.h.query(q)
	st, err := s.stmt(ctx, q, false)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.QueryRowContext(ctx, args...), nil
	}
	return s.conn(false).QueryRowContext(ctx, q, args...), nil
}

// queryAll calls scan for each row of q.
func (s *Store) queryAll(ctx context.Context, q string, args []any, scan func(*sql.Rows) error) error {
	return s.query(ctx, q, false, args, scan)
}

// queryWrite calls scan for each row of a statement that writes
// (... RETURNING): it runs on the write pool and, in a guarded transaction,
// in a savepoint, as exec does.
func (s *Store) queryWrite(ctx context.Context, q string, args []any, scan func(*sql.Rows) error) error {
	if s.guard {
		return s.savepoint(ctx, false, func(ts *Store) error { return ts.queryWrite(ctx, q, args, scan) })
	}
	return s.query(ctx, q, true, args, scan)
}

func (s *Store) query(ctx context.Context, q string, write bool, args []any, scan func(*sql.Rows) error) error {
	q = s.h.query(q)
	st, err := s.stmt(ctx, q, write)
	if err != nil {
		return err
	}
	var rows *sql.Rows
	if st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = s.conn(write).QueryContext(ctx, q, args...)
	}
	if err != nil {
		return s.translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.translate(err)
	}
	return s.translate(rows.Close())
}

// lockRows is the dialect's row-locking suffix for a SELECT inside a write.
func (s *Store) lockRows() string { return s.h.d.LockRows }

func (s *Store) translate(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return noRows(err)
	}
	return s.h.d.Translate(err)
}

// noRows maps a missing row onto ErrNotFound, the one error a row mapping
// tells its caller about by kind.
func noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// t binds a time: NULL for the zero time (year 1 has no Unix microsecond
// value that round-trips), else UTC at microsecond resolution, the
// resolution both databases keep.
func (s *Store) t(v time.Time) any {
	if v.IsZero() {
		return nil
	}
	if s.h.d.MicrosecondTimes {
		return v.UnixMicro()
	}
	return storedoc.Utc(v)
}

// dbTime scans a time column of either encoding; NULL is the zero time.
type dbTime struct{ T time.Time }

func (d *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		d.T = time.Time{}
	case int64:
		d.T = time.UnixMicro(x).UTC()
	case time.Time:
		d.T = x.UTC()
	default:
		return fmt.Errorf("scan time: unexpected %T", v)
	}
	return nil
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
