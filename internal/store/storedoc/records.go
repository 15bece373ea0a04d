package storedoc

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

// The doc column of tenants, applications and service_principals holds one of
// these documents. They mirror the domain types with explicit JSON names
// because the stored JSON is a persistent format: renaming a Go field must not
// silently orphan data already on disk. Nested domain types (AppRole,
// PasswordCredential, ...) already carry their own JSON names and are stored
// as they marshal. Every time is normalised by utc before it is written.
//

// key is the form of a case-insensitive lookup value in a _key column.
func Key(s string) string { return strings.ToLower(s) }

type tenantDoc struct {
	ID          string                `json:"id"`
	DisplayName string                `json:"displayName"`
	Domains     []string              `json:"domains"`
	CreatedAt   time.Time             `json:"createdAt,omitzero"`
	Settings    domain.TenantSettings `json:"settings"`
}

func EncodeTenant(t domain.Tenant) ([]byte, error) {
	return json.Marshal(tenantDoc{
		ID:          t.ID,
		DisplayName: t.DisplayName,
		Domains:     t.Domains,
		CreatedAt:   Utc(t.CreatedAt),
		Settings:    t.Settings,
	})
}

func DecodeTenant(b []byte) (domain.Tenant, error) {
	var d tenantDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return domain.Tenant{}, err
	}
	return domain.Tenant{
		ID:          d.ID,
		DisplayName: d.DisplayName,
		Domains:     d.Domains,
		CreatedAt:   d.CreatedAt,
		Settings:    d.Settings,
	}, nil
}

type applicationDoc struct {
	ID                         string                               `json:"id"`
	TenantID                   string                               `json:"tenantId"`
	AppID                      string                               `json:"appId"`
	DisplayName                string                               `json:"displayName"`
	SignInAudience             string                               `json:"signInAudience"`
	IdentifierURIs             []string                             `json:"identifierUris"`
	WebRedirectURIs            []string                             `json:"webRedirectUris"`
	PublicRedirectURIs         []string                             `json:"publicRedirectUris"`
	SpaRedirectURIs            []string                             `json:"spaRedirectUris,omitempty"`
	IsFallbackPublicClient     bool                                 `json:"isFallbackPublicClient"`
	AppRoles                   []domain.AppRole                     `json:"appRoles"`
	AccessTokenAcceptedVersion int                                  `json:"accessTokenAcceptedVersion"`
	PasswordCredentials        []domain.PasswordCredential          `json:"passwordCredentials"`
	KeyCredentials             []domain.KeyCredential               `json:"keyCredentials"`
	FederatedCredentials       []domain.FederatedIdentityCredential `json:"federatedCredentials"`
	CreatedAt                  time.Time                            `json:"createdAt,omitzero"`
	OAuth2PermissionScopes     []domain.PermissionScope             `json:"oauth2PermissionScopes,omitempty"`
	RequiredResourceAccess     []domain.RequiredResourceAccess      `json:"requiredResourceAccess,omitempty"`
	GroupMembershipClaims      string                               `json:"groupMembershipClaims,omitempty"`
	OptionalClaims             *domain.OptionalClaims               `json:"optionalClaims,omitempty"`
	LogoutURL                  string                               `json:"logoutUrl,omitempty"`
	TokenLifetimePolicyIDs     []string                             `json:"tokenLifetimePolicyIds,omitempty"`
}

func EncodeApplication(a domain.Application) ([]byte, error) {
	return json.Marshal(applicationDoc{
		ID:                         a.ID,
		TenantID:                   a.TenantID,
		AppID:                      a.AppID,
		DisplayName:                a.DisplayName,
		SignInAudience:             a.SignInAudience,
		IdentifierURIs:             a.IdentifierURIs,
		WebRedirectURIs:            a.WebRedirectURIs,
		PublicRedirectURIs:         a.PublicRedirectURIs,
		SpaRedirectURIs:            a.SpaRedirectURIs,
		IsFallbackPublicClient:     a.IsFallbackPublicClient,
		AppRoles:                   a.AppRoles,
		AccessTokenAcceptedVersion: a.AccessTokenAcceptedVersion,
		PasswordCredentials:        UtcPasswords(a.PasswordCredentials),
		KeyCredentials:             UtcKeys(a.KeyCredentials),
		FederatedCredentials:       a.FederatedCredentials,
		CreatedAt:                  Utc(a.CreatedAt),
		OAuth2PermissionScopes:     a.OAuth2PermissionScopes,
		RequiredResourceAccess:     a.RequiredResourceAccess,
		GroupMembershipClaims:      a.GroupMembershipClaims,
		OptionalClaims:             a.OptionalClaims,
		LogoutURL:                  a.LogoutURL,
		TokenLifetimePolicyIDs:     a.TokenLifetimePolicyIDs,
	})
}

