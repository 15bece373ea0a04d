package token

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/signin"
)

// AuthorizeRequest is an /authorize request parsed once at the edge.
type AuthorizeRequest struct {
	// Version is 1 for /oauth2/authorize (resource=) and 2 for v2 (scope=).
	Version  int
	Tenant   domain.Tenant
	Segment  string
	BaseURL  string
	ClientIP string

	ClientID            string
	RedirectURI         string
	ResponseType        string
	ResponseMode        string
	Scope               string
	Resource            string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              string
	LoginHint           string
	DomainHint          string
}

// Response modes.
const (
	ResponseModeQuery    = "query"
	ResponseModeFragment = "fragment"
	ResponseModeFormPost = "form_post"
)

// Prompt values.
const (
	PromptLogin         = "login"
	PromptNone          = "none"
	PromptConsent       = "consent"
	PromptSelectAccount = "select_account"
)

// AuthorizeError is a refused authorize request. Until the client and its
// redirect URI are known to be good the error must be shown to the person
// and never sent to the redirect URI (RFC 6749 §4.1.2.1): that would make
// Tessera an open redirector. Redirect says which.
type AuthorizeError struct {
	Err      *Error
	Redirect bool
}

func (e *AuthorizeError) Error() string { return e.Err.Error() }

// Unwrap exposes the protocol error.
func (e *AuthorizeError) Unwrap() error { return e.Err }

// Authorization is an authorize request whose client and redirect URI
// were checked: errors from here on go back to the redirect URI.
type Authorization struct {
	Request    AuthorizeRequest
	ClientName string
	Public     bool
	// SPA: the redirect URI is a single-page application's (spa.go).
	SPA          bool
	ResponseMode string
	Scope        UserScope
	Resource     Resource
	// ClientAppType classifies the client for Conditional Access.
	ClientAppType string
}

