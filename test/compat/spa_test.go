package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/test/browser"
	"github.com/tessera-id/tessera/test/testserver"
)

// The single-page application test runs the real @azure/msal-browser
// (pinned by node/package-lock.json; its UMD bundle, loaded by a page) in
// headless Chromium against Tessera:
//
//	npm ci --prefix test/compat/node
//	go test ./test/compat/ -run MSALBrowser -count=1 -v
//
// The page is served from a loopback origin of its own
// (http://localhost:<port>/), registered through Graph as the application's
// spa.redirectUris, so every call the library makes to Tessera is
// cross-origin: discovery, the token endpoint (the SPA redemption rules
// and CORS) and Graph. The library runs with its defaults for Entra
// (protocolMode "AAD", the default: Tessera speaks Entra's dialect, with
// client_info and v2.0 discovery) and knownAuthorities naming Tessera's
// host, which is what msal-browser documents for an authority it cannot
// validate through instance discovery.

// msalBrowserBundle finds the installed msal-browser UMD bundle, skipping
// the test (or failing it under TESSERA_COMPAT_REQUIRED=1) without it.
func msalBrowserBundle(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("node", "node_modules", "@azure", "msal-browser", "lib"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "msal-browser.js")
	if _, err := os.Stat(p); err != nil {
		msg := "@azure/msal-browser not installed: npm ci --prefix test/compat/node"
		if os.Getenv("TESSERA_COMPAT_REQUIRED") == "1" {
			t.Fatalf("%s (TESSERA_COMPAT_REQUIRED=1)", msg)
		}
		t.Skip(msg)
	}
	return p
}

// spaPage is the application: it builds a PublicClientApplication from the
// configuration the test injects, finishes a redirect on every load, and
// exposes the steps the test drives. window.spa reports the state.
const spaPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>msal-browser against Tessera</title>
<script src="/msal-browser.js"></script></head>
<body><p id="state">loading</p>
<script>
const cfg = %s;
const log = [];
window.spa = { state: "loading", error: "", log: log, login: null, accounts: [] };
const pca = new msal.PublicClientApplication({
  auth: { clientId: cfg.clientId, authority: cfg.authority, knownAuthorities: [cfg.host],
          redirectUri: cfg.redirectUri, postLogoutRedirectUri: cfg.redirectUri },
  cache: { cacheLocation: "localStorage" },
  system: { loggerOptions: { logLevel: msal.LogLevel.Verbose, piiLoggingEnabled: false,
    loggerCallback: (level, message) => { log.push(message); } } },
});
function describe(e) { return e && e.errorCode ? e.errorCode + ": " + e.errorMessage : String(e); }
(async () => {
  try {
    await pca.initialize();
    const res = await pca.handleRedirectPromise();
    if (res) {
      window.spa.login = { username: res.account.username, homeAccountId: res.account.homeAccountId,
        tenantId: res.account.tenantId, aud: res.idTokenClaims.aud, scopes: res.scopes, hasAccessToken: !!res.accessToken };
    }
    window.spa.accounts = pca.getAllAccounts().map(a => a.username);
    window.spa.state = "ready";
  } catch (e) {
    window.spa.state = "error";
    window.spa.error = describe(e);
  }
  document.getElementById("state").textContent = window.spa.state;
})();
window.spaLogin = () => { pca.loginRedirect({ scopes: cfg.loginScopes }).catch(e => { window.spa.state = "error"; window.spa.error = describe(e); }); return true; };
window.spaGraphMe = async () => {
  try {
    const account = pca.getAllAccounts()[0];
    const tok = await pca.acquireTokenSilent({ scopes: [cfg.graphScope], account: account });
    const r = await fetch(cfg.graphMe, { headers: { Authorization: "Bearer " + tok.accessToken } });
    return JSON.stringify({ status: r.status, body: await r.json(), scopes: tok.scopes, fromCache: tok.fromCache });
  } catch (e) {
    return JSON.stringify({ error: describe(e) });
  }
};
window.spaLogout = () => { pca.logoutRedirect({ account: pca.getAllAccounts()[0] }).catch(e => { window.spa.state = "error"; window.spa.error = describe(e); }); return true; };
</script></body></html>
`

// spaState is window.spa.
type spaState struct {
	State string   `json:"state"`
	Error string   `json:"error"`
	Log   []string `json:"log"`
	Login *struct {
		Username       string   `json:"username"`
		HomeAccountID  string   `json:"homeAccountId"`
		TenantID       string   `json:"tenantId"`
		Aud            string   `json:"aud"`
		Scopes         []string `json:"scopes"`
		HasAccessToken bool     `json:"hasAccessToken"`
	} `json:"login"`
	Accounts []string `json:"accounts"`
}

// serveSPA serves the page and the bundle on a loopback origin and
// returns the page's URL.
func serveSPA(t *testing.T, bundle string, cfg map[string]any) (pageURL string, set func(map[string]any)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pageURL = "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:") + "/"
	current := cfg
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(current)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, spaPage, b)
	})
	mux.HandleFunc("GET /msal-browser.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, bundle)
	})
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return pageURL, func(c map[string]any) { current = c }
}

// spaWait polls the page until cond (a JavaScript boolean expression)
// holds. Evaluation errors while a navigation replaces the document are
// expected and retried.
func spaWait(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool](`(() => { try { return !!(`+cond+`); } catch (e) { return false; } })()`))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	where, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.location.href + "\n" + document.body.innerText`))
	st := spaRead(t, ctx)
	t.Fatalf("waiting for %s: the browser shows %s\nspa state %q error %q\nmsal log:\n%s", what, where, st.State, st.Error, strings.Join(st.Log, "\n"))
}

