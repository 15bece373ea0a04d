// Package postgres is the replicated storage backend: PostgreSQL through a
// pgx connection pool, for deployments that run several Tessera replicas.
//
// Lookup keys live in indexed columns; the aggregates with nested data
// (tenants, applications, service principals) keep the rest of the record as
// a jsonb document. Times are timestamptz, returned in UTC. pgx caches a
// prepared statement per query and connection, so the hot reads skip parsing
// and planning without any bookkeeping here.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"github.com/tessera-id/tessera/internal/store/storedoc"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera-id/tessera/internal/store"
)

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Store is the PostgreSQL backend; its methods implement store.Store and
// follow the contracts documented there. The value returned by Open is safe
// for concurrent use; the Store handed to an InTx callback is bound to that
// transaction and must not be shared between goroutines.
type Store struct {
	pool *pgxpool.Pool
	q    querier // the pool, or tx
	tx   pgx.Tx  // non-nil when the Store is bound to a transaction
	// guard runs each write of a transaction in its own savepoint; see exec.
	guard bool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string; pool_max_conns and the other pgxpool parameters apply)
// and brings its schema up to date. Behind a transaction-mode connection
// pooler such as PgBouncer, add default_query_exec_mode=exec to the dsn:
// pgx's cached prepared statements need a session of their own.
func Open(ctx context.Context, dsn string) (*Store, error) {
	// Errors below never quote dsn: it may carry a password.
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: parse dsn: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	return &Store{pool: pool, q: pool}, nil
}

// Close closes the pool. It is a no-op on a transaction-bound Store.
func (s *Store) Close() error {
	if s.tx == nil {
		s.pool.Close()
	}
	return nil
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.tx != nil {
		return nil
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres store: %w", err)
	}
	return nil
}

// InTx runs fn in one transaction (READ COMMITTED, PostgreSQL's default).
// Nested calls run fn inside a savepoint, so an error from an inner fn undoes
// only the inner writes if the outer fn chooses to carry on.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.atomic(ctx, true, func(ts *Store) error { return fn(ts) })
}

// atomic runs fn, which may issue several statements, so that they take
// effect together: in a new transaction, or in a savepoint of the current one.
// guard is set for transactions whose code may carry on after a failed write
// (InTx callbacks); the package's own multi-statement writes give up at the
// first error, so they need no savepoint per statement.
func (s *Store) atomic(ctx context.Context, guard bool, fn func(ts *Store) error) error {
	var (
		tx  pgx.Tx
		err error
	)
	if s.tx != nil {
		tx, err = s.tx.Begin(ctx) // a savepoint
	} else {
		tx, err = s.pool.Begin(ctx)
	}
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	committed := false
	defer func() {
		// Also reached when fn panics: the panic goes on, the writes do not.
		if !committed {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(&Store{pool: s.pool, q: tx, tx: tx, guard: guard}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit transaction: %w", translate(err))
	}
	committed = true
	return nil
}

// exec runs one write. In an InTx transaction it runs in a savepoint: any
// error aborts a PostgreSQL transaction as a whole, and a caller that sees
// ErrConflict from one write may well go on with the others.
func (s *Store) exec(ctx context.Context, q string, args ...any) (pgconn.CommandTag, error) {
	if !s.guard {
		tag, err := s.q.Exec(ctx, q, args...)
		return tag, translate(err)
	}
	var tag pgconn.CommandTag
	err := s.atomic(ctx, false, func(ts *Store) error {
		var err error
		tag, err = ts.tx.Exec(ctx, q, args...)
		return translate(err)
	})
	return tag, err
}

// execOne runs a statement that must touch exactly one row, so that an update
// or delete of a missing record reports ErrNotFound.
func (s *Store) execOne(ctx context.Context, q string, args ...any) error {
	tag, err := s.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// queryRow scans the single row of q into dest; no row is ErrNotFound.
func (s *Store) queryRow(ctx context.Context, q string, args []any, dest ...any) error {
	return translate(s.q.QueryRow(ctx, q, args...).Scan(dest...))
}

// queryAll calls scan for each row of q.
func (s *Store) queryAll(ctx context.Context, q string, args []any, scan func(pgx.Rows) error) error {
	rows, err := s.q.Query(ctx, q, args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// uniqueViolation is SQLSTATE unique_violation.
const uniqueViolation = "23505"

// translate maps driver errors onto the store sentinels, keeping the driver
// error in the chain for logs. It matches SQLSTATE codes, never message text.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == uniqueViolation {
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// Times go in as UTC microseconds (utc) and NULL for the zero time, and come
// back in UTC: pgx would otherwise return them in the process's local zone.

func pgTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := storedoc.Utc(t)
	return &u
}

func fromPgTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
