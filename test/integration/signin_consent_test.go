package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/test/testserver"
)

// consentSetup is an API with a User and an Admin scope, and a native
// client of it that signs people in through the pages.
type consentSetup struct {
	s      *testserver.Server
	api    protectedAPI
	client testserver.App
}

func newConsentSetup(t *testing.T) consentSetup {
	t.Helper()
	s := testserver.Start(t, testserver.Options{})
	api := registerProtectedAPI(t, s, "scoring", 2, nil)
	client := s.CreateApp(t, "Scoring Notebook", map[string]any{
		"publicClient": map[string]any{"redirectUris": []string{"http://localhost:8400"}},
		"web":          map[string]any{"redirectUris": []string{"https://notebook.example/consented"}},
		"requiredResourceAccess": []any{map[string]any{"resourceAppId": api.AppID, "resourceAccess": []any{
			map[string]any{"id": api.ReadID, "type": "Scope"}, map[string]any{"id": api.WriteID, "type": "Scope"}}}},
	})
	return consentSetup{s: s, api: api, client: client}
}

// authReq asks for scope of the API through the client's loopback redirect.
func (c consentSetup) authReq(scope string) *authReq {
	a := newAuthReq(c.s)
	a.Params.Set("client_id", c.client.AppID)
	a.Params.Set("scope", scope+" openid offline_access")
	return a
}

// redeem redeems a code as the client (a web app: with its secret).
func (c consentSetup) redeem(t *testing.T, a *authReq, code string) testserver.TokenResponse {
	t.Helper()
	return redeem(t, c.s, a, code, url.Values{"client_secret": {c.client.Secret}})
}

// appAdmin is a user holding Cloud Application Administrator.
func (c consentSetup) appAdmin(t *testing.T, name string) testserver.User {
	t.Helper()
	u := c.s.CreateUser(t, name, userPassword)
	if r := graphCall(t, c.s, c.s.GraphToken(t), "POST", "/roleManagement/directory/roleAssignments", map[string]any{
		"principalId": u.ID, "roleDefinitionId": domain.RoleCloudApplicationAdministrator, "directoryScopeId": "/"}); r.Status != 201 {
		t.Fatalf("assign directory role: %d %s", r.Status, r.Raw)
	}
	return u
}

func wantConsentPage(t *testing.T, p *testserver.Page, want ...string) {
	t.Helper()
	if p.Status != http.StatusOK || !p.Has("Permissions requested") {
		t.Fatalf("want the consent page, got %d:\n%s", p.Status, p.Body)
	}
	for _, w := range want {
		if !p.Has(w) {
			t.Errorf("consent page lacks %q:\n%s", w, p.Body)
		}
	}
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("consent page CSP %q", csp)
	}
}

func wantNeedAdmin(t *testing.T, p *testserver.Page) {
	t.Helper()
	if p.Status != http.StatusForbidden || !p.Has("Need admin approval") || !p.Has("AADSTS90094") || p.Location() != "" {
		t.Fatalf("want the Need admin approval page, got %d %s:\n%s", p.Status, p.Location(), p.Body)
	}
}

