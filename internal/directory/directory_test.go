package directory_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/rbac"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlite"
)

// env is a directory over a real SQLite store on a temporary file, with the
// RBAC index wired the way the composition root wires it.
type env struct {
	ctx    context.Context
	st     *sqlite.Store
	dir    *directory.Service
	rbac   *rbac.Service
	tenant domain.Tenant
	admin  directory.Actor // holds Global Administrator
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tessera.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tenant := domain.Tenant{ID: directory.NewID(), DisplayName: "Test", Domains: []string{"test.tessera.local", "example.org"}, CreatedAt: time.Now()}
	if err := st.CreateTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	rb := rbac.NewService(st, rbac.New(), nil)
	dir := directory.NewService(st, nil)
	// The RBAC index learns of the directory's writes through the change
	// feed, as in a server.
	if _, err := feed.StartFollowing(ctx, st, feed.Options{}, rb, dir); err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: ctx, st: st, rbac: rb, tenant: tenant, dir: dir}
	admin := e.user(t, "admin")
	e.grant(t, admin.ID, domain.RoleGlobalAdministrator)
	e.admin = directory.Actor{TenantID: tenant.ID, ObjectID: admin.ID}
	return e
}

const goodPassword = "Corr3ct-Horse!"

func (e *env) user(t *testing.T, nick string) domain.User {
	t.Helper()
	u, err := e.dir.CreateUser(e.ctx, e.tenant.ID, directory.UserInput{
		UserPrincipalName: nick + "@test.tessera.local", DisplayName: nick, Password: goodPassword})
	if err != nil {
		t.Fatalf("create user %s: %v", nick, err)
	}
	return u
}

func (e *env) group(t *testing.T, name string) domain.Group {
	t.Helper()
	g, err := e.dir.CreateGroup(e.ctx, e.tenant.ID, directory.GroupInput{DisplayName: name})
	if err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
	return g
}

func (e *env) app(t *testing.T, name string) (domain.Application, domain.ServicePrincipal) {
	t.Helper()
	app, err := e.dir.CreateApplication(e.ctx, e.tenant.ID, directory.ApplicationInput{DisplayName: name})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := e.dir.CreateServicePrincipal(e.ctx, e.tenant.ID, app.AppID, true)
	if err != nil {
		t.Fatal(err)
	}
	return app, sp
}

func (e *env) grant(t *testing.T, principalID, role string) {
	t.Helper()
	if _, err := e.dir.AssignDirectoryRole(e.ctx, e.tenant.ID, principalID, role); err != nil {
		t.Fatalf("assign %s to %s: %v", role, principalID, err)
	}
}

func (e *env) add(t *testing.T, group, member string) {
	t.Helper()
	if err := e.dir.AddMember(e.ctx, e.tenant.ID, group, member); err != nil {
		t.Fatalf("add %s to %s: %v", member, group, err)
	}
}

// assignRBAC stores an RBAC role assignment and indexes it, as ARM does.
func (e *env) assignRBAC(t *testing.T, principalID, principalType, scope string) domain.RoleAssignment {
	t.Helper()
	a, err := e.rbac.CreateAssignment(e.ctx, domain.RoleAssignment{ID: directory.NewID(), TenantID: e.tenant.ID, Scope: scope,
		RoleDefinitionID: domain.RoleReader, PrincipalID: principalID, PrincipalType: principalType})
	if err != nil {
		t.Fatalf("assign Reader to %s: %v", principalID, err)
	}
	return a
}

func ids(objs []directory.Object) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.ID())
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

