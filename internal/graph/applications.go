package graph

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/graph/odata"
	"github.com/tessera-id/tessera/internal/wire"
)

// applicationBody is what POST and PATCH accept. Pointers tell "absent" from "empty".
type applicationBody struct {
	DisplayName            *string              `json:"displayName"`
	SignInAudience         *string              `json:"signInAudience"`
	IdentifierURIs         *[]string            `json:"identifierUris"`
	IsFallbackPublicClient *bool                `json:"isFallbackPublicClient"`
	AppRoles               *[]domain.AppRole    `json:"appRoles"`
	API                    *apiJSON             `json:"api"`
	Web                    *webJSON             `json:"web"`
	PublicClient           *redirectsJSON       `json:"publicClient"`
	Spa                    *redirectsJSON       `json:"spa"`
	KeyCredentials         *[]keyCredentialJSON `json:"keyCredentials"`
	applicationAPIBody
}

func keyInput(k keyCredentialJSON) (directory.KeyCredentialInput, string) {
	if k.Key == nil {
		return directory.KeyCredentialInput{}, "keyCredentials[].key is required."
	}
	// az sends the base64 DER with embedded newlines.
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(*k.Key), ""))
	if err != nil {
		return directory.KeyCredentialInput{}, "keyCredentials[].key must be base64."
	}
	start, ok1 := parseGraphTime(k.StartDateTime)
	end, ok2 := parseGraphTime(k.EndDateTime)
	if !ok1 || !ok2 {
		return directory.KeyCredentialInput{}, "keyCredentials[] dates must be ISO 8601."
	}
	return directory.KeyCredentialInput{KeyID: k.KeyID, DisplayName: k.DisplayName, Type: k.Type,
		Usage: k.Usage, Key: der, StartDateTime: start, EndDateTime: end}, ""
}

func (b applicationBody) keyInputs() (*[]directory.KeyCredentialInput, string) {
	if b.KeyCredentials == nil {
		return nil, ""
	}
	out := make([]directory.KeyCredentialInput, 0, len(*b.KeyCredentials))
	for _, k := range *b.KeyCredentials {
		in, msg := keyInput(k)
		if msg != "" {
			return nil, msg
		}
		out = append(out, in)
	}
	return &out, ""
}

func (h *Handler) applicationItems(r *http.Request, c caller) ([]odata.Item, error) {
	apps, err := h.dir.ListApplications(r.Context(), c.TenantID)
	if err != nil {
		return nil, err
	}
	items := make([]odata.Item, 0, len(apps))
	for _, a := range apps {
		items = append(items, odata.Item{Created: a.CreatedAt, ID: a.ID, Object: toMap(toApplicationJSON(a))})
	}
	return items, nil
}

func (h *Handler) listApplications(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, applicationsSet)
	if !ok {
		return
	}
	items, err := h.applicationItems(r, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeList(w, r, applicationsSet.context, q, items)
}

func (h *Handler) createApplication(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.authorize(w, r, c, directory.OpCreateApplication, "", "application.create") {
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
	// Entra makes the principal that registers an application its owner.
	in := directory.ApplicationInput{OwnerID: c.ObjectID}
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
	if b.Spa != nil {
		in.SpaRedirectURIs = b.Spa.RedirectURIs
	}
	if keys != nil {
		in.KeyCredentials = *keys
	}
	in.API = b.apiInput()
	app, err := h.dir.CreateApplication(r.Context(), c.TenantID, in)
	h.recordChange(r, c, "application.create", app.AppID, err, "displayName", in.DisplayName)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", h.link(r, Prefix+"/directoryObjects/"+app.ID+"/Microsoft.DirectoryServices.Application"))
	h.writeEntity(w, r, http.StatusCreated, applicationsSet, toMap(toApplicationJSON(app)))
}

// loadApplication resolves the {id} of the URL (an object id or appId=…).
func (h *Handler) loadApplication(w http.ResponseWriter, r *http.Request, c caller) (domain.Application, bool) {
	app, err := h.dir.GetApplication(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return app, false
	}
	return app, true
}

// manageApplication resolves the application and checks the caller may manage it.
func (h *Handler) manageApplication(w http.ResponseWriter, r *http.Request, c caller, action string) (domain.Application, bool) {
	app, ok := h.loadApplication(w, r, c)
	if !ok || !h.authorize(w, r, c, directory.OpManageApplication, app.ID, action) {
		return app, false
	}
	return app, true
}

func (h *Handler) getApplication(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.loadApplication(w, r, c)
	if !ok {
		return
	}
	j := toApplicationJSON(app)
	// As Graph does, a certificate's key is returned only when one object's
	// keyCredentials are $selected: a client that PATCHes keyCredentials
	// (which replaces the list) reads the current keys this way.
	if selectsKeyCredentials(r) {
		for i, k := range app.KeyCredentials {
			key := base64.StdEncoding.EncodeToString(k.Key)
			j.KeyCredentials[i].Key = &key
		}
	}
	h.writeEntity(w, r, http.StatusOK, applicationsSet, toMap(j))
}

// selectsKeyCredentials reports whether $select names keyCredentials.
func selectsKeyCredentials(r *http.Request) bool {
	for _, v := range r.URL.Query()["$select"] {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "keyCredentials") {
				return true
			}
		}
	}
	return false
}

