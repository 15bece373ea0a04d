// Package web holds the server-rendered pages people see while signing in:
// the login, account picker, MFA and authenticator enrollment, consent,
// device-code and error pages, and the auto-submitting form_post page. The
// pages are plain HTML and CSS (html/template, embedded in the binary);
// none needs JavaScript, and the only script is the one-line auto-submit of
// form_post, which has a visible Continue button as its fallback.
//
// Every page is sent with a Content-Security-Policy that allows only this
// server's stylesheet and forms posting back to it (form_post adds its
// redirect URI and a per-response script nonce; the logout page adds the
// origins of the front-channel logout URLs it frames, and nothing else), no
// framing, no referrer (the next URL may carry an authorization code), and
// no caching.
package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/tessera.css
var stylesheet []byte

// StaticPath is where the stylesheet is served.
const StaticPath = "/_tessera/signin.css"

// Field is a hidden form field.
type Field struct{ Name, Value string }

// Page is the data of every page; each template reads the fields it needs.
type Page struct {
	Title   string
	Heading string
	// Action is the URL forms post to (path and query on this server).
	Action string
	CSRF   string
	Hidden []Field

	Error string
	Info  string
	// ErrorCode is shown on error pages (e.g. AADSTS53003).
	ErrorCode   string
	Correlation string

	ClientName string
	Username   string
	Account    string
	Scopes     []string
	// Permissions are the delegated permissions a consent page asks for.
	Permissions []Permission
	// Unverified: the app's publisher is not verified (Tessera verifies
	// none), which the consent page says as Entra does.
	Unverified bool
	// OrgConsent offers an administrator "Consent on behalf of your
	// organization"; OrgChecked ticks it, OrgOnly makes it the only choice
	// (the admin consent endpoint).
	OrgConsent bool
	OrgChecked bool
	OrgOnly    bool

	Secret     string
	OTPAuthURI template.URL

	UserCode string

	// PostURL and Fields make the form_post page.
	PostURL     string
	Fields      []Field
	ScriptNonce string

	StaticURL string

	// Frames are the front-channel logout URLs the logout page loads, each
	// in a hidden iframe; the page's CSP allows exactly their origins.
	Frames []string
	// RefreshURL is where the page goes by itself once loaded (a meta
	// refresh: no script).
	RefreshURL string
}

// Permission is one permission on the consent page.
type Permission struct{ Name, Description string }

// Names of the pages.
const (
	PageLogin         = "login"
	PagePick          = "pick"
	PageMFA           = "mfa"
	PageEnroll        = "enroll"
	PageConsent       = "consent"
	PageError         = "error"
	PageMessage       = "message"
	PageFormPost      = "form_post"
	PageDevice        = "device"
	PageDeviceConfirm = "device_confirm"
	// PageChangePassword is the "Update your password" step of a user whose
	// password must be changed at this sign-in.
	PageChangePassword = "password"
	// PageLogout ends a session and tells the apps it signed in to.
	PageLogout = "logout"
)

// Pages renders the sign-in pages.
type Pages struct {
	pages map[string]*template.Template
}

// New parses the embedded templates.
func New() (*Pages, error) {
	layout, err := template.ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	entries, err := fs.ReadDir(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	p := &Pages{pages: map[string]*template.Template{}}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" {
			continue
		}
		t, err := layout.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFiles, "templates/"+e.Name()); err != nil {
			return nil, fmt.Errorf("parse %s: %w", e.Name(), err)
		}
		p.pages[name] = t
	}
	return p, nil
}

// Render writes page name with status. formTarget, when not empty, is the
// origin of the client's redirect URI: a form_post page posts there, and
// the forms of an authorize flow end in a redirect there, which browsers
// also hold to the CSP's form-action, so the CSP allows it.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, data Page, formTarget string) {
	t, ok := p.pages[name]
	if !ok {
		http.Error(w, "unknown page", http.StatusInternalServerError)
		return
	}
	if data.StaticURL == "" {
		data.StaticURL = StaticPath
	}
	csp := "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	if formTarget != "" {
		csp += " " + formTarget
	}
	if origins := frameOrigins(data.Frames); origins != "" {
		csp += "; frame-src " + origins
	}
	if name == PageFormPost {
		data.ScriptNonce = nonce()
		csp = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; script-src 'nonce-" + data.ScriptNonce + "'; form-action " + formTarget
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, "page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// frameOrigins is the frame-src of frames: each origin once.
func frameOrigins(frames []string) string {
	var out []string
	for _, f := range frames {
		o := Origin(f)
		if o == "'none'" {
			continue
		}
		dup := false
		for _, v := range out {
			dup = dup || v == o
		}
		if !dup {
			out = append(out, o)
		}
	}
	return strings.Join(out, " ")
}

// ServeStylesheet serves the pages' CSS.
func ServeStylesheet(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(stylesheet)
}

func nonce() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// Origin is the scheme://host[:port] of a URL, for a CSP form-action.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "'none'"
	}
	return u.Scheme + "://" + u.Host
}

// MustNew is New for the composition root: the templates are compiled into
// the binary, so a parse error is a build defect, caught by the tests.
func MustNew() *Pages {
	p, err := New()
	if err != nil {
		panic(err)
	}
	return p
}
