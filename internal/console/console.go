// Package console serves what a person opens in a browser besides the
// sign-in pages: the landing page at / and the console at /portal/.
//
// The console is a client like any other. Its files are static (embedded
// in the binary, no build step): a single-page application that signs the
// person in through this server's authorization endpoint as the "Tessera
// Portal" public client (code + PKCE, SPA redirect URI) and then calls Graph
// and the resource manager with that person's bearer tokens. Nothing here
// reads the store or decides anything: what the console shows and may
// change is what the person's directory roles and role assignments allow.
package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/wire"
)

//go:embed portal
var portalFiles embed.FS

//go:embed landing.html
var landingTemplate string

// Path is where the console is served; its SPA redirect URI is the origin
// followed by Path.
const Path = directory.PortalPath

// Info is what the landing page and the console's configuration say about
// this server.
type Info struct {
	TenantID     string
	TenantDomain string
	// ClientID is the console's public client (directory.AppIDTesseraPortal).
	ClientID string
	// Ready reports whether the server can serve requests (nil when ready).
	Ready func(context.Context) error
	// BaseURL is the server's base URL as a request addressed it (one of
	// its own names, never an arbitrary Host header).
	BaseURL func(*http.Request) string
	// CACertPEM is the local CA's certificate, which clients must trust; nil
	// when the operator serves a certificate of their own.
	CACertPEM []byte
}

// Handler serves the landing page and the console's files.
type Handler struct {
	info          Info
	caFingerprint string
	landing       *template.Template
	files         map[string]file
}

type file struct {
	body        []byte
	contentType string
	etag        string
}

// New reads the embedded files once.
func New(info Info) (*Handler, error) {
	h := &Handler{info: info, files: map[string]file{}}
	if block, _ := pem.Decode(info.CACertPEM); block != nil {
		sum := sha256.Sum256(block.Bytes)
		hexes := make([]string, len(sum))
		for i, b := range sum {
			hexes[i] = fmt.Sprintf("%02X", b)
		}
		h.caFingerprint = strings.Join(hexes, ":")
	}
	var err error
	if h.landing, err = template.New("landing").Parse(landingTemplate); err != nil {
		return nil, err
	}
	err = fs.WalkDir(portalFiles, "portal", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := portalFiles.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.files[strings.TrimPrefix(name, "portal/")] = file{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return h, err
}

// Register mounts the landing page and the console.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.serveLanding)
	mux.HandleFunc("GET /portal", func(w http.ResponseWriter, r *http.Request) {
		secure(w.Header())
		http.Redirect(w, r, Path, http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET "+Path+"{$}", h.serveIndex)
	mux.HandleFunc("GET "+Path+"config.json", h.serveConfig)
	if len(h.info.CACertPEM) > 0 {
		mux.HandleFunc("GET /ca.pem", h.serveCA)
	}
	// One route per file: a pattern like /portal/{file...} would overlap
	// the token service's /{tenant}/... routes.
	for name := range h.files {
		if name != "index.html" {
			mux.HandleFunc("GET "+Path+name, h.serveFile(name))
		}
	}
}

// contentSecurityPolicy allows only this origin's scripts, styles and API
// calls: no inline script, no framing, nothing from elsewhere (the console
// works air-gapped).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func secure(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// The console's URL carries an authorization code right after sign-in.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

type landingPage struct {
	Info
	Origin       string
	DiscoveryURL string
	Status       string
	Healthy      bool
	// CAFingerprint is the SHA-256 fingerprint of the local CA, as openssl
	// prints it, for checking a downloaded copy; "" without a local CA.
	CAFingerprint string
}

func (h *Handler) serveLanding(w http.ResponseWriter, r *http.Request) {
	origin := h.info.BaseURL(r)
	p := landingPage{Info: h.info, Origin: origin,
		DiscoveryURL: origin + "/" + h.info.TenantID + "/v2.0/.well-known/openid-configuration",
		Status:       "ready", Healthy: true, CAFingerprint: h.caFingerprint}
	if h.info.Ready != nil {
		if err := h.info.Ready(r.Context()); err != nil {
			p.Status, p.Healthy = err.Error(), false
		}
	}
	var buf bytes.Buffer
	if err := h.landing.Execute(&buf, p); err != nil {
		wire.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "the landing page could not be rendered"})
		return
	}
	secure(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	f := h.files["index.html"]
	secure(w.Header())
	w.Header().Set("Content-Type", f.contentType)
	// The redirect back from sign-in carries the code in this URL.
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(f.body)
}

// serveCA serves the local CA's certificate: public, and what a client on
// another machine needs (`tessera env --ca-file`). The landing page shows
// its fingerprint to check the download against.
func (h *Handler) serveCA(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `attachment; filename="tessera-ca.pem"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(h.info.CACertPEM)
}

// consoleConfig is what the console needs to sign in; it holds nothing
// that the discovery documents do not already publish.
type consoleConfig struct {
	TenantID     string `json:"tenantId"`
	TenantDomain string `json:"tenantDomain"`
	ClientID     string `json:"clientId"`
}

func (h *Handler) serveConfig(w http.ResponseWriter, r *http.Request) {
	secure(w.Header())
	w.Header().Set("Cache-Control", "no-cache")
	wire.WriteJSON(w, http.StatusOK, consoleConfig{TenantID: h.info.TenantID, TenantDomain: h.info.TenantDomain, ClientID: h.info.ClientID})
}

func (h *Handler) serveFile(name string) http.HandlerFunc {
	f := h.files[name]
	return func(w http.ResponseWriter, r *http.Request) {
		secure(w.Header())
		w.Header().Set("Content-Type", f.contentType)
		w.Header().Set("ETag", f.etag)
		// Revalidated on every load, so a new binary's files are used at once.
		w.Header().Set("Cache-Control", "no-cache")
		if r.Header.Get("If-None-Match") == f.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(f.body)
	}
}
