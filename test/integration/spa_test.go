package integration

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/test/testserver"
)

// The single-page application platform (Entra's "spa" redirect URIs, what
// @azure/msal-browser relies on): registration through Graph, the
// cross-origin redemption rules, the 24-hour refresh family, CORS, logout,
// and the Tessera Portal's first-party client.

const spaOrigin = "https://spa.contoso.test:5173"

// postOrigin posts a token request as a browser page at origin would
// (origin "" sends no Origin header, as a non-browser client).
func postOrigin(t *testing.T, s *testserver.Server, path string, form url.Values, origin string) testserver.TokenResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := testserver.TokenResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// preflight sends a CORS preflight for method with the request headers.
func preflight(t *testing.T, s *testserver.Server, path, origin, method, headers string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("OPTIONS %s: %v", path, err)
	}
	resp.Body.Close()
	return resp
}

func errorCode(r testserver.TokenResponse) int {
	codes, _ := r.Body["error_codes"].([]any)
	if len(codes) == 0 {
		return 0
	}
	n, _ := codes[0].(float64)
	return int(n)
}

// spaApp registers an application whose only redirect URIs are SPA ones
// (no public client flag, no secret used).
func spaApp(t *testing.T, s *testserver.Server, redirects ...string) testserver.App {
	t.Helper()
	return s.CreateApp(t, "spa-"+rand.Text()[:8], map[string]any{"spa": map[string]any{"redirectUris": redirects}})
}

// spaAuthReq is an authorize request of an SPA (what msal-browser sends).
func spaAuthReq(s *testserver.Server, clientID, redirect string) *authReq {
	a := newAuthReq(s)
	a.Params.Set("client_id", clientID)
	a.Params.Set("redirect_uri", redirect)
	a.Params.Set("response_mode", "fragment")
	return a
}

// codeFromFragment reads the code of a redirect with response_mode=fragment.
func codeFromFragment(t *testing.T, a *authReq, p *testserver.Page) string {
	t.Helper()
	if p.Status != http.StatusFound {
		t.Fatalf("want a redirect to the client, got %d:\n%s", p.Status, p.Body)
	}
	u, err := url.Parse(p.Location())
	if err != nil {
		t.Fatal(err)
	}
	q, err := url.ParseQuery(u.Fragment)
	if err != nil {
		t.Fatal(err)
	}
	if q.Get("error") != "" || q.Get("code") == "" || q.Get("state") != a.Params.Get("state") {
		t.Fatalf("redirect %s: want a code and the state", p.Location())
	}
	return q.Get("code")
}

func redeemForm(a *authReq, code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {a.Params.Get("client_id")}, "code": {code},
		"redirect_uri": {a.Params.Get("redirect_uri")}, "code_verifier": {a.Verifier}, "scope": {a.Params.Get("scope")}}
}

func refreshForm(clientID, rt, scope string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {rt}, "scope": {scope}, "client_info": {"1"}}
}

// TestSPARedirectURIsThroughGraph: spa.redirectUris round-trips through
// POST, GET and PATCH, and is validated like the web platform's.
func TestSPARedirectURIsThroughGraph(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	gt := s.GraphToken(t)
	type appJSON struct {
		ID  string `json:"id"`
		Spa struct {
			RedirectURIs []string `json:"redirectUris"`
		} `json:"spa"`
	}
	var created appJSON
	want := []string{spaOrigin + "/", "http://localhost:3000/auth"}
	if st := s.Graph(t, gt, "POST", "/applications", map[string]any{"displayName": "spa",
		"spa": map[string]any{"redirectUris": want}}, &created); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	if !slices.Equal(created.Spa.RedirectURIs, want) {
		t.Fatalf("created spa.redirectUris = %v, want %v", created.Spa.RedirectURIs, want)
	}
	var got appJSON
	s.Graph(t, gt, "GET", "/applications/"+created.ID, nil, &got)
	if !slices.Equal(got.Spa.RedirectURIs, want) {
		t.Fatalf("GET spa.redirectUris = %v, want %v", got.Spa.RedirectURIs, want)
	}
	want = []string{"https://other.contoso.test/app"}
	if st := s.Graph(t, gt, "PATCH", "/applications/"+created.ID, map[string]any{"spa": map[string]any{"redirectUris": want}}, nil); st != http.StatusNoContent {
		t.Fatalf("patch: %d", st)
	}
	s.Graph(t, gt, "GET", "/applications/"+created.ID, nil, &got)
	if !slices.Equal(got.Spa.RedirectURIs, want) {
		t.Fatalf("patched spa.redirectUris = %v, want %v", got.Spa.RedirectURIs, want)
	}
	// A PATCH of another property leaves them alone.
	if st := s.Graph(t, gt, "PATCH", "/applications/"+created.ID, map[string]any{"displayName": "spa2"}, nil); st != http.StatusNoContent {
		t.Fatalf("patch name: %d", st)
	}
	s.Graph(t, gt, "GET", "/applications/"+created.ID, nil, &got)
	if !slices.Equal(got.Spa.RedirectURIs, want) {
		t.Fatalf("after a name patch spa.redirectUris = %v", got.Spa.RedirectURIs)
	}
	for _, bad := range []string{"http://spa.contoso.test/", "myapp://callback", "https://spa.contoso.test/#x", "https://*.contoso.test/"} {
		if st := s.Graph(t, gt, "PATCH", "/applications/"+created.ID, map[string]any{"spa": map[string]any{"redirectUris": []string{bad}}}, nil); st != http.StatusBadRequest {
			t.Errorf("spa redirect %q: %d, want 400", bad, st)
		}
	}
}

