package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlstore"
	"github.com/tessera-id/tessera/internal/store/storetest"
)

// TestUpgradeFromBeforeTheChangeFeed opens a data directory left by the
// release before the change feed.
func TestUpgradeFromBeforeTheChangeFeed(t *testing.T) {
	storetest.RunUpgraded(t, func(t *testing.T, seed func(store.Users) error) store.Store {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "tessera.db")
		write, err := sql.Open("sqlite", path+"?_journal_mode=WAL&_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		if err := migrateUntil(ctx, write, storetest.BeforeChangeFeed); err != nil {
			t.Fatal(err)
		}
		old, err := sqlstore.New(ctx, dialect, write, write, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := seed(old); err != nil {
			t.Fatal(err)
		}
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
