package token

// Every step a token request goes through, in order, is in this file:
//
//	Exchange                      the token endpoint's entry
//	  1. grantFor                 the grant registered for grant_type; the browser rule
//	  run
//	  2. Grant.Redeem             the grant's own parameters and what they redeem
//	  3. client                   client authentication, as the redemption's ClientRule asks
//	  4. Redemption.Subject       the principal's own checks; the resource asked for
//	  5. ResolveResource          the resource's service principal (AADSTS500011)
//	  6. Redemption.Authorize     the grant's decision for that resource
//	  7. accessClaims             the claims: audience shape, subject, client, roles;
//	                              for a user, the consented delegated permissions
//	                              (delegated.go, AADSTS65001) and memberships
//	  8. Auditor.Submit           the sign-in record, queued
//	  9. mintResponse             the access token, living as the resource's token
//	                              lifetime policy says (lifetime.go), and a user
//	                              flow's id_token
//	 10. wait                     for the sign-in record's commit; no token leaves before it
//
// A grant fills steps 2, 4 and 6 and holds only its own dependencies; it never
// authenticates a client, resolves a resource, writes the sign-in log or signs.

import (
	"context"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
)

// Grant is one grant_type's part of a token request.
type Grant interface {
	// Types are the grant_type values (and aliases) this grant serves.
	Types() []string
	// Redeem checks the grant's own parameters and reads what they redeem
	// (a code, a refresh token, a device code, a password). It names the
	// principal on ev as soon as it knows it, so that a refusal is logged
	// against it.
	Redeem(ctx context.Context, req *Request, ev *Event) (Redemption, error)
}

// Redemption is a grant's request in progress, past its own parameters.
type Redemption interface {
	// ClientRule is how the client must prove itself.
	ClientRule() ClientRule
	// Subject runs once the client is known: it finishes the grant's checks
	// of the principal and names the resource asked for, as the client
	// named it.
	Subject(ctx context.Context, req *Request, client *Client, ev *Event) (resource string, err error)
	// Authorize is the grant's decision for the resolved resource. State it
	// changes (a stored or rotated refresh token) changes before any token
	// is signed, so a request that loses a race holds no token.
	Authorize(ctx context.Context, req *Request, client *Client, res Resource, ev *Event) (*Decision, error)
}

// ClientRule is how a grant's client proves itself.
type ClientRule struct {
	// Confidential: the client must authenticate (client credentials).
	// Otherwise a user flow's client authenticates when it is confidential
	// or presents a credential, and a public one only names itself.
	Confidential bool
	// SPA: the grant redeems what was issued to a single-page application's
	// redirect, so the client is public whatever its registration.
	SPA bool
	// Proven is a client its endpoint has already proven (a managed
	// identity's node); no client parameter is read.
	Proven *Client
}

// Client is the client of a token request, once step 3 has run.
type Client struct {
	directory.Client
	// Method is appidacr: "0" public, "1" secret, "2" certificate or
	// federated assertion.
	Method string
	// Credential names what was presented ("secret", "certificate",
	// "federated"); empty for a public client.
	Credential string
	// Public: a native, single-page or first-party client, without a secret.
	Public bool
	// FOCI: one of Microsoft's family of first-party public clients.
	FOCI bool
	// SPA: see ClientRule.SPA.
	SPA bool
}

// Decision is a grant's answer for one resource: who the token is for, and
// for a user what else the response carries.
type Decision struct {
	// ObjectID is the subject (oid, sub): a user, or the service principal
	// of an application or managed identity.
	ObjectID string
	// ManagedIdentityResourceID is xms_mirid for a managed identity's token.
	ManagedIdentityResourceID string
	// User is set for a user's token; nil for an app-only one.
	User *UserDecision
}

// UserDecision is what a user flow decided beyond the subject.
type UserDecision struct {
	Auth  userAuth
	Scope UserScope
	// Refresh is the refresh token already stored for the response ("" for
	// none), and FamilyEnds when its family ends.
	Refresh    string
	FamilyEnds time.Time
	// IDTokenLifetime is the id_token's lifetime.
	IDTokenLifetime time.Duration
	// NoIDToken: the response carries no id_token (on-behalf-of, where
	// the client signed no one in).
	NoIDToken bool
}

// Exchange runs a token request and records the sign-in. No token leaves
// before its sign-in record is durable.
func (s *Service) Exchange(ctx context.Context, req *Request) (*Issued, error) {
	g, err := s.grantFor(req) // 1
	if err != nil {
		s.record(ctx, req, nil, s.now(), err)
		return nil, err
	}
	return s.run(ctx, req, g)
}