// TestSPACrossOriginRedemption covers Entra's rules: a code or refresh
// token issued to an SPA redirect only with an Origin (AADSTS9002327), and
// an Origin only for those (AADSTS9002326); the SPA's refresh family is
// not FOCI and ends 24 hours after the sign-in, rotation or not.
func TestSPACrossOriginRedemption(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "spauser", userPassword)
	app := spaApp(t, s, spaOrigin+"/")
	path := "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"

	a := spaAuthReq(s, app.AppID, spaOrigin+"/")
	code := codeFromFragment(t, a, s.NewBrowser(t).SignIn(a.url(s), u.UPN, u.Password))

	r := postOrigin(t, s, path, redeemForm(a, code), "")
	if r.Status != http.StatusBadRequest || str(r, "error") != "invalid_request" || errorCode(r) != 9002327 ||
		!strings.Contains(str(r, "error_description"), "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.") {
		t.Fatalf("SPA code without Origin: %s", r)
	}
	// The refusal did not spend the code: the browser redeems it.
	start := time.Now()
	r = postOrigin(t, s, path, redeemForm(a, code), spaOrigin)
	if r.Status != http.StatusOK {
		t.Fatalf("SPA code with Origin: %s", r)
	}
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != spaOrigin {
		t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, spaOrigin)
	}
	if str(r, "foci") != "" {
		t.Errorf("an SPA response carries foci=%q", str(r, "foci"))
	}
	// msal-browser reads when the refresh token ends (a JSON number).
	if n, ok := r.Body["refresh_token_expires_in"].(float64); !ok || n < 86400-60 || n > 86400 {
		t.Errorf("refresh_token_expires_in = %v, want about 86400", r.Body["refresh_token_expires_in"])
	}
	rt := str(r, "refresh_token")
	if rt == "" || str(r, "id_token") == "" || str(r, "client_info") == "" {
		t.Fatalf("SPA response lacks user fields: %s", r.Raw)
	}
	ctx := context.Background()
	_, fam, err := s.App.Store().GetRefreshToken(ctx, signin.Hash(rt))
	if err != nil {
		t.Fatal(err)
	}
	if !fam.SPA || fam.FOCI {
		t.Errorf("family SPA=%v FOCI=%v, want an SPA, non-FOCI family", fam.SPA, fam.FOCI)
	}
	if d := fam.ExpiresAt.Sub(start); d < 24*time.Hour-time.Minute || d > 24*time.Hour+time.Minute {
		t.Errorf("SPA family expires %v after the sign-in, want 24h", d)
	}

	r = postOrigin(t, s, path, refreshForm(app.AppID, rt, armScope), "")
	if r.Status != http.StatusBadRequest || errorCode(r) != 9002327 {
		t.Fatalf("SPA refresh without Origin: %s", r)
	}
	r = postOrigin(t, s, path, refreshForm(app.AppID, rt, armScope), spaOrigin)
	if r.Status != http.StatusOK {
		t.Fatalf("SPA refresh with Origin: %s", r)
	}
	if n, _ := r.Body["refresh_token_expires_in"].(float64); n <= 0 || n > 86400 {
		t.Errorf("after rotation refresh_token_expires_in = %v", r.Body["refresh_token_expires_in"])
	}
	rt2 := str(r, "refresh_token")
	tok2, fam2, err := s.App.Store().GetRefreshToken(ctx, signin.Hash(rt2))
	if err != nil {
		t.Fatal(err)
	}
	if !fam2.ExpiresAt.Equal(fam.ExpiresAt) || tok2.ExpiresAt.After(fam.ExpiresAt) {
		t.Errorf("rotation moved the SPA expiry: family %v → %v, token %v", fam.ExpiresAt, fam2.ExpiresAt, tok2.ExpiresAt)
	}

	t.Run("non-SPA code and refresh token with an Origin", func(t *testing.T) {
		cli := newAuthReq(s)
		code := signInCode(t, s, s.NewBrowser(t), cli, u)
		evil := "https://evil.example"
		r := postOrigin(t, s, path, redeemForm(cli, code), evil)
		if r.Status != http.StatusBadRequest || str(r, "error") != "invalid_request" || errorCode(r) != 9002326 ||
			!strings.Contains(str(r, "error_description"), "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: 'https://evil.example'.") {
			t.Fatalf("native code with Origin: %s", r)
		}
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("an unregistered origin was allowed: %q", r.Header.Get("Access-Control-Allow-Origin"))
		}
		r = postOrigin(t, s, path, redeemForm(cli, code), "")
		if r.Status != http.StatusOK {
			t.Fatalf("native code without Origin: %s", r)
		}
		if _, ok := r.Body["refresh_token_expires_in"]; ok {
			t.Errorf("a native response carries refresh_token_expires_in")
		}
		r = postOrigin(t, s, path, refreshForm(azCLI, str(r, "refresh_token"), armScope), evil)
		if r.Status != http.StatusBadRequest || errorCode(r) != 9002326 {
			t.Fatalf("native refresh with Origin: %s", r)
		}
		other := s.CreateApp(t, "daemon", nil)
		r = postOrigin(t, s, path, url.Values{"grant_type": {"client_credentials"}, "client_id": {other.AppID},
			"client_secret": {other.Secret}, "scope": {armScope}}, evil)
		if r.Status != http.StatusBadRequest || errorCode(r) != 9002326 {
			t.Fatalf("client credentials with Origin: %s", r)
		}
	})

	t.Run("SPA redirects match exactly", func(t *testing.T) {
		b := s.NewBrowser(t)
		for _, redirect := range []string{spaOrigin, spaOrigin + "/other", "https://spa.contoso.test:5174/"} {
			p := b.Get(spaAuthReq(s, app.AppID, redirect).url(s))
			if p.Status != http.StatusBadRequest || !p.Has("AADSTS50011") {
				t.Errorf("redirect %s: %d, want AADSTS50011", redirect, p.Status)
			}
		}
		// PKCE is required: the SPA is a public client.
		a := spaAuthReq(s, app.AppID, spaOrigin+"/")
		a.Params.Del("code_challenge")
		a.Params.Del("code_challenge_method")
		p := b.Get(a.url(s))
		if p.Status != http.StatusFound || !strings.Contains(p.Location(), "9002325") {
			t.Errorf("SPA authorize without PKCE: %d %s", p.Status, p.Location())
		}
	})
}

