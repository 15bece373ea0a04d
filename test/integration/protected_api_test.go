package integration

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/test/testserver"
)

// protectedAPI is an API registered in the tenant that exposes delegated
// scopes and an app role, with a secret (it is also a middle tier).
type protectedAPI struct {
	testserver.App
	ReadID, WriteID, RoleID string
}

func registerProtectedAPI(t *testing.T, s *testserver.Server, name string, version int, extra map[string]any) protectedAPI {
	t.Helper()
	api := protectedAPI{ReadID: uuid.NewString(), WriteID: uuid.NewString(), RoleID: uuid.NewString()}
	body := map[string]any{
		"identifierUris": []any{"api://" + name},
		"api": map[string]any{"requestedAccessTokenVersion": version, "oauth2PermissionScopes": []any{
			map[string]any{"id": api.ReadID, "value": "Scores.Read", "type": "User", "isEnabled": true,
				"adminConsentDisplayName": "Read scores", "adminConsentDescription": "Reads scores.",
				"userConsentDisplayName": "Read your scores", "userConsentDescription": "Reads your scores."},
			map[string]any{"id": api.WriteID, "value": "Scores.Write", "type": "Admin", "isEnabled": true,
				"adminConsentDisplayName": "Write scores", "adminConsentDescription": "Writes scores."},
		}},
		"appRoles": []any{map[string]any{"id": api.RoleID, "value": "Scorer", "displayName": "Scorer",
			"description": "Scores models.", "allowedMemberTypes": []any{"User"}, "isEnabled": true}},
	}
	for k, v := range extra {
		body[k] = v
	}
	api.App = s.CreateApp(t, name, body)
	return api
}

// ropc asks for a user token by the password grant.
func ropc(t *testing.T, s *testserver.Server, clientID string, u testserver.User, scope string) testserver.TokenResponse {
	t.Helper()
	return s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"password"}, "client_id": {clientID}, "username": {u.UPN}, "password": {u.Password}, "scope": {scope}})
}

func grantConsent(t *testing.T, s *testserver.Server, clientSP, resourceSP, principalID, scope string) string {
	t.Helper()
	body := map[string]any{"clientId": clientSP, "resourceId": resourceSP, "scope": scope, "consentType": "AllPrincipals"}
	if principalID != "" {
		body["consentType"], body["principalId"] = "Principal", principalID
	}
	r := graphCall(t, s, s.GraphToken(t), "POST", "/oauth2PermissionGrants", body)
	if r.Status != 201 {
		t.Fatalf("grant consent: %d %s", r.Status, r.Raw)
	}
	return r.str("id")
}

