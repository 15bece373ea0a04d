// Package sts is the token service's HTTP edge: OpenID discovery, JWKS,
// instance and user-realm discovery, and the v1 and v2 token endpoints, for
// tenants addressed by GUID, verified domain, "common"/"organizations"/
// "consumers", or the ADFS-style alias "adfs".
//
//	POST /{tenant}/oauth2/v2.0/token
//	  └─ parse the form once into a token.Request (tenant resolved here)
//	     └─ token.Service.Exchange: the grant registered for grant_type
//	        authenticates the client, resolves the resource, mints and signs
//	  └─ write the v1 or v2 response, or the AADSTS error body
package sts

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/wire"
)

// Tenants is the directory's tenant resolver in the token service's words:
// an unknown tenant is AADSTS90002.
type Tenants struct{ dir *directory.Tenants }

// NewTenants wraps the directory's resolver.
func NewTenants(dir *directory.Tenants) Tenants { return Tenants{dir: dir} }

// Resolve implements TenantResolver.
func (t Tenants) Resolve(ctx context.Context, segment string) (domain.Tenant, error) {
	tenant, err := t.dir.Resolve(ctx, segment)
	if fault.KindOf(err) == fault.NotFound {
		return domain.Tenant{}, token.Errorf(token.ErrInvalidRequest, 90002,
			"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
			printable(segment))
	}
	return tenant, err
}

// TenantResolver finds the tenant a path segment names.
type TenantResolver interface {
	Resolve(ctx context.Context, segment string) (domain.Tenant, error)
}

// TokenObserver is told the outcome of each token request (for metrics).
type TokenObserver func(grantType, result string)

// Handler serves the token service routes.
type Handler struct {
	tokens  *token.Service
	tenants TenantResolver
	base    *httpx.BaseURLs
	log     *slog.Logger
	observe TokenObserver
	now     func() time.Time
	// documents is the CORS policy of the public documents (discovery,
	// keys): any page may read them, as msal-browser does cross-origin.
	documents httpx.CORS
	// tokenCORS is the token endpoint's: a page may read its answers only
	// from an origin registered as a single-page application's (the
	// token service decides which, see token.Service.SPAOriginAllowed).
	tokenCORS httpx.CORS
}

// Options configure a Handler.
type Options struct {
	Logger  *slog.Logger
	Observe TokenObserver
	Now     func() time.Time
}

// New returns the token service handler.
func New(tokens *token.Service, tenants TenantResolver, base *httpx.BaseURLs, opts Options) *Handler {
	h := &Handler{tokens: tokens, tenants: tenants, base: base, log: opts.Logger, observe: opts.Observe, now: opts.Now,
		documents: httpx.CORS{AnyOrigin: true, Methods: []string{"GET", "HEAD", "OPTIONS"},
			Headers: []string{"Accept", "Content-Type", "client-request-id", "return-client-request-id"}, HeaderPrefixes: []string{"x-client-", "x-ms-", "x-app-"},
			Expose: []string{"x-ms-request-id", "client-request-id"}, MaxAge: 24 * time.Hour},
		tokenCORS: httpx.CORS{Methods: []string{"POST", "OPTIONS"},
			Headers: []string{"Accept", "Content-Type", "client-request-id", "return-client-request-id", "X-AnchorMailbox"}, HeaderPrefixes: []string{"x-client-", "x-ms-", "x-app-"},
			Expose: []string{"x-ms-request-id", "client-request-id", "x-ms-clitelem"}, MaxAge: time.Hour},
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// Register mounts the routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, d := range []struct {
		path string
		fn   http.HandlerFunc
	}{
		{"/{tenant}/v2.0/.well-known/openid-configuration", h.discoveryV2},
		{"/{tenant}/.well-known/openid-configuration", h.discoveryV1},
		{"/{tenant}/discovery/v2.0/keys", h.jwks},
		{"/{tenant}/discovery/keys", h.jwks},
		{"/common/discovery/instance", h.instanceDiscovery},
		{"/{tenant}/discovery/instance", h.instanceDiscovery},
	} {
		mux.Handle("GET "+d.path, h.documents.Wrap(d.fn))
		mux.Handle("OPTIONS "+d.path, h.documents.Wrap(d.fn))
	}
	mux.HandleFunc("GET /common/userrealm/{upn}", h.userRealm)
	mux.HandleFunc("GET /common/UserRealm/{upn}", h.userRealm)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", h.tokenV2)
	mux.HandleFunc("POST /{tenant}/oauth2/token", h.tokenV1)
	mux.HandleFunc("OPTIONS /{tenant}/oauth2/v2.0/token", h.tokenPreflight)
	mux.HandleFunc("OPTIONS /{tenant}/oauth2/token", h.tokenPreflight)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/token", h.tokenWrongMethod)
	mux.HandleFunc("/{tenant}/oauth2/token", h.tokenWrongMethod)
}

