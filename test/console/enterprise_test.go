package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/test/browser"
)

func TestConsoleEnterprise(t *testing.T) {
	c := open(t)
	bearer := c.s.GraphToken(t)
	const roleID = "0b4e3c52-8d5a-4f7e-9a61-3c2b1d0e7f42"
	res := c.s.CreateApp(t, "Payroll", map[string]any{"appRoles": []map[string]any{{
		"id": roleID, "allowedMemberTypes": []string{"User"}, "displayName": "Approvers",
		"description": "Approve payroll runs", "isEnabled": true, "value": "Payroll.Approve"}}})
	ada := c.s.CreateUser(t, "ada", "Analytical-Engine-1843")
	c.signInAdmin(t)

	c.goTo(t, "#/enterprise", "/enterprise")
	browser.Run(t, c.ctx, browser.SetValue("#sp-search", "Pay"), browser.Submit("#sp-search"),
		browser.WaitVisible(fmt.Sprintf(`a[href="#/enterprise/%s"]`, res.SPID)))
	c.goTo(t, "#/enterprise/"+res.SPID, "/enterprise/:id")
	if got := browser.Text(t, c.ctx, "#sp-appid"); got != res.AppID {
		t.Fatalf("the page shows appId %q, want %q", got, res.AppID)
	}

	// Grant the app role to a user.
	browser.Run(t, c.ctx, pick("assignee", "ada", ada.ID),
		browser.WaitVisible(fmt.Sprintf(`#assigned-to button[data-remove-assignment=%q]`, ada.ID)))
	var assigned struct {
		Value []struct {
			ID          string `json:"id"`
			PrincipalID string `json:"principalId"`
			AppRoleID   string `json:"appRoleId"`
		} `json:"value"`
	}
	if c.s.Graph(t, bearer, http.MethodGet, "/servicePrincipals/"+res.SPID+"/appRoleAssignedTo", nil, &assigned); len(assigned.Value) != 1 ||
		assigned.Value[0].PrincipalID != ada.ID || assigned.Value[0].AppRoleID != roleID {
		t.Fatalf("appRoleAssignedTo after granting in the console: %+v", assigned)
	}
	if got := browser.Text(t, c.ctx, "#assigned-to tbody tr"); !strings.Contains(got, "Approvers (Payroll.Approve)") {
		t.Errorf("the assignment row: %q", got)
	}
	// A role for users only is not granted to a service principal.
	browser.Run(t, c.ctx, pick("assignee", "Payroll", res.SPID), browser.WaitText("main", "may be granted to User only"))
	c.screenshot(t, "enterprise")

	// Revoke it.
	browser.Run(t, c.ctx, browser.Click(fmt.Sprintf(`#assigned-to button[data-remove-assignment=%q]`, ada.ID)),
		browser.WaitText("#assigned-to", "Nobody holds its app roles."))
	assigned.Value = nil
	if c.s.Graph(t, bearer, http.MethodGet, "/servicePrincipals/"+res.SPID+"/appRoleAssignedTo", nil, &assigned); len(assigned.Value) != 0 {
		t.Fatalf("appRoleAssignedTo after revoking in the console: %+v", assigned)
	}

	// Disable sign-in: the application gets no token.
	browser.Run(t, c.ctx, browser.Click("#toggle-sp"), browser.WaitVisible(`main[data-ready="/enterprise/:id"]`), browser.WaitText("#sp-enabled", "Disabled"))
	var sp struct {
		AccountEnabled bool `json:"accountEnabled"`
	}
	if c.s.Graph(t, bearer, http.MethodGet, "/servicePrincipals/"+res.SPID, nil, &sp); sp.AccountEnabled {
		t.Fatal("Graph says the service principal is still enabled after the console disabled it")
	}
	r := c.s.PostForm(t, "/"+c.s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {res.AppID}, "client_secret": {res.Secret}, "scope": {c.s.URL + "/graph/.default"},
	})
	if r.Status == 200 {
		t.Fatalf("a disabled service principal got a token: %s", r)
	}
}
