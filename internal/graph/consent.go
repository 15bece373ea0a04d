package graph

import (
	"net/http"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/graph/odata"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/wire"
)

// permissionGrantJSON is Graph's oAuth2PermissionGrant.
type permissionGrantJSON struct {
	ID          string  `json:"id"`
	ClientID    string  `json:"clientId"`
	ConsentType string  `json:"consentType"`
	PrincipalID *string `json:"principalId"`
	ResourceID  string  `json:"resourceId"`
	Scope       string  `json:"scope"`
}

func toPermissionGrantJSON(g domain.OAuth2PermissionGrant) permissionGrantJSON {
	j := permissionGrantJSON{ID: g.ID, ClientID: g.ClientID, ConsentType: g.ConsentType, ResourceID: g.ResourceID, Scope: g.Scope}
	if g.PrincipalID != "" {
		p := g.PrincipalID
		j.PrincipalID = &p
	}
	return j
}

var permissionGrantsSet = entitySet{"oauth2PermissionGrants", "microsoft.graph.oAuth2PermissionGrant",
	odata.SchemaOf(toMap(toPermissionGrantJSON(domain.OAuth2PermissionGrant{PrincipalID: "x"})))}

func (h *Handler) writeGrants(w http.ResponseWriter, r *http.Request, context string, q odata.Query, grants []domain.OAuth2PermissionGrant) {
	items := make([]odata.Item, 0, len(grants))
	for _, g := range grants {
		items = append(items, odata.Item{Created: g.CreatedAt, ID: g.ID, Object: toMap(toPermissionGrantJSON(g))})
	}
	h.writeList(w, r, context, q, items)
}

func (h *Handler) listPermissionGrants(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, permissionGrantsSet)
	if !ok {
		return
	}
	// The filter is applied to the JSON form in writeList; the store only
	// narrows on the ids an "eq" term requires.
	var f store.GrantFilter
	if expr := r.URL.Query().Get("$filter"); expr != "" {
		if bound, err := odata.ParseFilter(expr, permissionGrantsSet.schema, permissionGrantsSet.typeName); err == nil {
			f.ClientID, _ = bound.RequiredEqual("clientId")
			f.ResourceID, _ = bound.RequiredEqual("resourceId")
			f.PrincipalID, _ = bound.RequiredEqual("principalId")
		}
	}
	grants, err := h.dir.ListPermissionGrants(r.Context(), c.TenantID, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeGrants(w, r, permissionGrantsSet.context, q, grants)
}

// listServicePrincipalGrants is /servicePrincipals/{id}/oauth2PermissionGrants:
// the grants the service principal is the client of.
func (h *Handler) listServicePrincipalGrants(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, permissionGrantsSet)
	if !ok {
		return
	}
	sp, ok := h.loadServicePrincipal(w, r, c)
	if !ok {
		return
	}
	grants, err := h.dir.ListPermissionGrants(r.Context(), c.TenantID, store.GrantFilter{ClientID: sp.ID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeGrants(w, r, "servicePrincipals('"+sp.ID+"')/oauth2PermissionGrants", q, grants)
}

func (h *Handler) getPermissionGrant(w http.ResponseWriter, r *http.Request, c caller) {
	g, err := h.dir.GetPermissionGrant(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusOK, permissionGrantsSet, toMap(toPermissionGrantJSON(g)))
}

type permissionGrantBody struct {
	ClientID    *string `json:"clientId"`
	ConsentType *string `json:"consentType"`
	PrincipalID *string `json:"principalId"`
	ResourceID  *string `json:"resourceId"`
	Scope       *string `json:"scope"`
}

func (h *Handler) createPermissionGrant(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.authorize(w, r, c, directory.OpManagePermissionGrants, "", "oauth2PermissionGrant.create") {
		return
	}
	var b permissionGrantBody
	if !h.decode(w, r, &b) {
		return
	}
	if b.ClientID == nil || b.ConsentType == nil || b.ResourceID == nil {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Properties 'clientId', 'consentType' and 'resourceId' are required.")
		return
	}
	in := directory.PermissionGrantInput{ClientID: *b.ClientID, ConsentType: *b.ConsentType, ResourceID: *b.ResourceID,
		PrincipalID: deref(b.PrincipalID), Scope: deref(b.Scope)}
	g, err := h.dir.CreatePermissionGrant(r.Context(), c.TenantID, in)
	h.recordChange(r, c, "oauth2PermissionGrant.create", g.ID, err, "clientId", in.ClientID, "resourceId", in.ResourceID,
		"consentType", in.ConsentType, "principalId", in.PrincipalID, "scope", g.Scope)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", h.link(r, Prefix+"/oauth2PermissionGrants/"+g.ID))
	h.writeEntity(w, r, http.StatusCreated, permissionGrantsSet, toMap(toPermissionGrantJSON(g)))
}

func (h *Handler) patchPermissionGrant(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.authorize(w, r, c, directory.OpManagePermissionGrants, "", "oauth2PermissionGrant.update") {
		return
	}
	var b permissionGrantBody
	if !h.decode(w, r, &b) {
		return
	}
	if b.ClientID != nil || b.ConsentType != nil || b.PrincipalID != nil || b.ResourceID != nil {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Only the property 'scope' of an oAuth2PermissionGrant may be changed.")
		return
	}
	if b.Scope == nil {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Property 'scope' is required.")
		return
	}
	id := r.PathValue("id")
	g, err := h.dir.UpdatePermissionGrantScope(r.Context(), c.TenantID, id, *b.Scope)
	h.recordChange(r, c, "oauth2PermissionGrant.update", id, err, "scope", g.Scope)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deletePermissionGrant(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.authorize(w, r, c, directory.OpManagePermissionGrants, "", "oauth2PermissionGrant.delete") {
		return
	}
	id := r.PathValue("id")
	err := h.dir.DeletePermissionGrant(r.Context(), c.TenantID, id)
	h.recordChange(r, c, "oauth2PermissionGrant.delete", id, err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