// grantFor is step 1: the grant registered for the request's grant_type.
func (s *Service) grantFor(req *Request) (Grant, error) {
	if req.GrantType == "" {
		return nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'grant_type'.")
	}
	g, ok := s.grants[req.GrantType]
	if !ok {
		return nil, Errorf(ErrUnsupportedGrantType, 70003, "The app requested an unsupported grant type '%s'.", req.GrantType)
	}
	// Only what was issued to a single-page application is redeemed from a
	// browser; the code and refresh grants decide that by what they redeem,
	// every other grant is never a browser's.
	if req.Origin != "" && req.GrantType != "authorization_code" && req.GrantType != "refresh_token" {
		return nil, errCrossOriginNotSPA(req.Origin)
	}
	return g, nil
}

// run is steps 2 to 10 for grant g, and the sign-in record of the outcome.
func (s *Service) run(ctx context.Context, req *Request, g Grant) (*Issued, error) {
	started := s.now()
	ev := &Event{Details: map[string]string{}}
	issued, committed, err := s.steps(ctx, req, g, ev, started)
	// 10. The success record queued at step 8 must be durable before the
	// token leaves; a failure after it (the token could not be signed) is
	// logged as well, with its reason.
	if committed != nil {
		if werr := committed(); werr != nil {
			s.log.ErrorContext(ctx, "record sign-in", "err", werr)
		}
		if err == nil {
			return issued, nil
		}
	}
	s.record(ctx, req, ev, started, err)
	return issued, err
}

// steps is steps 2 to 9; committed, when not nil, waits for the success
// record queued at step 8.
func (s *Service) steps(ctx context.Context, req *Request, g Grant, ev *Event, started time.Time) (out *Issued, committed func() error, err error) {
	redemption, err := g.Redeem(ctx, req, ev) // 2
	if err != nil {
		return nil, nil, err
	}
	client, err := s.client(ctx, req, redemption.ClientRule()) // 3
	if err != nil {
		return nil, nil, err
	}
	resourceName, err := redemption.Subject(ctx, req, client, ev) // 4
	if err != nil {
		return nil, nil, err
	}
	if _, ok := ev.Details["resource"]; !ok {
		ev.Details["resource"] = resourceName
	}
	res, err := s.ResolveResource(ctx, req.Tenant, resourceName) // 5
	if err != nil {
		return nil, nil, err
	}
	ev.Target = res.ServicePrincipal.AppID
	d, err := redemption.Authorize(ctx, req, client, res, ev) // 6
	if err != nil {
		return nil, nil, err
	}
	claims, err := s.accessClaims(ctx, req, client, res, d) // 7
	if err != nil {
		return nil, nil, err
	}
	if s.audit != nil { // 8: the log commits while the token is signed
		committed = s.audit.Submit(ctx, s.signInEvent(req, ev, started, nil))
	}
	out, err = s.mintResponse(ctx, req, client, res, d, claims) // 9
	return out, committed, err
}

