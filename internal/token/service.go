package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/tessera-id/tessera/internal/token/assertion"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/issuer"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/token/signing"
)

// Request is a token request parsed once at the edge. Grants read what they
// need from it; Form keeps grant-specific fields.
type Request struct {
	// Version is 1 for /oauth2/token (resource=) and 2 for /oauth2/v2.0/token (scope=).
	Version int
	Tenant  domain.Tenant
	// Segment is the tenant path segment the client used.
	Segment string
	// BaseURL is the scheme and authority the client addressed.
	BaseURL string
	// EndpointURL is the token endpoint URL as requested (assertion audience).
	EndpointURL string

	GrantType           string
	ClientID            string
	ClientSecret        string
	ClientAssertionType string
	ClientAssertion     string
	Scope               string
	Resource            string
	Form                map[string]string

	// Origin is the request's Origin header: a browser's fetch (cross-origin,
	// or a same-origin POST) sends one, other clients do not. It decides the
	// single-page application rules (spa.go).
	Origin string

	ClientIP      string
	CorrelationID string
	// ConnID identifies the client's connection (see replay binding in Service).
	ConnID string
}

// Issued is a successful token response before it is written.
type Issued struct {
	AccessToken string
	ExpiresIn   int64
	ExpiresOn   time.Time
	NotBefore   time.Time
	// Resource is the audience the token was minted for (v1 echoes it).
	Resource string
	// Scope is echoed in v2 responses of user flows; empty for app-only tokens.
	Scope string
	// RefreshToken, IDToken and ClientInfo are set by user flows only;
	// FOCI is "1" for Microsoft's family of first-party public clients.
	RefreshToken string
	IDToken      string
	ClientInfo   string
	FOCI         string
	// RefreshExpiresIn is, for a single-page application, the seconds
	// until its refresh token family ends (0: not sent).
	RefreshExpiresIn int64
}

// Event is what a grant tells the sign-in log about the principal it served.
type Event struct {
	ActorID, ActorName, Target string
	Details                    map[string]string
}

// Auditor records sign-in events.
type Auditor interface {
	// Record appends ev and returns once it is durable.
	Record(ctx context.Context, ev domain.AuditEvent) error
	// Submit queues ev and returns a function that waits until it is
	// durable, so that the caller can work while the log commits.
	Submit(ctx context.Context, ev domain.AuditEvent) (wait func() error)
}

// Options configure a Service.
type Options struct {
	// AccessTokenLifetime defaults to Entra's 3599 s... rounded to one hour.
	AccessTokenLifetime time.Duration
	Now                 func() time.Time
	Logger              *slog.Logger
	// ManagedIdentities finds the federated credentials of user-assigned
	// identities (see managed_identity.go); nil disables workload identity
	// federation for managed identities.
	ManagedIdentities ManagedIdentityCredentials
	// ClientThrottle throttles failed client authentications by client and
	// source address; nil throttles nothing.
	ClientThrottle ClientThrottle
	// PortalRedirectURIs are the Tessera Portal's SPA redirect URIs:
	// <origin>/portal/ for each origin the server answers on.
	PortalRedirectURIs []string
}

// ClientThrottle is the rule for refusing repeated failed client
// authentications before they are checked (signin.Service implements it).
type ClientThrottle interface {
	// CheckClient refuses an attempt with *signin.ThrottledError or
	// *signin.LockedError, or returns nil.
	CheckClient(tenantID, clientID, addr string) error
	// ClientFailed counts a failure and returns the refusal it triggered, if any.
	ClientFailed(tenantID, clientID, addr string) error
	ClientSucceeded(tenantID, clientID, addr string)
}

// Service is the token service: it authenticates clients, resolves the
// requested resource, runs the grant and signs the token.
type Service struct {
	dir       *directory.Service
	keys      *signing.Keys
	verifier  *Verifier
	replay    store.Replay
	federated *assertion.FederatedVerifier
	audit     Auditor
	grants    map[string]Grant
	lifetime  time.Duration
	now       func() time.Time
	log       *slog.Logger

	// managedIdentities: see Options.ManagedIdentities.
	managedIdentities ManagedIdentityCredentials
	clientThrottle    ClientThrottle

	resMu     sync.Mutex
	resources map[string]*resourceIndex // tenant id → index

	bindMu   sync.Mutex
	bindings map[string]binding // replay key → first-use connection

	// portalRedirects: see Options.PortalRedirectURIs.
	portalRedirects []string
	// spaIndex caches each tenant's SPA origins (spa.go); spaGen counts
	// invalidations, so a load racing one is not kept.
	spaMu    sync.Mutex
	spaIndex map[string]*spaIndex
	spaGen   uint64

	// lifetimes: see lifetime.go.
	lifetimes lifetimeCache
}

