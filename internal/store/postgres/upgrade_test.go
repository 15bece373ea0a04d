package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/storedoc"
	"github.com/tessera-id/tessera/internal/store/storetest"
)

// TestUpgradeFromBeforeTheChangeFeed opens a database left by the release
// before the change feed.
func TestUpgradeFromBeforeTheChangeFeed(t *testing.T) {
	adminDSN(t)
	storetest.RunUpgraded(t, func(t *testing.T, seed *domain.User) store.Store {
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
		if u := seed; u != nil {
			if _, err := db.ExecContext(ctx, `INSERT INTO users (tenant_id, id, upn, upn_key, display_name, mail_nickname,
				account_enabled, password_hash, password_changed_at, created_at, force_change_password) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				u.TenantID, u.ID, u.UserPrincipalName, storedoc.Key(u.UserPrincipalName), u.DisplayName, u.MailNickname,
				u.AccountEnabled, u.PasswordHash, u.PasswordChangedAt, u.CreatedAt, u.ForceChangePassword); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		pool.Close()
		return openAt(t, dsn)
	})
}
