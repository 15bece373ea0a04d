package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/test/browser"
)

// signInAs ends the console session in this browser and signs in as another person.
func (c *session) signInAs(t *testing.T, upn, password string) {
	t.Helper()
	browser.Run(t, c.ctx, chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`))
	c.signIn(t, upn, password)
}

// acceptConfirms answers yes to the page's confirmation dialogs.
func (c *session) acceptConfirms(t *testing.T) {
	t.Helper()
	browser.Run(t, c.ctx, chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
}

// setSelect chooses an option of a select and tells the page, as a person's choice does.
func setSelect(sel, value string) browser.Step {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
		s.dispatchEvent(new Event('change', { bubbles: true })); })()`, sel, value))
}

func rowCount(t *testing.T, c *session) int {
	return browser.Eval[int](t, c.ctx, `document.querySelectorAll('main table tbody tr').length`)
}

// TestConsoleSignInAndAuditLogs: the sign-in log filters by outcome and
// application, shows one sign-in's details, and filters by second factor;
// the audit log filters by activity and shows an entry; a user who may not
// read the logs sees Graph's refusal.
func TestConsoleSignInAndAuditLogs(t *testing.T) {
	c := open(t)
	app := c.s.CreateApp(t, "log-probe", nil)
	if r := c.s.PostForm(t, "/"+c.s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {app.AppID}, "client_secret": {"not-the-secret"}, "scope": {c.s.URL + "/graph/.default"}}); r.Status != 401 {
		t.Fatalf("a wrong secret: %v", r)
	}
	var failed struct {
		Value []struct{ ID string } `json:"value"`
	}
	f := url.QueryEscape("appId eq '" + app.AppID + "' and status/errorCode ne 0")
	if c.s.Graph(t, c.s.GraphToken(t), http.MethodGet, "/auditLogs/signIns?$filter="+f, nil, &failed); len(failed.Value) != 1 {
		t.Fatalf("Graph lists %d failed sign-ins of the app, want 1", len(failed.Value))
	}

	c.signInAdmin(t)
	c.goTo(t, "#/signins", "/signins")
	browser.Run(t, c.ctx, setSelect("#signin-status", "failure"), setSelect("#signin-who-kind", "appId"), browser.SetValue("#signin-who", app.AppID),
		browser.Submit("#signin-who"), browser.WaitText("main table tbody", "Failure 7000215"))
	if n := rowCount(t, c); n != 1 {
		t.Fatalf("the console lists %d failed sign-ins of the app, want 1", n)
	}
	browser.Run(t, c.ctx, browser.Click("main table tbody a"), browser.WaitVisible(`main[data-ready="/signins/:id"]`),
		browser.WaitText("main", "Invalid client secret"))
	if got := browser.Text(t, c.ctx, "main"); !strings.Contains(got, failed.Value[0].ID) {
		t.Fatalf("the details do not show the sign-in %s: %s", failed.Value[0].ID, got)
	}

	// The application's own successful sign-in, by its name.
	c.s.AppToken(t, app.AppID, app.Secret, c.s.URL+"/graph/.default")
	c.goTo(t, "#/signins", "/signins")
	browser.Run(t, c.ctx, setSelect("#signin-status", "success"), setSelect("#signin-who-kind", "appName"), browser.SetValue("#signin-who", "log-"),
		browser.Submit("#signin-who"), browser.WaitText("main table tbody", "log-probe"))
	if n := rowCount(t, c); n != 1 {
		t.Fatalf("the console lists %d successful sign-ins of log-probe, want 1", n)
	}

	// The administrator's own sign-in: a success with a password only.
	admin := strings.Split(c.s.Bootstrap.Admin.UserPrincipalName, "@")[0]
	c.goTo(t, "#/signins", "/signins")
	browser.Run(t, c.ctx, setSelect("#signin-status", "success"), setSelect("#signin-who-kind", "user"), browser.SetValue("#signin-who", admin),
		setSelect("#signin-mfa", "singleFactorAuthentication"), browser.Submit("#signin-who"),
		browser.WaitText("main table tbody", c.s.Bootstrap.Admin.UserPrincipalName))
	browser.Run(t, c.ctx, setSelect("#signin-mfa", "multiFactorAuthentication"), browser.Submit("#signin-who"),
		browser.WaitText("main", "No sign-in matches."))

	c.goTo(t, "#/audits", "/audits")
	browser.Run(t, c.ctx, browser.SetValue("#audit-activity", "Add application"), setSelect("#audit-result", "success"),
		browser.Submit("#audit-activity"), browser.WaitText("main table tbody", "Add application"))
	c.screenshot(t, "audits")
	browser.Run(t, c.ctx, browser.Click("main table tbody a"), browser.WaitVisible(`main[data-ready="/audits/:id"]`),
		browser.WaitText("main h1", "Add application"), browser.WaitText("main", "ApplicationManagement"))

	// Without a role that reads reports: Graph's refusal, shown as it is.
	// A report-only policy asks this user for a second factor, and logs it.
	u := c.s.CreateUser(t, "no-reports", "Reports-Reader-1")
	if st := c.s.Graph(t, c.s.GraphToken(t), http.MethodPost, "/identity/conditionalAccess/policies", map[string]any{
		"displayName": "Report MFA for no-reports", "state": "enabledForReportingButNotEnforced",
		"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{u.ID}},
			"applications": map[string]any{"includeApplications": []string{"All"}}, "clientAppTypes": []string{"all"}},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}},
	}, nil); st != http.StatusCreated {
		t.Fatalf("create policy: %d", st)
	}
	c.signInAs(t, u.UPN, u.Password)
	for _, p := range []string{"signins", "audits"} {
		c.goTo(t, "#/"+p, "/"+p)
		browser.Run(t, c.ctx, browser.WaitText("main .error", "Insufficient privileges to complete the operation."))
	}

	c.signInAs(t, c.s.Bootstrap.Admin.UserPrincipalName, c.s.Bootstrap.Admin.Password)
	c.goTo(t, "#/signins", "/signins")
	browser.Run(t, c.ctx, setSelect("#signin-ca", "reportOnly"), browser.Submit("#signin-who"),
		browser.WaitText("main table tbody", u.UPN))
	if got := browser.Text(t, c.ctx, "main table tbody"); strings.Contains(got, c.s.Bootstrap.Admin.UserPrincipalName) {
		t.Fatalf("the report-only filter shows sign-ins no report-only policy applied to: %s", got)
	}
	browser.Run(t, c.ctx, browser.Click("main table tbody a"), browser.WaitVisible(`main[data-ready="/signins/:id"]`),
		browser.WaitText("main", "Report MFA for no-reports"), browser.WaitText("main", "reportOnlyInterrupted"))
	c.goTo(t, "#/signins", "/signins")
	c.screenshot(t, "signins")
}

