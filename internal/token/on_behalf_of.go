package token

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

// GrantJWTBearer is the grant_type of the on-behalf-of flow.
const GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// OnBehalfOf is the on-behalf-of flow: a confidential client (a middle-tier
// API) that received a user's access token for itself exchanges it for a
// token to a downstream API, as the same user. The assertion must be a
// delegated token Tessera signed, for this tenant, whose audience is the
// client presenting it; the downstream permissions need the same consent as
// any other delegated request, the middle tier being the client.
type OnBehalfOf struct {
	ix       *Interactive
	verifier *Verifier
}

// OnBehalfOf returns the on-behalf-of grant, which verifies assertions
// with verifier.
func (ix *Interactive) OnBehalfOf(verifier *Verifier) OnBehalfOf {
	return OnBehalfOf{ix: ix, verifier: verifier}
}

// Types implements Grant.
func (OnBehalfOf) Types() []string { return []string{GrantJWTBearer} }

// Redeem implements Grant: the user's assertion, verified.
func (g OnBehalfOf) Redeem(_ context.Context, req *Request, ev *Event) (Redemption, error) {
	if use := req.Form["requested_token_use"]; use != "on_behalf_of" {
		if use == "" {
			return nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'requested_token_use'.")
		}
		return nil, Errorf(ErrInvalidRequest, 90015, "Requested token use '%s' is not supported; only 'on_behalf_of' is.", printableScope(use))
	}
	raw := req.Form["assertion"]
	if raw == "" {
		return nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'assertion'.")
	}
	ev.Details["principalType"] = "User"
	claims, err := g.verifier.VerifyAccessToken(raw, g.ix.signins.Now())
	switch {
	case errors.Is(err, ErrTokenExpired), errors.Is(err, ErrTokenNotYet):
		return nil, Errorf(ErrInvalidGrant, 500133, "Assertion is not within its valid time range.")
	case err != nil:
		return nil, Errorf(ErrInvalidGrant, 50013, "Assertion failed signature validation.").WithCause(err)
	}
	ev.ActorID, ev.ActorName = claims.Oid, claims.Upn
	if claims.Upn == "" {
		ev.ActorName = claims.PreferredUsername
	}
	switch {
	case claims.Tid != req.Tenant.ID:
		return nil, Errorf(ErrInvalidGrant, 50013, "Assertion is not valid: it was issued for another tenant.")
	case claims.Idtyp != IdentityTypeUser || claims.Scp == "":
		return nil, Errorf(ErrInvalidGrant, 50013,
			"Assertion is not valid: an on-behalf-of request needs a delegated (user) token, and this one is an application's.")
	}
	return &oboRedemption{ix: g.ix, assertion: claims}, nil
}

type oboRedemption struct {
	ix        *Interactive
	assertion *AccessClaims
	user      domain.User
	scope     UserScope
}

func (*oboRedemption) ClientRule() ClientRule { return ClientRule{Confidential: true} }

// Subject checks that the assertion was issued to the client presenting it
// and that its user may still sign in.
func (r *oboRedemption) Subject(ctx context.Context, req *Request, client *Client, ev *Event) (string, error) {
	a := r.assertion
	if !audienceIsClient(a.Aud, client) {
		return "", Errorf(ErrInvalidGrant, 50013,
			"Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '%s' and the expected audience is '%s' or one of the Application Id URIs of this application.",
			printableScope(a.Aud), client.ServicePrincipal.AppID)
	}
	return r.ix.grantSubject(ctx, req.Tenant.ID, a.Oid, signedAt(a), ev, &r.user, &r.scope, func() (UserScope, error) {
		return ParseUserScope(req.Version, req.Scope, req.Resource)
	})
}

// Authorize evaluates Conditional Access for the downstream resource with
// the methods of the user's sign-in. The response has no id_token, as in
// Entra: the middle tier signed no one in.
func (r *oboRedemption) Authorize(ctx context.Context, req *Request, client *Client, res Resource, ev *Event) (*Decision, error) {
	amr := r.assertion.Amr
	if err := r.ix.evaluate(ctx, req, client, res, r.user, amr, ev); err != nil {
		return nil, err
	}
	d, err := r.ix.userDecision(ctx, req, client, r.scope, userAuth{User: r.user, AMR: amr, AuthTime: signedAt(r.assertion)}, refreshPlan{})
	if err != nil {
		return nil, err
	}
	d.User.NoIDToken = true
	return d, nil
}

// audienceIsClient: aud names the client by its application id or one of
// its identifier URIs.
func audienceIsClient(aud string, client *Client) bool {
	if strings.EqualFold(aud, client.ServicePrincipal.AppID) {
		return true
	}
	if client.Application == nil {
		return false
	}
	for _, u := range client.Application.IdentifierURIs {
		if strings.EqualFold(strings.TrimRight(aud, "/"), strings.TrimRight(u, "/")) {
			return true
		}
	}
	return false
}

// signedAt is when Tessera signed an access token: its iat is back-dated.
func signedAt(c *AccessClaims) time.Time { return time.Unix(c.Iat, 0).Add(skewAllowance) }