// ValidateAuthorize checks an authorize request: the client, the redirect
// URI (exact, or any port of a registered loopback redirect of a native
// client; an SPA redirect makes the client public), response type and
// mode, prompt, scope, and PKCE (S256, and required for public clients).
func (ix *Interactive) ValidateAuthorize(ctx context.Context, s *Service, ar AuthorizeRequest) (*Authorization, error) {
	fatal := func(err *Error) error { return &AuthorizeError{Err: err} }
	back := func(err *Error) error { return &AuthorizeError{Err: err, Redirect: true} }
	if ar.ClientID == "" {
		return nil, fatal(Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'client_id'."))
	}
	c, err := s.lookupClient(ctx, ar.Tenant, ar.ClientID)
	if err != nil {
		te, _ := AsError(err)
		return nil, fatal(te)
	}
	public := isPublic(c)
	var registered []string
	native := false
	// An SPA redirect is matched exactly, port included (Entra does not
	// float an SPA's loopback port), and makes the client public.
	spaRedirects := s.spaRedirects(c)
	switch {
	case c.Application != nil:
		registered = append(append(registered, c.Application.PublicRedirectURIs...), c.Application.WebRedirectURIs...)
		// Loopback ports float only for native (public client) redirects.
		native = MatchRedirect(ar.RedirectURI, c.Application.PublicRedirectURIs, true)
		if native {
			public = true
		}
	case c.ServicePrincipal.PublicClient && !isSPAFirstParty(c):
		registered, native = firstPartyRedirects, true
	}
	registered = append(registered, spaRedirects...)
	if ar.RedirectURI == "" {
		if len(registered) != 1 {
			return nil, fatal(Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'redirect_uri'."))
		}
		ar.RedirectURI = registered[0]
	}
	spa := !native && MatchRedirect(ar.RedirectURI, spaRedirects, false)
	if !spa && !MatchRedirect(ar.RedirectURI, registered, native) {
		return nil, fatal(Errorf(ErrInvalidRequest, 50011,
			"The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.",
			printableScope(ar.RedirectURI), ar.ClientID))
	}
	az := &Authorization{Request: ar, ClientName: c.ServicePrincipal.DisplayName, Public: public || spa, SPA: spa, ClientAppType: signin.ClientAppBrowser}
	if public && !spa {
		az.ClientAppType = signin.ClientAppNative
	}
	switch ar.ResponseMode {
	case "":
		az.ResponseMode = ResponseModeQuery
	case ResponseModeQuery, ResponseModeFragment, ResponseModeFormPost:
		az.ResponseMode = ar.ResponseMode
	default:
		az.ResponseMode = ResponseModeQuery
		return az, back(Errorf(ErrInvalidRequest, 900144, "The response_mode '%s' is not supported: use query, fragment or form_post.", printableScope(ar.ResponseMode)))
	}
	if ar.ResponseType != "code" {
		return az, back(Errorf("unsupported_response_type", 700054,
			"response_type '%s' is not supported; Tessera issues authorization codes (response_type=code).", printableScope(ar.ResponseType)))
	}
	for _, p := range strings.Fields(ar.Prompt) {
		switch p {
		case PromptLogin, PromptNone, PromptConsent, PromptSelectAccount, PromptAdminConsent:
		default:
			return az, back(Errorf(ErrInvalidRequest, 90023, "Invalid prompt value '%s'.", printableScope(p)))
		}
	}
	if len(ar.State) > 2048 || len(ar.Nonce) > 512 {
		return az, back(Errorf(ErrInvalidRequest, 90015, "The state or nonce parameter is too long."))
	}
	if err := CheckChallenge(ar.CodeChallenge, ar.CodeChallengeMethod, az.Public); err != nil {
		te, _ := AsError(err)
		return az, back(te)
	}
	if az.Scope, err = ParseUserScope(ar.Version, ar.Scope, ar.Resource); err != nil {
		te, _ := AsError(err)
		return az, back(te)
	}
	if az.Resource, err = s.ResolveResource(ctx, ar.Tenant, az.Scope.Resource); err != nil {
		te, _ := AsError(err)
		return az, back(te)
	}
	return az, nil
}

// HasPrompt reports whether the request asked for prompt p.
func (az *Authorization) HasPrompt(p string) bool {
	for _, v := range strings.Fields(az.Request.Prompt) {
		if v == p {
			return true
		}
	}
	return false
}

// IssueCode issues an authorization code for a signed-in user.
func (ix *Interactive) IssueCode(ctx context.Context, az *Authorization, u domain.User, session domain.BrowserSession) (string, error) {
	code := NewOpaque()
	now := ix.signins.Now().UTC()
	ar := az.Request
	c := domain.AuthCode{
		Hash: signin.Hash(code), TenantID: ar.Tenant.ID, ClientID: ar.ClientID, UserID: u.ID, RedirectURI: ar.RedirectURI, SPA: az.SPA,
		Version: ar.Version, Scope: ar.Scope, Resource: ar.Resource, Nonce: ar.Nonce,
		CodeChallenge: ar.CodeChallenge, CodeChallengeMethod: ar.CodeChallengeMethod, SessionID: session.Hash,
		AuthTime: session.AuthTime, AMR: session.AMR, FamilyID: uuid.NewString(),
		CreatedAt: now, ExpiresAt: now.Add(ix.opts.CodeLifetime),
	}
	if err := ix.st.CreateAuthCode(ctx, c); err != nil {
		return "", errStore(err)
	}
	return code, nil
}

// CodeLifetime is how long an authorization code lives.
func (ix *Interactive) CodeLifetime() time.Duration { return ix.opts.CodeLifetime }

// PostLogoutRedirectAllowed reports whether a logout may send the browser
// to uri: only to a redirect URI registered for the client (web, native or
// single-page), so that logout is no open redirector. The client is
// client_id, or else the audience of the id_token_hint; with neither
// (msal-browser's logoutRedirect sends a logout_hint only), uri must be an
// SPA redirect URI registered in the tenant.
func (ix *Interactive) PostLogoutRedirectAllowed(ctx context.Context, s *Service, tenant domain.Tenant, clientID, idTokenHint, uri string) bool {
	if uri == "" {
		return false
	}
	if clientID == "" {
		clientID = s.verifier.IDTokenClient(idTokenHint, tenant.ID)
	}
	if clientID == "" {
		// msal-browser names neither (it sends a logout_hint): a single-page
		// application's registered redirect URI is still no open redirect.
		return s.spaRedirectRegistered(ctx, tenant, uri)
	}
	c, err := s.lookupClient(ctx, tenant, clientID)
	if err != nil {
		return false
	}
	if MatchRedirect(uri, s.spaRedirects(c), false) {
		return true
	}
	switch {
	case c.Application != nil:
		return MatchRedirect(uri, c.Application.PublicRedirectURIs, true) || MatchRedirect(uri, c.Application.WebRedirectURIs, false)
	case c.ServicePrincipal.PublicClient && !isSPAFirstParty(c):
		return MatchRedirect(uri, firstPartyRedirects, true)
	}
	return false
}

// PromptAdminConsent asks an administrator to consent for the whole
// organisation.
const PromptAdminConsent = "admin_consent"

// ConsentRequest is what a person is asked to consent to before a client
// gets a code for a resource.
type ConsentRequest struct {
	ClientSPID   string
	ResourceSPID string
	// ResourceName is the API's display name.
	ResourceName string
	// Requested are the delegated permissions the request names, or for
	// "/.default" those the client's registration requires.
	Requested []domain.PermissionScope
	// Missing are those of Requested the user has no grant for.
	Missing []domain.PermissionScope
}

// NeedsAdmin reports whether a missing permission is one only an
// administrator may consent to.
func (cr ConsentRequest) NeedsAdmin() bool {
	for _, p := range cr.Missing {
		if !strings.EqualFold(p.Type, "User") {
			return true
		}
	}
	return false
}

// Values are the names of ps, for a grant's scope.
func Values(ps []domain.PermissionScope) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Value)
	}
	return out
}

