// Package store defines the persistence interfaces Tessera's services depend
// on, one small interface per aggregate, and the sentinel errors every backend
// translates its driver's errors into. Backends live in sub-packages (sqlite,
// postgres) and all pass the conformance suite in storetest.
package store

import (
	"context"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
)

// Sentinel errors: the kinds of fault.Error, so that a backend's wrapped
// sentinel (fmt.Errorf("...: %w", store.ErrNotFound)) and a rule package's
// own refusal of the same kind are both matched by errors.Is and by an
// edge's one translation of fault kinds; never by message text.
var (
	// ErrNotFound: the addressed record does not exist.
	ErrNotFound = fault.ErrNotFound
	// ErrConflict: a unique key (id, appId, UPN, domain, jti, ...) is already taken.
	ErrConflict = fault.ErrConflict
	// ErrPrecondition: an optimistic-concurrency check failed.
	ErrPrecondition = fault.ErrPrecondition
)

// Tenants stores directories.
type Tenants interface {
	CreateTenant(ctx context.Context, t domain.Tenant) error
	GetTenant(ctx context.Context, id string) (domain.Tenant, error)
	// GetTenantByDomain matches a verified domain case-insensitively.
	GetTenantByDomain(ctx context.Context, domain string) (domain.Tenant, error)
	ListTenants(ctx context.Context) ([]domain.Tenant, error)
	UpdateTenant(ctx context.Context, t domain.Tenant) error
}

// Users stores people.
type Users interface {
	CreateUser(ctx context.Context, u domain.User) error
	GetUser(ctx context.Context, tenantID, id string) (domain.User, error)
	// GetUserByUPN matches the user principal name case-insensitively.
	GetUserByUPN(ctx context.Context, tenantID, upn string) (domain.User, error)
	ListUsers(ctx context.Context, tenantID string) ([]domain.User, error)
	UpdateUser(ctx context.Context, u domain.User) error
	DeleteUser(ctx context.Context, tenantID, id string) error
}

// Apps stores application registrations and service principals.
type Apps interface {
	CreateApplication(ctx context.Context, a domain.Application) error
	GetApplication(ctx context.Context, tenantID, id string) (domain.Application, error)
	GetApplicationByAppID(ctx context.Context, tenantID, appID string) (domain.Application, error)
	ListApplications(ctx context.Context, tenantID string) ([]domain.Application, error)
	UpdateApplication(ctx context.Context, a domain.Application) error
	DeleteApplication(ctx context.Context, tenantID, id string) error

	CreateServicePrincipal(ctx context.Context, sp domain.ServicePrincipal) error
	GetServicePrincipal(ctx context.Context, tenantID, id string) (domain.ServicePrincipal, error)
	GetServicePrincipalByAppID(ctx context.Context, tenantID, appID string) (domain.ServicePrincipal, error)
	ListServicePrincipals(ctx context.Context, tenantID string) ([]domain.ServicePrincipal, error)
	UpdateServicePrincipal(ctx context.Context, sp domain.ServicePrincipal) error
	DeleteServicePrincipal(ctx context.Context, tenantID, id string) error

	CreateAppRoleAssignment(ctx context.Context, a domain.AppRoleAssignment) error
	// ListAppRoleAssignments returns the assignments held by principalID (any resource).
	ListAppRoleAssignments(ctx context.Context, tenantID, principalID string) ([]domain.AppRoleAssignment, error)
	DeleteAppRoleAssignment(ctx context.Context, tenantID, id string) error
}

// DirectoryRoles stores directory role assignments (Global Administrator, ...).
type DirectoryRoles interface {
	CreateDirectoryRoleAssignment(ctx context.Context, a domain.DirectoryRoleAssignment) error
	// ListDirectoryRoleAssignments returns the assignments held by principalID.
	ListDirectoryRoleAssignments(ctx context.Context, tenantID, principalID string) ([]domain.DirectoryRoleAssignment, error)
	DeleteDirectoryRoleAssignment(ctx context.Context, tenantID, id string) error
}

// Subscriptions stores subscriptions.
type Subscriptions interface {
	CreateSubscription(ctx context.Context, s domain.Subscription) error
	GetSubscription(ctx context.Context, id string) (domain.Subscription, error)
	ListSubscriptions(ctx context.Context, tenantID string) ([]domain.Subscription, error)
}

// RoleAssignments stores RBAC role assignments.
type RoleAssignments interface {
	// CreateRoleAssignment fails with ErrConflict on a duplicate id or on a
	// duplicate (scope, role, principal) triple.
	CreateRoleAssignment(ctx context.Context, a domain.RoleAssignment) error
	GetRoleAssignment(ctx context.Context, id string) (domain.RoleAssignment, error)
	// ListRoleAssignments returns a tenant's assignments in no particular
	// order.
	ListRoleAssignments(ctx context.Context, tenantID string) ([]domain.RoleAssignment, error)
	DeleteRoleAssignment(ctx context.Context, id string) error
}

// Keys stores token-signing keys.
type Keys interface {
	CreateSigningKey(ctx context.Context, k domain.SigningKey) error
	ListSigningKeys(ctx context.Context) ([]domain.SigningKey, error)
	// UpdateSigningKey replaces a key's State, ActivatedAt and RetiredAt.
	UpdateSigningKey(ctx context.Context, k domain.SigningKey) error
}

// Replay remembers one-time values (assertion jti) until they expire.
type Replay interface {
	// Remember records key until expiresAt. It fails with ErrConflict when the
	// key is already recorded and has not expired: the value was replayed.
	Remember(ctx context.Context, key string, expiresAt time.Time) error
	// PurgeExpired deletes records whose expiry is before now.
	PurgeExpired(ctx context.Context, now time.Time) (int64, error)
}

