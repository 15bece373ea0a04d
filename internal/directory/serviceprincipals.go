package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

func servicePrincipalNames(app domain.Application) []string {
	return append([]string{app.AppID}, app.IdentifierURIs...)
}

// CreateServicePrincipal creates the service principal of an application
// registered in the tenant.
func (s *Service) CreateServicePrincipal(ctx context.Context, tenantID, appID string, accountEnabled bool) (domain.ServicePrincipal, error) {
	app, err := s.store.GetApplicationByAppID(ctx, tenantID, appID)
	if errors.Is(err, store.ErrNotFound) {
		return domain.ServicePrincipal{}, invalidf("The appId '%s' of the service principal does not reference a valid application object.", appID)
	}
	if err != nil {
		return domain.ServicePrincipal{}, fmt.Errorf("load application %s: %w", appID, err)
	}
	sp := domain.ServicePrincipal{
		ID: NewID(), TenantID: tenantID, AppID: app.AppID, DisplayName: app.DisplayName,
		AccountEnabled: accountEnabled, ServicePrincipalNames: servicePrincipalNames(app),
		ServicePrincipalType: domain.ServicePrincipalTypeApplication, AppOwnerTenantID: tenantID,
		AppRoles: app.AppRoles, AccessTokenAcceptedVersion: app.AccessTokenAcceptedVersion,
		OAuth2PermissionScopes: app.OAuth2PermissionScopes,
		CreatedAt:              s.now().UTC(),
	}
	if err := s.store.CreateServicePrincipal(ctx, sp); err != nil {
		return domain.ServicePrincipal{}, fmt.Errorf("create service principal for %s: %w", appID, err)
	}
	return sp, nil
}

// ServicePrincipalPatch lists the service principal fields a PATCH may change.
type ServicePrincipalPatch struct {
	AccountEnabled *bool
	DisplayName    *string
}

// UpdateServicePrincipal applies patch to the service principal with object id id.
func (s *Service) UpdateServicePrincipal(ctx context.Context, tenantID, id string, patch ServicePrincipalPatch) (domain.ServicePrincipal, error) {
	var out domain.ServicePrincipal
	err := s.inTx(ctx, func(tx Tx) error {
		sp, err := getServicePrincipal(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if sp.AppOwnerTenantID != tenantID {
			return invalidf("Microsoft first-party service principals cannot be changed.")
		}
		if patch.AccountEnabled != nil {
			sp.AccountEnabled = *patch.AccountEnabled
		}
		if patch.DisplayName != nil {
			if strings.TrimSpace(*patch.DisplayName) == "" {
				return invalidf("Invalid value specified for property 'displayName' of resource 'ServicePrincipal'.")
			}
			sp.DisplayName = *patch.DisplayName
		}
		out = sp
		return tx.UpdateServicePrincipal(ctx, sp)
	})
	if err != nil {
		return domain.ServicePrincipal{}, fmt.Errorf("update service principal %s: %w", id, err)
	}
	return out, nil
}

// AssignAppRole grants the app role appRoleID of the resource service
// principal to principalID (a service principal, user or group).
func (s *Service) AssignAppRole(ctx context.Context, tenantID, principalID, resourceID, appRoleID string) (domain.AppRoleAssignment, error) {
	principalID, resourceID = normID(principalID), normID(resourceID)
	res, err := s.store.GetServicePrincipal(ctx, tenantID, resourceID)
	if errors.Is(err, store.ErrNotFound) {
		return domain.AppRoleAssignment{}, invalidf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", resourceID)
	}
	if err != nil {
		return domain.AppRoleAssignment{}, fmt.Errorf("load resource %s: %w", resourceID, err)
	}
	found := false
	for _, r := range res.AppRoles {
		found = found || (strings.EqualFold(r.ID, appRoleID) && r.IsEnabled)
	}
	if !found {
		return domain.AppRoleAssignment{}, invalidf("Permission being assigned was not found on application '%s'.", res.AppID)
	}
	if _, err := lookupObject(ctx, s.store, tenantID, principalID, KindUser, KindServicePrincipal, KindGroup); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return domain.AppRoleAssignment{}, invalidf("Principal '%s' does not exist in the directory.", principalID)
		}
		return domain.AppRoleAssignment{}, err
	}
	held, err := s.store.ListAppRoleAssignments(ctx, tenantID, principalID)
	if err != nil {
		return domain.AppRoleAssignment{}, fmt.Errorf("list app role assignments of %s: %w", principalID, err)
	}
	for _, h := range held {
		if h.ResourceID == resourceID && strings.EqualFold(h.AppRoleID, appRoleID) {
			return domain.AppRoleAssignment{}, invalidf("Permission being assigned already exists on the object.")
		}
	}
	a := domain.AppRoleAssignment{ID: NewID(), TenantID: tenantID, PrincipalID: principalID, ResourceID: resourceID,
		AppRoleID: strings.ToLower(appRoleID), CreatedAt: s.now().UTC()}
	if err := s.store.CreateAppRoleAssignment(ctx, a); err != nil {
		return domain.AppRoleAssignment{}, fmt.Errorf("create app role assignment: %w", err)
	}
	return a, nil
}

