package token

import (
	"context"
	"errors"
	"strings"

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

// Exchange implements Grant.
func (g AuthorizationCode) Exchange(ctx context.Context, s *Service, req *Request) (*Issued, *Event, error) {
	ix := g.ix
	code := req.Form["code"]
	if code == "" {
		return nil, nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'code'.")
	}
	hash := signin.Hash(code)
	ac, err := ix.st.GetAuthCode(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, Errorf(ErrInvalidGrant, 9002313, "Invalid request. Request is malformed or invalid: the authorization code is not valid.")
	}
	if err != nil {
		return nil, nil, errStore(err)
	}
	ev := &Event{ActorID: ac.UserID, Target: ac.Resource, Details: map[string]string{"principalType": "User", "resource": ac.Resource,
		"amr": strings.Join(ac.AMR, " ")}}
	if ac.TenantID != req.Tenant.ID {
		return nil, ev, Errorf(ErrInvalidGrant, 9002313, "Invalid request. Request is malformed or invalid: the authorization code is not valid.")
	}
	if !ac.RedeemedAt.IsZero() {
		ix.revokeFamily(ctx, ac.FamilyID, ac.TenantID, "authorization code replayed")
		return nil, ev, errCodeRedeemed()
	}
	if !s.now().Before(ac.ExpiresAt) {
		return nil, ev, Errorf(ErrInvalidGrant, 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	}
	if req.ClientID != ac.ClientID {
		return nil, ev, Errorf(ErrInvalidGrant, 70000, "The provided value for the 'code' parameter is not valid: the code was issued to a different client.")
	}
	// A code issued to an SPA redirect is the browser's, and only it.
	if err := checkOrigin(ac.SPA, req.Origin); err != nil {
		return nil, ev, err
	}
	// The redirect_uri must be the very string of the authorize request
	// (RFC 6749 §4.1.3), so a code cannot be replayed through another one.
	if req.Form["redirect_uri"] != ac.RedirectURI {
		return nil, ev, Errorf(ErrInvalidGrant, 50011,
			"The redirect URI '%s' specified in the request does not match the redirect URI used to request the authorization code.",
			printableScope(req.Form["redirect_uri"]))
	}
	if err := CheckVerifier(ac.CodeChallenge, req.Form["code_verifier"]); err != nil {
		return nil, ev, err
	}
	client, err := ix.clientFor(ctx, s, req, ac.SPA)
	if err != nil {
		return nil, ev, err
	}
	// Consume the code; of concurrent redemptions one wins, and the losers
	// are replays like any other.
	if _, err := ix.st.RedeemAuthCode(ctx, hash, s.now().UTC()); err != nil {
		if errors.Is(err, store.ErrConflict) {
			ix.revokeFamily(ctx, ac.FamilyID, ac.TenantID, "authorization code replayed")
			return nil, ev, errCodeRedeemed()
		}
		return nil, ev, errStore(err)
	}
	u, ok, err := ix.signins.UserValid(ctx, ac.TenantID, ac.UserID, ac.AuthTime)
	if err != nil {
		return nil, ev, errStore(err)
	}
	if !ok {
		return nil, ev, Errorf(ErrInvalidGrant, 50173, "The provided grant has expired due to it being revoked; the user was disabled or changed the password. Sign in again.")
	}
	ev.ActorName = u.UserPrincipalName
	us, err := ParseUserScope(ac.Version, ac.Scope, ac.Resource)
	if err != nil {
		return nil, ev, err
	}
	res, err := s.ResolveResource(ctx, req.Tenant, us.Resource)
	if err != nil {
		return nil, ev, err
	}
	ev.Target = res.ServicePrincipal.AppID
	issued, err := ix.issueUser(ctx, s, req, client, us, res,
		userAuth{User: u, AMR: ac.AMR, AuthTime: ac.AuthTime, Nonce: ac.Nonce},
		refreshPlan{NewFamily: ac.FamilyID, OnConflict: errCodeRedeemed()})
	return issued, ev, err
}
