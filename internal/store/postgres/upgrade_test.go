package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlstore"
	"github.com/tessera-id/tessera/internal/store/storetest"
)

// TestUpgradeFromBeforeTheChangeFeed opens a database left by the release
// before the change feed.
func TestUpgradeFromBeforeTheChangeFeed(t *testing.T) {
	adminDSN(t)
	storetest.RunUpgraded(t, func(t *testing.T, seed func(store.Users) error) store.Store {
		ctx := context.Background()
		dsn := freshDatabase(t)
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		db := stdlib.OpenDBFromPool(pool)
		if err := migrateUntil(ctx, db, storetest.BeforeChangeFeed); err != nil {
			t.Fatal(err)
		}
		old, err := sqlstore.New(ctx, dialect, db, db, func() error { pool.Close(); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if err := seed(old); err != nil {
			t.Fatal(err)
		}
		old.Close()
		return openAt(t, dsn)
	})
}
