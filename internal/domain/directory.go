package domain

import "time"

// Tenant is a directory: a GUID plus the verified domains it answers to.
type Tenant struct {
	ID          string
	DisplayName string
	// Domains are the verified domain names, the first being the default.
	Domains   []string
	CreatedAt time.Time
	// Settings holds per-tenant policy switches.
	Settings TenantSettings
}

// TenantSettings are per-tenant policy switches.
type TenantSettings struct {
	// AllowROPC enables the resource-owner password grant (off by default).
	AllowROPC bool `json:"allowROPC,omitempty"`
	// PermissionGrantPoliciesAssigned is the authorization policy's
	// defaultUserRolePermissions.permissionGrantPoliciesAssigned; nil means
	// Entra's default, under which users may consent for themselves.
	PermissionGrantPoliciesAssigned *[]string `json:"permissionGrantPoliciesAssigned,omitempty"`
}

// DefaultDomain returns the tenant's first verified domain.
func (t Tenant) DefaultDomain() string {
	if len(t.Domains) == 0 {
		return ""
	}
	return t.Domains[0]
}

// User is a person in a tenant's directory.
type User struct {
	ID                string
	TenantID          string
	UserPrincipalName string
	DisplayName       string
	MailNickname      string
	// GivenName, Surname and Mail are Graph's givenName, surname and mail;
	// empty means unset, and the tokens then leave out the claims they feed.
	GivenName      string
	Surname        string
	Mail           string
	AccountEnabled bool
	// PasswordHash is an argon2id hash in PHC string form; never serialised to clients.
	PasswordHash      string
	PasswordChangedAt time.Time
	// ForceChangePassword is Graph's passwordProfile.forceChangePasswordNextSignIn:
	// the next interactive sign-in must set a new password before it completes.
	ForceChangePassword bool
	CreatedAt           time.Time
}

// Application is an app registration: the definition of a client or resource.
type Application struct {
	ID             string // object id
	TenantID       string
	AppID          string // client id
	DisplayName    string
	SignInAudience string
	IdentifierURIs []string
	// WebRedirectURIs are confidential-client redirect URIs; PublicRedirectURIs native ones.
	WebRedirectURIs    []string
	PublicRedirectURIs []string
	// SpaRedirectURIs are single-page application redirect URIs: a code
	// issued to one is redeemed by the browser, cross-origin, by a public
	// client, and its refresh tokens live 24 hours.
	SpaRedirectURIs        []string
	IsFallbackPublicClient bool
	AppRoles               []AppRole
	// AccessTokenAcceptedVersion is 1 or 2 (0 means 1): the shape of tokens minted for this app as a resource.
	AccessTokenAcceptedVersion int
	PasswordCredentials        []PasswordCredential
	KeyCredentials             []KeyCredential
	FederatedCredentials       []FederatedIdentityCredential
	CreatedAt                  time.Time
	// OAuth2PermissionScopes are the delegated permissions the app exposes as a resource.
	OAuth2PermissionScopes []PermissionScope
	RequiredResourceAccess []RequiredResourceAccess
	// GroupMembershipClaims is "" (Graph's null), None, SecurityGroup, All,
	// ApplicationGroup or DirectoryRole.
	GroupMembershipClaims string
	OptionalClaims        *OptionalClaims
	// LogoutURL is the front-channel logout URL (web.logoutUrl).
	LogoutURL string
	// TokenLifetimePolicyIDs are the token lifetime policies assigned to the app.
	TokenLifetimePolicyIDs []string
}

// AppRole is a role an application (as a resource) defines.
type AppRole struct {
	ID                 string   `json:"id"`
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	Description        string   `json:"description"`
	DisplayName        string   `json:"displayName"`
	IsEnabled          bool     `json:"isEnabled"`
	Value              string   `json:"value"`
}

// PasswordCredential is a client secret. Only a hash of the secret is kept.
type PasswordCredential struct {
	KeyID         string    `json:"keyId"`
	DisplayName   string    `json:"displayName"`
	Hint          string    `json:"hint"`
	SecretHash    []byte    `json:"secretHash"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
}

// KeyCredential is a certificate registered on an application.
type KeyCredential struct {
	KeyID         string    `json:"keyId"`
	DisplayName   string    `json:"displayName"`
	Type          string    `json:"type"`  // AsymmetricX509Cert
	Usage         string    `json:"usage"` // Verify
	Key           []byte    `json:"key"`   // DER certificate
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	// CustomKeyIdentifier is the SHA-1 thumbprint of the certificate.
	CustomKeyIdentifier []byte `json:"customKeyIdentifier"`
}

// FederatedIdentityCredential trusts tokens from an external issuer for one subject.
type FederatedIdentityCredential struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Issuer      string   `json:"issuer"`
	Subject     string   `json:"subject"`
	Audiences   []string `json:"audiences"`
	Description string   `json:"description"`
}

// Service principal types.
const (
	ServicePrincipalTypeApplication     = "Application"
	ServicePrincipalTypeManagedIdentity = "ManagedIdentity"
)

// ServicePrincipal is an application's identity in one tenant.
type ServicePrincipal struct {
	ID                    string // object id
	TenantID              string
	AppID                 string
	DisplayName           string
	AccountEnabled        bool
	ServicePrincipalNames []string
	ServicePrincipalType  string
	AppOwnerTenantID      string
	// AppRoles is copied from the application so a resource's roles resolve without a join.
	AppRoles []AppRole
	// PasswordCredentials added on the service principal itself (az ad sp credential reset).
	PasswordCredentials []PasswordCredential
	// PublicClient marks first-party public clients (Azure CLI, PowerShell, ...).
	PublicClient bool
	// AccessTokenAcceptedVersion mirrors the application's setting for resources.
	AccessTokenAcceptedVersion int
	CreatedAt                  time.Time
	// OAuth2PermissionScopes is copied from the application, as AppRoles is.
	OAuth2PermissionScopes []PermissionScope
}

// AppRoleAssignment grants an app role of a resource service principal to a principal.
type AppRoleAssignment struct {
	ID          string
	TenantID    string
	PrincipalID string // user, group or service principal object id
	ResourceID  string // resource service principal object id
	AppRoleID   string
	CreatedAt   time.Time
}

// Group is a security group; members may be users, service principals or groups.
type Group struct {
	ID              string
	TenantID        string
	DisplayName     string
	MailNickname    string
	SecurityEnabled bool
	MailEnabled     bool
	CreatedAt       time.Time
}

// Well-known directory role template ids (Entra's own).
const (
	RoleGlobalAdministrator           = "62e90394-69f5-4237-9190-012177145e10"
	RoleApplicationAdministrator      = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	RoleCloudApplicationAdministrator = "158c047a-c907-4556-b7ef-446551a6b5f7"
	RoleUserAdministrator             = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RoleGroupsAdministrator           = "fdd7a751-b60b-444a-984c-02652fe8fa1c"
	RolePrivilegedRoleAdministrator   = "e8611ab8-c189-46e8-94e1-60213ab1f814"
)

// DirectoryRoleAssignment gives a principal a directory role in a tenant.
type DirectoryRoleAssignment struct {
	ID             string
	TenantID       string
	PrincipalID    string
	RoleTemplateID string
	CreatedAt      time.Time
}
