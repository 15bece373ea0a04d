package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/sdk/credential"
	"github.com/tessera-id/tessera/test/testserver"
)

// TestLoginPage covers the login page: messages that do not reveal whether
// an account exists, the session cookie, and silent second sign-in.
func TestLoginPage(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "pages", userPassword)

	t.Run("wrong password and unknown user look alike", func(t *testing.T) {
		b := s.NewBrowser(t)
		a := newAuthReq(s)
		p1 := b.SignIn(a.url(s), u.UPN, "Wrong-Password-1")
		p2 := b.SignIn(a.url(s), "nobody@"+s.Bootstrap.Domain, "Wrong-Password-1")
		for _, p := range []*testserver.Page{p1, p2} {
			if p.Status != 200 || !p.Has("Your account or password is incorrect.") || !p.Has(`role="alert"`) {
				t.Fatalf("got %d:\n%s", p.Status, p.Body)
			}
		}
		if strings.Contains(p2.Body, "does not exist") || strings.Contains(p2.Body, "not found") {
			t.Fatal("the page reveals that the account does not exist")
		}
	})

	t.Run("session cookie and silent second sign-in", func(t *testing.T) {
		b := s.NewBrowser(t)
		a := newAuthReq(s)
		resp, err := b.Client.Get(a.url(s))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		p := b.SignIn(a.url(s), u.UPN, u.Password)
		codeFrom(t, a, p)
		var cookie string
		for _, c := range p.Header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "__Host-tessera-session=") {
				cookie = c
			}
		}
		for _, attr := range []string{"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, attr) {
				t.Errorf("session cookie %q lacks %s", cookie, attr)
			}
		}
		// Second sign-in: no page at all.
		a2 := newAuthReq(s)
		codeFrom(t, a2, b.Get(a2.url(s)))
		// prompt=none works with the session.
		a3 := newAuthReq(s)
		a3.Params.Set("prompt", "none")
		codeFrom(t, a3, b.Get(a3.url(s)))
		// select_account shows the picker; Continue uses the session.
		a4 := newAuthReq(s)
		a4.Params.Set("prompt", "select_account")
		p = b.Get(a4.url(s))
		if !p.Has("Pick an account") || !p.Has(u.UPN) {
			t.Fatalf("picker: %d\n%s", p.Status, p.Body)
		}
		codeFrom(t, a4, b.Submit(p.Forms[0], nil, "continue"))
		// ... and "Use another account" shows the login page.
		p = b.Get(a4.url(s))
		if p = b.Submit(p.Forms[0], nil, "another"); !p.Has(`name="password"`) {
			t.Fatalf("use another account: %d", p.Status)
		}
		// prompt=login asks for the password again.
		a5 := newAuthReq(s)
		a5.Params.Set("prompt", "login")
		if p = b.Get(a5.url(s)); !p.Has(`name="password"`) {
			t.Fatalf("prompt=login skipped the login page: %d %s", p.Status, p.Location())
		}
		codeFrom(t, a5, b.Submit(p.FormWith(t, "password"), map[string]string{"username": u.UPN, "password": u.Password}, ""))
		// A login_hint for someone else shows the login page, prefilled.
		a6 := newAuthReq(s)
		a6.Params.Set("login_hint", "other@"+s.Bootstrap.Domain)
		if p = b.Get(a6.url(s)); !p.Has(`value="other@` + s.Bootstrap.Domain + `"`) {
			t.Fatalf("login_hint: %d\n%s", p.Status, p.Body)
		}
		a6.Params.Set("login_hint", u.UPN)
		codeFrom(t, a6, b.Get(a6.url(s)))
		// response_mode=fragment puts the answer after '#'.
		a7 := newAuthReq(s)
		a7.Params.Set("response_mode", "fragment")
		p = b.Get(a7.url(s))
		if loc := p.Location(); p.Status != http.StatusFound || !strings.HasPrefix(loc, "http://localhost:8400#") || !strings.Contains(loc, "code=") {
			t.Fatalf("fragment response: %d %q", p.Status, loc)
		}
	})

	t.Run("prompt=none without a session", func(t *testing.T) {
		a := newAuthReq(s)
		a.Params.Set("prompt", "none")
		e, desc := redirectError(t, s.NewBrowser(t).Get(a.url(s)))
		if e != "login_required" || !strings.Contains(desc, "AADSTS50058") {
			t.Fatalf("got %s: %s", e, desc)
		}
	})

	t.Run("form_post", func(t *testing.T) {
		a := newAuthReq(s)
		a.Params.Set("response_mode", "form_post")
		p := s.NewBrowser(t).SignIn(a.url(s), u.UPN, u.Password)
		if p.Status != 200 || len(p.Forms) != 1 || p.Forms[0].Action != "http://localhost:8400" {
			t.Fatalf("form_post page: %d %+v", p.Status, p.Forms)
		}
		f := p.Forms[0].Fields
		if f.Get("code") == "" || f.Get("state") != a.Params.Get("state") || f.Get("client_info") == "" {
			t.Fatalf("form fields %v", f)
		}
		csp := p.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "form-action http://localhost:8400") || !strings.Contains(csp, "script-src 'nonce-") {
			t.Fatalf("CSP %q", csp)
		}
		if r := redeem(t, s, a, f.Get("code"), nil); r.Status != 200 {
			t.Fatal(r)
		}
	})

	t.Run("a form posted without its CSRF token is refused", func(t *testing.T) {
		a := newAuthReq(s)
		b := s.NewBrowser(t)
		p := b.Get(a.url(s))
		f := p.FormWith(t, "password")
		f.Fields.Del("csrf")
		p = b.Submit(f, map[string]string{"username": u.UPN, "password": u.Password}, "")
		if p.Status != http.StatusBadRequest || !p.Has("expired") {
			t.Fatalf("got %d", p.Status)
		}
		// Posted from another browser (no cookie), a valid-looking token fails too.
		other := s.NewBrowser(t)
		p = other.Submit(p2form(b.Get(a.url(s)), t), map[string]string{"username": u.UPN, "password": u.Password}, "")
		if p.Status != http.StatusBadRequest {
			t.Fatalf("cross-browser post: %d", p.Status)
		}
	})

	t.Run("consent", func(t *testing.T) {
		b := s.NewBrowser(t)
		a := newAuthReq(s)
		a.Params.Set("prompt", "consent")
		p := b.SignIn(a.url(s), u.UPN, u.Password)
		if !p.Has("Permissions requested") {
			t.Fatalf("consent page: %d\n%s", p.Status, p.Body)
		}
		codeFrom(t, a, b.Submit(p.Forms[0], nil, "consent"))
		p = b.Get(a.url(s))
		e, desc := redirectError(t, b.Submit(p.Forms[0], nil, "decline"))
		if e != "access_denied" || !strings.Contains(desc, "AADSTS65004") {
			t.Fatalf("decline: %s %s", e, desc)
		}
	})

	t.Run("logout", func(t *testing.T) {
		b := s.NewBrowser(t)
		a := newAuthReq(s)
		codeFrom(t, a, b.SignIn(a.url(s), u.UPN, u.Password))
		p := b.Get(s.URL + "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/logout?post_logout_redirect_uri=" + url.QueryEscape("https://evil.example.com/"))
		if p.Status != 200 || !p.Has("You signed out") {
			t.Fatalf("logout to an unregistered URI: %d %q", p.Status, p.Location())
		}
		if p = b.Get(a.url(s)); !p.Has(`name="password"`) {
			t.Fatal("the session survived logout")
		}
		codeFrom(t, a, b.Submit(p.FormWith(t, "password"), map[string]string{"username": u.UPN, "password": u.Password}, ""))
		p = b.Get(s.URL + "/adfs/oauth2/logout?client_id=" + azCLI + "&post_logout_redirect_uri=" + url.QueryEscape("http://localhost:8400/") + "&state=bye")
		if p.Status != http.StatusFound || p.Location() != "http://localhost:8400/?state=bye" {
			t.Fatalf("logout to a registered URI: %d %q", p.Status, p.Location())
		}
	})

	t.Run("a password reset ends the session", func(t *testing.T) {
		v := s.CreateUser(t, "resetme", userPassword)
		b := s.NewBrowser(t)
		a := newAuthReq(s)
		codeFrom(t, a, b.SignIn(a.url(s), v.UPN, v.Password))
		time.Sleep(1100 * time.Millisecond) // password times have second precision in the validity check
		if st := s.Graph(t, s.GraphToken(t), "PATCH", "/users/"+v.ID, map[string]any{"passwordProfile": map[string]any{"password": "Brand-New-Pass-3"}}, nil); st != http.StatusNoContent {
			t.Fatalf("reset password: %d", st)
		}
		if p := b.Get(a.url(s)); !p.Has(`name="password"`) {
			t.Fatalf("the session survived a password reset: %d %q", p.Status, p.Location())
		}
	})
}

