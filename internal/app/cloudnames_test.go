package app

import (
	"net/http/httptest"
	"testing"
)

func TestRequestHost(t *testing.T) {
	for in, want := range map[string]string{
		"login.microsoftonline.com": "login.microsoftonline.com", "Management.Azure.com:443": "management.azure.com",
		"graph.microsoft.com.": "graph.microsoft.com", "localhost:8443": "localhost", "[::1]:443": "::1",
	} {
		if got := requestHost(in); got != want {
			t.Errorf("requestHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestGraphAtRoot: graph.microsoft.com's /v1.0 is Tessera's /graph/v1.0;
// /graph stays; anything else is not Graph's.
func TestGraphAtRoot(t *testing.T) {
	for _, tc := range []struct {
		path, want string
		ok         bool
	}{
		{"/v1.0/users", "/graph/v1.0/users", true},
		{"/V1.0/users/x%2Fy", "/graph/v1.0/users/x/y", true},
		{"/v1.0", "/graph/v1.0", true},
		{"/v1.0/", "/graph/v1.0/", true},
		{"/graph/v1.0/users", "/graph/v1.0/users", true},
		{"/beta/users", "", false},
		{"/", "", false},
	} {
		r, ok := graphAtRoot(httptest.NewRequest("GET", "https://graph.microsoft.com"+tc.path, nil))
		if ok != tc.ok || ok && r.URL.Path != tc.want {
			t.Errorf("%s: %q %v, want %q %v", tc.path, r.URL.Path, ok, tc.want, tc.ok)
		}
		if tc.path == "/V1.0/users/x%2Fy" && r.URL.EscapedPath() != "/graph/v1.0/users/x%2Fy" {
			t.Errorf("escaped path %q", r.URL.EscapedPath())
		}
	}
}
