package graph

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/wire"
)

// Conditional Access in Graph's shape:
//
//	/identity/conditionalAccess/policies[/{id}]
//	/identity/conditionalAccess/namedLocations[/{id}]
//
// Entra lets Global, Conditional Access and Security Administrators manage
// policies, and their readers (Global Reader, Security Reader) read them.

// Directory role templates of Conditional Access (Entra's own ids).
const (
	roleConditionalAccessAdministrator = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
	roleSecurityAdministrator          = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	roleSecurityReader                 = "5d6b6bb7-de71-4623-b4af-96380a352509"
	roleGlobalReader                   = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
)

var (
	caWriters = []string{domain.RoleGlobalAdministrator, roleConditionalAccessAdministrator, roleSecurityAdministrator}
	caReaders = append([]string{roleSecurityReader, roleGlobalReader}, caWriters...)
)

// ConditionalAccess serves the Conditional Access routes with the Graph
// handler's authentication and error shapes.
type ConditionalAccess struct {
	h  *Handler
	ca *signin.Service
}

// NewConditionalAccess returns the Conditional Access routes of h.
func NewConditionalAccess(h *Handler, ca *signin.Service) *ConditionalAccess {
	return &ConditionalAccess{h: h, ca: ca}
}

// Register mounts the routes on mux (more specific than Graph's prefix).
func (c *ConditionalAccess) Register(mux *http.ServeMux) {
	const base = Prefix + "/identity/conditionalAccess"
	h := c.h
	mux.Handle("GET "+base+"/policies", h.authed(c.listPolicies))
	mux.Handle("POST "+base+"/policies", h.authed(c.createPolicy))
	mux.Handle("GET "+base+"/policies/{id}", h.authed(c.getPolicy))
	mux.Handle("PATCH "+base+"/policies/{id}", h.authed(c.patchPolicy))
	mux.Handle("DELETE "+base+"/policies/{id}", h.authed(c.deletePolicy))
	mux.Handle("GET "+base+"/namedLocations", h.authed(c.listLocations))
	mux.Handle("POST "+base+"/namedLocations", h.authed(c.createLocation))
	mux.Handle("GET "+base+"/namedLocations/{id}", h.authed(c.getLocation))
	mux.Handle("PATCH "+base+"/namedLocations/{id}", h.authed(c.patchLocation))
	mux.Handle("DELETE "+base+"/namedLocations/{id}", h.authed(c.deleteLocation))
}

// allowed checks the caller's directory roles, answering 403 when not.
func (c *ConditionalAccess) allowed(w http.ResponseWriter, r *http.Request, cl caller, roles []string, action string) bool {
	ok, err := c.h.dir.HasDirectoryRole(r.Context(), cl.TenantID, cl.ObjectID, roles...)
	if err != nil {
		c.h.fail(w, r, err)
		return false
	}
	if !ok {
		c.h.recordChange(r, cl, action, "", errors.New("insufficient privileges"))
		c.h.writeError(w, r, http.StatusForbidden, wire.GraphAuthorizationDenied, wire.GraphForbiddenMessage)
		return false
	}
	return true
}

func (c *ConditionalAccess) context(r *http.Request, set string) string {
	return c.h.metadata(r) + "identity/conditionalAccess/" + set
}

func (c *ConditionalAccess) listPolicies(w http.ResponseWriter, r *http.Request, cl caller) {
	if !c.allowed(w, r, cl, caReaders, "conditionalAccessPolicy.read") {
		return
	}
	ps, err := c.ca.ListPolicies(r.Context(), cl.TenantID)
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": c.context(r, "policies"), "value": ps})
}

func (c *ConditionalAccess) getPolicy(w http.ResponseWriter, r *http.Request, cl caller) {
	if !c.allowed(w, r, cl, caReaders, "conditionalAccessPolicy.read") {
		return
	}
	p, err := c.ca.GetPolicy(r.Context(), cl.TenantID, r.PathValue("id"))
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	c.write(w, r, http.StatusOK, "policies", p)
}

func (c *ConditionalAccess) createPolicy(w http.ResponseWriter, r *http.Request, cl caller) {
	if !c.allowed(w, r, cl, caWriters, "conditionalAccessPolicy.create") {
		return
	}
	var p signin.Policy
	if !c.h.decode(w, r, &p) {
		return
	}
	p, err := c.ca.CreatePolicy(r.Context(), cl.TenantID, p)
	c.h.recordChange(r, cl, "conditionalAccessPolicy.create", p.ID, err, "displayName", p.DisplayName, "state", p.State)
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	c.write(w, r, http.StatusCreated, "policies", p)
}

