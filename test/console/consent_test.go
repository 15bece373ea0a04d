package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/test/browser"
)

type permissionScope struct {
	ID        string `json:"id"`
	Value     string `json:"value"`
	Type      string `json:"type"`
	IsEnabled bool   `json:"isEnabled"`
}

type apiApplication struct {
	AppID          string   `json:"appId"`
	IdentifierURIs []string `json:"identifierUris"`
	API            struct {
		RequestedAccessTokenVersion *int              `json:"requestedAccessTokenVersion"`
		OAuth2PermissionScopes      []permissionScope `json:"oauth2PermissionScopes"`
	} `json:"api"`
	RequiredResourceAccess []struct {
		ResourceAppID  string `json:"resourceAppId"`
		ResourceAccess []struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"resourceAccess"`
	} `json:"requiredResourceAccess"`
	GroupMembershipClaims *string `json:"groupMembershipClaims"`
	OptionalClaims        *struct {
		IDToken     []struct{ Name string } `json:"idToken"`
		AccessToken []struct{ Name string } `json:"accessToken"`
	} `json:"optionalClaims"`
}

type permissionGrants struct {
	Value []struct {
		ID          string  `json:"id"`
		ConsentType string  `json:"consentType"`
		PrincipalID *string `json:"principalId"`
		ResourceID  string  `json:"resourceId"`
		Scope       string  `json:"scope"`
	} `json:"value"`
}

// TestConsoleConsent: an API exposes a scope, a client asks for it and an
// administrator grants consent for the tenant, all in the console; then the
// client's token configuration, revoking a grant on its enterprise
// application, and whether users may consent. Each step is checked through
// Graph.
func TestConsoleConsent(t *testing.T) {
	c := open(t)
	bearer := c.s.GraphToken(t)
	api := c.s.CreateApp(t, "Files API", nil)
	client := c.s.CreateApp(t, "Files Client", nil)
	ada := c.s.CreateUser(t, "ada", "Analytical-Engine-1843")
	c.signInAdmin(t)
	getApp := func(id string) apiApplication {
		t.Helper()
		var a apiApplication
		if code := c.s.Graph(t, bearer, http.MethodGet, "/applications/"+id, nil, &a); code != 200 {
			t.Fatalf("GET application: %d", code)
		}
		return a
	}
	grantsOf := func(spID string) permissionGrants {
		t.Helper()
		var g permissionGrants
		if code := c.s.Graph(t, bearer, http.MethodGet, "/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+spID+"'"), nil, &g); code != 200 {
			t.Fatalf("GET oauth2PermissionGrants: %d", code)
		}
		return g
	}

	// Expose an API: the first scope brings the identifier URI api://{appId}.
	c.goTo(t, "#/apps/"+api.ObjectID+"?tab=api", "/apps/:id")
	browser.Run(t, c.ctx,
		browser.Type("#scope-value", "Files.Read"), choose("#scope-type", "User"),
		browser.Type("#scope-admin-name", "Read files"), browser.Type("#scope-admin-description", "Reads every file."),
		browser.Type("#scope-user-name", "Read your files"), browser.Type("#scope-user-description", "Reads your files."),
		browser.Submit("#scope-value"), browser.WaitVisible(`#app-scopes button[data-disable-scope="Files.Read"]`),
		browser.WaitText("#identifier-uris", "api://"+api.AppID),
		// A second scope, disabled then deleted.
		browser.Type("#scope-value", "Files.Purge"), choose("#scope-type", "Admin"),
		browser.Type("#scope-admin-name", "Purge files"), browser.Type("#scope-admin-description", "Deletes files for good."),
		browser.Submit("#scope-value"), browser.WaitVisible(`#app-scopes button[data-disable-scope="Files.Purge"]`),
		browser.Click(`#app-scopes button[data-disable-scope="Files.Purge"]`), browser.WaitVisible(`#app-scopes button[data-delete-scope="Files.Purge"]`),
		browser.Click(`#app-scopes button[data-delete-scope="Files.Purge"]`),
		browser.WaitFor(`!document.querySelector("#app-scopes").innerText.includes("Files.Purge")`),
		choose("#token-version", "2"), browser.Submit("#token-version"), browser.WaitText("#notice", "now v2"))
	a := getApp(api.ObjectID)
	if !slices.Equal(a.IdentifierURIs, []string{"api://" + api.AppID}) || len(a.API.OAuth2PermissionScopes) != 1 {
		t.Fatalf("identifier URIs %v, scopes %+v", a.IdentifierURIs, a.API.OAuth2PermissionScopes)
	}
	scope := a.API.OAuth2PermissionScopes[0]
	if scope.Value != "Files.Read" || scope.Type != "User" || !scope.IsEnabled || a.API.RequestedAccessTokenVersion == nil || *a.API.RequestedAccessTokenVersion != 2 {
		t.Fatalf("scope %+v, token version %v", scope, a.API.RequestedAccessTokenVersion)
	}
	browser.Run(t, c.ctx, scrollTo("#app-scopes"))
	checkLabels(t, c, "app-expose-api")
	c.screenshot(t, "app-expose-api")

	// API permissions: the client asks for Files.Read, then the tenant consents.
	c.goTo(t, "#/apps/"+client.ObjectID+"?tab=permissions", "/apps/:id")
	browser.Run(t, c.ctx, browser.WaitVisible("#permission-api"), choose("#permission-api", api.AppID),
		browser.Click(`#permission-scopes input[data-scope-value="Files.Read"]`), browser.Submit("#permission-api"),
		browser.WaitText(`#api-permissions [data-permission-status="Files.Read"]`, "Not granted"))
	a = getApp(client.ObjectID)
	if len(a.RequiredResourceAccess) != 1 || a.RequiredResourceAccess[0].ResourceAppID != api.AppID ||
		len(a.RequiredResourceAccess[0].ResourceAccess) != 1 || a.RequiredResourceAccess[0].ResourceAccess[0].ID != scope.ID ||
		a.RequiredResourceAccess[0].ResourceAccess[0].Type != "Scope" {
		t.Fatalf("requiredResourceAccess: %+v", a.RequiredResourceAccess)
	}
	if got := browser.Text(t, c.ctx, "#api-permissions tbody tr"); !containsAll(got, "Files API", "Files.Read", "Delegated", "Read files") {
		t.Errorf("the permission's row: %q", got)
	}
	browser.Run(t, c.ctx, browser.Click("#grant-consent"),
		browser.WaitText(`#api-permissions [data-permission-status="Files.Read"]`, "Granted for"))
	g := grantsOf(client.SPID)
	if len(g.Value) != 1 || g.Value[0].ConsentType != "AllPrincipals" || g.Value[0].ResourceID != api.SPID || g.Value[0].Scope != "Files.Read" || g.Value[0].PrincipalID != nil {
		t.Fatalf("grants after admin consent: %+v", g.Value)
	}
	adminGrant := g.Value[0].ID
	browser.Run(t, c.ctx, scrollTo("h1"))
	checkLabels(t, c, "app-api-permissions")
	c.screenshot(t, "app-api-permissions")
	// Removing the permission leaves its consent, listed apart.
	browser.Run(t, c.ctx, browser.Click(`#api-permissions button[data-remove-permission="Files.Read"]`),
		browser.WaitText("#api-permissions", "No permissions configured."), browser.WaitText("#other-permissions", "Files.Read"))
	if a = getApp(client.ObjectID); len(a.RequiredResourceAccess) != 0 {
		t.Fatalf("requiredResourceAccess after removing the permission: %+v", a.RequiredResourceAccess)
	}
	if g = grantsOf(client.SPID); len(g.Value) != 1 || g.Value[0].Scope != "Files.Read" {
		t.Fatalf("grants after removing the permission: %+v", g.Value)
	}

	// Token configuration: security groups, and the groups claim in access tokens.
	c.goTo(t, "#/apps/"+client.ObjectID+"?tab=token", "/apps/:id")
	browser.Run(t, c.ctx, choose("#group-claims", "SecurityGroup"), browser.Submit("#group-claims"), browser.WaitText("#notice", "Groups claim: Security groups"),
		choose("#claim-token-type", "accessToken"), choose("#claim-name", "groups"), browser.Submit("#claim-name"),
		browser.WaitVisible(`#optional-claims button[data-remove-claim="accessToken:groups"]`),
		choose("#claim-token-type", "idToken"), choose("#claim-name", "upn"), browser.Submit("#claim-name"),
		browser.WaitVisible(`#optional-claims button[data-remove-claim="idToken:upn"]`),
		// The same claim twice is refused in the page.
		browser.Submit("#claim-name"), browser.WaitText("#tab-token", "already has the claim upn"))
	a = getApp(client.ObjectID)
	if a.GroupMembershipClaims == nil || *a.GroupMembershipClaims != "SecurityGroup" || a.OptionalClaims == nil ||
		len(a.OptionalClaims.AccessToken) != 1 || a.OptionalClaims.AccessToken[0].Name != "groups" ||
		len(a.OptionalClaims.IDToken) != 1 || a.OptionalClaims.IDToken[0].Name != "upn" {
		t.Fatalf("groupMembershipClaims %v, optionalClaims %+v", a.GroupMembershipClaims, a.OptionalClaims)
	}
	browser.Run(t, c.ctx, scrollTo("h1"))
	checkLabels(t, c, "app-token")
	c.screenshot(t, "app-token")
	browser.Run(t, c.ctx, browser.Click(`#optional-claims button[data-remove-claim="idToken:upn"]`),
		browser.WaitFor(`!document.querySelector('#optional-claims button[data-remove-claim="idToken:upn"]')`))
	if a = getApp(client.ObjectID); len(a.OptionalClaims.IDToken) != 0 || len(a.OptionalClaims.AccessToken) != 1 {
		t.Fatalf("optionalClaims after removing upn: %+v", a.OptionalClaims)
	}

	// The enterprise application lists its grants; a user's own consent too.
	var userGrant struct{ ID string }
	if code := c.s.Graph(t, bearer, http.MethodPost, "/oauth2PermissionGrants", map[string]any{"clientId": client.SPID, "consentType": "Principal",
		"principalId": ada.ID, "resourceId": api.SPID, "scope": "Files.Read"}, &userGrant); code != http.StatusCreated {
		t.Fatalf("create a user's grant: %d", code)
	}
	c.goTo(t, "#/enterprise/"+client.SPID+"?tab=permissions", "/enterprise/:id")
	browser.Run(t, c.ctx, browser.WaitVisible(fmt.Sprintf(`#sp-grants button[data-revoke-grant=%q]`, adminGrant)))
	rows := browser.Text(t, c.ctx, "#sp-grants tbody")
	if !containsAll(rows, "Files API", "Admin consent", "All users", "User consent", "ada") {
		t.Errorf("the grants: %q", rows)
	}
	checkLabels(t, c, "enterprise-permissions")
	c.screenshot(t, "enterprise-permissions")
	browser.Run(t, c.ctx, browser.Click(fmt.Sprintf(`#sp-grants button[data-revoke-grant=%q]`, adminGrant)),
		browser.WaitFor(fmt.Sprintf(`!document.querySelector('#sp-grants button[data-revoke-grant=%q]')`, adminGrant)))
	if code := c.s.Graph(t, bearer, http.MethodGet, "/oauth2PermissionGrants/"+adminGrant, nil, nil); code != http.StatusNotFound {
		t.Fatalf("GET the revoked grant: %d", code)
	}
	if g = grantsOf(client.SPID); len(g.Value) != 1 || g.Value[0].ID != userGrant.ID {
		t.Fatalf("grants after revoking the admin consent: %+v", g.Value)
	}

	// Users can consent to apps: off, then on again.
	policy := func() []string {
		t.Helper()
		var p struct {
			DefaultUserRolePermissions struct {
				PermissionGrantPoliciesAssigned []string `json:"permissionGrantPoliciesAssigned"`
			} `json:"defaultUserRolePermissions"`
		}
		if code := c.s.Graph(t, bearer, http.MethodGet, "/policies/authorizationPolicy", nil, &p); code != 200 {
			t.Fatalf("GET authorizationPolicy: %d", code)
		}
		return p.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned
	}
	c.goTo(t, "#/enterprise", "/enterprise")
	if !browser.Eval[bool](t, c.ctx, `document.getElementById("user-consent").checked`) {
		t.Fatal("the default policy lets users consent, the console shows otherwise")
	}
	browser.Run(t, c.ctx, browser.Click("#user-consent"), browser.WaitText("#notice", "can no longer consent"))
	if p := policy(); len(p) != 0 {
		t.Fatalf("permissionGrantPoliciesAssigned after turning user consent off: %v", p)
	}
	checkLabels(t, c, "enterprise-consent")
	c.screenshot(t, "enterprise-consent")
	browser.Run(t, c.ctx, browser.Click("#user-consent"), browser.WaitText("#notice", "Users can consent to apps."))
	if p := policy(); !slices.Equal(p, []string{"ManagePermissionGrantsForSelf.microsoft-user-default-legacy"}) {
		t.Fatalf("permissionGrantPoliciesAssigned after turning user consent on: %v", p)
	}
}