// ConsentFor is what userID must consent to for clientID to get a token
// for us on res. The zero value (no Requested) means the resource needs no
// consent. A permission the API does not expose is an error (650053).
func (s *Service) ConsentFor(ctx context.Context, tenant domain.Tenant, clientID string, us UserScope, res Resource, userID string) (ConsentRequest, error) {
	c, err := s.lookupClient(ctx, tenant, clientID)
	if err != nil {
		return ConsentRequest{}, err
	}
	client := &Client{Client: c}
	if !consentGoverned(client, res) {
		return ConsentRequest{}, nil
	}
	missing, _, err := s.MissingConsent(ctx, tenant, client, res, us, userID)
	if err != nil {
		return ConsentRequest{}, err
	}
	cr := ConsentRequest{ClientSPID: c.ServicePrincipal.ID, ResourceSPID: res.ServicePrincipal.ID,
		ResourceName: res.ServicePrincipal.DisplayName, Missing: missing}
	wanted := us.Permissions
	if len(wanted) == 0 {
		wanted = requiredScopes(client, res)
	}
	for _, w := range wanted {
		for _, p := range res.ServicePrincipal.OAuth2PermissionScopes {
			if p.IsEnabled && strings.EqualFold(p.Value, w) {
				cr.Requested = append(cr.Requested, p)
				break
			}
		}
	}
	return cr, nil
}

// AdminConsentFor is what the admin consent endpoint asks an administrator
// to grant clientID for the organisation, one request per resource: the
// permissions scope names ("api://x/Read", "api://x/.default"), or with no
// scope every delegated permission of the client's requiredResourceAccess.
// Resources that need no consent (Microsoft's own) are left out.
func (s *Service) AdminConsentFor(ctx context.Context, tenant domain.Tenant, clientID, scope string) ([]ConsentRequest, error) {
	c, err := s.lookupClient(ctx, tenant, clientID)
	if err != nil {
		return nil, err
	}
	var names []string
	perms := map[string][]string{}
	add := func(res string, perm ...string) {
		if _, ok := perms[res]; !ok {
			names = append(names, res)
		}
		perms[res] = append(perms[res], perm...)
	}
	for _, sc := range strings.Fields(scope) {
		if oidcScopes[strings.ToLower(sc)] {
			continue
		}
		res, perm := splitScope(sc)
		if res == "" {
			return nil, Errorf(ErrInvalidScope, 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", printableScope(sc))
		}
		if perm == "" {
			add(res)
		} else {
			add(res, perm)
		}
	}
	if strings.TrimSpace(scope) == "" && c.Application != nil {
		for _, rra := range c.Application.RequiredResourceAccess {
			add(rra.ResourceAppID)
		}
	}
	var out []ConsentRequest
	for _, name := range names {
		res, err := s.ResolveResource(ctx, tenant, name)
		if err != nil {
			return nil, err
		}
		cr, err := s.ConsentFor(ctx, tenant, clientID, UserScope{Resource: name, Permissions: perms[name]}, res, "")
		if err != nil {
			return nil, err
		}
		if len(cr.Requested) > 0 {
			out = append(out, cr)
		}
	}
	return out, nil
}
