package feed_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/rbac"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlite"
)

const readerRole = "acdd72a7-3385-48ef-bd42-f606fba81ae7"

// replica is one process's view: its own store handle on the shared file,
// an RBAC service and a follower.
type replica struct {
	st       *sqlite.Store
	rbac     *rbac.Service
	follower *feed.Follower
}

func openReplica(t *testing.T, path string, wrap func(store.Store) rbac.Store) *replica {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var rs rbac.Store = st
	if wrap != nil {
		rs = wrap(st)
	}
	r := &replica{st: st, rbac: rbac.NewService(rs, rbac.New(), nil)}
	r.follower, err = feed.StartFollowing(context.Background(), st, feed.Options{Poll: 20 * time.Millisecond}, r.rbac)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *replica) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.follower.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

type fixture struct {
	tenant    string
	scope     string
	principal string
}

func newFixture(t *testing.T, st store.Store) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{tenant: uuid.NewString(), principal: uuid.NewString()}
	sub := uuid.NewString()
	f.scope = "/subscriptions/" + sub
	if err := st.CreateTenant(ctx, domain.Tenant{ID: f.tenant, DisplayName: "t", Domains: []string{"t" + f.tenant[:8] + ".example"}}); err != nil {
		t.Fatal(err)
	}
	sp := domain.ServicePrincipal{ID: f.principal, TenantID: f.tenant, AppID: uuid.NewString(), AppOwnerTenantID: f.tenant, DisplayName: "ci", AccountEnabled: true}
	if err := st.CreateServicePrincipal(ctx, sp); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) grant(t *testing.T, r *replica) domain.RoleAssignment {
	t.Helper()
	a, err := r.rbac.CreateAssignment(context.Background(), domain.RoleAssignment{
		ID: uuid.NewString(), TenantID: f.tenant, Scope: f.scope, RoleDefinitionID: readerRole, PrincipalID: f.principal})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f fixture) allowed(r *replica) bool {
	return r.rbac.Decide(f.principal, "Microsoft.Resources/subscriptions/resourceGroups/read", f.scope, false).Allowed
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestOwnWritesAreAppliedBeforeTheyReturn: a replica decides with its own
// write at once, without its follower loop running.
func TestOwnWritesAreAppliedBeforeTheyReturn(t *testing.T) {
	a := openReplica(t, filepath.Join(t.TempDir(), "t.db"), nil)
	f := newFixture(t, a.st)
	ra := f.grant(t, a)
	if !f.allowed(a) {
		t.Fatal("a grant is not in force on its own replica when it returns")
	}
	if _, err := a.rbac.DeleteAssignment(context.Background(), f.tenant, "", ra.ID); err != nil {
		t.Fatal(err)
	}
	if f.allowed(a) {
		t.Fatal("a revocation is not in force on its own replica when it returns")
	}
}

// TestOtherReplicasWritesArrive: two processes on one file (two store
// handles); the second learns of the first's grant and revocation by
// polling, and deletes what the first created.
func TestOtherReplicasWritesArrive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	a, b := openReplica(t, path, nil), openReplica(t, path, nil)
	b.run(t)
	f := newFixture(t, a.st)
	ra := f.grant(t, a)
	eventually(t, "grant on a in force on b", func() bool { return f.allowed(b) })

	// A delete through b of what a created deletes it (b looks in the
	// store, not in its index), and a learns of it.
	if _, err := b.rbac.DeleteAssignment(context.Background(), f.tenant, "", ra.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.GetRoleAssignment(context.Background(), ra.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("assignment after delete through another replica: %v", err)
	}
	// a has not applied b's grant yet (its loop is not running): its delete
	// still finds the assignment, in the store.
	ra2 := f.grant(t, b)
	if _, err := a.rbac.DeleteAssignment(context.Background(), f.tenant, "", ra2.ID); err != nil {
		t.Fatalf("delete through a replica that has not seen the assignment: %v", err)
	}
	if _, err := a.st.GetRoleAssignment(context.Background(), ra2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("assignment after delete through a replica that had not seen it: %v", err)
	}
	a.run(t)
	eventually(t, "revocation on b in force on a", func() bool { return !f.allowed(a) })
	eventually(t, "revocation on a in force on b", func() bool { return !f.allowed(b) })
	if _, err := b.rbac.DeleteAssignment(context.Background(), f.tenant, "", ra.ID); err == nil {
		t.Fatal("deleting a deleted assignment succeeded")
	}
}

// TestTrimmedFeedReloadsOnce: a follower whose unapplied changes were
// trimmed away reloads in full, once, and is correct after it.
func TestTrimmedFeedReloadsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	a, b := openReplica(t, path, nil), openReplica(t, path, nil)
	f := newFixture(t, a.st)
	f.grant(t, a)
	if _, err := a.st.TrimChanges(context.Background(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	before := b.follower.Status().FullReloads
	if err := b.follower.WaitFor(context.Background(), mustRevision(t, a.st)); err != nil {
		t.Fatal(err)
	}
	if !f.allowed(b) {
		t.Fatal("grant missing after the reload")
	}
	if got := b.follower.Status().FullReloads - before; got != 1 {
		t.Fatalf("%d full reloads, want 1", got)
	}
}

func mustRevision(t *testing.T, st store.Store) int64 {
	t.Helper()
	rev, err := st.Revision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// pausingStore holds a full reload between reading the role assignments
// and building the index from them.
type pausingStore struct {
	store.Store
	read   chan struct{}
	resume chan struct{}
}

func (p *pausingStore) ListRoleAssignments(ctx context.Context, tenantID string) ([]domain.RoleAssignment, error) {
	out, err := p.Store.ListRoleAssignments(ctx, tenantID)
	if p.read != nil {
		close(p.read)
		<-p.resume
		p.read = nil
	}
	return out, err
}

// TestRevocationDuringReloadStaysRevoked: a revocation committed (by another
// replica) while this one reloads in full is not undone by the reload's
// older snapshot.
func TestRevocationDuringReloadStaysRevoked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	a := openReplica(t, path, nil)
	f := newFixture(t, a.st)
	ra := f.grant(t, a)

	pause := &pausingStore{}
	b := openReplica(t, path, func(st store.Store) rbac.Store { pause.Store = st; return pause })
	if !f.allowed(b) {
		t.Fatal("grant missing on b")
	}
	pause.read, pause.resume = make(chan struct{}), make(chan struct{})
	reloaded := make(chan error, 1)
	go func() { reloaded <- b.follower.Reload(context.Background()) }()
	<-pause.read // the reload holds a snapshot with the assignment in it
	if _, err := a.rbac.DeleteAssignment(context.Background(), f.tenant, "", ra.ID); err != nil {
		t.Fatal(err)
	}
	close(pause.resume)
	if err := <-reloaded; err != nil {
		t.Fatal(err)
	}
	if err := b.follower.WaitFor(context.Background(), mustRevision(t, a.st)); err != nil {
		t.Fatal(err)
	}
	if f.allowed(b) {
		t.Fatal("a revocation committed during a full reload is in force no more")
	}
}

// TestWaitForAFutureRevisionGivesUp: a revision not committed anywhere is
// refused once the caller's time is up.
func TestWaitForAFutureRevisionGivesUp(t *testing.T) {
	a := openReplica(t, filepath.Join(t.TempDir(), "t.db"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := a.follower.WaitFor(ctx, mustRevision(t, a.st)+10); !errors.Is(err, feed.ErrBehind) {
		t.Fatalf("WaitFor a future revision: %v, want ErrBehind", err)
	}
}

// failingView refuses changes of tenants: permanently, or once.
type failingView struct {
	permanent bool
	failed    int
}

func (v *failingView) Follow(f *feed.Follower) {
	f.On(store.ChangeTenant, func(context.Context, store.Change) error {
		if v.permanent {
			return feed.Permanent(errors.New("cannot hold it"))
		}
		if v.failed == 0 {
			v.failed++
			return errors.New("store did not answer")
		}
		return nil
	})
}

// TestApplierErrors: a permanent refusal skips its change; any other error
// stops the follower at the change until a later turn applies it.
func TestApplierErrors(t *testing.T) {
	for _, permanent := range []bool{true, false} {
		t.Run(fmt.Sprintf("permanent=%v", permanent), func(t *testing.T) {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			v := &failingView{permanent: permanent}
			f, err := feed.StartFollowing(context.Background(), st, feed.Options{Poll: 10 * time.Millisecond}, v)
			if err != nil {
				t.Fatal(err)
			}
			// The write's own wait gives up quickly here: its change fails.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			newFixture(t, st)
			if err := f.WaitFor(ctx, mustRevision(t, st)); err != nil {
				t.Fatalf("the follower did not get past a failing change: %v", err)
			}
			if !permanent && v.failed != 1 {
				t.Fatalf("the transient failure happened %d times, want 1", v.failed)
			}
		})
	}
}