// p2form is the login form of a page.
func p2form(p *testserver.Page, t *testing.T) testserver.Form { return p.FormWith(t, "password") }

// TestSmartLockout: repeated failures lock the name (known or not) with a
// 429 page, and the right password does not get through until it ends.
func TestSmartLockout(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "locked", userPassword)
	b := s.NewBrowser(t)
	a := newAuthReq(s)
	var p *testserver.Page
	for i := 0; i < 10; i++ {
		p = b.SignIn(a.url(s), u.UPN, "Wrong-Password-1")
	}
	if p.Status != http.StatusTooManyRequests || !p.Has("temporarily locked") {
		t.Fatalf("after 10 failures: %d\n%s", p.Status, p.Body)
	}
	if p = b.SignIn(a.url(s), u.UPN, u.Password); p.Status != http.StatusTooManyRequests {
		t.Fatalf("the right password got through a lockout: %d", p.Status)
	}
	// Sign-in log: failures, then the lockout.
	r := graphCall(t, s, s.GraphToken(t), "GET", "/auditLogs/signIns?$top=50", nil)
	found := false
	for _, e := range r.values() {
		// microsoft.graph.signIn: status.errorCode is the AADSTS number.
		if st, _ := e["status"].(map[string]any); st["errorCode"] == float64(50053) && e["userPrincipalName"] == u.UPN &&
			e["isInteractive"] == true && e["clientAppUsed"] == "Browser" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no lockout in the sign-in log: %s", r.Raw)
	}
}

