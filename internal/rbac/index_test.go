package rbac

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

const (
	sub   = "/subscriptions/a"
	rg1   = sub + "/resourceGroups/rg1"
	ws1   = rg1 + "/providers/Microsoft.MachineLearningServices/workspaces/w1"
	cmp1  = ws1 + "/computes/c1"
	wsW   = "Microsoft.MachineLearningServices/workspaces/write"
	wsR   = "Microsoft.MachineLearningServices/workspaces/read"
	cmpW  = "Microsoft.MachineLearningServices/workspaces/computes/write"
	raW   = "Microsoft.Authorization/roleAssignments/write"
	blobR = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
)

func ra(id, principal, roleID, scope string) domain.RoleAssignment {
	return domain.RoleAssignment{ID: id, PrincipalID: principal, RoleDefinitionID: roleID, Scope: scope, PrincipalType: domain.PrincipalUser}
}

func member(group, m string) domain.GroupMembership {
	return domain.GroupMembership{GroupID: group, MemberID: m}
}

func mustAllow(t *testing.T, ix *Index, who, action, scope string, want bool) Decision {
	t.Helper()
	d := ix.Decide(who, action, scope, false)
	if d.Allowed != want {
		t.Fatalf("Decide(%s, %s, %s) = %v, want %v", who, action, scope, d.Allowed, want)
	}
	return d
}

func TestDeleteAssignmentRevokesAtOnce(t *testing.T) {
	ix := New()
	if err := ix.PutAssignment(ra("ra1", "alice", domain.RoleContributor, rg1)); err != nil {
		t.Fatal(err)
	}
	d := mustAllow(t, ix, "alice", wsW, ws1, true)
	if d.Assignment.ID != "ra1" || d.Role.RoleName != "Contributor" {
		t.Errorf("granted by %s/%s", d.Assignment.ID, d.Role.RoleName)
	}
	if !ix.DeleteAssignment("RA1") { // ids are case-insensitive
		t.Fatal("DeleteAssignment: not found")
	}
	mustAllow(t, ix, "alice", wsW, ws1, false)
	if ix.DeleteAssignment("ra1") {
		t.Error("second DeleteAssignment found it again")
	}
	if _, ok := ix.Assignment("ra1"); ok {
		t.Error("Assignment still returns the deleted assignment")
	}
}

func TestRemoveMembershipRevokesInheritedAccess(t *testing.T) {
	ix := New()
	must(t, ix.PutAssignment(ra("ra1", "group-b", domain.RoleContributor, rg1)))
	must(t, ix.AddMembership(member("group-a", "alice")))
	must(t, ix.AddMembership(member("group-b", "group-a")))
	mustAllow(t, ix, "alice", wsW, ws1, true) // memoises alice's groups
	if got := ix.GroupsOf("alice"); !slices.Equal(got, []string{"group-a", "group-b"}) {
		t.Errorf("GroupsOf(alice) = %v", got)
	}
	if !ix.RemoveMembership(member("group-b", "group-a")) {
		t.Fatal("RemoveMembership: not found")
	}
	mustAllow(t, ix, "alice", wsW, ws1, false)
	if got := ix.GroupsOf("alice"); !slices.Equal(got, []string{"group-a"}) {
		t.Errorf("GroupsOf(alice) after removal = %v", got)
	}
	if ix.RemoveMembership(member("group-b", "group-a")) {
		t.Error("second RemoveMembership found it again")
	}
	// And back.
	must(t, ix.AddMembership(member("group-b", "group-a")))
	mustAllow(t, ix, "alice", wsW, ws1, true)
}

func TestGroupCycles(t *testing.T) {
	ix := New()
	must(t, ix.AddMembership(member("g1", "u")))
	must(t, ix.AddMembership(member("g2", "g1")))
	must(t, ix.AddMembership(member("g1", "g2")))
	must(t, ix.AddMembership(member("g3", "g3")))
	if got := ix.GroupsOf("u"); !slices.Equal(got, []string{"g1", "g2"}) {
		t.Errorf("GroupsOf(u) = %v", got)
	}
	if got := ix.GroupsOf("g1"); !slices.Equal(got, []string{"g2"}) {
		t.Errorf("GroupsOf(g1) = %v (a group is not its own group)", got)
	}
	if got := ix.GroupsOf("g3"); len(got) != 0 {
		t.Errorf("GroupsOf(g3) = %v", got)
	}
	must(t, ix.PutAssignment(ra("x", "g2", domain.RoleReader, "/")))
	mustAllow(t, ix, "u", wsR, ws1, true)
}

