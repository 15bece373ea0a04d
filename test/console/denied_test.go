package console

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/tessera-id/tessera/test/browser"
)

const insufficient = "Insufficient privileges to complete the operation."

// force enables a control the console disabled and clicks it, as someone
// editing the page would.
func force(sel string) browser.Step {
	return browser.WaitFor(fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.disabled = false; e.click(); return true; })()`, sel))
}

// TestConsoleDirectoryDenied: a person without directory roles sees the
// create buttons disabled with the reason; forcing them anyway shows
// Graph's refusal. Owning a group or an application is enough to manage it.
func TestConsoleDirectoryDenied(t *testing.T) {
	c := open(t)
	bearer := c.s.GraphToken(t)
	plain := c.s.CreateUser(t, "plain", "Plain-User-Pass-1")
	owned := c.s.CreateGroup(t, "owned-by-plain")
	other := c.s.CreateGroup(t, "not-owned")
	ada := c.s.CreateUser(t, "ada", "Analytical-Engine-1843")
	app := c.s.CreateApp(t, "someone-elses-app", nil)
	ref := map[string]any{"@odata.id": c.s.URL + "/graph/v1.0/directoryObjects/" + plain.ID}
	if code := c.s.Graph(t, bearer, http.MethodPost, "/groups/"+owned+"/owners/$ref", ref, nil); code != http.StatusNoContent {
		t.Fatalf("make the user an owner: %d", code)
	}
	c.signIn(t, plain.UPN, plain.Password)

	// Groups: creating is disabled, with the reason; forcing it is refused by Graph.
	c.goTo(t, "#/groups", "/groups")
	if !browser.Eval[bool](t, c.ctx, `document.getElementById("new-group").disabled`) {
		t.Fatal("New group is enabled for a user without a directory role")
	}
	if got := browser.Text(t, c.ctx, "#new-group + .reason"); got != "Creating groups needs one of these directory roles: Global Administrator, Groups Administrator, User Administrator." {
		t.Errorf("reason shown: %q", got)
	}
	c.screenshot(t, "groups-denied")
	browser.Run(t, c.ctx, force("#new-group"), browser.WaitVisible("#new-group-name"),
		browser.Type("#new-group-name", "Forced"), browser.Submit("#new-group-name"),
		browser.WaitText(".form-status", insufficient))
	if got := browser.Text(t, c.ctx, ".form-status strong"); got != "Request refused: 403 (Authorization_RequestDenied)" {
		t.Errorf("refusal heading: %q", got)
	}

	// App registrations likewise.
	c.goTo(t, "#/apps", "/apps")
	if !browser.Eval[bool](t, c.ctx, `document.getElementById("new-app").disabled`) {
		t.Fatal("New registration is enabled for a user without a directory role")
	}
	if got := browser.Text(t, c.ctx, "#new-app + .reason"); got != "Registering applications needs one of these directory roles: Global Administrator, Application Administrator, Cloud Application Administrator." {
		t.Errorf("reason shown: %q", got)
	}
	browser.Run(t, c.ctx, force("#new-app"), browser.WaitVisible("#new-app-name"),
		browser.Type("#new-app-name", "Forced"), browser.Submit("#new-app-name"),
		browser.WaitText(".form-status", insufficient))

	// Someone else's application: read-only, and a forced change is refused.
	c.goTo(t, "#/apps/"+app.ObjectID+"?tab=authentication", "/apps/:id")
	if got := browser.Text(t, c.ctx, "#app-reason"); got != "Changing this registration needs one of these directory roles: Global Administrator, Application Administrator, Cloud Application Administrator; or being one of its owners." {
		t.Errorf("reason on the application's page: %q", got)
	}
	browser.Run(t, c.ctx, browser.WaitFor(`(() => { const i = document.getElementById("redirect-web"); i.disabled = false; i.value = "https://forced.example.com/"; i.form.querySelector("button").disabled = false; i.form.requestSubmit(); return true; })()`),
		browser.WaitText("#tab-authentication", insufficient))
	var a application
	if c.s.Graph(t, bearer, http.MethodGet, "/applications/"+app.ObjectID, nil, &a); len(a.Web.RedirectURIs) != 0 {
		t.Fatalf("the forced change went through: %v", a.Web.RedirectURIs)
	}

	// A group the user does not own: its changes are disabled.
	c.goTo(t, "#/groups/"+other, "/groups/:id")
	if !browser.Eval[bool](t, c.ctx, `document.getElementById("rename-group").disabled && document.getElementById("delete-group").disabled`) {
		t.Error("rename and delete are enabled on a group the user does not own")
	}
	// The group it owns: it manages the members.
	c.goTo(t, "#/groups/"+owned, "/groups/:id")
	if browser.Eval[bool](t, c.ctx, `document.getElementById("rename-group").disabled`) {
		t.Fatal("rename is disabled on a group the user owns")
	}
	browser.Run(t, c.ctx, pick("member", "ada", ada.ID),
		browser.WaitVisible(fmt.Sprintf(`#members-list button[data-remove-member=%q]`, ada.ID)))
	var members objects
	if c.s.Graph(t, bearer, http.MethodGet, "/groups/"+owned+"/members", nil, &members); !members.has(ada.ID) {
		t.Fatalf("the owner's member was not added: %+v", members)
	}
}
