// Package graph is Tessera's Microsoft Graph v1.0 edge (/graph/v1.0/...):
// bearer authentication for Graph audiences, directory-role authorization,
// JSON shapes and Graph's error envelope. Directory rules live in
// internal/directory.
package graph

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/wire"
)

// Prefix is where Graph is mounted.
const Prefix = "/graph/v1.0"

// Verifier checks access tokens.
type Verifier interface {
	VerifyAccessToken(raw string, now time.Time) (*token.AccessClaims, error)
}

// Store is what Graph reads directly; writes go through the directory service.
type Store interface {
	store.Apps
	store.Audit
}

// Auditor records directory changes.
type Auditor interface {
	Record(ctx context.Context, ev domain.AuditEvent) error
}

// Handler serves Graph.
type Handler struct {
	dir     *directory.Service
	store   Store
	verify  Verifier
	base    *httpx.BaseURLs
	audit   Auditor
	log     *slog.Logger
	now     func() time.Time
	changed func(tenantID string)
}

// Options configure a Handler.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// ResourcesChanged is called after a write that may add or change a
	// token audience, so the token service re-reads its resource index.
	ResourcesChanged func(tenantID string)
}

// New returns the Graph handler.
func New(dir *directory.Service, st Store, verify Verifier, base *httpx.BaseURLs, audit Auditor, opts Options) *Handler {
	h := &Handler{dir: dir, store: st, verify: verify, base: base, audit: audit, log: opts.Logger, now: opts.Now, changed: opts.ResourcesChanged}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.changed == nil {
		h.changed = func(string) {}
	}
	return h
}

// Register mounts the routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST "+Prefix+"/applications", h.authed(h.createApplication))
	mux.Handle("GET "+Prefix+"/applications/{id}", h.authed(h.getApplication))
	mux.Handle("PATCH "+Prefix+"/applications/{id}", h.authed(h.patchApplication))
	mux.Handle("POST "+Prefix+"/applications/{id}/addPassword", h.authed(h.addPassword))
	mux.Handle("POST "+Prefix+"/applications/{id}/federatedIdentityCredentials", h.authed(h.addFederatedCredential))
	mux.Handle("POST "+Prefix+"/servicePrincipals", h.authed(h.createServicePrincipal))
	mux.Handle("GET "+Prefix+"/servicePrincipals/{id}", h.authed(h.getServicePrincipal))
	mux.Handle("PATCH "+Prefix+"/servicePrincipals/{id}", h.authed(h.patchServicePrincipal))
	mux.Handle("POST "+Prefix+"/servicePrincipals/{id}/appRoleAssignments", h.authed(h.assignAppRole))
	mux.Handle("GET "+Prefix+"/auditLogs/signIns", h.authed(h.auditList(domain.AuditSignIn)))
	mux.Handle("GET "+Prefix+"/auditLogs/directoryAudits", h.authed(h.auditList(domain.AuditChange)))
	mux.Handle(Prefix+"/", http.HandlerFunc(h.notFound))
}

// caller is the authenticated principal of a Graph request.
type caller struct {
	TenantID string
	ObjectID string
	AppID    string
	Name     string
	User     bool
}

type authedHandler func(w http.ResponseWriter, r *http.Request, c caller)

// graphAudiences are the aud values a Graph token may carry, besides {base}/graph.
var graphAudiences = map[string]bool{
	"https://graph.microsoft.com": true,
	directory.AppIDGraph:          true,
}

