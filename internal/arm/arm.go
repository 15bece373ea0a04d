package arm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/rbac"
	"github.com/tessera-id/tessera/internal/resources"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/wire"
)

// Verifier checks access tokens.
type Verifier interface {
	VerifyAccessToken(raw string, now time.Time) (*token.AccessClaims, error)
}

// Auditor records changes.
type Auditor interface {
	Record(ctx context.Context, ev domain.AuditEvent) error
}

// Handler is the Resource Manager edge: every request is authenticated by
// bearer token, mapped to an operation name, authorized by RBAC, and served
// by the resources service.
type Handler struct {
	verify Verifier
	rbac   *rbac.Service
	res    *resources.Service
	base   *httpx.BaseURLs
	audit  Auditor
	log    *slog.Logger
	now    func() time.Time
	// cors: any origin may call the resource manager with a bearer token
	// (a single-page application such as the portal does).
	cors httpx.CORS
}

// Options configure a Handler.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
}

// New returns the ARM handler.
func New(verify Verifier, authz *rbac.Service, res *resources.Service, base *httpx.BaseURLs, audit Auditor, opts Options) *Handler {
	h := &Handler{verify: verify, rbac: authz, res: res, base: base, audit: audit, log: opts.Logger, now: opts.Now, cors: httpx.APICORS()}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// Owns reports whether a path belongs to the resource manager: once
// resolved as ARM resolves it, its first segment is subscriptions, tenants
// or providers, in any case (ARM paths are case-insensitive, which ServeMux
// patterns are not). "//subscriptions/..." is ARM's too: ARM reads empty
// segments as absent.
func Owns(path string) bool {
	first, _, _ := strings.Cut(strings.TrimPrefix(resolvePath(path), "/"), "/")
	switch strings.ToLower(first) {
	case "subscriptions", "tenants", "providers":
		return true
	}
	return false
}

// ServeHTTP serves an ARM request. The route label for metrics is the
// operation family, never the raw path.
// The request continues with its path resolved (resolvePath), so every
// handler, error message and nextLink sees the path that was authorized.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Pattern = "ARM " + r.Method
	// A preflight has no token: it is answered before authentication.
	if h.cors.Handle(w, r) {
		return
	}
	if p := resolvePath(r.URL.Path); p != r.URL.Path || r.URL.RawPath != "" {
		u := *r.URL
		u.Path, u.RawPath = p, ""
		if p == "" {
			u.Path = "/"
		}
		r2 := *r
		r2.URL = &u
		r = &r2
	}
	h.authed(h.route).ServeHTTP(w, r)
}

// caller is the authenticated principal of an ARM request.
type caller struct {
	TenantID string
	ObjectID string
	AppID    string
	// Name is what AuthorizationFailed messages call the client: the UPN for
	// users, the app id for applications.
	Name string
	Type string // User | ServicePrincipal
}

var armAudiences = map[string]bool{
	"https://management.azure.com":        true,
	"https://management.core.windows.net": true,
	directory.AppIDResourceManager:        true,
}

func (h *Handler) authed(next func(w http.ResponseWriter, r *http.Request, c caller)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := cutBearer(r.Header.Get("Authorization"))
		if !ok {
			h.unauthorized(w, r, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
			return
		}
		claims, err := h.verify.VerifyAccessToken(raw, h.now())
		switch {
		case errors.Is(err, token.ErrTokenExpired):
			h.unauthorized(w, r, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time.")
			return
		case err != nil:
			h.unauthorized(w, r, "InvalidAuthenticationToken", "The access token is invalid.")
			return
		}
		if !armAudiences[directory.NormalizeResource(claims.Aud)] {
			h.unauthorized(w, r, "InvalidAuthenticationTokenAudience",
				fmt.Sprintf("The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.", claims.Aud))
			return
		}
		c := caller{TenantID: claims.Tid, ObjectID: claims.Oid, AppID: claims.ClientAppID(), Type: domain.PrincipalServicePrincipal, Name: claims.ClientAppID()}
		if claims.Idtyp == token.IdentityTypeUser {
			c.Type, c.Name = domain.PrincipalUser, claims.Upn
		}
		next(w, r, c)
	})
}

func cutBearer(h string) (string, bool) {
	if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return "", false
	}
	t := strings.TrimSpace(h[7:])
	return t, t != ""
}

// publicCloudNames are the public cloud's resource manager names, which
// Tessera answers for with --public-cloud-names.
var publicCloudNames = map[string]bool{"management.azure.com": true, "management.core.windows.net": true}

func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request, code, msg string) {
	authority := h.base.For(r) + "/adfs"
	if publicCloudNames[strings.TrimPrefix(h.base.For(r), "https://")] {
		// The public cloud's names (--public-cloud-names) send clients to
		// the public cloud's login name, as Azure's resource manager does.
		authority = "https://login.microsoftonline.com/common"
	}
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="%s", error="invalid_token", error_description="%s"`, authority, msg))
	wire.WriteARMError(w, http.StatusUnauthorized, code, msg)
}

// fail answers a refusal in ARM's error envelope, through wire's table;
// anything else is Tessera's fault, logged and answered with a 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	fe, _ := fault.As(err)
	if status, code, msg, ok := wire.ARMRefusal(fe); ok {
		wire.WriteARMError(w, status, code, msg)
		return
	}
	h.log.ErrorContext(r.Context(), "arm request failed", "err", err, "request_id", httpx.RequestID(r.Context()))
	wire.WriteARMError(w, http.StatusInternalServerError, wire.ARMInternalCode, wire.ARMInternalMessage)
}

// authorize checks the caller may perform action at scope, writing Azure's
// 403 when not.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, c caller, action, scope string) bool {
	d := h.rbac.Decide(c.ObjectID, action, scope, false)
	if d.Allowed {
		return true
	}
	wire.WriteARMError(w, http.StatusForbidden, "AuthorizationFailed", fmt.Sprintf(
		"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		c.Name, c.ObjectID, action, scope))
	return false
}

// recordChange audits a write.
func (h *Handler) recordChange(r *http.Request, c caller, action, target string, err error) {
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
