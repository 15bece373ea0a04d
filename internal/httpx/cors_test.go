package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCORSPreflight(t *testing.T) {
	c := CORS{Methods: []string{"POST"}, Headers: []string{"Content-Type", "Authorization"}, HeaderPrefixes: []string{"x-ms-"}}
	for _, tc := range []struct {
		name, origin, headers string
		allowed               bool
		wantACAO, wantHeaders string
	}{
		{"allowed", "https://a.test", "authorization, X-MS-Client-Request-Id, x-other", true, "https://a.test", "authorization, x-ms-client-request-id"},
		{"no requested headers", "https://a.test", "", true, "https://a.test", "Content-Type, Authorization"},
		{"refused", "https://b.test", "authorization", false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodOptions, "/x", nil)
			r.Header.Set("Origin", tc.origin)
			r.Header.Set("Access-Control-Request-Method", "POST")
			if tc.headers != "" {
				r.Header.Set("Access-Control-Request-Headers", tc.headers)
			}
			if !IsPreflight(r) {
				t.Fatal("not a preflight")
			}
			w := httptest.NewRecorder()
			c.Preflight(w, r, tc.allowed)
			h := w.Result().Header
			if w.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != tc.wantACAO ||
				h.Get("Access-Control-Allow-Headers") != tc.wantHeaders || h.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatalf("%d %v", w.Code, h)
			}
		})
	}
}

func TestCORSAnyOriginAndWrap(t *testing.T) {
	served := false
	h := CORS{AnyOrigin: true}.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served = true }))
	r := httptest.NewRequest(http.MethodGet, "/doc", nil)
	r.Header.Set("Origin", "https://anyone.test")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if !served || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("served=%v %v", served, w.Header())
	}
	// Without an Origin nothing is added: not a browser's cross-origin call.
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/doc", nil))
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("%v", w.Header())
	}
}
