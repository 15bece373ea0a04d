package graph

import (
	"net/http"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/graph/odata"
)

type groupBody struct {
	DisplayName     *string `json:"displayName"`
	MailNickname    *string `json:"mailNickname"`
	SecurityEnabled *bool   `json:"securityEnabled"`
	MailEnabled     *bool   `json:"mailEnabled"`
}

func (h *Handler) groupItems(r *http.Request, c caller) ([]odata.Item, error) {
	groups, err := h.dir.ListGroups(r.Context(), c.TenantID)
	if err != nil {
		return nil, err
	}
	items := make([]odata.Item, 0, len(groups))
	for _, g := range groups {
		items = append(items, odata.Item{Created: g.CreatedAt, ID: g.ID, Object: toMap(toGroupJSON(g))})
	}
	return items, nil
}

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, groupsSet)
	if !ok {
		return
	}
	items, err := h.groupItems(r, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeList(w, r, groupsSet.context, q, items)
}

func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.authorize(w, r, c, directory.OpCreateGroup, "", "group.create") {
		return
	}
	var b groupBody
	if !h.decode(w, r, &b) {
		return
	}
	in := directory.GroupInput{DisplayName: deref(b.DisplayName), MailNickname: deref(b.MailNickname), SecurityEnabled: b.SecurityEnabled}
	if b.MailEnabled != nil {
		in.MailEnabled = *b.MailEnabled
	}
	g, err := h.dir.CreateGroup(r.Context(), c.TenantID, in)
	h.recordChange(r, c, "group.create", g.ID, err, "displayName", in.DisplayName)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", h.link(r, Prefix+"/directoryObjects/"+g.ID+"/Microsoft.DirectoryServices.Group"))
	h.writeEntity(w, r, http.StatusCreated, groupsSet, toMap(toGroupJSON(g)))
}

func (h *Handler) loadGroup(w http.ResponseWriter, r *http.Request, c caller) (domain.Group, bool) {
	g, err := h.dir.GetGroup(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return g, false
	}
	return g, true
}

func (h *Handler) manageGroup(w http.ResponseWriter, r *http.Request, c caller, action string) (domain.Group, bool) {
	g, ok := h.loadGroup(w, r, c)
	if !ok || !h.authorize(w, r, c, directory.OpManageGroup, g.ID, action) {
		return g, false
	}
	return g, true
}

func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request, c caller) {
	if g, ok := h.loadGroup(w, r, c); ok {
		h.writeEntity(w, r, http.StatusOK, groupsSet, toMap(toGroupJSON(g)))
	}
}

func (h *Handler) patchGroup(w http.ResponseWriter, r *http.Request, c caller) {
	g, ok := h.manageGroup(w, r, c, "group.update")
	if !ok {
		return
	}
	var b groupBody
	if !h.decode(w, r, &b) {
		return
	}
	_, err := h.dir.UpdateGroup(r.Context(), c.TenantID, g.ID, directory.GroupPatch{
		DisplayName: b.DisplayName, MailNickname: b.MailNickname, SecurityEnabled: b.SecurityEnabled, MailEnabled: b.MailEnabled,
	})
	h.recordChange(r, c, "group.update", g.ID, err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request, c caller) {
	g, ok := h.manageGroup(w, r, c, "group.delete")
	if !ok {
		return
	}
	rm, err := h.dir.DeleteGroup(r.Context(), c.TenantID, g.ID)
	h.recordChange(r, c, "group.delete", g.ID, err, append([]string{"displayName", g.DisplayName}, removedDetails(rm)...)...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) listMembers(transitive bool) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		q, ok := h.query(w, r, directoryObjectsSet)
		if !ok {
			return
		}
		members, err := h.dir.Members(r.Context(), c.TenantID, r.PathValue("id"), transitive)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.writeObjects(w, r, q, members)
	}
}

func (h *Handler) addMember(w http.ResponseWriter, r *http.Request, c caller) {
	g, ok := h.manageGroup(w, r, c, "group.member.add")
	if !ok {
		return
	}
	member, ok := h.decodeRef(w, r)
	if !ok {
		return
	}
	err := h.dir.AddMember(r.Context(), c.TenantID, g.ID, member)
	h.recordChange(r, c, "group.member.add", g.ID, err, "member", member)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request, c caller) {
	g, ok := h.manageGroup(w, r, c, "group.member.remove")
	if !ok {
		return
	}
	member := r.PathValue("member")
	err := h.dir.RemoveMember(r.Context(), c.TenantID, g.ID, member)
	h.recordChange(r, c, "group.member.remove", g.ID, err, "member", member)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
