package compat

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/test/testserver"
)

// The on-behalf-of tests run the real clients' OBO calls against a tenant
// with two APIs of its own: a middle tier (api://middle) that a client signs
// a user in for, and a downstream API (api://downstream) the middle tier
// calls as that user. Consent is given through Graph's
// oauth2PermissionGrants beforehand, as an administrator would; a third API
// (api://unconsented) has none, so the clients surface AADSTS65001.
//
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
