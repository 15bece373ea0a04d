package compat

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/test/testserver"
)

const (
	signinPassword = "Compat-Pass-42"
	azCLIClientID  = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
)

// userARMChecks makes, with a user's token, the ARM call RBAC allows for
// the user (Reader on the workspace: read) and one it refuses (write).
func userARMChecks(t *testing.T, s *testserver.Server, tok, workspaceID string) {
	t.Helper()
	if r := s.ARM(t, tok, "GET", workspaceID+"?api-version=2022-10-01", nil); r.Status != http.StatusOK {
		t.Fatalf("read of the workspace the user may read: %d %s", r.Status, r.Raw)
	}
	r := s.ARM(t, tok, "PUT", workspaceID+"?api-version=2022-10-01", map[string]any{"location": "eastus"})
	if r.Status != http.StatusForbidden || r.ErrorCode() != "AuthorizationFailed" {
		t.Fatalf("write by a Reader: %d %s, want 403 AuthorizationFailed", r.Status, r.Raw)
	}
}

// signinUser creates a user who holds Reader on a new workspace.
func signinUser(t *testing.T, s *testserver.Server, name string) (testserver.User, string) {
	t.Helper()
	u := s.CreateUser(t, name, signinPassword)
	ws := s.Workspace(t, "rg-"+name, "ws-"+name)
	s.Assign(t, ws, testserver.RoleReader, u.ID)
	return u, ws
}

// checkUserToken verifies a user token from a Python credential.
func checkUserToken(t *testing.T, keys *jwks, res pythonResult, u testserver.User) string {
	t.Helper()
	if len(res.Tokens) == 0 {
		t.Fatal("no token")
	}
	c := keys.verify(t, res.Tokens[0].AccessToken)
	if c["upn"] != u.UPN || c["oid"] != u.ID || c["idtyp"] != "user" || c["appid"] != azCLIClientID {
		t.Fatalf("claims %v", c)
	}
	if life := time.Duration(res.Tokens[0].ExpiresOn-res.Now) * time.Second; life < 50*time.Minute {
		t.Errorf("expires_on is %s ahead", life)
	}
	return res.Tokens[0].AccessToken
}

// approveFromPromptFile approves the device code a script writes to path.
func approveFromPromptFile(t *testing.T, s *testserver.Server, path string, u testserver.User) {
	lines := testserver.WatchFile(t, path)
	go func() {
		select {
		case line := <-lines:
			var p struct {
				VerificationURI string `json:"verification_uri"`
				UserCode        string `json:"user_code"`
			}
			if err := json.Unmarshal([]byte(line), &p); err != nil {
				t.Errorf("prompt line %q: %v", line, err)
				return
			}
			if err := s.NewBrowser(t).ApproveDeviceCode(p.VerificationURI, p.UserCode, u.UPN, u.Password); err != nil {
				t.Error(err)
			}
		case <-time.After(pythonTimeout):
		}
	}()
}

// playBrowser signs in at the URL a BROWSER script records and delivers
// the redirect to the client's loopback listener.
func playBrowser(t *testing.T, s *testserver.Server, urls <-chan string, u testserver.User) {
	go func() {
		select {
		case authURL := <-urls:
			b := s.NewBrowser(t)
			resp := b.Deliver(b.SignIn(authURL, u.UPN, u.Password))
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("the credential's loopback listener answered %d", resp.StatusCode)
			}
		case <-time.After(pythonTimeout):
		}
	}()
}