func TestPutAssignmentReplacesByID(t *testing.T) {
	ix := New()
	must(t, ix.PutAssignment(ra("ra1", "alice", domain.RoleOwner, sub)))
	must(t, ix.PutAssignment(ra("ra1", "alice", domain.RoleReader, sub)))
	mustAllow(t, ix, "alice", wsW, ws1, false)
	mustAllow(t, ix, "alice", wsR, ws1, true)
	must(t, ix.PutAssignment(ra("ra1", "bob", domain.RoleReader, sub)))
	mustAllow(t, ix, "alice", wsR, ws1, false)
	mustAllow(t, ix, "bob", wsR, ws1, true)
	if n := len(ix.Assignments()); n != 1 {
		t.Errorf("%d assignments, want 1", n)
	}
}

func TestCustomRoleLifecycle(t *testing.T) {
	ix := New()
	const id = "30000000-0000-0000-0000-000000000001"
	// The assignment may arrive before its role.
	must(t, ix.PutAssignment(ra("ra1", "alice", id, rg1)))
	mustAllow(t, ix, "alice", wsR, ws1, false)
	def := domain.RoleDefinition{ID: id, RoleName: "WS Reader", AssignableScopes: []string{sub},
		Permissions: []domain.Permission{{Actions: []string{wsR}}}}
	must(t, ix.PutDefinition(def))
	d := mustAllow(t, ix, "alice", wsR, ws1, true)
	if d.Role.Type != domain.RoleTypeCustom || d.Role.RoleName != "WS Reader" {
		t.Errorf("role %+v", d.Role)
	}
	// Replacing the definition takes effect at once (the verdict cache goes with it).
	def.Permissions = []domain.Permission{{Actions: []string{wsW}}}
	def.RoleName = "WS Writer"
	must(t, ix.PutDefinition(def))
	mustAllow(t, ix, "alice", wsR, ws1, false)
	mustAllow(t, ix, "alice", wsW, ws1, true)
	if _, ok := ix.DefinitionByName("WS Reader"); ok {
		t.Error("the old name still resolves")
	}
	if r, ok := ix.DefinitionByName("ws writer"); !ok || r.ID != id {
		t.Error("the new name does not resolve")
	}
	if !ix.DeleteDefinition(id) {
		t.Fatal("DeleteDefinition: not found")
	}
	mustAllow(t, ix, "alice", wsW, ws1, false)
	if ix.CanAssign(id, sub) {
		t.Error("a deleted role is assignable")
	}
}

func TestPutDefinitionRejects(t *testing.T) {
	ix := New()
	ok := domain.RoleDefinition{ID: "40000000-0000-0000-0000-000000000001", RoleName: "Mine", AssignableScopes: []string{"/"}}
	must(t, ix.PutDefinition(ok))
	for name, d := range map[string]domain.RoleDefinition{
		"no id":               {RoleName: "x", AssignableScopes: []string{"/"}},
		"built-in id":         {ID: domain.RoleOwner, RoleName: "x", AssignableScopes: []string{"/"}},
		"claims built-in":     {ID: "40000000-0000-0000-0000-000000000002", Type: domain.RoleTypeBuiltIn, RoleName: "x", AssignableScopes: []string{"/"}},
		"no name":             {ID: "40000000-0000-0000-0000-000000000003", AssignableScopes: []string{"/"}},
		"no scopes":           {ID: "40000000-0000-0000-0000-000000000004", RoleName: "y"},
		"built-in name":       {ID: "40000000-0000-0000-0000-000000000005", RoleName: "owner", AssignableScopes: []string{"/"}},
		"another role's name": {ID: "40000000-0000-0000-0000-000000000006", RoleName: "MINE", AssignableScopes: []string{"/"}},
	} {
		if err := ix.PutDefinition(d); err == nil {
			t.Errorf("%s: PutDefinition accepted %+v", name, d)
		}
	}
	if ix.DeleteDefinition(domain.RoleOwner) {
		t.Error("a built-in role was deleted")
	}
	if _, ok := ix.Definition(domain.RoleOwner); !ok {
		t.Error("Owner is gone")
	}
}

func TestPutAssignmentRejects(t *testing.T) {
	ix := New()
	for name, a := range map[string]domain.RoleAssignment{
		"no id":        ra("", "p", domain.RoleOwner, sub),
		"no principal": ra("x", "", domain.RoleOwner, sub),
		"no role":      ra("x", "p", "", sub),
		"no scope":     ra("x", "p", domain.RoleOwner, ""),
	} {
		if err := ix.PutAssignment(a); err == nil {
			t.Errorf("%s: PutAssignment accepted %+v", name, a)
		}
	}
	must(t, ix.PutAssignment(ra("root", "p", domain.RoleReader, "/")))
	mustAllow(t, ix, "p", wsR, ws1, true)
}

