package resources_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/rbac"
	"github.com/tessera-id/tessera/internal/resources"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/postgres"
	"github.com/tessera-id/tessera/internal/store/sqlite"
	"github.com/tessera-id/tessera/test/testserver"
)

// backends opens a fresh, empty store per call: SQLite on a temporary file
// always, PostgreSQL when TESSERA_TEST_POSTGRES_DSN is set.
var backends = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tessera.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t *testing.T) store.Store {
		st, err := postgres.Open(context.Background(), testserver.FreshPostgres(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// world is the resource manager wired to the directory and the RBAC index
// the way the composition root wires them, over one store.
type world struct {
	ctx    context.Context
	st     store.Store
	dir    *directory.Service
	rbac   *rbac.Service
	res    *resources.Service
	tenant domain.Tenant
	sub    string
	actor  resources.Actor
	user   domain.User
}

func newWorld(t *testing.T, st store.Store) *world {
	t.Helper()
	ctx := context.Background()
	tenant := domain.Tenant{ID: directory.NewID(), DisplayName: "Test", Domains: []string{"test.tessera.local"}, CreatedAt: time.Now()}
	if err := st.CreateTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	sub := directory.NewID()
	if err := st.CreateSubscription(ctx, domain.Subscription{ID: sub, TenantID: tenant.ID, DisplayName: "Test", State: "Enabled", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	rb := rbac.NewService(st, rbac.New(), nil)
	dir := directory.NewService(st, nil)
	// The RBAC index and the client cache learn of every write through the
	// change feed, as in a server.
	if _, err := feed.StartFollowing(ctx, st, feed.Options{}, rb, dir); err != nil {
		t.Fatal(err)
	}
	w := &world{ctx: ctx, st: st, dir: dir, rbac: rb, res: resources.NewService(st, dir, nil), tenant: tenant, sub: sub}
	u, err := dir.CreateUser(ctx, tenant.ID, directory.UserInput{UserPrincipalName: "alice@test.tessera.local", DisplayName: "alice", Password: "Corr3ct-Horse!"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.AssignDirectoryRole(ctx, tenant.ID, u.ID, domain.RoleGlobalAdministrator); err != nil {
		t.Fatal(err)
	}
	w.user = u
	w.actor = resources.Actor{ObjectID: u.ID, Name: u.UserPrincipalName, Type: domain.PrincipalUser, TenantID: tenant.ID}
	if _, _, err := w.res.PutResourceGroup(ctx, w.actor, sub, "rg", resources.Document{"location": "westeurope"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) put(t *testing.T, rawID string, body resources.Document) resources.Document {
	t.Helper()
	id, err := domain.ParseResourceID(rawID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := w.res.Put(w.ctx, w.actor, id, body, "")
	if err != nil {
		t.Fatalf("put %s: %v", rawID, err)
	}
	return r.Doc
}

func (w *world) delete(t *testing.T, rawID string) {
	t.Helper()
	id, err := domain.ParseResourceID(rawID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.res.Delete(w.ctx, w.actor, id, rawID); err != nil {
		t.Fatalf("delete %s: %v", rawID, err)
	}
}

// entanglement is everything that refers to one managed identity.
type entanglement struct {
	principalID, appID string
	group              domain.Group
	heldAssignment     domain.RoleAssignment // held by the identity, outside its resource
	scopeAssignment    domain.RoleAssignment // held by a user at the identity's resource
	ownedApp           domain.Application    // owned by the identity
}

// entangle makes the identity principalID of the resource at scope a group
// member, the holder of a role assignment, a directory role and an app role,
// an owner of an application, and an object a user owns; and has the
// directory's client cache remember it.
func (w *world) entangle(t *testing.T, principalID, scope string) entanglement {
	t.Helper()
	ctx, tid := w.ctx, w.tenant.ID
	e := entanglement{principalID: principalID}
	sp, err := w.st.GetServicePrincipal(ctx, tid, principalID)
	if err != nil {
		t.Fatalf("the identity's service principal: %v", err)
	}
	e.appID = sp.AppID
	if e.group, err = w.dir.CreateGroup(ctx, tid, directory.GroupInput{DisplayName: "identities"}); err != nil {
		t.Fatal(err)
	}
	if err := w.dir.AddMember(ctx, tid, e.group.ID, principalID); err != nil {
		t.Fatal(err)
	}
	assign := func(principal, at string) domain.RoleAssignment {
		a, err := w.rbac.CreateAssignment(ctx, domain.RoleAssignment{ID: directory.NewID(), TenantID: tid, Scope: at,
			RoleDefinitionID: domain.RoleReader, PrincipalID: principal})
		if err != nil {
			t.Fatalf("assign Reader to %s at %s: %v", principal, at, err)
		}
		return a
	}
	e.heldAssignment = assign(principalID, "/subscriptions/"+w.sub)
	e.scopeAssignment = assign(w.user.ID, scope)
	if _, err := w.dir.AssignDirectoryRole(ctx, tid, principalID, domain.RoleApplicationAdministrator); err != nil {
		t.Fatal(err)
	}
	role := domain.AppRole{ID: directory.NewID(), AllowedMemberTypes: []string{"Application"}, DisplayName: "Read", IsEnabled: true, Value: "Data.Read"}
	api, err := w.dir.CreateApplication(ctx, tid, directory.ApplicationInput{DisplayName: "api", AppRoles: []domain.AppRole{role}})
	if err != nil {
		t.Fatal(err)
	}
	apiSP, err := w.dir.CreateServicePrincipal(ctx, tid, api.AppID, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.dir.AssignAppRole(ctx, tid, principalID, apiSP.ID, role.ID); err != nil {
		t.Fatal(err)
	}
	if e.ownedApp, err = w.dir.CreateApplication(ctx, tid, directory.ApplicationInput{DisplayName: "owned"}); err != nil {
		t.Fatal(err)
	}
	if err := w.dir.AddOwner(ctx, tid, e.ownedApp.ID, principalID); err != nil {
		t.Fatal(err)
	}
	if err := w.dir.AddOwner(ctx, tid, principalID, w.user.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.dir.LookupClient(ctx, tid, e.appID); err != nil {
		t.Fatalf("look up the identity as a client: %v", err)
	}
	// Guards the assertions of checkGone against passing vacuously.
	if groups := w.rbac.Index().GroupsOf(principalID); len(groups) != 1 {
		t.Fatalf("the RBAC index has the identity in groups %v, want [%s]", groups, e.group.ID)
	}
	if n := len(w.ownerships(t, principalID)); n != 2 {
		t.Fatalf("found %d ownership rows of the identity, want 2", n)
	}
	return e
}

// ownerships returns the directory's ownership rows in which principalID is
// the owner or the owned object.
func (w *world) ownerships(t *testing.T, principalID string) []domain.DirectoryRoleAssignment {
	t.Helper()
	var out []domain.DirectoryRoleAssignment
	for _, holder := range []string{principalID, w.user.ID} {
		held, err := w.st.ListDirectoryRoleAssignments(w.ctx, w.tenant.ID, holder)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range held {
			if strings.HasPrefix(a.RoleTemplateID, "owner:") && (a.PrincipalID == principalID || strings.HasSuffix(a.RoleTemplateID, principalID)) {
				out = append(out, a)
			}
		}
	}
	return out
}

// checkGone asserts that nothing in the store or in memory still refers to
// the identity of e.
func (w *world) checkGone(t *testing.T, e entanglement) {
	t.Helper()
	ctx, tid, pid := w.ctx, w.tenant.ID, e.principalID
	if _, err := w.st.GetServicePrincipal(ctx, tid, pid); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the identity's service principal: err = %v, want ErrNotFound", err)
	}
	edges, err := w.st.ListGroupMemberships(ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range edges {
		if m.MemberID == pid {
			t.Errorf("group membership left behind: %+v", m)
		}
	}
	if groups := w.rbac.Index().GroupsOf(pid); len(groups) != 0 {
		t.Errorf("the RBAC index still has the identity in groups %v", groups)
	}
	ras, err := w.st.ListRoleAssignments(ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range ras {
		if a.PrincipalID == pid || a.ID == e.scopeAssignment.ID {
			t.Errorf("role assignment left behind: %+v", a)
		}
	}
	for _, a := range []domain.RoleAssignment{e.heldAssignment, e.scopeAssignment} {
		if _, ok := w.rbac.Index().Assignment(a.ID); ok {
			t.Errorf("the RBAC index still has role assignment %s at %s", a.ID, a.Scope)
		}
	}
	dras, err := w.st.ListDirectoryRoleAssignments(ctx, tid, pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(dras) != 0 {
		t.Errorf("directory role assignments left behind: %+v", dras)
	}
	if left := w.ownerships(t, pid); len(left) != 0 {
		t.Errorf("ownership rows left behind: %+v", left)
	}
	owners, err := w.dir.Owners(ctx, tid, e.ownedApp.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range owners {
		if o.ID() == pid {
			t.Errorf("the identity still owns application %s", e.ownedApp.ID)
		}
	}
	aras, err := w.st.ListAppRoleAssignments(ctx, tid, pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(aras) != 0 {
		t.Errorf("app role assignments left behind: %+v", aras)
	}
	if _, err := w.dir.LookupClient(ctx, tid, e.appID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("client lookup of the deleted identity: err = %v, want ErrNotFound", err)
	}
}

// TestManagedIdentityCascade removes a managed identity in each way the
// resource manager can and checks that it leaves nothing behind: the
// directory's cascade runs, the RBAC index and the client cache forget it,
// and the role assignments at the deleted resource go too.
func TestManagedIdentityCascade(t *testing.T) {
	cases := []struct {
		name string
		// identity creates a resource with an identity and returns its
		// principal id and the resource whose scope it lives at; remove
		// takes the identity away.
		identity func(t *testing.T, w *world) (principalID, scope string)
		remove   func(t *testing.T, w *world, scope string)
	}{
		{
			name: "workspace deleted",
			identity: func(t *testing.T, w *world) (string, string) {
				return w.workspace(t)
			},
			remove: func(t *testing.T, w *world, scope string) { w.delete(t, scope) },
		},
		{
			name: "resource group deleted",
			identity: func(t *testing.T, w *world) (string, string) {
				return w.workspace(t)
			},
			remove: func(t *testing.T, w *world, scope string) {
				if err := w.res.DeleteResourceGroup(w.ctx, w.tenant.ID, w.sub, "rg"); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "system-assigned identity dropped",
			identity: func(t *testing.T, w *world) (string, string) {
				return w.workspace(t)
			},
			remove: func(t *testing.T, w *world, scope string) {
				w.put(t, scope, resources.Document{"location": "westeurope", "identity": map[string]any{"type": "None"}})
				// The PUT took the identity (the document no longer names
				// it, so the delete cannot); the delete takes the
				// assignment at the workspace.
				w.delete(t, scope)
			},
		},
		{
			name: "user-assigned identity deleted",
			identity: func(t *testing.T, w *world) (string, string) {
				id := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai", w.sub)
				doc := w.put(t, id, resources.Document{"location": "westeurope"})
				props, _ := doc["properties"].(map[string]any)
				pid, _ := props["principalId"].(string)
				return pid, id
			},
			remove: func(t *testing.T, w *world, scope string) { w.delete(t, scope) },
		},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					w := newWorld(t, b.open(t))
					pid, scope := c.identity(t, w)
					if pid == "" {
						t.Fatal("the resource has no identity")
					}
					e := w.entangle(t, pid, scope)
					c.remove(t, w, scope)
					w.checkGone(t, e)
				})
			}
		})
	}
}

// workspace creates a workspace with a system-assigned identity and returns
// the identity's principal id and the workspace's id.
func (w *world) workspace(t *testing.T) (string, string) {
	t.Helper()
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws", w.sub)
	doc := w.put(t, id, resources.Document{"location": "westeurope", "identity": map[string]any{"type": "SystemAssigned"}})
	idn, _ := doc["identity"].(map[string]any)
	pid, _ := idn["principalId"].(string)
	return pid, id
}

// TestManagedIdentityLastGlobalAdministrator: the directory refuses to delete
// the tenant's last Global Administrator, and a managed identity can be that.
// Deleting its workspace then fails as a whole: the workspace, the identity
// and what refers to it stay, in the store and in memory.
func TestManagedIdentityLastGlobalAdministrator(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w := newWorld(t, b.open(t))
			pid, ws := w.workspace(t)
			e := w.entangle(t, pid, ws)
			if _, err := w.dir.AssignDirectoryRole(w.ctx, w.tenant.ID, pid, domain.RoleGlobalAdministrator); err != nil {
				t.Fatal(err)
			}
			held, err := w.dir.DirectoryRoleAssignments(w.ctx, w.tenant.ID, w.user.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range held {
				if a.RoleTemplateID == domain.RoleGlobalAdministrator {
					if _, err := w.dir.RevokeDirectoryRole(w.ctx, w.tenant.ID, a.ID); err != nil {
						t.Fatal(err)
					}
				}
			}

			id, err := domain.ParseResourceID(ws)
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.res.Delete(w.ctx, w.actor, id, ws)
			if !directory.IsInvalid(err) {
				t.Fatalf("delete the workspace of the last Global Administrator: err = %v, want the directory's refusal", err)
			}
			if _, err := w.st.GetResource(w.ctx, ws); err != nil {
				t.Errorf("the workspace after the refused delete: %v", err)
			}
			if _, err := w.st.GetServicePrincipal(w.ctx, w.tenant.ID, pid); err != nil {
				t.Errorf("the identity after the refused delete: %v", err)
			}
			if groups := w.rbac.Index().GroupsOf(pid); len(groups) != 1 {
				t.Errorf("the RBAC index has the identity in groups %v after the refused delete, want [%s]", groups, e.group.ID)
			}
			for _, a := range []domain.RoleAssignment{e.heldAssignment, e.scopeAssignment} {
				if _, ok := w.rbac.Index().Assignment(a.ID); !ok {
					t.Errorf("the RBAC index lost role assignment %s at %s to the refused delete", a.ID, a.Scope)
				}
			}
			if _, err := w.dir.LookupClient(w.ctx, w.tenant.ID, e.appID); err != nil {
				t.Errorf("client lookup of the identity after the refused delete: %v", err)
			}
		})
	}
}
