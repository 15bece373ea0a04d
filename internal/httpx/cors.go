package httpx

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CORS is the mechanics of cross-origin resource sharing (the Fetch
// standard's CORS protocol) for one surface. Which origins may read a
// surface's answers is the surface's decision: it passes it in, per
// request, as allowed. Credentials (cookies) are never allowed: every
// cross-origin caller Tessera serves authenticates with a bearer token or
// a form body.
type CORS struct {
	// AnyOrigin answers "Access-Control-Allow-Origin: *" rather than
	// echoing the origin (public documents).
	AnyOrigin bool
	// Methods and Headers are what a preflight allows; a requested header
	// is allowed too when its name starts with one of HeaderPrefixes
	// ("x-ms-"), which the Allow-Headers syntax cannot express.
	Methods        []string
	Headers        []string
	HeaderPrefixes []string
	// Expose are the response headers a page's script may read.
	Expose []string
	// MaxAge is how long a browser may cache a preflight's answer.
	MaxAge time.Duration
}

// Origin is the request's Origin header ("" when there is none).
func Origin(r *http.Request) string { return r.Header.Get("Origin") }

// IsPreflight reports whether r is a CORS preflight: an OPTIONS request
// with an Origin and Access-Control-Request-Method.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// Allow adds the headers that let the page at r's origin read the response,
// when allowed; otherwise none, and the browser withholds the response
// from the page. The answer depends on the Origin, so caches are told.
func (c CORS) Allow(w http.ResponseWriter, r *http.Request, allowed bool) {
	origin := Origin(r)
	h := w.Header()
	if !c.AnyOrigin {
		h.Add("Vary", "Origin")
	}
	if origin == "" || !allowed {
		return
	}
	if c.AnyOrigin {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if len(c.Expose) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.Expose, ", "))
	}
}

// Preflight answers a preflight: 204, with the allowed methods and headers
// when allowed, and without any Access-Control-Allow-Origin otherwise.
func (c CORS) Preflight(w http.ResponseWriter, r *http.Request, allowed bool) {
	c.Allow(w, r, allowed)
	h := w.Header()
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	if allowed {
		if len(c.Methods) > 0 {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.Methods, ", "))
		}
		if hs := c.allowedHeaders(r.Header.Get("Access-Control-Request-Headers")); len(hs) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(hs, ", "))
		}
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge.Seconds())))
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// Handle applies c to a surface whose every origin is allowed: it answers a
// preflight itself (reporting true, the request is done), or adds the
// headers to the response that follows (reporting false). A preflight
// carries no credentials by design, so it must be answered before any
// authentication.
func (c CORS) Handle(w http.ResponseWriter, r *http.Request) bool {
	if IsPreflight(r) {
		c.Preflight(w, r, true)
		return true
	}
	c.Allow(w, r, true)
	return false
}

// Wrap serves next under c with every origin allowed (see Handle).
func (c CORS) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.Handle(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// allowedHeaders are the headers a preflight allows: the requested ones
// that c allows, or c's list when none were named.
func (c CORS) allowedHeaders(requested string) []string {
	if strings.TrimSpace(requested) == "" {
		return c.Headers
	}
	var out []string
	for _, name := range strings.Split(requested, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		ok := false
		for _, h := range c.Headers {
			ok = ok || strings.EqualFold(h, name)
		}
		for _, p := range c.HeaderPrefixes {
			ok = ok || strings.HasPrefix(name, strings.ToLower(p))
		}
		if ok {
			out = append(out, name)
		}
	}
	return out
}

// APICORS is the policy of a bearer-token API (Graph, the resource
// manager): any origin may call it, since a page can only act with a token
// a person signed in to get, and no cookie authenticates anything there.
func APICORS() CORS {
	return CORS{
		Methods: []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
		Headers: []string{"Authorization", "Content-Type", "Accept", "Accept-Language", "ConsistencyLevel", "If-Match",
			"If-None-Match", "Prefer", "client-request-id", "return-client-request-id"},
		HeaderPrefixes: []string{"x-ms-"},
		Expose: []string{"x-ms-request-id", "x-ms-correlation-request-id", "x-ms-client-request-id", "client-request-id",
			RevisionHeader, "Location", "ETag", "Retry-After", "Azure-AsyncOperation", "WWW-Authenticate"},
		MaxAge: time.Hour,
	}
}
