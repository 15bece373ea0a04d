package console

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/tessera-id/tessera/test/browser"
)

// objects is a Graph list of directory objects.
type objects struct {
	Value []struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
		ODataType   string `json:"@odata.type"`
	} `json:"value"`
}

func (o objects) has(id string) bool {
	for _, v := range o.Value {
		if v.ID == id {
			return true
		}
	}
	return false
}

// pick searches a principal picker (prefix) for name and clicks the
// button of the object id.
func pick(prefix, name, id string) browser.Step {
	return browser.Steps(
		browser.SetValue("#"+prefix+"-q", name), browser.Click("#"+prefix+"-search"),
		browser.WaitVisible(fmt.Sprintf(`#%s-results button[data-pick=%q]`, prefix, id)),
		browser.Click(fmt.Sprintf(`#%s-results button[data-pick=%q]`, prefix, id)))
}

func TestConsoleGroups(t *testing.T) {
	c := open(t)
	bearer := c.s.GraphToken(t)
	ada := c.s.CreateUser(t, "ada", "Analytical-Engine-1843")
	grace := c.s.CreateUser(t, "grace", "Compiler-A0-1952")
	inner := c.s.CreateGroup(t, "compiler-team")
	c.s.AddMember(t, inner, grace.ID)
	c.signInAdmin(t)

	// Create a group.
	c.goTo(t, "#/groups", "/groups")
	browser.Run(t, c.ctx, browser.Click("#new-group"), browser.WaitVisible("#new-group-name"),
		browser.Type("#new-group-name", "Engine Room"), browser.Submit("#new-group-name"),
		browser.WaitVisible(`main[data-ready="/groups/:id"]`))
	id := browser.Text(t, c.ctx, "#group-id")
	var g struct {
		DisplayName     string `json:"displayName"`
		SecurityEnabled bool   `json:"securityEnabled"`
	}
	if code := c.s.Graph(t, bearer, http.MethodGet, "/groups/"+id, nil, &g); code != 200 || g.DisplayName != "Engine Room" || !g.SecurityEnabled {
		t.Fatalf("GET group after create: %d %+v", code, g)
	}

	// Add a user and a nested group as members; the nested group's member
	// shows as reached through it.
	browser.Run(t, c.ctx, pick("member", "ada", ada.ID),
		browser.WaitVisible(fmt.Sprintf(`#members-list button[data-remove-member=%q]`, ada.ID)),
		pick("member", "compiler", inner),
		browser.WaitVisible(fmt.Sprintf(`#members-list button[data-remove-member=%q]`, inner)),
		browser.WaitText("#nested-list", "grace"), browser.WaitText("#nested-list", "compiler-team"))
	var members objects
	c.s.Graph(t, bearer, http.MethodGet, "/groups/"+id+"/members", nil, &members)
	if len(members.Value) != 2 || !members.has(ada.ID) || !members.has(inner) {
		t.Fatalf("members after adding in the console: %+v", members)
	}
	if row := browser.Eval[string](t, c.ctx, `[...document.querySelectorAll("#nested-list tbody tr")].map(r => r.innerText).join("\n")`); row != "grace\tUser\tcompiler-team" {
		t.Errorf("nested members: %q", row)
	}

	// Make Ada an owner.
	browser.Run(t, c.ctx, pick("owner", "ada", ada.ID),
		browser.WaitVisible(fmt.Sprintf(`#owners-list button[data-remove-owner=%q]`, ada.ID)))
	var owners objects
	if c.s.Graph(t, bearer, http.MethodGet, "/groups/"+id+"/owners", nil, &owners); len(owners.Value) != 1 || !owners.has(ada.ID) {
		t.Fatalf("owners after adding in the console: %+v", owners)
	}
	c.screenshot(t, "group")

	// Remove the nested group.
	browser.Run(t, c.ctx, browser.Click(fmt.Sprintf(`#members-list button[data-remove-member=%q]`, inner)),
		browser.WaitFor(fmt.Sprintf(`!document.querySelector('#members-list button[data-remove-member=%q]')`, inner)),
		browser.WaitText("#nested-list", "No member comes through a nested group."))
	members = objects{}
	if c.s.Graph(t, bearer, http.MethodGet, "/groups/"+id+"/members", nil, &members); len(members.Value) != 1 || members.has(inner) {
		t.Fatalf("members after removing in the console: %+v", members)
	}

	// Delete the group.
	browser.Run(t, c.ctx, browser.Click("#delete-group"), browser.Click("#delete-group-confirm"),
		browser.WaitVisible(`main[data-ready="/groups"]`))
	if code := c.s.Graph(t, bearer, http.MethodGet, "/groups/"+id, nil, nil); code != http.StatusNotFound {
		t.Fatalf("GET group after delete: %d", code)
	}
}