func TestLoadReplacesEverything(t *testing.T) {
	ix := New()
	must(t, ix.PutAssignment(ra("old", "alice", domain.RoleOwner, "/")))
	custom := domain.RoleDefinition{ID: "50000000-0000-0000-0000-000000000001", RoleName: "Custom", AssignableScopes: []string{"/"},
		Permissions: []domain.Permission{{Actions: []string{cmpW}}}}
	owner, _ := BuiltInRole("Owner")
	owner.Permissions = nil // a store's stale copy of a built-in must not override the embedded one
	err := ix.Load(
		[]domain.RoleDefinition{custom, owner},
		[]domain.RoleAssignment{
			ra("new", "g", custom.ID, rg1),
			ra("own", "bob", domain.RoleOwner, sub),
			ra("", "bad", domain.RoleOwner, sub), // skipped and reported
			ra("dup", "carol", domain.RoleOwner, sub),
			ra("DUP", "carol", domain.RoleReader, sub), // the last of an id wins
		},
		[]domain.GroupMembership{member("g", "alice")},
	)
	if err == nil {
		t.Error("Load did not report the invalid assignment")
	}
	mustAllow(t, ix, "alice", wsW, ws1, false) // the old root Owner grant is gone
	mustAllow(t, ix, "alice", cmpW, cmp1, true)
	mustAllow(t, ix, "bob", raW, ws1, true)
	mustAllow(t, ix, "carol", wsR, ws1, true)
	mustAllow(t, ix, "carol", wsW, ws1, false)
	if a, ok := ix.Assignment("dup"); !ok || a.RoleDefinitionID != domain.RoleReader {
		t.Errorf("Assignment(dup) = %+v, %v", a, ok)
	}
	if st := ix.Stats(); st.Assignments != 3 || st.Roles != 17 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestPermissions(t *testing.T) {
	ix := New()
	must(t, ix.Load(nil, []domain.RoleAssignment{
		ra("1", "alice", domain.RoleReader, "/"),
		ra("2", "g", domain.RoleContributor, rg1),
		ra("3", "alice", domain.RoleReader, sub), // Reader again: listed once
		ra("4", "alice", domain.RoleOwner, "/subscriptions/b"),
	}, []domain.GroupMembership{member("g", "alice")}))
	got := ix.Permissions("alice", ws1)
	contributor, _ := BuiltInRole("Contributor")
	reader, _ := BuiltInRole("Reader")
	want := append(contributor.Permissions, reader.Permissions...)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Permissions =\n%v\nwant\n%v", got, want)
	}
	if got := ix.Permissions("nobody", ws1); got == nil || len(got) != 0 {
		t.Errorf("Permissions(nobody) = %#v, want an empty list", got)
	}
}

func TestHasAssignmentWithin(t *testing.T) {
	ix := New()
	must(t, ix.Load(nil, []domain.RoleAssignment{
		ra("1", "alice", domain.RoleReader, ws1),
		ra("2", "g", domain.RoleReader, "/subscriptions/b"),
		ra("3", "carol", "60000000-0000-0000-0000-000000000001", "/"), // undefined role
	}, []domain.GroupMembership{member("g", "bob")}))
	for _, tt := range []struct {
		who, scope string
		want       bool
	}{
		{"alice", sub, true},  // below
		{"alice", ws1, true},  // at
		{"alice", cmp1, true}, // above
		{"alice", "/subscriptions/b", false},
		{"alice", "/subscriptions/ab", false},
		{"bob", "/subscriptions/b", true}, // through a group
		{"bob", "/subscriptions/b/resourceGroups/x", true},
		{"bob", sub, false},
		{"carol", sub, false},
		{"nobody", sub, false},
	} {
		if got := ix.HasAssignmentWithin(tt.who, tt.scope); got != tt.want {
			t.Errorf("HasAssignmentWithin(%s, %s) = %v, want %v", tt.who, tt.scope, got, tt.want)
		}
	}
}

