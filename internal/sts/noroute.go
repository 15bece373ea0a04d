package sts

import (
	"net/http"
	"strings"

	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/wire"
)

// NoRoute answers a path no token service route serves, in Entra's error
// shape: clients of this surface parse AADSTS bodies, not plain text.
func (h *Handler) NoRoute(w http.ResponseWriter, r *http.Request, methodNotAllowed bool) {
	status, desc := http.StatusNotFound, "The request path '"+printable(r.URL.Path)+"' is not a token service endpoint."
	if methodNotAllowed {
		status, desc = http.StatusMethodNotAllowed, "The endpoint '"+printable(r.URL.Path)+"' does not accept "+printable(r.Method)+" requests."
	}
	body := wire.NewOAuthError(token.ErrInvalidRequest, 90100, desc, httpx.RequestID(r.Context()),
		httpx.CorrelationID(r.Context()), h.base.For(r), h.now())
	wire.WriteOAuthError(w, status, body)
}

// BadPath refuses a path with a "." or ".." segment, which a client
// resolves before sending: answering for the resolved path instead would
// serve a tenant the client did not name.
func (h *Handler) BadPath(w http.ResponseWriter, r *http.Request) {
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	var err error
	switch first {
	case ".", "..":
		err = token.Errorf(token.ErrInvalidRequest, 900023,
			"Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.", printable(first))
	default:
		err = token.Errorf(token.ErrInvalidRequest, 90100,
			"The request path '%s' has a '.' or '..' segment; send the resolved path.", printable(r.URL.Path))
	}
	h.writeError(w, r, err)
}

// printable keeps an echoed value short and free of control characters.
func printable(s string) string {
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
