package console

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/test/browser"
)

func TestConsoleUsers(t *testing.T) {
	c := open(t)
	c.signInAdmin(t)
	c.screenshot(t, "overview")
	if got := browser.Text(t, c.ctx, "#overview-tenant-id"); got != c.s.Bootstrap.TenantID {
		t.Fatalf("overview shows tenant %q, want %q", got, c.s.Bootstrap.TenantID)
	}

	// Create a user; Graph has it afterwards.
	c.goTo(t, "#/users", "/users")
	browser.Run(t, c.ctx, browser.Click("#new-user"), browser.WaitVisible("#new-user-name"),
		browser.Type("#new-user-name", "Ada Lovelace"), browser.Type("#new-user-upn", "ada"),
		browser.SetValue("#new-user-password", "Analytical-Engine-1843"),
		browser.Click(`#new-user-force`), // no change required: the test signs in with it below
		browser.Submit("#new-user-name"),
		browser.WaitVisible(`main[data-ready="/users/:id"]`))
	id := browser.Text(t, c.ctx, "#user-id")
	var u struct {
		UserPrincipalName string `json:"userPrincipalName"`
		AccountEnabled    bool   `json:"accountEnabled"`
	}
	bearer := c.s.GraphToken(t)
	if code := c.s.Graph(t, bearer, http.MethodGet, "/users/"+id, nil, &u); code != 200 || !strings.HasPrefix(u.UserPrincipalName, "ada@") || !u.AccountEnabled {
		t.Fatalf("GET user after create: %d %+v", code, u)
	}
	c.screenshot(t, "user")

	// Disable sign-in; Graph says so.
	browser.Run(t, c.ctx, browser.Click("#toggle-user"), browser.WaitText("#user-enabled", "Disabled"))
	if c.s.Graph(t, bearer, http.MethodGet, "/users/"+id, nil, &u); u.AccountEnabled {
		t.Fatal("Graph says the user is still enabled after the console disabled it")
	}
}

// waitFor polls a condition for a few seconds (the page acts asynchronously).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10 s")
}