// GetServicePrincipal finds a service principal by object id, or by appId
// when ref has the form appId=GUID.
func (s *Service) GetServicePrincipal(ctx context.Context, tenantID, ref string) (domain.ServicePrincipal, error) {
	return getServicePrincipal(ctx, s.store, tenantID, ref)
}

func getServicePrincipal(ctx context.Context, st store.Apps, tenantID, ref string) (domain.ServicePrincipal, error) {
	if appID, ok := strings.CutPrefix(ref, "appId="); ok {
		return st.GetServicePrincipalByAppID(ctx, tenantID, appID)
	}
	return st.GetServicePrincipal(ctx, tenantID, normID(ref))
}

// ListServicePrincipals returns the tenant's service principals.
func (s *Service) ListServicePrincipals(ctx context.Context, tenantID string) ([]domain.ServicePrincipal, error) {
	return s.store.ListServicePrincipals(ctx, tenantID)
}

// DeleteServicePrincipal deletes a service principal (its application stays)
// with its memberships, ownerships, the grants it holds, the app role
// assignments granted on it and its RBAC role assignments. First-party
// service principals cannot be deleted.
func (s *Service) DeleteServicePrincipal(ctx context.Context, tenantID, ref string) (domain.ServicePrincipal, Removed, error) {
	var rm Removed
	var sp domain.ServicePrincipal
	err := s.inTx(ctx, func(tx Tx) error {
		rm = Removed{}
		var err error
		if sp, err = getServicePrincipal(ctx, tx, tenantID, ref); err != nil {
			return err
		}
		return s.removeServicePrincipalTx(ctx, tx, tenantID, sp, &rm)
	})
	if err != nil {
		return domain.ServicePrincipal{}, Removed{}, fmt.Errorf("delete service principal %s: %w", ref, err)
	}
	return sp, rm, nil
}

// DeleteServicePrincipalTx is DeleteServicePrincipal inside the caller's
// transaction tx, for the resource manager, whose deletes take system-assigned
// and user-assigned identities along. A service principal that does not
// exist is an error wrapping store.ErrNotFound, returned before anything is
// written.
//
// The client cache forgets the principal when the change feed brings the
// committed delete (see Follow).
func (s *Service) DeleteServicePrincipalTx(ctx context.Context, tx store.Tx, tenantID, id string) error {
	id = normID(id)
	sp, err := tx.GetServicePrincipal(ctx, tenantID, id)
	if err != nil {
		return fmt.Errorf("delete service principal %s: %w", id, err)
	}
	var rm Removed
	if err := s.removeServicePrincipalTx(ctx, tx, tenantID, sp, &rm); err != nil {
		return fmt.Errorf("delete service principal %s: %w", id, err)
	}
	return nil
}

// removeServicePrincipalTx applies the rules of deleting sp and deletes it
// with everything that goes with it.
func (s *Service) removeServicePrincipalTx(ctx context.Context, tx Tx, tenantID string, sp domain.ServicePrincipal, rm *Removed) error {
	if sp.AppOwnerTenantID != tenantID {
		return invalidf("Microsoft first-party service principals cannot be deleted.")
	}
	last, err := lastGlobalAdminTx(ctx, tx, tenantID, sp.ID)
	if err != nil {
		return err
	}
	if last {
		return invalidf("The tenant's last Global Administrator cannot be deleted.")
	}
	if err := s.deleteServicePrincipalTx(ctx, tx, tenantID, sp.ID, rm); err != nil {
		return err
	}
	return s.removeReferencesTx(ctx, tx, tenantID, sp.ID, []string{sp.ID}, rm)
}