// AuditFilter selects audit events; zero fields do not filter.
type AuditFilter struct {
	TenantID string
	Kind     string
	// ID selects the one event with that id (ids are unique), however old.
	ID    string
	Since time.Time // events at or after it
	Until time.Time // events at or before it
	Limit int       // 0 means 100
}

// Audit is the append-only audit and sign-in log.
type Audit interface {
	// AppendAudit writes events in one transaction.
	AppendAudit(ctx context.Context, events ...domain.AuditEvent) error
	// ListAudit returns matching events, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]domain.AuditEvent, error)
}

// Tx is what one transaction offers: every aggregate's reads and writes,
// bound to that transaction. Services take it in InTx callbacks and hand on
// the narrower interfaces their rules need.
type Tx interface {
	Tenants
	Users
	Apps
	DirectoryRoles
	Subscriptions
	RoleAssignments
	Keys
	Replay
	Audit
	Groups
	RoleDefinitions
	Resources
	Nodes
	SignIn
	PermissionGrants
	TokenLifetimePolicies
	// InTx runs fn in one transaction: fn's writes commit together or not at
	// all. fn must use the Tx it is given, not the outer one. Called on a Tx
	// it runs fn in a savepoint: an error from fn undoes only fn's writes.
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Store is a whole backend. Consumers take the narrow interfaces above; only
// the composition root holds a Store.
type Store interface {
	Tx
	Feed
	// Ping checks the backend is reachable (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// Groups stores security groups and their direct members. Transitive
// membership is computed above the store. Group and member ids are object ids
// compared exactly, as for users; the store checks no references (a member
// may be a user, service principal or group, existing or not): those rules
// live above it.
type Groups interface {
	// CreateGroup fails with ErrConflict when the tenant has a group of that id.
	CreateGroup(ctx context.Context, g domain.Group) error
	GetGroup(ctx context.Context, tenantID, id string) (domain.Group, error)
	ListGroups(ctx context.Context, tenantID string) ([]domain.Group, error)
	UpdateGroup(ctx context.Context, g domain.Group) error
	// DeleteGroup also deletes the group's membership edges, both ways (as the
	// group and as a member), in one transaction.
	DeleteGroup(ctx context.Context, tenantID, id string) error
	// AddGroupMember fails with ErrConflict when the edge exists.
	AddGroupMember(ctx context.Context, m domain.GroupMembership) error
	// RemoveGroupMember fails with ErrNotFound when the edge does not exist.
	RemoveGroupMember(ctx context.Context, m domain.GroupMembership) error
	// ListGroupMembers returns the direct member ids of a group (none, not
	// ErrNotFound, for an unknown group).
	ListGroupMembers(ctx context.Context, tenantID, groupID string) ([]string, error)
	// ListGroupMemberships returns every edge of a tenant, for the membership index.
	ListGroupMemberships(ctx context.Context, tenantID string) ([]domain.GroupMembership, error)
}

// RoleDefinitions stores custom role definitions (built-ins are compiled in).
// Ids are GUIDs compared case-insensitively, across all tenants.
type RoleDefinitions interface {
	// CreateRoleDefinition fails with ErrConflict on a duplicate id or when
	// the tenant has a definition of the same RoleName (compared
	// case-insensitively).
	CreateRoleDefinition(ctx context.Context, d domain.RoleDefinition) error
	GetRoleDefinition(ctx context.Context, id string) (domain.RoleDefinition, error)
	ListRoleDefinitions(ctx context.Context, tenantID string) ([]domain.RoleDefinition, error)
	// UpdateRoleDefinition replaces every field of the definition with d's id
	// in d's tenant: ErrNotFound when that tenant has none (a definition never
	// moves between tenants), ErrConflict when the new RoleName is taken.
	UpdateRoleDefinition(ctx context.Context, d domain.RoleDefinition) error
	DeleteRoleDefinition(ctx context.Context, id string) error
}

// Resources stores ARM resources as documents. Ids compare case-insensitively,
// and so do the subscription ids, parent ids, types and resource group names
// the lists select by. Body is stored and returned byte for byte.
type Resources interface {
	// PutResource creates or replaces r (matched by id). When ifMatch is not
	// empty the stored ETag must equal it ("*" = must exist), else ErrPrecondition
	// (or ErrNotFound for "*" on a missing resource); a specific ifMatch on a
	// missing resource is ErrPrecondition. The check and the write are atomic:
	// of concurrent writers holding one ETag exactly one succeeds.
	//
	// r.ETag is the new ETag, chosen by the caller. A replace overwrites every
	// field but ID, which keeps the casing the resource was created with; the
	// caller carries CreatedBy and CreatedAt over.
	PutResource(ctx context.Context, r domain.Resource, ifMatch string) error
	// GetResource returns the resource with its ID in the stored casing.
	GetResource(ctx context.Context, id string) (domain.Resource, error)
	// ListResources returns the resources of type typ whose parent is parentID
	// ("" parent with a subscription id lists subscription-level resources).
	ListResources(ctx context.Context, subscriptionID, parentID, typ string) ([]domain.Resource, error)
	// ListResourcesIn returns every resource of a subscription, optionally
	// only one resource group's ("" = all).
	ListResourcesIn(ctx context.Context, subscriptionID, resourceGroup string) ([]domain.Resource, error)
	// DeleteResource deletes one resource; ErrNotFound when absent.
	DeleteResource(ctx context.Context, id string) error
	// DeleteResourceTree deletes a resource and every resource whose id
	// starts with its id followed by "/", in one statement, returning the ids
	// deleted (stored casing, each parent before its children); ErrNotFound
	// when it deleted nothing.
	DeleteResourceTree(ctx context.Context, id string) ([]string, error)
}