// TestSPACORS: the token endpoint allows exactly the origins of SPA
// redirect URIs (any application's for a preflight, the client's for a
// POST), the public documents any origin, and Graph and ARM any origin,
// preflights included, without a token.
func TestSPACORS(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	app := spaApp(t, s, spaOrigin+"/")
	other := spaApp(t, s, "https://other.contoso.test/cb")
	tokenPath := "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"

	t.Run("token preflight", func(t *testing.T) {
		for _, p := range []string{tokenPath, "/" + s.Bootstrap.TenantID + "/oauth2/token", "/organizations/oauth2/v2.0/token"} {
			resp := preflight(t, s, p, spaOrigin, "POST", "content-type")
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != spaOrigin ||
				!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
				t.Errorf("%s preflight from an SPA origin: %d %v", p, resp.StatusCode, resp.Header)
			}
		}
		for _, o := range []string{"https://evil.example", "https://spa.contoso.test", "http://spa.contoso.test:5173", "null"} {
			resp := preflight(t, s, tokenPath, o, "POST", "")
			if acao := resp.Header.Get("Access-Control-Allow-Origin"); acao != "" {
				t.Errorf("preflight from %s allowed: %q", o, acao)
			}
		}
	})

	t.Run("token POST", func(t *testing.T) {
		form := url.Values{"grant_type": {"refresh_token"}, "client_id": {app.AppID}, "refresh_token": {"not-a-token"}, "scope": {armScope}}
		r := postOrigin(t, s, tokenPath, form, spaOrigin)
		if r.Status != http.StatusBadRequest || r.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
			t.Errorf("the client's own origin: %d ACAO %q (the page must read the error)", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
		}
		form.Set("client_id", other.AppID)
		if r := postOrigin(t, s, tokenPath, form, spaOrigin); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("another application's origin allowed for %s", other.AppID)
		}
	})

	t.Run("a new SPA origin is allowed at once", func(t *testing.T) {
		fresh := "https://fresh.contoso.test"
		if resp := preflight(t, s, tokenPath, fresh, "POST", ""); resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("allowed before registration")
		}
		if st := s.Graph(t, s.GraphToken(t), "PATCH", "/applications/"+other.ObjectID,
			map[string]any{"spa": map[string]any{"redirectUris": []string{fresh + "/app"}}}, nil); st != http.StatusNoContent {
			t.Fatalf("patch: %d", st)
		}
		if resp := preflight(t, s, tokenPath, fresh, "POST", ""); resp.Header.Get("Access-Control-Allow-Origin") != fresh {
			t.Errorf("the new origin is not allowed after the write")
		}
		if resp := preflight(t, s, tokenPath, "https://other.contoso.test", "POST", ""); resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("the removed origin is still allowed")
		}
	})

	t.Run("public documents", func(t *testing.T) {
		for _, p := range []string{"/" + s.Bootstrap.TenantID + "/v2.0/.well-known/openid-configuration",
			"/organizations/.well-known/openid-configuration", "/" + s.Bootstrap.TenantID + "/discovery/v2.0/keys",
			"/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape(s.URL+"/organizations/oauth2/v2.0/authorize")} {
			req, _ := http.NewRequest(http.MethodGet, s.URL+p, nil)
			req.Header.Set("Origin", "https://anyone.example")
			resp, err := s.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("GET %s: %d ACAO %q", p, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
			pre := preflight(t, s, strings.SplitN(p, "?", 2)[0], "https://anyone.example", "GET", "client-request-id")
			if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("preflight %s: %d %v", p, pre.StatusCode, pre.Header)
			}
		}
	})

	t.Run("Graph and ARM", func(t *testing.T) {
		o := "https://anyone.example"
		for _, p := range []string{"/graph/v1.0/me", "/graph/v1.0/applications", "/subscriptions?api-version=2022-12-01",
			"/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourcegroups/rg?api-version=2021-04-01"} {
			resp := preflight(t, s, p, o, "PUT", "authorization, content-type, x-ms-client-request-id")
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != o ||
				!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "authorization") ||
				!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "x-ms-client-request-id") ||
				!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") ||
				resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("preflight %s: %d %v", p, resp.StatusCode, resp.Header)
			}
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/graph/v1.0/applications", nil)
		req.Header.Set("Origin", o)
		req.Header.Set("Authorization", "Bearer "+s.GraphToken(t))
		resp, err := s.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != o ||
			!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "x-ms-request-id") {
			t.Errorf("Graph GET: %d %v", resp.StatusCode, resp.Header)
		}
		// Without a token the answer is still readable: the page learns why.
		req, _ = http.NewRequest(http.MethodGet, s.URL+"/subscriptions?api-version=2022-12-01", nil)
		req.Header.Set("Origin", o)
		resp, err = s.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") != o {
			t.Errorf("ARM without a token: %d %v", resp.StatusCode, resp.Header)
		}
	})
}

