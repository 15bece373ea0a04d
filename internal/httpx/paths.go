package httpx

import (
	"mime"
	"strings"
)

// RemoveDotSegments resolves "." and ".." in an absolute path as RFC 3986
// §5.2.4 does, keeping empty segments: "/a//../b" is "/a/b", as a client
// that resolves the path before sending it (python-requests, browsers)
// would send it. ".." above the root stays at the root.
func RemoveDotSegments(p string) string {
	if !HasDotSegment(p) {
		return p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	last := len(segs) - 1
	for i, s := range segs[1:] {
		switch s {
		case ".":
			if i+1 == last {
				out = append(out, "") // a final "." leaves the directory: "/a/." is "/a/"
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if i+1 == last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// HasDotSegment reports whether a path has a "." or ".." segment.
func HasDotSegment(p string) bool {
	for len(p) > 0 {
		seg := p
		if i := strings.IndexByte(p, '/'); i >= 0 {
			seg, p = p[:i], p[i+1:]
		} else {
			p = ""
		}
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// IsCleanPath reports whether an absolute path has neither dot segments
// nor empty ones (a trailing slash aside): the paths Go's ServeMux routes
// without first answering with a redirect to a cleaned path, which no
// Tessera surface sends.
func IsCleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	return !HasDotSegment(p) && !strings.Contains(p, "//")
}

// IsJSONMediaType reports whether a Content-Type names JSON:
// application/json or text/json, or a +json type such as
// application/merge-patch+json, with any parameters (the SDKs send
// "application/json; charset=utf-8").
func IsJSONMediaType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}