// writeError writes err as Entra's error body.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	te := oauthRefusal(err)
	switch {
	case te.RetryAfter > 0:
		// Throttling is the server working as meant, and the caller was told.
		w.Header().Set("Retry-After", strconv.Itoa(signin.RetryAfterSeconds(te.RetryAfter)))
		h.log.DebugContext(r.Context(), "token request throttled", "aadsts", te.Number, "request_id", httpx.RequestID(r.Context()))
	case te.Code == token.ErrServerError || te.Code == token.ErrTemporarilyUnavailable:
		h.log.ErrorContext(r.Context(), "token service error", "aadsts", te.Number, "err", te.Err, "request_id", httpx.RequestID(r.Context()))
	case te.Err != nil:
		// The caller's bad input (a malformed assertion, say): worth a line
		// for whoever debugs that client, not an alarm for the operator.
		h.log.InfoContext(r.Context(), "token request refused", "aadsts", te.Number, "err", te.Err, "request_id", httpx.RequestID(r.Context()))
	}
	body := wire.NewOAuthError(te.Code, te.Number, te.Message, httpx.RequestID(r.Context()),
		httpx.CorrelationID(r.Context()), h.base.For(r), h.now())
	wire.WriteOAuthError(w, wire.OAuthStatus(te), body)
}

// oauthRefusal is err in the token service's words: its numbered refusal,
// or, for anything else (a rule package's refusal the token service left
// unworded is a fault of Tessera's too), the transient server_error.
func oauthRefusal(err error) *token.Error {
	if te, ok := token.AsError(err); ok && te.Number != 0 {
		return te
	}
	return token.Transient(err)
}

// tenant resolves the {tenant} segment or writes AADSTS90002.
func (h *Handler) tenant(w http.ResponseWriter, r *http.Request) (domain.Tenant, string, bool) {
	seg := r.PathValue("tenant")
	t, err := h.tenants.Resolve(r.Context(), seg)
	if err != nil {
		h.writeError(w, r, err)
		return domain.Tenant{}, "", false
	}
	return t, strings.ToLower(seg), true
}

func (h *Handler) discoveryV2(w http.ResponseWriter, r *http.Request) {
	t, seg, ok := h.tenant(w, r)
	if !ok {
		return
	}
	wire.WriteJSON(w, http.StatusOK, wire.DiscoveryV2(wire.DiscoveryParams{BaseURL: h.base.For(r), Segment: seg, TenantID: t.ID}))
}

func (h *Handler) discoveryV1(w http.ResponseWriter, r *http.Request) {
	t, seg, ok := h.tenant(w, r)
	if !ok {
		return
	}
	wire.WriteJSON(w, http.StatusOK, wire.DiscoveryV1(wire.DiscoveryParams{BaseURL: h.base.For(r), Segment: seg, TenantID: t.ID}))
}

