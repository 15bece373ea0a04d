package directory

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// AssignDirectoryRole gives principalID (a user or service principal) the
// directory role roleID across the tenant.
func (s *Service) AssignDirectoryRole(ctx context.Context, tenantID, principalID, roleID string) (domain.DirectoryRoleAssignment, error) {
	principalID, roleID = normID(principalID), normID(roleID)
	if _, ok := LookupRole(roleID); !ok {
		return domain.DirectoryRoleAssignment{}, invalidf("Invalid value specified for property 'roleDefinitionId' of resource 'UnifiedRoleAssignment': '%s' is not a known directory role.", roleID)
	}
	a := domain.DirectoryRoleAssignment{ID: NewID(), TenantID: tenantID, PrincipalID: principalID, RoleTemplateID: roleID, CreatedAt: s.now().UTC()}
	err := s.inTx(ctx, func(tx Tx) error {
		if _, err := lookupObject(ctx, tx, tenantID, principalID, KindUser, KindServicePrincipal); err != nil {
			return err
		}
		held, err := tx.ListDirectoryRoleAssignments(ctx, tenantID, principalID)
		if err != nil {
			return err
		}
		for _, h := range held {
			if h.RoleTemplateID == roleID {
				return invalidf("A conflicting object with one or more of the specified property values is present in the directory.")
			}
		}
		return tx.CreateDirectoryRoleAssignment(ctx, a)
	})
	if err != nil {
		return domain.DirectoryRoleAssignment{}, fmt.Errorf("assign directory role %s to %s: %w", roleID, principalID, err)
	}
	return a, nil
}

// DirectoryRoleAssignments lists directory role assignments (not
// ownerships): principalID's, or the whole tenant's when it is empty.
func (s *Service) DirectoryRoleAssignments(ctx context.Context, tenantID, principalID string) ([]domain.DirectoryRoleAssignment, error) {
	return roleAssignmentsTx(ctx, s.store, tenantID, normID(principalID))
}

func roleAssignmentsTx(ctx context.Context, st interface {
	objectReader
	store.DirectoryRoles
}, tenantID, principalID string) ([]domain.DirectoryRoleAssignment, error) {
	out := []domain.DirectoryRoleAssignment{}
	collect := func(pid string) error {
		held, err := st.ListDirectoryRoleAssignments(ctx, tenantID, pid)
		if err != nil {
			return fmt.Errorf("list directory roles of %s: %w", pid, err)
		}
		for _, h := range held {
			if !strings.HasPrefix(h.RoleTemplateID, ownerPrefix) {
				out = append(out, h)
			}
		}
		return nil
	}
	var err error
	if principalID != "" {
		err = collect(principalID)
	} else {
		err = eachPrincipal(ctx, st, tenantID, collect)
	}
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// GetDirectoryRoleAssignment returns one directory role assignment by id.
func (s *Service) GetDirectoryRoleAssignment(ctx context.Context, tenantID, id string) (domain.DirectoryRoleAssignment, error) {
	all, err := s.DirectoryRoleAssignments(ctx, tenantID, "")
	if err != nil {
		return domain.DirectoryRoleAssignment{}, err
	}
	id = normID(id)
	for _, a := range all {
		if a.ID == id {
			return a, nil
		}
	}
	return domain.DirectoryRoleAssignment{}, notFound(id)
}

// RevokeDirectoryRole deletes a directory role assignment. The tenant's last
// Global Administrator assignment cannot be removed.
func (s *Service) RevokeDirectoryRole(ctx context.Context, tenantID, id string) (domain.DirectoryRoleAssignment, error) {
	id = normID(id)
	var out domain.DirectoryRoleAssignment
	err := s.inTx(ctx, func(tx Tx) error {
		all, err := roleAssignmentsTx(ctx, tx, tenantID, "")
		if err != nil {
			return err
		}
		admins, found := 0, false
		for _, a := range all {
			if a.RoleTemplateID == domain.RoleGlobalAdministrator {
				admins++
			}
			if a.ID == id {
				out, found = a, true
			}
		}
		if !found {
			return notFound(id)
		}
		if out.RoleTemplateID == domain.RoleGlobalAdministrator && admins == 1 {
			return invalidf("The last Global Administrator role assignment of the tenant cannot be removed.")
		}
		return tx.DeleteDirectoryRoleAssignment(ctx, tenantID, id)
	})
	if err != nil {
		return domain.DirectoryRoleAssignment{}, fmt.Errorf("revoke directory role assignment %s: %w", id, err)
	}
	return out, nil
}
