package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

func fullGroup(tenantID string) domain.Group {
	w := word()
	return domain.Group{
		ID:              newID(),
		TenantID:        tenantID,
		DisplayName:     "Engineering " + w,
		MailNickname:    "eng" + w,
		SecurityEnabled: true,
		MailEnabled:     true,
		CreatedAt:       at(0),
	}
}

// members returns a group's direct member ids, sorted.
func members(t *testing.T, s store.Store, tenantID, groupID string) []string {
	t.Helper()
	got, err := s.ListGroupMembers(t.Context(), tenantID, groupID)
	ok(t, err)
	slices.Sort(got)
	return got
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// sortedEdges orders membership edges for comparison; list order is not part
// of the contract.
func sortedEdges(in []domain.GroupMembership) []domain.GroupMembership {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b domain.GroupMembership) int {
		return strings.Compare(a.TenantID+"\x00"+a.GroupID+"\x00"+a.MemberID, b.TenantID+"\x00"+b.GroupID+"\x00"+b.MemberID)
	})
	return out
}

func testGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID, otherTenantID := newID(), newID()
	full := fullGroup(tenantID)
	minimal := domain.Group{ID: newID(), TenantID: tenantID}
	elsewhere := fullGroup(otherTenantID)
	for _, g := range []domain.Group{full, minimal, elsewhere} {
		ok(t, s.CreateGroup(ctx, g))
	}

	t.Run("GetGroup round trip", func(t *testing.T) {
		for name, want := range map[string]domain.Group{"full": full, "minimal": minimal, "other tenant": elsewhere} {
			t.Run(name, func(t *testing.T) {
				got, err := s.GetGroup(t.Context(), want.TenantID, want.ID)
				ok(t, err)
				equal(t, want, got)
			})
		}
	})

	t.Run("ListGroups is per tenant", func(t *testing.T) {
		got, err := s.ListGroups(t.Context(), tenantID)
		ok(t, err)
		equalByID(t, []domain.Group{full, minimal}, got)
		got, err = s.ListGroups(t.Context(), newID())
		ok(t, err)
		if len(got) != 0 {
			t.Fatalf("ListGroups of an unknown tenant = %v, want none", got)
		}
	})

	t.Run("UpdateGroup", func(t *testing.T) {
		ctx := t.Context()
		g := fullGroup(tenantID)
		ok(t, s.CreateGroup(ctx, g))
		g.DisplayName = "Renamed"
		g.MailNickname = "renamed"
		g.SecurityEnabled = false
		g.MailEnabled = false
		g.CreatedAt = at(time.Minute)
		ok(t, s.UpdateGroup(ctx, g))
		got, err := s.GetGroup(ctx, tenantID, g.ID)
		ok(t, err)
		equal(t, g, got)
	})

	t.Run("same id in another tenant", func(t *testing.T) {
		g := fullGroup(newID())
		g.ID = full.ID
		ok(t, s.CreateGroup(t.Context(), g))
	})

	t.Run("members", func(t *testing.T) {
		ctx := t.Context()
		tid := newID()
		parent, child, grandchild := fullGroup(tid), fullGroup(tid), fullGroup(tid)
		for _, g := range []domain.Group{parent, child, grandchild} {
			ok(t, s.CreateGroup(ctx, g))
		}
		user, sp := newID(), newID()
		edges := []domain.GroupMembership{
			{TenantID: tid, GroupID: parent.ID, MemberID: user},
			{TenantID: tid, GroupID: parent.ID, MemberID: sp},
			{TenantID: tid, GroupID: parent.ID, MemberID: child.ID},
			{TenantID: tid, GroupID: child.ID, MemberID: grandchild.ID},
			{TenantID: tid, GroupID: child.ID, MemberID: user},
		}
		for _, m := range edges {
			ok(t, s.AddGroupMember(ctx, m))
		}
		// The same edge in another tenant is another edge.
		foreign := domain.GroupMembership{TenantID: newID(), GroupID: parent.ID, MemberID: user}
		ok(t, s.AddGroupMember(ctx, foreign))

		if got, want := members(t, s, tid, parent.ID), sorted(user, sp, child.ID); !slices.Equal(got, want) {
			t.Fatalf("ListGroupMembers(parent) = %v, want %v", got, want)
		}
		if got, want := members(t, s, tid, child.ID), sorted(grandchild.ID, user); !slices.Equal(got, want) {
			t.Fatalf("ListGroupMembers(child) = %v, want %v", got, want)
		}
		if got := members(t, s, tid, grandchild.ID); len(got) != 0 {
			t.Fatalf("ListGroupMembers of a group without members = %v, want none", got)
		}
		if got := members(t, s, tid, newID()); len(got) != 0 {
			t.Fatalf("ListGroupMembers of an unknown group = %v, want none", got)
		}
		all, err := s.ListGroupMemberships(ctx, tid)
		ok(t, err)
		equal(t, sortedEdges(edges), sortedEdges(all))
		all, err = s.ListGroupMemberships(ctx, foreign.TenantID)
		ok(t, err)
		equal(t, []domain.GroupMembership{foreign}, all)

		t.Run("AddGroupMember of an existing edge", func(t *testing.T) {
			isErr(t, s.AddGroupMember(t.Context(), edges[0]), store.ErrConflict)
		})

		t.Run("RemoveGroupMember", func(t *testing.T) {
			ctx := t.Context()
			ok(t, s.RemoveGroupMember(ctx, edges[1]))
			if got, want := members(t, s, tid, parent.ID), sorted(user, child.ID); !slices.Equal(got, want) {
				t.Fatalf("after RemoveGroupMember: %v, want %v", got, want)
			}
			isErr(t, s.RemoveGroupMember(ctx, edges[1]), store.ErrNotFound)
			// Removed edges can be added again.
			ok(t, s.AddGroupMember(ctx, edges[1]))
		})

		t.Run("DeleteGroup removes its edges both ways", func(t *testing.T) {
			ctx := t.Context()
			ok(t, s.DeleteGroup(ctx, tid, child.ID))
			_, err := s.GetGroup(ctx, tid, child.ID)
			isErr(t, err, store.ErrNotFound)
			if got, want := members(t, s, tid, parent.ID), sorted(user, sp); !slices.Equal(got, want) {
				t.Fatalf("members of the deleted group's parent = %v, want %v", got, want)
			}
			if got := members(t, s, tid, child.ID); len(got) != 0 {
				t.Fatalf("members of the deleted group = %v, want none", got)
			}
			all, err := s.ListGroupMemberships(ctx, tid)
			ok(t, err)
			equal(t, sortedEdges([]domain.GroupMembership{edges[0], edges[1]}), sortedEdges(all))
			// Other tenants' edges are untouched, and so are the other groups.
			all, err = s.ListGroupMemberships(ctx, foreign.TenantID)
			ok(t, err)
			equal(t, []domain.GroupMembership{foreign}, all)
			got, err := s.GetGroup(ctx, tid, grandchild.ID)
			ok(t, err)
			equal(t, grandchild, got)
		})
	})

	t.Run("conflicts", func(t *testing.T) {
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				dup := fullGroup(tenantID)
				dup.ID = full.ID
				return s.CreateGroup(ctx, dup)
			}},
		})
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"GetGroup", func(ctx context.Context) error { return discard(s.GetGroup(ctx, tenantID, newID())) }},
			{"GetGroup in another tenant", func(ctx context.Context) error { return discard(s.GetGroup(ctx, otherTenantID, minimal.ID)) }},
			{"UpdateGroup", func(ctx context.Context) error { return s.UpdateGroup(ctx, fullGroup(tenantID)) }},
			{"UpdateGroup in another tenant", func(ctx context.Context) error {
				g := minimal
				g.TenantID = otherTenantID
				return s.UpdateGroup(ctx, g)
			}},
			{"DeleteGroup", func(ctx context.Context) error { return s.DeleteGroup(ctx, tenantID, newID()) }},
			{"DeleteGroup in another tenant", func(ctx context.Context) error { return s.DeleteGroup(ctx, otherTenantID, minimal.ID) }},
			{"RemoveGroupMember", func(ctx context.Context) error {
				return s.RemoveGroupMember(ctx, domain.GroupMembership{TenantID: tenantID, GroupID: full.ID, MemberID: newID()})
			}},
		})
	})
}

