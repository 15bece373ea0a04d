package token

// Delegated permissions and the claims a user's token carries about the
// user's memberships: what an API registered in the tenant (one that
// exposes oauth2PermissionScopes) lets a client do on a user's behalf, as
// consented; and groups, wids and roles as the application asks for them.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// groupsClaimLimit is how many groups a JWT carries before Entra replaces
// them with a pointer to Graph (the overage claim).
const groupsClaimLimit = 200

// consentGoverned reports whether a user token for res needs consent: the
// resource is an API of the tenant's that exposes delegated permissions.
// Microsoft's first-party resources (ARM, Graph and the others Tessera
// serves) are consented for the whole organisation, and a client asking
// for a token to itself needs no consent.
func consentGoverned(client *Client, res Resource) bool {
	return len(res.ServicePrincipal.OAuth2PermissionScopes) > 0 && client.ServicePrincipal.ID != res.ServicePrincipal.ID
}

// DelegatedPermissions is the scp of a user token for res: for an API that
// needs consent, the permissions asked for, which must all be granted
// (AADSTS65001 otherwise), or for "/.default" every permission granted; for
// other resources UserScope.DelegatedScp.
func (s *Service) DelegatedPermissions(ctx context.Context, tenant domain.Tenant, client *Client, res Resource, us UserScope, userID string) (string, error) {
	if !consentGoverned(client, res) {
		return us.DelegatedScp(), nil
	}
	missing, granted, err := s.MissingConsent(ctx, tenant, client, res, us, userID)
	if err != nil {
		return "", err
	}
	if len(missing) > 0 || len(granted) == 0 {
		return "", errConsentMissing(client, res)
	}
	if len(us.Permissions) == 0 {
		return strings.Join(granted, " "), nil
	}
	return strings.Join(us.Permissions, " "), nil
}

// MissingConsent reports the permissions of us that userID has not
// consented to for client on res (nil when none, or when res needs no
// consent), and those granted. A permission the API does not expose is
// refused (AADSTS650053).
func (s *Service) MissingConsent(ctx context.Context, tenant domain.Tenant, client *Client, res Resource, us UserScope, userID string) (missing []domain.PermissionScope, granted []string, err error) {
	if !consentGoverned(client, res) {
		return nil, nil, nil
	}
	exposed := map[string]domain.PermissionScope{}
	for _, p := range res.ServicePrincipal.OAuth2PermissionScopes {
		if p.IsEnabled {
			exposed[strings.ToLower(p.Value)] = p
		}
	}
	have, err := s.dir.GrantedScopes(ctx, tenant.ID, client.ServicePrincipal.ID, res.ServicePrincipal.ID, userID)
	if err != nil {
		return nil, nil, errStore(err)
	}
	grantedSet := map[string]bool{}
	for _, g := range have {
		if p, ok := exposed[strings.ToLower(g)]; ok && !grantedSet[strings.ToLower(p.Value)] {
			grantedSet[strings.ToLower(p.Value)] = true
			granted = append(granted, p.Value)
		}
	}
	wanted := us.Permissions
	if len(wanted) == 0 {
		// "/.default": the permissions the client's registration requires
		// of this resource (static consent).
		wanted = requiredScopes(client, res)
	}
	for _, w := range wanted {
		p, ok := exposed[strings.ToLower(w)]
		if !ok {
			return nil, nil, Errorf(ErrInvalidScope, 650053,
				"The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.",
				client.ServicePrincipal.DisplayName, printableScope(w), res.ServicePrincipal.AppID)
		}
		if !grantedSet[strings.ToLower(p.Value)] {
			missing = append(missing, p)
		}
	}
	return missing, granted, nil
}

// requiredScopes are the delegated permissions of res the client's
// registration lists in requiredResourceAccess.
func requiredScopes(client *Client, res Resource) []string {
	if client.Application == nil {
		return nil
	}
	var out []string
	for _, rra := range client.Application.RequiredResourceAccess {
		if !strings.EqualFold(rra.ResourceAppID, res.ServicePrincipal.AppID) {
			continue
		}
		for _, ra := range rra.ResourceAccess {
			if ra.Type != "Scope" {
				continue
			}
			for _, p := range res.ServicePrincipal.OAuth2PermissionScopes {
				if strings.EqualFold(p.ID, ra.ID) {
					out = append(out, p.Value)
				}
			}
		}
	}
	return out
}

// errConsentMissing is Entra's AADSTS65001.
func errConsentMissing(client *Client, res Resource) error {
	return Errorf(ErrInvalidGrant, 65001,
		"The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource (resource '%s').",
		client.ServicePrincipal.AppID, client.ServicePrincipal.DisplayName, res.ServicePrincipal.AppID)
}

// memberships are a user's groups and directory roles as a token carries
// them.
type memberships struct {
	// Groups are the group object ids the application's
	// groupMembershipClaims selects; nil when it selects none.
	Groups []string
	// Overage: more groups than a JWT carries, so Groups is dropped and the
	// token points at Graph's getMemberObjects instead.
	Overage bool
	// Wids are the template ids of the user's directory roles.
	Wids []string
}

