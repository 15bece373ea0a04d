package console

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/test/browser"
)

// unnamedControls lists the controls of the page that have no accessible
// name: an aria-label, aria-labelledby, a <label for>, an enclosing
// <label>, or (for a button) its text.
const unnamedControls = `(() => {
  const bad = [];
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    if (el.type === 'hidden') continue;
    let name = (el.getAttribute('aria-label') || '').trim();
    if (!name && el.getAttribute('aria-labelledby')) {
      name = el.getAttribute('aria-labelledby').split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
    }
    if (!name && el.id) {
      const l = document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
      if (l) name = l.textContent.trim();
    }
    if (!name && el.closest('label')) name = el.closest('label').textContent.trim();
    if (!name && el.tagName === 'BUTTON') name = el.textContent.trim();
    if (!name) bad.push(el.outerHTML.slice(0, 160));
  }
  return bad;
})()`

// pressTabUntil presses Tab until the focused element matches sel.
func (c *session) pressTabUntil(t *testing.T, sel string) {
	t.Helper()
	check := fmt.Sprintf(`!!(document.activeElement && document.activeElement.matches(%q))`, sel)
	for range 120 {
		if browser.Eval[bool](t, c.ctx, check) {
			return
		}
		browser.Run(t, c.ctx, chromedp.KeyEvent("\t"))
	}
	t.Fatalf("Tab never reached %s (focus is on %s)", sel, browser.Eval[string](t, c.ctx, `document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : 'nothing'`))
}

// TestConsoleAccessibility: signing in and creating a user work with the
// keyboard alone; on every page the navigation reaches (with its "New …"
// forms open) every control has an accessible name.
func TestConsoleAccessibility(t *testing.T) {
	c := open(t)
	admin := c.s.Bootstrap.Admin
	browser.Run(t, c.ctx, browser.ClearCookies(), chromedp.Navigate(c.s.URL+"/portal/"), browser.WaitVisible("#sign-in"))
	c.pressTabUntil(t, "#sign-in")
	browser.Run(t, c.ctx, chromedp.KeyEvent("\r"), browser.WaitVisible("#username"))
	c.pressTabUntil(t, "#username")
	browser.Run(t, c.ctx, chromedp.KeyEvent(admin.UserPrincipalName))
	c.pressTabUntil(t, "#password")
	browser.Run(t, c.ctx, chromedp.KeyEvent(admin.Password), chromedp.KeyEvent("\r"), browser.WaitVisible(`main[data-ready="/"]`))

	c.pressTabUntil(t, `nav a[href="#/users"]`)
	browser.Run(t, c.ctx, chromedp.KeyEvent("\r"), browser.WaitVisible(`main[data-ready="/users"]`))
	c.pressTabUntil(t, "#new-user")
	browser.Run(t, c.ctx, chromedp.KeyEvent("\r"), browser.WaitVisible("#new-user-name"))
	c.pressTabUntil(t, "#new-user-name")
	browser.Run(t, c.ctx, chromedp.KeyEvent("Kay Board"))
	c.pressTabUntil(t, "#new-user-upn")
	browser.Run(t, c.ctx, chromedp.KeyEvent("kay"))
	c.pressTabUntil(t, "#new-user-force")
	browser.Run(t, c.ctx, chromedp.KeyEvent(" "))
	c.pressTabUntil(t, `form button[type="submit"]`)
	browser.Run(t, c.ctx, chromedp.KeyEvent("\r"), browser.WaitVisible(`main[data-ready="/users/:id"]`))
	id := browser.Text(t, c.ctx, "#user-id")
	var u struct {
		DisplayName, UserPrincipalName string
	}
	if st := c.s.Graph(t, c.s.GraphToken(t), http.MethodGet, "/users/"+id, nil, &u); st != 200 || u.DisplayName != "Kay Board" || !strings.HasPrefix(u.UserPrincipalName, "kay@") {
		t.Fatalf("the user created by keyboard: %d %+v", st, u)
	}

	pages := browser.Eval[[]string](t, c.ctx, `[...document.querySelectorAll('nav#nav a')].map((a) => a.getAttribute('href'))`)
	if len(pages) < 6 {
		t.Fatalf("the navigation has %d pages: %v", len(pages), pages)
	}
	for _, hash := range pages {
		c.goTo(t, hash, strings.TrimPrefix(hash, "#"))
		browser.Run(t, c.ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('main button[id^="new-"]:not(:disabled)').forEach((b) => b.click())`))
		if bad := browser.Eval[[]string](t, c.ctx, unnamedControls); len(bad) > 0 {
			t.Errorf("%s: controls without an accessible name:\n%s", hash, strings.Join(bad, "\n"))
		}
	}
	// A detail page too.
	c.goTo(t, "#/users/"+id, "/users/:id")
	if bad := browser.Eval[[]string](t, c.ctx, unnamedControls); len(bad) > 0 {
		t.Errorf("the user page: controls without an accessible name:\n%s", strings.Join(bad, "\n"))
	}
}