// TestMFAEnrollmentAndChallenge: a policy requiring MFA makes the login
// flow enroll an authenticator, then challenge it; amr records both methods.
func TestMFAEnrollmentAndChallenge(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "mfa", userPassword)
	caPolicy(t, s, map[string]any{
		"displayName": "MFA for Resource Manager", "state": "enabled",
		"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{u.ID}},
			"applications": map[string]any{"includeApplications": []string{"797f4846-ba00-4fd7-ba43-dac1f8f63013"}}, "clientAppTypes": []string{"all"}},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}},
	})
	b := s.NewBrowser(t)
	a := newAuthReq(s)
	p := b.SignIn(a.url(s), u.UPN, u.Password)
	if !p.Has("Set up your authenticator app") {
		t.Fatalf("want the enrollment page: %d\n%s", p.Status, p.Body)
	}
	secret := between(p.Body, `<code class="secret" id="secret">`, "</code>")
	key, err := signin.DecodeTOTPSecret(secret)
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	f := p.FormWith(t, "otp")
	if p2 := b.Submit(f, map[string]string{"otp": "000000"}, ""); !p2.Has("didn") {
		t.Fatalf("wrong code accepted: %d", p2.Status)
	}
	used := signin.TOTPCode(key, time.Now())
	code := codeFrom(t, a, b.Submit(f, map[string]string{"otp": used}, ""))
	r := redeem(t, s, a, code, nil)
	amr, _ := verifyWithJWKS(t, s, str(r, "access_token"))["amr"].([]any)
	if len(amr) != 2 || amr[0] != "pwd" || amr[1] != "mfa" {
		t.Fatalf("amr %v, want [pwd mfa]", amr)
	}

	// A new browser: password, then the challenge (not enrollment again).
	b2 := s.NewBrowser(t)
	a2 := newAuthReq(s)
	p = b2.SignIn(a2.url(s), u.UPN, u.Password)
	if !p.Has("Enter code") || p.Has("Set up") {
		t.Fatalf("want the challenge: %d\n%s", p.Status, p.Body)
	}
	// The code just used is refused (each code is good once); the next step's works.
	if p2 := b2.Submit(p.FormWith(t, "otp"), map[string]string{"otp": used}, ""); !p2.Has("didn") {
		t.Fatalf("a reused code was accepted: %d %q", p2.Status, p2.Location())
	}
	next := signin.TOTPCode(key, time.Now().Add(30*time.Second))
	codeFrom(t, a2, b2.Submit(p.FormWith(t, "otp"), map[string]string{"otp": next}, ""))
	// The password grant cannot do MFA.
	if err := s.App.SetAllowROPC(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	wantOAuthError(t, s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"},
		"client_id": {azCLI}, "username": {u.UPN}, "password": {u.Password}, "scope": {armScope + " offline_access"}}), "invalid_grant", 50076)
}

