package graph

import (
	"net/http"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/graph/odata"
	"github.com/tessera-id/tessera/internal/wire"
)

type passwordProfileJSON struct {
	Password                      *string `json:"password"`
	ForceChangePasswordNextSignIn *bool   `json:"forceChangePasswordNextSignIn"`
}

type userBody struct {
	AccountEnabled    *bool                `json:"accountEnabled"`
	DisplayName       *string              `json:"displayName"`
	MailNickname      *string              `json:"mailNickname"`
	UserPrincipalName *string              `json:"userPrincipalName"`
	PasswordProfile   *passwordProfileJSON `json:"passwordProfile"`
	// null clears these, as in Graph.
	GivenName nullable[string] `json:"givenName"`
	Surname   nullable[string] `json:"surname"`
	Mail      nullable[string] `json:"mail"`
}

// patchOf is a patch's view of a nullable string: nil when absent, "" for null.
func patchOf(n nullable[string]) *string {
	if !n.Set {
		return nil
	}
	v := n.V
	return &v
}

func (h *Handler) userItems(r *http.Request, c caller) ([]odata.Item, error) {
	users, err := h.dir.ListUsers(r.Context(), c.TenantID)
	if err != nil {
		return nil, err
	}
	items := make([]odata.Item, 0, len(users))
	for _, u := range users {
		items = append(items, odata.Item{Created: u.CreatedAt, ID: u.ID, Object: toMap(toUserJSON(u))})
	}
	return items, nil
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, usersSet)
	if !ok {
		return
	}
	items, err := h.userItems(r, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeList(w, r, usersSet.context, q, items)
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.authorize(w, r, c, directory.OpCreateUser, "", "user.create") {
		return
	}
	var b userBody
	if !h.decode(w, r, &b) {
		return
	}
	in := directory.UserInput{AccountEnabled: b.AccountEnabled, DisplayName: deref(b.DisplayName),
		MailNickname: deref(b.MailNickname), UserPrincipalName: deref(b.UserPrincipalName),
		GivenName: b.GivenName.V, Surname: b.Surname.V, Mail: b.Mail.V}
	if b.PasswordProfile != nil {
		in.Password = deref(b.PasswordProfile.Password)
		in.ForceChangePassword = b.PasswordProfile.ForceChangePasswordNextSignIn != nil && *b.PasswordProfile.ForceChangePasswordNextSignIn
	}
	u, err := h.dir.CreateUser(r.Context(), c.TenantID, in)
	h.recordChange(r, c, "user.create", in.UserPrincipalName, err, "id", u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", h.link(r, Prefix+"/directoryObjects/"+u.ID+"/Microsoft.DirectoryServices.User"))
	h.writeEntity(w, r, http.StatusCreated, usersSet, toMap(toUserJSON(u)))
}

func (h *Handler) loadUser(w http.ResponseWriter, r *http.Request, c caller) (domain.User, bool) {
	u, err := h.dir.GetUser(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return u, false
	}
	return u, true
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, c caller) {
	if u, ok := h.loadUser(w, r, c); ok {
		h.writeEntity(w, r, http.StatusOK, usersSet, toMap(toUserJSON(u)))
	}
}

func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request, c caller) {
	u, ok := h.loadUser(w, r, c)
	if !ok || !h.authorize(w, r, c, directory.OpManageUser, u.ID, "user.update") {
		return
	}
	var b userBody
	if !h.decode(w, r, &b) {
		return
	}
	p := directory.UserPatch{DisplayName: b.DisplayName, MailNickname: b.MailNickname,
		UserPrincipalName: b.UserPrincipalName, AccountEnabled: b.AccountEnabled,
		GivenName: patchOf(b.GivenName), Surname: patchOf(b.Surname), Mail: patchOf(b.Mail)}
	action := "user.update"
	if pp := b.PasswordProfile; pp != nil {
		if pp.Password == nil && pp.ForceChangePasswordNextSignIn == nil {
			h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "passwordProfile.password is required to reset a password.")
			return
		}
		if pp.Password != nil {
			// passwordProfile is a complex value: a reset replaces it whole,
			// so an omitted forceChangePasswordNextSignIn means false.
			p.Password = pp.Password
			action = "user.resetPassword"
			force := pp.ForceChangePasswordNextSignIn != nil && *pp.ForceChangePasswordNextSignIn
			p.ForceChangePassword = &force
		} else {
			p.ForceChangePassword = pp.ForceChangePasswordNextSignIn
		}
	}
	if b.AccountEnabled != nil && !*b.AccountEnabled && action == "user.update" {
		action = "user.disable"
	}
	_, err := h.dir.UpdateUser(r.Context(), c.TenantID, u.ID, p)
	h.recordChange(r, c, action, u.UserPrincipalName, err, "id", u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request, c caller) {
	u, ok := h.loadUser(w, r, c)
	if !ok || !h.authorize(w, r, c, directory.OpManageUser, u.ID, "user.delete") {
		return
	}
	_, rm, err := h.dir.DeleteUser(r.Context(), c.TenantID, u.ID)
	h.recordChange(r, c, "user.delete", u.UserPrincipalName, err, append([]string{"id", u.ID}, removedDetails(rm)...)...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
