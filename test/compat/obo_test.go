package compat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/tessera-id/tessera/test/browser"
	"github.com/tessera-id/tessera/test/testserver"
)

// The on-behalf-of tests run the real clients' OBO calls against a tenant
// with two APIs of its own: a middle tier (api://middle) that a client signs
// a user in for, and a downstream API (api://downstream) the middle tier
// calls as that user. Consent is given through Graph's
// oauth2PermissionGrants beforehand, as an administrator would; a third API
// (api://unconsented) has none, so the clients surface AADSTS65001.
//
// msal-node (node/obo.js) is pinned by node/package-lock.json:
//
//	npm ci --prefix test/compat/node
//	go test ./test/compat/ -run 'OnBehalfOf' -count=1 -v

const oboScope = "api://downstream/Scores.Read"

// oboWorld is a tenant set up for on-behalf-of.
type oboWorld struct {
	s                    *testserver.Server
	keys                 *jwks
	middle, down         testserver.App
	user                 testserver.User
	readable, unreadable string // workspaces: the user is Reader on the first only
}

// registerScopedAPI registers an application exposing the delegated scope
// Scores.Read under api://name.
func registerScopedAPI(t *testing.T, s *testserver.Server, name string, extra map[string]any) testserver.App {
	t.Helper()
	body := map[string]any{
		"identifierUris": []any{"api://" + name},
		"api": map[string]any{"requestedAccessTokenVersion": 2, "oauth2PermissionScopes": []any{
			map[string]any{"id": uuid.NewString(), "value": "Scores.Read", "type": "User", "isEnabled": true,
				"adminConsentDisplayName": "Read scores", "adminConsentDescription": "Reads scores.",
				"userConsentDisplayName": "Read your scores", "userConsentDescription": "Reads your scores."},
		}},
	}
	for k, v := range extra {
		body[k] = v
	}
	return s.CreateApp(t, name, body)
}

// consentAll grants client the delegated scope on resource for every user
// of the tenant (an administrator's consent).
func consentAll(t *testing.T, s *testserver.Server, client, resource testserver.App, scope string) {
	t.Helper()
	body := map[string]any{"clientId": client.SPID, "resourceId": resource.SPID, "scope": scope, "consentType": "AllPrincipals"}
	if st := s.Graph(t, s.GraphToken(t), "POST", "/oauth2PermissionGrants", body, nil); st != http.StatusCreated {
		t.Fatalf("grant consent: %d", st)
	}
}

func newOBOWorld(t *testing.T, name string) *oboWorld {
	t.Helper()
	s := testserver.Start(t, testserver.Options{})
	if err := s.App.SetAllowROPC(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	w := &oboWorld{s: s, keys: &jwks{s: s}}
	w.middle = registerScopedAPI(t, s, "middle", nil)
	w.down = registerScopedAPI(t, s, "downstream", nil)
	registerScopedAPI(t, s, "unconsented", nil)
	consentAll(t, s, w.middle, w.down, "Scores.Read")
	w.user = s.CreateUser(t, name, signinPassword)
	w.readable = s.Workspace(t, "rg-"+name, "ws-"+name)
	s.Assign(t, w.readable, testserver.RoleReader, w.user.ID)
	w.unreadable = s.Workspace(t, "rg-"+name+"-other", "ws-"+name+"-other")
	return w
}

// checkDownstream verifies a downstream token: the user, for the
// downstream API, obtained by the middle tier, with the consented scope.
func (w *oboWorld) checkDownstream(t *testing.T, tok string) {
	t.Helper()
	c := w.keys.verify(t, tok)
	want := map[string]any{"oid": w.user.ID, "aud": w.down.AppID, "azp": w.middle.AppID, "scp": "Scores.Read",
		"ver": "2.0", "tid": w.s.Bootstrap.TenantID, "preferred_username": w.user.UPN}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("downstream claim %s = %v, want %v", k, c[k], v)
		}
	}
}

// checkARM verifies an ARM token obtained on the user's behalf and uses
// it: the user's role lets it read one workspace and not the other.
func (w *oboWorld) checkARM(t *testing.T, tok string) {
	t.Helper()
	c := w.keys.verify(t, tok)
	if c["oid"] != w.user.ID || c["aud"] != "https://management.azure.com" || c["appid"] != w.middle.AppID || c["upn"] != w.user.UPN {
		t.Errorf("ARM token claims %v", c)
	}
	if r := w.s.ARM(t, tok, "GET", w.readable+"?api-version=2022-10-01", nil); r.Status != http.StatusOK {
		t.Errorf("read of the workspace the user may read: %d %s", r.Status, r.Raw)
	}
	if r := w.s.ARM(t, tok, "GET", w.unreadable+"?api-version=2022-10-01", nil); r.Status != http.StatusForbidden || r.ErrorCode() != "AuthorizationFailed" {
		t.Errorf("read of a workspace the user has no role on: %d %s, want 403 AuthorizationFailed", r.Status, r.Raw)
	}
}