// TestSPALogout: an SPA redirect URI is a valid post_logout_redirect_uri,
// for the client named by client_id or by the id_token_hint, or for no
// client named (msal-browser's logoutRedirect sends a logout_hint only).
func TestSPALogout(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "spalogout", userPassword)
	app := spaApp(t, s, spaOrigin+"/")
	b := s.NewBrowser(t)
	a := spaAuthReq(s, app.AppID, spaOrigin+"/")
	code := codeFromFragment(t, a, b.SignIn(a.url(s), u.UPN, u.Password))
	r := postOrigin(t, s, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", redeemForm(a, code), spaOrigin)
	if r.Status != http.StatusOK {
		t.Fatalf("redeem: %s", r)
	}
	logout := "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/logout?"
	for name, q := range map[string]url.Values{
		"client_id":     {"client_id": {app.AppID}, "post_logout_redirect_uri": {spaOrigin + "/"}, "state": {"x"}},
		"id_token_hint": {"id_token_hint": {str(r, "id_token")}, "post_logout_redirect_uri": {spaOrigin + "/"}},
		// What msal-browser's logoutRedirect sends: no client at all.
		"logout_hint only": {"logout_hint": {u.UPN}, "post_logout_redirect_uri": {spaOrigin + "/"}, "client-request-id": {"5b4a1f6e-2c4e-4f57-9c37-0e7f5b8f2a11"}},
	} {
		p := b.Get(s.URL + logout + q.Encode())
		if p.Status != http.StatusFound || !strings.HasPrefix(p.Location(), spaOrigin+"/") {
			t.Errorf("%s: %d %q, want a redirect to the SPA", name, p.Status, p.Location())
		}
	}
	for name, q := range map[string]url.Values{
		"a forged hint":          {"id_token_hint": {"forged.token.x"}, "post_logout_redirect_uri": {"https://evil.example/"}},
		"an unregistered URI":    {"post_logout_redirect_uri": {"https://evil.example/"}},
		"another path of an SPA": {"post_logout_redirect_uri": {spaOrigin + "/other"}},
	} {
		if p := b.Get(s.URL + logout + q.Encode()); p.Status != http.StatusOK {
			t.Errorf("%s redirected: %d %q", name, p.Status, p.Location())
		}
	}
}

