package graph

import (
	"context"
	"net/http"
	"strings"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/graph/odata"
	"github.com/tessera-id/tessera/internal/wire"
)

// writeObjects answers a list of mixed directory objects (members, owners,
// memberOf); each carries its "@odata.type".
func (h *Handler) writeObjects(w http.ResponseWriter, r *http.Request, q odata.Query, objs []directory.Object) {
	items := make([]odata.Item, 0, len(objs))
	for _, o := range objs {
		items = append(items, objectItem(o))
	}
	h.writeList(w, r, directoryObjectsSet.context, q, items)
}

// subjectID resolves the {id} of a membership route to an object id: a
// user may be named by UPN.
func (h *Handler) subjectID(r *http.Request, c caller) (string, error) {
	id := r.PathValue("id")
	if strings.Contains(id, "@") {
		u, err := h.dir.GetUser(r.Context(), c.TenantID, id)
		return u.ID, err
	}
	if ref, ok := strings.CutPrefix(id, "appId="); ok {
		sp, err := h.dir.GetServicePrincipal(r.Context(), c.TenantID, directory.AppIDRef(ref))
		return sp.ID, err
	}
	return id, nil
}

func (h *Handler) memberOf(transitive bool) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		q, ok := h.query(w, r, directoryObjectsSet)
		if !ok {
			return
		}
		id, err := h.subjectID(r, c)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		groups, err := h.dir.MemberOf(r.Context(), c.TenantID, id, transitive)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		objs := make([]directory.Object, 0, len(groups))
		for i := range groups {
			objs = append(objs, directory.Object{Kind: directory.KindGroup, Group: &groups[i]})
		}
		h.writeObjects(w, r, q, objs)
	}
}

// writeStrings answers {"@odata.context":"…#Collection(Edm.String)","value":[…]}.
func (h *Handler) writeStrings(w http.ResponseWriter, r *http.Request, ids []string) {
	wire.WriteJSON(w, http.StatusOK, map[string]any{
		"@odata.context": h.metadata(r) + "Collection(Edm.String)",
		"value":          ids,
	})
}

func (h *Handler) checkMemberGroups(w http.ResponseWriter, r *http.Request, c caller) {
	var b struct {
		GroupIDs *[]string `json:"groupIds"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	if b.GroupIDs == nil {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Property 'groupIds' is required.")
		return
	}
	id, err := h.subjectID(r, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ids, err := h.dir.CheckMemberGroups(r.Context(), c.TenantID, id, *b.GroupIDs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeStrings(w, r, ids)
}

// memberIDs answers getMemberGroups and getMemberObjects: the ids list
// returns for the subject and its securityEnabledOnly.
func (h *Handler) memberIDs(list func(ctx context.Context, tenantID, id string, securityEnabledOnly bool) ([]string, error)) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		var b struct {
			SecurityEnabledOnly *bool `json:"securityEnabledOnly"`
		}
		if !h.decode(w, r, &b) {
			return
		}
		if b.SecurityEnabledOnly == nil {
			h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Property 'securityEnabledOnly' is required.")
			return
		}
		id, err := h.subjectID(r, c)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		ids, err := list(r.Context(), c.TenantID, id, *b.SecurityEnabledOnly)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.writeStrings(w, r, ids)
	}
}

func (h *Handler) getByIDs(w http.ResponseWriter, r *http.Request, c caller) {
	var b struct {
		IDs   []string `json:"ids"`
		Types []string `json:"types"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	if len(b.IDs) == 0 {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Property 'ids' is required and must not be empty.")
		return
	}
	objs, err := h.dir.GetObjects(r.Context(), c.TenantID, b.IDs, b.Types)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(objs))
	for _, o := range objs {
		out = append(out, objectMap(o))
	}
	wire.WriteJSON(w, http.StatusOK, listBody{Context: h.metadata(r) + directoryObjectsSet.context, Value: out})
}

func (h *Handler) getDirectoryObject(w http.ResponseWriter, r *http.Request, c caller) {
	o, err := h.dir.GetObject(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusOK, directoryObjectsSet, objectMap(o))
}

func (h *Handler) ownedObjects(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, directoryObjectsSet)
	if !ok {
		return
	}
	objs, err := h.dir.OwnedObjects(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeObjects(w, r, q, objs)
}