type resourceIndex struct {
	byName   map[string]domain.ServicePrincipal
	loadedAt time.Time
}

type binding struct {
	connID  string
	expires time.Time
}

// NewService builds a token service with the given grants.
func NewService(dir *directory.Service, keys *signing.Keys, replay store.Replay, federated *assertion.FederatedVerifier, audit Auditor, opts Options, grants ...Grant) *Service {
	s := &Service{
		dir: dir, keys: keys, verifier: NewVerifier(keys), replay: replay, federated: federated, audit: audit,
		grants: map[string]Grant{}, lifetime: opts.AccessTokenLifetime, now: opts.Now, log: opts.Logger,
		resources: map[string]*resourceIndex{}, bindings: map[string]binding{},
		managedIdentities: opts.ManagedIdentities, clientThrottle: opts.ClientThrottle,
		portalRedirects: opts.PortalRedirectURIs, spaIndex: map[string]*spaIndex{},
		lifetimes: lifetimeCache{byTenant: map[string]map[string]time.Duration{}},
	}
	if s.lifetime <= 0 {
		s.lifetime = time.Hour
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for _, g := range grants {
		for _, t := range g.Types() {
			s.grants[t] = g
		}
	}
	return s
}

// Keys returns the signing keys.
func (s *Service) Keys() *signing.Keys { return s.keys }

// Verifier returns the verifier of the tokens this service mints.
func (s *Service) Verifier() *Verifier { return s.verifier }

func (s *Service) record(ctx context.Context, req *Request, ev *Event, start time.Time, err error) {
	if s.audit == nil || isPolling(err) {
		return
	}
	if aerr := s.audit.Record(ctx, s.signInEvent(req, ev, start, err)); aerr != nil {
		s.log.ErrorContext(ctx, "record sign-in", "err", aerr)
	}
}

// signInEvent is the sign-in log's record of req, ending in err.
func (s *Service) signInEvent(req *Request, ev *Event, start time.Time, err error) domain.AuditEvent {
	e := domain.AuditEvent{
		Time: start.UTC(), TenantID: req.Tenant.ID, Kind: domain.AuditSignIn,
		ActorID: req.ClientID, Action: "token." + req.GrantType, Result: "success",
		ClientIP: req.ClientIP, CorrelationID: req.CorrelationID,
		Details: map[string]string{"clientId": req.ClientID, "endpoint": fmt.Sprintf("v%d", req.Version)},
	}
	if ev != nil {
		if ev.ActorID != "" {
			e.ActorID = ev.ActorID
		}
		e.ActorName, e.Target = ev.ActorName, ev.Target
		for k, v := range ev.Details {
			e.Details[k] = v
		}
	}
	if err != nil {
		e.Result = "failure"
		if te, ok := AsError(err); ok {
			e.Reason = fmt.Sprintf("AADSTS%d: %s", te.Number, te.Message)
		} else {
			e.Reason = "server error"
		}
	}
	return e
}

// Resource is a resolved token audience.
type Resource struct {
	// Audience is the aud claim: the resource name as the client asked for it.
	Audience         string
	ServicePrincipal domain.ServicePrincipal
}

// resourceReload is the least time between two reloads of a tenant's
// resource index caused by an unknown name, so unknown names cannot turn
// every request into a table scan.
const resourceReload = time.Second

// ResolveResource finds the resource a v1 `resource` or a v2 `.default`
// scope names.
func (s *Service) ResolveResource(ctx context.Context, tenant domain.Tenant, name string) (Resource, error) {
	key := directory.NormalizeResource(name)
	for attempt := 0; attempt < 2; attempt++ {
		s.resMu.Lock()
		idx := s.resources[tenant.ID]
		s.resMu.Unlock()
		if idx != nil {
			if sp, ok := idx.byName[key]; ok {
				return Resource{Audience: name, ServicePrincipal: sp}, nil
			}
			if s.now().Sub(idx.loadedAt) < resourceReload {
				break
			}
		}
		byName, err := s.dir.ResourceIndex(ctx, tenant.ID)
		if err != nil {
			return Resource{}, Transient(err)
		}
		s.resMu.Lock()
		s.resources[tenant.ID] = &resourceIndex{byName: byName, loadedAt: s.now()}
		s.resMu.Unlock()
	}
	return Resource{}, Errorf(ErrInvalidResource, 500011,
		"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
		name, tenantName(tenant))
}

// invalidateResources drops the cached resource index of a tenant, so a
// newly registered resource is found at once (see Follow).
func (s *Service) invalidateResources(tenantID string) {
	s.resMu.Lock()
	delete(s.resources, tenantID)
	s.resMu.Unlock()
}

// Follow drops a tenant's cached resource index whenever one of its
// applications or service principals changes on any replica (the change
// feed), and its SPA origin index whenever one of its applications does;
// every tenant's on a full reload.
func (s *Service) Follow(f *feed.Follower) {
	forget := func(_ context.Context, c store.Change) error { s.invalidateResources(c.TenantID); return nil }
	f.On(store.ChangeApplication, forget)
	f.On(store.ChangeServicePrincipal, forget)
	f.On(store.ChangeTenant, forget)
	forgetOrigins := func(_ context.Context, c store.Change) error { s.invalidateSPAOrigins(c.TenantID); return nil }
	f.On(store.ChangeApplication, forgetOrigins)
	f.On(store.ChangeTenant, forgetOrigins)
	s.followLifetimes(f)
	f.Load(func(context.Context) error {
		s.resMu.Lock()
		clear(s.resources)
		s.resMu.Unlock()
		s.invalidateSPAOrigins("")
		return nil
	})
}

func tenantName(t domain.Tenant) string {
	if t.DisplayName != "" {
		return t.DisplayName
	}
	return t.ID
}

// ResourceFromRequest reads the requested resource: v1's resource parameter,
// or v2's single "<resource>/.default" scope (openid, profile, offline_access
// may accompany it and are ignored for app-only tokens).
func ResourceFromRequest(req *Request) (string, error) {
	if req.Version == 1 {
		if req.Resource != "" {
			return req.Resource, nil
		}
		if req.Scope == "" {
			return "", Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'resource'.")
		}
	}
	if strings.TrimSpace(req.Scope) == "" {
		return "", Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'scope'.")
	}
	var resource string
	for _, sc := range strings.Fields(req.Scope) {
		switch strings.ToLower(sc) {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		r, ok := strings.CutSuffix(sc, "/.default")
		if !ok || r == "" || resource != "" {
			return "", Errorf(ErrInvalidScope, 70011,
				"The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", req.Scope)
		}
		resource = r
	}
	if resource == "" {
		return "", Errorf(ErrInvalidScope, 70011,
			"The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", req.Scope)
	}
	return resource, nil
}

// skewAllowance is how far iat and nbf are back-dated, as Entra does, to
// absorb clock skew: a token was signed skewAllowance after its iat.
const skewAllowance = 5 * time.Minute

// Mint signs an access token for claims, living lifetime, filling the time
// and id claims.
func (s *Service) Mint(c *AccessClaims, lifetime time.Duration) (string, time.Time, time.Time, error) {
	now := s.now().UTC()
	nbf := now.Add(-skewAllowance)
	exp := now.Add(lifetime)
	c.Iat, c.Nbf, c.Exp = nbf.Unix(), nbf.Unix(), exp.Unix()
	c.Uti = newUTI()
	payload, err := json.Marshal(c)
	if err != nil {
		return "", time.Time{}, time.Time{}, fmt.Errorf("encode claims: %w", err)
	}
	tok, err := s.keys.Sign(payload)
	if err != nil {
		return "", time.Time{}, time.Time{}, err
	}
	return tok, exp, nbf, nil
}

// newUTI returns a token identifier in Entra's style (22 base64url chars).
func newUTI() string {
	u := uuid.New()
	return base64.RawURLEncoding.EncodeToString(u[:])
}

// Lifetime is the access token lifetime.
func (s *Service) Lifetime() time.Duration { return s.lifetime }

// Now is the service clock.
func (s *Service) Now() time.Time { return s.now() }

// Directory exposes the directory service to grants.
func (s *Service) Directory() *directory.Service { return s.dir }

// accessClaimsFor shapes the claims of an access token by the resource's
// accepted version: v1 (the default, and always for first-party resources)
// or v2.
func (s *Service) accessClaimsFor(req *Request, res Resource) *AccessClaims {
	c := &AccessClaims{Aud: res.Audience, Tid: req.Tenant.ID}
	if res.ServicePrincipal.AccessTokenAcceptedVersion == 2 {
		c.Iss = issuer.V2(req.BaseURL, req.Tenant.ID)
		// A v2 token names its audience by application id, however the
		// client named the resource (Entra's v2 shape).
		c.Ver, c.Aud = "2.0", res.ServicePrincipal.AppID
	} else {
		c.Iss = issuer.V1(req.Tenant.ID)
		c.Ver = "1.0"
	}
	return c
}

// errStore wraps a storage failure as a retryable server error.
func errStore(err error) error {
	return &Error{Kind: fault.Unavailable, Code: ErrTemporarilyUnavailable, Number: 90033, Message: TransientMessage, Err: err}
}