func (c *ConditionalAccess) patchPolicy(w http.ResponseWriter, r *http.Request, cl caller) {
	if !c.allowed(w, r, cl, caWriters, "conditionalAccessPolicy.update") {
		return
	}
	old, err := c.ca.GetPolicy(r.Context(), cl.TenantID, r.PathValue("id"))
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	var p signin.Policy
	if !c.merge(w, r, old, &p) {
		return
	}
	p, err = c.ca.ReplacePolicy(r.Context(), cl.TenantID, old.ID, p)
	c.h.recordChange(r, cl, "conditionalAccessPolicy.update", old.ID, err, "state", p.State)
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *ConditionalAccess) deletePolicy(w http.ResponseWriter, r *http.Request, cl caller) {
	if !c.allowed(w, r, cl, caWriters, "conditionalAccessPolicy.delete") {
		return
	}
	err := c.ca.DeletePolicy(r.Context(), cl.TenantID, r.PathValue("id"))
	c.h.recordChange(r, cl, "conditionalAccessPolicy.delete", r.PathValue("id"), err)
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *ConditionalAccess) listLocations(w http.ResponseWriter, r *http.Request, cl caller) {
	if !c.allowed(w, r, cl, caReaders, "namedLocation.read") {
		return
	}
	ls, err := c.ca.ListLocations(r.Context(), cl.TenantID)
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": c.context(r, "namedLocations"), "value": ls})
}

func (c *ConditionalAccess) getLocation(w http.ResponseWriter, r *http.Request, cl caller) {
	if !c.allowed(w, r, cl, caReaders, "namedLocation.read") {
		return
	}
	l, err := c.ca.GetLocation(r.Context(), cl.TenantID, r.PathValue("id"))
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	c.write(w, r, http.StatusOK, "namedLocations", l)
}

func (c *ConditionalAccess) createLocation(w http.ResponseWriter, r *http.Request, cl caller) {
	if !c.allowed(w, r, cl, caWriters, "namedLocation.create") {
		return
	}
	var l signin.NamedLocation
	if !c.h.decode(w, r, &l) {
		return
	}
	l, err := c.ca.CreateLocation(r.Context(), cl.TenantID, l)
	c.h.recordChange(r, cl, "namedLocation.create", l.ID, err, "displayName", l.DisplayName)
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	c.write(w, r, http.StatusCreated, "namedLocations", l)
}

func (c *ConditionalAccess) patchLocation(w http.ResponseWriter, r *http.Request, cl caller) {
	if !c.allowed(w, r, cl, caWriters, "namedLocation.update") {
		return
	}
	old, err := c.ca.GetLocation(r.Context(), cl.TenantID, r.PathValue("id"))
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	var l signin.NamedLocation
	if !c.merge(w, r, old, &l) {
		return
	}
	_, err = c.ca.ReplaceLocation(r.Context(), cl.TenantID, old.ID, l)
	c.h.recordChange(r, cl, "namedLocation.update", old.ID, err)
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *ConditionalAccess) deleteLocation(w http.ResponseWriter, r *http.Request, cl caller) {
	if !c.allowed(w, r, cl, caWriters, "namedLocation.delete") {
		return
	}
	err := c.ca.DeleteLocation(r.Context(), cl.TenantID, r.PathValue("id"))
	c.h.recordChange(r, cl, "namedLocation.delete", r.PathValue("id"), err)
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// merge applies a PATCH body to old: the properties it names replace
// the stored ones, as Graph does.
func (c *ConditionalAccess) merge(w http.ResponseWriter, r *http.Request, old, into any) bool {
	var patch map[string]json.RawMessage
	if !c.h.decode(w, r, &patch) {
		return false
	}
	b, err := json.Marshal(old)
	if err != nil {
		c.h.fail(w, r, err)
		return false
	}
	var cur map[string]json.RawMessage
	if err := json.Unmarshal(b, &cur); err != nil {
		c.h.fail(w, r, err)
		return false
	}
	for k, v := range patch {
		switch k {
		case "id", "createdDateTime", "modifiedDateTime":
			continue // server-owned
		}
		cur[k] = v
	}
	b, _ = json.Marshal(cur)
	if err := json.Unmarshal(b, into); err != nil {
		c.h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Invalid JSON in the request body: "+jsonErrorText(err))
		return false
	}
	return true
}

func (c *ConditionalAccess) write(w http.ResponseWriter, r *http.Request, status int, set string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.h.fail(w, r, err)
		return
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["@odata.context"] = c.context(r, set) + "/$entity"
	wire.WriteJSON(w, status, m)
}