// membershipsFor reads what app's groupMembershipClaims asks of a user's
// token: SecurityGroup (security groups), All (every group, and directory
// roles), ApplicationGroup (the groups assigned to resource), DirectoryRole
// (directory roles only). Membership is transitive, as in Entra.
func (s *Service) membershipsFor(ctx context.Context, tenantID, userID string, app *domain.Application, resource domain.ServicePrincipal) (memberships, error) {
	var m memberships
	if app == nil {
		return m, nil
	}
	setting := strings.ToLower(app.GroupMembershipClaims)
	wantGroups := setting == "securitygroup" || setting == "all" || setting == "applicationgroup"
	if wantGroups {
		groups, err := s.dir.MemberOf(ctx, tenantID, userID, true)
		if err != nil {
			return m, errStore(fmt.Errorf("groups of %s: %w", userID, err))
		}
		m.Groups = []string{}
		for _, g := range groups {
			switch {
			case setting == "securitygroup" && !g.SecurityEnabled:
				continue
			case setting == "applicationgroup":
				// Read per group of the user, not per principal of the
				// tenant (what the resource granted to anyone).
				held, err := s.dir.AppRoleAssignments(ctx, tenantID, g.ID)
				if err != nil {
					return m, errStore(err)
				}
				if !slices.ContainsFunc(held, func(a domain.AppRoleAssignment) bool { return strings.EqualFold(a.ResourceID, resource.ID) }) {
					continue
				}
			}
			m.Groups = append(m.Groups, g.ID)
		}
		slices.Sort(m.Groups)
		if len(m.Groups) > groupsClaimLimit {
			m.Groups, m.Overage = nil, true
		}
	}
	if setting == "all" || setting == "directoryrole" {
		roles, err := s.dir.DirectoryRoleAssignments(ctx, tenantID, userID)
		if err != nil {
			return m, errStore(err)
		}
		for _, r := range roles {
			if !slices.Contains(m.Wids, r.RoleTemplateID) {
				m.Wids = append(m.Wids, r.RoleTemplateID)
			}
		}
	}
	return m, nil
}

// apply puts the memberships on a token's claims.
func (m memberships) apply(baseURL, userID string, groups *[]string, wids *[]string, names *map[string]string, sources *map[string]ClaimSource) {
	*groups, *wids = m.Groups, m.Wids
	if m.Overage {
		*names = map[string]string{"groups": "src1"}
		*sources = map[string]ClaimSource{"src1": {Endpoint: baseURL + "/graph/v1.0/users/" + userID + "/getMemberObjects"}}
	}
}

// userRoles are the app roles of resource a user holds directly or through
// any group it belongs to.
func (s *Service) userRoles(ctx context.Context, tenantID, userID string, resource domain.ServicePrincipal) ([]string, error) {
	roles, err := s.dir.AppRoleValues(ctx, tenantID, userID, resource)
	if err != nil || len(resource.AppRoles) == 0 {
		return roles, err
	}
	groups, err := s.dir.MemberOf(ctx, tenantID, userID, true)
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", userID, err)
	}
	for _, g := range groups {
		held, err := s.dir.AppRoleValues(ctx, tenantID, g.ID, resource)
		if err != nil {
			return nil, err
		}
		for _, r := range held {
			if !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	return roles, nil
}

// resourceApplication is the application registration behind a resource,
// nil for one without (a managed identity, a first-party resource).
func (s *Service) resourceApplication(ctx context.Context, tenantID string, res Resource) (*domain.Application, error) {
	c, err := s.dir.LookupClient(ctx, tenantID, res.ServicePrincipal.AppID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, errStore(err)
	}
	return c.Application, nil
}

// optionalClaims are the names of the optional claims an application asks
// for in one token type (optionalClaims.accessToken or .idToken). Tessera
// emits those it has data for: upn, acct (0: the user is the tenant's own),
// ipaddr, and email, given_name and family_name (profileClaims); groups
// follows groupMembershipClaims.
func optionalClaims(app *domain.Application, idToken bool) map[string]bool {
	if app == nil || app.OptionalClaims == nil {
		return nil
	}
	list := app.OptionalClaims.AccessToken
	if idToken {
		list = app.OptionalClaims.IDToken
	}
	out := map[string]bool{}
	for _, c := range list {
		out[strings.ToLower(c.Name)] = true
	}
	return out
}

// profileClaims sets the claims drawn from the user's profile: email (the
// mail property) when the application asks for it, given_name and
// family_name when it asks or the token is v1, whose user tokens carry them
// by default. A property the user lacks leaves its claim out, as in Entra.
func profileClaims(u domain.User, optional map[string]bool, v1 bool, email, givenName, familyName *string) {
	if optional["email"] {
		*email = u.Mail
	}
	if v1 || optional["given_name"] {
		*givenName = u.GivenName
	}
	if v1 || optional["family_name"] {
		*familyName = u.Surname
	}
}

// tenantMember is acct's value for a user of the tenant itself (0).
func tenantMember() *int { return new(int) }
