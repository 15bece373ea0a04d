package token

import (
	"context"
	"errors"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/store"
)

// AuthorizationCode redeems a code issued by /authorize (RFC 6749 §4.1.3)
// with PKCE (RFC 7636). A code is good once and for a few minutes; its
// redemption must name the same client and repeat the redirect_uri exactly;
// its code_verifier must hash to the code_challenge. A code presented a
// second time revokes the refresh token family its first redemption issued
// (RFC 6749 §4.1.2: "SHOULD revoke"), since one of the two presenters
// stole it.
type AuthorizationCode struct{ ix *Interactive }

// AuthorizationCode returns the authorization code grant.
func (ix *Interactive) AuthorizationCode() AuthorizationCode { return AuthorizationCode{ix: ix} }

// Types implements Grant.
func (AuthorizationCode) Types() []string { return []string{"authorization_code"} }

func errCodeRedeemed() error {
	return Errorf(ErrInvalidGrant, 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
}

// Redeem implements Grant: the code, checked against the request that
// redeems it.
func (g AuthorizationCode) Redeem(ctx context.Context, req *Request, ev *Event) (Redemption, error) {
	ix := g.ix
	code := req.Form["code"]
	if code == "" {
		return nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'code'.")
	}
	hash := signin.Hash(code)
	ac, err := ix.st.GetAuthCode(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(ErrInvalidGrant, 9002313, "Invalid request. Request is malformed or invalid: the authorization code is not valid.")
	}
	if err != nil {
		return nil, errStore(err)
	}
	ev.ActorID, ev.Target = ac.UserID, ac.Resource
	ev.Details["principalType"], ev.Details["resource"], ev.Details["amr"] = "User", ac.Resource, strings.Join(ac.AMR, " ")
	if ac.TenantID != req.Tenant.ID {
		return nil, Errorf(ErrInvalidGrant, 9002313, "Invalid request. Request is malformed or invalid: the authorization code is not valid.")
	}
	if !ac.RedeemedAt.IsZero() {
		ix.revokeFamily(ctx, ac.FamilyID, ac.TenantID, "authorization code replayed")
		return nil, errCodeRedeemed()
	}
	if !ix.signins.Now().Before(ac.ExpiresAt) {
		return nil, Errorf(ErrInvalidGrant, 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	}
	if req.ClientID != ac.ClientID {
		return nil, Errorf(ErrInvalidGrant, 70000, "The provided value for the 'code' parameter is not valid: the code was issued to a different client.")
	}
	// A code issued to an SPA redirect is the browser's, and only it.
	if err := checkOrigin(ac.SPA, req.Origin); err != nil {
		return nil, err
	}
	// The redirect_uri must be the very string of the authorize request
	// (RFC 6749 §4.1.3), so a code cannot be replayed through another one.
	if req.Form["redirect_uri"] != ac.RedirectURI {
		return nil, Errorf(ErrInvalidGrant, 50011,
			"The redirect URI '%s' specified in the request does not match the redirect URI used to request the authorization code.",
			printableScope(req.Form["redirect_uri"]))
	}
	if err := CheckVerifier(ac.CodeChallenge, req.Form["code_verifier"]); err != nil {
		return nil, err
	}
	return &codeRedemption{ix: ix, hash: hash, code: ac}, nil
}

type codeRedemption struct {
	ix    *Interactive
	hash  string
	code  domain.AuthCode
	scope UserScope
	user  domain.User
}

func (r *codeRedemption) ClientRule() ClientRule { return ClientRule{SPA: r.code.SPA} }

// Subject consumes the code: of concurrent redemptions one wins, and the
// losers are replays like any other.
func (r *codeRedemption) Subject(ctx context.Context, _ *Request, _ *Client, ev *Event) (string, error) {
	ix, ac := r.ix, r.code
	if _, err := ix.st.RedeemAuthCode(ctx, r.hash, ix.signins.Now().UTC()); err != nil {
		if errors.Is(err, store.ErrConflict) {
			ix.revokeFamily(ctx, ac.FamilyID, ac.TenantID, "authorization code replayed")
			return "", errCodeRedeemed()
		}
		return "", errStore(err)
	}
	return ix.grantSubject(ctx, ac.TenantID, ac.UserID, ac.AuthTime, ev, &r.user, &r.scope, func() (UserScope, error) {
		return ParseUserScope(ac.Version, ac.Scope, ac.Resource)
	})
}

func (r *codeRedemption) Authorize(ctx context.Context, req *Request, client *Client, _ Resource, _ *Event) (*Decision, error) {
	ac := r.code
	return r.ix.userDecision(ctx, req, client, r.scope,
		userAuth{User: r.user, AMR: ac.AMR, AuthTime: ac.AuthTime, Nonce: ac.Nonce, SID: signin.SID(ac.SessionID)},
		refreshPlan{NewFamily: ac.FamilyID, OnConflict: errCodeRedeemed()})
}
