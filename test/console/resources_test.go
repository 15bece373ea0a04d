package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/test/browser"
	"github.com/tessera-id/tessera/test/testserver"
)

// choose sets a select's value as a person picking an option does.
func choose(sel, value string) browser.Step {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
		s.dispatchEvent(new Event("change", { bubbles: true })); })()`, sel, value))
}

// pickPrincipal searches a principal picker (by its id prefix) and picks
// the principal with object id.
func pickPrincipal(prefix, text, id string) browser.Step {
	return browser.Steps(browser.SetValue("#"+prefix+"-search", text), browser.Click("#"+prefix+"-search-button"),
		browser.WaitVisible("#"+prefix+"-"+id), browser.Click("#"+prefix+"-"+id))
}

// assignmentsOf lists the role assignments of principal at scope (or above)
// through ARM, as their role definition GUIDs.
func assignmentsOf(t *testing.T, s *testserver.Server, scope, principal string) []string {
	t.Helper()
	r := s.ARM(t, s.AdminARMToken(t), "GET", scope+"/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter="+
		url.QueryEscape("atScope() and principalId eq '"+principal+"'"), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list role assignments: %d %s", r.Status, r.Raw)
	}
	var roles []string
	for _, v := range r.Body["value"].([]any) {
		p := v.(map[string]any)["properties"].(map[string]any)
		id := p["roleDefinitionId"].(string)
		roles = append(roles, strings.ToLower(id[strings.LastIndex(id, "/")+1:]))
	}
	return roles
}

// signInAgain forgets the console's session (kept in sessionStorage) and
// signs in as someone else.
func signInAgain(t *testing.T, c *session, upn, password string) {
	t.Helper()
	browser.Run(t, c.ctx, chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`))
	c.signIn(t, upn, password)
}

