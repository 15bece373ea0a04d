package integration

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// TestAuthCodeFlow signs in through the login page and redeems the code:
// the response carries what MSAL needs (CLIENTS.md §2.1–§2.3).
func TestAuthCodeFlow(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "adele", userPassword)

	for _, tc := range []struct {
		name       string
		tenant     string
		v1         bool
		wantIssuer string
	}{
		{"v2 tenant guid", s.Bootstrap.TenantID, false, s.URL + "/" + s.Bootstrap.TenantID + "/v2.0"},
		{"v2 organizations", "organizations", false, s.URL + "/" + s.Bootstrap.TenantID + "/v2.0"},
		{"v1 adfs", "adfs", true, "https://sts.windows.net/" + s.Bootstrap.TenantID + "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAuthReq(s)
			a.Tenant, a.V1 = tc.tenant, tc.v1
			b := s.NewBrowser(t)
			code := signInCode(t, s, b, a, u)
			r := redeem(t, s, a, code, nil)
			if r.Status != 200 {
				t.Fatalf("redeem: %s", r)
			}
			for _, k := range []string{"access_token", "refresh_token", "id_token", "client_info"} {
				if str(r, k) == "" {
					t.Errorf("response lacks %s: %s", k, r.Raw)
				}
			}
			if str(r, "foci") != "1" {
				t.Errorf("foci = %q, want 1 for the Azure CLI", str(r, "foci"))
			}
			id := claimsOf(t, str(r, "id_token"))
			want := map[string]any{"aud": azCLI, "iss": tc.wantIssuer, "oid": u.ID, "tid": s.Bootstrap.TenantID,
				"preferred_username": u.UPN, "name": "adele", "nonce": a.Params.Get("nonce")}
			for k, v := range want {
				if id[k] != v {
					t.Errorf("id_token %s = %v, want %v", k, id[k], v)
				}
			}
			// The id_token issuer is the discovery document's.
			disc := "/" + tc.tenant + "/v2.0/.well-known/openid-configuration"
			if tc.v1 {
				disc = "/" + tc.tenant + "/.well-known/openid-configuration"
			}
			resp, err := s.Client.Get(s.URL + disc)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct{ Issuer string }
			if err := decodeJSON(resp, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Issuer != id["iss"] {
				t.Errorf("id_token iss %v differs from the discovery issuer %s", id["iss"], doc.Issuer)
			}
			at := verifyWithJWKS(t, s, str(r, "access_token"))
			for k, v := range map[string]any{"idtyp": "user", "upn": u.UPN, "unique_name": u.UPN, "name": "adele",
				"scp": "user_impersonation", "oid": u.ID, "tid": s.Bootstrap.TenantID} {
				if at[k] != v {
					t.Errorf("access token %s = %v, want %v", k, at[k], v)
				}
			}
			if amr, _ := at["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
				t.Errorf("amr = %v, want [pwd]", at["amr"])
			}
			ci := clientInfo(t, str(r, "client_info"))
			if ci["uid"] != u.ID || ci["utid"] != s.Bootstrap.TenantID {
				t.Errorf("client_info = %v", ci)
			}
		})
	}
}

