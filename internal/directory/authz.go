package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// Directory role template ids besides the administrator roles in domain.
const (
	RoleReportsReader   = "4a5d8f65-41da-4de4-8968-e035b65339cf"
	RoleSecurityReader  = "5d6b6bb7-de71-4623-b4af-96380a352509"
	RoleDirectoryReader = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
	// RoleAuthenticationAdministrator reads and resets the authentication
	// methods of users who hold no administrator role.
	RoleAuthenticationAdministrator = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
	// RolePrivilegedAuthenticationAdministrator reads and resets the
	// authentication methods of every user, administrators included.
	RolePrivilegedAuthenticationAdministrator = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	// RoleConditionalAccessAdministrator and RoleSecurityAdministrator
	// manage Conditional Access policies and named locations.
	RoleConditionalAccessAdministrator = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
	RoleSecurityAdministrator          = "194ae4cb-b126-40b2-bd5b-6091b380977d"
)

// RoleInfo describes a directory role Tessera knows.
type RoleInfo struct {
	ID          string
	DisplayName string
	Description string
	// UserAdminManageable: a User Administrator may reset the password of,
	// disable or delete a user holding only roles with this flag (Entra's
	// rule: the helpdesk cannot take over an administrator).
	UserAdminManageable bool
}

// DirectoryRoles are the directory roles that may be assigned.
var DirectoryRoles = []RoleInfo{
	{domain.RoleGlobalAdministrator, "Global Administrator", "Can manage all aspects of the directory.", false},
	{domain.RolePrivilegedRoleAdministrator, "Privileged Role Administrator", "Can manage directory role assignments and app role assignments.", false},
	{domain.RoleApplicationAdministrator, "Application Administrator", "Can create and manage all aspects of app registrations and service principals.", false},
	{domain.RoleCloudApplicationAdministrator, "Cloud Application Administrator", "Can create and manage all aspects of app registrations and service principals.", false},
	{domain.RoleUserAdministrator, "User Administrator", "Can manage all aspects of users and groups, including resetting passwords for limited admins.", true},
	{domain.RoleGroupsAdministrator, "Groups Administrator", "Can manage all aspects of groups.", true},
	{RoleReportsReader, "Reports Reader", "Can read sign-in and audit reports.", true},
	{RoleSecurityReader, "Security Reader", "Can read security information and reports.", false},
	{RoleDirectoryReader, "Directory Readers", "Can read basic directory information.", true},
	{RoleAuthenticationAdministrator, "Authentication Administrator", "Can access to view, set and reset authentication method information for any non-admin user.", false},
	{RolePrivilegedAuthenticationAdministrator, "Privileged Authentication Administrator", "Can access to view, set and reset authentication method information for any user (admin or non-admin).", false},
	{RoleConditionalAccessAdministrator, "Conditional Access Administrator", "Can manage Conditional Access capabilities.", false},
	{RoleSecurityAdministrator, "Security Administrator", "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.", false},
}

// LookupRole returns the role with template id id.
func LookupRole(id string) (RoleInfo, bool) {
	id = normID(id)
	for _, r := range DirectoryRoles {
		if r.ID == id {
			return r, true
		}
	}
	return RoleInfo{}, false
}

// Ownership of an application is kept as a directory role assignment scoped
// to that one object: its template id is ownerPrefix followed by the
// application's object id, and its id is derived from (tenant, object,
// owner) so that a second grant of the same ownership is a key conflict.
// The per-request authorization lookup (ListDirectoryRoleAssignments of the
// caller) then yields roles and owned objects in one query.
const ownerPrefix = "owner:"

var ownerNamespace = uuid.MustParse("6f0b1c52-5f2e-4d0e-9d53-7f4e2f2b6a10")

func ownershipID(tenantID, objectID, principalID string) string {
	return uuid.NewSHA1(ownerNamespace, []byte(tenantID+"/"+objectID+"/"+principalID)).String()
}

// Actor is who performs a directory operation: the oid of a Graph token.
type Actor struct {
	TenantID string
	ObjectID string
}

// Access is what an actor holds: directory roles and owned objects.
type Access struct {
	roles map[string]bool
	owns  map[string]bool
}

// HasRole reports whether the access includes one of roles.
func (a Access) HasRole(roles ...string) bool {
	for _, r := range roles {
		if a.roles[r] {
			return true
		}
	}
	return false
}

// Owns reports whether the actor owns the object.
func (a Access) Owns(objectID string) bool { return a.owns[normID(objectID)] }

// Roles returns the role template ids held.
func (a Access) Roles() []string {
	out := make([]string, 0, len(a.roles))
	for r := range a.roles {
		out = append(out, r)
	}
	return out
}

