package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/tessera-id/tessera/internal/store"
)

// RunUpgraded checks a backend on a database that an earlier release left
// behind. openOld must build such a database holding one role assignment
// (whose id it returns) written as that release wrote it, and open it with
// today's backend, which migrates it. The assignment must read back, the
// change feed must start at revision 0, and the conformance suite must pass.
func RunUpgraded(t *testing.T, openOld func(t *testing.T) (store.Store, string)) {
	t.Run("KeepsData", func(t *testing.T) {
		s, id := openOld(t)
		ctx := context.Background()
		if _, err := s.GetRoleAssignment(ctx, id); err != nil {
			t.Fatalf("assignment written before the upgrade: %v", err)
		}
		if rev, err := s.Revision(ctx); err != nil || rev != 0 {
			t.Fatalf("feed revision after the upgrade: %d, %v", rev, err)
		}
		if err := s.DeleteRoleAssignment(ctx, id); err != nil {
			t.Fatal(err)
		}
		if cs, err := s.ChangesAfter(ctx, 0, 0); err != nil || len(cs) != 1 || cs[0].Revision != 1 {
			t.Fatalf("feed after the first write: %+v, %v", cs, err)
		}
		if _, err := s.GetRoleAssignment(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
	})
	t.Run("Conformance", func(t *testing.T) {
		Run(t, func(t *testing.T) store.Store {
			s, id := openOld(t)
			// The suite starts from an empty store.
			if err := s.DeleteRoleAssignment(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}
