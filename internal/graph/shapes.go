package graph

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/graph/odata"
)

// Graph's JSON shapes of directory objects (AZURE_CLI.md §5). Secrets never
// appear here: a password credential shows its keyId, hint, name and dates,
// and secretText only in the addPassword answer.

// OData type names.
const (
	typeUser             = "#microsoft.graph.user"
	typeGroup            = "#microsoft.graph.group"
	typeApplication      = "#microsoft.graph.application"
	typeServicePrincipal = "#microsoft.graph.servicePrincipal"
)

type applicationJSON struct {
	ODataType              string                          `json:"@odata.type"`
	ID                     string                          `json:"id"`
	AppID                  string                          `json:"appId"`
	DisplayName            string                          `json:"displayName"`
	CreatedDateTime        string                          `json:"createdDateTime"`
	SignInAudience         string                          `json:"signInAudience"`
	IdentifierURIs         []string                        `json:"identifierUris"`
	IsFallbackPublicClient *bool                           `json:"isFallbackPublicClient"`
	AppRoles               []domain.AppRole                `json:"appRoles"`
	API                    apiJSON                         `json:"api"`
	Web                    webJSON                         `json:"web"`
	PublicClient           redirectsJSON                   `json:"publicClient"`
	Spa                    redirectsJSON                   `json:"spa"`
	PasswordCredentials    []passwordCredentialJSON        `json:"passwordCredentials"`
	KeyCredentials         []keyCredentialJSON             `json:"keyCredentials"`
	RequiredResourceAccess []domain.RequiredResourceAccess `json:"requiredResourceAccess"`
	GroupMembershipClaims  *string                         `json:"groupMembershipClaims"`
	OptionalClaims         *domain.OptionalClaims          `json:"optionalClaims"`
	Tags                   []string                        `json:"tags"`
}

// apiJSON is Graph's apiApplication. requestedAccessTokenVersion is
// domain.Application.AccessTokenAcceptedVersion (null when unset).
type apiJSON struct {
	RequestedAccessTokenVersion *int                      `json:"requestedAccessTokenVersion"`
	OAuth2PermissionScopes      *[]domain.PermissionScope `json:"oauth2PermissionScopes"`
}

// webJSON is Graph's webApplication.
type webJSON struct {
	RedirectURIs []string `json:"redirectUris"`
	LogoutURL    *string  `json:"logoutUrl"`
}

type redirectsJSON struct {
	RedirectURIs []string `json:"redirectUris"`
}

type passwordCredentialJSON struct {
	CustomKeyIdentifier *string `json:"customKeyIdentifier"`
	DisplayName         *string `json:"displayName"`
	EndDateTime         string  `json:"endDateTime"`
	Hint                string  `json:"hint"`
	KeyID               string  `json:"keyId"`
	SecretText          *string `json:"secretText"`
	StartDateTime       string  `json:"startDateTime"`
}

type keyCredentialJSON struct {
	ODataType           string  `json:"@odata.type,omitempty"`
	CustomKeyIdentifier string  `json:"customKeyIdentifier,omitempty"`
	DisplayName         string  `json:"displayName,omitempty"`
	EndDateTime         string  `json:"endDateTime,omitempty"`
	Key                 *string `json:"key"`
	KeyID               string  `json:"keyId,omitempty"`
	StartDateTime       string  `json:"startDateTime,omitempty"`
	Type                string  `json:"type,omitempty"`
	Usage               string  `json:"usage,omitempty"`
}

func graphTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func parseGraphTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

