package domain

import "time"

// Subscription is the top of a tenant's resource hierarchy below the root.
type Subscription struct {
	ID          string
	TenantID    string
	DisplayName string
	State       string // Enabled
	CreatedAt   time.Time
}

// Principal types as Azure RBAC names them.
const (
	PrincipalUser             = "User"
	PrincipalGroup            = "Group"
	PrincipalServicePrincipal = "ServicePrincipal"
)

// RoleAssignment binds a role definition to a principal at a scope.
type RoleAssignment struct {
	ID               string // assignment GUID
	TenantID         string
	Scope            string // "/", "/subscriptions/{s}", ...
	RoleDefinitionID string // role definition GUID
	PrincipalID      string
	PrincipalType    string
	Description      string
	CreatedBy        string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Built-in role definition ids (Azure's own GUIDs).
const (
	RoleOwner                   = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	RoleContributor             = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	RoleReader                  = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	RoleUserAccessAdministrator = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
)
