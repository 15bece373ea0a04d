package graph

import (
	"net/http"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/graph/odata"
	"github.com/tessera-id/tessera/internal/wire"
)

func roleDefinitionItems() []odata.Item {
	items := make([]odata.Item, 0, len(directory.DirectoryRoles))
	for i, d := range directory.DirectoryRoles {
		items = append(items, odata.Item{Created: time.Unix(0, 0).Add(time.Duration(i) * time.Microsecond), ID: d.ID, Object: toMap(roleDefinitionJSON{
			ID: d.ID, DisplayName: d.DisplayName, Description: d.Description, IsBuiltIn: true, IsEnabled: true, TemplateID: d.ID,
		})})
	}
	return items
}

func (h *Handler) listRoleDefinitions(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, roleDefinitionsSet)
	if !ok {
		return
	}
	h.writeList(w, r, roleDefinitionsSet.context, q, roleDefinitionItems())
}

func (h *Handler) listRoleAssignments(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, roleAssignmentsSet)
	if !ok {
		return
	}
	as, err := h.dir.DirectoryRoleAssignments(r.Context(), c.TenantID, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	items := make([]odata.Item, 0, len(as))
	for _, a := range as {
		items = append(items, odata.Item{Created: a.CreatedAt, ID: a.ID, Object: toMap(toRoleAssignmentJSON(a))})
	}
	h.writeList(w, r, roleAssignmentsSet.context, q, items)
}

func (h *Handler) createRoleAssignment(w http.ResponseWriter, r *http.Request, c caller) {
	var b struct {
		PrincipalID      string `json:"principalId"`
		RoleDefinitionID string `json:"roleDefinitionId"`
		DirectoryScopeID string `json:"directoryScopeId"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	if !h.authorize(w, r, c, directory.OpAssignDirectoryRole, b.RoleDefinitionID, "directoryRole.assign") {
		return
	}
	if b.DirectoryScopeID != "" && b.DirectoryScopeID != "/" {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Only the tenant-wide directoryScopeId '/' is supported.")
		return
	}
	a, err := h.dir.AssignDirectoryRole(r.Context(), c.TenantID, b.PrincipalID, b.RoleDefinitionID)
	h.recordChange(r, c, "directoryRole.assign", b.PrincipalID, err, "role", b.RoleDefinitionID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusCreated, roleAssignmentsSet, toMap(toRoleAssignmentJSON(a)))
}

func (h *Handler) getRoleAssignment(w http.ResponseWriter, r *http.Request, c caller) {
	a, err := h.dir.GetDirectoryRoleAssignment(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusOK, roleAssignmentsSet, toMap(toRoleAssignmentJSON(a)))
}

func (h *Handler) deleteRoleAssignment(w http.ResponseWriter, r *http.Request, c caller) {
	a, err := h.dir.GetDirectoryRoleAssignment(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !h.authorize(w, r, c, directory.OpAssignDirectoryRole, a.RoleTemplateID, "directoryRole.revoke") {
		return
	}
	_, err = h.dir.RevokeDirectoryRole(r.Context(), c.TenantID, a.ID)
	h.recordChange(r, c, "directoryRole.revoke", a.PrincipalID, err, "role", a.RoleTemplateID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