func toApplicationJSON(a domain.Application) applicationJSON {
	j := applicationJSON{
		ODataType: typeApplication,
		ID:        a.ID, AppID: a.AppID, DisplayName: a.DisplayName, CreatedDateTime: graphTime(a.CreatedAt),
		SignInAudience: a.SignInAudience, IdentifierURIs: nonNil(a.IdentifierURIs), AppRoles: a.AppRoles,
		Web: webJSON{RedirectURIs: nonNil(a.WebRedirectURIs)}, PublicClient: redirectsJSON{nonNil(a.PublicRedirectURIs)},
		Spa:                 redirectsJSON{nonNil(a.SpaRedirectURIs)},
		PasswordCredentials: []passwordCredentialJSON{}, KeyCredentials: []keyCredentialJSON{},
		RequiredResourceAccess: a.RequiredResourceAccess, Tags: []string{},
	}
	if a.AppRoles == nil {
		j.AppRoles = []domain.AppRole{}
	}
	scopes := a.OAuth2PermissionScopes
	if scopes == nil {
		scopes = []domain.PermissionScope{}
	}
	j.API.OAuth2PermissionScopes = &scopes
	if j.RequiredResourceAccess == nil {
		j.RequiredResourceAccess = []domain.RequiredResourceAccess{}
	}
	if a.GroupMembershipClaims != "" {
		v := a.GroupMembershipClaims
		j.GroupMembershipClaims = &v
	}
	if a.OptionalClaims != nil {
		oc := *a.OptionalClaims
		for _, l := range []*[]domain.OptionalClaim{&oc.IDToken, &oc.AccessToken, &oc.Saml2Token} {
			if *l == nil {
				*l = []domain.OptionalClaim{}
			}
		}
		j.OptionalClaims = &oc
	}
	if a.LogoutURL != "" {
		v := a.LogoutURL
		j.Web.LogoutURL = &v
	}
	if a.IsFallbackPublicClient {
		t := true
		j.IsFallbackPublicClient = &t
	}
	if a.AccessTokenAcceptedVersion != 0 {
		v := a.AccessTokenAcceptedVersion
		j.API.RequestedAccessTokenVersion = &v
	}
	for _, p := range a.PasswordCredentials {
		j.PasswordCredentials = append(j.PasswordCredentials, toPasswordJSON(p, nil))
	}
	for _, k := range a.KeyCredentials {
		j.KeyCredentials = append(j.KeyCredentials, toKeyJSON(k))
	}
	return j
}

func toKeyJSON(k domain.KeyCredential) keyCredentialJSON {
	return keyCredentialJSON{
		CustomKeyIdentifier: strings.ToUpper(hexString(k.CustomKeyIdentifier)), DisplayName: k.DisplayName,
		EndDateTime: graphTime(k.EndDateTime), KeyID: k.KeyID, StartDateTime: graphTime(k.StartDateTime),
		Type: k.Type, Usage: k.Usage,
	}
}

