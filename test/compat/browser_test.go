package compat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/internal/signin"
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

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("TESSERA_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TESSERA_COMPAT_REQUIRED") == "1" {
		t.Fatal("chromium not installed: apt-get install chromium (TESSERA_COMPAT_REQUIRED=1)")
	}
	t.Skip("chromium not installed: apt-get install chromium")
	return ""
}

// newChrome starts a headless Chromium, with extra options if any, and
// returns a tab's context.
func newChrome(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the tests may run as root
		chromedp.DisableGPU,
		// The test CA is not in Chromium's NSS store; the pages are still an
		// https origin, so Secure and __Host- cookies behave as in production.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

type step = chromedp.Action[chromedp.Void]

// run runs chromedp steps with a deadline.
func run(t *testing.T, ctx context.Context, steps ...step) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("chromium: %v", err)
	}
}

// text reads the text of the first element matching a CSS selector.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

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
		run(t, ctx, waitVisible("#done"))
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

// login fills and submits the login page.
func login(upn, password string) step {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for _, s := range []step{
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("username").value = ""`),
			chromedp.SendKeys(chromedp.ID("username"), upn),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		} {
			if _, err := s(ctx, t); err != nil {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, nil
	}
}

// clearCookies ends the browser's session: the next sign-in is a new one.
func clearCookies() step {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return chromedp.Void{}, err
	}
}

func waitVisible(sel string) step { return chromedp.WaitVisible(chromedp.CSS(sel)) }
func click(sel string) step       { return chromedp.Click(chromedp.CSS(sel)) }
func typeInto(sel, v string) step { return chromedp.SendKeys(chromedp.CSS(sel), v) }

// TestBrowserLoginPages covers the login page in Chromium: wrong password,
// sign-in, silent second sign-in, form_post's auto-submit under the CSP,
// lockout, MFA enrollment and challenge, a Conditional Access block, the
// forced password change, and the device-code page.
func TestBrowserLoginPages(t *testing.T) {
	ctx := newChrome(t)
	s := testserver.Start(t, testserver.Options{})
	lb := newLoopback(t)
	u := s.CreateUser(t, "chrome", signinPassword)

	t.Run("wrong password", func(t *testing.T) {
		run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, nil)), login(u.UPN, "Not-The-Password-1"), waitVisible(".error"))
		if msg := text(t, ctx, ".error"); msg != "Your account or password is incorrect." {
			t.Fatalf("message %q", msg)
		}
	})

	t.Run("sign-in and silent second sign-in", func(t *testing.T) {
		run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, nil)), login(u.UPN, u.Password))
		if v := lb.wait(t, ctx); v.Get("state") != "s1" || v.Get("_method") != http.MethodGet {
			t.Fatalf("delivered %v", v)
		}
		// The session cookie makes the next sign-in silent: no page to fill.
		run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, nil)))
		lb.wait(t, ctx)
	})

	t.Run("form_post auto-submits", func(t *testing.T) {
		run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, url.Values{"response_mode": {"form_post"}})))
		if v := lb.wait(t, ctx); v.Get("_method") != http.MethodPost || v.Get("state") != "s1" {
			t.Fatalf("form_post delivered %v", v)
		}
	})

	t.Run("lockout", func(t *testing.T) {
		v := s.CreateUser(t, "lockme", signinPassword)
		run(t, ctx, clearCookies())
		var msg string
		for i := 0; i < 10; i++ {
			run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, nil)), login(v.UPN, "Wrong-Password-1"), waitVisible(".error"))
			msg = text(t, ctx, ".error")
		}
		if !strings.Contains(msg, "temporarily locked") {
			t.Fatalf("after 10 failures: %q", msg)
		}
		run(t, ctx, chromedp.Navigate(authorizeURL(s, lb, nil)), login(v.UPN, v.Password), waitVisible(".error"))
		if msg = text(t, ctx, ".error"); !strings.Contains(msg, "temporarily locked") {
			t.Fatalf("the right password during the lockout: %q", msg)
		}
	})

	t.Run("MFA enrollment and challenge", func(t *testing.T) {
		v := s.CreateUser(t, "chromemfa", signinPassword)
		createPolicy(t, s, map[string]any{"displayName": "MFA for chromemfa", "state": "enabled",
			"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{v.ID}},
				"applications": map[string]any{"includeApplications": []string{"All"}}, "clientAppTypes": []string{"all"}},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}}})
		run(t, ctx, clearCookies(), chromedp.Navigate(authorizeURL(s, lb, nil)), login(v.UPN, v.Password), waitVisible("#secret"))
		secret := text(t, ctx, "#secret")
		key, err := signin.DecodeTOTPSecret(secret)
		if err != nil {
			t.Fatalf("secret %q: %v", secret, err)
		}
		run(t, ctx, typeInto("#otp", signin.TOTPCode(key, time.Now())), click(`button[type="submit"]`))
		lb.wait(t, ctx)
		run(t, ctx, clearCookies(), chromedp.Navigate(authorizeURL(s, lb, nil)), login(v.UPN, v.Password), waitVisible("#otp"))
		if heading := text(t, ctx, "h1"); heading != "Enter code" {
			t.Fatalf("challenge page heading %q", heading)
		}
		run(t, ctx, typeInto("#otp", signin.TOTPCode(key, time.Now().Add(30*time.Second))), click(`button[type="submit"]`))
		lb.wait(t, ctx)
	})

	t.Run("Conditional Access block", func(t *testing.T) {
		v := s.CreateUser(t, "chromeblocked", signinPassword)
		createPolicy(t, s, map[string]any{"displayName": "No access for contractors", "state": "enabled",
			"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{v.ID}},
				"applications": map[string]any{"includeApplications": []string{"All"}}, "clientAppTypes": []string{"all"}},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}}})
		run(t, ctx, clearCookies(), chromedp.Navigate(authorizeURL(s, lb, nil)), login(v.UPN, v.Password), waitVisible(".error"))
		heading, msg := text(t, ctx, "h1"), text(t, ctx, ".error")
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
		run(t, ctx, clearCookies(), chromedp.Navigate(authorizeURL(s, lb, nil)), login(upn, signinPassword),
			waitVisible("#new_password"), typeInto("#new_password", newPassword), typeInto("#confirm_password", newPassword+"x"),
			click(`button[type="submit"]`), waitVisible(".error"))
		if msg := text(t, ctx, ".error"); !strings.Contains(msg, "match") {
			t.Fatalf("mismatch: %q", msg)
		}
		run(t, ctx, waitVisible("#new_password"), typeInto("#new_password", newPassword), typeInto("#confirm_password", newPassword),
			click(`button[type="submit"]`))
		if v := lb.wait(t, ctx); v.Get("code") == "" {
			t.Fatalf("delivered %v", v)
		}
	})

	t.Run("device-code page", func(t *testing.T) {
		r := s.PostForm(t, "/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {azCLIClientID}, "scope": {armScope}})
		code, _ := r.Body["user_code"].(string)
		uri, _ := r.Body["verification_uri"].(string)
		run(t, ctx, clearCookies(), chromedp.Navigate(uri), waitVisible("#user_code"), typeInto("#user_code", code),
			click(`button[type="submit"]`), login(u.UPN, u.Password),
			waitVisible(`button[value="approve"]`), click(`button[value="approve"]`), waitVisible(".info"))
		if done := text(t, ctx, ".info"); !strings.Contains(done, "You have signed in to Microsoft Azure CLI") {
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
