package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/token/signing"
	"github.com/tessera-id/tessera/internal/wire"
)

// The token-signing keys, a Tessera extension in Graph's shapes (Entra has
// no API for its own keys; the name's "tessera." prefix marks it as not
// Graph's):
//
//	GET  /graph/v1.0/tessera.signingKeys         the published keys
//	POST /graph/v1.0/tessera.signingKeys/rotate  next becomes current, a new next is made
//
// A key is {id, kid, x5t, status (next|current|previous), createdDateTime,
// activatedDateTime (when it began signing), retiredDateTime (when it
// stopped), retireAfterDateTime (a previous key's end of retention: the
// first rotation after it removes the key from the JWKS)}.
//
// Both are for Global Administrators (directory.OpManageSigningKeys). A
// rotation is the one `tessera keys rotate` performs (signing.Keys.Rotate);
// the change feed carries it to every replica, and it is recorded in the
// audit log.

// SigningKeys is what the handlers need of the key manager.
type SigningKeys interface {
	Keys(ctx context.Context) ([]signing.KeyInfo, error)
	Rotate(ctx context.Context) error
}

// SigningKeyRoutes serves the routes above.
type SigningKeyRoutes struct {
	h    *Handler
	keys SigningKeys
}

// NewSigningKeys returns the signing-key routes of h.
func NewSigningKeys(h *Handler, keys SigningKeys) *SigningKeyRoutes {
	return &SigningKeyRoutes{h: h, keys: keys}
}

// Register mounts the routes on mux (more specific than Graph's prefix).
func (s *SigningKeyRoutes) Register(mux *http.ServeMux) {
	mux.Handle("GET "+Prefix+"/tessera.signingKeys", s.h.authed(s.list))
	mux.Handle("POST "+Prefix+"/tessera.signingKeys/rotate", s.h.authed(s.rotate))
}

func keyJSON(k signing.KeyInfo) map[string]any {
	opt := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return graphTime(t)
	}
	return map[string]any{"id": k.ID, "kid": k.ID, "x5t": k.X5t, "status": k.State,
		"createdDateTime": graphTime(k.CreatedAt), "activatedDateTime": opt(k.ActivatedAt),
		"retiredDateTime": opt(k.RetiredAt), "retireAfterDateTime": opt(k.RetireAfter)}
}

func (s *SigningKeyRoutes) write(w http.ResponseWriter, r *http.Request) {
	keys, err := s.keys.Keys(r.Context())
	if err != nil {
		s.h.fail(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyJSON(k))
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": s.h.metadata(r) + "tessera.signingKeys", "value": out})
}

func (s *SigningKeyRoutes) list(w http.ResponseWriter, r *http.Request, c caller) {
	if s.h.authorize(w, r, c, directory.OpManageSigningKeys, "", "signingKey.read") {
		s.write(w, r)
	}
}

// rotate answers with the keys after the rotation.
func (s *SigningKeyRoutes) rotate(w http.ResponseWriter, r *http.Request, c caller) {
	if !s.h.authorize(w, r, c, directory.OpManageSigningKeys, "", "signingKey.rotate") {
		return
	}
	err := s.keys.Rotate(r.Context())
	current := ""
	if err == nil {
		if keys, kerr := s.keys.Keys(r.Context()); kerr == nil {
			for _, k := range keys {
				if k.State == "current" {
					current = k.ID
				}
			}
		}
	}
	s.h.recordChange(r, c, "signingKey.rotate", current, err, "kid", current)
	if err != nil {
		s.h.fail(w, r, err)
		return
	}
	s.write(w, r)
}
