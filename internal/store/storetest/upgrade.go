package storetest

import (
	"context"
	"testing"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// BeforeChangeFeed is the newest migration (in both backends) of the
// release before the change feed: what that release left behind must open
// and behave like a new store.
const BeforeChangeFeed = "0006_force_change_password.sql"

// RunUpgraded checks a backend on a database that an earlier release left
// behind. open must build such a database (migrated up to
// BeforeChangeFeed), write seed into it (when not nil) with SQL of that
// schema, as that release wrote it — today's store writes columns the old
// schema lacks — and return it opened by today's backend, which migrates
// it. What was seeded must read back, the change feed must start at
// revision 0, and the conformance suite must pass.
func RunUpgraded(t *testing.T, open func(t *testing.T, seed *domain.User) store.Store) {
	t.Run("KeepsData", func(t *testing.T) {
		ctx := context.Background()
		u := fullUser(newID())
		// That release had no profile fields.
		u.GivenName, u.Surname, u.Mail = "", "", ""
		s := open(t, &u)
		got, err := s.GetUser(ctx, u.TenantID, u.ID)
		if err != nil {
			t.Fatalf("user written before the upgrade: %v", err)
		}
		equal(t, u, got)
		if rev, err := s.Revision(ctx); err != nil || rev != 0 {
			t.Fatalf("feed revision after the upgrade: %d, %v", rev, err)
		}
		tn := fullTenant()
		if err := s.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		expectChanges(t, "feed after the first write", changesAfter(t, s, 0), store.Change{Kind: store.ChangeTenant, Key: tn.ID})
	})
	t.Run("Conformance", func(t *testing.T) {
		Run(t, func(t *testing.T) store.Store {
			return open(t, nil)
		})
	})
}