// TestConsoleConditionalAccess: an administrator creates a named location
// and a report-only policy, turns it on and deletes it, each checked
// through Graph; a user without a Conditional Access role sees the changes
// disabled with the reason and Graph's refusal to list.
func TestConsoleConditionalAccess(t *testing.T) {
	c := open(t)
	u := c.s.CreateUser(t, "ca-target", "Conditional-Access-1")
	c.signInAdmin(t)
	c.goTo(t, "#/conditional-access", "/conditional-access")
	browser.Run(t, c.ctx, browser.Click("#new-location"), browser.WaitVisible("#location-name"),
		browser.Type("#location-name", "Office"), browser.Type("#location-ranges", "10.1.0.0/16, 2001:db8::/32"),
		browser.Click("#location-trusted"), browser.Submit("#location-name"), browser.WaitText("main", "10.1.0.0/16"))
	type location struct {
		ID          string
		DisplayName string
		IsTrusted   bool
	}
	var locs struct{ Value []location }
	bearer := c.s.GraphToken(t)
	if c.s.Graph(t, bearer, http.MethodGet, "/identity/conditionalAccess/namedLocations", nil, &locs); len(locs.Value) != 1 || !locs.Value[0].IsTrusted {
		t.Fatalf("named locations after create: %+v", locs)
	}
	office := locs.Value[0].ID

	browser.Run(t, c.ctx, browser.WaitVisible(`main[data-ready="/conditional-access"]`), browser.Click("#new-policy"), browser.WaitVisible("#policy-name"),
		browser.Type("#policy-name", "MFA outside the office"), browser.SetValue("#policy-include-users", u.UPN),
		setSelect("#policy-exclude-location", office),
		browser.Submit("#policy-name"), browser.WaitText("main table", "MFA outside the office"))
	type policy struct {
		ID          string
		DisplayName string
		State       string
		Conditions  struct {
			Users     struct{ IncludeUsers []string }
			Locations *struct{ IncludeLocations, ExcludeLocations []string }
		}
		GrantControls struct{ BuiltInControls []string }
	}
	var ps struct{ Value []policy }
	c.s.Graph(t, bearer, http.MethodGet, "/identity/conditionalAccess/policies", nil, &ps)
	if len(ps.Value) != 1 {
		t.Fatalf("policies after create: %+v", ps)
	}
	p := ps.Value[0]
	if p.State != "enabledForReportingButNotEnforced" || len(p.Conditions.Users.IncludeUsers) != 1 || p.Conditions.Users.IncludeUsers[0] != u.ID ||
		p.Conditions.Locations == nil || len(p.Conditions.Locations.ExcludeLocations) != 1 || p.Conditions.Locations.ExcludeLocations[0] != office ||
		len(p.GrantControls.BuiltInControls) != 1 || p.GrantControls.BuiltInControls[0] != "mfa" {
		t.Fatalf("the policy created: %+v", p)
	}
	c.screenshot(t, "conditional-access")

	browser.Run(t, c.ctx, setSelect(`select[aria-label="State of MFA outside the office"]`, "enabled"),
		browser.Click(`button[aria-label="Apply the state of MFA outside the office"]`))
	waitFor(t, func() bool {
		var got policy
		c.s.Graph(t, bearer, http.MethodGet, "/identity/conditionalAccess/policies/"+p.ID, nil, &got)
		return got.State == "enabled"
	})
	browser.Run(t, c.ctx, browser.WaitVisible(`main[data-ready="/conditional-access"]`))
	c.acceptConfirms(t)
	browser.Run(t, c.ctx, browser.Click(`button[aria-label="Delete policy MFA outside the office"]`))
	waitFor(t, func() bool {
		return c.s.Graph(t, bearer, http.MethodGet, "/identity/conditionalAccess/policies/"+p.ID, nil, nil) == http.StatusNotFound
	})

	c.signInAs(t, u.UPN, u.Password)
	c.goTo(t, "#/conditional-access", "/conditional-access")
	browser.Run(t, c.ctx, browser.WaitText("main", "Insufficient privileges to complete the operation."))
	if !browser.Eval[bool](t, c.ctx, `document.getElementById('new-policy').disabled && document.getElementById('new-location').disabled`) {
		t.Fatal("a user without a Conditional Access role may create policies in the console")
	}
	if got := browser.Text(t, c.ctx, "main"); !strings.Contains(got, "Changing Conditional Access needs one of these directory roles: Global Administrator, Conditional Access Administrator, Security Administrator.") {
		t.Fatalf("no reason shown: %s", got)
	}
}

