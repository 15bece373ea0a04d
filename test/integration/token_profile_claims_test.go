package integration

import (
	"context"
	"net/url"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// TestTokenProfileClaims: email, given_name and family_name reach a token
// when its application asks for them (the resource's registration for the
// access token, the client's for the id_token) and the user has the value;
// v1 user tokens carry the names without asking.
func TestTokenProfileClaims(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	if err := s.App.SetAllowROPC(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	profile := []any{map[string]any{"name": "email"}, map[string]any{"name": "given_name"}, map[string]any{"name": "family_name"}}
	asking := registerProtectedAPI(t, s, "profile-v2", 2, map[string]any{"optionalClaims": map[string]any{"accessToken": profile}})
	plainV2 := registerProtectedAPI(t, s, "plain-v2", 2, nil)
	plainV1 := registerProtectedAPI(t, s, "plain-v1", 1, nil)
	client := s.CreateApp(t, "profile-cli", map[string]any{"isFallbackPublicClient": true,
		"optionalClaims": map[string]any{"idToken": profile}})
	quiet := s.CreateApp(t, "quiet-cli", map[string]any{"isFallbackPublicClient": true})
	for _, api := range []protectedAPI{asking, plainV2, plainV1} {
		grantConsent(t, s, client.SPID, api.SPID, "", "Scores.Read")
		grantConsent(t, s, quiet.SPID, api.SPID, "", "Scores.Read")
	}
	u := s.CreateUser(t, "profileuser", userPassword)
	gt := s.GraphToken(t)
	if r := graphCall(t, s, gt, "PATCH", "/users/"+u.ID, map[string]any{"givenName": "Adele", "surname": "Vance", "mail": "adele.vance@mail.example.com"}); r.Status != 204 {
		t.Fatalf("set profile: %d %s", r.Status, r.Raw)
	}
	want := map[string]any{"email": "adele.vance@mail.example.com", "given_name": "Adele", "family_name": "Vance"}
	check := func(what string, c map[string]any, names ...string) {
		t.Helper()
		expect := map[string]bool{}
		for _, n := range names {
			expect[n] = true
		}
		for k, v := range want {
			if expect[k] && c[k] != v || !expect[k] && c[k] != nil {
				t.Errorf("%s: %s = %v, want present=%v", what, k, c[k], expect[k])
			}
		}
	}

	r := ropc(t, s, client.AppID, u, "api://profile-v2/Scores.Read openid profile")
	check("v2 access token of an API that asks", verifyWithJWKS(t, s, str(r, "access_token")), "email", "given_name", "family_name")
	check("v2 id_token of a client that asks", claimsOf(t, str(r, "id_token")), "email", "given_name", "family_name")
	r = ropc(t, s, quiet.AppID, u, "api://plain-v2/Scores.Read openid profile")
	check("v2 access token of an API that does not ask", claimsOf(t, str(r, "access_token")))
	check("v2 id_token of a client that does not ask", claimsOf(t, str(r, "id_token")))
	r = ropc(t, s, quiet.AppID, u, "api://plain-v1/Scores.Read openid")
	check("v1 access token", claimsOf(t, str(r, "access_token")), "given_name", "family_name")

	// The v1 endpoint's id_token carries the names by default too.
	r = s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/token", url.Values{"grant_type": {"password"}, "client_id": {quiet.AppID},
		"username": {u.UPN}, "password": {u.Password}, "resource": {"api://plain-v1"}, "scope": {"openid"}})
	if r.Status != 200 {
		t.Fatalf("v1 endpoint: %s", r)
	}
	check("v1 id_token", claimsOf(t, str(r, "id_token")), "given_name", "family_name")

	// A value the user lacks is left out, however the application asks.
	if r := graphCall(t, s, gt, "PATCH", "/users/"+u.ID, map[string]any{"mail": nil, "surname": nil}); r.Status != 204 {
		t.Fatalf("clear profile: %d %s", r.Status, r.Raw)
	}
	r = ropc(t, s, client.AppID, u, "api://profile-v2/Scores.Read openid profile")
	check("v2 access token without mail and surname", claimsOf(t, str(r, "access_token")), "given_name")
	check("v2 id_token without mail and surname", claimsOf(t, str(r, "id_token")), "given_name")
}
