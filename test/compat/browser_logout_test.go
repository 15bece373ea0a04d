package compat

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/test/browser"
	"github.com/tessera-id/tessera/test/testserver"
)

// webApp is a confidential web app on an httptest server: its redirect
// URI records the codes it is sent, its logoutUrl the logout requests.
type webApp struct {
	testserver.App
	srv      *httptest.Server
	Redirect string
	codes    chan url.Values
	logouts  chan url.Values
}

func newWebApp(t *testing.T, s *testserver.Server, name string) *webApp {
	t.Helper()
	a := &webApp{codes: make(chan url.Values, 4), logouts: make(chan url.Values, 4)}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/signin-oidc":
			a.codes <- r.URL.Query()
		case "/logout":
			a.logouts <- r.URL.Query()
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<!DOCTYPE html><title>app</title><p id=done>" + r.URL.Path + "</p>"))
	}))
	t.Cleanup(a.srv.Close)
	a.Redirect = a.srv.URL + "/signin-oidc"
	a.App = s.CreateApp(t, name, map[string]any{"web": map[string]any{"redirectUris": []string{a.Redirect}, "logoutUrl": a.srv.URL + "/logout"}})
	return a
}

func (a *webApp) authorizeURL(s *testserver.Server) string {
	q := url.Values{"client_id": {a.AppID}, "response_type": {"code"}, "redirect_uri": {a.Redirect},
		"scope": {"openid profile"}, "state": {"in"}, "nonce": {"n"}}
	return s.URL + "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/authorize?" + q.Encode()
}

// next waits for what ch receives.
func next(t *testing.T, ch <-chan url.Values, what string) url.Values {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s within 30 s", what)
	}
	return nil
}

// sidOf redeems a code as the app and returns its id_token's sid.
func (a *webApp) sidOf(t *testing.T, s *testserver.Server, code string) string {
	t.Helper()
	r := s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"},
		"client_id": {a.AppID}, "client_secret": {a.Secret}, "code": {code}, "redirect_uri": {a.Redirect}, "scope": {"openid profile"}})
	idt, _ := r.Body["id_token"].(string)
	if r.Status != 200 || idt == "" {
		t.Fatalf("redeem: %s", r)
	}
	sid, _ := claimsOf(t, idt)["sid"].(string)
	return sid
}

// TestBrowserFrontChannelLogout signs a person in to two web apps in
// Chromium and logs out: the logout page's iframes reach both apps'
// logoutUrl with the issuer and the session's sid under the page's CSP,
// and the browser goes on to post_logout_redirect_uri.
func TestBrowserFrontChannelLogout(t *testing.T) {
	ctx := browser.New(t)
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "frontchannel", signinPassword)
	one, two := newWebApp(t, s, "fc-one"), newWebApp(t, s, "fc-two")

	browser.Run(t, ctx, chromedp.Navigate(one.authorizeURL(s)), browser.Login(u.UPN, u.Password), browser.WaitVisible("#done"))
	sid := one.sidOf(t, s, next(t, one.codes, "code for app one").Get("code"))
	browser.Run(t, ctx, chromedp.Navigate(two.authorizeURL(s)), browser.WaitVisible("#done"))
	if got := two.sidOf(t, s, next(t, two.codes, "code for app two").Get("code")); sid == "" || got != sid {
		t.Fatalf("sid %q and %q", sid, got)
	}

	q := url.Values{"post_logout_redirect_uri": {one.Redirect}, "client_id": {one.AppID}, "state": {"bye"}}
	browser.Run(t, ctx, chromedp.Navigate(s.URL+"/"+s.Bootstrap.TenantID+"/oauth2/v2.0/logout?"+q.Encode()))
	iss := s.URL + "/" + s.Bootstrap.TenantID + "/v2.0"
	for _, a := range []*webApp{one, two} {
		if v := next(t, a.logouts, "front-channel logout of "+a.AppID); v.Get("iss") != iss || v.Get("sid") != sid {
			t.Errorf("%s was sent %v", a.AppID, v)
		}
	}
	if v := next(t, one.codes, "return to post_logout_redirect_uri"); v.Get("state") != "bye" || v.Get("code") != "" {
		t.Errorf("returned with %v", v)
	}
}
