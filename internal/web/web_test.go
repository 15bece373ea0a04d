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
	for _, name := range []string{PageLogin, PagePick, PageMFA, PageEnroll, PageConsent, PageError, PageMessage, PageFormPost, PageDevice, PageDeviceConfirm, PageChangePassword} {
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
