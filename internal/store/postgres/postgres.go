// Package postgres is the replicated storage backend: PostgreSQL through a
// pgx connection pool, for deployments that run several Tessera replicas.
// Its queries are the shared ones of sqlstore; this package opens the pool,
// migrates the schema and says how PostgreSQL differs from SQLite.
//
// Lookup keys live in indexed columns; the aggregates with nested data
// (tenants, applications, service principals) keep the rest of the record as
// a jsonb document. Times are timestamptz, returned in UTC. pgx caches a
// prepared statement per query and connection, so the hot reads skip parsing
// and planning without any bookkeeping here.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlstore"
)

// Store is the PostgreSQL backend: the shared SQL store over a pgx pool.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
}

// changesChannel is the NOTIFY channel of the change feed.
const changesChannel = "tessera_changes"

var _ store.Store = (*Store)(nil)

// dialect is PostgreSQL's. Transactions run at READ COMMITTED, the server's
// default: conditional updates re-evaluate their WHERE on the newest row
// version after waiting for a concurrent writer, and a read that decides a
// write locks its row first (FOR UPDATE), so of concurrent redemptions of
// one code or rotations of one refresh token exactly one wins.
var dialect = sqlstore.Dialect{
	NumberedPlaceholders: true,
	LockRows:             " FOR UPDATE",
	GuardWrites:          true,
	NotifyChanges:        "NOTIFY " + changesChannel,
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text        NOT NULL PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`,
	MigrationLock: advisoryLock,
	Translate:     translate,
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateUntil brings the schema up to the migration file named last ("" for
// all).
func migrateUntil(ctx context.Context, db *sql.DB, last string) error {
	return sqlstore.Migrate(ctx, db, dialect, migrationFiles, last)
}

// migrationLock is the advisory lock key that serialises migrations when
// several replicas start at once ("tessera" in ASCII, plus 1). Any fixed
// value works as long as nothing else in the database uses it.
const migrationLock int64 = 0x74657373657261_01

// advisoryLock holds the migration lock for conn's session, so a second
// replica waits and then finds everything applied.
func advisoryLock(ctx context.Context, conn *sql.Conn) (func(), error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return nil, err
	}
	return func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock); err != nil {
			// A pooled connection must not keep the lock, or every later
			// Open waits forever: dropping the session releases it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string; pool_max_conns and the other pgxpool parameters apply)
// and brings its schema up to date. Behind a transaction-mode connection
// pooler such as PgBouncer, add default_query_exec_mode=exec to the dsn:
// pgx's cached prepared statements need a session of their own.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenWith(ctx, dsn, Options{})
}

// Options tune the PostgreSQL store.
type Options struct {
	// Logger receives the store's own reports (a lost notification
	// connection); nil discards them.
	Logger *slog.Logger
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
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
	// database/sql borrows connections from the pgx pool, which keeps
	// owning them (and their statement caches).
	db := stdlib.OpenDBFromPool(pool)
	if err := migrateUntil(ctx, db, ""); err != nil {
		db.Close()
		pool.Close()
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	listenCtx, stopListening := context.WithCancel(context.Background())
	listening := make(chan struct{})
	st, err := sqlstore.New(ctx, dialect, db, db, func() error {
		stopListening()
		<-listening
		pool.Close()
		return nil
	})
	if err != nil {
		stopListening()
		db.Close()
		pool.Close()
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	go func() {
		defer close(listening)
		listen(listenCtx, pool, st, log)
	}()
	return &Store{Store: st, pool: pool}, nil
}

// listen wakes st's change follower on every NOTIFY of another replica's
// commit, on a connection of its own, until ctx ends. After a lost
// connection it reconnects and wakes the follower once, for whatever was
// announced meanwhile; the follower's poll covers the gap in between.
func listen(ctx context.Context, pool *pgxpool.Pool, st *sqlstore.Store, log *slog.Logger) {
	for ctx.Err() == nil {
		err := listenOnce(ctx, pool, st)
		if ctx.Err() != nil {
			return
		}
		log.Warn("change feed notifications interrupted; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func listenOnce(ctx context.Context, pool *pgxpool.Pool, st *sqlstore.Store) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection is in LISTEN mode: it must not go back to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return err
	}
	st.Wake()
	for {
		if _, err := pc.WaitForNotification(ctx); err != nil {
			return err
		}
		st.Wake()
	}
}

// uniqueViolation is SQLSTATE unique_violation.
const uniqueViolation = "23505"

// translate maps driver errors onto the store sentinels, keeping the driver
// error in the chain for logs. It matches SQLSTATE codes, never message text.
func translate(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == uniqueViolation {
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}
