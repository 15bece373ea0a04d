package domain

import "time"

// PermissionScope is a delegated permission an application (as a resource)
// exposes: Graph's permissionScope, in api.oauth2PermissionScopes.
type PermissionScope struct {
	ID                      string `json:"id"`
	Value                   string `json:"value"`
	Type                    string `json:"type"` // "User" or "Admin": who may consent
	IsEnabled               bool   `json:"isEnabled"`
	AdminConsentDisplayName string `json:"adminConsentDisplayName"`
	AdminConsentDescription string `json:"adminConsentDescription"`
	UserConsentDisplayName  string `json:"userConsentDisplayName"`
	UserConsentDescription  string `json:"userConsentDescription"`
}

// RequiredResourceAccess lists the permissions a client application needs on
// one resource: Graph's requiredResourceAccess.
type RequiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// ResourceAccess is one permission a client needs: a scope (delegated) or an
// app role (application permission).
type ResourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"` // "Scope" or "Role"
}

// OptionalClaims are the extra claims an application asks for per token type.
type OptionalClaims struct {
	IDToken     []OptionalClaim `json:"idToken"`
	AccessToken []OptionalClaim `json:"accessToken"`
	Saml2Token  []OptionalClaim `json:"saml2Token"`
}

// OptionalClaim is one optional claim.
type OptionalClaim struct {
	Name                 string   `json:"name"`
	Source               *string  `json:"source"`
	Essential            bool     `json:"essential"`
	AdditionalProperties []string `json:"additionalProperties"`
}

// Consent types of an OAuth2PermissionGrant.
const (
	ConsentAllPrincipals = "AllPrincipals"
	ConsentPrincipal     = "Principal"
)

// OAuth2PermissionGrant records consent for a client to call a resource on
// behalf of users: all of the tenant's (AllPrincipals, an admin's consent)
// or one (Principal).
type OAuth2PermissionGrant struct {
	ID          string
	TenantID    string
	ClientID    string // client service principal object id
	ConsentType string
	PrincipalID string // user object id; empty for AllPrincipals
	ResourceID  string // resource service principal object id
	Scope       string // space-separated scope values
	CreatedAt   time.Time
}

// TokenLifetimePolicy is Graph's tokenLifetimePolicy: its Definition holds
// JSON strings such as {"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"02:00:00"}}.
type TokenLifetimePolicy struct {
	ID                    string
	TenantID              string
	DisplayName           string
	Definition            []string
	IsOrganizationDefault bool
	CreatedAt             time.Time
}
