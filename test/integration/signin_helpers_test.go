package integration

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/test/testserver"
)

// azCLI is the Azure CLI's public client id, a first-party FOCI client.
const azCLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"

// azPowerShell is another FOCI client.
const azPowerShell = "1950a258-227b-4e31-a9cf-717495945fc2"

const userPassword = "Correct-Horse-9"

// pkce returns a fresh verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authReq is an authorize request under test.
type authReq struct {
	Tenant   string // path segment; default the tenant GUID
	V1       bool
	Params   url.Values
	Verifier string
}

// newAuthReq is the request MSAL sends for the Azure CLI with a loopback
// redirect and PKCE.
func newAuthReq(s *testserver.Server) *authReq {
	v, c := pkce()
	return &authReq{Tenant: s.Bootstrap.TenantID, Verifier: v, Params: url.Values{
		"client_id": {azCLI}, "response_type": {"code"}, "redirect_uri": {"http://localhost:8400"},
		"scope": {"https://management.azure.com/.default openid profile offline_access"},
		"state": {"st-" + rand.Text()[:8]}, "nonce": {"nonce-" + rand.Text()[:8]},
		"code_challenge": {c}, "code_challenge_method": {"S256"},
	}}
}

func (a *authReq) url(s *testserver.Server) string {
	p := "/oauth2/v2.0/authorize"
	if a.V1 {
		p = "/oauth2/authorize"
	}
	return s.URL + "/" + a.Tenant + p + "?" + a.Params.Encode()
}

func (a *authReq) tokenPath() string {
	if a.V1 {
		return "/" + a.Tenant + "/oauth2/token"
	}
	return "/" + a.Tenant + "/oauth2/v2.0/token"
}

// codeFrom reads the code (and checks the state) of a redirect to the client.
func codeFrom(t *testing.T, a *authReq, p *testserver.Page) string {
	t.Helper()
	if p.Status != http.StatusFound {
		t.Fatalf("want a redirect to the client, got %d:\n%s", p.Status, p.Body)
	}
	u, err := url.Parse(p.Location())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("error") != "" {
		t.Fatalf("redirect carries an error: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != a.Params.Get("state") {
		t.Fatalf("state = %q, want %q", q.Get("state"), a.Params.Get("state"))
	}
	if q.Get("code") == "" {
		t.Fatalf("no code in %s", p.Location())
	}
	return q.Get("code")
}

// redirectError reads the error of a redirect to the client.
func redirectError(t *testing.T, p *testserver.Page) (string, string) {
	t.Helper()
	if p.Status != http.StatusFound {
		t.Fatalf("want an error redirect, got %d:\n%s", p.Status, p.Body)
	}
	u, err := url.Parse(p.Location())
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("error"), u.Query().Get("error_description")
}

// redeem posts the authorization code grant for a.
func redeem(t *testing.T, s *testserver.Server, a *authReq, code string, extra url.Values) testserver.TokenResponse {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {a.Params.Get("client_id")}, "code": {code},
		"redirect_uri": {a.Params.Get("redirect_uri")}, "code_verifier": {a.Verifier}, "scope": {a.Params.Get("scope")}}
	for k, v := range extra {
		if len(v) == 0 || v[0] == "" {
			form.Del(k)
			continue
		}
		form[k] = v
	}
	return s.PostForm(t, a.tokenPath(), form)
}

// signInCode runs the browser part for a new user session and returns the code.
func signInCode(t *testing.T, s *testserver.Server, b *testserver.Browser, a *authReq, u testserver.User) string {
	t.Helper()
	return codeFrom(t, a, b.SignIn(a.url(s), u.UPN, u.Password))
}

// refresh posts the refresh token grant.
func refresh(t *testing.T, s *testserver.Server, clientID, rt, scope string) testserver.TokenResponse {
	t.Helper()
	return s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"refresh_token"},
		"client_id": {clientID}, "refresh_token": {rt}, "scope": {scope}, "client_info": {"1"}})
}

func str(r testserver.TokenResponse, k string) string {
	v, _ := r.Body[k].(string)
	return v
}

// clientInfo decodes MSAL's client_info: base64url JSON, not a JWT.
func clientInfo(t *testing.T, raw string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		t.Fatalf("client_info %q: %v", raw, err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// claimsOf reads a JWT's claims without checking its signature (as MSAL
// reads id_tokens; tests that need the signature checked do so elsewhere).
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSigned(jwt, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("not a JWT: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func wantOAuthError(t *testing.T, r testserver.TokenResponse, oauth string, code int) {
	t.Helper()
	if str(r, "error") != oauth || aadsts(r) != code {
		t.Fatalf("want %s AADSTS%d, got %s", oauth, code, r)
	}
	if strings.Contains(string(r.Raw), "panic") || r.Status >= 500 {
		t.Fatalf("server error: %s", r)
	}
}
