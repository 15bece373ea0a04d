package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

const (
	roleGlobalAdministrator      = "62e90394-69f5-4237-9190-012177145e10"
	roleApplicationAdministrator = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	roleUserAdministrator        = "fe930be7-5e62-47db-91af-98c3a49a38b1"
)

func wantDenied(t *testing.T, what string, r graphResp) {
	t.Helper()
	if r.Status != http.StatusForbidden || r.errorField("code") != "Authorization_RequestDenied" ||
		r.errorField("message") != "Insufficient privileges to complete the operation." {
		t.Errorf("%s: %d %s, want 403 Authorization_RequestDenied", what, r.Status, r.Raw)
	}
}

// TestGraphAuthorization: principals without a directory role read the
// directory and are refused writes; owners manage their own applications;
// granting a directory role takes effect on the next call.
func TestGraphAuthorization(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	gt := s.GraphToken(t)
	target := s.CreateApp(t, "someone-elses", nil)
	nobody := s.CreateApp(t, "no-directory-role", nil)
	nt := s.AppToken(t, nobody.AppID, nobody.Secret, s.URL+"/graph/.default")

	// Reads are open.
	if r := graphCall(t, s, nt, "GET", "/applications"+filter("appId eq '"+target.AppID+"'"), nil); r.Status != 200 || len(r.values()) != 1 {
		t.Errorf("a principal without roles lists applications: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, nt, "GET", "/users", nil); r.Status != 200 || len(r.values()) == 0 {
		t.Errorf("a principal without roles lists users: %d %s", r.Status, r.Raw)
	}
	// Writes are not.
	wantDenied(t, "create application", graphCall(t, s, nt, "POST", "/applications", map[string]any{"displayName": "mine"}))
	wantDenied(t, "addPassword on another's app", graphCall(t, s, nt, "POST", "/applications/"+target.ObjectID+"/addPassword", map[string]any{}))
	wantDenied(t, "delete another's app", graphCall(t, s, nt, "DELETE", "/applications/"+target.ObjectID, nil))
	wantDenied(t, "create user", graphCall(t, s, nt, "POST", "/users", map[string]any{"displayName": "x", "userPrincipalName": "x@" + s.Bootstrap.Domain,
		"passwordProfile": map[string]any{"password": "Passw0rd!x"}}))
	wantDenied(t, "create group", graphCall(t, s, nt, "POST", "/groups", map[string]any{"displayName": "g", "mailNickname": "g"}))
	wantDenied(t, "make itself Global Administrator", graphCall(t, s, nt, "POST", "/roleManagement/directory/roleAssignments",
		map[string]any{"principalId": nobody.SPID, "roleDefinitionId": roleGlobalAdministrator, "directoryScopeId": "/"}))
	wantDenied(t, "reset another service principal's credentials", graphCall(t, s, nt, "POST", "/servicePrincipals/"+target.SPID+"/addPassword", map[string]any{}))
	if r := clientCredentials(t, s, target.AppID, target.Secret, armScope); r.Status != 200 {
		t.Errorf("the refused calls changed the target: %s", r)
	}

	// An owner manages its own application and nothing else.
	if r := graphCall(t, s, gt, "POST", "/applications/"+target.ObjectID+"/owners/$ref",
		map[string]any{"@odata.id": s.URL + "/graph/v1.0/directoryObjects/" + nobody.SPID}); r.Status != 204 {
		t.Fatalf("add owner: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, nt, "PATCH", "/applications/"+target.ObjectID, map[string]any{"displayName": "renamed-by-owner"}); r.Status != 204 {
		t.Errorf("owner renames its app: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, nt, "POST", "/servicePrincipals/"+target.SPID+"/addPassword", map[string]any{}); r.Status != 200 {
		t.Errorf("owner adds a secret to its app's service principal: %d %s", r.Status, r.Raw)
	}
	other := s.CreateApp(t, "not-owned", nil)
	wantDenied(t, "owner patches an app it does not own", graphCall(t, s, nt, "PATCH", "/applications/"+other.ObjectID, map[string]any{"displayName": "x"}))
	owners := graphCall(t, s, nt, "GET", "/applications/"+target.ObjectID+"/owners", nil).values()
	found := false
	for _, o := range owners {
		found = found || o["id"] == nobody.SPID && o["@odata.type"] == "#microsoft.graph.servicePrincipal"
	}
	if !found {
		t.Errorf("owners list lacks the new owner: %v", owners)
	}

	// Granting Application Administrator works on the next call.
	r := graphCall(t, s, gt, "POST", "/roleManagement/directory/roleAssignments",
		map[string]any{"principalId": nobody.SPID, "roleDefinitionId": roleApplicationAdministrator, "directoryScopeId": "/"})
	if r.Status != 201 {
		t.Fatalf("grant Application Administrator: %d %s", r.Status, r.Raw)
	}
	created := graphCall(t, s, nt, "POST", "/applications", map[string]any{"displayName": "now-allowed"})
	if created.Status != 201 {
		t.Fatalf("Application Administrator creates an app: %d %s", created.Status, created.Raw)
	}
	wantDenied(t, "Application Administrator creates a user", graphCall(t, s, nt, "POST", "/users", map[string]any{"displayName": "x"}))
	if r := graphCall(t, s, gt, "DELETE", "/roleManagement/directory/roleAssignments/"+r.str("id"), nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	wantDenied(t, "after the revoke", graphCall(t, s, nt, "POST", "/applications", map[string]any{"displayName": "again"}))
	// It still owns what it created.
	if r := graphCall(t, s, nt, "DELETE", "/applications/"+created.str("id"), nil); r.Status != 204 {
		t.Errorf("creator deletes the app it owns: %d %s", r.Status, r.Raw)
	}
}

// TestGraphUsers: user lifecycle with an administrator, the User
// Administrator's limits, and /me with delegated and app tokens.
func TestGraphUsers(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	gt := s.GraphToken(t)
	dom := s.Bootstrap.Domain
	mk := func(nick string) graphResp {
		t.Helper()
		r := graphCall(t, s, gt, "POST", "/users", map[string]any{"userPrincipalName": nick + "@" + dom, "displayName": nick,
			"passwordProfile": map[string]any{"password": "Str0ng!Passw0rd", "forceChangePasswordNextSignIn": false},
			"mailNickname":    nick, "accountEnabled": true})
		if r.Status != 201 || r.str("@odata.type") != "#microsoft.graph.user" || r.str("userPrincipalName") != nick+"@"+dom {
			t.Fatalf("create user %s: %d %s", nick, r.Status, r.Raw)
		}
		return r
	}
	helpdesk := mk("helpdesk")
	alice := mk("alice")
	if r := graphCall(t, s, gt, "GET", "/users/alice%40"+dom, nil); r.Status != 200 || r.str("id") != alice.str("id") {
		t.Errorf("az ad user show by UPN: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/users"+filter("userPrincipalName eq 'ALICE@"+dom+"'"), nil); len(r.values()) != 1 {
		t.Errorf("assignee resolution by UPN: %s", r.Raw)
	}
	if r := graphCall(t, s, gt, "POST", "/roleManagement/directory/roleAssignments",
		map[string]any{"principalId": helpdesk.str("id"), "roleDefinitionId": roleUserAdministrator, "directoryScopeId": "/"}); r.Status != 201 {
		t.Fatalf("grant User Administrator: %d %s", r.Status, r.Raw)
	}

	// /me: delegated only.
	ht := userGraphToken(t, s, helpdesk.str("id"), "helpdesk@"+dom)
	if r := graphCall(t, s, ht, "GET", "/me", nil); r.Status != 200 || r.str("userPrincipalName") != "helpdesk@"+dom {
		t.Errorf("/me: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/me", nil); r.Status != 400 || r.errorField("code") != "BadRequest" ||
		r.errorField("message") != "/me request is only valid with delegated authentication flow." {
		t.Errorf("/me with an app token: %d %s", r.Status, r.Raw)
	}

	// The User Administrator resets and disables an ordinary user...
	if r := graphCall(t, s, ht, "PATCH", "/users/"+alice.str("id"), map[string]any{"passwordProfile": map[string]any{"password": "An0ther!Passw0rd"}}); r.Status != 204 {
		t.Errorf("User Administrator resets a password: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, ht, "PATCH", "/users/"+alice.str("id"), map[string]any{"accountEnabled": false}); r.Status != 204 {
		t.Errorf("User Administrator disables a user: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/users/"+alice.str("id")+"?$select=accountEnabled,displayName", nil); r.Body["accountEnabled"] != false || r.Body["userPrincipalName"] != nil {
		t.Errorf("disabled user with $select: %s", r.Raw)
	}
	// ...but not the administrator.
	admin := graphCall(t, s, gt, "GET", "/users('"+s.Bootstrap.Admin.UserPrincipalName+"')", nil)
	if admin.Status != 200 {
		t.Fatalf("admin by users('upn'): %d %s", admin.Status, admin.Raw)
	}
	wantDenied(t, "User Administrator resets a Global Administrator", graphCall(t, s, ht, "PATCH", "/users/"+admin.str("id"),
		map[string]any{"passwordProfile": map[string]any{"password": "Takeover!123"}}))
	wantDenied(t, "User Administrator creates an app", graphCall(t, s, ht, "POST", "/applications", map[string]any{"displayName": "x"}))

	if r := graphCall(t, s, ht, "DELETE", "/users/"+alice.str("id"), nil); r.Status != 204 {
		t.Errorf("delete user: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/users/"+alice.str("id"), nil); r.Status != 404 || r.errorField("code") != "Request_ResourceNotFound" {
		t.Errorf("deleted user: %d %s", r.Status, r.Raw)
	}
	// The audit log has the whole story.
	audit := graphCall(t, s, gt, "GET", "/auditLogs/directoryAudits?$top=50", nil)
	seen := map[string]int{}
	for _, e := range audit.values() {
		// microsoft.graph.directoryAudit
		seen[e["activityDisplayName"].(string)+"/"+e["result"].(string)]++
		if e["loggedByService"] != "Core Directory" || e["category"] == "" || e["operationType"] == "" || e["activityDateTime"] == "" {
			t.Errorf("directoryAudit shape: %v", e)
		}
		if e["activityDisplayName"] == "Add user" {
			by, _ := e["initiatedBy"].(map[string]any)
			targets, _ := e["targetResources"].([]any)
			user, _ := by["user"].(map[string]any)
			app, _ := by["app"].(map[string]any) // the Graph token here is an app's
			if (user == nil || user["userPrincipalName"] == "") && (app == nil || app["servicePrincipalId"] == "") || e["category"] != "UserManagement" ||
				e["operationType"] != "Add" || len(targets) != 1 || targets[0].(map[string]any)["type"] != "User" {
				t.Errorf("Add user: %v", e)
			}
		}
	}
	for _, want := range []string{"Add user/success", "Reset user password/success", "Disable account/success", "Delete user/success",
		"Add member to role/success", "Update user/failure", "Add application/failure"} {
		if seen[want] == 0 {
			t.Errorf("audit log lacks %s: %v", want, seen)
		}
	}
}

// TestGraphGroupsAndRBAC: nested groups show in checkMemberGroups, and an
// RBAC assignment to the outer group reaches a service principal in the
// inner group on the next ARM call; deleting an application takes its
// service principal, memberships and role assignments with it.
func TestGraphGroupsAndRBAC(t *testing.T) {
	groupsAndRBAC(t, testserver.Start(t, testserver.Options{}))
}

// TestGraphGroupsAndRBACPostgres runs the same on the PostgreSQL backend
// (skipped unless TESSERA_TEST_POSTGRES_DSN is set).
func TestGraphGroupsAndRBACPostgres(t *testing.T) {
	groupsAndRBAC(t, testserver.Start(t, testserver.Options{Store: testserver.FreshPostgres(t)}))
}

func groupsAndRBAC(t *testing.T, s *testserver.Server) {
	gt := s.GraphToken(t)
	ws := s.Workspace(t, "grp-rg", "grp-ws")
	worker := s.CreateApp(t, "grouped-worker", nil)
	mkGroup := func(name string) string {
		t.Helper()
		if r := graphCall(t, s, gt, "GET", "/groups"+filter("displayName eq '"+name+"' and mailNickname eq '"+name+"'"), nil); len(r.values()) != 0 {
			t.Fatalf("group %s exists already", name)
		}
		r := graphCall(t, s, gt, "POST", "/groups", map[string]any{"displayName": name, "mailNickname": name, "mailEnabled": false, "securityEnabled": true})
		if r.Status != 201 {
			t.Fatalf("create group: %d %s", r.Status, r.Raw)
		}
		return r.str("id")
	}
	outer, inner := mkGroup("ml-readers"), mkGroup("ml-team")
	addMember := func(group, member string) {
		t.Helper()
		r := graphCall(t, s, gt, "POST", "/groups/"+group+"/members/$ref", map[string]any{"@odata.id": s.URL + "/graph/v1.0/directoryObjects/" + member})
		if r.Status != 204 {
			t.Fatalf("member add: %d %s", r.Status, r.Raw)
		}
	}
	s.Assign(t, ws, testserver.RoleReader, outer)
	tok := s.ARMToken(t, worker.AppID, worker.Secret)
	if r := s.ARM(t, tok, "GET", ws+mlAPI, nil); r.Status != 403 {
		t.Fatalf("before joining: %d", r.Status)
	}
	addMember(outer, inner)
	addMember(inner, worker.SPID)

	check := graphCall(t, s, gt, "POST", "/directoryObjects/"+worker.SPID+"/checkMemberGroups", map[string]any{"groupIds": []string{outer, inner}})
	vs, _ := check.Body["value"].([]any)
	if check.Status != 200 || len(vs) != 2 {
		t.Errorf("checkMemberGroups through nesting: %d %s", check.Status, check.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/groups/"+outer+"/members", nil); len(r.values()) != 1 || r.values()[0]["@odata.type"] != "#microsoft.graph.group" {
		t.Errorf("direct members: %s", r.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/groups/"+outer+"/transitiveMembers", nil); len(r.values()) != 2 {
		t.Errorf("transitive members: %s", r.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/servicePrincipals/"+worker.SPID+"/transitiveMemberOf", nil); len(r.values()) != 2 {
		t.Errorf("transitiveMemberOf: %s", r.Raw)
	}
	if r := graphCall(t, s, gt, "POST", "/groups/"+inner+"/members/$ref", map[string]any{"@odata.id": s.URL + "/graph/v1.0/directoryObjects/" + outer}); r.Status != 400 ||
		!strings.Contains(r.errorField("message"), "cycle") {
		t.Errorf("cycle: %d %s", r.Status, r.Raw)
	}
	if r := s.ARM(t, tok, "GET", ws+mlAPI, nil); r.Status != 200 {
		t.Errorf("Reader through nested groups, right after joining: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "DELETE", "/groups/"+inner+"/members/"+worker.SPID+"/$ref", nil); r.Status != 204 {
		t.Fatalf("member remove: %d %s", r.Status, r.Raw)
	}
	if r := s.ARM(t, tok, "GET", ws+mlAPI, nil); r.Status != 403 {
		t.Errorf("after leaving the group: %d, want 403", r.Status)
	}

	// Delete the application: its service principal, memberships and RBAC assignments go.
	addMember(inner, worker.SPID)
	s.Assign(t, ws, testserver.RoleContributor, worker.SPID)
	list := func() int {
		r := s.ARM(t, s.AdminARMToken(t), "GET", ws+"/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01", nil)
		n := 0
		for _, v := range r.Body["value"].([]any) {
			if v.(map[string]any)["properties"].(map[string]any)["principalId"] == worker.SPID {
				n++
			}
		}
		return n
	}
	if list() != 1 {
		t.Fatal("the direct assignment is not listed")
	}
	if r := graphCall(t, s, gt, "DELETE", "/applications/"+worker.ObjectID, nil); r.Status != 204 {
		t.Fatalf("delete application: %d %s", r.Status, r.Raw)
	}
	if n := list(); n != 0 {
		t.Errorf("%d role assignments of the deleted service principal remain", n)
	}
	if r := graphCall(t, s, gt, "GET", "/servicePrincipals/"+worker.SPID, nil); r.Status != 404 {
		t.Errorf("service principal after the app delete: %d", r.Status)
	}
	if r := graphCall(t, s, gt, "GET", "/groups/"+inner+"/members", nil); len(r.values()) != 0 {
		t.Errorf("group still lists the deleted service principal: %s", r.Raw)
	}
	if r := clientCredentials(t, s, worker.AppID, worker.Secret, armScope); r.Status == 200 {
		t.Error("the deleted application still gets tokens")
	}
	if r := s.ARM(t, tok, "GET", ws+mlAPI, nil); r.Status != 403 {
		t.Errorf("a token of the deleted service principal still reads the workspace: %d", r.Status)
	}
	if r := graphCall(t, s, gt, "GET", "/applications(appId='"+worker.AppID+"')", nil); r.Status != 404 || !strings.Contains(r.errorField("message"), worker.AppID) {
		t.Errorf("deleted application by appId: %d %s", r.Status, r.Raw)
	}
}
