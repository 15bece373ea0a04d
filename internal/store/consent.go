package store

import (
	"context"

	"github.com/tessera-id/tessera/internal/domain"
)

// GrantFilter selects permission grants of one tenant; empty fields do
// not filter. Ids compare exactly (the directory stores them lower-case).
type GrantFilter struct {
	ClientID    string
	ResourceID  string
	ConsentType string
	// PrincipalID selects one user's Principal grants.
	PrincipalID string
}

// PermissionGrants stores oAuth2PermissionGrants (delegated consent).
type PermissionGrants interface {
	// CreatePermissionGrant fails with ErrConflict on a duplicate id, or
	// when the tenant has a grant for the same client, resource, consent type
	// and principal: consent to more scopes changes that grant.
	CreatePermissionGrant(ctx context.Context, g domain.OAuth2PermissionGrant) error
	GetPermissionGrant(ctx context.Context, tenantID, id string) (domain.OAuth2PermissionGrant, error)
	// ListPermissionGrants returns matching grants, oldest first.
	ListPermissionGrants(ctx context.Context, tenantID string, f GrantFilter) ([]domain.OAuth2PermissionGrant, error)
	// UpdatePermissionGrant replaces a grant's Scope: ErrNotFound when absent.
	UpdatePermissionGrant(ctx context.Context, g domain.OAuth2PermissionGrant) error
	DeletePermissionGrant(ctx context.Context, tenantID, id string) error
}

// TokenLifetimePolicies stores token lifetime policies. Which applications
// a policy applies to is kept on the application.
type TokenLifetimePolicies interface {
	// CreateTokenLifetimePolicy fails with ErrConflict on a duplicate id or
	// when the policy is the organisation default and the tenant has one.
	CreateTokenLifetimePolicy(ctx context.Context, p domain.TokenLifetimePolicy) error
	GetTokenLifetimePolicy(ctx context.Context, tenantID, id string) (domain.TokenLifetimePolicy, error)
	// ListTokenLifetimePolicies returns a tenant's policies, oldest first.
	ListTokenLifetimePolicies(ctx context.Context, tenantID string) ([]domain.TokenLifetimePolicy, error)
	// UpdateTokenLifetimePolicy replaces every field but the id, tenant and
	// creation time: ErrNotFound when absent, ErrConflict as for create.
	UpdateTokenLifetimePolicy(ctx context.Context, p domain.TokenLifetimePolicy) error
	DeleteTokenLifetimePolicy(ctx context.Context, tenantID, id string) error
}
