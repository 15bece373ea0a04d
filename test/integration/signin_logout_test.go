package integration

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"

	"github.com/tessera-id/tessera/test/testserver"
)

// logoutApp is a web app whose front-channel logout URL is an httptest
// server that records what it is sent.
type logoutApp struct {
	testserver.App
	Redirect string
	srv      *httptest.Server
	mu       sync.Mutex
	got      []url.Values
}

func newLogoutApp(t *testing.T, s *testserver.Server, name string) *logoutApp {
	t.Helper()
	la := &logoutApp{}
	la.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/logout" {
			http.NotFound(w, r)
			return
		}
		la.mu.Lock()
		la.got = append(la.got, r.URL.Query())
		la.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<!DOCTYPE html><title>signed out</title>"))
	}))
	t.Cleanup(la.srv.Close)
	la.Redirect = la.srv.URL + "/signin-oidc"
	la.App = s.CreateApp(t, name, map[string]any{"web": map[string]any{
		"redirectUris": []string{la.Redirect}, "logoutUrl": la.srv.URL + "/logout"}})
	return la
}

// received is what the app's logout URL was sent.
func (la *logoutApp) received() []url.Values {
	la.mu.Lock()
	defer la.mu.Unlock()
	return slices.Clone(la.got)
}

// signInTo signs the browser in to app (a new session for the first, the
// existing one after) and returns the id_token's claims.
func signInTo(t *testing.T, s *testserver.Server, b *testserver.Browser, app *logoutApp, u testserver.User) map[string]any {
	t.Helper()
	a := newAuthReq(s)
	a.Params.Set("client_id", app.AppID)
	a.Params.Set("redirect_uri", app.Redirect)
	a.Params.Set("scope", "openid profile")
	r := redeem(t, s, a, codeFrom(t, a, b.SignIn(a.url(s), u.UPN, u.Password)), url.Values{"client_secret": {app.Secret}})
	if r.Status != 200 {
		t.Fatalf("redeem for %s: %s", app.AppID, r)
	}
	return claimsOf(t, str(r, "id_token"))
}

// iframeSources are the src of a page's iframes.
func iframeSources(t *testing.T, body string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "iframe" {
			for _, a := range n.Attr {
				if a.Key == "src" {
					out = append(out, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// TestFrontChannelLogout: id_tokens carry the session's sid; logout ends
// the session with a page that loads, in iframes, the logoutUrl of each
// web app the session signed in to, with iss and sid, under a CSP that
// frames exactly those origins, then goes on to post_logout_redirect_uri.
func TestFrontChannelLogout(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	one, two := newLogoutApp(t, s, "logout-one"), newLogoutApp(t, s, "logout-two")
	silent := newLogoutApp(t, s, "never-signed-in")
	u := s.CreateUser(t, "leaver", userPassword)
	b := s.NewBrowser(t)
	c1 := signInTo(t, s, b, one, u)
	c2 := signInTo(t, s, b, two, u)
	sid, _ := c1["sid"].(string)
	if sid == "" || c2["sid"] != sid {
		t.Fatalf("sid: %v and %v", c1["sid"], c2["sid"])
	}
	other := signInTo(t, s, s.NewBrowser(t), one, u)
	if other["sid"] == sid {
		t.Error("two browser sessions share a sid")
	}

	iss := s.URL + "/" + s.Bootstrap.TenantID + "/v2.0"
	q := url.Values{"post_logout_redirect_uri": {one.Redirect}, "client_id": {one.AppID}, "state": {"bye"}}
	p := b.Get(s.URL + "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/logout?" + q.Encode())
	if p.Status != http.StatusOK || !p.Has("You signed out") {
		t.Fatalf("logout page: %d %s\n%s", p.Status, p.Location(), p.Body)
	}
	frames := iframeSources(t, p.Body)
	want := []string{}
	for _, a := range []*logoutApp{one, two} {
		want = append(want, a.srv.URL+"/logout?"+url.Values{"iss": {iss}, "sid": {sid}}.Encode())
	}
	if !slices.Equal(frames, want) {
		t.Errorf("iframes:\n got %q\nwant %q", frames, want)
	}
	csp := p.Header.Get("Content-Security-Policy")
	if m := regexp.MustCompile(`frame-src ([^;]*)`).FindStringSubmatch(csp); m == nil || m[1] != one.srv.URL+" "+two.srv.URL {
		t.Errorf("CSP frame-src: %q", csp)
	}
	for _, bad := range []string{"script-src", "unsafe-inline", silent.srv.URL} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP has %q: %s", bad, csp)
		}
	}
	if !strings.Contains(csp, "frame-ancestors 'none'") || p.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("security headers: %v", p.Header)
	}
	wantRefresh := `content="1; url=` + strings.ReplaceAll(one.Redirect+"?state=bye", "&", "&amp;")
	if !p.Has(wantRefresh) {
		t.Errorf("no refresh to the redirect (%s):\n%s", wantRefresh, p.Body)
	}

	// What a browser does with the frames: each app hears iss and sid.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: one.srv.Client().Transport.(*http.Transport).TLSClientConfig}}
	for _, f := range frames {
		resp, err := hc.Get(f)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, a := range []*logoutApp{one, two} {
		if got := a.received(); len(got) != 1 || got[0].Get("iss") != iss || got[0].Get("sid") != sid {
			t.Errorf("%s received %v", a.AppID, got)
		}
	}

	// The session is over: the next logout has no one to tell, and goes
	// straight to the redirect.
	if p := b.Get(s.URL + "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/logout?" + q.Encode()); p.Status != http.StatusFound ||
		!strings.HasPrefix(p.Location(), one.Redirect) {
		t.Errorf("second logout: %d %s", p.Status, p.Location())
	}
	// v1 logout names the v1 issuer.
	b1 := s.NewBrowser(t)
	signInTo(t, s, b1, two, u)
	p = b1.Get(s.URL + "/" + s.Bootstrap.TenantID + "/oauth2/logout")
	if f := iframeSources(t, p.Body); len(f) != 1 || !strings.Contains(f[0], url.Values{"iss": {"https://sts.windows.net/" + s.Bootstrap.TenantID + "/"}}.Encode()) {
		t.Errorf("v1 logout frames %q", f)
	}
}