func DecodeApplication(b []byte) (domain.Application, error) {
	var d applicationDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return domain.Application{}, err
	}
	return domain.Application{
		ID:                         d.ID,
		TenantID:                   d.TenantID,
		AppID:                      d.AppID,
		DisplayName:                d.DisplayName,
		SignInAudience:             d.SignInAudience,
		IdentifierURIs:             d.IdentifierURIs,
		WebRedirectURIs:            d.WebRedirectURIs,
		PublicRedirectURIs:         d.PublicRedirectURIs,
		SpaRedirectURIs:            d.SpaRedirectURIs,
		IsFallbackPublicClient:     d.IsFallbackPublicClient,
		AppRoles:                   d.AppRoles,
		AccessTokenAcceptedVersion: d.AccessTokenAcceptedVersion,
		PasswordCredentials:        d.PasswordCredentials,
		KeyCredentials:             d.KeyCredentials,
		FederatedCredentials:       d.FederatedCredentials,
		CreatedAt:                  d.CreatedAt,
		OAuth2PermissionScopes:     d.OAuth2PermissionScopes,
		RequiredResourceAccess:     d.RequiredResourceAccess,
		GroupMembershipClaims:      d.GroupMembershipClaims,
		OptionalClaims:             d.OptionalClaims,
		LogoutURL:                  d.LogoutURL,
		TokenLifetimePolicyIDs:     d.TokenLifetimePolicyIDs,
	}, nil
}

type servicePrincipalDoc struct {
	ID                         string                      `json:"id"`
	TenantID                   string                      `json:"tenantId"`
	AppID                      string                      `json:"appId"`
	DisplayName                string                      `json:"displayName"`
	AccountEnabled             bool                        `json:"accountEnabled"`
	ServicePrincipalNames      []string                    `json:"servicePrincipalNames"`
	ServicePrincipalType       string                      `json:"servicePrincipalType"`
	AppOwnerTenantID           string                      `json:"appOwnerTenantId"`
	AppRoles                   []domain.AppRole            `json:"appRoles"`
	PasswordCredentials        []domain.PasswordCredential `json:"passwordCredentials"`
	PublicClient               bool                        `json:"publicClient"`
	AccessTokenAcceptedVersion int                         `json:"accessTokenAcceptedVersion"`
	CreatedAt                  time.Time                   `json:"createdAt,omitzero"`
	OAuth2PermissionScopes     []domain.PermissionScope    `json:"oauth2PermissionScopes,omitempty"`
}

func EncodeServicePrincipal(sp domain.ServicePrincipal) ([]byte, error) {
	return json.Marshal(servicePrincipalDoc{
		ID:                         sp.ID,
		TenantID:                   sp.TenantID,
		AppID:                      sp.AppID,
		DisplayName:                sp.DisplayName,
		AccountEnabled:             sp.AccountEnabled,
		ServicePrincipalNames:      sp.ServicePrincipalNames,
		ServicePrincipalType:       sp.ServicePrincipalType,
		AppOwnerTenantID:           sp.AppOwnerTenantID,
		AppRoles:                   sp.AppRoles,
		PasswordCredentials:        UtcPasswords(sp.PasswordCredentials),
		PublicClient:               sp.PublicClient,
		AccessTokenAcceptedVersion: sp.AccessTokenAcceptedVersion,
		CreatedAt:                  Utc(sp.CreatedAt),
		OAuth2PermissionScopes:     sp.OAuth2PermissionScopes,
	})
}

func DecodeServicePrincipal(b []byte) (domain.ServicePrincipal, error) {
	var d servicePrincipalDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return domain.ServicePrincipal{}, err
	}
	return domain.ServicePrincipal{
		ID:                         d.ID,
		TenantID:                   d.TenantID,
		AppID:                      d.AppID,
		DisplayName:                d.DisplayName,
		AccountEnabled:             d.AccountEnabled,
		ServicePrincipalNames:      d.ServicePrincipalNames,
		ServicePrincipalType:       d.ServicePrincipalType,
		AppOwnerTenantID:           d.AppOwnerTenantID,
		AppRoles:                   d.AppRoles,
		PasswordCredentials:        d.PasswordCredentials,
		PublicClient:               d.PublicClient,
		AccessTokenAcceptedVersion: d.AccessTokenAcceptedVersion,
		CreatedAt:                  d.CreatedAt,
		OAuth2PermissionScopes:     d.OAuth2PermissionScopes,
	}, nil
}

// utcPasswords returns a copy with normalised times; the caller's slice is
// not modified.
func UtcPasswords(in []domain.PasswordCredential) []domain.PasswordCredential {
	out := slices.Clone(in)
	for i := range out {
		out[i].StartDateTime = Utc(out[i].StartDateTime)
		out[i].EndDateTime = Utc(out[i].EndDateTime)
	}
	return out
}

func UtcKeys(in []domain.KeyCredential) []domain.KeyCredential {
	out := slices.Clone(in)
	for i := range out {
		out[i].StartDateTime = Utc(out[i].StartDateTime)
		out[i].EndDateTime = Utc(out[i].EndDateTime)
	}
	return out
}

// utc normalises a time for storage: UTC, microsecond resolution (what
// PostgreSQL keeps, so both backends return the same value), and the zero time
// kept as the zero time.
func Utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}
