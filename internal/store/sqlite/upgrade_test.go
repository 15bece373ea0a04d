package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/storedoc"
	"github.com/tessera-id/tessera/internal/store/storetest"
)

// TestUpgradeFromBeforeTheChangeFeed opens a data directory left by the
// release before the change feed.
func TestUpgradeFromBeforeTheChangeFeed(t *testing.T) {
	storetest.RunUpgraded(t, func(t *testing.T, seed *domain.User) store.Store {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "tessera.db")
		write, err := sql.Open("sqlite", path+"?_journal_mode=WAL&_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		if err := migrateUntil(ctx, write, storetest.BeforeChangeFeed); err != nil {
			t.Fatal(err)
		}
		if u := seed; u != nil {
			if _, err := write.ExecContext(ctx, `INSERT INTO users (tenant_id, id, upn, upn_key, display_name, mail_nickname,
				account_enabled, password_hash, password_changed_at, created_at, force_change_password) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				u.TenantID, u.ID, u.UserPrincipalName, storedoc.Key(u.UserPrincipalName), u.DisplayName, u.MailNickname,
				u.AccountEnabled, u.PasswordHash, u.PasswordChangedAt.UnixMicro(), u.CreatedAt.UnixMicro(), u.ForceChangePassword); err != nil {
				t.Fatal(err)
			}
		}
		if err := write.Close(); err != nil {
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