// TestDelegatedPermissionsNeedConsent: a user token for an API of the
// tenant's carries exactly the consented scopes asked for; a scope not
// consented is AADSTS65001, one the API does not expose AADSTS650053.
func TestDelegatedPermissionsNeedConsent(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	if err := s.App.SetAllowROPC(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	api := registerProtectedAPI(t, s, "scoring", 2, nil)
	client := s.CreateApp(t, "scoring-cli", map[string]any{"isFallbackPublicClient": true,
		"requiredResourceAccess": []any{map[string]any{"resourceAppId": api.AppID,
			"resourceAccess": []any{map[string]any{"id": api.ReadID, "type": "Scope"}}}}})
	u := s.CreateUser(t, "scorer", userPassword)
	other := s.CreateUser(t, "bystander", userPassword)

	wantOAuthError(t, ropc(t, s, client.AppID, u, "api://scoring/Scores.Read"), "invalid_grant", 65001)
	wantOAuthError(t, ropc(t, s, client.AppID, u, "api://scoring/.default"), "invalid_grant", 65001)
	wantOAuthError(t, ropc(t, s, client.AppID, u, "api://scoring/Scores.Delete"), "invalid_scope", 650053)

	// The user's own consent covers the user only.
	grantConsent(t, s, client.SPID, api.SPID, u.ID, "Scores.Read")
	r := ropc(t, s, client.AppID, u, "api://scoring/Scores.Read openid offline_access")
	if r.Status != 200 {
		t.Fatalf("consented: %s", r)
	}
	c := verifyWithJWKS(t, s, str(r, "access_token"))
	if c["scp"] != "Scores.Read" || c["aud"] != api.AppID || c["ver"] != "2.0" || c["oid"] != u.ID || c["azp"] != client.AppID {
		t.Errorf("claims %v", c)
	}
	wantOAuthError(t, ropc(t, s, client.AppID, other, "api://scoring/Scores.Read"), "invalid_grant", 65001)
	// Asking for more than was consented is refused, not trimmed.
	wantOAuthError(t, ropc(t, s, client.AppID, u, "api://scoring/Scores.Read api://scoring/Scores.Write"), "invalid_grant", 65001)
	// "/.default" is the consented subset of what the client requires.
	if c := claimsOf(t, str(ropc(t, s, client.AppID, u, "api://scoring/.default"), "access_token")); c["scp"] != "Scores.Read" {
		t.Errorf(".default scp %v", c["scp"])
	}
	// A refresh for a scope not consented is refused the same way.
	wantOAuthError(t, refresh(t, s, client.AppID, str(r, "refresh_token"), "api://scoring/Scores.Write"), "invalid_grant", 65001)

	// An administrator's consent for everyone.
	grantConsent(t, s, client.SPID, api.SPID, "", "Scores.Read Scores.Write")
	r = ropc(t, s, client.AppID, other, "api://scoring/Scores.Read api://scoring/Scores.Write")
	if c := claimsOf(t, str(r, "access_token")); c["scp"] != "Scores.Read Scores.Write" {
		t.Errorf("admin-consented scp %v (%s)", c["scp"], r)
	}
	// Microsoft's own resources need no consent, as before.
	if r := ropc(t, s, client.AppID, u, "https://management.azure.com/user_impersonation"); r.Status != 200 {
		t.Errorf("ARM: %s", r)
	}
}

// TestTokenClaimsFollowTheApplication: groups, wids and roles as the API's
// registration asks, the groups overage above 200, and a token lifetime
// policy on the API changing exp.
func TestTokenClaimsFollowTheApplication(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	if err := s.App.SetAllowROPC(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	api := registerProtectedAPI(t, s, "features", 1, map[string]any{"groupMembershipClaims": "All",
		"optionalClaims": map[string]any{"accessToken": []any{map[string]any{"name": "acct"}}}})
	client := s.CreateApp(t, "features-cli", map[string]any{"isFallbackPublicClient": true, "groupMembershipClaims": "SecurityGroup",
		"optionalClaims": map[string]any{"idToken": []any{map[string]any{"name": "upn"}}}})
	grantConsent(t, s, client.SPID, api.SPID, "", "Scores.Read")
	u := s.CreateUser(t, "featureuser", userPassword)
	gt := s.GraphToken(t)
	outer, inner := s.CreateGroup(t, "feature-outer"), s.CreateGroup(t, "feature-inner")
	s.AddMember(t, inner, u.ID)
	s.AddMember(t, outer, inner)
	if r := graphCall(t, s, gt, "POST", "/servicePrincipals/"+api.SPID+"/appRoleAssignedTo",
		map[string]any{"principalId": outer, "resourceId": api.SPID, "appRoleId": api.RoleID}); r.Status != 201 {
		t.Fatalf("assign app role to group: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, gt, "POST", "/roleManagement/directory/roleAssignments", map[string]any{
		"principalId": u.ID, "roleDefinitionId": domain.RoleCloudApplicationAdministrator, "directoryScopeId": "/"}); r.Status != 201 {
		t.Fatalf("assign directory role: %d %s", r.Status, r.Raw)
	}

	r := ropc(t, s, client.AppID, u, "api://features/Scores.Read openid")
	c := verifyWithJWKS(t, s, str(r, "access_token"))
	if c["acct"] != float64(0) {
		t.Errorf("acct %v (optional claim of the API)", c["acct"])
	}
	// The id_token follows the client's registration.
	id := claimsOf(t, str(r, "id_token"))
	if id["upn"] != u.UPN || len(stringsOf(id["groups"])) != 2 || id["wids"] != nil {
		t.Errorf("id_token upn %v groups %v wids %v", id["upn"], id["groups"], id["wids"])
	}
	groups := stringsOf(c["groups"])
	if !slices.Contains(groups, outer) || !slices.Contains(groups, inner) || len(groups) != 2 {
		t.Errorf("groups %v, want %s and %s", c["groups"], outer, inner)
	}
	if !slices.Equal(stringsOf(c["roles"]), []string{"Scorer"}) {
		t.Errorf("roles %v (through the outer group)", c["roles"])
	}
	if !slices.Contains(stringsOf(c["wids"]), domain.RoleCloudApplicationAdministrator) {
		t.Errorf("wids %v", c["wids"])
	}
	// v1 shape: the audience as the client named it.
	if c["aud"] != "api://features" || c["ver"] != "1.0" {
		t.Errorf("v1 claims %v", c)
	}

	// ApplicationGroup: only the groups assigned to the API; DirectoryRole:
	// the roles alone.
	for setting, want := range map[string]struct {
		groups []string
		wids   bool
	}{"ApplicationGroup": {[]string{outer}, false}, "DirectoryRole": {nil, true}} {
		if r := graphCall(t, s, gt, "PATCH", "/applications/"+api.ObjectID, map[string]any{"groupMembershipClaims": setting}); r.Status != 204 {
			t.Fatalf("set %s: %d %s", setting, r.Status, r.Raw)
		}
		c := claimsOf(t, str(ropc(t, s, client.AppID, u, "api://features/Scores.Read"), "access_token"))
		if got := stringsOf(c["groups"]); !slices.Equal(got, want.groups) && !(len(got) == 0 && len(want.groups) == 0) {
			t.Errorf("%s: groups %v, want %v", setting, got, want.groups)
		}
		if (c["wids"] != nil) != want.wids {
			t.Errorf("%s: wids %v", setting, c["wids"])
		}
	}
	if r := graphCall(t, s, gt, "PATCH", "/applications/"+api.ObjectID, map[string]any{"groupMembershipClaims": "All"}); r.Status != 204 {
		t.Fatalf("set All: %d %s", r.Status, r.Raw)
	}

	// A lifetime policy on the API: two hours.
	pol := graphCall(t, s, gt, "POST", "/policies/tokenLifetimePolicies", map[string]any{"displayName": "two-hours",
		"definition": []any{`{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"02:00:00"}}`}})
	if pol.Status != 201 {
		t.Fatalf("create policy: %d %s", pol.Status, pol.Raw)
	}
	if r := graphCall(t, s, gt, "POST", "/applications/"+api.ObjectID+"/tokenLifetimePolicies/$ref",
		map[string]any{"@odata.id": s.URL + "/graph/v1.0/policies/tokenLifetimePolicies/" + pol.str("id")}); r.Status != 204 {
		t.Fatalf("assign policy: %d %s", r.Status, r.Raw)
	}
	r = ropc(t, s, client.AppID, u, "api://features/Scores.Read")
	c = claimsOf(t, str(r, "access_token"))
	if life := c["exp"].(float64) - c["iat"].(float64); life < 2*3600 || life > 2*3600+600 {
		t.Errorf("exp - iat = %v s under a two-hour policy", life)
	}
	if in, _ := r.Body["expires_in"].(float64); in != 7199 {
		t.Errorf("expires_in %v", r.Body["expires_in"])
	}
	// Other resources keep the default.
	r = ropc(t, s, client.AppID, u, "https://management.azure.com/user_impersonation")
	if in, _ := r.Body["expires_in"].(float64); in != 3599 {
		t.Errorf("ARM expires_in %v", r.Body["expires_in"])
	}

	// Overage: 201 groups do not fit a JWT.
	for i := range 200 {
		s.AddMember(t, s.CreateGroup(t, fmt.Sprintf("bulk-%03d", i)), u.ID)
	}
	c = claimsOf(t, str(ropc(t, s, client.AppID, u, "api://features/Scores.Read"), "access_token"))
	names, _ := c["_claim_names"].(map[string]any)
	sources, _ := c["_claim_sources"].(map[string]any)
	src, _ := sources["src1"].(map[string]any)
	if c["groups"] != nil || names["groups"] != "src1" || !strings.HasSuffix(fmt.Sprint(src["endpoint"]), "/users/"+u.ID+"/getMemberObjects") {
		t.Errorf("overage: groups %v, _claim_names %v, _claim_sources %v", c["groups"], c["_claim_names"], c["_claim_sources"])
	}
}

// TestOnBehalfOf: a middle-tier API exchanges the user's token for itself
// for a downstream token as the same user, once consented; an assertion for
// another audience, or an application's, is refused.
func TestOnBehalfOf(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	if err := s.App.SetAllowROPC(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	middle := registerProtectedAPI(t, s, "middle", 2, nil)
	down := registerProtectedAPI(t, s, "downstream", 2, nil)
	client := s.CreateApp(t, "obo-cli", map[string]any{"isFallbackPublicClient": true})
	grantConsent(t, s, client.SPID, middle.SPID, "", "Scores.Read")
	u := s.CreateUser(t, "obouser", userPassword)
	userToken := str(ropc(t, s, client.AppID, u, "api://middle/Scores.Read"), "access_token")
	obo := func(assertion, clientID, secret, scope string) testserver.TokenResponse {
		return s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "requested_token_use": {"on_behalf_of"},
			"client_id": {clientID}, "client_secret": {secret}, "assertion": {assertion}, "scope": {scope}})
	}
	wantOAuthError(t, obo(userToken, middle.AppID, middle.Secret, "api://downstream/Scores.Read"), "invalid_grant", 65001)
	grantConsent(t, s, middle.SPID, down.SPID, "", "Scores.Read")
	r := obo(userToken, middle.AppID, middle.Secret, "api://downstream/Scores.Read")
	if r.Status != 200 {
		t.Fatalf("on-behalf-of: %s", r)
	}
	c := verifyWithJWKS(t, s, str(r, "access_token"))
	if c["oid"] != u.ID || c["aud"] != down.AppID || c["azp"] != middle.AppID || c["scp"] != "Scores.Read" || c["preferred_username"] != u.UPN {
		t.Errorf("downstream claims %v", c)
	}
	if _, ok := r.Body["id_token"]; ok {
		t.Error("an on-behalf-of response carries an id_token")
	}
	// The downstream API may not present the middle tier's assertion.
	wantOAuthError(t, obo(userToken, down.AppID, down.Secret, "api://middle/Scores.Read"), "invalid_grant", 50013)
	// The middle tier must authenticate.
	wantOAuthError(t, obo(userToken, middle.AppID, "wrong", "api://downstream/Scores.Read"), "invalid_client", 7000215)
	// An application's own token is not a user's.
	appToken := s.AppToken(t, client.AppID, client.Secret, "api://middle/.default")
	wantOAuthError(t, obo(appToken, middle.AppID, middle.Secret, "api://downstream/Scores.Read"), "invalid_grant", 50013)
	wantOAuthError(t, obo("not-a-token", middle.AppID, middle.Secret, "api://downstream/Scores.Read"), "invalid_grant", 50013)
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		out = append(out, fmt.Sprint(e))
	}
	return out
}