// AccessOf loads the roles and ownerships of principalID.
func (s *Service) AccessOf(ctx context.Context, tenantID, principalID string) (Access, error) {
	return accessOf(ctx, s.store, tenantID, principalID)
}

func accessOf(ctx context.Context, st store.DirectoryRoles, tenantID, principalID string) (Access, error) {
	a := Access{roles: map[string]bool{}, owns: map[string]bool{}}
	if principalID == "" {
		return a, nil
	}
	held, err := st.ListDirectoryRoleAssignments(ctx, tenantID, normID(principalID))
	if err != nil {
		return a, fmt.Errorf("list directory roles of %s: %w", principalID, err)
	}
	for _, h := range held {
		if obj, ok := strings.CutPrefix(h.RoleTemplateID, ownerPrefix); ok {
			a.owns[obj] = true
		} else {
			a.roles[h.RoleTemplateID] = true
		}
	}
	return a, nil
}

// HasDirectoryRole reports whether principalID holds one of roles in the tenant.
func (s *Service) HasDirectoryRole(ctx context.Context, tenantID, principalID string, roles ...string) (bool, error) {
	a, err := s.AccessOf(ctx, tenantID, principalID)
	if err != nil {
		return false, err
	}
	return a.HasRole(roles...), nil
}

// Op is a directory operation that needs authorization. Reading the
// directory needs none: every user and application of the tenant may read it.
type Op int

// Operations and the target each takes.
const (
	// OpCreateApplication registers an application (no target).
	OpCreateApplication Op = iota + 1
	// OpManageApplication changes or deletes an application, its
	// credentials, federated credentials and owners (target: its object id).
	OpManageApplication
	// OpCreateServicePrincipal creates the service principal of an
	// application (target: the application's object id).
	OpCreateServicePrincipal
	// OpManageServicePrincipal changes or deletes a service principal or its
	// credentials (target: its object id).
	OpManageServicePrincipal
	// OpCreateUser creates a user (no target).
	OpCreateUser
	// OpManageUser changes, disables, deletes or resets the password of a
	// user (target: the user's object id).
	OpManageUser
	// OpCreateGroup creates a group (no target).
	OpCreateGroup
	// OpManageGroup changes or deletes a group, its members or its owners
	// (target: its id); the group's owners may too.
	OpManageGroup
	// OpAssignDirectoryRole grants or revokes a directory role (target: the
	// role template id).
	OpAssignDirectoryRole
	// OpAssignAppRole grants or revokes an app role (target: the resource
	// service principal's object id).
	OpAssignAppRole
	// OpReadAuditLogs reads the sign-in and directory audit logs.
	OpReadAuditLogs
	// OpAddKey adds or removes an application certificate with a proof of
	// possession (target: the application's object id): besides the
	// application's managers, the application itself may rotate its keys.
	OpAddKey
	// OpReadAuthenticationMethods lists a user's authentication methods
	// (target: the user's object id): the user themself, or an
	// authentication administrator who may manage the user.
	OpReadAuthenticationMethods
	// OpManageAuthenticationMethods deletes a user's authentication method,
	// so that the user registers again at the next sign-in (target: the
	// user's object id): an authentication administrator who may manage
	// the user, never the user themself (a stolen password would then be
	// enough to register a new authenticator).
	OpManageAuthenticationMethods
	// OpManageSigningKeys lists and rotates the token-signing keys (no
	// target): Global Administrators only.
	OpManageSigningKeys
	// OpManagePermissionGrants creates, changes or deletes delegated
	// permission grants (no target): the administrators who may grant app
	// roles.
	OpManagePermissionGrants
	// OpManagePolicies changes the authorization policy and token lifetime
	// policies (no target): Global Administrators only.
	OpManagePolicies
)

// Administrator roles per area.
var (
	appAdminRoles   = []string{domain.RoleApplicationAdministrator, domain.RoleCloudApplicationAdministrator}
	userAdminRoles  = []string{domain.RoleUserAdministrator}
	groupAdminRoles = []string{domain.RoleUserAdministrator, domain.RoleGroupsAdministrator}
	roleAdminRoles  = []string{domain.RolePrivilegedRoleAdministrator}
	appRoleGranters = []string{domain.RolePrivilegedRoleAdministrator, domain.RoleApplicationAdministrator, domain.RoleCloudApplicationAdministrator}
	auditRoles      = []string{RoleReportsReader, RoleSecurityReader}
)

