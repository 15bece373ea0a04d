package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPagesRender renders every page: the templates parse, escape what
// they show, and carry the security headers.
func TestPagesRender(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{PageLogin, PagePick, PageMFA, PageEnroll, PageConsent, PageError, PageMessage, PageFormPost, PageDevice, PageDeviceConfirm, PageChangePassword, PageLogout} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			p.Render(w, http.StatusOK, name, Page{Title: "t", Heading: "h", Action: "/x?a=1&b=2", CSRF: "tok",
				Hidden: []Field{{"user_code", "ABCD-EFGH"}}, Username: `"><script>alert(1)</script>`, Error: "<b>bad</b>",
				Account: "a@b", Scopes: []string{"s"}, Secret: "SECRET", OTPAuthURI: "otpauth://totp/x?secret=S",
				PostURL: "http://localhost:8400", Fields: []Field{{"code", "c&d"}}, ClientName: "App"}, "http://localhost:8400")
			body := w.Body.String()
			if w.Code != 200 || strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>bad</b>") {
				t.Fatalf("unescaped output or status %d:\n%s", w.Code, body)
			}
			h := w.Header()
			csp := h.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action") ||
				h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" {
				t.Fatalf("headers %v", h)
			}
			if name == PageFormPost {
				if !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(body, `action="http://localhost:8400"`) {
					t.Fatalf("form_post: csp %q body %s", csp, body)
				}
			} else if strings.Contains(body, "<script") {
				t.Fatalf("page %s has a script", name)
			}
			if name == PageEnroll && !strings.Contains(body, `href="otpauth://totp/x?secret=S"`) {
				t.Fatalf("enroll link: %s", body)
			}
		})
	}
}

// TestLogoutFrames: the logout page frames its logout URLs and its CSP
// allows exactly their origins, each once; a javascript: URL is neither
// framed nor allowed.
func TestLogoutFrames(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	p.Render(w, http.StatusOK, PageLogout, Page{Title: "Signed out", RefreshURL: "https://app.example/done?state=a&b=c",
		Frames: []string{"https://one.example/logout?iss=x&sid=y", "https://two.example:8443/lo?sid=y", "https://one.example/other", "javascript:alert(1)"}}, "")
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.HasSuffix(csp, "; frame-src https://one.example https://two.example:8443") || strings.Contains(csp, "script-src") {
		t.Errorf("csp %q", csp)
	}
	body := w.Body.String()
	for _, want := range []string{`src="https://one.example/logout?iss=x&amp;sid=y"`, `src="https://two.example:8443/lo?sid=y"`,
		`content="1; url=https://app.example/done?state=a&amp;b=c"`} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
	if strings.Contains(body, "javascript:") || strings.Contains(body, "<script") {
		t.Errorf("script on the logout page:\n%s", body)
	}
}
