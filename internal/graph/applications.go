package graph

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/wire"
)

// appAdmins may manage any application.
var appAdmins = []string{domain.RoleGlobalAdministrator, domain.RoleApplicationAdministrator, domain.RoleCloudApplicationAdministrator}

type applicationJSON struct {
	ODataContext           string                   `json:"@odata.context,omitempty"`
	ODataType              string                   `json:"@odata.type,omitempty"`
	ID                     string                   `json:"id"`
	AppID                  string                   `json:"appId"`
	DisplayName            string                   `json:"displayName"`
	CreatedDateTime        string                   `json:"createdDateTime"`
	SignInAudience         string                   `json:"signInAudience"`
	IdentifierURIs         []string                 `json:"identifierUris"`
	IsFallbackPublicClient *bool                    `json:"isFallbackPublicClient"`
	AppRoles               []domain.AppRole         `json:"appRoles"`
	API                    apiJSON                  `json:"api"`
	Web                    redirectsJSON            `json:"web"`
	PublicClient           redirectsJSON            `json:"publicClient"`
	PasswordCredentials    []passwordCredentialJSON `json:"passwordCredentials"`
	KeyCredentials         []keyCredentialJSON      `json:"keyCredentials"`
}

type apiJSON struct {
	RequestedAccessTokenVersion *int `json:"requestedAccessTokenVersion"`
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

func toApplicationJSON(base string, a domain.Application) applicationJSON {
	j := applicationJSON{
		ODataContext: base + Prefix + "/$metadata#applications/$entity",
		ID:           a.ID, AppID: a.AppID, DisplayName: a.DisplayName, CreatedDateTime: graphTime(a.CreatedAt),
		SignInAudience: a.SignInAudience, IdentifierURIs: nonNil(a.IdentifierURIs), AppRoles: a.AppRoles,
		Web: redirectsJSON{nonNil(a.WebRedirectURIs)}, PublicClient: redirectsJSON{nonNil(a.PublicRedirectURIs)},
		PasswordCredentials: []passwordCredentialJSON{}, KeyCredentials: []keyCredentialJSON{},
	}
	if a.AppRoles == nil {
		j.AppRoles = []domain.AppRole{}
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
		j.KeyCredentials = append(j.KeyCredentials, keyCredentialJSON{
			CustomKeyIdentifier: strings.ToUpper(hexString(k.CustomKeyIdentifier)), DisplayName: k.DisplayName,
			EndDateTime: graphTime(k.EndDateTime), KeyID: k.KeyID, StartDateTime: graphTime(k.StartDateTime),
			Type: k.Type, Usage: k.Usage,
		})
	}
	return j
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

// applicationBody is what POST and PATCH accept. Pointers tell "absent" from "empty".
type applicationBody struct {
	DisplayName            *string              `json:"displayName"`
	SignInAudience         *string              `json:"signInAudience"`
	IdentifierURIs         *[]string            `json:"identifierUris"`
	IsFallbackPublicClient *bool                `json:"isFallbackPublicClient"`
	AppRoles               *[]domain.AppRole    `json:"appRoles"`
	API                    *apiJSON             `json:"api"`
	Web                    *redirectsJSON       `json:"web"`
	PublicClient           *redirectsJSON       `json:"publicClient"`
	KeyCredentials         *[]keyCredentialJSON `json:"keyCredentials"`
}

func (b applicationBody) keyInputs() (*[]directory.KeyCredentialInput, string) {
	if b.KeyCredentials == nil {
		return nil, ""
	}
	out := make([]directory.KeyCredentialInput, 0, len(*b.KeyCredentials))
	for _, k := range *b.KeyCredentials {
		if k.Key == nil {
			return nil, "keyCredentials[].key is required."
		}
		// az sends the base64 DER with embedded newlines.
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(*k.Key), ""))
		if err != nil {
			return nil, "keyCredentials[].key must be base64."
		}
		start, ok1 := parseGraphTime(k.StartDateTime)
		end, ok2 := parseGraphTime(k.EndDateTime)
		if !ok1 || !ok2 {
			return nil, "keyCredentials[] dates must be ISO 8601."
		}
		out = append(out, directory.KeyCredentialInput{KeyID: k.KeyID, DisplayName: k.DisplayName, Type: k.Type,
			Usage: k.Usage, Key: der, StartDateTime: start, EndDateTime: end})
	}
	return &out, ""
}

