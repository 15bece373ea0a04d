package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// TestForceChangePasswordAtSignIn: a user created with
// forceChangePasswordNextSignIn signs in with the temporary password, must
// set a new one on the "Update your password" step (policy and confirmation
// enforced), then gets a code; the old password stops working, the flag is
// cleared, and ROPC refuses a flagged user with AADSTS50055.
func TestForceChangePasswordAtSignIn(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	if err := s.App.SetAllowROPC(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	tokenPath := "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"
	ropc := func(u testserver.User, password string) testserver.TokenResponse {
		return s.PostForm(t, tokenPath, url.Values{"grant_type": {"password"}, "client_id": {azCLI},
			"username": {u.UPN}, "password": {password}, "scope": {armScope + " offline_access"}})
	}
	u := s.CreateUserMustChangePassword(t, "temp", userPassword)
	const newPassword = "Brand-New-Passw0rd"

	// ROPC cannot change a password: Entra's AADSTS50055.
	wantOAuthError(t, ropc(u, u.Password), "invalid_grant", 50055)
	// ... but a wrong password is still just a wrong password.
	wantOAuthError(t, ropc(u, "Wrong-Password-1"), "invalid_grant", 50126)

	b := s.NewBrowser(t)
	a := newAuthReq(s)
	p := b.SignIn(a.url(s), u.UPN, u.Password)
	if p.Status != 200 || !p.Has("Update your password") || !p.Has(`name="new_password"`) || !p.Has(`name="csrf"`) {
		t.Fatalf("want the update step: %d %q\n%s", p.Status, p.Location(), p.Body)
	}
	f := p.FormWith(t, "new_password")
	// Reloading /authorize with the half-done session shows the step again,
	// and prompt=none does not get a code.
	if p2 := b.Get(a.url(s)); !p2.Has("Update your password") {
		t.Fatalf("reload skipped the update step: %d %q", p2.Status, p2.Location())
	}
	silent := newAuthReq(s)
	silent.Params.Set("prompt", "none")
	if e, _ := redirectError(t, b.Get(silent.url(s))); e != "login_required" {
		t.Fatalf("prompt=none before the change: %s", e)
	}
	// A form without the CSRF token is refused.
	nocsrf := f
	nocsrf.Fields = url.Values{}
	for k, v := range f.Fields {
		if k != "csrf" {
			nocsrf.Fields[k] = v
		}
	}
	if p2 := b.Submit(nocsrf, map[string]string{"new_password": newPassword, "confirm_password": newPassword}, ""); p2.Status != http.StatusBadRequest {
		t.Fatalf("no CSRF token: %d", p2.Status)
	}
	// Weak password.
	p = b.Submit(f, map[string]string{"new_password": "weak", "confirm_password": "weak"}, "")
	if !p.Has("Update your password") || !p.Has("password complexity") || !p.Has(`role="alert"`) {
		t.Fatalf("weak password: %d %q\n%s", p.Status, p.Location(), p.Body)
	}
	// Mismatched confirmation.
	p = b.Submit(f, map[string]string{"new_password": newPassword, "confirm_password": newPassword + "x"}, "")
	if !p.Has("Update your password") || !p.Has("don&#39;t match") {
		t.Fatalf("mismatch: %d %q\n%s", p.Status, p.Location(), p.Body)
	}
	// The temporary password cannot be kept.
	p = b.Submit(f, map[string]string{"new_password": u.Password, "confirm_password": u.Password}, "")
	if !p.Has("Update your password") || !p.Has("reuse") {
		t.Fatalf("same password: %d %q\n%s", p.Status, p.Location(), p.Body)
	}
	if strings.Contains(p.Body, newPassword) || strings.Contains(p.Body, u.Password) {
		t.Fatal("a password is echoed in the page")
	}
	// The change completes the flow: a code, redeemed for tokens.
	code := codeFrom(t, a, b.Submit(f, map[string]string{"new_password": newPassword, "confirm_password": newPassword}, ""))
	r := redeem(t, s, a, code, nil)
	if c := verifyWithJWKS(t, s, str(r, "access_token")); c["upn"] != u.UPN {
		t.Fatalf("claims %v", c)
	}
	// The browser's new session holds: a second authorize needs no page.
	a2 := newAuthReq(s)
	codeFrom(t, a2, b.Get(a2.url(s)))

	// The old password fails, the new one works, with no update step.
	if p := s.NewBrowser(t).SignIn(newAuthReq(s).url(s), u.UPN, u.Password); !p.Has("Your account or password is incorrect.") {
		t.Fatalf("old password: %d %q", p.Status, p.Location())
	}
	a3 := newAuthReq(s)
	p = s.NewBrowser(t).SignIn(a3.url(s), u.UPN, newPassword)
	if p.Has("Update your password") {
		t.Fatal("the update step is shown again")
	}
	codeFrom(t, a3, p)
	wantOAuthError(t, ropc(u, u.Password), "invalid_grant", 50126)
	if r := ropc(u, newPassword); r.Status != 200 || str(r, "access_token") == "" {
		t.Fatalf("ROPC with the new password: %s", r)
	}

	// The change is in the audit log, without the password.
	al := graphCall(t, s, s.GraphToken(t), "GET", "/auditLogs/directoryAudits?$top=50", nil)
	if !strings.Contains(string(al.Raw), "user.changePassword") && !strings.Contains(string(al.Raw), "changePassword") {
		t.Logf("directory audits: %s", al.Raw)
		t.Error("the password change is not in the audit log")
	}
	if strings.Contains(string(al.Raw), newPassword) {
		t.Fatal("the audit log holds the password")
	}

	// An administrator's reset with forceChangePasswordNextSignIn sets it again.
	if st := s.Graph(t, s.GraphToken(t), "PATCH", "/users/"+u.ID, map[string]any{
		"passwordProfile": map[string]any{"password": "Reset-By-Adm1n", "forceChangePasswordNextSignIn": true}}, nil); st != http.StatusNoContent {
		t.Fatalf("reset: %d", st)
	}
	wantOAuthError(t, ropc(u, "Reset-By-Adm1n"), "invalid_grant", 50055)
}

// TestForceChangePasswordDeviceCode: the device-code verification page goes
// through the same update step before the approval.
func TestForceChangePasswordDeviceCode(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUserMustChangePassword(t, "tempdc", userPassword)
	const newPassword = "Device-New-Passw0rd"
	tokenPath := "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"
	r := s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {azCLI}, "scope": {armScope}})
	if r.Status != 200 {
		t.Fatalf("devicecode: %s", r)
	}
	b := s.NewBrowser(t)
	p := b.Get(str(r, "verification_uri"))
	p = b.Submit(p.FormWith(t, "user_code"), map[string]string{"user_code": str(r, "user_code")}, "")
	p = b.Submit(p.FormWith(t, "password"), map[string]string{"username": u.UPN, "password": u.Password}, "")
	if !p.Has("Update your password") {
		t.Fatalf("want the update step: %d\n%s", p.Status, p.Body)
	}
	f := p.FormWith(t, "new_password")
	if p = b.Submit(f, map[string]string{"new_password": newPassword, "confirm_password": "Other-Passw0rd"}, ""); !p.Has("don&#39;t match") {
		t.Fatalf("mismatch: %d\n%s", p.Status, p.Body)
	}
	p = b.Submit(f, map[string]string{"new_password": newPassword, "confirm_password": newPassword}, "")
	if !p.Has("Are you trying to sign in") {
		t.Fatalf("want the confirmation page: %d\n%s", p.Status, p.Body)
	}
	if p = b.Submit(p.Forms[0], nil, "approve"); !p.Has("You have signed in to") {
		t.Fatalf("approve: %d\n%s", p.Status, p.Body)
	}
	got := s.PostForm(t, tokenPath, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id": {azCLI}, "device_code": {str(r, "device_code")}})
	if got.Status != 200 || str(got, "access_token") == "" {
		t.Fatalf("token after approval: %s", got)
	}
}
