package compat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/test/browser"
	"github.com/tessera-id/tessera/test/testserver"
)

// The browser tests drive Tessera's sign-in pages in real headless Chromium
// (Debian's chromium package) through chromedp:
//
//	apt-get install chromium
//	go test ./test/compat/ -run Browser -count=1 -v
//
// TESSERA_CHROMIUM names another binary. They skip when there is none
// (fail under TESSERA_COMPAT_REQUIRED=1). The client side is a loopback
// listener standing in for a native app's redirect URI.

// loopback is a native client's redirect listener: it records what the
// browser delivers (query or form_post) and shows a plain page.
type loopback struct {
	URL string
	got chan url.Values
}

func newLoopback(t *testing.T) *loopback {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lb := &loopback{URL: "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:"), got: make(chan url.Values, 4)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" { // the browser's favicon request
			http.NotFound(w, r)
			return
		}
		_ = r.ParseForm()
		v := r.Form
		v.Set("_method", r.Method)
		select {
		case lb.got <- v:
		default:
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<!DOCTYPE html><title>done</title><p id=done>Authentication complete.</p>"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return lb
}

func (lb *loopback) wait(t *testing.T, ctx context.Context) url.Values {
	t.Helper()
	select {
	case v := <-lb.got:
		if v.Get("error") != "" {
			t.Fatalf("the client received an error: %s %s", v.Get("error"), v.Get("error_description"))
		}
		if v.Get("code") == "" {
			t.Fatalf("the client received no code: %v", v)
		}
		// The browser is still loading the client's page when the client
		// has the code: a navigation started now would race that load (and
		// lose it with net::ERR_ABORTED on a busy machine).
		browser.Run(t, ctx, browser.WaitVisible("#done"))
		return v
	case <-time.After(30 * time.Second):
		where, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.location.href + "\n" + document.body.innerText`))
		t.Fatalf("the browser did not reach the client's redirect URI; it shows %s", where)
	}
	return nil
}

// authorizeURL is an Azure CLI authorize request to the loopback.
func authorizeURL(s *testserver.Server, lb *loopback, extra url.Values) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	sum := sha256.Sum256([]byte(base64.RawURLEncoding.EncodeToString(b)))
	q := url.Values{"client_id": {azCLIClientID}, "response_type": {"code"}, "redirect_uri": {lb.URL},
		"scope": {armScope + " openid profile offline_access"}, "state": {"s1"}, "nonce": {"n1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	return s.URL + "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/authorize?" + q.Encode()
}

// TestBrowserLoginPages covers the login page in Chromium: wrong password,
// sign-in, silent second sign-in, form_post's auto-submit under the CSP,
// lockout, MFA enrollment and challenge, a Conditional Access block, the
// forced password change, and the device-code page.
func TestBrowserLoginPages(t *testing.T) {
	ctx := browser.New(t)
	s := testserver.Start(t, testserver.Options{})
	lb := newLoopback(t)
	u := s.CreateUser(t, "chrome", signinPassword)

	t.Run("wrong password", func(t *testing.T) {
		browser.Run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, nil)), browser.Login(u.UPN, "Not-The-Password-1"), browser.WaitVisible(".error"))
		if msg := browser.Text(t, ctx, ".error"); msg != "Your account or password is incorrect." {
			t.Fatalf("message %q", msg)
		}
	})

	t.Run("sign-in and silent second sign-in", func(t *testing.T) {
		browser.Run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, nil)), browser.Login(u.UPN, u.Password))
		if v := lb.wait(t, ctx); v.Get("state") != "s1" || v.Get("_method") != http.MethodGet {
			t.Fatalf("delivered %v", v)
		}
		// The session cookie makes the next sign-in silent: no page to fill.
		browser.Run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, nil)))
		lb.wait(t, ctx)
	})

	t.Run("form_post auto-submits", func(t *testing.T) {
		browser.Run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, url.Values{"response_mode": {"form_post"}})))
		if v := lb.wait(t, ctx); v.Get("_method") != http.MethodPost || v.Get("state") != "s1" {
			t.Fatalf("form_post delivered %v", v)
		}
	})

	t.Run("lockout", func(t *testing.T) {
		v := s.CreateUser(t, "lockme", signinPassword)
		browser.Run(t, ctx, browser.ClearCookies())
		var msg string
		for i := 0; i < 10; i++ {
			browser.Run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, nil)), browser.Login(v.UPN, "Wrong-Password-1"), browser.WaitVisible(".error"))
			msg = browser.Text(t, ctx, ".error")
		}
		if !strings.Contains(msg, "temporarily locked") {
			t.Fatalf("after 10 failures: %q", msg)
		}
		browser.Run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, nil)), browser.Login(v.UPN, v.Password), browser.WaitVisible(".error"))
		if msg = browser.Text(t, ctx, ".error"); !strings.Contains(msg, "temporarily locked") {
			t.Fatalf("the right password during the lockout: %q", msg)
		}
	})

	t.Run("MFA enrollment and challenge", func(t *testing.T) {
		v := s.CreateUser(t, "chromemfa", signinPassword)
		createPolicy(t, s, map[string]any{"displayName": "MFA for chromemfa", "state": "enabled",
			"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{v.ID}},
				"applications": map[string]any{"includeApplications": []string{"All"}}, "clientAppTypes": []string{"all"}},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}}})
		browser.Run(t, ctx, browser.ClearCookies(), chromedp.Navigate(authorizeURL(s, lb, nil)), browser.Login(v.UPN, v.Password), browser.WaitVisible("#secret"))
		secret := browser.Text(t, ctx, "#secret")
		key, err := signin.DecodeTOTPSecret(secret)
		if err != nil {
			t.Fatalf("secret %q: %v", secret, err)
		}
		browser.Run(t, ctx, browser.Type("#otp", signin.TOTPCode(key, time.Now())), browser.Click(`button[type="submit"]`))
		lb.wait(t, ctx)
		browser.Run(t, ctx, browser.ClearCookies(), chromedp.Navigate(authorizeURL(s, lb, nil)), browser.Login(v.UPN, v.Password), browser.WaitVisible("#otp"))
		if heading := browser.Text(t, ctx, "h1"); heading != "Enter code" {
			t.Fatalf("challenge page heading %q", heading)
		}
		browser.Run(t, ctx, browser.Type("#otp", signin.TOTPCode(key, time.Now().Add(30*time.Second))), browser.Click(`button[type="submit"]`))
		lb.wait(t, ctx)
	})

	t.Run("Conditional Access block", func(t *testing.T) {
		v := s.CreateUser(t, "chromeblocked", signinPassword)
		createPolicy(t, s, map[string]any{"displayName": "No access for contractors", "state": "enabled",
			"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{v.ID}},
				"applications": map[string]any{"includeApplications": []string{"All"}}, "clientAppTypes": []string{"all"}},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}}})
		browser.Run(t, ctx, browser.ClearCookies(), chromedp.Navigate(authorizeURL(s, lb, nil)), browser.Login(v.UPN, v.Password), browser.WaitVisible(".error"))
		heading, msg := browser.Text(t, ctx, "h1"), browser.Text(t, ctx, ".error")
		if heading != "You cannot access this right now" || !strings.Contains(msg, "No access for contractors") {
			t.Fatalf("block page: %q / %q", heading, msg)
		}
	})

	t.Run("forced password change", func(t *testing.T) {
		upn := "forced@" + s.Bootstrap.Domain
		if st := s.Graph(t, s.GraphToken(t), "POST", "/users", map[string]any{
			"accountEnabled": true, "displayName": "forced", "mailNickname": "forced", "userPrincipalName": upn,
			"passwordProfile": map[string]any{"password": signinPassword, "forceChangePasswordNextSignIn": true},
		}, nil); st != http.StatusCreated {
			t.Fatalf("create user: %d", st)
		}
		const newPassword = "Chromium-New-Passw0rd"
		browser.Run(t, ctx, browser.ClearCookies(), chromedp.Navigate(authorizeURL(s, lb, nil)), browser.Login(upn, signinPassword),
			browser.WaitVisible("#new_password"), browser.Type("#new_password", newPassword), browser.Type("#confirm_password", newPassword+"x"),
			browser.Click(`button[type="submit"]`), browser.WaitVisible(".error"))
		if msg := browser.Text(t, ctx, ".error"); !strings.Contains(msg, "match") {
			t.Fatalf("mismatch: %q", msg)
		}
		browser.Run(t, ctx, browser.WaitVisible("#new_password"), browser.Type("#new_password", newPassword), browser.Type("#confirm_password", newPassword),
			browser.Click(`button[type="submit"]`))
		if v := lb.wait(t, ctx); v.Get("code") == "" {
			t.Fatalf("delivered %v", v)
		}
	})

	t.Run("device-code page", func(t *testing.T) {
		r := s.PostForm(t, "/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {azCLIClientID}, "scope": {armScope}})
		code, _ := r.Body["user_code"].(string)
		uri, _ := r.Body["verification_uri"].(string)
		browser.Run(t, ctx, browser.ClearCookies(), chromedp.Navigate(uri), browser.WaitVisible("#user_code"), browser.Type("#user_code", code),
			browser.Click(`button[type="submit"]`), browser.Login(u.UPN, u.Password),
			browser.WaitVisible(`button[value="approve"]`), browser.Click(`button[value="approve"]`), browser.WaitVisible(".info"))
		if done := browser.Text(t, ctx, ".info"); !strings.Contains(done, "You have signed in to Microsoft Azure CLI") {
			t.Fatalf("device page ended with %q", done)
		}
		dc, _ := r.Body["device_code"].(string)
		got := s.PostForm(t, "/organizations/oauth2/v2.0/token", url.Values{"grant_type": {"device_code"},
			"client_id": {azCLIClientID}, "device_code": {dc}})
		if got.Status != 200 {
			t.Fatalf("token after approval in Chromium: %s", got)
		}
	})
}

// createPolicy creates a Conditional Access policy through Graph.
func createPolicy(t *testing.T, s *testserver.Server, body map[string]any) {
	t.Helper()
	if st := s.Graph(t, s.GraphToken(t), "POST", "/identity/conditionalAccess/policies", body, nil); st != http.StatusCreated {
		t.Fatalf("create policy: %d", st)
	}
}
