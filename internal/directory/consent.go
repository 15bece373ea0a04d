package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// PermissionGrantInput is a new oAuth2PermissionGrant as Graph's POST
// /oauth2PermissionGrants gives it.
type PermissionGrantInput struct {
	ClientID    string // client service principal object id
	ConsentType string
	PrincipalID string // user object id, for Principal grants
	ResourceID  string // resource service principal object id
	Scope       string // space-separated
}

// normalizeScopes splits a space-separated scope string, dropping empty
// and repeated values (compared case-insensitively, as Entra does).
func normalizeScopes(values ...string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, v := range values {
		for _, f := range strings.Fields(v) {
			if k := strings.ToLower(f); !seen[k] {
				seen[k] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// CreatePermissionGrant records consent: the client and resource must be
// service principals of the tenant and, for a Principal grant, the
// principal a user. A second grant for the same client, resource and
// principal is refused: its scope is changed instead.
func (s *Service) CreatePermissionGrant(ctx context.Context, tenantID string, in PermissionGrantInput) (domain.OAuth2PermissionGrant, error) {
	g := domain.OAuth2PermissionGrant{
		ID: NewID(), TenantID: tenantID, ClientID: normID(in.ClientID), ConsentType: in.ConsentType,
		PrincipalID: normID(in.PrincipalID), ResourceID: normID(in.ResourceID),
		Scope: strings.Join(normalizeScopes(in.Scope), " "), CreatedAt: s.now().UTC(),
	}
	switch g.ConsentType {
	case domain.ConsentAllPrincipals:
		if g.PrincipalID != "" {
			return g, badRequestf("principalId must be null when consentType is AllPrincipals.")
		}
	case domain.ConsentPrincipal:
		if g.PrincipalID == "" {
			return g, badRequestf("principalId is required when consentType is Principal.")
		}
	default:
		return g, badRequestf("consentType must be 'AllPrincipals' or 'Principal'.")
	}
	if !IsGUID(g.ClientID) || !IsGUID(g.ResourceID) {
		return g, badRequestf("clientId and resourceId must be service principal object ids.")
	}
	if g.Scope == "" {
		return g, badRequestf("scope is required.")
	}
	err := s.inTx(ctx, func(tx Tx) error {
		if err := checkGrantReferencesTx(ctx, tx, g); err != nil {
			return err
		}
		err := tx.CreatePermissionGrant(ctx, g)
		if errors.Is(err, store.ErrConflict) {
			return badRequestf("Permission entry already exists.")
		}
		return err
	})
	if err != nil {
		return domain.OAuth2PermissionGrant{}, fmt.Errorf("create permission grant: %w", err)
	}
	return g, nil
}

func checkGrantReferencesTx(ctx context.Context, tx Tx, g domain.OAuth2PermissionGrant) error {
	for _, id := range []string{g.ClientID, g.ResourceID} {
		if _, err := tx.GetServicePrincipal(ctx, g.TenantID, id); errors.Is(err, store.ErrNotFound) {
			return notFound(id)
		} else if err != nil {
			return err
		}
	}
	if g.PrincipalID != "" {
		if _, err := tx.GetUser(ctx, g.TenantID, g.PrincipalID); errors.Is(err, store.ErrNotFound) {
			return notFound(g.PrincipalID)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// GetPermissionGrant returns one grant.
func (s *Service) GetPermissionGrant(ctx context.Context, tenantID, id string) (domain.OAuth2PermissionGrant, error) {
	return s.store.GetPermissionGrant(ctx, tenantID, normID(id))
}

// ListPermissionGrants returns the tenant's grants matching f.
func (s *Service) ListPermissionGrants(ctx context.Context, tenantID string, f store.GrantFilter) ([]domain.OAuth2PermissionGrant, error) {
	f.ClientID, f.ResourceID, f.PrincipalID = normID(f.ClientID), normID(f.ResourceID), normID(f.PrincipalID)
	return s.store.ListPermissionGrants(ctx, tenantID, f)
}

// UpdatePermissionGrantScope replaces a grant's scope (Graph's PATCH,
// which changes nothing else).
func (s *Service) UpdatePermissionGrantScope(ctx context.Context, tenantID, id, scope string) (domain.OAuth2PermissionGrant, error) {
	scopes := normalizeScopes(scope)
	if len(scopes) == 0 {
		return domain.OAuth2PermissionGrant{}, badRequestf("scope is required; delete the grant to revoke every scope.")
	}
	var g domain.OAuth2PermissionGrant
	err := s.inTx(ctx, func(tx Tx) error {
		var err error
		if g, err = tx.GetPermissionGrant(ctx, tenantID, normID(id)); err != nil {
			return err
		}
		g.Scope = strings.Join(scopes, " ")
		return tx.UpdatePermissionGrant(ctx, g)
	})
	if err != nil {
		return domain.OAuth2PermissionGrant{}, fmt.Errorf("update permission grant %s: %w", id, err)
	}
	return g, nil
}

// DeletePermissionGrant revokes a grant.
func (s *Service) DeletePermissionGrant(ctx context.Context, tenantID, id string) error {
	if err := s.store.DeletePermissionGrant(ctx, tenantID, normID(id)); err != nil {
		return fmt.Errorf("delete permission grant %s: %w", id, err)
	}
	return nil
}

// GrantedScopes returns the scopes clientSPID may use on resourceSPID for
// userID: those consented for all the tenant's users and those the user
// (or an admin for the user) consented to. An empty userID (an app-only
// request) gets the AllPrincipals grant's scopes only.
func (s *Service) GrantedScopes(ctx context.Context, tenantID, clientSPID, resourceSPID, userID string) ([]string, error) {
	grants, err := s.store.ListPermissionGrants(ctx, tenantID, store.GrantFilter{ClientID: normID(clientSPID), ResourceID: normID(resourceSPID)})
	if err != nil {
		return nil, fmt.Errorf("granted scopes: %w", err)
	}
	var values []string
	for _, g := range grants {
		if g.ConsentType == domain.ConsentAllPrincipals || (userID != "" && g.PrincipalID == normID(userID)) {
			values = append(values, g.Scope)
		}
	}
	return normalizeScopes(values...), nil
}

// Consent merges scopes into the grant of clientSPID on resourceSPID for
// userID ("" for all the tenant's users), creating it when there is none.
// It checks no directory role: the sign-in consent page calls it for the
// signed-in user consenting for themself, or for an administrator's
// consent on behalf of the organisation, after deciding that they may.
func (s *Service) Consent(ctx context.Context, tenantID, clientSPID, resourceSPID, userID string, scopes []string) (domain.OAuth2PermissionGrant, error) {
	want := normalizeScopes(scopes...)
	if len(want) == 0 {
		return domain.OAuth2PermissionGrant{}, badRequestf("No scopes to consent to.")
	}
	g := domain.OAuth2PermissionGrant{
		TenantID: tenantID, ClientID: normID(clientSPID), ResourceID: normID(resourceSPID),
		ConsentType: domain.ConsentAllPrincipals, PrincipalID: normID(userID),
	}
	if g.PrincipalID != "" {
		g.ConsentType = domain.ConsentPrincipal
	}
	attempt := func() error {
		return s.inTx(ctx, func(tx Tx) error {
			existing, err := tx.ListPermissionGrants(ctx, tenantID, store.GrantFilter{
				ClientID: g.ClientID, ResourceID: g.ResourceID, ConsentType: g.ConsentType, PrincipalID: g.PrincipalID})
			if err != nil {
				return err
			}
			for _, e := range existing {
				if e.PrincipalID != g.PrincipalID {
					continue // the filter skips an empty principal id
				}
				merged := normalizeScopes(append([]string{e.Scope}, want...)...)
				if slices.Equal(merged, normalizeScopes(e.Scope)) {
					g = e
					return nil
				}
				e.Scope = strings.Join(merged, " ")
				g = e
				return tx.UpdatePermissionGrant(ctx, e)
			}
			if err := checkGrantReferencesTx(ctx, tx, g); err != nil {
				return err
			}
			g.ID, g.Scope, g.CreatedAt = NewID(), strings.Join(want, " "), s.now().UTC()
			return tx.CreatePermissionGrant(ctx, g)
		})
	}
	err := attempt()
	if errors.Is(err, store.ErrConflict) {
		// A concurrent consent created the grant first: merge into it.
		err = attempt()
	}
	if err != nil {
		return domain.OAuth2PermissionGrant{}, fmt.Errorf("consent for %s on %s: %w", clientSPID, resourceSPID, err)
	}
	return g, nil
}

// removePermissionGrantsTx deletes the grants objectID is the client,
// resource or user of.
func removePermissionGrantsTx(ctx context.Context, tx Tx, tenantID, objectID string, rm *Removed) error {
	objectID = normID(objectID)
	seen := map[string]bool{}
	for _, f := range []store.GrantFilter{{ClientID: objectID}, {ResourceID: objectID}, {PrincipalID: objectID}} {
		grants, err := tx.ListPermissionGrants(ctx, tenantID, f)
		if err != nil {
			return fmt.Errorf("list permission grants: %w", err)
		}
		for _, g := range grants {
			if seen[g.ID] {
				continue
			}
			seen[g.ID] = true
			if err := tx.DeletePermissionGrant(ctx, tenantID, g.ID); err != nil {
				return fmt.Errorf("delete permission grant %s: %w", g.ID, err)
			}
			rm.PermissionGrants = append(rm.PermissionGrants, g.ID)
		}
	}
	return nil
}

// DefaultPermissionGrantPolicy is Entra's default for
// permissionGrantPoliciesAssigned: users may consent for themselves.
const DefaultPermissionGrantPolicy = "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"

// AuthorizationPolicy is the part of Graph's authorizationPolicy Tessera
// keeps: defaultUserRolePermissions.permissionGrantPoliciesAssigned.
type AuthorizationPolicy struct {
	PermissionGrantPoliciesAssigned []string
}

// UserConsentAllowed reports whether the tenant's users may consent to
// applications for themselves.
func (p AuthorizationPolicy) UserConsentAllowed() bool {
	for _, id := range p.PermissionGrantPoliciesAssigned {
		if strings.HasPrefix(id, "ManagePermissionGrantsForSelf.") {
			return true
		}
	}
	return false
}

// GetAuthorizationPolicy returns the tenant's authorization policy.
func (s *Service) GetAuthorizationPolicy(ctx context.Context, tenantID string) (AuthorizationPolicy, error) {
	t, err := s.store.GetTenant(ctx, tenantID)
	if err != nil {
		return AuthorizationPolicy{}, fmt.Errorf("authorization policy of %s: %w", tenantID, err)
	}
	return authorizationPolicyOf(t), nil
}

func authorizationPolicyOf(t domain.Tenant) AuthorizationPolicy {
	if p := t.Settings.PermissionGrantPoliciesAssigned; p != nil {
		return AuthorizationPolicy{PermissionGrantPoliciesAssigned: slices.Clone(*p)}
	}
	return AuthorizationPolicy{PermissionGrantPoliciesAssigned: []string{DefaultPermissionGrantPolicy}}
}

// SetPermissionGrantPolicies replaces the permission grant policies
// assigned to users: [] stops users consenting for themselves.
func (s *Service) SetPermissionGrantPolicies(ctx context.Context, tenantID string, policies []string) (AuthorizationPolicy, error) {
	clean := []string{}
	for _, p := range policies {
		if !strings.HasPrefix(p, "ManagePermissionGrantsForSelf.") && !strings.HasPrefix(p, "ManagePermissionGrantsForOwnedResource.") {
			return AuthorizationPolicy{}, badRequestf("Invalid value '%s' for permissionGrantPoliciesAssigned.", p)
		}
		if !slices.Contains(clean, p) {
			clean = append(clean, p)
		}
	}
	var out AuthorizationPolicy
	err := s.inTx(ctx, func(tx Tx) error {
		t, err := tx.GetTenant(ctx, tenantID)
		if err != nil {
			return err
		}
		t.Settings.PermissionGrantPoliciesAssigned = &clean
		out = authorizationPolicyOf(t)
		return tx.UpdateTenant(ctx, t)
	})
	if err != nil {
		return AuthorizationPolicy{}, fmt.Errorf("set permission grant policies of %s: %w", tenantID, err)
	}
	return out, nil
}

// UserConsentAllowed reports whether the tenant's authorization policy
// lets users consent for themselves.
func (s *Service) UserConsentAllowed(ctx context.Context, tenantID string) (bool, error) {
	p, err := s.GetAuthorizationPolicy(ctx, tenantID)
	if err != nil {
		return false, err
	}
	return p.UserConsentAllowed(), nil
}

// MayConsentForOrganization reports whether userID may consent to an
// application's delegated permissions for every user of the tenant: the
// same people who manage permission grants through Graph.
func (s *Service) MayConsentForOrganization(ctx context.Context, tenantID, userID string) (bool, error) {
	err := s.Authorize(ctx, Actor{TenantID: tenantID, ObjectID: userID}, OpManagePermissionGrants, "")
	if errors.Is(err, ErrForbidden) {
		return false, nil
	}
	return err == nil, err
}
