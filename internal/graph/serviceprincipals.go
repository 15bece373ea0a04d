package graph

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/graph/odata"
	"github.com/tessera-id/tessera/internal/wire"
)

func (h *Handler) servicePrincipalItems(r *http.Request, c caller) ([]odata.Item, error) {
	sps, err := h.dir.ListServicePrincipals(r.Context(), c.TenantID)
	if err != nil {
		return nil, err
	}
	items := make([]odata.Item, 0, len(sps))
	for _, sp := range sps {
		items = append(items, odata.Item{Created: sp.CreatedAt, ID: sp.ID, Object: toMap(toServicePrincipalJSON(sp))})
	}
	return items, nil
}

func (h *Handler) listServicePrincipals(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, servicePrincipalsSet)
	if !ok {
		return
	}
	items, err := h.servicePrincipalItems(r, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeList(w, r, servicePrincipalsSet.context, q, items)
}

func (h *Handler) createServicePrincipal(w http.ResponseWriter, r *http.Request, c caller) {
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
	// The owners of an application may create its service principal.
	target := ""
	if app, err := h.dir.GetApplication(r.Context(), c.TenantID, directory.AppIDRef(b.AppID)); err == nil {
		target = app.ID
	}
	if !h.authorize(w, r, c, directory.OpCreateServicePrincipal, target, "servicePrincipal.create") {
		return
	}
	enabled := b.AccountEnabled == nil || *b.AccountEnabled
	sp, err := h.dir.CreateServicePrincipal(r.Context(), c.TenantID, b.AppID, enabled)
	h.recordChange(r, c, "servicePrincipal.create", b.AppID, err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusCreated, servicePrincipalsSet, toMap(toServicePrincipalJSON(sp)))
}

func (h *Handler) loadServicePrincipal(w http.ResponseWriter, r *http.Request, c caller) (domain.ServicePrincipal, bool) {
	sp, err := h.dir.GetServicePrincipal(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return sp, false
	}
	return sp, true
}

func (h *Handler) manageServicePrincipal(w http.ResponseWriter, r *http.Request, c caller, action string) (domain.ServicePrincipal, bool) {
	sp, ok := h.loadServicePrincipal(w, r, c)
	if !ok || !h.authorize(w, r, c, directory.OpManageServicePrincipal, sp.ID, action) {
		return sp, false
	}
	return sp, true
}

func (h *Handler) getServicePrincipal(w http.ResponseWriter, r *http.Request, c caller) {
	if sp, ok := h.loadServicePrincipal(w, r, c); ok {
		h.writeEntity(w, r, http.StatusOK, servicePrincipalsSet, toMap(toServicePrincipalJSON(sp)))
	}
}

