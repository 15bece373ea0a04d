package rbac

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// Store is what the RBAC service persists to and reads principals from.
type Store interface {
	store.Tenants
	store.Users
	store.Apps
	store.Groups
	store.RoleAssignments
	store.RoleDefinitions
}

// Service keeps role definitions and assignments in the store and decides
// with the Index, which the change feed keeps coherent with the store (see
// Follow). Writes decide against the store, never against the index: what
// another replica wrote a moment ago may not be in this one's index yet. A
// write returns once this replica's index has it (the store's OnCommit hook
// waits for the follower), so a decision right after a change sees it.
type Service struct {
	store Store
	index *Index
	now   func() time.Time
}

// NewService returns a service over st and ix.
func NewService(st Store, ix *Index, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, index: ix, now: now}
}

// Index is the evaluator the service keeps current.
func (s *Service) Index() *Index { return s.index }

// Load rebuilds the index from the store (every tenant).
func (s *Service) Load(ctx context.Context) error {
	tenants, err := s.store.ListTenants(ctx)
	if err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	var defs []domain.RoleDefinition
	var assigns []domain.RoleAssignment
	var members []domain.GroupMembership
	for _, t := range tenants {
		d, err := s.store.ListRoleDefinitions(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("list role definitions of %s: %w", t.ID, err)
		}
		a, err := s.store.ListRoleAssignments(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("list role assignments of %s: %w", t.ID, err)
		}
		m, err := s.store.ListGroupMemberships(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("list group memberships of %s: %w", t.ID, err)
		}
		defs, assigns, members = append(defs, d...), append(assigns, a...), append(members, m...)
	}
	return s.index.Load(defs, assigns, members)
}

// Decide is Index.Decide.
func (s *Service) Decide(principalID, action, scope string, data bool) Decision {
	return s.index.Decide(principalID, action, scope, data)
}

// HasAssignmentWithin is Index.HasAssignmentWithin.
func (s *Service) HasAssignmentWithin(principalID, scope string) bool {
	return s.index.HasAssignmentWithin(principalID, scope)
}

// Permissions is Index.Permissions.
func (s *Service) Permissions(principalID, scope string) []domain.Permission {
	return s.index.Permissions(principalID, scope)
}

// Definition returns a role definition visible in a tenant: a built-in or
// one of the tenant's custom roles.
func (s *Service) Definition(tenantID, id string) (domain.RoleDefinition, bool) {
	d, ok := s.index.Definition(strings.ToLower(id))
	if !ok || (d.Type == domain.RoleTypeCustom && d.TenantID != tenantID) {
		return domain.RoleDefinition{}, false
	}
	return d, true
}

// Definitions lists the role definitions visible in a tenant, by name.
func (s *Service) Definitions(tenantID string) []domain.RoleDefinition {
	var out []domain.RoleDefinition
	for _, d := range s.index.Definitions() {
		if d.Type != domain.RoleTypeCustom || d.TenantID == tenantID {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RoleName < out[j].RoleName })
	return out
}