// TestSignInAsksForConsent: a user consents to a User permission on the
// consent page, the code redeems to a token carrying it, and the next
// sign-in does not ask again; prompt=consent asks anyway; Cancel is
// access_denied; prompt=none without consent is consent_required.
func TestSignInAsksForConsent(t *testing.T) {
	c := newConsentSetup(t)
	s := c.s
	u := s.CreateUser(t, "consenter", userPassword)
	b := s.NewBrowser(t)

	// prompt=none before any sign-in is login_required; after sign-in
	// without consent it is consent_required.
	a := c.authReq("api://scoring/Scores.Read")
	p := b.SignIn(a.url(s), u.UPN, u.Password)
	wantConsentPage(t, p, "Scoring Notebook", "Read your scores", "Reads your scores.", "unverified")
	if p.Has("on behalf of your organization") {
		t.Error("a user is offered consent for the organisation")
	}
	silent := c.authReq("api://scoring/Scores.Read")
	silent.Params.Set("prompt", "none")
	if e, d := redirectError(t, b.Get(silent.url(s))); e != "consent_required" || !strings.Contains(d, "AADSTS65001") {
		t.Errorf("prompt=none without consent: %s %s", e, d)
	}

	// Cancel.
	if e, d := redirectError(t, b.Submit(p.FormWith(t, "step"), nil, "decline")); e != "access_denied" || !strings.Contains(d, "AADSTS65004") {
		t.Errorf("cancel: %s %s", e, d)
	}

	// Accept.
	a = c.authReq("api://scoring/Scores.Read")
	p = b.Get(a.url(s))
	wantConsentPage(t, p, "Read your scores")
	code := codeFrom(t, a, b.Submit(p.FormWith(t, "step"), nil, "consent"))
	r := c.redeem(t, a, code)
	if r.Status != 200 {
		t.Fatalf("redeem: %s", r)
	}
	if cl := verifyWithJWKS(t, s, str(r, "access_token")); cl["scp"] != "Scores.Read" || cl["aud"] != c.api.AppID {
		t.Errorf("claims %v", cl)
	}
	grants := graphCall(t, s, s.GraphToken(t), "GET", "/servicePrincipals/"+c.client.SPID+"/oauth2PermissionGrants", nil)
	if v, _ := grants.Body["value"].([]any); len(v) != 1 || v[0].(map[string]any)["principalId"] != u.ID ||
		v[0].(map[string]any)["consentType"] != "Principal" || v[0].(map[string]any)["scope"] != "Scores.Read" {
		t.Errorf("grants after consent: %s", grants.Raw)
	}

	// Asked once: the next sign-in, and a silent one, get a code at once.
	a = c.authReq("api://scoring/Scores.Read")
	codeFrom(t, a, b.Get(a.url(s)))
	silent = c.authReq("api://scoring/Scores.Read")
	silent.Params.Set("prompt", "none")
	codeFrom(t, silent, b.Get(silent.url(s)))

	// prompt=consent shows the page although everything is consented.
	a = c.authReq("api://scoring/Scores.Read")
	a.Params.Set("prompt", "consent")
	p = b.Get(a.url(s))
	wantConsentPage(t, p, "Read your scores")
	codeFrom(t, a, b.Submit(p.FormWith(t, "step"), nil, "consent"))

	// Another user of the same browser has consented to nothing.
	other := s.CreateUser(t, "consenter2", userPassword)
	b2 := s.NewBrowser(t)
	a = c.authReq("api://scoring/Scores.Read")
	wantConsentPage(t, b2.SignIn(a.url(s), other.UPN, other.Password), "Read your scores")
}

