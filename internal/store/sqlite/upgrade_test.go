package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/storetest"
)

// beforeChangeFeed is the newest migration of the release before the
// change feed: a data directory that release left behind must open and
// behave like a new one.
const beforeChangeFeed = "0006_force_change_password.sql"

// openUpgraded builds a database as the release before the change feed
// left it, with one role assignment that release wrote, and opens it.
func openUpgraded(t *testing.T) (*Store, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tessera.db")
	old, err := sql.Open("sqlite", path+"?_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateUntil(ctx, old, beforeChangeFeed); err != nil {
		t.Fatal(err)
	}
	const id = "6e0c3a52-4c1b-4a4e-9d7a-0b3f2b1d8c11"
	if _, err := old.ExecContext(ctx, `INSERT INTO role_assignments (id, tenant_id, scope, role_definition_id, principal_id,
		principal_type, description, created_by, created_at, updated_at) VALUES (?, 't', '/subscriptions/s', 'r', 'p', 'User', '', 'admin', ?, ?)`,
		id, time.Now().UnixMicro(), time.Now().UnixMicro()); err != nil {
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
	return s, id
}

func TestUpgradeFromBeforeTheChangeFeed(t *testing.T) {
	storetest.RunUpgraded(t, func(t *testing.T) (store.Store, string) { return openUpgraded(t) })
}