// TenantUnderADFS reports whether path is /adfs/{tenant}/.well-known/openid-configuration,
// and names the tenant. `az login --tenant <domain or adfs>` resolves a
// tenant that is not a GUID from the issuer of
// {activeDirectory}/{tenant}/.well-known/openid-configuration, and
// Tessera's activeDirectory is {base}/adfs. The path is routed by the
// caller, not by a ServeMux pattern: "/adfs/{tenant}/..." overlaps
// "/{tenant}/v2.0/..." with neither more specific, which ServeMux refuses.
func TenantUnderADFS(path string) (string, bool) {
	rest, ok := cutPrefixFold(path, "/adfs/")
	if !ok {
		return "", false
	}
	tenant, ok := strings.CutSuffix(rest, "/.well-known/openid-configuration")
	if !ok || tenant == "" || strings.Contains(tenant, "/") {
		return "", false
	}
	return tenant, true
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

// ServeTenantUnderADFS answers TenantUnderADFS's path with the tenant's own
// document, as /{tenant}/.well-known/openid-configuration: its issuer
// carries the tenant's GUID, which is what az reads from it.
func (h *Handler) ServeTenantUnderADFS(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.NoRoute(w, r, true)
		return
	}
	r.SetPathValue("tenant", tenant)
	h.discoveryV1(w, r)
}

func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	if seg := r.PathValue("tenant"); seg != "common" {
		if _, _, ok := h.tenant(w, r); !ok {
			return
		}
	}
	w.Header().Set("Content-Type", wire.ContentTypeJSON)
	w.Header().Set("Cache-Control", "max-age=86400, private")
	_, _ = w.Write(h.tokens.Keys().JWKS())
}

func (h *Handler) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	base := h.base.For(r)
	seg := "common"
	if ae := r.URL.Query().Get("authorization_endpoint"); ae != "" {
		// https://host/{tenant}/oauth2/v2.0/authorize → {tenant}
		if rest, ok := strings.CutPrefix(ae, "https://"); ok {
			parts := strings.Split(rest, "/")
			if len(parts) > 1 && parts[1] != "" {
				seg = parts[1]
			}
			// An authority on another of this server's names (asked
			// about at login.microsoftonline.com, which Tessera answers
			// for with --public-cloud-names) is validated as itself.
			if other, ok := h.base.ForHost(parts[0]); ok {
				base = other
			}
		}
	}
	host := strings.TrimPrefix(base, "https://")
	if _, err := h.tenants.Resolve(r.Context(), seg); err != nil {
		h.writeError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, wire.InstanceDiscovery{
		TenantDiscoveryEndpoint: base + "/" + strings.ToLower(seg) + "/v2.0/.well-known/openid-configuration",
		APIVersion:              "1.1",
		Metadata: []wire.InstanceDiscoveryMetadata{{
			PreferredNetwork: host, PreferredCache: host, Aliases: []string{host},
		}},
	})
}

func (h *Handler) userRealm(w http.ResponseWriter, r *http.Request) {
	upn := r.PathValue("upn")
	domainName := ""
	if i := strings.LastIndexByte(upn, '@'); i >= 0 {
		domainName = upn[i+1:]
	}
	wire.WriteJSON(w, http.StatusOK, wire.UserRealm{
		Ver: "1.0", AccountType: "Managed", DomainName: domainName,
		CloudInstanceName: "microsoftonline.com", CloudAudienceURN: "urn:federation:MicrosoftOnline",
	})
}

// tokenPreflight answers OPTIONS on the token endpoint: a CORS preflight
// is allowed for the origins of the tenant's single-page applications (it
// has no body, so no client to narrow them to); a plain OPTIONS learns the
// methods.
func (h *Handler) tokenPreflight(w http.ResponseWriter, r *http.Request) {
	if !httpx.IsPreflight(r) {
		w.Header().Set("Allow", "POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	allowed := false
	if t, err := h.tenants.Resolve(r.Context(), r.PathValue("tenant")); err == nil {
		allowed = h.tokens.SPAOriginAllowed(r.Context(), t, "", httpx.Origin(r))
	}
	h.tokenCORS.Preflight(w, r, allowed)
}

func (h *Handler) tokenWrongMethod(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, token.Errorf(token.ErrInvalidRequest, 900561,
		"The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method))
}