func TestSuggestRoles(t *testing.T) {
	ix := New()
	names := func(defs []domain.RoleDefinition) []string {
		var out []string
		for _, d := range defs {
			out = append(out, d.RoleName)
		}
		return out
	}
	got := names(ix.SuggestRoles(cmpW, false))
	want := []string{"AzureML Compute Operator", "Azure AI Developer", "Contributor", "Owner"}
	if !slices.Equal(got, want) {
		t.Errorf("SuggestRoles(computes/write) = %q, want %q", got, want)
	}
	got = names(ix.SuggestRoles(raW, false))
	want = []string{"Role Based Access Control Administrator", "User Access Administrator", "Owner"}
	if !slices.Equal(got, want) {
		t.Errorf("SuggestRoles(roleAssignments/write) = %q, want %q", got, want)
	}
	got = names(ix.SuggestRoles(blobR, true))
	want = []string{"Storage Blob Data Contributor", "Storage Blob Data Reader"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("SuggestRoles(blobs/read, data) = %q, want %q", got, want)
	}
	if got := ix.SuggestRoles(blobR, false); slices.ContainsFunc(got, func(d domain.RoleDefinition) bool { return d.RoleName == "Storage Blob Data Reader" }) {
		t.Error("a data action was suggested as a control-plane action")
	}
	got = names(ix.SuggestRoles(wsR, false))
	want = []string{"AzureML Data Scientist", "Azure AI Developer", "Reader", "Contributor", "User Access Administrator", "Role Based Access Control Administrator", "Owner"}
	if !slices.Equal(got, want) {
		t.Errorf("SuggestRoles(workspaces/read) = %q, want %q", got, want)
	}
}

func TestDefinitions(t *testing.T) {
	ix := New()
	must(t, ix.PutDefinition(domain.RoleDefinition{ID: "70000000-0000-0000-0000-000000000002", RoleName: "Zed", AssignableScopes: []string{"/"}}))
	must(t, ix.PutDefinition(domain.RoleDefinition{ID: "70000000-0000-0000-0000-000000000001", RoleName: "Alpha", AssignableScopes: []string{"/"}}))
	defs := ix.Definitions()
	if len(defs) != 18 || defs[0].RoleName != "Owner" || defs[16].RoleName != "Alpha" || defs[17].RoleName != "Zed" {
		t.Errorf("Definitions() has %d roles, first %q, last two %q %q", len(defs), defs[0].RoleName, defs[16].RoleName, defs[17].RoleName)
	}
	if d, ok := ix.Definition("/subscriptions/a/providers/Microsoft.Authorization/roleDefinitions/70000000-0000-0000-0000-000000000001"); !ok || d.RoleName != "Alpha" {
		t.Error("Definition by ARM id failed")
	}
}

// TestConcurrentDecideAndWrite is for the race detector: decisions run while
// assignments, memberships and definitions change and the index is reloaded.
func TestConcurrentDecideAndWrite(t *testing.T) {
	ix := New()
	must(t, ix.PutAssignment(ra("base", "g0", domain.RoleReader, sub)))
	must(t, ix.AddMembership(member("g0", "alice")))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if !ix.Decide("alice", wsR, ws1, false).Allowed {
					t.Error("alice lost the stable grant")
					return
				}
				ix.Decide(fmt.Sprintf("u%d", i%10), wsW, ws1, w%2 == 0)
				ix.Permissions("alice", ws1)
				ix.GroupsOf("alice")
			}
		})
	}
	for i := range 300 {
		id := fmt.Sprintf("ra%d", i%20)
		must(t, ix.PutAssignment(ra(id, fmt.Sprintf("u%d", i%10), domain.RoleContributor, rg1)))
		must(t, ix.AddMembership(member(fmt.Sprintf("g%d", i%5+1), fmt.Sprintf("u%d", i%10))))
		ix.RemoveMembership(member(fmt.Sprintf("g%d", (i+2)%5+1), fmt.Sprintf("u%d", (i+3)%10)))
		ix.DeleteAssignment(fmt.Sprintf("ra%d", (i+7)%20))
		must(t, ix.PutDefinition(domain.RoleDefinition{ID: "80000000-0000-0000-0000-000000000001", RoleName: "Churn",
			AssignableScopes: []string{"/"}, Permissions: []domain.Permission{{Actions: []string{fmt.Sprintf("a/%d/*", i)}}}}))
		if i%100 == 99 {
			must(t, ix.Load(nil, []domain.RoleAssignment{ra("base", "g0", domain.RoleReader, sub)}, []domain.GroupMembership{member("g0", "alice")}))
		}
	}
	close(stop)
	wg.Wait()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestAssignmentRoundTrip(t *testing.T) {
	ix := New()
	created := time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC)
	full := domain.RoleAssignment{
		ID: "ra-full", TenantID: "t1", Scope: "/subscriptions/A/resourceGroups/RG1",
		RoleDefinitionID: "/subscriptions/A/providers/Microsoft.Authorization/roleDefinitions/" + domain.RoleReader,
		PrincipalID:      "alice", PrincipalType: domain.PrincipalUser, Description: "for the audit",
		CreatedBy: "admin", CreatedAt: created, UpdatedAt: created.Add(time.Hour),
	}
	bare := ra("ra-bare", "bob", domain.RoleOwner, "/")
	must(t, ix.PutAssignment(full))
	must(t, ix.PutAssignment(bare))
	for _, want := range []domain.RoleAssignment{full, bare} {
		if got, ok := ix.Assignment(want.ID); !ok || got != want {
			t.Errorf("Assignment(%s) =\n%+v\nwant\n%+v", want.ID, got, want)
		}
	}
	d := mustAllow(t, ix, "alice", wsR, "/subscriptions/a/resourceGroups/rg1/providers/X.Y/z/1", true)
	if d.Assignment != full {
		t.Errorf("Decision.Assignment = %+v", d.Assignment)
	}
	// Load keeps them the same way.
	must(t, ix.Load(nil, []domain.RoleAssignment{full, bare}, nil))
	if got, _ := ix.Assignment("ra-full"); got != full {
		t.Errorf("after Load: %+v", got)
	}
	if got := ix.AssignmentsFor("alice"); len(got) != 1 || got[0] != full {
		t.Errorf("AssignmentsFor(alice) = %+v", got)
	}
}