func TestConsoleResourcesIAM(t *testing.T) {
	c := open(t)
	ws := c.s.Workspace(t, "rg-ml", "ws-vision")
	sub := "/subscriptions/" + c.s.Bootstrap.SubscriptionID
	grace := c.s.CreateUser(t, "grace", "Compiler-Cobol-1959")
	c.signInAdmin(t)

	// Browse subscription → resource group → workspace.
	c.goTo(t, "#/resources", "/resources")
	browser.Run(t, c.ctx, browser.Click(fmt.Sprintf(`a[href="#/resources?id=%s"]`, url.QueryEscape(sub))),
		browser.WaitText("main", "rg-ml"), browser.WaitVisible(`main[data-ready="/resources"]`))
	c.goTo(t, "#/resources?id="+url.QueryEscape(sub+"/resourceGroups/rg-ml"), "/resources")
	browser.Run(t, c.ctx, browser.WaitText("main", "ws-vision"))
	c.goTo(t, "#/resources?id="+url.QueryEscape(ws), "/resources")
	if got := browser.Text(t, c.ctx, "#resource-id"); !strings.EqualFold(got, ws) {
		t.Fatalf("workspace page shows id %q, want %q", got, ws)
	}
	c.screenshot(t, "workspace")

	// A resource that does not exist: ARM's answer, under the breadcrumb.
	c.goTo(t, "#/resources?id="+url.QueryEscape(ws+"x"), "/resources")
	if txt := browser.Text(t, c.ctx, "main .error"); !strings.Contains(txt, "404") {
		t.Fatalf("a missing workspace shows %q", txt)
	}
	browser.Run(t, c.ctx, browser.WaitVisible("main nav.breadcrumb"))

	// Access control: add Reader for grace on the workspace; ARM has it.
	c.goTo(t, "#/resources?id="+url.QueryEscape(ws), "/resources")
	browser.Run(t, c.ctx, browser.Click("#tab-iam"), browser.WaitVisible(`main[data-ready="/resources/iam"]`),
		browser.Click("#add-assignment"), browser.WaitVisible("#assign-role"),
		choose("#assign-role", testserver.RoleReader), browser.WaitText("#assign-role-description", "View all resources"),
		pickPrincipal("assign-principal", "gra", grace.ID), browser.Submit("#assign-role"),
		browser.WaitText("#assignments", "grace"))
	if got := assignmentsOf(t, c.s, ws, grace.ID); len(got) != 1 || got[0] != testserver.RoleReader {
		t.Fatalf("after adding Reader in the console, ARM lists %v", got)
	}
	if txt := browser.Text(t, c.ctx, "#assignments"); !strings.Contains(txt, "Inherited from") || !strings.Contains(txt, "This resource") {
		t.Fatalf("assignments do not say where they come from: %s", txt)
	}
	checkLabels(t, c, "IAM")
	c.screenshot(t, "iam")

	// Check access explains both answers: read is allowed by grace's Reader
	// assignment here, write is not and names the roles that would allow it.
	browser.Run(t, c.ctx, browser.Click("#tab-check"), browser.WaitVisible(`main[data-ready="/resources/check"]`),
		pickPrincipal("check-principal", "grace", grace.ID), browser.Submit("#check-action"),
		browser.WaitVisible(`#check-result li[data-decision]`))
	read := browser.Text(t, c.ctx, `#check-result li[data-action="Microsoft.MachineLearningServices/workspaces/read"][data-decision="Allowed"]`)
	if !strings.Contains(read, "Reader") || !strings.Contains(read, "at this scope") {
		t.Fatalf("check access (allowed) says %q", read)
	}
	write := browser.Text(t, c.ctx, `#check-result li[data-action="Microsoft.MachineLearningServices/workspaces/write"][data-decision="NotAllowed"] .suggested`)
	if !strings.Contains(write, "Contributor") {
		t.Fatalf("check access (denied) suggests %q", write)
	}
	checkLabels(t, c, "check access")
	browser.Run(t, c.ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("check-result").scrollIntoView()`))
	c.screenshot(t, "check-access")
	c.goTo(t, "#/resources/iam?id="+url.QueryEscape(ws), "/resources/iam")

	// By keyboard alone: give a group a role (Enter on the button, Enter in
	// the search box searches, Space picks, Enter submits).
	team := c.s.CreateGroup(t, "ml-team")
	browser.Run(t, c.ctx, chromedp.Focus(chromedp.CSS("#add-assignment")), chromedp.KeyEvent("\r"),
		browser.WaitVisible("#assign-role"), choose("#assign-role", testserver.RoleAzureMLDataScientist),
		chromedp.Focus(chromedp.CSS("#assign-principal-search")), chromedp.KeyEvent("ml-te\r"),
		browser.WaitVisible("#assign-principal-"+team), chromedp.Focus(chromedp.CSS("#assign-principal-"+team)), chromedp.KeyEvent(" "),
		chromedp.Focus(chromedp.CSS("#assign-description")), chromedp.KeyEvent("Training team\r"),
		browser.WaitText("#assignments", "ml-team"))
	if got := assignmentsOf(t, c.s, ws, team); len(got) != 1 || got[0] != testserver.RoleAzureMLDataScientist {
		t.Fatalf("after a keyboard-only add, ARM lists %v for the group", got)
	}
	if txt := browser.Text(t, c.ctx, "#assignments"); !strings.Contains(txt, "Group") {
		t.Fatalf("the group's assignment does not say it is a group: %s", txt)
	}

	// Inherited assignments are removed where they are made: the admin's own
	// (at the subscription) is shown disabled here.
	if n := browser.Eval[int](t, c.ctx, `[...document.querySelectorAll("#assignments button")].filter((b) => b.disabled && b.title.startsWith("Inherited from")).length`); n == 0 {
		t.Fatal("no inherited assignment is shown as removable only where it was made")
	}

	// As grace (Reader on the workspace): adding is disabled with the reason,
	// and a forced attempt shows ARM's refusal.
	signInAgain(t, c, grace.UPN, grace.Password)
	c.goTo(t, "#/resources/iam?id="+url.QueryEscape(ws), "/resources/iam")
	if !browser.Eval[bool](t, c.ctx, `document.getElementById("add-assignment").disabled`) {
		t.Fatal("a Reader may press Add role assignment")
	}
	if txt := browser.Text(t, c.ctx, "main .toolbar .reason"); !strings.Contains(txt, "Microsoft.Authorization/roleAssignments/write") {
		t.Fatalf("the reason for the disabled Add is %q", txt)
	}
	browser.Run(t, c.ctx,
		chromedp.Evaluate[chromedp.Void](`(() => { const b = document.getElementById("add-assignment"); b.disabled = false; b.click(); })()`),
		browser.WaitVisible("#assign-role"), choose("#assign-role", testserver.RoleOwner),
		pickPrincipal("assign-principal", "grace", grace.ID), browser.Submit("#assign-role"),
		browser.WaitVisible("form .error"))
	if txt := browser.Text(t, c.ctx, "form .error"); !strings.Contains(txt, "403") || !strings.Contains(txt, "AuthorizationFailed") {
		t.Fatalf("a forced add shows %q, want ARM's 403", txt)
	}
	checkLabels(t, c, "IAM with the add form")
	c.screenshot(t, "iam-reader")
	if got := assignmentsOf(t, c.s, ws, grace.ID); len(got) != 1 {
		t.Fatalf("after a refused add, ARM lists %v", got)
	}

	// Back as the administrator: remove grace's assignment; ARM no longer has it.
	signInAgain(t, c, c.s.Bootstrap.Admin.UserPrincipalName, c.s.Bootstrap.Admin.Password)
	c.goTo(t, "#/resources/iam?id="+url.QueryEscape(ws), "/resources/iam")
	browser.Run(t, c.ctx,
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#assignments button")].find((b) => (b.getAttribute("aria-label") || "").includes("grace")).click()`),
		browser.WaitFor(`!document.getElementById("assignments").innerText.includes("grace")`))
	if got := assignmentsOf(t, c.s, ws, grace.ID); len(got) != 0 {
		t.Fatalf("after removing in the console, ARM lists %v", got)
	}

	// The tenant root has its access control too: the administrators' Owner
	// assignments are made there.
	c.goTo(t, "#/resources", "/resources")
	browser.Run(t, c.ctx, browser.Click("#root-iam"), browser.WaitVisible(`main[data-ready="/resources/iam"]`),
		browser.WaitText("#assignments", "Owner"))
	if txt := browser.Text(t, c.ctx, "#assignments"); !strings.Contains(txt, "This resource") || strings.Contains(txt, "Inherited") {
		t.Fatalf("the tenant root's assignments: %s", txt)
	}
}
