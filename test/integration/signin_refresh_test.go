package integration

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/tessera-id/tessera/test/testserver"
)

// signedIn returns the token response of a fresh browser sign-in.
func signedIn(t *testing.T, s *testserver.Server, u testserver.User) testserver.TokenResponse {
	t.Helper()
	a := newAuthReq(s)
	r := redeem(t, s, a, signInCode(t, s, s.NewBrowser(t), a, u), nil)
	if r.Status != 200 {
		t.Fatal(r)
	}
	return r
}

// TestRefreshTokenRules: rotation, reuse detection that revokes the family
// (also under concurrent refresh), family refresh between FOCI clients, and
// the end of refresh tokens when the user is disabled.
func TestRefreshTokenRules(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "refresher", userPassword)

	t.Run("rotation and reuse", func(t *testing.T) {
		r1 := signedIn(t, s, u)
		r2 := refresh(t, s, azCLI, str(r1, "refresh_token"), "https://graph.microsoft.com/.default openid offline_access")
		if r2.Status != 200 || str(r2, "refresh_token") == str(r1, "refresh_token") || str(r2, "id_token") == "" {
			t.Fatalf("refresh: %s", r2)
		}
		if aud := claimsOf(t, str(r2, "access_token"))["aud"]; aud != "https://graph.microsoft.com" {
			t.Fatalf("a refresh for another resource gave aud %v", aud)
		}
		wantOAuthError(t, refresh(t, s, azCLI, str(r1, "refresh_token"), armScope), "invalid_grant", 70000)
		wantOAuthError(t, refresh(t, s, azCLI, str(r2, "refresh_token"), armScope), "invalid_grant", 70000)
	})
	t.Run("concurrent refresh: one wins, then the family is revoked", func(t *testing.T) {
		rt := str(signedIn(t, s, u), "refresh_token")
		var wg sync.WaitGroup
		results := make([]testserver.TokenResponse, 6)
		for i := range results {
			wg.Go(func() { results[i] = refresh(t, s, azCLI, rt, armScope) })
		}
		wg.Wait()
		wins := 0
		var winner string
		for _, r := range results {
			if r.Status == 200 {
				wins++
				winner = str(r, "refresh_token")
			} else {
				wantOAuthError(t, r, "invalid_grant", 70000)
			}
		}
		if wins != 1 {
			t.Fatalf("%d concurrent refreshes won", wins)
		}
		wantOAuthError(t, refresh(t, s, azCLI, winner, armScope), "invalid_grant", 70000)
	})
	t.Run("family refresh between first-party clients", func(t *testing.T) {
		r := refresh(t, s, azPowerShell, str(signedIn(t, s, u), "refresh_token"), armScope)
		if r.Status != 200 || str(r, "foci") != "1" {
			t.Fatalf("FOCI refresh: %s", r)
		}
		if appid := claimsOf(t, str(r, "access_token"))["appid"]; appid != azPowerShell {
			t.Fatalf("appid %v", appid)
		}
	})
	t.Run("a disabled user's tokens end", func(t *testing.T) {
		v := s.CreateUser(t, "disableme", userPassword)
		rt := str(signedIn(t, s, v), "refresh_token")
		if st := s.Graph(t, s.GraphToken(t), "PATCH", "/users/"+v.ID, map[string]any{"accountEnabled": false}, nil); st != http.StatusNoContent {
			t.Fatalf("disable: %d", st)
		}
		wantOAuthError(t, refresh(t, s, azCLI, rt, armScope), "invalid_grant", 50173)
	})
	t.Run("v1 endpoint", func(t *testing.T) {
		r := s.PostForm(t, "/adfs/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {azCLI},
			"refresh_token": {str(signedIn(t, s, u), "refresh_token")}, "resource": {"https://management.core.windows.net/"}})
		if r.Status != 200 || str(r, "resource") != "https://management.core.windows.net/" || str(r, "id_token") == "" {
			t.Fatalf("v1 refresh: %s", r)
		}
		if iss := claimsOf(t, str(r, "id_token"))["iss"]; iss != "https://sts.windows.net/"+s.Bootstrap.TenantID+"/" {
			t.Fatalf("v1 id_token iss %v", iss)
		}
	})
}

