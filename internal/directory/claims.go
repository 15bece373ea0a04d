package directory

import (
	"context"
	"slices"
)

// MemberGroupIDs returns the ids of the groups principalID is a transitive
// member of, each once, for a token's groups claim; securityOnly keeps
// security groups only (groupMembershipClaims SecurityGroup).
func (s *Service) MemberGroupIDs(ctx context.Context, tenantID, principalID string, securityOnly bool) ([]string, error) {
	return s.GetMemberGroups(ctx, tenantID, principalID, securityOnly)
}

// GetMemberObjects is Graph's getMemberObjects: the objects principalID is
// a transitive member of. Tessera has no per-tenant directoryRole objects
// (roles are addressed by template id), so these are groups only.
func (s *Service) GetMemberObjects(ctx context.Context, tenantID, principalID string, securityEnabledOnly bool) ([]string, error) {
	return s.GetMemberGroups(ctx, tenantID, principalID, securityEnabledOnly)
}

// DirectoryRoleTemplateIDs returns the template ids of the directory roles
// principalID holds, sorted, for a token's wids claim. As for Graph
// authorization, roles count when assigned to the principal itself.
func (s *Service) DirectoryRoleTemplateIDs(ctx context.Context, tenantID, principalID string) ([]string, error) {
	a, err := s.AccessOf(ctx, tenantID, principalID)
	if err != nil {
		return nil, err
	}
	ids := a.Roles()
	slices.Sort(ids)
	return ids, nil
}