// TestConsoleSigningKeys: a Global Administrator rotates the signing keys;
// Graph's extension and the JWKS show the next key became current. A
// user without the role sees the button disabled with the reason.
func TestConsoleSigningKeys(t *testing.T) {
	c := open(t)
	c.signInAdmin(t)
	c.goTo(t, "#/keys", "/keys")
	browser.Run(t, c.ctx, browser.WaitVisible(`code.kid[data-status="current"]`))
	old := browser.Text(t, c.ctx, `code.kid[data-status="current"]`)
	next := browser.Text(t, c.ctx, `code.kid[data-status="next"]`)
	c.acceptConfirms(t)
	browser.Run(t, c.ctx, browser.Click("#rotate-keys"),
		browser.WaitFor(fmt.Sprintf(`(() => { const e = document.querySelector('main[data-ready] code.kid[data-status="current"]'); return e && e.textContent === %q; })()`, next)),
		browser.WaitText("main table", "Previous"))
	var keys struct {
		Value []struct{ Kid, Status string }
	}
	c.s.Graph(t, c.s.GraphToken(t), http.MethodGet, "/tessera.signingKeys", nil, &keys)
	status := map[string]string{}
	for _, k := range keys.Value {
		status[k.Kid] = k.Status
	}
	if status[next] != "current" || status[old] != "previous" || len(keys.Value) != 3 {
		t.Fatalf("keys after the console's rotation: %+v", keys.Value)
	}
	c.screenshot(t, "keys")

	u := c.s.CreateUser(t, "no-keys", "Signing-Keys-1")
	c.signInAs(t, u.UPN, u.Password)
	c.goTo(t, "#/keys", "/keys")
	browser.Run(t, c.ctx, browser.WaitVisible("main table"))
	if !browser.Eval[bool](t, c.ctx, `document.getElementById('rotate-keys').disabled`) {
		t.Fatal("a user may rotate the keys in the console")
	}
	if got := browser.Text(t, c.ctx, "main"); !strings.Contains(got, "Rotating the signing keys needs one of these directory roles: Global Administrator.") || !strings.Contains(got, next) {
		t.Fatalf("the keys page of a user: %s", got)
	}
}