// TestPKCERules covers every PKCE rule at /authorize and at the token endpoint.
func TestPKCERules(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "pkce", userPassword)
	b := s.NewBrowser(t)

	t.Run("public client without a challenge is refused", func(t *testing.T) {
		a := newAuthReq(s)
		a.Params.Del("code_challenge")
		a.Params.Del("code_challenge_method")
		e, desc := redirectError(t, b.Get(a.url(s)))
		if e != "invalid_request" || !strings.Contains(desc, "AADSTS9002325") {
			t.Fatalf("got %s: %s", e, desc)
		}
	})
	t.Run("plain is refused", func(t *testing.T) {
		a := newAuthReq(s)
		a.Params.Set("code_challenge", a.Verifier)
		a.Params.Set("code_challenge_method", "plain")
		e, desc := redirectError(t, b.Get(a.url(s)))
		if e != "invalid_request" || !strings.Contains(desc, "AADSTS50148") {
			t.Fatalf("got %s: %s", e, desc)
		}
	})
	t.Run("missing method is refused", func(t *testing.T) {
		a := newAuthReq(s)
		a.Params.Del("code_challenge_method")
		e, desc := redirectError(t, b.Get(a.url(s)))
		if e != "invalid_request" || !strings.Contains(desc, "AADSTS50148") {
			t.Fatalf("got %s: %s", e, desc)
		}
	})
	t.Run("malformed challenge is refused", func(t *testing.T) {
		a := newAuthReq(s)
		a.Params.Set("code_challenge", "short")
		e, desc := redirectError(t, b.Get(a.url(s)))
		if e != "invalid_request" || !strings.Contains(desc, "AADSTS501491") {
			t.Fatalf("got %s: %s", e, desc)
		}
	})
	t.Run("wrong verifier", func(t *testing.T) {
		a := newAuthReq(s)
		code := signInCode(t, s, b, a, u)
		other, _ := pkce()
		wantOAuthError(t, redeem(t, s, a, code, url.Values{"code_verifier": {other}}), "invalid_grant", 50148)
		// A failed verifier does not spend the code: the real client still can.
		if r := redeem(t, s, a, code, nil); r.Status != 200 {
			t.Fatalf("redeem with the right verifier after a wrong one: %s", r)
		}
	})
	t.Run("missing verifier", func(t *testing.T) {
		a := newAuthReq(s)
		code := signInCode(t, s, b, a, u)
		wantOAuthError(t, redeem(t, s, a, code, url.Values{"code_verifier": {""}}), "invalid_request", 50148)
	})
	t.Run("verifier without a challenge", func(t *testing.T) {
		app := s.CreateApp(t, "web-no-pkce", map[string]any{"web": map[string]any{"redirectUris": []string{"https://app.example.com/cb"}}})
		a := newAuthReq(s)
		a.Params.Set("client_id", app.AppID)
		a.Params.Set("redirect_uri", "https://app.example.com/cb")
		a.Params.Del("code_challenge")
		a.Params.Del("code_challenge_method")
		code := signInCode(t, s, b, a, u)
		wantOAuthError(t, redeem(t, s, a, code, url.Values{"client_secret": {app.Secret}}), "invalid_grant", 50148)
		// Without a verifier a confidential client redeems with its secret.
		if r := redeem(t, s, a, code, url.Values{"client_secret": {app.Secret}, "code_verifier": {""}}); r.Status != 200 {
			t.Fatalf("confidential redemption: %s", r)
		}
	})
}

