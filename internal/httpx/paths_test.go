package httpx

import (
	"strings"
	"testing"
)

func TestRemoveDotSegments(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/a/b/c", "/a/b/c"},
		{"/a/b/c/./../../g", "/a/g"}, // RFC 3986 §5.2.4's example
		{"/mid/content=5/../6", "/mid/6"},
		{"/a/../b", "/b"},
		{"/a//../b", "/a/b"},
		{"/../a", "/a"},
		{"/../../../", "/"},
		{"/a/.", "/a/"},
		{"/a/..", "/"},
		{"/.", "/"},
		{"/a/..b/c", "/a/..b/c"},
		{"/a/.../c", "/a/.../c"},
	} {
		if got := RemoveDotSegments(tc.in); got != tc.want {
			t.Errorf("RemoveDotSegments(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIsCleanPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/a/b": true, "/a/b/": true, "/a/..b": true,
		"": false, "a": false, "//a": false, "/a//b": false, "/a/./b": false, "/a/../b": false, "/..": false, "/a/.": false,
	} {
		if got := IsCleanPath(p); got != want {
			t.Errorf("IsCleanPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// FuzzRemoveDotSegments: the result is absolute, has no dot segments and
// does not change when resolved again.
func FuzzRemoveDotSegments(f *testing.F) {
	for _, s := range []string{"/a/../b", "/./..//.", "/a/b/c/./../../g", "/../../../", "/a/.", "//..//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		got := RemoveDotSegments(p)
		if !strings.HasPrefix(got, "/") || HasDotSegment(got) {
			t.Fatalf("RemoveDotSegments(%q) = %q", p, got)
		}
		if again := RemoveDotSegments(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", p, got, again)
		}
	})
}

func TestIsJSONMediaType(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, "Application/JSON": true, "text/json": true,
		"application/merge-patch+json": true, "application/json-patch+json": true,
		"": false, "text/plain": false, "application/x-www-form-urlencoded": false, "application/xml": false,
		"multipart/form-data; boundary=x": false, "application/jsonx": false, "json": false, "application/json; =": false,
	} {
		if got := IsJSONMediaType(ct); got != want {
			t.Errorf("IsJSONMediaType(%q) = %v, want %v", ct, got, want)
		}
	}
}