func toPasswordJSON(p domain.PasswordCredential, secret *string) passwordCredentialJSON {
	var name *string
	if p.DisplayName != "" {
		n := p.DisplayName
		name = &n
	}
	return passwordCredentialJSON{DisplayName: name, EndDateTime: graphTime(p.EndDateTime), Hint: p.Hint,
		KeyID: p.KeyID, SecretText: secret, StartDateTime: graphTime(p.StartDateTime)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

type servicePrincipalJSON struct {
	ODataType              string                   `json:"@odata.type"`
	ID                     string                   `json:"id"`
	AppID                  string                   `json:"appId"`
	DisplayName            string                   `json:"displayName"`
	AppDisplayName         string                   `json:"appDisplayName"`
	AccountEnabled         bool                     `json:"accountEnabled"`
	AppOwnerOrganizationID string                   `json:"appOwnerOrganizationId"`
	AppRoles               []domain.AppRole         `json:"appRoles"`
	OAuth2PermissionScopes []domain.PermissionScope `json:"oauth2PermissionScopes"`
	CreatedDateTime        string                   `json:"createdDateTime"`
	ServicePrincipalNames  []string                 `json:"servicePrincipalNames"`
	ServicePrincipalType   string                   `json:"servicePrincipalType"`
	SignInAudience         string                   `json:"signInAudience"`
	PasswordCredentials    []passwordCredentialJSON `json:"passwordCredentials"`
	KeyCredentials         []keyCredentialJSON      `json:"keyCredentials"`
	ReplyURLs              []string                 `json:"replyUrls"`
	Tags                   []string                 `json:"tags"`
}

func toServicePrincipalJSON(sp domain.ServicePrincipal) servicePrincipalJSON {
	j := servicePrincipalJSON{
		ODataType: typeServicePrincipal,
		ID:        sp.ID, AppID: sp.AppID, DisplayName: sp.DisplayName, AppDisplayName: sp.DisplayName, AccountEnabled: sp.AccountEnabled,
		AppOwnerOrganizationID: sp.AppOwnerTenantID, AppRoles: sp.AppRoles, CreatedDateTime: graphTime(sp.CreatedAt),
		ServicePrincipalNames: nonNil(sp.ServicePrincipalNames), ServicePrincipalType: sp.ServicePrincipalType,
		SignInAudience:      "AzureADMyOrg",
		PasswordCredentials: []passwordCredentialJSON{}, KeyCredentials: []keyCredentialJSON{},
		ReplyURLs: []string{}, Tags: []string{},
	}
	if sp.AppOwnerTenantID == directory.MicrosoftTenantID {
		j.SignInAudience = "AzureADMultipleOrgs"
	}
	if j.AppRoles == nil {
		j.AppRoles = []domain.AppRole{}
	}
	j.OAuth2PermissionScopes = sp.OAuth2PermissionScopes
	if j.OAuth2PermissionScopes == nil {
		j.OAuth2PermissionScopes = []domain.PermissionScope{}
	}
	for _, p := range sp.PasswordCredentials {
		j.PasswordCredentials = append(j.PasswordCredentials, toPasswordJSON(p, nil))
	}
	return j
}

type userJSON struct {
	ODataType         string   `json:"@odata.type"`
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	DisplayName       string   `json:"displayName"`
	MailNickname      string   `json:"mailNickname"`
	AccountEnabled    bool     `json:"accountEnabled"`
	CreatedDateTime   string   `json:"createdDateTime"`
	UserType          string   `json:"userType"`
	Mail              *string  `json:"mail"`
	GivenName         *string  `json:"givenName"`
	Surname           *string  `json:"surname"`
	JobTitle          *string  `json:"jobTitle"`
	MobilePhone       *string  `json:"mobilePhone"`
	OfficeLocation    *string  `json:"officeLocation"`
	PreferredLanguage *string  `json:"preferredLanguage"`
	BusinessPhones    []string `json:"businessPhones"`
}

func toUserJSON(u domain.User) userJSON {
	return userJSON{
		ODataType: typeUser, ID: u.ID, UserPrincipalName: u.UserPrincipalName, DisplayName: u.DisplayName,
		MailNickname: u.MailNickname, AccountEnabled: u.AccountEnabled, CreatedDateTime: graphTime(u.CreatedAt),
		UserType: "Member", BusinessPhones: []string{},
		GivenName: nonEmpty(u.GivenName), Surname: nonEmpty(u.Surname), Mail: nonEmpty(u.Mail),
	}
}

type groupJSON struct {
	ODataType          string   `json:"@odata.type"`
	ID                 string   `json:"id"`
	DisplayName        string   `json:"displayName"`
	MailNickname       string   `json:"mailNickname"`
	SecurityEnabled    bool     `json:"securityEnabled"`
	MailEnabled        bool     `json:"mailEnabled"`
	CreatedDateTime    string   `json:"createdDateTime"`
	Description        *string  `json:"description"`
	Mail               *string  `json:"mail"`
	GroupTypes         []string `json:"groupTypes"`
	IsAssignableToRole *bool    `json:"isAssignableToRole"`
	Visibility         *string  `json:"visibility"`
}

func toGroupJSON(g domain.Group) groupJSON {
	return groupJSON{
		ODataType: typeGroup, ID: g.ID, DisplayName: g.DisplayName, MailNickname: g.MailNickname,
		SecurityEnabled: g.SecurityEnabled, MailEnabled: g.MailEnabled, CreatedDateTime: graphTime(g.CreatedAt),
		GroupTypes: []string{},
	}
}

// toMap turns a JSON shape into the generic form filters and $select work on.
func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return map[string]any{}
	}
	return m
}

// objectMap is the JSON form of any directory object.
func objectMap(o directory.Object) map[string]any {
	switch {
	case o.User != nil:
		return toMap(toUserJSON(*o.User))
	case o.Group != nil:
		return toMap(toGroupJSON(*o.Group))
	case o.ServicePrincipal != nil:
		return toMap(toServicePrincipalJSON(*o.ServicePrincipal))
	case o.Application != nil:
		return toMap(toApplicationJSON(*o.Application))
	}
	return map[string]any{}
}

func objectItem(o directory.Object) odata.Item {
	return odata.Item{Created: o.CreatedAt(), ID: o.ID(), Object: objectMap(o)}
}