// TestCodeRules: single use, replay revocation, expiry, client and
// redirect binding.
func TestCodeRules(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "codes", userPassword)
	b := s.NewBrowser(t)

	t.Run("replay revokes what the code issued", func(t *testing.T) {
		a := newAuthReq(s)
		code := signInCode(t, s, b, a, u)
		first := redeem(t, s, a, code, nil)
		if first.Status != 200 {
			t.Fatalf("first redemption: %s", first)
		}
		wantOAuthError(t, redeem(t, s, a, code, nil), "invalid_grant", 54005)
		// The refresh token of the first redemption is revoked.
		wantOAuthError(t, refresh(t, s, azCLI, str(first, "refresh_token"), armScope), "invalid_grant", 70000)
	})
	// Concurrent redemptions are replays of one another: at most one
	// presenter gets tokens, and since a replay revokes what the code
	// issued, none keeps a usable refresh token. (When a loser's revocation
	// lands before the winner's family exists, the winner is refused too.)
	t.Run("concurrent redemptions: at most one wins, nothing stays usable", func(t *testing.T) {
		a := newAuthReq(s)
		code := signInCode(t, s, b, a, u)
		var wg sync.WaitGroup
		results := make([]testserver.TokenResponse, 6)
		for i := range results {
			wg.Go(func() { results[i] = redeem(t, s, a, code, nil) })
		}
		wg.Wait()
		var winner *testserver.TokenResponse
		for i, r := range results {
			switch {
			case r.Status == 200 && winner == nil:
				winner = &results[i]
			case r.Status == 200:
				t.Fatalf("two redemptions of one code succeeded")
			case aadsts(r) != 54005:
				t.Errorf("loser got %s, want AADSTS54005", r)
			}
		}
		if winner != nil {
			wantOAuthError(t, refresh(t, s, azCLI, str(*winner, "refresh_token"), armScope), "invalid_grant", 70000)
		}
	})
	t.Run("another client", func(t *testing.T) {
		a := newAuthReq(s)
		code := signInCode(t, s, b, a, u)
		wantOAuthError(t, redeem(t, s, a, code, url.Values{"client_id": {azPowerShell}}), "invalid_grant", 70000)
	})
	t.Run("another redirect uri", func(t *testing.T) {
		a := newAuthReq(s)
		code := signInCode(t, s, b, a, u)
		for _, ru := range []string{"http://localhost:8401", "http://localhost:8400/", "", "http://127.0.0.1:8400"} {
			wantOAuthError(t, redeem(t, s, a, code, url.Values{"redirect_uri": {ru}}), "invalid_grant", 50011)
		}
	})
	t.Run("unknown code", func(t *testing.T) {
		a := newAuthReq(s)
		wantOAuthError(t, redeem(t, s, a, "not-a-code", nil), "invalid_grant", 9002313)
	})
}

// TestRedirectRules: exact matching, except any port for loopback
// redirects of native clients; refusals are shown, never redirected.
func TestRedirectRules(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	b := s.NewBrowser(t)
	native := s.CreateApp(t, "native", map[string]any{"publicClient": map[string]any{"redirectUris": []string{"http://localhost/callback"}},
		"isFallbackPublicClient": true})
	web := s.CreateApp(t, "webapp", map[string]any{"web": map[string]any{"redirectUris": []string{"https://app.example.com/signin", "http://localhost:5000/cb"}}})

	for _, tc := range []struct {
		name, client, redirect string
		ok                     bool
	}{
		{"first-party loopback any port", azCLI, "http://localhost:53124", true},
		{"first-party 127.0.0.1", azCLI, "http://127.0.0.1:40000/", true},
		{"first-party non-loopback", azCLI, "https://evil.example.com/", false},
		{"first-party https localhost", azCLI, "https://localhost:8400", false},
		{"first-party loopback lookalike", azCLI, "http://localhost.evil.example.com:8400", false},
		{"native any port same path", native.AppID, "http://localhost:61000/callback", true},
		{"native other path", native.AppID, "http://localhost:61000/other", false},
		{"web exact", web.AppID, "https://app.example.com/signin", true},
		{"web trailing slash", web.AppID, "https://app.example.com/signin/", false},
		{"web case", web.AppID, "https://APP.example.com/signin", false},
		{"web loopback port is not free", web.AppID, "http://localhost:5001/cb", false},
		{"web extra query", web.AppID, "https://app.example.com/signin?x=1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAuthReq(s)
			a.Params.Set("client_id", tc.client)
			a.Params.Set("redirect_uri", tc.redirect)
			p := b.Get(a.url(s))
			if tc.ok {
				if p.Status != 200 || !p.Has(`name="password"`) {
					t.Fatalf("want the login page, got %d %s", p.Status, p.Location())
				}
				return
			}
			if p.Status != http.StatusBadRequest || p.Location() != "" || !p.Has("AADSTS50011") {
				t.Fatalf("want a 400 page with AADSTS50011 and no redirect, got %d %q", p.Status, p.Location())
			}
		})
	}
	t.Run("unknown client is not redirected", func(t *testing.T) {
		a := newAuthReq(s)
		a.Params.Set("client_id", "00000000-0000-0000-0000-000000000001")
		p := b.Get(a.url(s))
		if p.Status != 400 || p.Location() != "" || !p.Has("AADSTS700016") {
			t.Fatalf("got %d %q", p.Status, p.Location())
		}
	})
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
