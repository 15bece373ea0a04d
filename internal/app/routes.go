package app

import (
	"net/http"
	"strings"

	"github.com/tessera-id/tessera/internal/arm"
	"github.com/tessera-id/tessera/internal/graph"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/sts"
)

// root routes a request to its surface: the resource manager owns its paths
// (case-insensitive, with dot and empty segments resolved as ARM resolves
// them); every other path goes to the ServeMux, but only once it is clean
// and some route serves it. ServeMux answers a path with a ".", ".." or
// empty segment, or "/x" where "/x/" is registered, with a redirect, and an
// unknown path with plain text; no Tessera surface does either, so those
// answers are the surfaces' own. Empty segments are read as absent, as ARM
// reads them: `az cloud register` asks for //metadata/endpoints. Dot
// segments are refused, since clients resolve them before sending.
// /adfs/{tenant}/.well-known/openid-configuration, where no route serves
// it, is routed here too (see sts.TenantUnderADFS): ServeMux cannot hold
// its pattern beside the others.
//
// With --public-cloud-names the request's host name picks the surface
// first (the table is publicCloudHosts in cloudnames.go):
//
//	login.microsoftonline.com, login.windows.net, sts.windows.net
//	    → the token service and its pages, as on Tessera's own names
//	management.azure.com, management.core.windows.net
//	    → the resource manager at the root path; /metadata/endpoints
//	      describes the public cloud (arm.NewPublicCloudMetadata)
//	graph.microsoft.com
//	    → Graph: /v1.0/... is served as /graph/v1.0/...
//
// Any other name (localhost, the public URL's) reaches every surface.
type root struct {
	arm   *arm.Handler
	mux   *http.ServeMux
	graph *graph.Handler
	sts   *sts.Handler
	// hosts is the surface of each public cloud host name (nil unless
	// --public-cloud-names).
	hosts map[string]surface
	// cloudMetadata answers /metadata/endpoints on the public cloud's
	// resource manager names.
	cloudMetadata http.Handler
}

func (h *root) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch h.hosts[requestHost(r.Host)] {
	case surfaceARM:
		h.serveARMHost(w, r)
		return
	case surfaceGraph:
		var ok bool
		if r, ok = graphAtRoot(r); !ok {
			h.graph.NoRoute(w, r)
			return
		}
	case surfaceLogin:
		if arm.Owns(r.URL.Path) || isGraphPath(r.URL.Path) {
			h.sts.NoRoute(w, r, false)
			return
		}
	}
	if arm.Owns(r.URL.Path) {
		h.arm.ServeHTTP(w, r)
		return
	}
	isGraph := isGraphPath(r.URL.Path)
	if httpx.HasDotSegment(r.URL.Path) {
		if isGraph {
			h.graph.BadPath(w, r)
		} else {
			h.sts.BadPath(w, r)
		}
		return
	}
	if strings.Contains(r.URL.Path, "//") {
		u := *r.URL
		u.Path, u.RawPath = collapseSlashes(u.Path), collapseSlashes(u.RawPath)
		r2 := *r
		r2.URL = &u
		r = &r2
	}
	if _, pattern := h.mux.Handler(r); pattern == "" || isRedirect(pattern, r.URL.EscapedPath()) {
		tenant, underADFS := sts.TenantUnderADFS(r.URL.Path)
		switch {
		case underADFS && pattern == "":
			h.sts.ServeTenantUnderADFS(w, r, tenant)
		case isGraph:
			h.graph.NoRoute(w, r)
		default:
			h.sts.NoRoute(w, r, pattern == "" && h.otherMethodServes(r))
		}
		return
	}
	h.mux.ServeHTTP(w, r)
}

// serveARMHost serves a request to the public cloud's resource manager
// name: only the resource manager and its cloud metadata live there.
func (h *root) serveARMHost(w http.ResponseWriter, r *http.Request) {
	switch {
	case arm.Owns(r.URL.Path):
		h.arm.ServeHTTP(w, r)
	case strings.EqualFold(strings.TrimRight(collapseSlashes(r.URL.Path), "/"), "/metadata/endpoints"):
		h.cloudMetadata.ServeHTTP(w, r)
	default:
		h.arm.NoRoute(w, r)
	}
}

// graphAtRoot maps a request to graph.microsoft.com onto Tessera's Graph
// paths: /v1.0/... is /graph/v1.0/...; /graph/... stays (the links Graph
// writes name it). Any other path, /beta/... included, is not served.
func graphAtRoot(r *http.Request) (*http.Request, bool) {
	first, _, _ := strings.Cut(strings.TrimLeft(r.URL.Path, "/"), "/")
	switch {
	case strings.EqualFold(first, "graph"):
		return r, true
	case !strings.EqualFold(first, "v1.0"):
		return r, false
	}
	u := *r.URL
	u.Path = graphVersionPath(u.Path)
	if u.RawPath != "" {
		u.RawPath = graphVersionPath(u.RawPath)
	}
	r2 := *r
	r2.URL = &u
	return &r2, true
}

// graphVersionPath is p, whose first segment is "v1.0" in any case, under
// Graph's prefix.
func graphVersionPath(p string) string {
	rest := strings.TrimLeft(p, "/")
	_, rest, _ = strings.Cut(rest, "/")
	if rest == "" && !strings.HasSuffix(p, "/") {
		return graph.Prefix
	}
	return graph.Prefix + "/" + rest
}

// collapseSlashes drops a path's empty segments, keeping a trailing slash.
func collapseSlashes(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

// isGraphPath: /graph and below is Graph's.
func isGraphPath(p string) bool {
	first, _, _ := strings.Cut(strings.TrimLeft(p, "/"), "/")
	return strings.EqualFold(first, "graph")
}

// isRedirect recognises the pattern ServeMux.Handler reports for its
// trailing-slash redirect: a subtree pattern ("/x/") one segment deeper
// than a path without the slash ("/x"); a pattern that matches the path
// itself is never deeper than the path.
func isRedirect(pattern, path string) bool {
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		pattern = pattern[i:]
	}
	return strings.HasSuffix(pattern, "/") && !strings.HasSuffix(path, "/") &&
		strings.Count(pattern, "/") == strings.Count(path, "/")+1
}

// otherMethodServes reports whether the path has a route for another method
// (a 405 rather than a 404).
func (h *root) otherMethodServes(r *http.Request) bool {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "" && !isRedirect(pattern, r.URL.EscapedPath()) {
			return true
		}
	}
	return false
}