func TestTransitiveMembership(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tid := e.tenant.ID
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	_, sp := e.app(t, "worker")
	top, mid, leaf, other := e.group(t, "top"), e.group(t, "mid"), e.group(t, "leaf"), e.group(t, "other")
	// top ∋ mid ∋ leaf ∋ alice; mid ∋ sp; other ∋ bob
	e.add(t, top.ID, mid.ID)
	e.add(t, mid.ID, leaf.ID)
	e.add(t, leaf.ID, alice.ID)
	e.add(t, mid.ID, sp.ID)
	e.add(t, other.ID, bob.ID)

	direct, err := e.dir.Members(e.ctx, tid, top.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(direct), sorted(mid.ID); !slices.Equal(got, want) {
		t.Errorf("direct members of top = %v, want %v", got, want)
	}
	all, err := e.dir.Members(e.ctx, tid, top.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(all), sorted(mid.ID, leaf.ID, alice.ID, sp.ID); !slices.Equal(got, want) {
		t.Errorf("transitive members of top = %v, want %v", got, want)
	}

	memberOf := func(id string, transitive bool) []string {
		gs, err := e.dir.MemberOf(e.ctx, tid, id, transitive)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, g := range gs {
			out = append(out, g.ID)
		}
		sort.Strings(out)
		return out
	}
	if got, want := memberOf(alice.ID, false), sorted(leaf.ID); !slices.Equal(got, want) {
		t.Errorf("alice memberOf = %v, want %v", got, want)
	}
	if got, want := memberOf(alice.ID, true), sorted(leaf.ID, mid.ID, top.ID); !slices.Equal(got, want) {
		t.Errorf("alice transitiveMemberOf = %v, want %v", got, want)
	}
	if got, want := memberOf(sp.ID, true), sorted(mid.ID, top.ID); !slices.Equal(got, want) {
		t.Errorf("service principal transitiveMemberOf = %v, want %v", got, want)
	}

	cases := []struct {
		name    string
		subject string
		ask     []string
		want    []string
	}{
		{"nested", alice.ID, []string{top.ID, other.ID}, []string{top.ID}},
		{"order kept", alice.ID, []string{leaf.ID, top.ID, mid.ID}, []string{leaf.ID, top.ID, mid.ID}},
		{"upper-case ids", alice.ID, []string{upper(top.ID)}, []string{top.ID}},
		{"none", bob.ID, []string{top.ID, mid.ID}, []string{}},
		{"group in group", leaf.ID, []string{top.ID}, []string{top.ID}},
		{"not itself", top.ID, []string{top.ID}, []string{}},
	}
	for _, c := range cases {
		got, err := e.dir.CheckMemberGroups(e.ctx, tid, c.subject, c.ask)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: checkMemberGroups = %v, want %v", c.name, got, c.want)
		}
	}
	got, err := e.dir.GetMemberGroups(e.ctx, tid, alice.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if want := sorted(leaf.ID, mid.ID, top.ID); !slices.Equal(got, want) {
		t.Errorf("getMemberGroups = %v, want %v", got, want)
	}
	if _, err := e.dir.CheckMemberGroups(e.ctx, tid, directory.NewID(), []string{top.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("checkMemberGroups of an unknown object: %v, want not found", err)
	}
	many := make([]string, directory.MaxCheckMemberGroups+1)
	for i := range many {
		many[i] = directory.NewID()
	}
	if _, err := e.dir.CheckMemberGroups(e.ctx, tid, alice.ID, many); !directory.IsInvalid(err) {
		t.Errorf("checkMemberGroups with %d ids: %v, want invalid", len(many), err)
	}

	// Removing the middle edge cuts alice off from top.
	if err := e.dir.RemoveMember(e.ctx, tid, mid.ID, leaf.ID); err != nil {
		t.Fatal(err)
	}
	if got := memberOf(alice.ID, true); !slices.Equal(got, sorted(leaf.ID)) {
		t.Errorf("after removing leaf from mid, alice is in %v", got)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestMembershipRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tid := e.tenant.ID
	a, b, c := e.group(t, "a"), e.group(t, "b"), e.group(t, "c")
	u := e.user(t, "u")
	e.add(t, a.ID, b.ID)
	e.add(t, b.ID, c.ID)
	app, _ := e.app(t, "an-app")

	cases := []struct {
		name          string
		group, member string
		check         func(error) bool
	}{
		{"self", a.ID, a.ID, directory.IsInvalid},
		{"direct cycle", b.ID, a.ID, directory.IsInvalid},
		{"long cycle", c.ID, a.ID, directory.IsInvalid},
		{"duplicate", a.ID, b.ID, directory.IsInvalid},
		{"unknown member", a.ID, directory.NewID(), func(err error) bool { return errors.Is(err, store.ErrNotFound) }},
		{"application is not a principal", a.ID, app.ID, func(err error) bool { return errors.Is(err, store.ErrNotFound) }},
		{"unknown group", directory.NewID(), u.ID, func(err error) bool { return errors.Is(err, store.ErrNotFound) }},
		{"diamond is fine", a.ID, c.ID, func(err error) bool { return err == nil }},
	}
	for _, tc := range cases {
		err := e.dir.AddMember(e.ctx, tid, tc.group, tc.member)
		if !tc.check(err) {
			t.Errorf("%s: AddMember = %v", tc.name, err)
		}
	}
	var nf *directory.NotFoundError
	if err := e.dir.RemoveMember(e.ctx, tid, a.ID, u.ID); !errors.As(err, &nf) || nf.ID != u.ID {
		t.Errorf("removing a non-member: %v, want NotFoundError naming the member", err)
	}
}

func TestMembershipReachesRBAC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tid := e.tenant.ID
	scope := "/subscriptions/" + directory.NewID()
	outer, inner := e.group(t, "readers"), e.group(t, "inner")
	u := e.user(t, "carol")
	e.assignRBAC(t, outer.ID, domain.PrincipalGroup, scope)
	const action = "Microsoft.Resources/subscriptions/resourceGroups/read"
	decide := func() bool { return e.rbac.Decide(u.ID, action, scope+"/resourceGroups/rg", false).Allowed }
	if decide() {
		t.Fatal("carol may read before joining a group")
	}
	e.add(t, outer.ID, inner.ID)
	e.add(t, inner.ID, u.ID)
	if !decide() {
		t.Error("carol, in inner ⊂ readers, is not allowed at once")
	}
	if err := e.dir.RemoveMember(e.ctx, tid, inner.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if decide() {
		t.Error("carol still allowed after leaving the group")
	}
	e.add(t, inner.ID, u.ID)
	if _, err := e.dir.DeleteGroup(e.ctx, tid, inner.ID); err != nil {
		t.Fatal(err)
	}
	if decide() {
		t.Error("carol still allowed after the group that linked her was deleted")
	}
	if m, _ := e.st.ListGroupMemberships(e.ctx, tid); len(m) != 0 {
		t.Errorf("edges left after deleting the group: %v", m)
	}
}

func TestDeleteApplicationCascades(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tid := e.tenant.ID
	app, sp := e.app(t, "doomed")
	resourceApp, err := e.dir.CreateApplication(e.ctx, tid, directory.ApplicationInput{DisplayName: "api",
		AppRoles: []domain.AppRole{{ID: directory.NewID(), AllowedMemberTypes: []string{"Application"}, DisplayName: "Read", IsEnabled: true, Value: "Data.Read"}}})
	if err != nil {
		t.Fatal(err)
	}
	resourceSP, err := e.dir.CreateServicePrincipal(e.ctx, tid, resourceApp.AppID, true)
	if err != nil {
		t.Fatal(err)
	}
	// The doomed app's service principal holds a role on another resource...
	held, err := e.dir.AssignAppRole(e.ctx, tid, sp.ID, resourceSP.ID, resourceApp.AppRoles[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	// ...and is itself a resource someone holds a role on.
	if _, err := e.dir.UpdateApplication(e.ctx, tid, app.ID, directory.ApplicationPatch{AppRoles: &[]domain.AppRole{
		{ID: directory.NewID(), AllowedMemberTypes: []string{"Application"}, DisplayName: "W", IsEnabled: true, Value: "W"}}}); err != nil {
		t.Fatal(err)
	}
	sp, _ = e.dir.GetServicePrincipal(e.ctx, tid, sp.ID)
	if _, err := e.dir.AssignAppRole(e.ctx, tid, resourceSP.ID, sp.ID, sp.AppRoles[0].ID); err != nil {
		t.Fatal(err)
	}
	owner := e.user(t, "owner")
	if err := e.dir.AddOwner(e.ctx, tid, app.ID, owner.ID); err != nil {
		t.Fatal(err)
	}
	g := e.group(t, "members")
	e.add(t, g.ID, sp.ID)
	e.grant(t, sp.ID, domain.RoleApplicationAdministrator)
	scope := "/subscriptions/" + directory.NewID()
	ra := e.assignRBAC(t, sp.ID, domain.PrincipalServicePrincipal, scope)
	keep := e.assignRBAC(t, owner.ID, domain.PrincipalUser, scope)
	const action = "Microsoft.Resources/subscriptions/read"
	if !e.rbac.Decide(sp.ID, action, scope, false).Allowed {
		t.Fatal("the service principal's Reader assignment does not work before the delete")
	}

	if _, _, err := e.dir.DeleteApplication(e.ctx, tid, directory.AppIDRef(app.AppID)); err != nil {
		t.Fatal(err)
	}

	if _, err := e.st.GetApplication(e.ctx, tid, app.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("application still there: %v", err)
	}
	if _, err := e.st.GetServicePrincipal(e.ctx, tid, sp.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("service principal still there: %v", err)
	}
	if _, err := e.st.GetRoleAssignment(e.ctx, ra.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RBAC role assignment still stored: %v", err)
	}
	if e.rbac.Decide(sp.ID, action, scope, false).Allowed {
		t.Error("the RBAC index still allows the deleted service principal")
	}
	if _, err := e.st.GetRoleAssignment(e.ctx, keep.ID); err != nil {
		t.Errorf("another principal's assignment went too: %v", err)
	}
	if as, _ := e.st.ListAppRoleAssignments(e.ctx, tid, sp.ID); len(as) != 0 {
		t.Errorf("app role assignments held by the service principal remain: %v", as)
	}
	if as, _ := e.st.ListAppRoleAssignments(e.ctx, tid, resourceSP.ID); len(as) != 0 {
		t.Errorf("app role assignments granted on the service principal remain: %v", as)
	}
	if roles, _ := e.st.ListDirectoryRoleAssignments(e.ctx, tid, sp.ID); len(roles) != 0 {
		t.Errorf("directory roles of the service principal remain: %v", roles)
	}
	if owned, _ := e.dir.OwnedObjects(e.ctx, tid, owner.ID); len(owned) != 0 {
		t.Errorf("the owner still owns %v", ids(owned))
	}
	if m, _ := e.st.ListGroupMembers(e.ctx, tid, g.ID); len(m) != 0 {
		t.Errorf("group still lists %v", m)
	}
	// The other resource's own assignment list is unaffected but for the removed grant.
	if _, err := e.st.GetServicePrincipal(e.ctx, tid, resourceSP.ID); err != nil {
		t.Errorf("the other resource went too: %v", err)
	}
	_ = held
}

func TestDeletePrincipalsCascade(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tid := e.tenant.ID
	u := e.user(t, "leaver")
	g := e.group(t, "team")
	e.add(t, g.ID, u.ID)
	e.grant(t, u.ID, domain.RoleUserAdministrator)
	scope := "/subscriptions/" + directory.NewID()
	ra := e.assignRBAC(t, u.ID, domain.PrincipalUser, scope)
	_, rm, err := e.dir.DeleteUser(e.ctx, tid, u.UserPrincipalName)
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.RoleAssignments) != 1 || len(rm.Memberships) != 1 || len(rm.DirectoryRoles) != 1 {
		t.Errorf("removed = %+v", rm)
	}
	if _, err := e.st.GetRoleAssignment(e.ctx, ra.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user's RBAC assignment still stored: %v", err)
	}
	if _, ok := e.rbac.Index().Assignment(ra.ID); ok {
		t.Error("user's RBAC assignment still indexed")
	}
	if m, _ := e.st.ListGroupMembers(e.ctx, tid, g.ID); len(m) != 0 {
		t.Errorf("group still lists %v", m)
	}

	// The tenant's last Global Administrator stays.
	if _, _, err := e.dir.DeleteUser(e.ctx, tid, e.admin.ObjectID); !directory.IsInvalid(err) {
		t.Errorf("deleting the last Global Administrator: %v, want refused", err)
	}
	if _, err := e.dir.UpdateUser(e.ctx, tid, e.admin.ObjectID, directory.UserPatch{AccountEnabled: ptr(false)}); !directory.IsInvalid(err) {
		t.Errorf("disabling the last Global Administrator: %v, want refused", err)
	}
	all, _ := e.dir.DirectoryRoleAssignments(e.ctx, tid, e.admin.ObjectID)
	if _, err := e.dir.RevokeDirectoryRole(e.ctx, tid, all[0].ID); !directory.IsInvalid(err) {
		t.Errorf("revoking the last Global Administrator: %v, want refused", err)
	}
	second := e.user(t, "second")
	e.grant(t, second.ID, domain.RoleGlobalAdministrator)
	if _, err := e.dir.RevokeDirectoryRole(e.ctx, tid, all[0].ID); err != nil {
		t.Errorf("revoking one of two Global Administrators: %v", err)
	}

	// First-party service principals cannot be deleted.
	if err := e.dir.EnsureFirstParty(e.ctx, tid, "https://tessera.test/graph/"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.dir.DeleteServicePrincipal(e.ctx, tid, directory.AppIDRef(directory.AppIDAzureCLI)); !directory.IsInvalid(err) {
		t.Errorf("deleting the Azure CLI service principal: %v, want refused", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestAuthorize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tid := e.tenant.ID
	actor := func(name string, roles ...string) directory.Actor {
		u := e.user(t, name)
		for _, r := range roles {
			e.grant(t, u.ID, r)
		}
		return directory.Actor{TenantID: tid, ObjectID: u.ID}
	}
	ga := e.admin
	appAdmin := actor("appadmin", domain.RoleApplicationAdministrator)
	cloudAdmin := actor("cloudadmin", domain.RoleCloudApplicationAdministrator)
	userAdmin := actor("useradmin", domain.RoleUserAdministrator)
	groupsAdmin := actor("groupsadmin", domain.RoleGroupsAdministrator)
	pra := actor("pra", domain.RolePrivilegedRoleAdministrator)
	reports := actor("reports", directory.RoleReportsReader)
	authAdmin := actor("authadmin", directory.RoleAuthenticationAdministrator)
	privAuthAdmin := actor("privauthadmin", directory.RolePrivilegedAuthenticationAdministrator)
	plain := actor("plain")
	owner := actor("owner")
	app, sp := e.app(t, "owned")
	other, otherSP := e.app(t, "not-owned")
	if err := e.dir.AddOwner(e.ctx, tid, app.ID, owner.ObjectID); err != nil {
		t.Fatal(err)
	}
	// A service principal acting with no directory role.
	appCaller := directory.Actor{TenantID: tid, ObjectID: otherSP.ID}
	plainUser, limitedAdmin := e.user(t, "target"), e.user(t, "helpdesk")
	e.grant(t, limitedAdmin.ID, domain.RoleUserAdministrator)
	globalUser := e.user(t, "boss")
	e.grant(t, globalUser.ID, domain.RoleGlobalAdministrator)
	appAdminUser := e.user(t, "appadmin2")
	e.grant(t, appAdminUser.ID, domain.RoleApplicationAdministrator)
	g := e.group(t, "g")

	cases := []struct {
		name   string
		actor  directory.Actor
		op     directory.Op
		target string
		want   bool
	}{
		{"GA creates app", ga, directory.OpCreateApplication, "", true},
		{"app admin creates app", appAdmin, directory.OpCreateApplication, "", true},
		{"cloud app admin creates app", cloudAdmin, directory.OpCreateApplication, "", true},
		{"user admin creates app", userAdmin, directory.OpCreateApplication, "", false},
		{"plain user creates app", plain, directory.OpCreateApplication, "", false},
		{"app without role creates app", appCaller, directory.OpCreateApplication, "", false},
		{"owner manages own app", owner, directory.OpManageApplication, app.ID, true},
		{"owner manages other app", owner, directory.OpManageApplication, other.ID, false},
		{"owner manages own app's SP", owner, directory.OpManageServicePrincipal, sp.ID, true},
		{"owner manages other SP", owner, directory.OpManageServicePrincipal, otherSP.ID, false},
		{"owner creates own app's SP", owner, directory.OpCreateServicePrincipal, app.ID, true},
		{"plain user manages app", plain, directory.OpManageApplication, app.ID, false},
		{"app admin manages any app", appAdmin, directory.OpManageApplication, other.ID, true},
		{"cloud admin manages any SP", cloudAdmin, directory.OpManageServicePrincipal, sp.ID, true},
		{"user admin manages SP", userAdmin, directory.OpManageServicePrincipal, sp.ID, false},
		{"user admin creates user", userAdmin, directory.OpCreateUser, "", true},
		{"groups admin creates user", groupsAdmin, directory.OpCreateUser, "", false},
		{"app admin creates user", appAdmin, directory.OpCreateUser, "", false},
		{"user admin resets plain user", userAdmin, directory.OpManageUser, plainUser.ID, true},
		{"user admin resets user admin", userAdmin, directory.OpManageUser, limitedAdmin.ID, true},
		{"user admin resets global admin", userAdmin, directory.OpManageUser, globalUser.ID, false},
		{"user admin resets app admin", userAdmin, directory.OpManageUser, appAdminUser.ID, false},
		{"GA resets global admin", ga, directory.OpManageUser, globalUser.ID, true},
		{"plain user resets user", plain, directory.OpManageUser, plainUser.ID, false},
		{"PRA resets user", pra, directory.OpManageUser, plainUser.ID, false},
		{"user admin creates group", userAdmin, directory.OpCreateGroup, "", true},
		{"groups admin manages group", groupsAdmin, directory.OpManageGroup, g.ID, true},
		{"app admin manages group", appAdmin, directory.OpManageGroup, g.ID, false},
		{"plain user manages group", plain, directory.OpManageGroup, g.ID, false},
		{"PRA assigns directory role", pra, directory.OpAssignDirectoryRole, domain.RoleGlobalAdministrator, true},
		{"user admin assigns directory role", userAdmin, directory.OpAssignDirectoryRole, domain.RoleUserAdministrator, false},
		{"PRA grants app role", pra, directory.OpAssignAppRole, sp.ID, true},
		{"app admin grants app role", appAdmin, directory.OpAssignAppRole, sp.ID, true},
		{"owner grants app role", owner, directory.OpAssignAppRole, sp.ID, false},
		{"reports reader reads audit", reports, directory.OpReadAuditLogs, "", true},
		{"plain user reads audit", plain, directory.OpReadAuditLogs, "", false},
		{"app rotates its own key", appCaller, directory.OpAddKey, other.ID, true},
		{"app rotates another's key", appCaller, directory.OpAddKey, app.ID, false},
		{"GA deletes anything", ga, directory.OpManageServicePrincipal, otherSP.ID, true},
		{"user reads own methods", plain, directory.OpReadAuthenticationMethods, plain.ObjectID, true},
		{"user deletes own method", plain, directory.OpManageAuthenticationMethods, plain.ObjectID, false},
		{"user reads another's methods", plain, directory.OpReadAuthenticationMethods, plainUser.ID, false},
		{"user admin reads methods", userAdmin, directory.OpReadAuthenticationMethods, plainUser.ID, false},
		{"auth admin resets plain user", authAdmin, directory.OpManageAuthenticationMethods, plainUser.ID, true},
		{"auth admin resets user admin", authAdmin, directory.OpManageAuthenticationMethods, limitedAdmin.ID, false},
		{"auth admin resets reports reader", authAdmin, directory.OpManageAuthenticationMethods, reports.ObjectID, true},
		{"auth admin reads global admin", authAdmin, directory.OpReadAuthenticationMethods, globalUser.ID, false},
		{"auth admin resets app admin", authAdmin, directory.OpManageAuthenticationMethods, appAdminUser.ID, false},
		{"privileged auth admin resets global admin", privAuthAdmin, directory.OpManageAuthenticationMethods, globalUser.ID, true},
		{"GA resets methods", ga, directory.OpManageAuthenticationMethods, globalUser.ID, true},
		{"GA manages signing keys", ga, directory.OpManageSigningKeys, "", true},
		{"privileged role admin manages signing keys", pra, directory.OpManageSigningKeys, "", false},
		{"app without role manages signing keys", appCaller, directory.OpManageSigningKeys, "", false},
	}
	for _, c := range cases {
		err := e.dir.Authorize(e.ctx, c.actor, c.op, c.target)
		if c.want && err != nil || !c.want && !errors.Is(err, directory.ErrForbidden) {
			t.Errorf("%s: Authorize = %v, want allowed=%v", c.name, err, c.want)
		}
	}
}

func TestUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tid := e.tenant.ID
	cases := []struct {
		name string
		in   directory.UserInput
		ok   bool
	}{
		{"valid", directory.UserInput{UserPrincipalName: "dana@test.tessera.local", DisplayName: "Dana", Password: goodPassword}, true},
		{"second verified domain, mixed case", directory.UserInput{UserPrincipalName: "Eve@Example.ORG", DisplayName: "Eve", Password: goodPassword}, true},
		{"unverified domain", directory.UserInput{UserPrincipalName: "x@evil.example", DisplayName: "X", Password: goodPassword}, false},
		{"no domain", directory.UserInput{UserPrincipalName: "nodomain", DisplayName: "X", Password: goodPassword}, false},
		{"bad local part", directory.UserInput{UserPrincipalName: "a b@test.tessera.local", DisplayName: "X", Password: goodPassword}, false},
		{"weak password", directory.UserInput{UserPrincipalName: "weak@test.tessera.local", DisplayName: "X", Password: "password"}, false},
		{"short password", directory.UserInput{UserPrincipalName: "short@test.tessera.local", DisplayName: "X", Password: "Ab1!"}, false},
		{"no password", directory.UserInput{UserPrincipalName: "nopw@test.tessera.local", DisplayName: "X"}, false},
		{"no display name", directory.UserInput{UserPrincipalName: "noname@test.tessera.local", Password: goodPassword}, false},
		{"bad nickname", directory.UserInput{UserPrincipalName: "nick@test.tessera.local", DisplayName: "X", MailNickname: "a b", Password: goodPassword}, false},
		{"profile", directory.UserInput{UserPrincipalName: "prof@test.tessera.local", DisplayName: "X", GivenName: strings.Repeat("é", 64), Surname: "Vance", Mail: "adele.vance+ml@mail.example.com", Password: goodPassword}, true},
		{"long given name", directory.UserInput{UserPrincipalName: "gn@test.tessera.local", DisplayName: "X", GivenName: strings.Repeat("a", 65), Password: goodPassword}, false},
		{"long surname", directory.UserInput{UserPrincipalName: "sn@test.tessera.local", DisplayName: "X", Surname: strings.Repeat("a", 65), Password: goodPassword}, false},
		{"mail without @", directory.UserInput{UserPrincipalName: "m1@test.tessera.local", DisplayName: "X", Mail: "adele.example.com", Password: goodPassword}, false},
		{"mail with a display name", directory.UserInput{UserPrincipalName: "m2@test.tessera.local", DisplayName: "X", Mail: "Adele <adele@example.com>", Password: goodPassword}, false},
		{"mail with a space", directory.UserInput{UserPrincipalName: "m3@test.tessera.local", DisplayName: "X", Mail: "adele vance@example.com", Password: goodPassword}, false},
		{"mail too long", directory.UserInput{UserPrincipalName: "m4@test.tessera.local", DisplayName: "X", Mail: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", Password: goodPassword}, false},
	}
	for _, c := range cases {
		_, err := e.dir.CreateUser(e.ctx, tid, c.in)
		if c.ok && err != nil || !c.ok && !directory.IsInvalid(err) {
			t.Errorf("%s: CreateUser = %v, want ok=%v", c.name, err, c.ok)
		}
	}
	if _, err := e.dir.CreateUser(e.ctx, tid, directory.UserInput{UserPrincipalName: "DANA@test.tessera.local", DisplayName: "D", Password: goodPassword}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate UPN: %v, want conflict", err)
	}

	u, err := e.dir.GetUser(e.ctx, tid, "dana@TEST.tessera.local")
	if err != nil || u.MailNickname != "dana" || !u.AccountEnabled {
		t.Fatalf("GetUser by UPN: %+v %v", u, err)
	}
	if u.PasswordHash == goodPassword || directory.VerifyPassword(u.PasswordHash, goodPassword) != nil {
		t.Error("password is not stored as a verifiable argon2id hash")
	}
	if _, err := e.dir.AuthenticateUser(e.ctx, tid, u.UserPrincipalName, goodPassword); err != nil {
		t.Errorf("sign-in with the password: %v", err)
	}
	// Issued at the instant the password was set: sessions carry whole
	// seconds, and the reset below comes more than a second later, so the
	// test does not depend on where in a second it runs.
	issued := u.PasswordChangedAt
	if !directory.SessionValid(u, issued) {
		t.Error("a session issued after the password was set is not valid")
	}

	// Password reset: the old password stops working, sessions before it end.
	time.Sleep(1100 * time.Millisecond)
	newPassword := "N3w-Passw0rd!"
	reset, err := e.dir.UpdateUser(e.ctx, tid, u.ID, directory.UserPatch{Password: &newPassword})
	if err != nil {
		t.Fatal(err)
	}
	if !reset.PasswordChangedAt.After(u.PasswordChangedAt) {
		t.Error("PasswordChangedAt did not move")
	}
	if _, err := e.dir.AuthenticateUser(e.ctx, tid, u.UserPrincipalName, goodPassword); !errors.Is(err, directory.ErrPasswordMismatch) {
		t.Errorf("old password after reset: %v", err)
	}
	if _, err := e.dir.AuthenticateUser(e.ctx, tid, u.UserPrincipalName, newPassword); err != nil {
		t.Errorf("new password after reset: %v", err)
	}
	stored, _ := e.st.GetUser(e.ctx, tid, u.ID)
	if directory.SessionValid(stored, issued) {
		t.Error("a session issued before the reset is still valid")
	}
	weak := "weak"
	if _, err := e.dir.UpdateUser(e.ctx, tid, u.ID, directory.UserPatch{Password: &weak}); !directory.IsInvalid(err) {
		t.Errorf("reset to a weak password: %v", err)
	}

	// Disable.
	if _, err := e.dir.UpdateUser(e.ctx, tid, u.ID, directory.UserPatch{AccountEnabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.AuthenticateUser(e.ctx, tid, u.UserPrincipalName, newPassword); !errors.Is(err, directory.ErrUserDisabled) {
		t.Errorf("disabled user signs in: %v", err)
	}
	stored, _ = e.st.GetUser(e.ctx, tid, u.ID)
	if directory.SessionValid(stored, time.Now()) {
		t.Error("a disabled user's session is valid")
	}
	// Rename to an unverified domain is refused.
	bad := "dana@nowhere.example"
	if _, err := e.dir.UpdateUser(e.ctx, tid, u.ID, directory.UserPatch{UserPrincipalName: &bad}); !directory.IsInvalid(err) {
		t.Errorf("rename to an unverified domain: %v", err)
	}
}

func TestOwnersAndCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tid := e.tenant.ID
	alice := e.user(t, "alice")
	app, err := e.dir.CreateApplication(e.ctx, tid, directory.ApplicationInput{DisplayName: "mine", OwnerID: alice.ID})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := e.dir.CreateServicePrincipal(e.ctx, tid, app.AppID, true)
	if err != nil {
		t.Fatal(err)
	}
	owners, err := e.dir.Owners(e.ctx, tid, app.ID)
	if err != nil || !slices.Equal(ids(owners), []string{alice.ID}) {
		t.Fatalf("owners = %v %v, want the creator", ids(owners), err)
	}
	if spOwners, _ := e.dir.Owners(e.ctx, tid, sp.ID); !slices.Equal(ids(spOwners), []string{alice.ID}) {
		t.Errorf("service principal owners = %v, want the application's", ids(spOwners))
	}
	if err := e.dir.AddOwner(e.ctx, tid, app.ID, alice.ID); !directory.IsInvalid(err) {
		t.Errorf("adding an owner twice: %v", err)
	}
	g := e.group(t, "g")
	if err := e.dir.AddOwner(e.ctx, tid, app.ID, g.ID); !directory.IsInvalid(err) {
		t.Errorf("a group as owner: %v", err)
	}
	if err := e.dir.RemoveOwner(e.ctx, tid, app.ID, alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.dir.RemoveOwner(e.ctx, tid, app.ID, alice.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing a non-owner: %v", err)
	}
	// Ownership records are not directory roles.
	if roles, _ := e.dir.DirectoryRoleAssignments(e.ctx, tid, ""); len(roles) != 1 {
		t.Errorf("role assignments = %v, want the admin's only", roles)
	}

	// Service principal secrets: added, listed without the secret, removed.
	cred, secret, err := e.dir.AddServicePrincipalPassword(e.ctx, tid, sp.ID, directory.PasswordInput{})
	if err != nil {
		t.Fatal(err)
	}
	sp, _ = e.dir.GetServicePrincipal(e.ctx, tid, sp.ID)
	if directory.CheckClientSecret(sp.PasswordCredentials, secret, time.Now()) != nil {
		t.Error("the service principal secret does not verify")
	}
	if err := e.dir.RemoveServicePrincipalPassword(e.ctx, tid, sp.ID, cred.KeyID); err != nil {
		t.Fatal(err)
	}
	sp, _ = e.dir.GetServicePrincipal(e.ctx, tid, sp.ID)
	if directory.CheckClientSecret(sp.PasswordCredentials, secret, time.Now()) == nil {
		t.Error("a removed secret still verifies")
	}
	if err := e.dir.RemoveServicePrincipalPassword(e.ctx, tid, sp.ID, cred.KeyID); !directory.IsInvalid(err) {
		t.Errorf("removing a removed secret: %v", err)
	}
	if err := e.dir.EnsureFirstParty(e.ctx, tid, "https://tessera.test/graph/"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.dir.AddServicePrincipalPassword(e.ctx, tid, directory.AppIDRef(directory.AppIDAzureCLI), directory.PasswordInput{}); !directory.IsInvalid(err) {
		t.Errorf("a secret on the Azure CLI: %v", err)
	}

	// Identifier URIs name one resource.
	for _, uri := range []string{"https://management.azure.com", "https://tessera.test/graph"} {
		if _, err := e.dir.CreateApplication(e.ctx, tid, directory.ApplicationInput{DisplayName: "hijack", IdentifierURIs: []string{uri}}); !directory.IsInvalid(err) {
			t.Errorf("registering %s: %v, want refused", uri, err)
		}
	}
	api, err := e.dir.CreateApplication(e.ctx, tid, directory.ApplicationInput{DisplayName: "api", IdentifierURIs: []string{"api://tessera-test"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.UpdateApplication(e.ctx, tid, app.ID, directory.ApplicationPatch{IdentifierURIs: &[]string{"api://tessera-test/"}}); !directory.IsInvalid(err) {
		t.Errorf("taking another app's identifier URI: %v", err)
	}
	if _, err := e.dir.UpdateApplication(e.ctx, tid, api.ID, directory.ApplicationPatch{IdentifierURIs: &[]string{"api://tessera-test", "api://two"}}); err != nil {
		t.Errorf("keeping its own identifier URI: %v", err)
	}

	// Federated credentials: list, get by name, update, delete.
	fic, err := e.dir.AddFederatedCredential(e.ctx, tid, app.ID, directory.FederatedCredentialInput{
		Name: "ci", Issuer: "https://ci.example", Subject: "repo:x"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.dir.FederatedCredential(e.ctx, tid, app.ID, "CI"); err != nil || got.ID != fic.ID {
		t.Errorf("by name: %+v %v", got, err)
	}
	subj := "repo:y"
	if got, err := e.dir.UpdateFederatedCredential(e.ctx, tid, app.ID, fic.ID, directory.FederatedCredentialPatch{Subject: &subj}); err != nil || got.Subject != subj {
		t.Errorf("update: %+v %v", got, err)
	}
	if err := e.dir.DeleteFederatedCredential(e.ctx, tid, app.ID, fic.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.dir.FederatedCredentials(e.ctx, tid, app.ID); len(list) != 0 {
		t.Errorf("after delete: %v", list)
	}
	if err := e.dir.DeleteFederatedCredential(e.ctx, tid, app.ID, fic.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestGetObjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tid := e.tenant.ID
	u := e.user(t, "u")
	g := e.group(t, "g")
	app, sp := e.app(t, "a")
	missing := directory.NewID()
	all := []string{u.ID, upper(g.ID), sp.ID, app.ID, missing, u.ID}
	cases := []struct {
		name  string
		types []string
		want  []string
	}{
		{"any type, request order, duplicates once", nil, []string{u.ID, g.ID, sp.ID, app.ID}},
		{"az's types", []string{"user", "group", "servicePrincipal", "directoryObjectPartnerReference"}, []string{u.ID, g.ID, sp.ID}},
		{"users only", []string{"User"}, []string{u.ID}},
		{"qualified name", []string{"microsoft.graph.group"}, []string{g.ID}},
		{"unknown type only", []string{"device"}, []string{}},
	}
	for _, c := range cases {
		objs, err := e.dir.GetObjects(e.ctx, tid, all, c.types)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, 0, len(objs))
		for _, o := range objs {
			got = append(got, o.ID())
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func newCert(t *testing.T) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "proof-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func signProof(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

func TestAddKeyProof(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tid := e.tenant.ID
	cert, key := newCert(t)
	app, err := e.dir.CreateApplication(e.ctx, tid, directory.ApplicationInput{DisplayName: "rotating",
		KeyCredentials: []directory.KeyCredentialInput{{Key: cert.Raw}}})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := e.dir.CreateApplication(e.ctx, tid, directory.ApplicationInput{DisplayName: "no-cert"})
	if err != nil {
		t.Fatal(err)
	}
	next, _ := newCert(t)
	_, strangerKey := newCert(t)
	now := time.Now().Unix()
	claims := func(kv ...any) map[string]any {
		c := map[string]any{"aud": directory.ProofAudience, "iss": app.ID, "nbf": now - 10, "exp": now + 300}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	cases := []struct {
		name  string
		app   domain.Application
		proof string
		ok    bool
	}{
		{"wrong audience", app, signProof(t, key, claims("aud", "https://graph.microsoft.com")), false},
		{"wrong issuer", app, signProof(t, key, claims("iss", bare.ID)), false},
		{"expired", app, signProof(t, key, claims("nbf", now-900, "exp", now-600)), false},
		{"valid too long", app, signProof(t, key, claims("exp", now+3600)), false},
		{"no exp", app, signProof(t, key, claims("exp", nil)), false},
		{"signed by a stranger", app, signProof(t, strangerKey, claims()), false},
		{"not a JWT", app, "proof", false},
		{"application without a certificate", bare, signProof(t, key, claims("iss", bare.ID)), false},
		{"valid, aud as a list", app, signProof(t, key, claims("aud", []string{directory.ProofAudience})), true},
	}
	for _, c := range cases {
		_, err := e.dir.AddKey(e.ctx, tid, c.app.ID, directory.KeyCredentialInput{Key: next.Raw}, c.proof)
		if c.ok && err != nil || !c.ok && !directory.IsInvalid(err) {
			t.Errorf("%s: AddKey = %v, want ok=%v", c.name, err, c.ok)
		}
	}
	got, _ := e.dir.GetApplication(e.ctx, tid, app.ID)
	if len(got.KeyCredentials) != 2 {
		t.Fatalf("key credentials after addKey: %d", len(got.KeyCredentials))
	}
	if err := e.dir.RemoveKey(e.ctx, tid, app.ID, got.KeyCredentials[0].KeyID, signProof(t, key, claims())); err != nil {
		t.Errorf("removeKey: %v", err)
	}
}
