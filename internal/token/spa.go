package token

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
)

// The single-page application platform. A redirect URI registered as an SPA
// redirect (an application's spa.redirectUris, or the Tessera Portal's
// <origin>/portal/) makes the sign-in a browser's: the client is public
// (PKCE), its code and refresh tokens may only be redeemed by a
// cross-origin request (the browser's fetch, which carries an Origin
// header), and its refresh tokens expire 24 hours after the sign-in, however
// often they are used. Conversely a token request that carries an Origin
// is refused unless what it redeems was issued to an SPA redirect: a
// browser must not hold the tokens of a native or web client.

// spaRefreshLifetime is the absolute lifetime of an SPA sign-in's refresh
// tokens (Entra's, not configurable there either).
const spaRefreshLifetime = 24 * time.Hour

// errSPANeedsOrigin refuses an SPA code or refresh token presented by a
// request that is not a browser's cross-origin request.
func errSPANeedsOrigin() error {
	return Errorf(ErrInvalidRequest, 9002327,
		"Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.")
}

// errCrossOriginNotSPA refuses a cross-origin redemption of anything not
// issued to an SPA redirect.
func errCrossOriginNotSPA(origin string) error {
	return Errorf(ErrInvalidRequest, 9002326,
		"Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '%s'.",
		printableScope(origin))
}

// checkOrigin applies the SPA redemption rule: SPA grants only with an
// Origin, others only without one.
func checkOrigin(spa bool, origin string) error {
	switch {
	case spa && origin == "":
		return errSPANeedsOrigin()
	case !spa && origin != "":
		return errCrossOriginNotSPA(origin)
	}
	return nil
}

// OriginOf is the web origin (scheme://host[:port], lower case, default
// port omitted, as browsers send it in the Origin header) of an absolute
// http(s) URL, or "".
func OriginOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if port == "" || scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + port
}

// normalizeOrigin reads an Origin header value the way OriginOf writes one.
func normalizeOrigin(origin string) string {
	if origin == "" || origin == "null" {
		return ""
	}
	return OriginOf(origin + "/")
}

// isSPAFirstParty: a built-in single-page application (the portal), whose
// only redirect URIs are its SPA ones, never the native loopback ones.
func isSPAFirstParty(c directory.Client) bool {
	fp, ok := directory.FirstPartyClientByID(c.ServicePrincipal.AppID)
	return ok && fp.SPA && c.Application == nil
}

// spaRedirects are the SPA redirect URIs of a client: an application's
// registered ones, or the portal's.
func (s *Service) spaRedirects(c directory.Client) []string {
	if c.Application != nil {
		return c.Application.SpaRedirectURIs
	}
	if isSPAFirstParty(c) {
		return s.portalRedirects
	}
	return nil
}

// spaIndex is a tenant's SPA redirect URIs: their origins, each with the
// (lower-case) app ids registering it, and the URIs themselves.
type spaIndex struct {
	origins   map[string]map[string]bool
	redirects map[string]bool
}

func newSPAIndex() *spaIndex {
	return &spaIndex{origins: map[string]map[string]bool{}, redirects: map[string]bool{}}
}

func (ix *spaIndex) add(appID string, redirects []string) {
	for _, r := range redirects {
		ix.redirects[r] = true
		o := OriginOf(r)
		if o == "" {
			continue
		}
		if ix.origins[o] == nil {
			ix.origins[o] = map[string]bool{}
		}
		ix.origins[o][strings.ToLower(appID)] = true
	}
}

// SPAOriginAllowed reports whether a browser page at origin may read the
// token endpoint's answers: origin is the origin of an SPA redirect URI of
// clientID, or, with clientID "" (a preflight, which has no body), of any
// application in the tenant. The answer comes from a per-tenant index the
// change feed invalidates (see Follow), so it costs a map lookup.
func (s *Service) SPAOriginAllowed(ctx context.Context, tenant domain.Tenant, clientID, origin string) bool {
	o := normalizeOrigin(origin)
	if o == "" {
		return false
	}
	idx, err := s.spaOrigins(ctx, tenant.ID)
	if err != nil {
		s.log.WarnContext(ctx, "load SPA origins", "tenant", tenant.ID, "err", err)
		return false
	}
	apps := idx.origins[o]
	if clientID == "" {
		return len(apps) > 0
	}
	return apps[strings.ToLower(clientID)]
}

// spaRedirectRegistered reports whether uri is exactly an SPA redirect URI
// of some client of the tenant.
func (s *Service) spaRedirectRegistered(ctx context.Context, tenant domain.Tenant, uri string) bool {
	idx, err := s.spaOrigins(ctx, tenant.ID)
	if err != nil {
		s.log.WarnContext(ctx, "load SPA redirect URIs", "tenant", tenant.ID, "err", err)
		return false
	}
	return idx.redirects[uri]
}

func (s *Service) spaOrigins(ctx context.Context, tenantID string) (*spaIndex, error) {
	s.spaMu.Lock()
	idx, ok := s.spaIndex[tenantID]
	s.spaMu.Unlock()
	if ok {
		return idx, nil
	}
	gen := s.spaGeneration()
	apps, err := s.dir.ListApplications(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	idx = newSPAIndex()
	for _, a := range apps {
		idx.add(a.AppID, a.SpaRedirectURIs)
	}
	idx.add(directory.AppIDTesseraPortal, s.portalRedirects)
	s.spaMu.Lock()
	// An invalidation that ran while the applications were read wins: the
	// index may predate it.
	if s.spaGen == gen {
		s.spaIndex[tenantID] = idx
	}
	s.spaMu.Unlock()
	return idx, nil
}

func (s *Service) spaGeneration() uint64 {
	s.spaMu.Lock()
	defer s.spaMu.Unlock()
	return s.spaGen
}

// invalidateSPAOrigins drops a tenant's SPA origin index ("" drops all).
func (s *Service) invalidateSPAOrigins(tenantID string) {
	s.spaMu.Lock()
	s.spaGen++
	if tenantID == "" {
		clear(s.spaIndex)
	} else {
		delete(s.spaIndex, tenantID)
	}
	s.spaMu.Unlock()
}
