package directory

import (
	"context"
	"errors"
	"fmt"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// ownable resolves objectID to an application, a service principal or a
// group, the objects that have owners.
func ownable(ctx context.Context, st objectReader, tenantID, objectID string) (Object, error) {
	return lookupObject(ctx, st, tenantID, objectID, KindApplication, KindServicePrincipal, KindGroup)
}

// ownableName is how Graph's messages name the kind of an owned object.
func ownableName(o Object) string {
	switch o.Kind {
	case KindGroup:
		return "a group"
	case KindServicePrincipal:
		return "a service principal"
	}
	return "an application"
}

func (s *Service) addOwnerTx(ctx context.Context, tx store.DirectoryRoles, tenantID, objectID, principalID string) error {
	err := tx.CreateDirectoryRoleAssignment(ctx, domain.DirectoryRoleAssignment{
		ID: ownershipID(tenantID, objectID, principalID), TenantID: tenantID, PrincipalID: principalID,
		RoleTemplateID: ownerPrefix + objectID, CreatedAt: s.now().UTC(),
	})
	if errors.Is(err, store.ErrConflict) {
		return invalidf("One or more added object references already exist for the following modified properties: 'owners'.")
	}
	return err
}

// AddOwner makes principalID (a user or service principal) an owner of the
// application, service principal or group objectID.
func (s *Service) AddOwner(ctx context.Context, tenantID, objectID, principalID string) error {
	objectID, principalID = normID(objectID), normID(principalID)
	err := s.inTx(ctx, func(tx Tx) error {
		obj, err := ownable(ctx, tx, tenantID, objectID)
		if err != nil {
			return err
		}
		if _, err := lookupObject(ctx, tx, tenantID, principalID, KindUser, KindServicePrincipal); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				if _, gerr := tx.GetGroup(ctx, tenantID, principalID); gerr == nil {
					return invalidf("Owners of %s must be users or service principals.", ownableName(obj))
				}
			}
			return err
		}
		return s.addOwnerTx(ctx, tx, tenantID, objectID, principalID)
	})
	if err != nil {
		return fmt.Errorf("add owner %s to %s: %w", principalID, objectID, err)
	}
	return nil
}

// RemoveOwner removes an ownership; ErrNotFound when principalID is not an owner.
func (s *Service) RemoveOwner(ctx context.Context, tenantID, objectID, principalID string) error {
	objectID, principalID = normID(objectID), normID(principalID)
	if _, err := ownable(ctx, s.store, tenantID, objectID); err != nil {
		return fmt.Errorf("remove owner of %s: %w", objectID, err)
	}
	if err := s.store.DeleteDirectoryRoleAssignment(ctx, tenantID, ownershipID(tenantID, objectID, principalID)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound(principalID)
		}
		return fmt.Errorf("remove owner %s of %s: %w", principalID, objectID, err)
	}
	return nil
}

// Owners returns the owners of an application, service principal or group. Owners
// of an application also manage its service principal, and are listed for it.
func (s *Service) Owners(ctx context.Context, tenantID, objectID string) ([]Object, error) {
	objectID = normID(objectID)
	obj, err := ownable(ctx, s.store, tenantID, objectID)
	if err != nil {
		return nil, fmt.Errorf("owners of %s: %w", objectID, err)
	}
	ids, err := ownersTx(ctx, s.store, tenantID, objectID)
	if err != nil {
		return nil, err
	}
	if obj.ServicePrincipal != nil {
		app, err := s.store.GetApplicationByAppID(ctx, tenantID, obj.ServicePrincipal.AppID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			more, err := ownersTx(ctx, s.store, tenantID, app.ID)
			if err != nil {
				return nil, err
			}
			ids = append(ids, more...)
		}
	}
	seen := map[string]bool{}
	uniq := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	return s.resolve(ctx, tenantID, uniq, KindUser, KindServicePrincipal)
}

// OwnedObjects returns the applications, service principals and groups principalID owns.
func (s *Service) OwnedObjects(ctx context.Context, tenantID, principalID string) ([]Object, error) {
	a, err := s.AccessOf(ctx, tenantID, principalID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(a.owns))
	for id := range a.owns {
		ids = append(ids, id)
	}
	return s.resolve(ctx, tenantID, ids, KindApplication, KindServicePrincipal, KindGroup)
}