// TestPythonOnBehalfOf: msal's PublicClientApplication signs the user in
// for the middle tier (password grant), then the middle tier exchanges that
// token with msal's ConfidentialClientApplication.acquire_token_on_behalf_of
// and with azure-identity's OnBehalfOfCredential: for the downstream API,
// for ARM (used within the user's roles), and, unconsented, refused.
func TestPythonOnBehalfOf(t *testing.T) {
	py := pythonInterpreter(t)
	w := newOBOWorld(t, "pyobo")
	client := w.s.CreateApp(t, "pyobo-cli", map[string]any{"isFallbackPublicClient": true})
	consentAll(t, w.s, client, w.middle, "Scores.Read")
	env := func(obo, scopes string) map[string]string {
		return map[string]string{
			"COMPAT_TENANT_ID": w.s.Bootstrap.TenantID, "COMPAT_AUTHORITY": w.s.URL,
			"COMPAT_PUBLIC_CLIENT_ID": client.AppID, "COMPAT_USERNAME": w.user.UPN, "COMPAT_PASSWORD": w.user.Password,
			"COMPAT_USER_SCOPE": "api://middle/Scores.Read",
			"COMPAT_CLIENT_ID":  w.middle.AppID, "COMPAT_CLIENT_SECRET": w.middle.Secret,
			"COMPAT_OBO_CLIENT": obo, "COMPAT_SCOPES": scopes,
		}
	}
	checkAssertion := func(t *testing.T, res pythonResult) {
		t.Helper()
		c := w.keys.verify(t, res.Tokens[0].AccessToken)
		if c["aud"] != w.middle.AppID || c["oid"] != w.user.ID || c["azp"] != client.AppID || c["scp"] != "Scores.Read" {
			t.Errorf("the user's token for the middle tier: %v", c)
		}
	}

	t.Run("msal_ConfidentialClientApplication", func(t *testing.T) {
		res := runPython(t, py, w.s, "on_behalf_of.py", env("msal", oboScope+" "+armScope))
		if len(res.Tokens) != 3 {
			t.Fatalf("%d tokens", len(res.Tokens))
		}
		checkAssertion(t, res)
		w.checkDownstream(t, res.Tokens[1].AccessToken)
		w.checkARM(t, res.Tokens[2].AccessToken)
	})
	t.Run("OnBehalfOfCredential", func(t *testing.T) {
		res := runPython(t, py, w.s, "on_behalf_of.py", env("credential", armScope+" "+oboScope))
		if len(res.Tokens) != 3 || res.Credential != "OnBehalfOfCredential" {
			t.Fatalf("%d tokens from %s", len(res.Tokens), res.Credential)
		}
		checkAssertion(t, res)
		w.checkARM(t, res.Tokens[1].AccessToken)
		w.checkDownstream(t, res.Tokens[2].AccessToken)
	})
	t.Run("refused/msal_without_consent", func(t *testing.T) {
		res := runPython(t, py, w.s, "on_behalf_of.py", mergeEnv(env("msal", "api://unconsented/Scores.Read"),
			map[string]string{"COMPAT_EXPECT_ERROR": "TokenError"}))
		if !strings.Contains(res.Message, "AADSTS65001") || !strings.HasPrefix(res.Message, "invalid_grant") {
			t.Errorf("msal error: %s", res.Message)
		}
	})
	t.Run("refused/OnBehalfOfCredential_without_consent", func(t *testing.T) {
		res := runPython(t, py, w.s, "on_behalf_of.py", mergeEnv(env("credential", "api://unconsented/Scores.Read"),
			map[string]string{"COMPAT_EXPECT_ERROR": "ClientAuthenticationError"}))
		if !strings.Contains(res.Message, "AADSTS65001") {
			t.Errorf("OnBehalfOfCredential error: %s", res.Message)
		}
	})
}

// msalNode finds node and the installed @azure/msal-node, skipping the test
// (or failing it under TESSERA_COMPAT_REQUIRED=1) when either is missing.
func msalNode(t *testing.T) (node, script string) {
	t.Helper()
	absent := func(msg string) {
		t.Helper()
		if os.Getenv("TESSERA_COMPAT_REQUIRED") == "1" {
			t.Fatalf("%s (TESSERA_COMPAT_REQUIRED=1)", msg)
		}
		t.Skip(msg)
	}
	node = os.Getenv("TESSERA_NODE")
	if node == "" {
		var err error
		if node, err = exec.LookPath("node"); err != nil {
			absent("node not installed (Node.js 20 or later, then npm ci --prefix test/compat/node)")
		}
	}
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@azure", "msal-node", "package.json")); err != nil {
		absent("@azure/msal-node not installed: npm ci --prefix test/compat/node")
	}
	return node, filepath.Join(dir, "obo.js")
}

// nodeOBOResult is the JSON line node/obo.js prints last.
type nodeOBOResult struct {
	AuthURL   string `json:"authUrl"`
	UserToken string `json:"userToken"`
	Username  string `json:"username"`
	OBO       []struct {
		Scope   string `json:"scope"`
		Token   string `json:"token"`
		Error   string `json:"error"`
		Message string `json:"message"`
	} `json:"obo"`
	Error    string            `json:"error"`
	Message  string            `json:"message"`
	Versions map[string]string `json:"versions"`
}