// TestConsoleAuthenticationMethods: a user registers an authenticator app
// at sign-in and sees it on their own page without the reset; an
// administrator requires re-registration, which Graph then reflects.
func TestConsoleAuthenticationMethods(t *testing.T) {
	c := open(t)
	u := c.s.CreateUser(t, "mfa-person", "Second-Factor-1")
	bearer := c.s.GraphToken(t)
	if st := c.s.Graph(t, bearer, http.MethodPost, "/identity/conditionalAccess/policies", map[string]any{
		"displayName": "MFA for mfa-person", "state": "enabled",
		"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{u.ID}},
			"applications": map[string]any{"includeApplications": []string{"All"}}, "clientAppTypes": []string{"all"}},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}},
	}, nil); st != http.StatusCreated {
		t.Fatalf("create policy: %d", st)
	}

	browser.Run(t, c.ctx, browser.ClearCookies(), chromedp.Navigate(c.s.URL+"/portal/"),
		browser.WaitVisible("#sign-in"), browser.Click("#sign-in"), browser.Login(u.UPN, u.Password), browser.WaitVisible("#secret"))
	key, err := signin.DecodeTOTPSecret(browser.Text(t, c.ctx, "#secret"))
	if err != nil {
		t.Fatal(err)
	}
	browser.Run(t, c.ctx, browser.Type("#otp", signin.TOTPCode(key, time.Now())), browser.Click(`button[type="submit"]`),
		browser.WaitVisible(`main[data-ready="/"]`))
	c.goTo(t, "#/users/"+u.ID, "/users/:id")
	browser.Run(t, c.ctx, browser.WaitText("#auth-methods", "Authenticator app (TOTP)"))
	if !browser.Eval[bool](t, c.ctx, `document.getElementById('require-reregistration').disabled`) {
		t.Fatal("a user may reset their own authenticator app in the console")
	}

	c.signInAs(t, c.s.Bootstrap.Admin.UserPrincipalName, c.s.Bootstrap.Admin.Password)
	c.goTo(t, "#/users/"+u.ID, "/users/:id")
	browser.Run(t, c.ctx, browser.WaitText("#auth-methods", "Authenticator app (TOTP)"))
	c.screenshot(t, "user-auth-methods")
	c.acceptConfirms(t)
	browser.Run(t, c.ctx, browser.Click("#require-reregistration"), browser.WaitVisible("#no-authenticator"))
	var methods struct {
		Value []map[string]any `json:"value"`
	}
	c.s.Graph(t, bearer, http.MethodGet, "/users/"+u.ID+"/authentication/methods", nil, &methods)
	if len(methods.Value) != 1 || methods.Value[0]["@odata.type"] != "#microsoft.graph.passwordAuthenticationMethod" {
		t.Fatalf("methods after re-registration was required: %v", methods.Value)
	}
}