// client is step 3.
func (s *Service) client(ctx context.Context, req *Request, rule ClientRule) (*Client, error) {
	switch {
	case rule.Proven != nil:
		return rule.Proven, nil
	case rule.Confidential:
		return s.AuthenticateClient(ctx, req)
	}
	if req.ClientID == "" {
		return nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	if req.ClientSecret != "" || req.ClientAssertion != "" {
		c, err := s.AuthenticateClient(ctx, req)
		if err != nil {
			return nil, err
		}
		c.FOCI, c.SPA = IsFOCI(req.ClientID), rule.SPA
		return c, nil
	}
	c, err := s.lookupClient(ctx, req.Tenant, req.ClientID)
	if err != nil {
		return nil, err
	}
	if !isPublic(c) && !rule.SPA {
		return nil, Errorf(ErrInvalidClient, 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	return &Client{Client: c, Public: true, FOCI: IsFOCI(req.ClientID), SPA: rule.SPA, Method: ClientAuthNone}, nil
}

// accessClaims is step 7: the access token's claims for the decision.
func (s *Service) accessClaims(ctx context.Context, req *Request, client *Client, res Resource, d *Decision) (*AccessClaims, error) {
	c := s.accessClaimsFor(req, res)
	c.Oid, c.Sub = d.ObjectID, d.ObjectID
	appID := client.ServicePrincipal.AppID
	if u := d.User; u != nil {
		user := u.Auth.User
		scp, err := s.DelegatedPermissions(ctx, req.Tenant, client, res, u.Scope, user.ID)
		if err != nil {
			return nil, err
		}
		if c.Roles, err = s.userRoles(ctx, req.Tenant.ID, user.ID, res.ServicePrincipal); err != nil {
			return nil, errStore(err)
		}
		// The resource's registration decides what its tokens say of the
		// user's memberships.
		app, err := s.resourceApplication(ctx, req.Tenant.ID, res)
		if err != nil {
			return nil, err
		}
		m, err := s.membershipsFor(ctx, req.Tenant.ID, user.ID, app, res.ServicePrincipal)
		if err != nil {
			return nil, err
		}
		m.apply(req.BaseURL, user.ID, &c.Groups, &c.Wids, &c.ClaimNames, &c.ClaimSources)
		optional := optionalClaims(app, false)
		if optional["acct"] {
			c.Acct = tenantMember()
		}
		profileClaims(user, optional, c.Ver == "1.0", &c.Email, &c.GivenName, &c.FamilyName)
		c.Idtyp = IdentityTypeUser
		c.Upn, c.UniqueName, c.Name = user.UserPrincipalName, user.UserPrincipalName, user.DisplayName
		c.Scp, c.Amr, c.Acr, c.IPAddr = scp, u.Auth.AMR, "1", req.ClientIP
		if c.Ver == "2.0" {
			c.Azp, c.Azpacr, c.PreferredUsername = appID, client.Method, user.UserPrincipalName
		} else {
			c.AppID, c.AppIDAcr = appID, client.Method
		}
		return c, nil
	}
	roles, err := s.dir.AppRoleValues(ctx, req.Tenant.ID, d.ObjectID, res.ServicePrincipal)
	if err != nil {
		return nil, errStore(err)
	}
	c.Roles, c.Idtyp, c.XmsMirid = roles, IdentityTypeApp, d.ManagedIdentityResourceID
	if c.Ver == "2.0" {
		c.Azp, c.Azpacr = appID, client.Method
	} else {
		c.AppID, c.AppIDAcr, c.Idp = appID, client.Method, c.Iss
	}
	return c, nil
}

// mintResponse is step 9: the signed tokens and the response around them.
func (s *Service) mintResponse(ctx context.Context, req *Request, client *Client, res Resource, d *Decision, claims *AccessClaims) (*Issued, error) {
	lifetime := s.lifetime
	if d.ManagedIdentityResourceID == "" || d.User != nil {
		// Token lifetime policies do not reach managed identities (Entra).
		var err error
		if lifetime, err = s.accessTokenLifetime(ctx, req.Tenant.ID, res.ServicePrincipal.AppID); err != nil {
			return nil, err
		}
	}
	tok, exp, nbf, err := s.Mint(claims, lifetime)
	if err != nil {
		return nil, Transient(err)
	}
	out := &Issued{AccessToken: tok, ExpiresIn: int64(lifetime.Seconds()) - 1, ExpiresOn: exp, NotBefore: nbf,
		Resource: strings.TrimSpace(res.Audience)}
	u := d.User
	if u == nil {
		return out, nil
	}
	out.Scope, out.RefreshToken = u.Scope.ResponseScope(req.Version), u.Refresh
	out.ClientInfo = ClientInfo(u.Auth.User.ID, req.Tenant.ID)
	if client.FOCI && !client.SPA {
		out.FOCI = "1"
	}
	now := s.now().UTC()
	// An SPA learns when its sign-in ends (msal-browser then signs in again
	// rather than presenting a dead refresh token), as Entra tells it.
	if client.SPA && u.Refresh != "" {
		out.RefreshExpiresIn = int64(u.FamilyEnds.Sub(now).Round(time.Second).Seconds())
	}
	// Every user response carries an id_token, even a refresh that did not
	// ask for openid: clients (azure-identity's shared cache refresh) record
	// the account from it, and an account without a username stops
	// matching (CLIENTS.md §2.1).
	if u.NoIDToken {
		return out, nil
	}
	if out.IDToken, err = s.idToken(ctx, req, client, u, now); err != nil {
		return nil, err
	}
	return out, nil
}

// lookupClient finds a client that names itself, refusing an unknown or
// disabled one.
func (s *Service) lookupClient(ctx context.Context, tenant domain.Tenant, clientID string) (directory.Client, error) {
	c, err := s.dir.LookupClient(ctx, tenant.ID, clientID)
	if err != nil {
		return c, errClientLookup(err, tenant, clientID)
	}
	if !c.ServicePrincipal.AccountEnabled {
		return c, Errorf(ErrUnauthorizedClient, 7000112, "Application '%s'(%s) is disabled.", printableScope(clientID), c.ServicePrincipal.DisplayName)
	}
	return c, nil
}
