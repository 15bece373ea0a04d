package console

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const tenantID = "3f1c4a57-6d1b-4b8e-9f52-0c5d2b7a9e10"

func newServer(t *testing.T, ready func(context.Context) error) *httptest.Server {
	t.Helper()
	h, err := New(Info{TenantID: tenantID, TenantDomain: "contoso.tessera.local", ClientID: "portal-client-id",
		Ready: ready, BaseURL: func(*http.Request) string { return "https://id.example.test" }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, s *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestLandingPage: the landing page names the tenant, links the console,
// the discovery document and the docs, reports health, and runs no script.
func TestLandingPage(t *testing.T) {
	s := newServer(t, nil)
	resp, body := get(t, s, "/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<strong id="status">ready</strong>`,
		`<code id="tenant-id">` + tenantID + `</code>`,
		`<code id="tenant-domain">contoso.tessera.local</code>`,
		`href="/portal/"`,
		`href="https://id.example.test/` + tenantID + `/v2.0/.well-known/openid-configuration"`,
		`tessera env --url https://id.example.test`,
		`quickstart.md`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the landing page lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(body), "<script") {
		t.Error("the landing page has a <script>")
	}

	// Not ready: the status says why.
	s = newServer(t, func(context.Context) error { return errors.New("the store is unreachable") })
	if _, body = get(t, s, "/"); !strings.Contains(body, `<strong id="status">the store is unreachable</strong>`) || !strings.Contains(body, `class="status bad"`) {
		t.Errorf("an unready server's landing page: %s", body)
	}
}

// TestSecurityHeaders: the landing page, the console and its files carry
// the CSP (scripts from this origin only, no framing), Referrer-Policy and
// the caching rules; /portal redirects to /portal/.
func TestSecurityHeaders(t *testing.T) {
	s := newServer(t, nil)
	for _, tc := range []struct{ path, cache, ctype string }{
		{"/", "no-store", "text/html"},
		{"/portal/", "no-store", "text/html"},
		{"/portal/app.js", "no-cache", "text/javascript"},
		{"/portal/pages/keys.js", "no-cache", "text/javascript"},
		{"/portal/config.json", "no-store", "application/json"},
	} {
		resp, _ := get(t, s, tc.path)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", tc.path, resp.StatusCode)
			continue
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", tc.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q allows inline or eval", tc.path, csp)
		}
		if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", tc.path, got)
		}
		if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s: X-Frame-Options %q", tc.path, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", tc.path, got)
		}
		if got := resp.Header.Get("Cache-Control"); got != tc.cache {
			t.Errorf("%s: Cache-Control %q, want %q", tc.path, got, tc.cache)
		}
		if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tc.ctype) {
			t.Errorf("%s: Content-Type %q, want %s", tc.path, got, tc.ctype)
		}
	}

	resp, _ := get(t, s, "/portal")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/portal/" {
		t.Errorf("/portal: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("/portal's redirect has no CSP")
	}

	// A file is revalidated by its ETag.
	resp, _ = get(t, s, "/portal/app.js")
	req, _ := http.NewRequest("GET", s.URL+"/portal/app.js", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if resp.Header.Get("ETag") == "" || r2.StatusCode != http.StatusNotModified {
		t.Errorf("ETag %q revalidation: %d", resp.Header.Get("ETag"), r2.StatusCode)
	}
	if resp, _ := get(t, s, "/portal/missing.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/portal/missing.js: %d", resp.StatusCode)
	}
}

// TestConfig: config.json holds what the console needs to sign in and
// nothing else.
func TestConfig(t *testing.T) {
	s := newServer(t, nil)
	_, body := get(t, s, "/portal/config.json")
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"tenantId": tenantID, "tenantDomain": "contoso.tessera.local", "clientId": "portal-client-id"}
	if len(got) != len(want) {
		t.Fatalf("config.json %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("config.json %s = %v, want %v", k, got[k], v)
		}
	}
}

// TestPortalFilesHaveNoInlineScript: index.html loads its script from a
// file and carries no inline script or style attribute, which the CSP would
// refuse.
func TestPortalFilesHaveNoInlineScript(t *testing.T) {
	s := newServer(t, nil)
	_, body := get(t, s, "/portal/")
	if !strings.Contains(body, `<script type="module" src="/portal/app.js"></script>`) {
		t.Error("index.html does not load app.js")
	}
	if strings.Count(body, "<script") != 1 || strings.Contains(body, " style=") || strings.Contains(body, " onclick=") {
		t.Errorf("index.html has inline script or style: %s", body)
	}
}

// TestCACertificate: with a local CA, /ca.pem serves its certificate and
// the landing page shows its fingerprint and the --ca-file command; without
// one (an operator's certificate), neither.
func TestCACertificate(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Tessera local CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	h, err := New(Info{TenantID: tenantID, BaseURL: func(*http.Request) string { return "https://id.example.test" }, CACertPEM: caPEM})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	s := httptest.NewServer(mux)
	defer s.Close()
	resp, body := get(t, s, "/ca.pem")
	if resp.StatusCode != 200 || body != string(caPEM) {
		t.Fatalf("GET /ca.pem: %d %q", resp.StatusCode, body)
	}
	sum := sha256.Sum256(der)
	fp := strings.ToUpper(hex.EncodeToString(sum[:2])) // the first two bytes, as "AB:CD"
	_, landing := get(t, s, "/")
	if !strings.Contains(landing, `id="ca-fingerprint">`+fp[:2]+":"+fp[2:]) || !strings.Contains(landing, "--ca-file tessera-ca.pem") {
		t.Errorf("the landing page lacks the CA's fingerprint %s… or the --ca-file command", fp)
	}
	if resp, _ := get(t, newServer(t, nil), "/ca.pem"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /ca.pem without a local CA: %d", resp.StatusCode)
	}
}