// TestDeviceCodeEndpoints: the device authorization endpoints, the polling
// errors over HTTP, and the verification page.
func TestDeviceCodeEndpoints(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "device", userPassword)
	start := func(path string, form url.Values) testserver.TokenResponse {
		r := s.PostForm(t, path, form)
		if r.Status != 200 {
			t.Fatalf("device authorization: %s", r)
		}
		return r
	}
	for _, path := range []string{"/" + s.Bootstrap.TenantID + "/oauth2/v2.0/devicecode", "/adfs/oauth2/devicecode"} {
		r := start(path, url.Values{"client_id": {azCLI}, "scope": {armScope + " offline_access openid"}})
		for _, k := range []string{"user_code", "device_code", "verification_uri", "message"} {
			if str(r, k) == "" {
				t.Errorf("%s: no %s in %s", path, k, r.Raw)
			}
		}
		if ei, _ := r.Body["expires_in"].(float64); ei != 900 {
			t.Errorf("expires_in %v", r.Body["expires_in"])
		}
		if iv, _ := r.Body["interval"].(float64); iv != 5 {
			t.Errorf("interval %v", r.Body["interval"])
		}
	}
	tokenPath := "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"
	poll := func(dc string) testserver.TokenResponse {
		return s.PostForm(t, tokenPath, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
			"client_id": {azCLI}, "device_code": {dc}, "code": {dc}})
	}
	r := start(tokenPath[:len(tokenPath)-len("token")]+"devicecode", url.Values{"client_id": {azCLI}, "scope": {armScope}})
	dc := str(r, "device_code")
	wantOAuthError(t, poll(dc), "authorization_pending", 70016)
	wantOAuthError(t, poll(dc), "slow_down", 70016)

	b := s.NewBrowser(t)
	p := b.Get(str(r, "verification_uri"))
	p = b.Submit(p.FormWith(t, "user_code"), map[string]string{"user_code": "BCDF-GHJK"}, "")
	if !p.Has("That code didn") {
		t.Fatalf("a wrong code: %d\n%s", p.Status, p.Body)
	}
	p = b.Submit(p.FormWith(t, "user_code"), map[string]string{"user_code": strings.ToLower(str(r, "user_code"))}, "")
	p = b.Submit(p.FormWith(t, "password"), map[string]string{"username": u.UPN, "password": u.Password}, "")
	p = b.Submit(p.Forms[0], nil, "decline")
	if !p.Has("Sign-in canceled") {
		t.Fatalf("decline: %d\n%s", p.Status, p.Body)
	}
	wantOAuthError(t, poll(dc), "authorization_declined", 65004)

	// Bare "device_code" grant type (MSAL Go) and an approval from a browser
	// that is already signed in: no password page.
	r = start("/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {azCLI}, "scope": {armScope + " offline_access"}})
	p = b.Get(s.URL + "/devicelogin")
	p = b.Submit(p.FormWith(t, "user_code"), map[string]string{"user_code": str(r, "user_code")}, "")
	p = b.Submit(p.Forms[0], nil, "approve")
	if !p.Has("You have signed in to") {
		t.Fatalf("approve: %d\n%s", p.Status, p.Body)
	}
	got := s.PostForm(t, "/organizations/oauth2/v2.0/token", url.Values{"grant_type": {"device_code"}, "client_id": {azCLI},
		"device_code": {str(r, "device_code")}, "scope": {armScope + " offline_access"}})
	if got.Status != 200 || str(got, "refresh_token") == "" || str(got, "foci") != "1" {
		t.Fatalf("token after approval: %s", got)
	}
}

// TestPasswordGrantHTTP: ROPC is off by default per tenant, on by the
// setting; azidentity's UsernamePasswordCredential then works end to end.
func TestPasswordGrantHTTP(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "ropc", userPassword)
	ws := readerOnWorkspace(t, s, u, "ropc")
	form := url.Values{"grant_type": {"password"}, "client_id": {azCLI}, "username": {u.UPN}, "password": {u.Password},
		"scope": {armScope + " openid profile offline_access"}}
	wantOAuthError(t, s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", form), "unauthorized_client", 7000218)
	if err := s.App.SetAllowROPC(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("password", "Wrong-Password-9")
	wantOAuthError(t, s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", bad), "invalid_grant", 50126)

	//lint:ignore SA1019 the deprecated credential is what test automation still uses
	cred, err := azidentity.NewUsernamePasswordCredential(s.Bootstrap.TenantID, azCLI, u.UPN, u.Password,
		&azidentity.UsernamePasswordCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok := getToken(t, cred, armScope)
	armChecks(t, s, tok, ws)
}

// TestRefreshKeepsTheSessionSid: id_tokens issued by a refresh name the
// browser session the code came from, as the code's id_token did, through
// every rotation, so a relying party's front-channel logout still matches.
func TestRefreshKeepsTheSessionSid(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "sidkeeper", userPassword)
	r := signedIn(t, s, u)
	sid, _ := claimsOf(t, str(r, "id_token"))["sid"].(string)
	if sid == "" {
		t.Fatalf("the code's id_token has no sid: %v", claimsOf(t, str(r, "id_token")))
	}
	for i := range 2 {
		r = refresh(t, s, azCLI, str(r, "refresh_token"), "https://graph.microsoft.com/.default openid offline_access")
		if r.Status != 200 || str(r, "id_token") == "" {
			t.Fatalf("refresh %d: %s", i+1, r)
		}
		if got := claimsOf(t, str(r, "id_token"))["sid"]; got != sid {
			t.Errorf("refresh %d: id_token sid %v, want %s", i+1, got, sid)
		}
	}
	// Another browser session has another sid.
	if other := claimsOf(t, str(signedIn(t, s, u), "id_token"))["sid"]; other == sid || other == nil {
		t.Errorf("a second browser session's sid %v (first %s)", other, sid)
	}
}
