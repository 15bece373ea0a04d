package directory

import (
	"context"
	"slices"
)

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