// TestConsoleConsentDenied: an application's owner changes its permissions
// but may not grant admin consent, revoke grants or change the consent
// setting; the controls say why.
func TestConsoleConsentDenied(t *testing.T) {
	c := open(t)
	bearer := c.s.GraphToken(t)
	owner := c.s.CreateUser(t, "owner", "Owner-Of-The-App-1")
	app := c.s.CreateApp(t, "Owned", nil)
	ref := map[string]any{"@odata.id": c.s.URL + "/graph/v1.0/directoryObjects/" + owner.ID}
	if code := c.s.Graph(t, bearer, http.MethodPost, "/applications/"+app.ObjectID+"/owners/$ref", ref, nil); code != http.StatusNoContent {
		t.Fatalf("make the user an owner: %d", code)
	}
	c.signIn(t, owner.UPN, owner.Password)

	c.goTo(t, "#/apps/"+app.ObjectID+"?tab=api", "/apps/:id")
	browser.Run(t, c.ctx, browser.Type("#scope-value", "Own.Read"),
		browser.Type("#scope-admin-name", "Read"), browser.Type("#scope-admin-description", "Reads."),
		browser.Submit("#scope-value"), browser.WaitVisible(`#app-scopes button[data-disable-scope="Own.Read"]`))
	c.goTo(t, "#/apps/"+app.ObjectID+"?tab=permissions", "/apps/:id")
	browser.Run(t, c.ctx, browser.WaitVisible("#permission-api"), choose("#permission-api", app.AppID),
		browser.Click(`#permission-scopes input[data-scope-value="Own.Read"]`), browser.Submit("#permission-api"),
		browser.WaitText(`#api-permissions [data-permission-status="Own.Read"]`, "Not granted"))
	if !browser.Eval[bool](t, c.ctx, `document.getElementById("grant-consent").disabled`) {
		t.Fatal("Grant admin consent is enabled for an owner without a directory role")
	}
	if got := browser.Text(t, c.ctx, "#grant-consent + .reason"); got != "Granting admin consent needs one of these directory roles: Global Administrator, Privileged Role Administrator, Application Administrator, Cloud Application Administrator." {
		t.Errorf("reason shown: %q", got)
	}
	browser.Run(t, c.ctx, force("#grant-consent"), browser.WaitText("#tab-permissions", insufficient))
	var g permissionGrants
	if c.s.Graph(t, bearer, http.MethodGet, "/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+app.SPID+"'"), nil, &g); len(g.Value) != 0 {
		t.Fatalf("the forced consent went through: %+v", g.Value)
	}

	c.goTo(t, "#/enterprise", "/enterprise")
	if !browser.Eval[bool](t, c.ctx, `document.getElementById("user-consent").disabled`) {
		t.Fatal("the consent setting is enabled for a user who is not a Global Administrator")
	}
	if got := browser.Text(t, c.ctx, "#user-consent-reason"); got != "Changing the consent settings needs one of these directory roles: Global Administrator." {
		t.Errorf("reason shown: %q", got)
	}
	// Forced, Graph refuses and the checkbox goes back.
	browser.Run(t, c.ctx, force("#user-consent"), browser.WaitText("#consent-settings", insufficient),
		browser.WaitFor(`document.getElementById("user-consent").checked`))
	var p struct {
		DefaultUserRolePermissions struct {
			PermissionGrantPoliciesAssigned []string `json:"permissionGrantPoliciesAssigned"`
		} `json:"defaultUserRolePermissions"`
	}
	if c.s.Graph(t, bearer, http.MethodGet, "/policies/authorizationPolicy", nil, &p); len(p.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned) != 1 {
		t.Fatalf("the forced change went through: %v", p.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned)
	}
}

// scrollTo brings an element's section into view, for a screenshot.
func scrollTo(sel string) browser.Step {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const e = document.querySelector(%q); (e.closest("section") || e).scrollIntoView(); })()`, sel))
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