func (h *Handler) createApplication(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.requireRole(w, r, c, appAdmins...) {
		return
	}
	var b applicationBody
	if !h.decode(w, r, &b) {
		return
	}
	keys, msg := b.keyInputs()
	if msg != "" {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, msg)
		return
	}
	in := directory.ApplicationInput{}
	if b.DisplayName != nil {
		in.DisplayName = *b.DisplayName
	}
	if b.SignInAudience != nil {
		in.SignInAudience = *b.SignInAudience
	}
	if b.IdentifierURIs != nil {
		in.IdentifierURIs = *b.IdentifierURIs
	}
	if b.IsFallbackPublicClient != nil {
		in.IsFallbackPublicClient = *b.IsFallbackPublicClient
	}
	if b.AppRoles != nil {
		in.AppRoles = *b.AppRoles
	}
	if b.API != nil && b.API.RequestedAccessTokenVersion != nil {
		in.AccessTokenAcceptedVersion = *b.API.RequestedAccessTokenVersion
	}
	if b.Web != nil {
		in.WebRedirectURIs = b.Web.RedirectURIs
	}
	if b.PublicClient != nil {
		in.PublicRedirectURIs = b.PublicClient.RedirectURIs
	}
	if keys != nil {
		in.KeyCredentials = *keys
	}
	app, err := h.dir.CreateApplication(r.Context(), c.TenantID, in)
	h.recordChange(r, c, "application.create", app.AppID, err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	j := toApplicationJSON(h.base.For(r), app)
	w.Header().Set("Location", h.base.For(r)+Prefix+"/directoryObjects/"+app.ID+"/Microsoft.DirectoryServices.Application")
	wire.WriteJSON(w, http.StatusCreated, j)
}

func (h *Handler) getApplication(w http.ResponseWriter, r *http.Request, c caller) {
	app, err := h.store.GetApplication(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, toApplicationJSON(h.base.For(r), app))
}