// Assignments lists a tenant's role assignments.
func (s *Service) Assignments(tenantID string) []domain.RoleAssignment {
	var out []domain.RoleAssignment
	for _, a := range s.index.Assignments() {
		if a.TenantID == tenantID {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Assignment returns one role assignment of a tenant.
func (s *Service) Assignment(tenantID, id string) (domain.RoleAssignment, bool) {
	a, ok := s.index.Assignment(strings.ToLower(id))
	if !ok || a.TenantID != tenantID {
		return domain.RoleAssignment{}, false
	}
	return a, true
}

// principalType finds what kind of directory object id is.
func (s *Service) principalType(ctx context.Context, tenantID, id string) (string, error) {
	if _, err := s.store.GetServicePrincipal(ctx, tenantID, id); err == nil {
		return domain.PrincipalServicePrincipal, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if _, err := s.store.GetUser(ctx, tenantID, id); err == nil {
		return domain.PrincipalUser, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if _, err := s.store.GetGroup(ctx, tenantID, id); err == nil {
		return domain.PrincipalGroup, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return "", nil
}

// CreateAssignment validates and stores a role assignment. The caller has
// already been authorized for Microsoft.Authorization/roleAssignments/write.
func (s *Service) CreateAssignment(ctx context.Context, a domain.RoleAssignment) (domain.RoleAssignment, error) {
	a.ID = strings.ToLower(a.ID)
	a.PrincipalID = strings.ToLower(a.PrincipalID)
	if _, err := uuid.Parse(a.ID); err != nil {
		return a, fault.Errorf(fault.Invalid, "InvalidRoleAssignmentId", "The role assignment ID '%s' is not valid. The role assignment ID must be a GUID.", a.ID)
	}
	if _, err := uuid.Parse(a.PrincipalID); err != nil {
		return a, fault.Errorf(fault.Invalid, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
	}
	def, ok, err := s.StoredDefinition(ctx, a.TenantID, a.RoleDefinitionID)
	if err != nil {
		return a, err
	}
	if !ok {
		return a, fault.Errorf(fault.NotFound, "RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist.", a.RoleDefinitionID)
	}
	a.RoleDefinitionID = def.ID
	if !compileRole(def, def.Type != domain.RoleTypeCustom).assignableAt(domain.CanonicalScope(a.Scope)) {
		return a, fault.Errorf(fault.Forbidden, "RoleAssignmentScopeNotAssignable",
			"The role '%s' is not available for assignment at the requested scope '%s'.", def.RoleName, a.Scope)
	}
	typ, err := s.principalType(ctx, a.TenantID, a.PrincipalID)
	if err != nil {
		return a, fmt.Errorf("look up principal %s: %w", a.PrincipalID, err)
	}
	if typ == "" {
		return a, fault.Errorf(fault.Invalid, "PrincipalNotFound",
			"Principal %s does not exist in the directory %s. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay.",
			strings.ReplaceAll(a.PrincipalID, "-", ""), a.TenantID)
	}
	if a.PrincipalType == "" {
		a.PrincipalType = typ
	}
	existing, err := s.store.GetRoleAssignment(ctx, a.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return a, fmt.Errorf("look up role assignment %s: %w", a.ID, err)
	default:
		if existing.PrincipalID == a.PrincipalID && strings.EqualFold(existing.RoleDefinitionID, a.RoleDefinitionID) &&
			domain.CanonicalScope(existing.Scope) == domain.CanonicalScope(a.Scope) {
			return existing, fault.Errorf(fault.Conflict, "RoleAssignmentExists", "The role assignment already exists.")
		}
		return a, fault.Errorf(fault.Conflict, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
	}
	for _, e := range s.index.AssignmentsFor(a.PrincipalID) {
		if strings.EqualFold(e.RoleDefinitionID, a.RoleDefinitionID) &&
			domain.CanonicalScope(e.Scope) == domain.CanonicalScope(a.Scope) {
			return e, fault.Errorf(fault.Conflict, "RoleAssignmentExists", "The role assignment already exists.")
		}
	}
	now := s.now().UTC()
	a.CreatedAt, a.UpdatedAt = now, now
	// The store refuses a duplicate (scope, role, principal) made on
	// another replica that this one's index has not seen yet.
	if err := s.store.CreateRoleAssignment(ctx, a); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return a, fault.Errorf(fault.Conflict, "RoleAssignmentExists", "The role assignment already exists.")
		}
		return a, fmt.Errorf("store role assignment: %w", err)
	}
	return a, nil
}

// DeleteAssignment removes a role assignment of a tenant at scope ("" for
// any scope), wherever it was created: it is looked up in the store, not in
// this replica's index, which may not have it yet.
func (s *Service) DeleteAssignment(ctx context.Context, tenantID, scope, id string) (domain.RoleAssignment, error) {
	notFound := fault.Errorf(fault.NotFound, "RoleAssignmentNotFound", "The role assignment '%s' is not found.", id)
	a, err := s.store.GetRoleAssignment(ctx, strings.ToLower(id))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return a, notFound
	case err != nil:
		return a, fmt.Errorf("look up role assignment %s: %w", id, err)
	case a.TenantID != tenantID, scope != "" && domain.CanonicalScope(a.Scope) != domain.CanonicalScope(scope):
		return domain.RoleAssignment{}, notFound
	}
	if err := s.store.DeleteRoleAssignment(ctx, a.ID); errors.Is(err, store.ErrNotFound) {
		return a, notFound // deleted meanwhile, through another request
	} else if err != nil {
		return a, fmt.Errorf("delete role assignment: %w", err)
	}
	return a, nil
}

// StoredDefinition reads a role definition visible in a tenant from the
// store rather than the index, for writes: a built-in or one of the
// tenant's custom roles.
func (s *Service) StoredDefinition(ctx context.Context, tenantID, id string) (domain.RoleDefinition, bool, error) {
	id = strings.ToLower(roleGUID(id))
	if d, ok := BuiltInRole(id); ok {
		return d, true, nil
	}
	d, err := s.store.GetRoleDefinition(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return domain.RoleDefinition{}, false, nil
	case err != nil:
		return domain.RoleDefinition{}, false, fmt.Errorf("look up role definition %s: %w", id, err)
	case d.TenantID != tenantID:
		return domain.RoleDefinition{}, false, nil
	}
	return d, true, nil
}

// PutDefinition creates or updates a tenant's custom role.
func (s *Service) PutDefinition(ctx context.Context, d domain.RoleDefinition) (domain.RoleDefinition, bool, error) {
	d.ID = strings.ToLower(d.ID)
	if _, err := uuid.Parse(d.ID); err != nil {
		return d, false, fault.Errorf(fault.Invalid, "InvalidRoleDefinitionId", "The role definition ID '%s' is not valid. It must be a GUID.", d.ID)
	}
	if _, builtin := BuiltInRole(d.ID); builtin {
		return d, false, fault.Errorf(fault.Forbidden, "RoleDefinitionUpdateNotPermitted", "Built-in role definitions cannot be changed.")
	}
	if strings.TrimSpace(d.RoleName) == "" {
		return d, false, fault.Errorf(fault.Invalid, "RoleDefinitionNameNullOrEmpty", "The role definition name cannot be null or empty.")
	}
	if len(d.AssignableScopes) == 0 {
		return d, false, fault.Errorf(fault.Invalid, "MissingAssignableScopes", "The role definition must have at least one assignable scope.")
	}
	for _, sc := range d.AssignableScopes {
		if sc != "/" {
			if _, err := domain.ParseResourceID(sc); err != nil {
				return d, false, fault.Errorf(fault.Invalid, "InvalidAssignableScope", "The assignable scope '%s' is not valid.", sc)
			}
		}
	}
	if len(d.Permissions) == 0 {
		return d, false, fault.Errorf(fault.Invalid, "RoleDefinitionWithoutPermission", "The role definition must have permissions.")
	}
	if other, ok := s.index.DefinitionByNameIn(d.TenantID, d.RoleName); ok && other.ID != d.ID {
		return d, false, fault.Errorf(fault.Conflict, "RoleDefinitionWithSameNameExists", "A custom role with the same name already exists in this directory. Use a different name.")
	}
	d.Type = domain.RoleTypeCustom
	now := s.now().UTC()
	d.UpdatedAt = now
	old, err := s.store.GetRoleDefinition(ctx, d.ID)
	exists := err == nil
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return d, false, fmt.Errorf("look up role definition %s: %w", d.ID, err)
	case old.TenantID != d.TenantID:
		return d, false, fault.Errorf(fault.Conflict, "RoleDefinitionIdExists", "A role definition with this ID already exists.")
	}
	if exists {
		d.CreatedAt, d.CreatedBy = old.CreatedAt, old.CreatedBy
		err = s.store.UpdateRoleDefinition(ctx, d)
	} else {
		d.CreatedAt = now
		err = s.store.CreateRoleDefinition(ctx, d)
	}
	if errors.Is(err, store.ErrConflict) {
		return d, false, fault.Errorf(fault.Conflict, "RoleDefinitionWithSameNameExists", "A custom role with the same name already exists in this directory. Use a different name.")
	}
	if err != nil {
		return d, false, fmt.Errorf("store role definition: %w", err)
	}
	return d, !exists, nil
}

// DeleteDefinition deletes a custom role that no assignment uses.
func (s *Service) DeleteDefinition(ctx context.Context, tenantID, id string) (domain.RoleDefinition, error) {
	notFound := fault.Errorf(fault.NotFound, "RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist.", id)
	d, ok, err := s.StoredDefinition(ctx, tenantID, id)
	if err != nil {
		return d, err
	}
	if !ok {
		return d, notFound
	}
	if d.Type != domain.RoleTypeCustom {
		return d, fault.Errorf(fault.Forbidden, "RoleDefinitionUpdateNotPermitted", "Built-in role definitions cannot be deleted.")
	}
	assignments, err := s.store.ListRoleAssignments(ctx, tenantID)
	if err != nil {
		return d, fmt.Errorf("list role assignments: %w", err)
	}
	for _, a := range assignments {
		if strings.EqualFold(a.RoleDefinitionID, d.ID) {
			return d, fault.Errorf(fault.Conflict, "RoleDefinitionHasAssignments", "There are existing role assignments referencing role (code: RoleDefinitionHasAssignments).")
		}
	}
	if err := s.store.DeleteRoleDefinition(ctx, d.ID); errors.Is(err, store.ErrNotFound) {
		return d, notFound
	} else if err != nil {
		return d, fmt.Errorf("delete role definition: %w", err)
	}
	return d, nil
}
