package domain

import "time"

// Role definition types as ARM names them.
const (
	RoleTypeBuiltIn = "BuiltInRole"
	RoleTypeCustom  = "CustomRole"
)

// RoleDefinition is a set of permissions that can be assigned at scopes.
type RoleDefinition struct {
	ID               string // GUID (the ARM name)
	TenantID         string // empty for built-ins
	RoleName         string
	Description      string
	Type             string // BuiltInRole | CustomRole
	Permissions      []Permission
	AssignableScopes []string
	CreatedBy        string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Permission is one permission block of a role definition.
type Permission struct {
	Actions        []string `json:"actions"`
	NotActions     []string `json:"notActions"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
}

// GroupMembership is one direct edge: MemberID (user, service principal or
// group) is a member of GroupID.
type GroupMembership struct {
	TenantID string
	GroupID  string
	MemberID string
}

// Resource is an ARM resource stored as a document: subscriptions' resource
// groups, workspaces and their child resources.
type Resource struct {
	// ID is the resource id in the casing it was created with.
	ID       string
	TenantID string
	// SubscriptionID and ResourceGroup locate the resource (ResourceGroup empty for subscription-level resources).
	SubscriptionID string
	ResourceGroup  string
	// Type is the full type, e.g. Microsoft.MachineLearningServices/workspaces/computes.
	Type     string
	ParentID string // id of the parent resource ("" for resource groups)
	Name     string
	Location string
	ETag     string
	// Body is the resource's JSON document as ARM returns it.
	Body      []byte
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}