// TestPortalClient: the Tessera Portal signs in from <server>/portal/ with
// code and PKCE for ARM, redeems the code from its own page (a same-origin
// fetch still sends an Origin), then refreshes for Graph (another
// resource); Graph's /me and ARM's /subscriptions accept the tokens.
func TestPortalClient(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "portaluser", userPassword)
	redirect := s.URL + directory.PortalPath
	path := "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"

	for _, mode := range []string{"query", "fragment"} {
		t.Run(mode, func(t *testing.T) {
			b := s.NewBrowser(t)
			// The redirect is to the server itself: stop there, as the
			// portal page takes over.
			b.Client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
				if strings.HasPrefix(req.URL.Path, directory.PortalPath) {
					return http.ErrUseLastResponse
				}
				return nil
			}
			a := spaAuthReq(s, directory.AppIDTesseraPortal, redirect)
			a.Params.Set("response_mode", mode)
			p := b.SignIn(a.url(s), u.UPN, u.Password)
			var code string
			if mode == "query" {
				code = codeFrom(t, a, p)
			} else {
				code = codeFromFragment(t, a, p)
			}
			r := postOrigin(t, s, path, redeemForm(a, code), s.URL)
			if r.Status != http.StatusOK {
				t.Fatalf("redeem: %s", r)
			}
			if str(r, "foci") != "" {
				t.Errorf("the portal is not a FOCI client: foci=%q", str(r, "foci"))
			}
			if r.Header.Get("Access-Control-Allow-Origin") != s.URL {
				t.Errorf("ACAO = %q, want the server's own origin", r.Header.Get("Access-Control-Allow-Origin"))
			}
			armTok := str(r, "access_token")
			if c := verifyWithJWKS(t, s, armTok); c["appid"] != directory.AppIDTesseraPortal {
				t.Errorf("ARM token appid = %v", c["appid"])
			}
			if resp := s.ARM(t, armTok, "GET", "/subscriptions?api-version=2022-12-01", nil); resp.Status != http.StatusOK {
				t.Errorf("ARM /subscriptions: %d %s", resp.Status, resp.Raw)
			}
			g := postOrigin(t, s, path, refreshForm(directory.AppIDTesseraPortal, str(r, "refresh_token"), "https://graph.microsoft.com/.default openid profile offline_access"), s.URL)
			if g.Status != http.StatusOK {
				t.Fatalf("refresh for Graph: %s", g)
			}
			var me struct {
				ID                string `json:"id"`
				UserPrincipalName string `json:"userPrincipalName"`
			}
			if st := s.Graph(t, str(g, "access_token"), "GET", "/me", nil, &me); st != http.StatusOK || me.ID != u.ID {
				t.Errorf("Graph /me: %d %+v", st, me)
			}
			// Never without an Origin: the code and tokens are the browser's.
			if r := postOrigin(t, s, path, refreshForm(directory.AppIDTesseraPortal, str(g, "refresh_token"), armScope), ""); errorCode(r) != 9002327 {
				t.Errorf("portal refresh without Origin: %s", r)
			}
		})
	}

	t.Run("only the portal's page", func(t *testing.T) {
		b := s.NewBrowser(t)
		for _, bad := range []string{s.URL + "/portal", s.URL + "/portal/x", "http://localhost:8400", "https://evil.example/portal/"} {
			p := b.Get(spaAuthReq(s, directory.AppIDTesseraPortal, bad).url(s))
			if p.Status != http.StatusBadRequest || !p.Has("AADSTS50011") {
				t.Errorf("portal redirect %s: %d", bad, p.Status)
			}
		}
	})
}