// TestMSALNodeOnBehalfOf: a confidential web application built on the real
// @azure/msal-node signs the user in through Tessera's login page in
// headless Chromium (getAuthCodeUrl with PKCE, the redirect to a loopback
// server, acquireTokenByCode), and the middle tier it called exchanges the
// user's token with acquireTokenOnBehalfOf: for the consented downstream
// API a token as the user, for an API it has no consent for AADSTS65001.
func TestMSALNodeOnBehalfOf(t *testing.T) {
	node, script := msalNode(t)
	ctx := browser.New(t)
	w := newOBOWorld(t, "nodeobo")
	s := w.s

	// The web application's redirect URI: a loopback server that hands
	// what the browser brings to the application's process.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirectURI := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:") + "/callback"
	callbacks := make(chan string, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(rw, r)
			return
		}
		select {
		case callbacks <- "http://localhost" + r.URL.RequestURI():
		default:
		}
		_, _ = io.WriteString(rw, "signed in")
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	web := s.CreateApp(t, "nodeobo-web", map[string]any{"web": map[string]any{"redirectUris": []string{redirectURI}}})
	consentAll(t, s, web, w.middle, "Scores.Read")

	runCtx, cancel := context.WithTimeout(context.Background(), 2*nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, node, script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(baseEnv(t), "NODE_EXTRA_CA_CERTS="+s.Bootstrap.CAFile,
		"COMPAT_AUTHORITY="+s.URL+"/"+s.Bootstrap.TenantID, "COMPAT_KNOWN_AUTHORITY="+strings.TrimPrefix(s.URL, "https://"),
		"COMPAT_WEB_CLIENT_ID="+web.AppID, "COMPAT_WEB_CLIENT_SECRET="+web.Secret, "COMPAT_REDIRECT_URI="+redirectURI,
		"COMPAT_LOGIN_SCOPE=api://middle/Scores.Read",
		"COMPAT_CLIENT_ID="+w.middle.AppID, "COMPAT_CLIENT_SECRET="+w.middle.Secret,
		"COMPAT_SCOPES="+oboScope+" api://unconsented/Scores.Read")
	if os.Getenv("TESSERA_COMPAT_DEBUG") != "" {
		cmd.Env = append(cmd.Env, "COMPAT_DEBUG=1")
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	next := func(what string) nodeOBOResult {
		t.Helper()
		if !lines.Scan() {
			_ = cmd.Wait()
			t.Fatalf("obo.js printed no %s; stderr:\n%s", what, stderr.String())
		}
		var res nodeOBOResult
		if err := json.Unmarshal(lines.Bytes(), &res); err != nil {
			t.Fatalf("obo.js %s line: %v", what, err)
		}
		if res.Error != "" {
			_ = cmd.Wait()
			t.Fatalf("obo.js: %s: %s; stderr:\n%s", res.Error, res.Message, stderr.String())
		}
		return res
	}

	start := next("authorization URL")
	t.Logf("@azure/msal-node %s, @azure/msal-common %s, node %s",
		start.Versions["@azure/msal-node"], start.Versions["@azure/msal-common"], start.Versions["node"])
	if q := mustParseURL(t, start.AuthURL).Query(); q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("client_id") != web.AppID {
		t.Errorf("getAuthCodeUrl's request: %v", q)
	}
	browser.Run(t, ctx, chromedp.Navigate(start.AuthURL), browser.Login(w.user.UPN, w.user.Password))
	select {
	case u := <-callbacks:
		if _, err := io.WriteString(stdin, u+"\n"); err != nil {
			t.Fatal(err)
		}
		stdin.Close()
	case <-time.After(45 * time.Second):
		where, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.location.href + "\n" + document.body.innerText`))
		t.Fatalf("the browser did not reach the redirect URI; it shows %s", where)
	}
	res := next("result")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("obo.js: %v; stderr:\n%s", err, stderr.String())
	}

	c := w.keys.verify(t, res.UserToken)
	if c["aud"] != w.middle.AppID || c["oid"] != w.user.ID || c["azp"] != web.AppID || c["scp"] != "Scores.Read" {
		t.Errorf("the user's token for the middle tier: %v", c)
	}
	if !strings.EqualFold(res.Username, w.user.UPN) {
		t.Errorf("account username %q", res.Username)
	}
	if len(res.OBO) != 2 {
		t.Fatalf("%d on-behalf-of results", len(res.OBO))
	}
	if r := res.OBO[0]; r.Error != "" {
		t.Errorf("acquireTokenOnBehalfOf %s: %s: %s", r.Scope, r.Error, r.Message)
	} else {
		w.checkDownstream(t, r.Token)
	}
	if r := res.OBO[1]; r.Token != "" || r.Error != "invalid_grant" || !strings.Contains(r.Message, "AADSTS65001") {
		t.Errorf("acquireTokenOnBehalfOf %s without consent: %s: %s", r.Scope, r.Error, r.Message)
	}
}

func mustParseURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return u
}