// Entity sets: the context name, the type name in messages, and the schema
// filters and $select bind to.
type entitySet struct {
	context  string
	typeName string
	schema   odata.Schema
}

var (
	usersSet        = entitySet{"users", "microsoft.graph.user", odata.SchemaOf(toMap(toUserJSON(domain.User{GivenName: "g", Surname: "s", Mail: "m"})))}
	groupsSet       = entitySet{"groups", "microsoft.graph.group", odata.SchemaOf(toMap(toGroupJSON(domain.Group{})))}
	applicationsSet = entitySet{"applications", "microsoft.graph.application",
		odata.SchemaOf(toMap(toApplicationJSON(domain.Application{})))}
	servicePrincipalsSet = entitySet{"servicePrincipals", "microsoft.graph.servicePrincipal",
		odata.SchemaOf(toMap(toServicePrincipalJSON(domain.ServicePrincipal{})))}
	// directoryObjectsSet holds users, groups and service principals (members,
	// owners, getByIds): any of their properties may be filtered on.
	directoryObjectsSet = entitySet{"directoryObjects", "microsoft.graph.directoryObject", odata.SchemaOf(
		toMap(toUserJSON(domain.User{})), toMap(toGroupJSON(domain.Group{})),
		toMap(toServicePrincipalJSON(domain.ServicePrincipal{})), toMap(toApplicationJSON(domain.Application{})))}
	federatedSet = entitySet{"federatedIdentityCredentials", "microsoft.graph.federatedIdentityCredential",
		odata.SchemaOf(toMap(toFederatedJSON(domain.FederatedIdentityCredential{})))}
	appRoleAssignmentsSet = entitySet{"appRoleAssignments", "microsoft.graph.appRoleAssignment",
		odata.SchemaOf(toMap(appRoleAssignmentJSON{}))}
	roleAssignmentsSet = entitySet{"roleManagement/directory/roleAssignments", "microsoft.graph.unifiedRoleAssignment",
		odata.SchemaOf(toMap(roleAssignmentJSON{}))}
	roleDefinitionsSet = entitySet{"roleManagement/directory/roleDefinitions", "microsoft.graph.unifiedRoleDefinition",
		odata.SchemaOf(toMap(roleDefinitionJSON{}))}
)

type federatedJSON struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Issuer      string   `json:"issuer"`
	Subject     string   `json:"subject"`
	Audiences   []string `json:"audiences"`
	Description *string  `json:"description"`
}

func toFederatedJSON(f domain.FederatedIdentityCredential) federatedJSON {
	j := federatedJSON{ID: f.ID, Name: f.Name, Issuer: f.Issuer, Subject: f.Subject, Audiences: nonNil(f.Audiences)}
	if f.Description != "" {
		d := f.Description
		j.Description = &d
	}
	return j
}

type appRoleAssignmentJSON struct {
	ID                   string  `json:"id"`
	AppRoleID            string  `json:"appRoleId"`
	CreatedDateTime      string  `json:"createdDateTime"`
	DeletedDateTime      *string `json:"deletedDateTime"`
	PrincipalDisplayName string  `json:"principalDisplayName"`
	PrincipalID          string  `json:"principalId"`
	PrincipalType        string  `json:"principalType"`
	ResourceDisplayName  string  `json:"resourceDisplayName"`
	ResourceID           string  `json:"resourceId"`
}

type roleAssignmentJSON struct {
	ODataType        string `json:"@odata.type,omitempty"`
	ID               string `json:"id"`
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
	CreatedDateTime  string `json:"createdDateTime"`
}

func toRoleAssignmentJSON(a domain.DirectoryRoleAssignment) roleAssignmentJSON {
	return roleAssignmentJSON{ODataType: "#microsoft.graph.unifiedRoleAssignment", ID: a.ID, PrincipalID: a.PrincipalID,
		RoleDefinitionID: a.RoleTemplateID, DirectoryScopeID: "/", CreatedDateTime: graphTime(a.CreatedAt)}
}

type roleDefinitionJSON struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	IsBuiltIn   bool   `json:"isBuiltIn"`
	IsEnabled   bool   `json:"isEnabled"`
	TemplateID  string `json:"templateId"`
}

// nonEmpty is Graph's null for an unset string property.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
