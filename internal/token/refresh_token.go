package token

import (
	"context"
	"errors"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/store"
)

// RefreshToken is the refresh_token grant. Every use rotates the token: the
// presented one is spent and a new one of the same family returned. A spent
// token presented again means two parties hold it, so the family (every
// token descending from that sign-in) is revoked; rotation and revocation
// are single store operations, so two concurrent refreshes of one token
// cannot both succeed, and a refresh racing a revocation cannot outlive it.
//
// A token expires after RefreshIdle without use (sliding) and its family
// RefreshMax after the sign-in (absolute); a single-page application's
// family 24 hours after the sign-in (spa.go). A family ends when its user is
// disabled or resets the password. Members of Microsoft's family of client
// ids (FOCI: the Azure CLI, Azure PowerShell, Visual Studio, VS Code)
// redeem each other's tokens, as SharedTokenCacheCredential relies on.
type RefreshToken struct{ ix *Interactive }

// RefreshToken returns the refresh token grant.
func (ix *Interactive) RefreshToken() RefreshToken { return RefreshToken{ix: ix} }

// Types implements Grant.
func (RefreshToken) Types() []string { return []string{"refresh_token"} }

// Redeem implements Grant: the refresh token, checked against its family
// and the client that presents it.
func (g RefreshToken) Redeem(ctx context.Context, req *Request, ev *Event) (Redemption, error) {
	ix := g.ix
	value := req.Form["refresh_token"]
	if value == "" {
		return nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'refresh_token'.")
	}
	hash := signin.Hash(value)
	rt, fam, err := ix.st.GetRefreshToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(ErrInvalidGrant, 9002313, "Invalid request. Request is malformed or invalid: the refresh token is not valid.")
	}
	if err != nil {
		return nil, errStore(err)
	}
	ev.ActorID = fam.UserID
	ev.Details["principalType"], ev.Details["familyId"], ev.Details["amr"] = "User", fam.ID, strings.Join(fam.AMR, " ")
	now := ix.signins.Now()
	switch {
	case fam.TenantID != req.Tenant.ID:
		return nil, Errorf(ErrInvalidGrant, 9002313, "Invalid request. Request is malformed or invalid: the refresh token is not valid.")
	case !fam.RevokedAt.IsZero():
		return nil, errRefreshRevoked()
	case !rt.UsedAt.IsZero():
		ix.revokeFamily(ctx, fam.ID, fam.TenantID, "refresh token reuse")
		return nil, errRefreshReused()
	case !now.Before(rt.ExpiresAt):
		return nil, Errorf(ErrInvalidGrant, 700082, "The refresh token has expired due to inactivity. The token was issued on %s and was inactive for the maximum allowed time.",
			rt.IssuedAt.UTC().Format("2006-01-02T15:04:05Z"))
	case !fam.ExpiresAt.IsZero() && !now.Before(fam.ExpiresAt):
		return nil, Errorf(ErrInvalidGrant, 700082, "The refresh token has expired: the sign-in of %s reached its maximum lifetime. Sign in again.",
			fam.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	// The client must be the one the token was issued to, or both must be
	// family (FOCI) clients.
	if req.ClientID != rt.ClientID && !(fam.FOCI && IsFOCI(req.ClientID)) {
		return nil, Errorf(ErrInvalidGrant, 70000, "The provided grant is invalid or malformed: the refresh token was issued to a different client.")
	}
	// An SPA sign-in's tokens are redeemed by the browser, and only it.
	if err := checkOrigin(fam.SPA, req.Origin); err != nil {
		return nil, err
	}
	return &refreshRedemption{ix: ix, hash: hash, family: fam}, nil
}

type refreshRedemption struct {
	ix     *Interactive
	hash   string
	family domain.RefreshFamily
	scope  UserScope
	user   domain.User
}

func (r *refreshRedemption) ClientRule() ClientRule { return ClientRule{SPA: r.family.SPA} }

func (r *refreshRedemption) Subject(ctx context.Context, req *Request, _ *Client, ev *Event) (string, error) {
	ix, fam := r.ix, r.family
	resource, err := ix.grantSubject(ctx, fam.TenantID, fam.UserID, fam.AuthTime, ev, &r.user, &r.scope, func() (UserScope, error) {
		return ParseUserScope(req.Version, req.Scope, req.Resource)
	})
	if errors.Is(err, errUserRevoked) {
		ix.revokeFamily(ctx, fam.ID, fam.TenantID, "user disabled, deleted or password reset")
	}
	return resource, err
}

// Authorize evaluates Conditional Access again, with the methods of the
// original sign-in: a refresh may ask for another resource than the
// sign-in did.
func (r *refreshRedemption) Authorize(ctx context.Context, req *Request, client *Client, res Resource, ev *Event) (*Decision, error) {
	fam := r.family
	if err := r.ix.evaluate(ctx, req, client, res, r.user, fam.AMR, ev); err != nil {
		return nil, err
	}
	return r.ix.userDecision(ctx, req, client, r.scope, userAuth{User: r.user, AMR: fam.AMR, AuthTime: fam.AuthTime, SID: fam.SID},
		refreshPlan{Family: &fam, RotateFrom: r.hash})
}
