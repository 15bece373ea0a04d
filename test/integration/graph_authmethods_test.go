package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/test/testserver"
)

// assignDirectoryRole grants a directory role through Graph as the bootstrap administrator.
func assignDirectoryRole(t *testing.T, s *testserver.Server, principalID, roleID string) {
	t.Helper()
	r := graphCall(t, s, s.GraphToken(t), "POST", "/roleManagement/directory/roleAssignments",
		map[string]any{"principalId": principalID, "roleDefinitionId": roleID, "directoryScopeId": "/"})
	if r.Status != http.StatusCreated {
		t.Fatalf("assign role %s: %d %s", roleID, r.Status, r.Raw)
	}
}

// enrollAuthenticator signs u in under a policy requiring MFA, registering
// an authenticator app on the way, and returns its key.
func enrollAuthenticator(t *testing.T, s *testserver.Server, u testserver.User) []byte {
	t.Helper()
	b := s.NewBrowser(t)
	a := newAuthReq(s)
	p := b.SignIn(a.url(s), u.UPN, u.Password)
	if !p.Has("Set up your authenticator app") {
		t.Fatalf("want the enrollment page: %d\n%s", p.Status, p.Body)
	}
	key, err := signin.DecodeTOTPSecret(between(p.Body, `<code class="secret" id="secret">`, "</code>"))
	if err != nil {
		t.Fatal(err)
	}
	codeFrom(t, a, b.Submit(p.FormWith(t, "otp"), map[string]string{"otp": signin.TOTPCode(key, time.Now())}, ""))
	return key
}

// TestAuthenticationMethods: a user lists their own methods (password and
// the authenticator app) but may not delete them; an Authentication
// Administrator lists and deletes a user's authenticator, which makes the
// user register again at the next sign-in, and may not touch an
// administrator's; the deletion is in the audit log.
func TestAuthenticationMethods(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "mfa-methods", userPassword)
	other := s.CreateUser(t, "bystander", userPassword)
	helpdesk := s.CreateUser(t, "helpdesk", userPassword)
	assignDirectoryRole(t, s, helpdesk.ID, directory.RoleAuthenticationAdministrator)
	caPolicy(t, s, map[string]any{
		"displayName": "MFA for everyone tested", "state": "enabled",
		"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{u.ID}},
			"applications": map[string]any{"includeApplications": []string{"All"}}, "clientAppTypes": []string{"all"}},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}},
	})

	// Before registration: only the password.
	mine := userGraphToken(t, s, u.ID, u.UPN)
	r := graphCall(t, s, mine, "GET", "/me/authentication/methods", nil)
	if r.Status != 200 || len(r.values()) != 1 || r.values()[0]["@odata.type"] != "#microsoft.graph.passwordAuthenticationMethod" {
		t.Fatalf("methods before registration: %d %s", r.Status, r.Raw)
	}
	enrollAuthenticator(t, s, u)

	r = graphCall(t, s, mine, "GET", "/me/authentication/methods", nil)
	if r.Status != 200 || len(r.values()) != 2 {
		t.Fatalf("my methods: %d %s", r.Status, r.Raw)
	}
	oath := r.values()[1]
	oathID, _ := oath["id"].(string)
	if oath["@odata.type"] != "#microsoft.graph.softwareOathAuthenticationMethod" || oathID == "" || oath["secretKey"] != nil {
		t.Fatalf("software OATH method: %v", oath)
	}
	if r.values()[0]["id"] != "28c10230-6103-485e-b985-444c60001490" {
		t.Fatalf("password method id: %v", r.values()[0])
	}
	if r := graphCall(t, s, mine, "GET", "/users/"+u.ID+"/authentication/softwareOathMethods/"+oathID, nil); r.Status != 200 || r.str("id") != oathID {
		t.Fatalf("GET my software OATH method: %d %s", r.Status, r.Raw)
	}
	// Not the user themself: a password alone would then register a new authenticator.
	if r := graphCall(t, s, mine, "DELETE", "/me/authentication/softwareOathMethods/"+oathID, nil); r.Status != 403 || r.errorField("code") != "Authorization_RequestDenied" {
		t.Fatalf("self delete: %d %s", r.Status, r.Raw)
	}
	// Another user reads nothing.
	if r := graphCall(t, s, userGraphToken(t, s, other.ID, other.UPN), "GET", "/users/"+u.ID+"/authentication/methods", nil); r.Status != 403 {
		t.Fatalf("another user lists the methods: %d %s", r.Status, r.Raw)
	}

	// The Authentication Administrator: not an administrator's methods.
	hd := userGraphToken(t, s, helpdesk.ID, helpdesk.UPN)
	if r := graphCall(t, s, hd, "GET", "/users/"+s.Bootstrap.Admin.UserPrincipalName+"/authentication/methods", nil); r.Status != 403 {
		t.Fatalf("Authentication Administrator lists a Global Administrator's methods: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, hd, "GET", "/users/"+u.UPN+"/authentication/softwareOathMethods", nil); r.Status != 200 || len(r.values()) != 1 {
		t.Fatalf("helpdesk lists: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, hd, "DELETE", "/users/"+u.ID+"/authentication/softwareOathMethods/"+oathID, nil); r.Status != 204 {
		t.Fatalf("helpdesk deletes: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, hd, "DELETE", "/users/"+u.ID+"/authentication/softwareOathMethods/"+oathID, nil); r.Status != 404 {
		t.Fatalf("second delete: %d %s", r.Status, r.Raw)
	}
	if r := graphCall(t, s, mine, "GET", "/me/authentication/methods", nil); len(r.values()) != 1 {
		t.Fatalf("methods after the reset: %s", r.Raw)
	}
	// The next sign-in registers again.
	enrollAuthenticator(t, s, u)

	r = graphCall(t, s, s.GraphToken(t), "GET", "/auditLogs/directoryAudits"+filter("initiatedBy/user/id eq '"+helpdesk.ID+"'"), nil)
	found := false
	for _, e := range r.values() {
		raw, _ := json.Marshal(e)
		if e["result"] == "success" && strings.Contains(string(raw), "user.authenticationMethod.delete") && strings.Contains(string(raw), u.UPN) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit event of the deletion: %s", r.Raw)
	}
}
