package integration

import (
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// TestGraphGroupOwners: /groups/{id}/owners lists, adds and removes owners;
// an owner manages its group (properties, members) and nothing else, sees
// it in /me/ownedObjects, and loses it all when the ownership or the group
// goes.
func TestGraphGroupOwners(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	gt := s.GraphToken(t)
	group := s.CreateGroup(t, "owned-group")
	other := s.CreateGroup(t, "other-group")
	owner := s.CreateUser(t, "gowner", "Gr0up!Owner-pass")
	member := s.CreateUser(t, "gmember", "Gr0up!Member-pass")
	ot := userGraphToken(t, s, owner.ID, owner.UPN)
	ref := func(id string) map[string]any {
		return map[string]any{"@odata.id": s.URL + "/graph/v1.0/directoryObjects/" + id}
	}

	if r := graphCall(t, s, gt, "GET", "/groups/"+group+"/owners", nil); r.Status != 200 || len(r.values()) != 0 {
		t.Fatalf("owners of a new group: %d %s", r.Status, r.Raw)
	}
	wantDenied(t, "a user adds a member to a group it does not own", graphCall(t, s, ot, "POST", "/groups/"+group+"/members/$ref", ref(member.ID)))
	wantDenied(t, "a user makes itself owner", graphCall(t, s, ot, "POST", "/groups/"+group+"/owners/$ref", ref(owner.ID)))

	if r := graphCall(t, s, gt, "POST", "/groups/"+group+"/owners/$ref", ref(owner.ID)); r.Status != 204 {
		t.Fatalf("add owner: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "POST", "/groups/"+group+"/owners/$ref", ref(owner.ID)); r.Status != 400 {
		t.Errorf("add the same owner twice: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "POST", "/groups/"+group+"/owners/$ref", ref(other)); r.Status != 400 ||
		r.errorField("message") != "Owners of a group must be users or service principals." {
		t.Errorf("a group as owner: %d %s", r.Status, r.Raw)
	}
	owners := graphCall(t, s, ot, "GET", "/groups/"+group+"/owners", nil).values()
	if len(owners) != 1 || owners[0]["id"] != owner.ID || owners[0]["@odata.type"] != "#microsoft.graph.user" {
		t.Errorf("owners: %v", owners)
	}
	owned := graphCall(t, s, ot, "GET", "/me/ownedObjects", nil).values()
	if len(owned) != 1 || owned[0]["id"] != group || owned[0]["@odata.type"] != "#microsoft.graph.group" {
		t.Errorf("/me/ownedObjects: %v", owned)
	}

	// The owner manages the group and nothing else.
	if r := graphCall(t, s, ot, "POST", "/groups/"+group+"/members/$ref", ref(member.ID)); r.Status != 204 {
		t.Errorf("owner adds a member: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, ot, "PATCH", "/groups/"+group, map[string]any{"displayName": "renamed-by-owner"}); r.Status != 204 {
		t.Errorf("owner renames its group: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, ot, "POST", "/groups/"+group+"/owners/$ref", ref(member.ID)); r.Status != 204 {
		t.Errorf("owner adds another owner: %d %s", r.Status, r.Raw)
	}
	wantDenied(t, "owner changes a group it does not own", graphCall(t, s, ot, "PATCH", "/groups/"+other, map[string]any{"displayName": "x"}))
	wantDenied(t, "owner creates a group", graphCall(t, s, ot, "POST", "/groups", map[string]any{"displayName": "g", "mailNickname": "g"}))

	// Removing the ownership ends it.
	if r := graphCall(t, s, gt, "DELETE", "/groups/"+group+"/owners/"+owner.ID+"/$ref", nil); r.Status != 204 {
		t.Fatalf("remove owner: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "DELETE", "/groups/"+group+"/owners/"+owner.ID+"/$ref", nil); r.Status != 404 {
		t.Errorf("remove an owner twice: %d %s", r.Status, r.Raw)
	}
	wantDenied(t, "former owner removes a member", graphCall(t, s, ot, "DELETE", "/groups/"+group+"/members/"+member.ID+"/$ref", nil))

	// Deleting the group deletes its ownerships.
	mt := userGraphToken(t, s, member.ID, member.UPN)
	if r := graphCall(t, s, mt, "DELETE", "/groups/"+group, nil); r.Status != 204 {
		t.Fatalf("owner deletes its group: %d %s", r.Status, r.Raw)
	}
	if owned := graphCall(t, s, mt, "GET", "/me/ownedObjects", nil).values(); len(owned) != 0 {
		t.Errorf("ownedObjects after the group was deleted: %v", owned)
	}
	if r := graphCall(t, s, gt, "GET", "/groups/"+group+"/owners", nil); r.Status != 404 {
		t.Errorf("owners of a deleted group: %d %s", r.Status, r.Raw)
	}
}

// TestGraphAppRoleAssignedTo: the resource's side of app role assignments,
// as the portal's enterprise applications page uses it: grant a role to a
// user or group, list it, revoke it.
func TestGraphAppRoleAssignedTo(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	gt := s.GraphToken(t)
	roleID := "5c1f4f6a-6b7e-4c55-8f5c-2a4d3b7e9a10"
	res := s.CreateApp(t, "assigned-resource", map[string]any{"appRoles": []map[string]any{{
		"id": roleID, "allowedMemberTypes": []string{"User", "Application"}, "displayName": "Readers",
		"description": "Read", "isEnabled": true, "value": "Data.Read"}}})
	user := s.CreateUser(t, "assignee", "Ass1gnee!pass-word")
	group := s.CreateGroup(t, "assignees")
	ut := userGraphToken(t, s, user.ID, user.UPN)

	wantDenied(t, "a user grants itself a role", graphCall(t, s, ut, "POST", "/servicePrincipals/"+res.SPID+"/appRoleAssignedTo",
		map[string]any{"principalId": user.ID, "resourceId": res.SPID, "appRoleId": roleID}))
	r := graphCall(t, s, gt, "POST", "/servicePrincipals/"+res.SPID+"/appRoleAssignedTo",
		map[string]any{"principalId": user.ID, "resourceId": res.SPID, "appRoleId": roleID})
	if r.Status != 201 || r.str("principalType") != "User" || r.str("principalId") != user.ID || r.str("resourceId") != res.SPID {
		t.Fatalf("assign to a user: %d %s", r.Status, r.Raw)
	}
	assignment := r.str("id")
	if r := graphCall(t, s, gt, "POST", "/servicePrincipals/"+res.SPID+"/appRoleAssignedTo",
		map[string]any{"principalId": group, "appRoleId": roleID}); r.Status != 201 || r.str("principalType") != "Group" {
		t.Errorf("assign to a group: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "POST", "/servicePrincipals/"+res.SPID+"/appRoleAssignedTo",
		map[string]any{"principalId": user.ID, "resourceId": res.SPID, "appRoleId": roleID}); r.Status != 400 {
		t.Errorf("assign twice: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "POST", "/servicePrincipals/"+res.SPID+"/appRoleAssignedTo",
		map[string]any{"principalId": user.ID, "resourceId": user.ID, "appRoleId": roleID}); r.Status != 400 {
		t.Errorf("another resourceId than the URL's: %d %s", r.Status, r.Raw)
	}
	if got := graphCall(t, s, gt, "GET", "/servicePrincipals/"+res.SPID+"/appRoleAssignedTo", nil).values(); len(got) != 2 {
		t.Errorf("appRoleAssignedTo: %v", got)
	}
	if got := graphCall(t, s, ut, "GET", "/me/appRoleAssignments", nil).values(); len(got) != 1 || got[0]["id"] != assignment {
		t.Errorf("the user's assignments: %v", got)
	}
	wantDenied(t, "a user revokes its role", graphCall(t, s, ut, "DELETE", "/servicePrincipals/"+res.SPID+"/appRoleAssignedTo/"+assignment, nil))
	if r := graphCall(t, s, gt, "DELETE", "/servicePrincipals/"+res.SPID+"/appRoleAssignedTo/"+assignment, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "DELETE", "/servicePrincipals/"+res.SPID+"/appRoleAssignedTo/"+assignment, nil); r.Status != 404 {
		t.Errorf("revoke twice: %d %s", r.Status, r.Raw)
	}
	if got := graphCall(t, s, ut, "GET", "/me/appRoleAssignments", nil).values(); len(got) != 0 {
		t.Errorf("the user's assignments after the revoke: %v", got)
	}
}
