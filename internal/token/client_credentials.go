package token

import (
	"context"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
)

// ClientCredentials is the client_credentials grant: an app-only token for a
// confidential client.
type ClientCredentials struct{}

// Types implements Grant.
func (ClientCredentials) Types() []string { return []string{"client_credentials"} }

// Exchange implements Grant.
func (ClientCredentials) Exchange(ctx context.Context, s *Service, req *Request) (*Issued, *Event, error) {
	resourceName, err := ResourceFromRequest(req)
	if err != nil {
		return nil, nil, err
	}
	client, err := s.AuthenticateClient(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	sp := client.ServicePrincipal
	ev := &Event{ActorID: sp.ID, ActorName: sp.DisplayName,
		Details: map[string]string{"credential": client.Credential, "resource": resourceName}}
	res, err := s.ResolveResource(ctx, req.Tenant, resourceName)
	if err != nil {
		return nil, ev, err
	}
	ev.Target = res.ServicePrincipal.AppID
	roles, err := s.dir.AppRoleValues(ctx, req.Tenant.ID, sp.ID, res.ServicePrincipal)
	if err != nil {
		return nil, ev, errStore(err)
	}
	c := s.accessClaimsFor(req, res)
	c.Oid, c.Sub, c.Idtyp, c.Roles = sp.ID, sp.ID, IdentityTypeApp, roles
	// A user-assigned identity signing in by workload identity federation
	// gets the xms_mirid its managed-identity tokens carry.
	c.XmsMirid = domain.ManagedIdentityResourceID(sp)
	if c.Ver == "2.0" {
		c.Azp, c.Azpacr = sp.AppID, client.Method
	} else {
		c.AppID, c.AppIDAcr, c.Idp = sp.AppID, client.Method, c.Iss
	}
	s.announceSuccess(ctx, req, ev)
	tok, exp, nbf, err := s.Mint(c)
	if err != nil {
		return nil, ev, Transient(err)
	}
	return &Issued{
		AccessToken: tok, ExpiresIn: int64(s.lifetime.Seconds()) - 1, ExpiresOn: exp, NotBefore: nbf,
		Resource: strings.TrimSpace(res.Audience),
	}, ev, nil
}