func (h *Handler) authed(next authedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || raw == "" {
			h.unauthorized(w, r, "Access token is empty.")
			return
		}
		claims, err := h.verify.VerifyAccessToken(strings.TrimSpace(raw), h.now())
		if err != nil {
			msg := "Access token validation failure. Invalid audience."
			switch {
			case errors.Is(err, token.ErrTokenExpired):
				msg = "Lifetime validation failed, the token is expired."
			case errors.Is(err, token.ErrTokenSignature), errors.Is(err, token.ErrTokenMalformed):
				msg = "Access token validation failure. Invalid signature or malformed token."
			case errors.Is(err, token.ErrTokenIssuer):
				msg = "Access token validation failure. Invalid issuer."
			}
			h.unauthorized(w, r, msg)
			return
		}
		aud := directory.NormalizeResource(claims.Aud)
		if !graphAudiences[aud] && aud != directory.NormalizeResource(h.base.For(r)+"/graph") &&
			aud != directory.NormalizeResource(h.base.Public()+"/graph") {
			h.unauthorized(w, r, "Access token validation failure. Invalid audience.")
			return
		}
		c := caller{TenantID: claims.Tid, ObjectID: claims.Oid, AppID: claims.ClientAppID(), User: claims.Idtyp == token.IdentityTypeUser}
		c.Name = claims.Upn
		if c.Name == "" {
			c.Name = c.AppID
		}
		next(w, r, c)
	})
}

func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+h.base.For(r)+`/adfs/oauth2/authorize", client_id="`+directory.AppIDGraph+`"`)
	h.writeError(w, r, http.StatusUnauthorized, wire.GraphInvalidAuthToken, msg)
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	wire.WriteGraphError(w, status, code, msg, wire.GraphInnerError{
		Date:            h.now().UTC().Format("2006-01-02T15:04:05"),
		RequestID:       httpx.RequestID(r.Context()),
		ClientRequestID: httpx.CorrelationID(r.Context()),
	})
}

// fail maps a directory or store error to Graph's error shape.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var inv *directory.InvalidError
	switch {
	case errors.As(err, &inv):
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, inv.Message)
	case errors.Is(err, store.ErrNotFound):
		h.writeError(w, r, http.StatusNotFound, wire.GraphResourceNotFound,
			"Resource '"+r.PathValue("id")+"' does not exist or one of its queried reference-property objects are not present.")
	case errors.Is(err, store.ErrConflict):
		h.writeError(w, r, http.StatusBadRequest, wire.GraphMultipleObjectsExist,
			"Another object with the same value for a unique property already exists.")
	default:
		h.log.ErrorContext(r.Context(), "graph request failed", "route", r.Pattern, "err", err)
		h.writeError(w, r, http.StatusServiceUnavailable, wire.GraphServiceUnavailable, "The service is temporarily unavailable. Please retry.")
	}
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest,
		"Resource not found for the segment '"+lastSegment(r.URL.Path)+"'.")
}

func lastSegment(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// requireRole refuses the request unless the caller holds one of roles.
func (h *Handler) requireRole(w http.ResponseWriter, r *http.Request, c caller, roles ...string) bool {
	ok, err := h.dir.HasDirectoryRole(r.Context(), c.TenantID, c.ObjectID, roles...)
	if err != nil {
		h.fail(w, r, err)
		return false
	}
	if !ok {
		h.writeError(w, r, http.StatusForbidden, wire.GraphAuthorizationDenied, "Insufficient privileges to complete the operation.")
		return false
	}
	return true
}

// maxBody bounds Graph request bodies.
const maxBody = 1 << 20

// decode reads a JSON body into v, answering 400 on bad input.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		h.writeError(w, r, http.StatusRequestEntityTooLarge, wire.GraphBadRequest, "The request body is too large.")
		return false
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Invalid JSON in the request body: "+jsonErrorText(err))
		return false
	}
	return true
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error"
	case errors.As(err, &te):
		return "property '" + te.Field + "' has the wrong type"
	}
	return "cannot be read"
}

// recordChange writes an audit event for a directory change.
func (h *Handler) recordChange(r *http.Request, c caller, action, target string, err error) {
	if h.audit == nil {
		return
	}
	ev := domain.AuditEvent{
		ID: directory.NewID(), Time: h.now().UTC(), TenantID: c.TenantID, Kind: domain.AuditChange,
		ActorID: c.ObjectID, ActorName: c.Name, Action: action, Target: target, Result: "success",
		ClientIP: httpx.ClientIP(r), CorrelationID: httpx.CorrelationID(r.Context()),
	}
	if err != nil {
		ev.Result, ev.Reason = "failure", err.Error()
	}
	if aerr := h.audit.Record(r.Context(), ev); aerr != nil {
		h.log.ErrorContext(r.Context(), "record change", "err", aerr)
	}
}