// TestConditionalAccessBlock: a block policy stops the sign-in with its
// message and lands in the sign-in log; report-only policies are logged
// but not enforced.
func TestConditionalAccessBlock(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "blocked", userPassword)
	other := s.CreateUser(t, "reported", userPassword)
	group := s.CreateGroup(t, "ca-blocked")
	s.AddMember(t, group, u.ID)
	caPolicy(t, s, map[string]any{
		"displayName": "Block ARM for the group", "state": "enabled",
		"conditions": map[string]any{"users": map[string]any{"includeGroups": []string{group}},
			"applications": map[string]any{"includeApplications": []string{"All"}}, "clientAppTypes": []string{"all"}},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}},
	})
	caPolicy(t, s, map[string]any{
		"displayName": "Report MFA", "state": "enabledForReportingButNotEnforced",
		"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{"All"}},
			"applications": map[string]any{"includeApplications": []string{"All"}}, "clientAppTypes": []string{"all"}},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}},
	})
	a := newAuthReq(s)
	p := s.NewBrowser(t).SignIn(a.url(s), u.UPN, u.Password)
	if p.Status != http.StatusForbidden || !p.Has("Block ARM for the group") || !p.Has("AADSTS53003") {
		t.Fatalf("block page: %d\n%s", p.Status, p.Body)
	}
	codeFrom(t, a, s.NewBrowser(t).SignIn(a.url(s), other.UPN, other.Password))
	r := graphCall(t, s, s.GraphToken(t), "GET", "/auditLogs/signIns?$top=20", nil)
	var blocked, reported bool
	for _, e := range r.values() {
		pol := toJSON(e["appliedConditionalAccessPolicies"])
		st, _ := e["status"].(map[string]any)
		if e["userId"] == u.ID && e["conditionalAccessStatus"] == "failure" && strings.Contains(pol, `"result":"failure"`) &&
			st["errorCode"] == float64(53003) {
			blocked = true
		}
		if e["userId"] == other.ID && strings.Contains(pol, "reportOnlyInterrupted") && st["errorCode"] == float64(0) {
			reported = true
		}
	}
	if !blocked || !reported {
		t.Fatalf("sign-in log lacks the evaluation (blocked %v, reported %v): %s", blocked, reported, r.Raw)
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return ""
}

// caPolicy creates a Conditional Access policy through Graph.
func caPolicy(t *testing.T, s *testserver.Server, body map[string]any) string {
	t.Helper()
	r := graphCall(t, s, s.GraphToken(t), "POST", "/identity/conditionalAccess/policies", body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create policy: %d %s", r.Status, r.Raw)
	}
	return r.str("id")
}

// TestLoginPageClientName: tessera login signs in as the Azure CLI's client
// id and says so with x-client-SKU (sdk/credential.ClientSKU); its page names
// Tessera's CLI, while az's own sign-in keeps the registered name.
func TestLoginPageClientName(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	for _, tc := range []struct {
		name, sku, clientID, want string
	}{
		{"tessera login", credential.ClientSKU, azCLI, "Tessera CLI"},
		{"az login", "MSAL.Python", azCLI, "Microsoft Azure CLI"},
		{"no SKU", "", azCLI, "Microsoft Azure CLI"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAuthReq(s)
			a.Params.Set("client_id", tc.clientID)
			if tc.sku != "" {
				a.Params.Set("x-client-SKU", tc.sku)
			}
			p := s.NewBrowser(t).Get(a.url(s))
			if p.Status != 200 || !p.Has("to continue to <strong>"+tc.want+"</strong>") {
				t.Fatalf("got %d, want a page naming %q:\n%s", p.Status, tc.want, p.Body)
			}
		})
	}
}