func fullRoleDefinition(tenantID string) domain.RoleDefinition {
	sub := "/subscriptions/" + newID()
	return domain.RoleDefinition{
		// Upper case, so that a backend keeping only the lower-cased key fails.
		ID:          strings.ToUpper(newID()),
		TenantID:    tenantID,
		RoleName:    "Workspace Operator " + word(),
		Description: "Starts and stops compute.",
		Type:        domain.RoleTypeCustom,
		Permissions: []domain.Permission{
			{
				Actions:        []string{"Microsoft.MachineLearningServices/workspaces/read", "Microsoft.MachineLearningServices/workspaces/computes/*"},
				NotActions:     []string{"Microsoft.MachineLearningServices/workspaces/computes/delete"},
				DataActions:    []string{"Microsoft.MachineLearningServices/workspaces/jobs/read"},
				NotDataActions: []string{"Microsoft.MachineLearningServices/workspaces/jobs/delete"},
			},
			{Actions: []string{"Microsoft.Resources/subscriptions/resourceGroups/read"}},
		},
		AssignableScopes: []string{sub, sub + "/resourceGroups/rg-" + word()},
		CreatedBy:        newID(),
		CreatedAt:        at(0),
		UpdatedAt:        at(time.Hour),
	}
}

func testRoleDefinitions(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID, otherTenantID := newID(), newID()
	full := fullRoleDefinition(tenantID)
	minimal := domain.RoleDefinition{ID: newID(), TenantID: tenantID, RoleName: "minimal " + word()}
	elsewhere := fullRoleDefinition(otherTenantID)
	for _, d := range []domain.RoleDefinition{full, minimal, elsewhere} {
		ok(t, s.CreateRoleDefinition(ctx, d))
	}

	t.Run("GetRoleDefinition round trip", func(t *testing.T) {
		for name, want := range map[string]domain.RoleDefinition{"full": full, "minimal": minimal, "other tenant": elsewhere} {
			t.Run(name, func(t *testing.T) {
				got, err := s.GetRoleDefinition(t.Context(), want.ID)
				ok(t, err)
				equal(t, want, got)
			})
		}
	})

	t.Run("GetRoleDefinition is case-insensitive", func(t *testing.T) {
		for variant, id := range caseVariants(full.ID) {
			t.Run(variant, func(t *testing.T) {
				got, err := s.GetRoleDefinition(t.Context(), id)
				ok(t, err)
				equal(t, full, got)
			})
		}
	})

	t.Run("ListRoleDefinitions is per tenant", func(t *testing.T) {
		got, err := s.ListRoleDefinitions(t.Context(), tenantID)
		ok(t, err)
		equalByID(t, []domain.RoleDefinition{full, minimal}, got)
		got, err = s.ListRoleDefinitions(t.Context(), newID())
		ok(t, err)
		if len(got) != 0 {
			t.Fatalf("ListRoleDefinitions of an unknown tenant = %v, want none", got)
		}
	})

	t.Run("UpdateRoleDefinition replaces every field", func(t *testing.T) {
		ctx := t.Context()
		d := fullRoleDefinition(tenantID)
		ok(t, s.CreateRoleDefinition(ctx, d))
		oldName := d.RoleName
		d.RoleName = "Renamed " + word()
		d.Description = ""
		d.Permissions = []domain.Permission{{Actions: []string{"*/read"}, NotActions: []string{"Microsoft.Authorization/*/write"}}}
		d.AssignableScopes = d.AssignableScopes[:1]
		d.CreatedBy = newID()
		d.UpdatedAt = at(48 * time.Hour)
		ok(t, s.UpdateRoleDefinition(ctx, d))
		got, err := s.GetRoleDefinition(ctx, d.ID)
		ok(t, err)
		equal(t, d, got)
		// The old name is free again, in this tenant.
		again := fullRoleDefinition(tenantID)
		again.RoleName = strings.ToUpper(oldName)
		ok(t, s.CreateRoleDefinition(ctx, again))
	})

	t.Run("UpdateRoleDefinition finds the id in any case", func(t *testing.T) {
		ctx := t.Context()
		d := fullRoleDefinition(tenantID)
		ok(t, s.CreateRoleDefinition(ctx, d))
		d.ID = strings.ToLower(d.ID)
		d.Description = "lower-case id"
		ok(t, s.UpdateRoleDefinition(ctx, d))
		got, err := s.GetRoleDefinition(ctx, strings.ToUpper(d.ID))
		ok(t, err)
		equal(t, d, got)
	})

	t.Run("DeleteRoleDefinition frees the id and the name", func(t *testing.T) {
		ctx := t.Context()
		d := fullRoleDefinition(tenantID)
		ok(t, s.CreateRoleDefinition(ctx, d))
		ok(t, s.DeleteRoleDefinition(ctx, strings.ToLower(d.ID)))
		_, err := s.GetRoleDefinition(ctx, d.ID)
		isErr(t, err, store.ErrNotFound)
		got, err := s.ListRoleDefinitions(ctx, tenantID)
		ok(t, err)
		for _, g := range got {
			if strings.EqualFold(g.ID, d.ID) {
				t.Fatalf("ListRoleDefinitions still has the deleted definition")
			}
		}
		ok(t, s.CreateRoleDefinition(ctx, d))
	})

	t.Run("same name in another tenant", func(t *testing.T) {
		d := fullRoleDefinition(newID())
		d.RoleName = full.RoleName
		ok(t, s.CreateRoleDefinition(t.Context(), d))
	})

	t.Run("conflicts", func(t *testing.T) {
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				dup := fullRoleDefinition(tenantID)
				dup.ID = full.ID
				return s.CreateRoleDefinition(ctx, dup)
			}},
			{"duplicate id in another case and tenant", func(ctx context.Context) error {
				dup := fullRoleDefinition(newID())
				dup.ID = strings.ToLower(full.ID)
				return s.CreateRoleDefinition(ctx, dup)
			}},
			{"duplicate name in another case", func(ctx context.Context) error {
				dup := fullRoleDefinition(tenantID)
				dup.RoleName = strings.ToUpper(full.RoleName)
				return s.CreateRoleDefinition(ctx, dup)
			}},
			{"update to another definition's name", func(ctx context.Context) error {
				changed := minimal
				changed.RoleName = strings.ToLower(full.RoleName)
				return s.UpdateRoleDefinition(ctx, changed)
			}},
		})
		got, err := s.GetRoleDefinition(t.Context(), minimal.ID)
		ok(t, err)
		equal(t, minimal, got)
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"GetRoleDefinition", func(ctx context.Context) error { return discard(s.GetRoleDefinition(ctx, newID())) }},
			{"UpdateRoleDefinition", func(ctx context.Context) error { return s.UpdateRoleDefinition(ctx, fullRoleDefinition(tenantID)) }},
			// A definition never moves between tenants.
			{"UpdateRoleDefinition in another tenant", func(ctx context.Context) error {
				d := minimal
				d.TenantID = otherTenantID
				return s.UpdateRoleDefinition(ctx, d)
			}},
			{"DeleteRoleDefinition", func(ctx context.Context) error { return s.DeleteRoleDefinition(ctx, newID()) }},
		})
		got, err := s.GetRoleDefinition(t.Context(), minimal.ID)
		ok(t, err)
		equal(t, minimal, got)
	})
}
