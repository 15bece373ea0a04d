package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// changesAfter reads the whole feed after rev.
func changesAfter(t *testing.T, s store.Store, rev int64) []store.Change {
	t.Helper()
	cs, err := s.ChangesAfter(context.Background(), rev, 0)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func expectChanges(t *testing.T, what string, got []store.Change, want ...store.Change) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d changes %+v, want %d %+v", what, len(got), got, len(want), want)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.Kind || !strings.EqualFold(g.Key, w.Key) || (w.TenantID != "" && g.TenantID != w.TenantID) {
			t.Fatalf("%s: change %d is %+v, want %+v", what, i, g, w)
		}
		if i > 0 && g.Revision != got[i-1].Revision+1 {
			t.Fatalf("%s: revisions not consecutive: %+v", what, got)
		}
		if g.Time.IsZero() || g.Time.Location() != time.UTC {
			t.Fatalf("%s: change time %v, want a UTC time", what, g.Time)
		}
	}
}

func testChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	start, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := changesAfter(t, s, start); len(got) != 0 {
		t.Fatalf("feed after the head revision: %+v", got)
	}

	t.Run("EveryWriteOfAViewedObjectAppends", func(t *testing.T) {
		before, _ := s.Revision(ctx)
		tn := fullTenant()
		a := fullApplication(tn.ID)
		sp := fullServicePrincipal(tn.ID, a.AppID)
		ra := fullRoleAssignment(tn.ID)
		def := fullRoleDefinition(tn.ID)
		g := fullGroup(tn.ID)
		m := domain.GroupMembership{TenantID: tn.ID, GroupID: g.ID, MemberID: sp.ID}
		key := domain.SigningKey{ID: "kid-" + word(), Algorithm: "RS256", State: domain.KeyStateNext, PrivateKey: []byte("k"), CreatedAt: at(0)}
		for _, step := range []func() error{
			func() error { return s.CreateTenant(ctx, tn) },
			func() error { return s.CreateApplication(ctx, a) },
			func() error { return s.CreateServicePrincipal(ctx, sp) },
			func() error { return s.CreateRoleDefinition(ctx, def) },
			func() error { return s.CreateRoleAssignment(ctx, ra) },
			func() error { return s.CreateGroup(ctx, g) },
			func() error { return s.AddGroupMember(ctx, m) },
			func() error { return s.CreateSigningKey(ctx, key) },
			func() error { return s.DeleteRoleAssignment(ctx, ra.ID) },
			func() error { return s.DeleteGroup(ctx, tn.ID, g.ID) },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		got := changesAfter(t, s, before)
		expectChanges(t, "writes", got,
			store.Change{Kind: store.ChangeTenant, Key: tn.ID},
			store.Change{Kind: store.ChangeApplication, TenantID: tn.ID, Key: a.ID},
			store.Change{Kind: store.ChangeServicePrincipal, TenantID: tn.ID, Key: sp.ID},
			store.Change{Kind: store.ChangeRoleDefinition, TenantID: tn.ID, Key: def.ID},
			store.Change{Kind: store.ChangeRoleAssignment, TenantID: tn.ID, Key: ra.ID},
			store.Change{Kind: store.ChangeGroupMember, TenantID: tn.ID, Key: store.MembershipChangeKey(g.ID, sp.ID)},
			store.Change{Kind: store.ChangeSigningKey, Key: key.ID},
			store.Change{Kind: store.ChangeRoleAssignment, Key: ra.ID},
			store.Change{Kind: store.ChangeGroupMember, TenantID: tn.ID, Key: store.MembershipChangeKey(g.ID, sp.ID)},
		)
		if got[0].Revision != before+1 {
			t.Fatalf("first revision %d, want %d", got[0].Revision, before+1)
		}
		if head, _ := s.Revision(ctx); head != got[len(got)-1].Revision {
			t.Fatalf("head revision %d, want %d", head, got[len(got)-1].Revision)
		}
		if got := changesAfter(t, s, got[3].Revision); got[0].Kind != store.ChangeRoleAssignment {
			t.Fatalf("reading from a revision: %+v", got)
		}
	})

	t.Run("FailedAndRolledBackWritesAppendNothing", func(t *testing.T) {
		tn := fullTenant()
		if err := s.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		before, _ := s.Revision(ctx)
		if err := s.DeleteRoleAssignment(ctx, newID()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete missing assignment: %v", err)
		}
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateRoleAssignment(ctx, fullRoleAssignment(tn.ID)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx: %v", err)
		}
		kept := fullRoleAssignment(tn.ID)
		err = s.InTx(ctx, func(tx store.Tx) error {
			inner := tx.InTx(ctx, func(tx store.Tx) error {
				if err := tx.CreateRoleAssignment(ctx, fullRoleAssignment(tn.ID)); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(inner, boom) {
				return inner
			}
			return tx.CreateRoleAssignment(ctx, kept)
		})
		if err != nil {
			t.Fatal(err)
		}
		expectChanges(t, "after rollbacks", changesAfter(t, s, before),
			store.Change{Kind: store.ChangeRoleAssignment, TenantID: tn.ID, Key: kept.ID})
	})

	t.Run("OnCommitAndSignal", func(t *testing.T) {
		tn := fullTenant()
		var (
			mu   sync.Mutex
			seen []int64
		)
		s.OnCommit(func(_ context.Context, rev int64) {
			mu.Lock()
			seen = append(seen, rev)
			mu.Unlock()
		})
		defer s.OnCommit(func(context.Context, int64) {})
		// Drain a signal left by earlier writes.
		select {
		case <-s.ChangeSignal():
		default:
		}
		if err := s.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		head, _ := s.Revision(ctx)
		mu.Lock()
		got := append([]int64(nil), seen...)
		mu.Unlock()
		if len(got) != 1 || got[0] != head {
			t.Fatalf("OnCommit saw %v, want [%d] before the write returned", got, head)
		}
		select {
		case <-s.ChangeSignal():
		case <-time.After(5 * time.Second):
			t.Fatal("no change signal after a commit")
		}
		// A write of an object no replica keeps in memory does not append.
		if err := s.CreateUser(ctx, fullUser(tn.ID)); err != nil {
			t.Fatal(err)
		}
		if after, _ := s.Revision(ctx); after != head {
			t.Fatalf("a user write moved the feed from %d to %d", head, after)
		}
	})

	t.Run("ConcurrentWritersCommitInRevisionOrder", func(t *testing.T) {
		tn := fullTenant()
		if err := s.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		before, _ := s.Revision(ctx)
		const writers, each = 8, 10
		// A reader polling while the writers run must never see a
		// revision before having seen every lower one.
		stop := make(chan struct{})
		readerErr := make(chan error, 1)
		go func() {
			last := before
			for {
				cs, err := s.ChangesAfter(ctx, last, 0)
				if err != nil {
					readerErr <- err
					return
				}
				for _, c := range cs {
					if c.Revision != last+1 {
						readerErr <- errors.New("gap in the feed as a follower reads it")
						return
					}
					last = c.Revision
				}
				select {
				case <-stop:
					if last == before+writers*each {
						readerErr <- nil
						return
					}
				default:
				}
			}
		}()
		errs := together(writers, func(int) error {
			for range each {
				if err := s.CreateRoleAssignment(ctx, fullRoleAssignment(tn.ID)); err != nil {
					return err
				}
			}
			return nil
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		close(stop)
		select {
		case err := <-readerErr:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("reader did not reach the head")
		}
	})

	t.Run("ALargeTransaction", func(t *testing.T) {
		// More changes than one statement may carry.
		tn := fullTenant()
		if err := s.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		before, _ := s.Revision(ctx)
		const n = 7000
		err := s.InTx(ctx, func(tx store.Tx) error {
			for range n {
				if err := tx.CreateRoleAssignment(ctx, fullRoleAssignment(tn.ID)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ChangesAfter(ctx, before, n+1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d changes, want %d", len(got), n)
		}
		if got[0].Revision != before+1 || got[n-1].Revision != before+n {
			t.Fatalf("revisions %d to %d, want %d to %d", got[0].Revision, got[n-1].Revision, before+1, before+n)
		}
	})

	t.Run("Trim", func(t *testing.T) {
		head, _ := s.Revision(ctx)
		n, err := s.TrimChanges(ctx, time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("trim deleted nothing")
		}
		if got := changesAfter(t, s, 0); len(got) != 0 {
			t.Fatalf("after trimming everything: %+v", got)
		}
		if after, _ := s.Revision(ctx); after != head {
			t.Fatalf("trim moved the head from %d to %d", head, after)
		}
		tn := fullTenant()
		if err := s.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		expectChanges(t, "after trim", changesAfter(t, s, 0), store.Change{Kind: store.ChangeTenant, Key: tn.ID})
		if got := changesAfter(t, s, 0); got[0].Revision != head+1 {
			t.Fatalf("revision after trim %d, want %d", got[0].Revision, head+1)
		}
		if n, err := s.TrimChanges(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Fatalf("trimming before the oldest change: %d, %v", n, err)
		}
	})
}