// TestConsentNeedsAnAdministrator: an Admin permission, or any permission
// once the authorization policy stops user consent, is "Need admin
// approval" for a user; an administrator grants it for the organisation,
// after which other users sign in without a page.
func TestConsentNeedsAnAdministrator(t *testing.T) {
	c := newConsentSetup(t)
	s := c.s
	u := s.CreateUser(t, "worker", userPassword)
	admin := c.appAdmin(t, "appadmin")

	a := c.authReq("api://scoring/Scores.Write")
	wantNeedAdmin(t, s.NewBrowser(t).SignIn(a.url(s), u.UPN, u.Password))

	// prompt=admin_consent is for administrators only.
	a = c.authReq("api://scoring/Scores.Read")
	a.Params.Set("prompt", "admin_consent")
	wantNeedAdmin(t, s.NewBrowser(t).SignIn(a.url(s), u.UPN, u.Password))

	// User consent off: even a User permission needs an administrator.
	noConsent := map[string]any{"defaultUserRolePermissions": map[string]any{"permissionGrantPoliciesAssigned": []any{}}}
	if r := graphCall(t, s, s.GraphToken(t), "PATCH", "/policies/authorizationPolicy", noConsent); r.Status != 204 {
		t.Fatalf("turn user consent off: %d %s", r.Status, r.Raw)
	}
	a = c.authReq("api://scoring/Scores.Read")
	wantNeedAdmin(t, s.NewBrowser(t).SignIn(a.url(s), u.UPN, u.Password))

	// The administrator consents for everyone.
	ab := s.NewBrowser(t)
	a = c.authReq("api://scoring/Scores.Read api://scoring/Scores.Write")
	p := ab.SignIn(a.url(s), admin.UPN, admin.Password)
	wantConsentPage(t, p, "Consent on behalf of your organization", "Write scores")
	code := codeFrom(t, a, ab.Submit(p.FormWith(t, "step"), map[string]string{"organization": "on"}, "consent"))
	if r := c.redeem(t, a, code); r.Status != 200 || claimsOf(t, str(r, "access_token"))["scp"] != "Scores.Read Scores.Write" {
		t.Fatalf("admin's token: %s", r)
	}

	// Now the user gets the token with no page at all.
	a = c.authReq("api://scoring/Scores.Read api://scoring/Scores.Write")
	code = signInCode(t, s, s.NewBrowser(t), a, u)
	if r := c.redeem(t, a, code); r.Status != 200 || claimsOf(t, str(r, "access_token"))["scp"] != "Scores.Read Scores.Write" {
		t.Fatalf("user's token after admin consent: %s", r)
	}
	audit := graphCall(t, s, s.GraphToken(t), "GET", "/auditLogs/directoryAudits", nil)
	if !strings.Contains(string(audit.Raw), "consent.grant") {
		t.Errorf("no consent.grant in the audit log: %s", audit.Raw)
	}

	// prompt=admin_consent for the administrator: the box comes ticked.
	a = c.authReq("api://scoring/Scores.Read")
	a.Params.Set("prompt", "admin_consent")
	p = ab.Get(a.url(s))
	wantConsentPage(t, p, "Consent on behalf of your organization")
	if f := p.FormWith(t, "step"); f.Fields.Get("organization") != "on" {
		t.Errorf("prompt=admin_consent: box not ticked:\n%s", p.Body)
	}
}