func (h *Handler) patchServicePrincipal(w http.ResponseWriter, r *http.Request, c caller) {
	sp, ok := h.manageServicePrincipal(w, r, c, "servicePrincipal.update")
	if !ok {
		return
	}
	var b struct {
		AccountEnabled *bool   `json:"accountEnabled"`
		DisplayName    *string `json:"displayName"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	_, err := h.dir.UpdateServicePrincipal(r.Context(), c.TenantID, sp.ID, directory.ServicePrincipalPatch{
		AccountEnabled: b.AccountEnabled, DisplayName: b.DisplayName,
	})
	h.recordChange(r, c, "servicePrincipal.update", sp.AppID, err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deleteServicePrincipal(w http.ResponseWriter, r *http.Request, c caller) {
	sp, ok := h.manageServicePrincipal(w, r, c, "servicePrincipal.delete")
	if !ok {
		return
	}
	_, rm, err := h.dir.DeleteServicePrincipal(r.Context(), c.TenantID, sp.ID)
	h.recordChange(r, c, "servicePrincipal.delete", sp.AppID, err, removedDetails(rm)...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) addServicePrincipalPassword(w http.ResponseWriter, r *http.Request, c caller) {
	sp, ok := h.manageServicePrincipal(w, r, c, "servicePrincipal.addPassword")
	if !ok {
		return
	}
	in, ok := h.passwordInput(w, r)
	if !ok {
		return
	}
	cred, secret, err := h.dir.AddServicePrincipalPassword(r.Context(), c.TenantID, sp.ID, in)
	h.recordChange(r, c, "servicePrincipal.addPassword", sp.AppID, err, "keyId", cred.KeyID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeSecret(w, r, cred, secret)
}

func (h *Handler) removeServicePrincipalPassword(w http.ResponseWriter, r *http.Request, c caller) {
	sp, ok := h.manageServicePrincipal(w, r, c, "servicePrincipal.removePassword")
	if !ok {
		return
	}
	b, ok := h.keyIDBody(w, r)
	if !ok {
		return
	}
	err := h.dir.RemoveServicePrincipalPassword(r.Context(), c.TenantID, sp.ID, b.KeyID)
	h.recordChange(r, c, "servicePrincipal.removePassword", sp.AppID, err, "keyId", b.KeyID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- app role assignments ---

// principalRef resolves the {id} of a principal URL to its object id.
func (h *Handler) principalRef(ctx context.Context, c caller, kind principalKind, ref string) (string, error) {
	switch kind {
	case kindSP:
		sp, err := h.dir.GetServicePrincipal(ctx, c.TenantID, ref)
		return sp.ID, err
	case kindApp:
		app, err := h.dir.GetApplication(ctx, c.TenantID, ref)
		return app.ID, err
	case kindUser:
		u, err := h.dir.GetUser(ctx, c.TenantID, ref)
		return u.ID, err
	case kindGroup:
		g, err := h.dir.GetGroup(ctx, c.TenantID, ref)
		return g.ID, err
	}
	return ref, nil
}

var principalTypes = map[string]string{
	directory.KindUser: "User", directory.KindGroup: "Group", directory.KindServicePrincipal: "ServicePrincipal",
}

// appRoleAssignmentItems shapes assignments with their principal's and
// resource's names.
func (h *Handler) appRoleAssignmentItems(ctx context.Context, tenantID string, as []domain.AppRoleAssignment) []odata.Item {
	names := map[string]directory.Object{}
	get := func(id string) directory.Object {
		if o, ok := names[id]; ok {
			return o
		}
		o, _ := h.dir.GetObject(ctx, tenantID, id)
		names[id] = o
		return o
	}
	name := func(o directory.Object) string {
		switch {
		case o.User != nil:
			return o.User.DisplayName
		case o.Group != nil:
			return o.Group.DisplayName
		case o.ServicePrincipal != nil:
			return o.ServicePrincipal.DisplayName
		}
		return ""
	}
	items := make([]odata.Item, 0, len(as))
	for _, a := range as {
		p, res := get(a.PrincipalID), get(a.ResourceID)
		items = append(items, odata.Item{Created: a.CreatedAt, ID: a.ID, Object: toMap(appRoleAssignmentJSON{
			ID: a.ID, AppRoleID: a.AppRoleID, CreatedDateTime: graphTime(a.CreatedAt), PrincipalID: a.PrincipalID,
			PrincipalType: principalTypes[p.Kind], PrincipalDisplayName: name(p), ResourceID: a.ResourceID, ResourceDisplayName: name(res),
		})})
	}
	return items
}

func (h *Handler) listAppRoleAssignments(kind principalKind) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		q, ok := h.query(w, r, appRoleAssignmentsSet)
		if !ok {
			return
		}
		id, err := h.principalRef(r.Context(), c, kind, r.PathValue("id"))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		as, err := h.dir.AppRoleAssignments(r.Context(), c.TenantID, id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.writeList(w, r, appRoleAssignmentsSet.context, q, h.appRoleAssignmentItems(r.Context(), c.TenantID, as))
	}
}

func (h *Handler) listAppRoleAssignedTo(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, appRoleAssignmentsSet)
	if !ok {
		return
	}
	sp, ok := h.loadServicePrincipal(w, r, c)
	if !ok {
		return
	}
	as, err := h.dir.AppRoleAssignedTo(r.Context(), c.TenantID, sp.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeList(w, r, appRoleAssignmentsSet.context, q, h.appRoleAssignmentItems(r.Context(), c.TenantID, as))
}

func (h *Handler) assignAppRole(w http.ResponseWriter, r *http.Request, c caller) {
	sp, ok := h.loadServicePrincipal(w, r, c)
	if !ok {
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
	if !strings.EqualFold(b.PrincipalID, sp.ID) {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "principalId must be the service principal in the URL.")
		return
	}
	h.grantAppRole(w, r, c, appRoleGrant{principal: sp.ID, resource: b.ResourceID, role: b.AppRoleID,
		action: "servicePrincipal.appRoleAssignment.create", target: sp.ID, set: "servicePrincipals('" + sp.ID + "')/appRoleAssignments"})
}

// appRoleGrant is one app role granted to a principal, as either side
// asks for it (the principal's appRoleAssignments or the resource's
// appRoleAssignedTo).
type appRoleGrant struct {
	principal, resource, role string
	// action and target are the audit record's; set is the answer's entity set.
	action, target, set string
}

// grantAppRole decides, assigns, audits and answers an app role grant.
func (h *Handler) grantAppRole(w http.ResponseWriter, r *http.Request, c caller, g appRoleGrant) {
	if !h.authorize(w, r, c, directory.OpAssignAppRole, g.resource, g.action) {
		return
	}
	a, err := h.dir.AssignAppRole(r.Context(), c.TenantID, g.principal, g.resource, g.role)
	h.recordChange(r, c, g.action, g.target, err, "principalId", g.principal, "resourceId", g.resource, "appRoleId", g.role)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	items := h.appRoleAssignmentItems(r.Context(), c.TenantID, []domain.AppRoleAssignment{a})
	h.writeEntity(w, r, http.StatusCreated, entitySet{g.set, appRoleAssignmentsSet.typeName, appRoleAssignmentsSet.schema}, items[0].Object)
}

// assignAppRoleTo grants one of the resource service principal's app roles
// to a user, group or service principal (POST
// /servicePrincipals/{resource}/appRoleAssignedTo).
func (h *Handler) assignAppRoleTo(w http.ResponseWriter, r *http.Request, c caller) {
	res, ok := h.loadServicePrincipal(w, r, c)
	if !ok {
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
	if b.ResourceID != "" && !strings.EqualFold(b.ResourceID, res.ID) {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "resourceId must be the service principal in the URL.")
		return
	}
	if !directory.IsGUID(b.PrincipalID) || !directory.IsGUID(b.AppRoleID) {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Properties 'principalId' and 'appRoleId' are required and must be GUIDs.")
		return
	}
	h.grantAppRole(w, r, c, appRoleGrant{principal: b.PrincipalID, resource: res.ID, role: b.AppRoleID,
		action: "servicePrincipal.appRoleAssignedTo.create", target: res.ID, set: "servicePrincipals('" + res.ID + "')/appRoleAssignedTo"})
}

// revokeAppRoleOf answers a DELETE of one assignment the service principal
// the URL names holds or granted: list reads those of its side
// (AppRoleAssignments for what it holds, AppRoleAssignedTo for what it
// granted as a resource, whoever holds it).
func (h *Handler) revokeAppRoleOf(list func(ctx context.Context, tenantID, id string) ([]domain.AppRoleAssignment, error), action string) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		sp, ok := h.loadServicePrincipal(w, r, c)
		if !ok {
			return
		}
		among, err := list(r.Context(), c.TenantID, sp.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.revokeAppRole(w, r, c, among, action, sp.ID)
	}
}

// revokeAppRole finds the assignment the URL names among those of the
// caller's side (what a principal holds, or what a resource granted), then
// decides, removes, audits and answers.
func (h *Handler) revokeAppRole(w http.ResponseWriter, r *http.Request, c caller, among []domain.AppRoleAssignment, action, target string) {
	id := r.PathValue("assignment")
	i := slices.IndexFunc(among, func(a domain.AppRoleAssignment) bool { return strings.EqualFold(a.ID, id) })
	if i < 0 {
		h.writeError(w, r, http.StatusNotFound, wire.GraphResourceNotFound, wire.GraphNotFoundMessage(id))
		return
	}
	a := among[i]
	if !h.authorize(w, r, c, directory.OpAssignAppRole, a.ResourceID, action) {
		return
	}
	_, err := h.dir.RemoveAppRoleAssignment(r.Context(), c.TenantID, a.PrincipalID, id)
	h.recordChange(r, c, action, target, err, "assignment", id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- owners ---

// refID reads the object id out of an "@odata.id" reference:
// {graph}/v1.0/directoryObjects/{id}, .../users/{id}, directoryObjects('{id}'), or a bare id.
func refID(ref string) (string, bool) {
	ref = strings.TrimRight(strings.TrimSpace(ref), "/")
	last := ref[strings.LastIndexByte(ref, '/')+1:]
	if open := strings.IndexByte(last, '('); open >= 0 && strings.HasSuffix(last, ")") {
		last = strings.Trim(last[open+1:len(last)-1], "'")
	}
	return last, directory.IsGUID(last)
}

func (h *Handler) decodeRef(w http.ResponseWriter, r *http.Request) (string, bool) {
	var b struct {
		ODataID string `json:"@odata.id"`
	}
	if !h.decode(w, r, &b) {
		return "", false
	}
	id, ok := refID(b.ODataID)
	if !ok {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Invalid object identifier '"+b.ODataID+"'.")
		return "", false
	}
	return id, true
}

// manageOwned resolves an application, service principal or group and
// checks the caller may manage it, returning its object id.
func (h *Handler) manageOwned(w http.ResponseWriter, r *http.Request, c caller, kind principalKind, action string) (string, bool) {
	switch kind {
	case kindApp:
		app, ok := h.manageApplication(w, r, c, action)
		return app.ID, ok
	case kindGroup:
		g, ok := h.manageGroup(w, r, c, action)
		return g.ID, ok
	}
	sp, ok := h.manageServicePrincipal(w, r, c, action)
	return sp.ID, ok
}

func ownerAction(kind principalKind, verb string) string {
	switch kind {
	case kindApp:
		return "application.owner." + verb
	case kindGroup:
		return "group.owner." + verb
	}
	return "servicePrincipal.owner." + verb
}

func (h *Handler) listOwners(kind principalKind) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		q, ok := h.query(w, r, directoryObjectsSet)
		if !ok {
			return
		}
		id, err := h.principalRef(r.Context(), c, kind, r.PathValue("id"))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		owners, err := h.dir.Owners(r.Context(), c.TenantID, id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.writeObjects(w, r, q, owners)
	}
}

func (h *Handler) addOwner(kind principalKind) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		id, ok := h.manageOwned(w, r, c, kind, ownerAction(kind, "add"))
		if !ok {
			return
		}
		owner, ok := h.decodeRef(w, r)
		if !ok {
			return
		}
		err := h.dir.AddOwner(r.Context(), c.TenantID, id, owner)
		h.recordChange(r, c, ownerAction(kind, "add"), id, err, "owner", owner)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *Handler) removeOwner(kind principalKind) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		id, ok := h.manageOwned(w, r, c, kind, ownerAction(kind, "remove"))
		if !ok {
			return
		}
		owner := r.PathValue("owner")
		err := h.dir.RemoveOwner(r.Context(), c.TenantID, id, owner)
		h.recordChange(r, c, ownerAction(kind, "remove"), id, err, "owner", owner)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
