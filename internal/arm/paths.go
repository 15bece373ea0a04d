package arm

import (
	"strings"

	"github.com/tessera-id/tessera/internal/httpx"
)

// resolvePath is the path ARM routes, authorizes and stores by: the request
// path with its dot segments resolved as RFC 3986 §5.2.4 resolves them (as
// python-requests, and so az and azure-core, resolve them before sending),
// then without empty segments or a trailing slash. ARM reads an empty segment
// as absent: `az resource show -g rg -n ws --resource-type
// Microsoft.MachineLearningServices/workspaces` sends its empty
// parentResourcePath as .../providers/Microsoft.MachineLearningServices//workspaces/ws.
// Resolving before authorization means a ".." cannot reach a scope the
// caller may not write, and no stored id can hold a segment no client can
// address. The root is "".
func resolvePath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = httpx.RemoveDotSegments(p)
	if !strings.Contains(p, "//") {
		return strings.TrimRight(p, "/")
	}
	var b strings.Builder
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			b.WriteByte('/')
			b.WriteString(s)
		}
	}
	return b.String()
}

// splitPath returns the segments of a resolved path.
func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p[1:], "/")
}