// TestAdminConsentEndpoint: /{tenant}/v2.0/adminconsent grants the
// client's required permissions for the organisation and returns to its
// registered redirect URI with admin_consent=True; any other redirect URI
// is refused on a page; a non-administrator gets "Need admin approval".
func TestAdminConsentEndpoint(t *testing.T) {
	c := newConsentSetup(t)
	s := c.s
	admin := c.appAdmin(t, "consentadmin")
	u := s.CreateUser(t, "plain", userPassword)
	endpoint := func(redirect, scope string) string {
		q := url.Values{"client_id": {c.client.AppID}, "redirect_uri": {redirect}, "state": {"st-42"}}
		if scope != "" {
			q.Set("scope", scope)
		}
		return s.URL + "/" + s.Bootstrap.TenantID + "/v2.0/adminconsent?" + q.Encode()
	}

	for _, bad := range []string{"https://evil.example/consented", "https://notebook.example/consented/", ""} {
		p := s.NewBrowser(t).Get(endpoint(bad, ""))
		if p.Status != http.StatusBadRequest || !p.Has("AADSTS50011") || p.Location() != "" {
			t.Errorf("redirect %q: %d %s", bad, p.Status, p.Location())
		}
	}

	wantNeedAdmin(t, s.NewBrowser(t).SignIn(endpoint("https://notebook.example/consented", ""), u.UPN, u.Password))

	// Decline.
	b := s.NewBrowser(t)
	p := b.SignIn(endpoint("https://notebook.example/consented", ""), admin.UPN, admin.Password)
	wantConsentPage(t, p, "Read scores", "Write scores")
	loc, _ := url.Parse(b.Submit(p.FormWith(t, "step"), nil, "decline").Location())
	if q := loc.Query(); q.Get("error") != "access_denied" || q.Get("state") != "st-42" || loc.Host != "notebook.example" {
		t.Errorf("decline: %s", loc)
	}

	// Accept: AllPrincipals for what the registration requires.
	p = b.Get(endpoint("https://notebook.example/consented", ""))
	wantConsentPage(t, p, "Read scores", "Write scores")
	done := b.Submit(p.FormWith(t, "step"), nil, "consent")
	loc, _ = url.Parse(done.Location())
	if q := loc.Query(); done.Status != http.StatusFound || q.Get("admin_consent") != "True" || q.Get("tenant") != s.Bootstrap.TenantID ||
		q.Get("state") != "st-42" || loc.Host != "notebook.example" || loc.Path != "/consented" {
		t.Fatalf("accept: %d %s", done.Status, done.Location())
	}
	grants := graphCall(t, s, s.GraphToken(t), "GET", "/servicePrincipals/"+c.client.SPID+"/oauth2PermissionGrants", nil)
	if v, _ := grants.Body["value"].([]any); len(v) != 1 || v[0].(map[string]any)["consentType"] != "AllPrincipals" ||
		v[0].(map[string]any)["scope"] != "Scores.Read Scores.Write" {
		t.Errorf("grants: %s", grants.Raw)
	}
	a := c.authReq("api://scoring/Scores.Write")
	if r := c.redeem(t, a, signInCode(t, s, s.NewBrowser(t), a, u)); r.Status != 200 {
		t.Errorf("user after admin consent: %s", r)
	}

	// A scope names the permissions instead.
	c2 := newConsentSetup(t)
	admin2 := c2.appAdmin(t, "consentadmin2")
	q := url.Values{"client_id": {c2.client.AppID}, "redirect_uri": {"https://notebook.example/consented"}, "scope": {"api://scoring/Scores.Read"}}
	b2 := c2.s.NewBrowser(t)
	p = b2.SignIn(c2.s.URL+"/"+c2.s.Bootstrap.TenantID+"/v2.0/adminconsent?"+q.Encode(), admin2.UPN, admin2.Password)
	wantConsentPage(t, p, "Read scores")
	if p.Has("Write scores") {
		t.Error("scope=api://scoring/Scores.Read lists Scores.Write")
	}
	if done := b2.Submit(p.FormWith(t, "step"), nil, "consent"); !strings.Contains(done.Location(), "admin_consent=True") {
		t.Errorf("scoped accept: %d %s", done.Status, done.Location())
	}
}

// TestDeviceCodeAsksForConsent: the device-code approval asks for the
// consent the device's token needs, and the token carries it.
func TestDeviceCodeAsksForConsent(t *testing.T) {
	c := newConsentSetup(t)
	s := c.s
	dev := s.CreateApp(t, "Scoring Device", map[string]any{"isFallbackPublicClient": true})
	u := s.CreateUser(t, "deviceuser", userPassword)
	r := s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {dev.AppID}, "scope": {"api://scoring/Scores.Read"}})
	if r.Status != 200 {
		t.Fatalf("devicecode: %s", r)
	}
	b := s.NewBrowser(t)
	p := b.Get(str(r, "verification_uri"))
	p = b.Submit(p.FormWith(t, "user_code"), map[string]string{"user_code": str(r, "user_code")}, "")
	p = b.Submit(p.FormWith(t, "password"), map[string]string{"username": u.UPN, "password": u.Password}, "")
	wantConsentPage(t, p, "Scoring Device", "Read your scores")
	if p = b.Submit(p.FormWith(t, "step"), nil, "consent"); !p.Has("You have signed in to") {
		t.Fatalf("consent: %d\n%s", p.Status, p.Body)
	}
	got := s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id": {dev.AppID}, "device_code": {str(r, "device_code")}})
	if got.Status != 200 || claimsOf(t, str(got, "access_token"))["scp"] != "Scores.Read" {
		t.Fatalf("token after consent: %s", got)
	}
}