func (h *Handler) patchApplication(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.manageApplication(w, r, c, "application.update")
	if !ok {
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
		API: b.apiPatch(),
	}
	if b.API != nil {
		p.AccessTokenAcceptedVersion = b.API.RequestedAccessTokenVersion
	}
	if b.Web != nil && b.Web.RedirectURIs != nil {
		p.WebRedirectURIs = &b.Web.RedirectURIs
	}
	if b.PublicClient != nil {
		p.PublicRedirectURIs = &b.PublicClient.RedirectURIs
	}
	if b.Spa != nil {
		p.SpaRedirectURIs = &b.Spa.RedirectURIs
	}
	_, err := h.dir.UpdateApplication(r.Context(), c.TenantID, app.ID, p)
	h.recordChange(r, c, "application.update", app.AppID, err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deleteApplication(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.manageApplication(w, r, c, "application.delete")
	if !ok {
		return
	}
	_, rm, err := h.dir.DeleteApplication(r.Context(), c.TenantID, app.ID)
	h.recordChange(r, c, "application.delete", app.AppID, err, removedDetails(rm)...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// passwordBody is the body of addPassword.
type passwordBody struct {
	PasswordCredential *struct {
		DisplayName   *string `json:"displayName"`
		StartDateTime string  `json:"startDateTime"`
		EndDateTime   string  `json:"endDateTime"`
	} `json:"passwordCredential"`
}

func (h *Handler) passwordInput(w http.ResponseWriter, r *http.Request) (directory.PasswordInput, bool) {
	var b passwordBody
	var in directory.PasswordInput
	if !h.decode(w, r, &b) {
		return in, false
	}
	if pc := b.PasswordCredential; pc != nil {
		if pc.DisplayName != nil {
			in.DisplayName = *pc.DisplayName
		}
		var ok1, ok2 bool
		in.StartDateTime, ok1 = parseGraphTime(pc.StartDateTime)
		in.EndDateTime, ok2 = parseGraphTime(pc.EndDateTime)
		if !ok1 || !ok2 {
			h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "startDateTime and endDateTime must be ISO 8601.")
			return in, false
		}
	}
	return in, true
}

// writeSecret answers addPassword: the only time the secret is shown.
func (h *Handler) writeSecret(w http.ResponseWriter, r *http.Request, cred domain.PasswordCredential, secret string) {
	j := toPasswordJSON(cred, &secret)
	wire.WriteJSON(w, http.StatusOK, struct {
		ODataContext string `json:"@odata.context"`
		passwordCredentialJSON
	}{h.metadata(r) + "microsoft.graph.passwordCredential", j})
}

func (h *Handler) addPassword(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.manageApplication(w, r, c, "application.addPassword")
	if !ok {
		return
	}
	in, ok := h.passwordInput(w, r)
	if !ok {
		return
	}
	cred, secret, err := h.dir.AddPassword(r.Context(), c.TenantID, app.ID, in)
	h.recordChange(r, c, "application.addPassword", app.AppID, err, "keyId", cred.KeyID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeSecret(w, r, cred, secret)
}

type keyIDBody struct {
	KeyID string `json:"keyId"`
	Proof string `json:"proof"`
}

func (h *Handler) keyIDBody(w http.ResponseWriter, r *http.Request) (keyIDBody, bool) {
	var b keyIDBody
	if !h.decode(w, r, &b) {
		return b, false
	}
	if !directory.IsGUID(b.KeyID) {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Property 'keyId' is required and must be a GUID.")
		return b, false
	}
	return b, true
}

func (h *Handler) removePassword(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.manageApplication(w, r, c, "application.removePassword")
	if !ok {
		return
	}
	b, ok := h.keyIDBody(w, r)
	if !ok {
		return
	}
	err := h.dir.RemovePassword(r.Context(), c.TenantID, app.ID, b.KeyID)
	h.recordChange(r, c, "application.removePassword", app.AppID, err, "keyId", b.KeyID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) addKey(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.loadApplication(w, r, c)
	if !ok || !h.authorize(w, r, c, directory.OpAddKey, app.ID, "application.addKey") {
		return
	}
	var b struct {
		KeyCredential      *keyCredentialJSON `json:"keyCredential"`
		PasswordCredential any                `json:"passwordCredential"`
		Proof              string             `json:"proof"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	if b.PasswordCredential != nil {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "addKey with a passwordCredential is not supported: use addPassword.")
		return
	}
	if b.KeyCredential == nil || b.Proof == "" {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Properties 'keyCredential' and 'proof' are required.")
		return
	}
	in, msg := keyInput(*b.KeyCredential)
	if msg != "" {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, msg)
		return
	}
	key, err := h.dir.AddKey(r.Context(), c.TenantID, app.ID, in, b.Proof)
	h.recordChange(r, c, "application.addKey", app.AppID, err, "keyId", key.KeyID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	j := toKeyJSON(key)
	wire.WriteJSON(w, http.StatusOK, struct {
		ODataContext string `json:"@odata.context"`
		keyCredentialJSON
	}{h.metadata(r) + "microsoft.graph.keyCredential", j})
}

func (h *Handler) removeKey(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.loadApplication(w, r, c)
	if !ok || !h.authorize(w, r, c, directory.OpAddKey, app.ID, "application.removeKey") {
		return
	}
	b, ok := h.keyIDBody(w, r)
	if !ok {
		return
	}
	err := h.dir.RemoveKey(r.Context(), c.TenantID, app.ID, b.KeyID, b.Proof)
	h.recordChange(r, c, "application.removeKey", app.AppID, err, "keyId", b.KeyID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- federated identity credentials ---

func (h *Handler) ficContext(app domain.Application) string {
	return "applications('" + app.ID + "')/federatedIdentityCredentials"
}

func (h *Handler) listFederatedCredentials(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, federatedSet)
	if !ok {
		return
	}
	app, ok := h.loadApplication(w, r, c)
	if !ok {
		return
	}
	items := make([]odata.Item, 0, len(app.FederatedCredentials))
	for i, f := range app.FederatedCredentials {
		// Kept in the order they were added.
		items = append(items, odata.Item{Created: app.CreatedAt.Add(time.Duration(i) * time.Microsecond), ID: f.ID, Object: toMap(toFederatedJSON(f))})
	}
	h.writeList(w, r, h.ficContext(app), q, items)
}

type federatedBody struct {
	Name        *string   `json:"name"`
	Issuer      *string   `json:"issuer"`
	Subject     *string   `json:"subject"`
	Audiences   *[]string `json:"audiences"`
	Description *string   `json:"description"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (h *Handler) addFederatedCredential(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.manageApplication(w, r, c, "application.addFederatedIdentityCredential")
	if !ok {
		return
	}
	var b federatedBody
	if !h.decode(w, r, &b) {
		return
	}
	in := directory.FederatedCredentialInput{Name: deref(b.Name), Issuer: deref(b.Issuer), Subject: deref(b.Subject), Description: deref(b.Description)}
	if b.Audiences != nil {
		in.Audiences = *b.Audiences
	}
	fic, err := h.dir.AddFederatedCredential(r.Context(), c.TenantID, app.ID, in)
	h.recordChange(r, c, "application.addFederatedIdentityCredential", app.AppID, err, "name", in.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusCreated, entitySet{h.ficContext(app), federatedSet.typeName, federatedSet.schema}, toMap(toFederatedJSON(fic)))
}

func (h *Handler) getFederatedCredential(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.loadApplication(w, r, c)
	if !ok {
		return
	}
	fic, err := h.dir.FederatedCredential(r.Context(), c.TenantID, app.ID, r.PathValue("fic"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusOK, entitySet{h.ficContext(app), federatedSet.typeName, federatedSet.schema}, toMap(toFederatedJSON(fic)))
}

func (h *Handler) patchFederatedCredential(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.manageApplication(w, r, c, "application.updateFederatedIdentityCredential")
	if !ok {
		return
	}
	var b federatedBody
	if !h.decode(w, r, &b) {
		return
	}
	if b.Name != nil {
		if fic, err := h.dir.FederatedCredential(r.Context(), c.TenantID, app.ID, r.PathValue("fic")); err == nil && fic.Name != *b.Name {
			h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Property 'name' cannot be changed.")
			return
		}
	}
	_, err := h.dir.UpdateFederatedCredential(r.Context(), c.TenantID, app.ID, r.PathValue("fic"), directory.FederatedCredentialPatch{
		Issuer: b.Issuer, Subject: b.Subject, Audiences: b.Audiences, Description: b.Description,
	})
	h.recordChange(r, c, "application.updateFederatedIdentityCredential", app.AppID, err, "credential", r.PathValue("fic"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deleteFederatedCredential(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.manageApplication(w, r, c, "application.deleteFederatedIdentityCredential")
	if !ok {
		return
	}
	err := h.dir.DeleteFederatedCredential(r.Context(), c.TenantID, app.ID, r.PathValue("fic"))
	h.recordChange(r, c, "application.deleteFederatedIdentityCredential", app.AppID, err, "credential", r.PathValue("fic"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