func spaRead(t *testing.T, ctx context.Context) spaState {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	raw, err := chromedp.Run(c, chromedp.Evaluate[string](`JSON.stringify(window.spa || {})`))
	var st spaState
	if err == nil {
		_ = json.Unmarshal([]byte(raw), &st)
	}
	return st
}

// TestMSALBrowserSPA: @azure/msal-browser signs a person in through
// Tessera's login page with loginRedirect (code, PKCE, response_mode
// fragment, redeemed cross-origin), handleRedirectPromise records the
// account, acquireTokenSilent gets a Graph token with the refresh token (a
// second resource), the page calls Graph's /me with it cross-origin, and
// logoutRedirect ends the session and comes back to the page.
func TestMSALBrowserSPA(t *testing.T) {
	bundle := msalBrowserBundle(t)
	ctx := browser.New(t)
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "msalbrowser", signinPassword)
	host := strings.TrimPrefix(s.URL, "https://")

	pageURL, setConfig := serveSPA(t, bundle, nil)
	app := s.CreateApp(t, "msal-browser spa", map[string]any{"spa": map[string]any{"redirectUris": []string{pageURL}}})
	setConfig(map[string]any{
		"clientId": app.AppID, "authority": s.URL + "/" + s.Bootstrap.TenantID, "host": host,
		"redirectUri": pageURL, "loginScopes": []string{armScope},
		"graphScope": "https://graph.microsoft.com/.default", "graphMe": s.URL + "/graph/v1.0/me",
	})

	browser.Run(t, ctx, chromedp.Navigate(pageURL))
	spaWait(t, ctx, "msal-browser to initialize", `window.spa && window.spa.state === "ready"`)

	// loginRedirect: the library navigates to Tessera's authorize endpoint.
	browser.Run(t, ctx, chromedp.Evaluate[chromedp.Void](`spaLogin()`))
	spaWait(t, ctx, "Tessera's login page", `document.getElementById("username")`)
	browser.Run(t, ctx, browser.Login(u.UPN, u.Password))
	spaWait(t, ctx, "handleRedirectPromise on the page", `location.href.startsWith(`+jsString(pageURL)+`) && window.spa && window.spa.state !== "loading"`)
	st := spaRead(t, ctx)
	if st.State != "ready" || st.Login == nil {
		t.Fatalf("after the redirect: state %q error %q login %+v\nmsal log:\n%s", st.State, st.Error, st.Login, strings.Join(st.Log, "\n"))
	}
	if !strings.EqualFold(st.Login.Username, u.UPN) || st.Login.TenantID != s.Bootstrap.TenantID || st.Login.Aud != app.AppID ||
		st.Login.HomeAccountID != u.ID+"."+s.Bootstrap.TenantID || !st.Login.HasAccessToken {
		t.Errorf("login result %+v", *st.Login)
	}

	// acquireTokenSilent for another resource: the refresh token, from the
	// browser (cross-origin), then Graph with that token (CORS again).
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`spaGraphMe()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("spaGraphMe: %v", err)
	}
	var me struct {
		Status int    `json:"status"`
		Error  string `json:"error"`
		Body   struct {
			ID                string `json:"id"`
			UserPrincipalName string `json:"userPrincipalName"`
		} `json:"body"`
		FromCache bool `json:"fromCache"`
	}
	if err := json.Unmarshal([]byte(raw), &me); err != nil {
		t.Fatalf("spaGraphMe: %v: %s", err, raw)
	}
	if me.Error != "" || me.Status != http.StatusOK || me.Body.ID != u.ID || me.FromCache {
		st := spaRead(t, ctx)
		t.Fatalf("Graph /me from the page: %s\nmsal log:\n%s", raw, strings.Join(st.Log, "\n"))
	}

	// logoutRedirect: Tessera ends the session and returns to the page.
	// The page before logout satisfies the same condition until it is left,
	// so it is marked: only the page logout returns to lacks the mark.
	browser.Run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.leftForLogout = true; spaLogout()`))
	spaWait(t, ctx, "the page after logout", `!window.leftForLogout && location.href.startsWith(`+jsString(pageURL)+`) && !location.href.includes("code=") && window.spa && window.spa.state === "ready"`)
	if st := spaRead(t, ctx); len(st.Accounts) != 0 {
		t.Errorf("accounts after logout: %v", st.Accounts)
	}
	// The Tessera session ended too: a new login shows the login page.
	browser.Run(t, ctx, chromedp.Evaluate[chromedp.Void](`spaLogin()`))
	spaWait(t, ctx, "the login page after logout", `document.getElementById("username")`)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