// TestPythonUserCredentials runs azure-identity 1.13's user credentials
// unmodified against Tessera: device code, interactive browser and
// username/password; each token then makes an allowed and a refused ARM call.
func TestPythonUserCredentials(t *testing.T) {
	py := pythonInterpreter(t)
	s := testserver.Start(t, testserver.Options{})
	keys := &jwks{s: s}
	tid := s.Bootstrap.TenantID

	t.Run("DeviceCodeCredential", func(t *testing.T) {
		for _, tenant := range []string{tid, "adfs"} {
			t.Run(tenant, func(t *testing.T) {
				u, ws := signinUser(t, s, "pydevice"+strings.ToLower(tenant[:4]))
				prompt := filepath.Join(t.TempDir(), "prompt")
				approveFromPromptFile(t, s, prompt, u)
				res := runPython(t, py, s, "device_code.py", map[string]string{
					"COMPAT_TENANT_ID": tenant, "COMPAT_AUTHORITY": s.URL, "COMPAT_PROMPT_FILE": prompt,
				})
				userARMChecks(t, s, checkUserToken(t, keys, res, u), ws)
			})
		}
	})

	t.Run("InteractiveBrowserCredential", func(t *testing.T) {
		u, ws := signinUser(t, s, "pybrowser")
		script, urls := testserver.OpenerScript(t, "browser")
		playBrowser(t, s, urls, u)
		res := runPython(t, py, s, "interactive.py", map[string]string{
			"COMPAT_TENANT_ID": tid, "COMPAT_AUTHORITY": s.URL, "BROWSER": script,
			"COMPAT_SCOPES": armScope + " " + mlScope,
		})
		tok := checkUserToken(t, keys, res, u)
		if aud := keys.verify(t, res.Tokens[1].AccessToken)["aud"]; aud != "https://ml.azure.com" {
			t.Errorf("second token aud %v", aud)
		}
		userARMChecks(t, s, tok, ws)
	})

	t.Run("UsernamePasswordCredential", func(t *testing.T) {
		u, ws := signinUser(t, s, "pyropc")
		// MSAL Python sends user-realm discovery to port 443 of the host
		// for a tenant authority (CLIENTS.md §0); "adfs" skips it.
		env := map[string]string{"COMPAT_TENANT_ID": "adfs", "COMPAT_AUTHORITY": s.URL,
			"COMPAT_USERNAME": u.UPN, "COMPAT_PASSWORD": u.Password}
		refused := runPython(t, py, s, "username_password.py", mergeEnv(env, map[string]string{"COMPAT_EXPECT_ERROR": "ClientAuthenticationError"}))
		if !strings.Contains(refused.Message, "AADSTS7000218") {
			t.Fatalf("with the password grant off: %s", refused.Message)
		}
		if err := s.App.SetAllowROPC(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		res := runPython(t, py, s, "username_password.py", env)
		userARMChecks(t, s, checkUserToken(t, keys, res, u), ws)
	})
}

// TestPythonSharedTokenCache: a device code sign-in fills the persistent
// shared cache, then SharedTokenCacheCredential redeems its family refresh
// token. MSAL keys cached accounts by host name only, so this needs
// Tessera on port 443 (CLIENTS.md §0); the test skips when 443 is taken.
func TestPythonSharedTokenCache(t *testing.T) {
	py := pythonInterpreter(t)
	ln, err := net.Listen("tcp", "127.0.0.1:443")
	if err != nil {
		t.Skipf("port 443 is not available (%v): SharedTokenCacheCredential needs it", err)
	}
	ln.Close()
	s := testserver.Start(t, testserver.Options{Listen: "127.0.0.1:443"})
	keys := &jwks{s: s}
	u, ws := signinUser(t, s, "pyshared")
	home := t.TempDir() // one HOME for both scripts: the cache lives there
	prompt := filepath.Join(t.TempDir(), "prompt")
	approveFromPromptFile(t, s, prompt, u)
	runPython(t, py, s, "device_code.py", map[string]string{
		"COMPAT_TENANT_ID": s.Bootstrap.TenantID, "COMPAT_AUTHORITY": s.URL, "COMPAT_PROMPT_FILE": prompt,
		"COMPAT_PERSIST": "1", "HOME": home,
	})
	// What MSAL cached, for a failure's log (no secrets).
	if raw, err := os.ReadFile(filepath.Join(home, ".IdentityService", "msal.cache")); err == nil {
		var cache map[string]map[string]map[string]any
		_ = json.Unmarshal(raw, &cache)
		for id, a := range cache["Account"] {
			t.Logf("cached account %s: username %v environment %v realm %v", id, a["username"], a["environment"], a["realm"])
		}
		for id, rt := range cache["RefreshToken"] {
			t.Logf("cached refresh token %s: family %v environment %v", id, rt["family_id"], rt["environment"])
		}
	}
	res := runPython(t, py, s, "shared_cache.py", map[string]string{
		"COMPAT_AUTHORITY": s.URL, "COMPAT_USERNAME": u.UPN, "HOME": home, "COMPAT_SCOPES": mlScope + " " + armScope,
	})
	if res.Credential != "SharedTokenCacheCredential" {
		t.Errorf("credential %s", res.Credential)
	}
	if aud := keys.verify(t, res.Tokens[0].AccessToken)["aud"]; aud != "https://ml.azure.com" {
		t.Errorf("aud %v", aud)
	}
	if upn := keys.verify(t, res.Tokens[0].AccessToken)["upn"]; upn != u.UPN {
		t.Errorf("upn %v", upn)
	}
	userARMChecks(t, s, res.Tokens[1].AccessToken, ws)
}

func mergeEnv(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
