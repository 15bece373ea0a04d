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
type root struct {
	arm   http.Handler
	mux   *http.ServeMux
	graph *graph.Handler
	sts   *sts.Handler
}

func (h *root) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