func TestRoleAssignmentCount(t *testing.T) {
	ix := New()
	must(t, ix.PutAssignment(ra("1", "a", domain.RoleReader, sub)))
	must(t, ix.PutAssignment(ra("2", "b", strings.ToUpper(domain.RoleReader), rg1)))
	must(t, ix.PutAssignment(ra("3", "b", domain.RoleOwner, rg1)))
	if n := ix.RoleAssignmentCount(domain.RoleReader); n != 2 {
		t.Errorf("Reader used %d times, want 2", n)
	}
	ix.DeleteAssignment("2")
	must(t, ix.PutAssignment(ra("3", "b", domain.RoleReader, rg1))) // moves from Owner to Reader
	if n, m := ix.RoleAssignmentCount(domain.RoleReader), ix.RoleAssignmentCount(domain.RoleOwner); n != 2 || m != 0 {
		t.Errorf("Reader used %d times, Owner %d; want 2 and 0", n, m)
	}
	if n := ix.RoleAssignmentCount("90000000-0000-0000-0000-000000000000"); n != 0 {
		t.Errorf("unknown role used %d times", n)
	}
}

func TestRoleNamesAreUniquePerTenant(t *testing.T) {
	ix := New()
	def := func(id, tenant, name string) domain.RoleDefinition {
		return domain.RoleDefinition{ID: id, TenantID: tenant, RoleName: name, AssignableScopes: []string{"/"}}
	}
	must(t, ix.PutDefinition(def("a0000000-0000-0000-0000-000000000001", "t1", "Operator")))
	must(t, ix.PutDefinition(def("a0000000-0000-0000-0000-000000000002", "t2", "operator")))
	if err := ix.PutDefinition(def("a0000000-0000-0000-0000-000000000003", "t1", "OPERATOR")); err == nil {
		t.Error("a second role of the same name in one tenant was accepted")
	}
	if err := ix.PutDefinition(def("a0000000-0000-0000-0000-000000000004", "t3", "Reader")); err == nil {
		t.Error("a custom role took a built-in name")
	}
	if d, ok := ix.DefinitionByNameIn("t2", "Operator"); !ok || d.TenantID != "t2" {
		t.Errorf("DefinitionByNameIn(t2) = %+v, %v", d, ok)
	}
	if d, ok := ix.DefinitionByNameIn("t2", "reader"); !ok || d.ID != domain.RoleReader {
		t.Errorf("DefinitionByNameIn(t2, reader) = %+v, %v", d, ok)
	}
	if _, ok := ix.DefinitionByNameIn("t3", "Operator"); ok {
		t.Error("t3 sees another tenant's role")
	}
	if d, ok := ix.DefinitionByName("operator"); !ok || d.TenantID != "t1" {
		t.Errorf("DefinitionByName = %+v, %v; want the smallest tenant's", d, ok)
	}
	// Renaming frees the old name.
	must(t, ix.PutDefinition(def("a0000000-0000-0000-0000-000000000001", "t1", "Runner")))
	must(t, ix.PutDefinition(def("a0000000-0000-0000-0000-000000000003", "t1", "Operator")))
}
