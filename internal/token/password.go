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

// Exchange implements Grant.
func (g Password) Exchange(ctx context.Context, s *Service, req *Request) (*Issued, *Event, error) {
	ix := g.ix
	username, password := req.Form["username"], req.Form["password"]
	if username == "" {
		return nil, nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'username'.")
	}
	if password == "" {
		return nil, nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'password'.")
	}
	ev := &Event{ActorName: username, Details: map[string]string{"principalType": "User"}}
	// The tenant is read fresh: the resolver's cache may predate a change
	// of the setting.
	t, err := ix.st.GetTenant(ctx, req.Tenant.ID)
	if err != nil {
		return nil, ev, errStore(err)
	}
	req.Tenant.Settings = t.Settings
	if !req.Tenant.Settings.AllowROPC {
		return nil, ev, Errorf(ErrUnauthorizedClient, 7000218,
			"The resource owner password credentials grant is disabled in tenant '%s'. Use an interactive sign-in (authorization code or device code), or ask an administrator to allow it (tessera tenant update --allow-ropc).",
			tenantName(req.Tenant))
	}
	us, err := ParseUserScope(req.Version, req.Scope, req.Resource)
	if err != nil {
		return nil, ev, err
	}
	client, err := ix.clientFor(ctx, s, req, false)
	if err != nil {
		return nil, ev, err
	}
	res, err := s.ResolveResource(ctx, req.Tenant, us.Resource)
	if err != nil {
		return nil, ev, err
	}
	ev.Target, ev.Details["resource"] = res.ServicePrincipal.AppID, us.Resource
	u, err := ix.signins.Authenticate(ctx, req.Tenant, signin.PasswordAttempt{UPN: username, Password: password, Address: req.ClientIP})
	if err != nil {
		if !errors.Is(err, signin.ErrInvalidCredentials) {
			ev.ActorID = u.ID
		}
		return nil, ev, mapSignInError(err, req.Tenant)
	}
	ev.ActorID, ev.ActorName = u.ID, u.UserPrincipalName
	if u.ForceChangePassword {
		// The password is right but must be replaced first, which only an
		// interactive sign-in can do: Entra answers AADSTS50055.
		return nil, ev, Errorf(ErrInvalidGrant, 50055,
			"The password is expired. The user must change it at the next interactive sign-in (authorization code or device code).")
	}
	amr := []string{signin.AMRPassword}
	if err := ix.evaluate(ctx, req, client, res, u, amr, ev); err != nil {
		return nil, ev, err
	}
	issued, err := ix.issueUser(ctx, s, req, client, us, res, userAuth{User: u, AMR: amr, AuthTime: s.now().UTC()}, refreshPlan{})
	return issued, ev, err
}
