// Package rbac decides Azure RBAC questions: may principal P perform
// operation A at scope S?
//
// It holds the built-in role definitions (Azure's own ids and permission
// lists, embedded from builtin-roles.json) and an in-memory Index of one
// tenant's custom role definitions, role assignments and group memberships.
// It never sees HTTP or the store: the caller loads the data, feeds it in
// (Load, then the Put/Delete/Add/Remove methods as writes commit) and asks.
//
//	request ──► action ("Microsoft.X/type/write") + scope (resource id)
//	               │
//	Decide ────────┤  principal + its transitive groups
//	               │  × scope, then each ancestor up to "/" (nearest first)
//	               │  × the assignments there
//	               ▼
//	   role permits action?  (some permission block: an Actions pattern
//	                          matches and no NotActions pattern of the
//	                          same block does; DataActions likewise)
//
// Tenants: an Index may hold several tenants' data (custom role names are
// unique per tenant, as in Azure), but scopes carry no tenant: "/" is every
// tenant's root, so an assignment at "/" reaches every subscription in the
// Index. A caller that mixes tenants must check that the scope belongs to
// the principal's tenant before asking, or keep one Index per tenant.
//
// Managing definitions and assignments refuses with *fault.Error whose
// Code is the ARM error code; the ARM edge answers by its kind.
//
// Azure evaluates deny assignments and assignment conditions (ABAC) too;
// Tessera has neither, so an assignment either grants its role's
// permissions at and below its scope or nothing.
package rbac