func (h *Handler) patchApplication(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.requireRole(w, r, c, appAdmins...) {
		return
	}
	var b applicationBody
	if !h.decode(w, r, &b) {
		return
	}
	keys, msg := b.keyInputs()
	if msg != "" {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, msg)
		return
	}
	p := directory.ApplicationPatch{
		DisplayName: b.DisplayName, SignInAudience: b.SignInAudience, IdentifierURIs: b.IdentifierURIs,
		IsFallbackPublicClient: b.IsFallbackPublicClient, AppRoles: b.AppRoles, KeyCredentials: keys,
	}
	if b.API != nil {
		p.AccessTokenAcceptedVersion = b.API.RequestedAccessTokenVersion
	}
	if b.Web != nil {
		p.WebRedirectURIs = &b.Web.RedirectURIs
	}
	if b.PublicClient != nil {
		p.PublicRedirectURIs = &b.PublicClient.RedirectURIs
	}
	_, err := h.dir.UpdateApplication(r.Context(), c.TenantID, r.PathValue("id"), p)
	h.recordChange(r, c, "application.update", r.PathValue("id"), err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.changed(c.TenantID)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) addPassword(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.requireRole(w, r, c, appAdmins...) {
		return
	}
	var b struct {
		PasswordCredential *struct {
			DisplayName   *string `json:"displayName"`
			StartDateTime string  `json:"startDateTime"`
			EndDateTime   string  `json:"endDateTime"`
		} `json:"passwordCredential"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	var in directory.PasswordInput
	if pc := b.PasswordCredential; pc != nil {
		if pc.DisplayName != nil {
			in.DisplayName = *pc.DisplayName
		}
		var ok1, ok2 bool
		in.StartDateTime, ok1 = parseGraphTime(pc.StartDateTime)
		in.EndDateTime, ok2 = parseGraphTime(pc.EndDateTime)
		if !ok1 || !ok2 {
			h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "startDateTime and endDateTime must be ISO 8601.")
			return
		}
	}
	cred, secret, err := h.dir.AddPassword(r.Context(), c.TenantID, r.PathValue("id"), in)
	h.recordChange(r, c, "application.addPassword", r.PathValue("id"), err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	j := toPasswordJSON(cred, &secret)
	wire.WriteJSON(w, http.StatusOK, struct {
		ODataContext string `json:"@odata.context"`
		passwordCredentialJSON
	}{h.base.For(r) + Prefix + "/$metadata#microsoft.graph.passwordCredential", j})
}

func (h *Handler) addFederatedCredential(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.requireRole(w, r, c, appAdmins...) {
		return
	}
	var b struct {
		Name        string   `json:"name"`
		Issuer      string   `json:"issuer"`
		Subject     string   `json:"subject"`
		Audiences   []string `json:"audiences"`
		Description string   `json:"description"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	fic, err := h.dir.AddFederatedCredential(r.Context(), c.TenantID, r.PathValue("id"), directory.FederatedCredentialInput{
		Name: b.Name, Issuer: b.Issuer, Subject: b.Subject, Audiences: b.Audiences, Description: b.Description,
	})
	h.recordChange(r, c, "application.addFederatedIdentityCredential", r.PathValue("id"), err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusCreated, map[string]any{
		"@odata.context": h.base.For(r) + Prefix + "/$metadata#applications('" + r.PathValue("id") + "')/federatedIdentityCredentials/$entity",
		"id":             fic.ID, "name": fic.Name, "issuer": fic.Issuer, "subject": fic.Subject,
		"audiences": fic.Audiences, "description": fic.Description,
	})
}

type servicePrincipalJSON struct {
	ODataContext           string                   `json:"@odata.context,omitempty"`
	ODataType              string                   `json:"@odata.type,omitempty"`
	ID                     string                   `json:"id"`
	AppID                  string                   `json:"appId"`
	DisplayName            string                   `json:"displayName"`
	AccountEnabled         bool                     `json:"accountEnabled"`
	AppOwnerOrganizationID string                   `json:"appOwnerOrganizationId"`
	AppRoles               []domain.AppRole         `json:"appRoles"`
	ServicePrincipalNames  []string                 `json:"servicePrincipalNames"`
	ServicePrincipalType   string                   `json:"servicePrincipalType"`
	PasswordCredentials    []passwordCredentialJSON `json:"passwordCredentials"`
	KeyCredentials         []keyCredentialJSON      `json:"keyCredentials"`
}

func toServicePrincipalJSON(base string, sp domain.ServicePrincipal) servicePrincipalJSON {
	j := servicePrincipalJSON{
		ODataContext: base + Prefix + "/$metadata#servicePrincipals/$entity",
		ID:           sp.ID, AppID: sp.AppID, DisplayName: sp.DisplayName, AccountEnabled: sp.AccountEnabled,
		AppOwnerOrganizationID: sp.AppOwnerTenantID, AppRoles: sp.AppRoles, ServicePrincipalNames: nonNil(sp.ServicePrincipalNames),
		ServicePrincipalType: sp.ServicePrincipalType, PasswordCredentials: []passwordCredentialJSON{}, KeyCredentials: []keyCredentialJSON{},
	}
	if j.AppRoles == nil {
		j.AppRoles = []domain.AppRole{}
	}
	for _, p := range sp.PasswordCredentials {
		j.PasswordCredentials = append(j.PasswordCredentials, toPasswordJSON(p, nil))
	}
	return j
}

func (h *Handler) createServicePrincipal(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.requireRole(w, r, c, appAdmins...) {
		return
	}
	var b struct {
		AppID          string `json:"appId"`
		AccountEnabled *bool  `json:"accountEnabled"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	if b.AppID == "" {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Property 'appId' is required.")
		return
	}
	enabled := b.AccountEnabled == nil || *b.AccountEnabled
	sp, err := h.dir.CreateServicePrincipal(r.Context(), c.TenantID, b.AppID, enabled)
	h.recordChange(r, c, "servicePrincipal.create", b.AppID, err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.changed(c.TenantID)
	wire.WriteJSON(w, http.StatusCreated, toServicePrincipalJSON(h.base.For(r), sp))
}

func (h *Handler) patchServicePrincipal(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.requireRole(w, r, c, appAdmins...) {
		return
	}
	var b struct {
		AccountEnabled *bool   `json:"accountEnabled"`
		DisplayName    *string `json:"displayName"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	id := r.PathValue("id")
	_, err := h.dir.UpdateServicePrincipal(r.Context(), c.TenantID, id, directory.ServicePrincipalPatch{
		AccountEnabled: b.AccountEnabled, DisplayName: b.DisplayName,
	})
	h.recordChange(r, c, "servicePrincipal.update", id, err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) getServicePrincipal(w http.ResponseWriter, r *http.Request, c caller) {
	sp, err := h.store.GetServicePrincipal(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, toServicePrincipalJSON(h.base.For(r), sp))
}

func (h *Handler) assignAppRole(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.requireRole(w, r, c, domain.RoleGlobalAdministrator, domain.RolePrivilegedRoleAdministrator, domain.RoleCloudApplicationAdministrator, domain.RoleApplicationAdministrator) {
		return
	}
	var b struct {
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		AppRoleID   string `json:"appRoleId"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	if b.PrincipalID != r.PathValue("id") {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "principalId must be the service principal in the URL.")
		return
	}
	a, err := h.dir.AssignAppRole(r.Context(), c.TenantID, b.PrincipalID, b.ResourceID, b.AppRoleID)
	h.recordChange(r, c, "servicePrincipal.appRoleAssignment.create", b.PrincipalID, err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusCreated, map[string]any{
		"id": a.ID, "principalId": a.PrincipalID, "resourceId": a.ResourceID, "appRoleId": a.AppRoleID,
		"createdDateTime": graphTime(a.CreatedAt), "principalType": "ServicePrincipal",
	})
}
