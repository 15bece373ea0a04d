package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/test/browser"
	"github.com/tessera-id/tessera/test/testserver"
)

// customRole finds a role definition by name at the subscription through ARM.
func customRole(t *testing.T, s *testserver.Server, name string) map[string]any {
	t.Helper()
	r := s.ARM(t, s.AdminARMToken(t), "GET", "/subscriptions/"+s.Bootstrap.SubscriptionID+
		"/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter="+url.QueryEscape("roleName eq '"+name+"'"), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list role definitions: %d %s", r.Status, r.Raw)
	}
	items := r.Body["value"].([]any)
	if len(items) == 0 {
		return nil
	}
	return items[0].(map[string]any)["properties"].(map[string]any)
}

func TestConsoleRoles(t *testing.T) {
	c := open(t)
	c.signInAdmin(t)

	// Find Reader, copy it to a custom role with one more action.
	c.goTo(t, "#/roles", "/roles")
	browser.Run(t, c.ctx, browser.SetValue("#role-search", "Reader"), browser.WaitText("#roles", "Reader"),
		browser.Click(`#roles a[href="#/roles/`+testserver.RoleReader+`"]`), browser.WaitVisible(`main[data-ready="/roles/:id"]`),
		browser.WaitText("#role-actions-0", "*/read"))
	if !browser.Eval[bool](t, c.ctx, `document.getElementById("delete-role").disabled`) {
		t.Fatal("a built-in role offers Delete")
	}
	browser.Run(t, c.ctx, browser.Click("#copy-role"), browser.WaitVisible(`main[data-ready="/roles/new"]`),
		browser.SetValue("#role-new-name", "ML Auditor"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("role-new-actions").value += "\nMicrosoft.MachineLearningServices/workspaces/listKeys/action"`))
	checkLabels(t, c, "new custom role")
	c.screenshot(t, "role-new")
	browser.Run(t, c.ctx, browser.Submit("#role-new-name"), browser.WaitVisible(`main[data-ready="/roles/:id"]`),
		browser.WaitText("#role-name", "ML Auditor"))
	role := customRole(t, c.s, "ML Auditor")
	if role == nil || role["type"] != "CustomRole" {
		t.Fatalf("ARM has no custom role ML Auditor after the console made it: %v", role)
	}
	actions := role["permissions"].([]any)[0].(map[string]any)["actions"].([]any)
	if len(actions) != 2 || actions[0] != "*/read" || actions[1] != "Microsoft.MachineLearningServices/workspaces/listKeys/action" {
		t.Fatalf("the custom role's actions are %v", actions)
	}
	scopes := role["assignableScopes"].([]any)
	if len(scopes) != 1 || scopes[0] != "/subscriptions/"+c.s.Bootstrap.SubscriptionID {
		t.Fatalf("the custom role's assignable scopes are %v", scopes)
	}
	c.screenshot(t, "role")

	// Delete it; ARM no longer lists it.
	browser.Run(t, c.ctx, chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`), browser.Click("#delete-role"),
		browser.WaitVisible(`main[data-ready="/roles"]`))
	if role := customRole(t, c.s, "ML Auditor"); role != nil {
		t.Fatalf("ARM still has the deleted custom role: %v", role)
	}

	// A Reader of the subscription may read roles but not write one: the
	// form's Create is disabled with the reason.
	reader := c.s.CreateUser(t, "auditor", "Reads-Everything-2")
	c.s.Assign(t, "/subscriptions/"+c.s.Bootstrap.SubscriptionID, testserver.RoleReader, reader.ID)
	signInAgain(t, c, reader.UPN, reader.Password)
	c.goTo(t, "#/roles/new?from="+testserver.RoleReader, "/roles/new")
	if !browser.Eval[bool](t, c.ctx, `document.querySelector("main form button[type=submit]").disabled`) {
		t.Fatal("a Reader may press Create role")
	}
	if why := browser.Text(t, c.ctx, "main form .reason"); !strings.Contains(why, "Microsoft.Authorization/roleDefinitions/write") {
		t.Fatalf("the reason Create is disabled: %q", why)
	}
}
