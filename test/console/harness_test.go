package console

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/test/browser"
	"github.com/tessera-id/tessera/test/testserver"
)

// The console tests sign in through the real login page in headless
// Chromium and use the console as a person would; each checks what it did
// through the public API afterwards.
//
//	apt-get install chromium
//	go test ./test/console/ -count=1 -v
//
// TESSERA_UPDATE_SCREENSHOTS=1 also refreshes docs/images/console-*.png.

type session struct {
	s   *testserver.Server
	ctx context.Context
}

// open starts a server and a browser.
func open(t *testing.T) *session {
	t.Helper()
	ctx := browser.New(t)
	return &session{s: testserver.Start(t, testserver.Options{}), ctx: ctx}
}

// signIn opens the console and signs in through the login page.
func (c *session) signIn(t *testing.T, upn, password string) {
	t.Helper()
	browser.Run(t, c.ctx, browser.ClearCookies(), chromedp.Navigate(c.s.URL+"/portal/"),
		browser.WaitVisible("#sign-in"), browser.Click("#sign-in"),
		browser.Login(upn, password), browser.WaitVisible(`main[data-ready="/"]`))
}

// signInAdmin signs in as the bootstrap administrator.
func (c *session) signInAdmin(t *testing.T) {
	t.Helper()
	c.signIn(t, c.s.Bootstrap.Admin.UserPrincipalName, c.s.Bootstrap.Admin.Password)
}

// goTo opens a console page (its hash) and waits until the page of route
// pattern has rendered.
func (c *session) goTo(t *testing.T, hash, pattern string) {
	t.Helper()
	browser.Run(t, c.ctx,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById("main").removeAttribute("data-ready");
			if (location.hash === %[1]q) window.dispatchEvent(new HashChangeEvent("hashchange")); else location.hash = %[1]q`, hash)),
		browser.WaitVisible(fmt.Sprintf(`main[data-ready=%q]`, pattern)))
}

// screenshot refreshes a picture of the docs (see harness doc above).
func (c *session) screenshot(t *testing.T, name string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	browser.Screenshot(t, c.ctx, filepath.Join(filepath.Dir(file), "..", "..", "docs", "images", "console-"+name+".png"))
}