// CreateManagedIdentityTx creates, inside the caller's transaction tx, the
// service principal behind a managed identity of the ARM resource resourceID.
// It has type ManagedIdentity and neither an application nor credentials, so
// there is no secret anyone could read; its service principal names are its
// client id and resourceID, which is how the token service finds the
// resource for xms_mirid and federated credentials.
func (s *Service) CreateManagedIdentityTx(ctx context.Context, tx store.Tx, tenantID, resourceID, displayName string) (domain.ServicePrincipal, error) {
	sp := domain.ServicePrincipal{
		ID: NewID(), TenantID: tenantID, AppID: NewID(), DisplayName: displayName,
		AccountEnabled: true, ServicePrincipalType: domain.ServicePrincipalTypeManagedIdentity,
		AppOwnerTenantID: tenantID, CreatedAt: s.now().UTC(),
	}
	sp.ServicePrincipalNames = []string{sp.AppID, resourceID}
	if domain.ManagedIdentityResourceID(sp) == "" {
		return domain.ServicePrincipal{}, invalidf("'%s' is not the resource id a managed identity can belong to.", resourceID)
	}
	// No client cache entry needs dropping: nothing could have looked up a
	// client id that did not exist until now.
	if err := tx.CreateServicePrincipal(ctx, sp); err != nil {
		return domain.ServicePrincipal{}, fmt.Errorf("create managed identity of %s: %w", resourceID, err)
	}
	return sp, nil
}

// AddServicePrincipalPassword adds a client secret to a service principal
// (az ad sp credential reset) and returns it once. The token service accepts
// it for client credentials of the service principal's appId.
func (s *Service) AddServicePrincipalPassword(ctx context.Context, tenantID, ref string, in PasswordInput) (domain.PasswordCredential, string, error) {
	cred, secret, err := s.newPassword(in)
	if err != nil {
		return cred, "", err
	}
	err = s.inTx(ctx, func(tx Tx) error {
		sp, err := getServicePrincipal(ctx, tx, tenantID, ref)
		if err != nil {
			return err
		}
		if sp.AppOwnerTenantID != tenantID || sp.PublicClient {
			return invalidf("Credentials cannot be added to a Microsoft first-party service principal.")
		}
		sp.PasswordCredentials = append(sp.PasswordCredentials, cred)
		return tx.UpdateServicePrincipal(ctx, sp)
	})
	if err != nil {
		return domain.PasswordCredential{}, "", fmt.Errorf("add password to service principal %s: %w", ref, err)
	}
	return cred, secret, nil
}

// RemoveServicePrincipalPassword deletes a client secret of a service principal.
func (s *Service) RemoveServicePrincipalPassword(ctx context.Context, tenantID, ref, keyID string) error {
	err := s.inTx(ctx, func(tx Tx) error {
		sp, err := getServicePrincipal(ctx, tx, tenantID, ref)
		if err != nil {
			return err
		}
		kept, found := removePassword(sp.PasswordCredentials, keyID)
		if !found {
			return invalidf("No password credential found with keyId %s.", keyID)
		}
		sp.PasswordCredentials = kept
		return tx.UpdateServicePrincipal(ctx, sp)
	})
	if err != nil {
		return fmt.Errorf("remove password from service principal %s: %w", ref, err)
	}
	return nil
}

// AppRoleAssignments returns the app role assignments principalID holds.
func (s *Service) AppRoleAssignments(ctx context.Context, tenantID, principalID string) ([]domain.AppRoleAssignment, error) {
	principalID = normID(principalID)
	if _, err := lookupObject(ctx, s.store, tenantID, principalID, KindUser, KindServicePrincipal, KindGroup); err != nil {
		return nil, err
	}
	return s.store.ListAppRoleAssignments(ctx, tenantID, principalID)
}

// AppRoleAssignedTo returns the app role assignments granted on the resource
// service principal resourceID.
func (s *Service) AppRoleAssignedTo(ctx context.Context, tenantID, resourceID string) ([]domain.AppRoleAssignment, error) {
	resourceID = normID(resourceID)
	if _, err := s.store.GetServicePrincipal(ctx, tenantID, resourceID); err != nil {
		return nil, fmt.Errorf("get service principal %s: %w", resourceID, err)
	}
	out := []domain.AppRoleAssignment{}
	err := eachPrincipal(ctx, s.store, tenantID, func(pid string) error {
		held, err := s.store.ListAppRoleAssignments(ctx, tenantID, pid)
		if err != nil {
			return err
		}
		for _, a := range held {
			if normID(a.ResourceID) == resourceID {
				out = append(out, a)
			}
		}
		return nil
	})
	return out, err
}

// RemoveAppRoleAssignment deletes the app role assignment id held by
// principalID.
func (s *Service) RemoveAppRoleAssignment(ctx context.Context, tenantID, principalID, id string) (domain.AppRoleAssignment, error) {
	held, err := s.AppRoleAssignments(ctx, tenantID, principalID)
	if err != nil {
		return domain.AppRoleAssignment{}, err
	}
	for _, a := range held {
		if strings.EqualFold(a.ID, id) {
			if err := s.store.DeleteAppRoleAssignment(ctx, tenantID, a.ID); err != nil {
				return domain.AppRoleAssignment{}, fmt.Errorf("delete app role assignment %s: %w", a.ID, err)
			}
			return a, nil
		}
	}
	return domain.AppRoleAssignment{}, notFound(id)
}
