package directory

import (
	"context"
	"fmt"
	"strings"

	"github.com/tessera-id/tessera/internal/store"
)

// removeGrantsTx deletes what principalID holds: its RBAC role assignments,
// app role assignments, directory role assignments (ownerships included)
// and the delegated permission grants it is the client, resource or user of.
func (s *Service) removeGrantsTx(ctx context.Context, tx Tx, tenantID, principalID string, rm *Removed) error {
	if err := removePermissionGrantsTx(ctx, tx, tenantID, principalID, rm); err != nil {
		return err
	}
	ras, err := tx.ListRoleAssignments(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("list role assignments: %w", err)
	}
	for _, a := range ras {
		if strings.EqualFold(a.PrincipalID, principalID) {
			if err := tx.DeleteRoleAssignment(ctx, a.ID); err != nil {
				return fmt.Errorf("delete role assignment %s: %w", a.ID, err)
			}
			rm.RoleAssignments = append(rm.RoleAssignments, a.ID)
		}
	}
	aras, err := tx.ListAppRoleAssignments(ctx, tenantID, principalID)
	if err != nil {
		return fmt.Errorf("list app role assignments: %w", err)
	}
	for _, a := range aras {
		if err := tx.DeleteAppRoleAssignment(ctx, tenantID, a.ID); err != nil {
			return fmt.Errorf("delete app role assignment %s: %w", a.ID, err)
		}
		rm.AppRoleAssignments = append(rm.AppRoleAssignments, a.ID)
	}
	dras, err := tx.ListDirectoryRoleAssignments(ctx, tenantID, principalID)
	if err != nil {
		return fmt.Errorf("list directory role assignments: %w", err)
	}
	for _, a := range dras {
		if err := tx.DeleteDirectoryRoleAssignment(ctx, tenantID, a.ID); err != nil {
			return fmt.Errorf("delete directory role assignment %s: %w", a.ID, err)
		}
		rm.DirectoryRoles = append(rm.DirectoryRoles, a.RoleTemplateID)
	}
	return nil
}

// removeMembershipsTx deletes the edges that make memberID a member of groups.
func (s *Service) removeMembershipsTx(ctx context.Context, tx Tx, tenantID, memberID string, rm *Removed) error {
	edges, err := tx.ListGroupMemberships(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("list group memberships: %w", err)
	}
	for _, e := range edges {
		if normID(e.MemberID) != memberID {
			continue
		}
		if err := tx.RemoveGroupMember(ctx, e); err != nil {
			return fmt.Errorf("remove %s from group %s: %w", memberID, e.GroupID, err)
		}
		rm.Memberships = append(rm.Memberships, e)
	}
	return nil
}

// removeReferencesTx deletes, in one pass over the tenant's principals, the
// app role assignments granted on the service principal resourceID (when not
// empty) and every ownership of the objects in owned.
func (s *Service) removeReferencesTx(ctx context.Context, tx Tx, tenantID, resourceID string, owned []string, rm *Removed) error {
	ownedSet := map[string]bool{}
	for _, id := range owned {
		ownedSet[ownerPrefix+id] = true
	}
	return eachPrincipal(ctx, tx, tenantID, func(pid string) error {
		if resourceID != "" {
			held, err := tx.ListAppRoleAssignments(ctx, tenantID, pid)
			if err != nil {
				return fmt.Errorf("list app role assignments of %s: %w", pid, err)
			}
			for _, a := range held {
				if normID(a.ResourceID) != resourceID {
					continue
				}
				if err := tx.DeleteAppRoleAssignment(ctx, tenantID, a.ID); err != nil {
					return fmt.Errorf("delete app role assignment %s: %w", a.ID, err)
				}
				rm.AppRoleAssignments = append(rm.AppRoleAssignments, a.ID)
			}
		}
		if len(ownedSet) == 0 {
			return nil
		}
		roles, err := tx.ListDirectoryRoleAssignments(ctx, tenantID, pid)
		if err != nil {
			return fmt.Errorf("list directory roles of %s: %w", pid, err)
		}
		for _, a := range roles {
			if !ownedSet[a.RoleTemplateID] {
				continue
			}
			if err := tx.DeleteDirectoryRoleAssignment(ctx, tenantID, a.ID); err != nil {
				return fmt.Errorf("delete ownership %s: %w", a.ID, err)
			}
			rm.OwnershipsOfObject++
		}
		return nil
	})
}

// ownersTx returns the ids of the principals that own objectID.
func ownersTx(ctx context.Context, st interface {
	objectReader
	store.DirectoryRoles
}, tenantID, objectID string) ([]string, error) {
	var out []string
	err := eachPrincipal(ctx, st, tenantID, func(pid string) error {
		held, err := st.ListDirectoryRoleAssignments(ctx, tenantID, pid)
		if err != nil {
			return fmt.Errorf("list directory roles of %s: %w", pid, err)
		}
		for _, h := range held {
			if h.RoleTemplateID == ownerPrefix+objectID {
				out = append(out, pid)
			}
		}
		return nil
	})
	return out, err
}

// deleteServicePrincipalTx deletes a service principal with its memberships
// and the grants it holds; the caller removes what refers to it
// (removeReferencesTx), together with the application's references when the
// application goes too.
func (s *Service) deleteServicePrincipalTx(ctx context.Context, tx Tx, tenantID, spID string, rm *Removed) error {
	if err := s.removeMembershipsTx(ctx, tx, tenantID, spID, rm); err != nil {
		return err
	}
	if err := s.removeGrantsTx(ctx, tx, tenantID, spID, rm); err != nil {
		return err
	}
	if err := tx.DeleteServicePrincipal(ctx, tenantID, spID); err != nil {
		return fmt.Errorf("delete service principal %s: %w", spID, err)
	}
	rm.ServicePrincipalID = spID
	return nil
}