// Authorize decides whether actor may perform op on target. It returns nil,
// ErrForbidden, or a storage error. Global Administrators may do everything.
func (s *Service) Authorize(ctx context.Context, actor Actor, op Op, target string) error {
	a, err := s.AccessOf(ctx, actor.TenantID, actor.ObjectID)
	if err != nil {
		return err
	}
	if a.HasRole(domain.RoleGlobalAdministrator) {
		return nil
	}
	target = normID(target)
	allowed := false
	switch op {
	case OpCreateApplication:
		allowed = a.HasRole(appAdminRoles...)
	case OpManageApplication, OpCreateServicePrincipal:
		allowed = a.HasRole(appAdminRoles...) || (target != "" && a.Owns(target))
	case OpManageServicePrincipal:
		allowed = a.HasRole(appAdminRoles...)
		if !allowed {
			allowed, err = s.ownsServicePrincipal(ctx, actor.TenantID, a, target)
			if err != nil {
				return err
			}
		}
	case OpCreateUser:
		allowed = a.HasRole(userAdminRoles...)
	case OpManageUser:
		if a.HasRole(userAdminRoles...) {
			allowed, err = s.userAdminMayManage(ctx, actor.TenantID, target)
			if err != nil {
				return err
			}
		}
	case OpCreateGroup:
		allowed = a.HasRole(groupAdminRoles...)
	case OpManageGroup:
		allowed = a.HasRole(groupAdminRoles...) || (target != "" && a.Owns(target))
	case OpAssignDirectoryRole:
		allowed = a.HasRole(roleAdminRoles...)
	case OpAssignAppRole, OpManagePermissionGrants:
		allowed = a.HasRole(appRoleGranters...)
	case OpReadAuditLogs:
		allowed = a.HasRole(auditRoles...)
	case OpReadAuthenticationMethods, OpManageAuthenticationMethods:
		if op == OpReadAuthenticationMethods && target != "" && target == normID(actor.ObjectID) {
			allowed = true
			break
		}
		allowed, err = s.authAdminMayManage(ctx, actor.TenantID, a, target)
		if err != nil {
			return err
		}
	case OpAddKey:
		allowed = a.HasRole(appAdminRoles...) || a.Owns(target)
		if !allowed {
			allowed, err = s.isApplicationsOwnPrincipal(ctx, actor, target)
			if err != nil {
				return err
			}
		}
	}
	if !allowed {
		return ErrForbidden
	}
	return nil
}

// ownsServicePrincipal: the owners of an application manage its service principal.
func (s *Service) ownsServicePrincipal(ctx context.Context, tenantID string, a Access, spID string) (bool, error) {
	if len(a.owns) == 0 || spID == "" {
		return false, nil
	}
	if a.Owns(spID) {
		return true, nil
	}
	sp, err := s.store.GetServicePrincipal(ctx, tenantID, spID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load service principal %s: %w", spID, err)
	}
	app, err := s.store.GetApplicationByAppID(ctx, tenantID, sp.AppID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load application %s: %w", sp.AppID, err)
	}
	return a.Owns(app.ID), nil
}

// userAdminMayManage: a User Administrator manages users who hold no role
// beyond the limited ones (RoleInfo.UserAdminManageable).
func (s *Service) userAdminMayManage(ctx context.Context, tenantID, userID string) (bool, error) {
	target, err := s.AccessOf(ctx, tenantID, userID)
	if err != nil {
		return false, err
	}
	for r := range target.roles {
		info, ok := LookupRole(r)
		if !ok || !info.UserAdminManageable {
			return false, nil
		}
	}
	return true, nil
}

// authAdminManageable are the roles whose holders an Authentication
// Administrator may still manage (Entra's list, of the roles Tessera has).
var authAdminManageable = map[string]bool{
	RoleDirectoryReader: true, RoleReportsReader: true, RoleAuthenticationAdministrator: true,
}

// authAdminMayManage is Entra's rule for authentication methods: a
// Privileged Authentication Administrator manages every user's, an
// Authentication Administrator those of users who hold no role beyond
// Directory Readers, Reports Reader and Authentication Administrator.
func (s *Service) authAdminMayManage(ctx context.Context, tenantID string, a Access, userID string) (bool, error) {
	switch {
	case a.HasRole(RolePrivilegedAuthenticationAdministrator):
		return true, nil
	case !a.HasRole(RoleAuthenticationAdministrator):
		return false, nil
	}
	target, err := s.AccessOf(ctx, tenantID, userID)
	if err != nil {
		return false, err
	}
	for r := range target.roles {
		if !authAdminManageable[r] {
			return false, nil
		}
	}
	return true, nil
}

// isApplicationsOwnPrincipal reports whether actor is the service principal
// of the application appObjectID.
func (s *Service) isApplicationsOwnPrincipal(ctx context.Context, actor Actor, appObjectID string) (bool, error) {
	app, err := s.store.GetApplication(ctx, actor.TenantID, appObjectID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load application %s: %w", appObjectID, err)
	}
	sp, err := s.store.GetServicePrincipalByAppID(ctx, actor.TenantID, app.AppID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load service principal %s: %w", app.AppID, err)
	}
	return sp.ID == normID(actor.ObjectID), nil
}
