package integration

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/test/testserver"
)

// TestGraphProtectedAPIs drives, over HTTPS, what protecting an API needs in
// the directory: an application's exposed scopes and claim settings,
// oAuth2PermissionGrants, getMemberObjects, the authorization policy and
// token lifetime policies, with their refusals.
func TestGraphProtectedAPIs(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	gt := s.GraphToken(t)
	plainUser := s.CreateUser(t, "plain", "Str0ng!Passw0rd")
	pt := userGraphToken(t, s, plainUser.ID, plainUser.UPN)
	appAdmin := s.CreateUser(t, "appadmin", "Str0ng!Passw0rd")
	if r := graphCall(t, s, gt, "POST", "/roleManagement/directory/roleAssignments",
		map[string]any{"principalId": appAdmin.ID, "roleDefinitionId": domain.RoleCloudApplicationAdministrator, "directoryScopeId": "/"}); r.Status != 201 {
		t.Fatalf("grant Cloud Application Administrator: %d %s", r.Status, r.Raw)
	}
	at := userGraphToken(t, s, appAdmin.ID, appAdmin.UPN)
	expect := func(what string, r graphResp, status int) graphResp {
		t.Helper()
		if r.Status != status {
			t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Raw, status)
		}
		if status == 400 && r.errorField("code") != "Request_BadRequest" {
			t.Errorf("%s: error code %q: %s", what, r.errorField("code"), r.Raw)
		}
		if status == 403 && r.errorField("code") != "Authorization_RequestDenied" {
			t.Errorf("%s: error code %q: %s", what, r.errorField("code"), r.Raw)
		}
		return r
	}

	// An API exposing a scope, and a client asking for it.
	scopeID := uuid.NewString()
	api := expect("create api", graphCall(t, s, gt, "POST", "/applications", map[string]any{
		"displayName": "files-api",
		"api": map[string]any{"requestedAccessTokenVersion": 2, "oauth2PermissionScopes": []any{map[string]any{
			"id": scopeID, "value": "Files.Read", "type": "User", "isEnabled": true,
			"adminConsentDisplayName": "Read files", "adminConsentDescription": "Reads files.",
			"userConsentDisplayName": "Read your files", "userConsentDescription": "Reads your files."}}},
		"groupMembershipClaims": "SecurityGroup",
		"optionalClaims":        map[string]any{"accessToken": []any{map[string]any{"name": "groups", "essential": false, "additionalProperties": []any{}}}},
		"web":                   map[string]any{"redirectUris": []any{"https://files.example.com/signin"}, "logoutUrl": "https://files.example.com/logout"},
	}), 201)
	apiID, apiAppID := api.str("id"), api.str("appId")
	apiJSON, _ := api.Body["api"].(map[string]any)
	scopes, _ := apiJSON["oauth2PermissionScopes"].([]any)
	if len(scopes) != 1 || scopes[0].(map[string]any)["value"] != "Files.Read" || apiJSON["requestedAccessTokenVersion"] != float64(2) {
		t.Errorf("api: %s", api.Raw)
	}
	if api.str("groupMembershipClaims") != "SecurityGroup" || api.Body["web"].(map[string]any)["logoutUrl"] != "https://files.example.com/logout" {
		t.Errorf("claims settings: %s", api.Raw)
	}
	oc, _ := api.Body["optionalClaims"].(map[string]any)
	if ac, _ := oc["accessToken"].([]any); len(ac) != 1 {
		t.Errorf("optionalClaims: %s", api.Raw)
	}
	client := expect("create client", graphCall(t, s, gt, "POST", "/applications", map[string]any{
		"displayName": "files-client",
		"requiredResourceAccess": []any{map[string]any{"resourceAppId": apiAppID,
			"resourceAccess": []any{map[string]any{"id": scopeID, "type": "Scope"}}}},
	}), 201)
	if rra, _ := client.Body["requiredResourceAccess"].([]any); len(rra) != 1 {
		t.Errorf("requiredResourceAccess: %s", client.Raw)
	}
	sel := expect("$select", graphCall(t, s, gt, "GET", "/applications/"+client.str("id")+"?$select=requiredResourceAccess,groupMembershipClaims", nil), 200)
	if _, ok := sel.Body["requiredResourceAccess"]; !ok || sel.Body["groupMembershipClaims"] != nil || sel.Body["displayName"] != nil {
		t.Errorf("$select: %s", sel.Raw)
	}
	for name, body := range map[string]map[string]any{
		"scope with a space":    {"api": map[string]any{"oauth2PermissionScopes": []any{map[string]any{"id": uuid.NewString(), "value": "Files Read", "type": "User"}}}},
		"duplicate scope value": {"api": map[string]any{"oauth2PermissionScopes": []any{map[string]any{"id": uuid.NewString(), "value": "A", "type": "User"}, map[string]any{"id": uuid.NewString(), "value": "a", "type": "Admin"}}}},
		"scope id not a GUID":   {"api": map[string]any{"oauth2PermissionScopes": []any{map[string]any{"id": "x", "value": "A", "type": "User"}}}},
		"groupMembershipClaims": {"groupMembershipClaims": "Everything"},
		"resourceAccess type":   {"requiredResourceAccess": []any{map[string]any{"resourceAppId": apiAppID, "resourceAccess": []any{map[string]any{"id": scopeID, "type": "Delegated"}}}}},
		"logoutUrl":             {"web": map[string]any{"logoutUrl": "ftp://x"}},
	} {
		expect("PATCH "+name, graphCall(t, s, gt, "PATCH", "/applications/"+apiID, body), 400)
	}
	if r := graphCall(t, s, gt, "PATCH", "/applications/"+apiID, map[string]any{"api": map[string]any{"oauth2PermissionScopes": []any{}}}); r.Status != 400 ||
		r.errorField("code") != "CannotDeleteOrUpdateEnabledEntitlement" {
		t.Errorf("removing an enabled scope: %d %s", r.Status, r.Raw)
	}
	expect("clear groupMembershipClaims", graphCall(t, s, gt, "PATCH", "/applications/"+apiID, map[string]any{"groupMembershipClaims": nil}), 204)
	if got := expect("get api", graphCall(t, s, gt, "GET", "/applications/"+apiID, nil), 200); got.Body["groupMembershipClaims"] != nil ||
		got.Body["web"].(map[string]any)["logoutUrl"] != "https://files.example.com/logout" {
		t.Errorf("after PATCH: %s", got.Raw)
	}

	apiSP := expect("api service principal", graphCall(t, s, gt, "POST", "/servicePrincipals", map[string]any{"appId": apiAppID}), 201)
	if sc, _ := apiSP.Body["oauth2PermissionScopes"].([]any); len(sc) != 1 {
		t.Errorf("service principal scopes: %s", apiSP.Raw)
	}
	clientSP := expect("client service principal", graphCall(t, s, gt, "POST", "/servicePrincipals", map[string]any{"appId": client.str("appId")}), 201)

	// oAuth2PermissionGrants.
	grantBody := map[string]any{"clientId": clientSP.str("id"), "consentType": "AllPrincipals", "resourceId": apiSP.str("id"), "scope": "Files.Read"}
	expect("non-admin creates a grant", graphCall(t, s, pt, "POST", "/oauth2PermissionGrants", grantBody), 403)
	all := expect("create AllPrincipals grant", graphCall(t, s, gt, "POST", "/oauth2PermissionGrants", grantBody), 201)
	if all.Body["principalId"] != nil || all.str("consentType") != "AllPrincipals" || all.str("scope") != "Files.Read" {
		t.Errorf("grant shape: %s", all.Raw)
	}
	expect("duplicate grant", graphCall(t, s, gt, "POST", "/oauth2PermissionGrants", grantBody), 400)
	mine := expect("application administrator creates a Principal grant", graphCall(t, s, at, "POST", "/oauth2PermissionGrants", map[string]any{
		"clientId": clientSP.str("id"), "consentType": "Principal", "principalId": plainUser.ID, "resourceId": apiSP.str("id"), "scope": "Files.Write"}), 201)
	for name, body := range map[string]map[string]any{
		"no consentType":         {"clientId": clientSP.str("id"), "resourceId": apiSP.str("id"), "scope": "x"},
		"bad consentType":        {"clientId": clientSP.str("id"), "consentType": "Everyone", "resourceId": apiSP.str("id"), "scope": "x"},
		"Principal without user": {"clientId": clientSP.str("id"), "consentType": "Principal", "resourceId": apiSP.str("id"), "scope": "x"},
		"clientId wrong type":    {"clientId": 5, "consentType": "AllPrincipals", "resourceId": apiSP.str("id")},
	} {
		expect("POST grant "+name, graphCall(t, s, gt, "POST", "/oauth2PermissionGrants", body), 400)
	}
	if r := graphCall(t, s, gt, "GET", "/oauth2PermissionGrants"+filter("clientId eq '"+clientSP.str("id")+"'"), nil); len(r.values()) != 2 {
		t.Errorf("filter by clientId: %s", r.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/oauth2PermissionGrants"+filter("clientId eq '"+clientSP.str("id")+"' and consentType eq 'Principal'"), nil); len(r.values()) != 1 || r.values()[0]["id"] != mine.str("id") {
		t.Errorf("filter by clientId and consentType: %s", r.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/oauth2PermissionGrants"+filter("principalId eq '"+plainUser.ID+"'"), nil); len(r.values()) != 1 {
		t.Errorf("filter by principalId: %s", r.Raw)
	}
	if r := graphCall(t, s, gt, "GET", "/oauth2PermissionGrants"+filter("resourceId eq '"+apiSP.str("id")+"'"), nil); len(r.values()) != 2 ||
		r.str("@odata.context") != s.URL+"/graph/v1.0/$metadata#oauth2PermissionGrants" {
		t.Errorf("filter by resourceId: %s", r.Raw)
	}
	if r := expect("grants of the client", graphCall(t, s, pt, "GET", "/servicePrincipals/"+clientSP.str("id")+"/oauth2PermissionGrants", nil), 200); len(r.values()) != 2 {
		t.Errorf("servicePrincipal grants: %s", r.Raw)
	}
	expect("get grant", graphCall(t, s, gt, "GET", "/oauth2PermissionGrants/"+all.str("id"), nil), 200)
	expect("non-admin patches", graphCall(t, s, pt, "PATCH", "/oauth2PermissionGrants/"+all.str("id"), map[string]any{"scope": "x"}), 403)
	expect("patch the client", graphCall(t, s, gt, "PATCH", "/oauth2PermissionGrants/"+all.str("id"), map[string]any{"clientId": apiSP.str("id")}), 400)
	expect("patch scope", graphCall(t, s, gt, "PATCH", "/oauth2PermissionGrants/"+all.str("id"), map[string]any{"scope": "Files.Read Files.ReadWrite"}), 204)
	if r := graphCall(t, s, gt, "GET", "/oauth2PermissionGrants/"+all.str("id"), nil); r.str("scope") != "Files.Read Files.ReadWrite" {
		t.Errorf("after patch: %s", r.Raw)
	}
	expect("non-admin deletes", graphCall(t, s, pt, "DELETE", "/oauth2PermissionGrants/"+mine.str("id"), nil), 403)
	expect("delete", graphCall(t, s, gt, "DELETE", "/oauth2PermissionGrants/"+mine.str("id"), nil), 204)
	expect("get deleted", graphCall(t, s, gt, "GET", "/oauth2PermissionGrants/"+mine.str("id"), nil), 404)
	// Deleting the client's service principal takes its grants.
	expect("delete client sp", graphCall(t, s, gt, "DELETE", "/servicePrincipals/"+clientSP.str("id"), nil), 204)
	expect("grant of a deleted client", graphCall(t, s, gt, "GET", "/oauth2PermissionGrants/"+all.str("id"), nil), 404)

	// getMemberObjects and getMemberGroups.
	outer, inner := s.CreateGroup(t, "outer"), s.CreateGroup(t, "inner")
	s.AddMember(t, outer, inner)
	s.AddMember(t, inner, plainUser.ID)
	for _, path := range []string{"/users/" + plainUser.ID + "/getMemberObjects", "/users/" + plainUser.ID + "/getMemberGroups"} {
		r := expect(path, graphCall(t, s, gt, "POST", path, map[string]any{"securityEnabledOnly": true}), 200)
		var ids []string
		for _, v := range r.Body["value"].([]any) {
			ids = append(ids, v.(string))
		}
		if len(ids) != 2 || !slices.Contains(ids, outer) || !slices.Contains(ids, inner) {
			t.Errorf("%s: %s", path, r.Raw)
		}
	}
	for _, path := range []string{"/me/getMemberObjects", "/me/getMemberGroups"} {
		if r := expect(path, graphCall(t, s, pt, "POST", path, map[string]any{"securityEnabledOnly": false}), 200); len(r.Body["value"].([]any)) != 2 {
			t.Errorf("%s: %s", path, r.Raw)
		}
	}
	if r := expect("group getMemberObjects", graphCall(t, s, gt, "POST", "/groups/"+inner+"/getMemberObjects", map[string]any{"securityEnabledOnly": false}), 200); len(r.Body["value"].([]any)) != 1 {
		t.Errorf("group getMemberObjects: %s", r.Raw)
	}
	expect("sp getMemberObjects", graphCall(t, s, gt, "POST", "/servicePrincipals/"+apiSP.str("id")+"/getMemberObjects", map[string]any{"securityEnabledOnly": false}), 200)
	expect("getMemberObjects without securityEnabledOnly", graphCall(t, s, gt, "POST", "/users/"+plainUser.ID+"/getMemberObjects", map[string]any{}), 400)
	expect("getMemberObjects with a string", graphCall(t, s, gt, "POST", "/users/"+plainUser.ID+"/getMemberObjects", map[string]any{"securityEnabledOnly": "yes"}), 400)

	// The authorization policy.
	pol := expect("get authorizationPolicy", graphCall(t, s, pt, "GET", "/policies/authorizationPolicy", nil), 200)
	perms, _ := pol.Body["defaultUserRolePermissions"].(map[string]any)
	if pol.str("id") != "authorizationPolicy" || len(perms["permissionGrantPoliciesAssigned"].([]any)) != 1 ||
		perms["permissionGrantPoliciesAssigned"].([]any)[0] != "ManagePermissionGrantsForSelf.microsoft-user-default-legacy" {
		t.Errorf("authorizationPolicy: %s", pol.Raw)
	}
	noConsent := map[string]any{"defaultUserRolePermissions": map[string]any{"permissionGrantPoliciesAssigned": []any{}}}
	expect("application administrator patches the policy", graphCall(t, s, at, "PATCH", "/policies/authorizationPolicy", noConsent), 403)
	expect("bad policy id", graphCall(t, s, gt, "PATCH", "/policies/authorizationPolicy", map[string]any{"defaultUserRolePermissions": map[string]any{"permissionGrantPoliciesAssigned": []any{"Anything"}}}), 400)
	expect("policies not a list", graphCall(t, s, gt, "PATCH", "/policies/authorizationPolicy", map[string]any{"defaultUserRolePermissions": map[string]any{"permissionGrantPoliciesAssigned": "x"}}), 400)
	expect("turn user consent off", graphCall(t, s, gt, "PATCH", "/policies/authorizationPolicy", noConsent), 204)
	pol = graphCall(t, s, gt, "GET", "/policies/authorizationPolicy", nil)
	if perms, _ := pol.Body["defaultUserRolePermissions"].(map[string]any); len(perms["permissionGrantPoliciesAssigned"].([]any)) != 0 {
		t.Errorf("after PATCH: %s", pol.Raw)
	}

	// Token lifetime policies.
	def := func(lifetime string) []any {
		return []any{`{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"` + lifetime + `"}}`}
	}
	orgBody := map[string]any{"displayName": "org", "definition": def("02:00:00"), "isOrganizationDefault": true}
	expect("application administrator creates a policy", graphCall(t, s, at, "POST", "/policies/tokenLifetimePolicies", orgBody), 403)
	org := expect("create org default", graphCall(t, s, gt, "POST", "/policies/tokenLifetimePolicies", orgBody), 201)
	if org.Body["isOrganizationDefault"] != true || len(org.Body["definition"].([]any)) != 1 || org.str("displayName") != "org" {
		t.Errorf("policy shape: %s", org.Raw)
	}
	expect("second org default", graphCall(t, s, gt, "POST", "/policies/tokenLifetimePolicies", orgBody), 400)
	for name, body := range map[string]map[string]any{
		"too short":      {"displayName": "p", "definition": def("00:05:00")},
		"too long":       {"displayName": "p", "definition": def("1.00:00:01")},
		"not a span":     {"displayName": "p", "definition": def("2 hours")},
		"not JSON":       {"displayName": "p", "definition": []any{"{"}},
		"version 2":      {"displayName": "p", "definition": []any{`{"TokenLifetimePolicy":{"Version":2,"AccessTokenLifetime":"02:00:00"}}`}},
		"no definition":  {"displayName": "p"},
		"no displayName": {"definition": def("02:00:00")},
	} {
		expect("create policy "+name, graphCall(t, s, gt, "POST", "/policies/tokenLifetimePolicies", body), 400)
	}
	short := expect("create short", graphCall(t, s, gt, "POST", "/policies/tokenLifetimePolicies", map[string]any{"displayName": "short", "definition": def("1.00:00:00")}), 201)
	if r := graphCall(t, s, gt, "GET", "/policies/tokenLifetimePolicies", nil); len(r.values()) != 2 {
		t.Errorf("list policies: %s", r.Raw)
	}
	expect("get policy", graphCall(t, s, pt, "GET", "/policies/tokenLifetimePolicies/"+short.str("id"), nil), 200)
	expect("patch out of range", graphCall(t, s, gt, "PATCH", "/policies/tokenLifetimePolicies/"+short.str("id"), map[string]any{"definition": def("00:09:00")}), 400)
	expect("patch a second default", graphCall(t, s, gt, "PATCH", "/policies/tokenLifetimePolicies/"+short.str("id"), map[string]any{"isOrganizationDefault": true}), 400)
	expect("non-admin patches a policy", graphCall(t, s, at, "PATCH", "/policies/tokenLifetimePolicies/"+short.str("id"), map[string]any{"displayName": "x"}), 403)
	expect("patch policy", graphCall(t, s, gt, "PATCH", "/policies/tokenLifetimePolicies/"+short.str("id"), map[string]any{"definition": def("00:30:00")}), 204)

	ref := map[string]any{"@odata.id": s.URL + "/graph/v1.0/policies/tokenLifetimePolicies/" + short.str("id")}
	expect("application administrator assigns a policy", graphCall(t, s, at, "POST", "/applications/"+apiID+"/tokenLifetimePolicies/$ref", ref), 403)
	expect("bad $ref", graphCall(t, s, gt, "POST", "/applications/"+apiID+"/tokenLifetimePolicies/$ref", map[string]any{"@odata.id": "nothing"}), 400)
	expect("assign", graphCall(t, s, gt, "POST", "/applications/"+apiID+"/tokenLifetimePolicies/$ref", ref), 204)
	expect("assign a second", graphCall(t, s, gt, "POST", "/applications/"+apiID+"/tokenLifetimePolicies/$ref",
		map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/policies/tokenLifetimePolicies/" + org.str("id")}), 400)
	if r := expect("app policies", graphCall(t, s, gt, "GET", "/applications/"+apiID+"/tokenLifetimePolicies", nil), 200); len(r.values()) != 1 ||
		r.values()[0]["id"] != short.str("id") || r.values()[0]["@odata.type"] != "#microsoft.graph.tokenLifetimePolicy" {
		t.Errorf("app policies: %s", r.Raw)
	}
	expect("unassign", graphCall(t, s, gt, "DELETE", "/applications/"+apiID+"/tokenLifetimePolicies/"+short.str("id")+"/$ref", nil), 204)
	expect("unassign again", graphCall(t, s, gt, "DELETE", "/applications/"+apiID+"/tokenLifetimePolicies/"+short.str("id")+"/$ref", nil), 404)
	expect("non-admin deletes a policy", graphCall(t, s, at, "DELETE", "/policies/tokenLifetimePolicies/"+short.str("id"), nil), 403)
	expect("delete policy", graphCall(t, s, gt, "DELETE", "/policies/tokenLifetimePolicies/"+short.str("id"), nil), 204)
	expect("get deleted policy", graphCall(t, s, gt, "GET", "/policies/tokenLifetimePolicies/"+short.str("id"), nil), 404)
}
