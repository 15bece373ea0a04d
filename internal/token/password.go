package token

import (
	"context"
	"errors"

	"github.com/tessera-id/tessera/internal/signin"
)

// Password is the resource owner password credentials grant (ROPC), kept
// for test automation. It is off unless the tenant enables it
// (TenantSettings.AllowROPC), and it cannot satisfy a second factor, so a
// sign-in that needs one (Conditional Access or the user's own MFA) is
// refused with AADSTS50076 and must use an interactive flow.
type Password struct{ ix *Interactive }

// Password returns the password grant.
func (ix *Interactive) Password() Password { return Password{ix: ix} }

// Types implements Grant.
func (Password) Types() []string { return []string{"password"} }

// Redeem implements Grant: the password grant's parameters, and the
// tenant's setting that allows it.
func (g Password) Redeem(ctx context.Context, req *Request, ev *Event) (Redemption, error) {
	ix := g.ix
	username, password := req.Form["username"], req.Form["password"]
	if username == "" {
		return nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'username'.")
	}
	if password == "" {
		return nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'password'.")
	}
	ev.ActorName, ev.Details["principalType"] = username, "User"
	// The tenant is read fresh: the resolver's cache may predate a change
	// of the setting.
	t, err := ix.st.GetTenant(ctx, req.Tenant.ID)
	if err != nil {
		return nil, errStore(err)
	}
	req.Tenant.Settings = t.Settings
	if !req.Tenant.Settings.AllowROPC {
		return nil, Errorf(ErrUnauthorizedClient, 7000218,
			"The resource owner password credentials grant is disabled in tenant '%s'. Use an interactive sign-in (authorization code or device code), or ask an administrator to allow it (tessera tenant update --allow-ropc).",
			tenantName(req.Tenant))
	}
	us, err := ParseUserScope(req.Version, req.Scope, req.Resource)
	if err != nil {
		return nil, err
	}
	return &passwordRedemption{ix: ix, username: username, password: password, scope: us}, nil
}

type passwordRedemption struct {
	ix                 *Interactive
	username, password string
	scope              UserScope
}

func (*passwordRedemption) ClientRule() ClientRule { return ClientRule{} }

func (r *passwordRedemption) Subject(context.Context, *Request, *Client, *Event) (string, error) {
	return r.scope.Resource, nil
}

// Authorize checks the password only now, once the request is known to be
// good, so that a malformed request costs the user no failed attempt.
func (r *passwordRedemption) Authorize(ctx context.Context, req *Request, client *Client, res Resource, ev *Event) (*Decision, error) {
	ix := r.ix
	u, err := ix.signins.Authenticate(ctx, req.Tenant, signin.PasswordAttempt{UPN: r.username, Password: r.password, Address: req.ClientIP})
	if err != nil {
		if !errors.Is(err, signin.ErrInvalidCredentials) {
			ev.ActorID = u.ID
		}
		return nil, mapSignInError(err, req.Tenant)
	}
	ev.ActorID, ev.ActorName = u.ID, u.UserPrincipalName
	if u.ForceChangePassword {
		// The password is right but must be replaced first, which only an
		// interactive sign-in can do: Entra answers AADSTS50055.
		return nil, Errorf(ErrInvalidGrant, 50055,
			"The password is expired. The user must change it at the next interactive sign-in (authorization code or device code).")
	}
	amr := []string{signin.AMRPassword}
	if err := ix.evaluate(ctx, req, client, res, u, amr, ev); err != nil {
		return nil, err
	}
	return ix.userDecision(ctx, req, client, r.scope, userAuth{User: u, AMR: amr, AuthTime: ix.signins.Now().UTC()}, refreshPlan{})
}
