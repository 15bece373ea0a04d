package graph

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/wire"
)

// A user's authentication methods in Graph's shapes:
//
//	/users/{id}/authentication/methods                     (list)
//	/users/{id}/authentication/softwareOathMethods[/{id}]  (list, get, delete)
//	/me/authentication/...                                 (the same for the caller)
//
// Tessera's methods are the password (passwordAuthenticationMethod, Entra's
// well-known id) and a registered authenticator app
// (softwareOathAuthenticationMethod). Deleting the authenticator makes the
// user register one again at the next sign-in that needs a second factor.
// Who may read or delete them is directory.OpReadAuthenticationMethods and
// OpManageAuthenticationMethods.

// passwordMethodID is the id Entra gives every user's password method.
const passwordMethodID = "28c10230-6103-485e-b985-444c60001490"

var oathNamespace = uuid.MustParse("0b6a4f0e-3f7a-4d35-9a59-6b1f1f0c9e21")

// softwareOathID is the stable id of a user's authenticator registration.
func softwareOathID(tenantID, userID string) string {
	return uuid.NewSHA1(oathNamespace, []byte(tenantID+"/"+userID)).String()
}

// TOTPMethods is what the handlers need of the sign-in service.
type TOTPMethods interface {
	HasTOTP(ctx context.Context, tenantID, userID string) (bool, error)
	RemoveTOTP(ctx context.Context, tenantID, userID string) error
}

// AuthenticationMethods serves the routes above with the Graph handler's
// authentication and error shapes.
type AuthenticationMethods struct {
	h    *Handler
	totp TOTPMethods
}

// NewAuthenticationMethods returns the authentication-method routes of h.
func NewAuthenticationMethods(h *Handler, totp TOTPMethods) *AuthenticationMethods {
	return &AuthenticationMethods{h: h, totp: totp}
}

// Register mounts the routes on mux (more specific than Graph's prefix).
func (m *AuthenticationMethods) Register(mux *http.ServeMux) {
	h := m.h
	for _, base := range []string{Prefix + "/users/{id}/authentication", Prefix + "/me/authentication"} {
		wrap := func(fn authedHandler) http.Handler { return h.authed(fn) }
		if base == Prefix+"/me/authentication" {
			wrap = func(fn authedHandler) http.Handler { return h.authed(h.me(fn)) }
		}
		mux.Handle("GET "+base+"/methods", wrap(m.list(false)))
		mux.Handle("GET "+base+"/softwareOathMethods", wrap(m.list(true)))
		mux.Handle("GET "+base+"/softwareOathMethods/{method}", wrap(m.getOath))
		mux.Handle("DELETE "+base+"/softwareOathMethods/{method}", wrap(m.deleteOath))
	}
}

// user loads the user of the path and checks op for the caller.
func (m *AuthenticationMethods) user(w http.ResponseWriter, r *http.Request, c caller, op directory.Op, action string) (domain.User, bool) {
	u, ok := m.h.loadUser(w, r, c)
	if !ok {
		return u, false
	}
	if !m.h.authorize(w, r, c, op, u.ID, action) {
		return u, false
	}
	return u, true
}

func (m *AuthenticationMethods) context(r *http.Request, u domain.User, set string) string {
	return m.h.metadata(r) + "users('" + u.ID + "')/authentication/" + set
}

func oathJSON(id string) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.softwareOathAuthenticationMethod", "id": id, "secretKey": nil}
}

func (m *AuthenticationMethods) list(oathOnly bool) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		u, ok := m.user(w, r, c, directory.OpReadAuthenticationMethods, "user.authenticationMethod.read")
		if !ok {
			return
		}
		has, err := m.totp.HasTOTP(r.Context(), c.TenantID, u.ID)
		if err != nil {
			m.h.fail(w, r, err)
			return
		}
		out := []map[string]any{}
		set := "softwareOathMethods"
		if !oathOnly {
			set = "methods"
			created := u.PasswordChangedAt
			if created.IsZero() {
				created = u.CreatedAt
			}
			out = append(out, map[string]any{"@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
				"id": passwordMethodID, "password": nil, "createdDateTime": graphTime(created)})
		}
		if has {
			out = append(out, oathJSON(softwareOathID(c.TenantID, u.ID)))
		}
		wire.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": m.context(r, u, set), "value": out})
	}
}

// oath finds the authenticator registration the path names: 404 when the
// user has none or the id is not its id.
func (m *AuthenticationMethods) oath(w http.ResponseWriter, r *http.Request, c caller, u domain.User) bool {
	has, err := m.totp.HasTOTP(r.Context(), c.TenantID, u.ID)
	if err != nil {
		m.h.fail(w, r, err)
		return false
	}
	id := r.PathValue("method")
	if !has || normMethodID(id) != softwareOathID(c.TenantID, u.ID) {
		m.h.writeError(w, r, http.StatusNotFound, wire.GraphResourceNotFound, wire.GraphNotFoundMessage(id))
		return false
	}
	return true
}

func normMethodID(id string) string {
	if p, err := uuid.Parse(id); err == nil {
		return p.String()
	}
	return id
}

func (m *AuthenticationMethods) getOath(w http.ResponseWriter, r *http.Request, c caller) {
	u, ok := m.user(w, r, c, directory.OpReadAuthenticationMethods, "user.authenticationMethod.read")
	if !ok || !m.oath(w, r, c, u) {
		return
	}
	obj := oathJSON(softwareOathID(c.TenantID, u.ID))
	obj["@odata.context"] = m.context(r, u, "softwareOathMethods") + "/$entity"
	wire.WriteJSON(w, http.StatusOK, obj)
}

func (m *AuthenticationMethods) deleteOath(w http.ResponseWriter, r *http.Request, c caller) {
	const action = "user.authenticationMethod.delete"
	u, ok := m.user(w, r, c, directory.OpManageAuthenticationMethods, action)
	if !ok || !m.oath(w, r, c, u) {
		return
	}
	err := m.totp.RemoveTOTP(r.Context(), c.TenantID, u.ID)
	if fault.KindOf(err) == fault.NotFound { // removed meanwhile
		m.h.writeError(w, r, http.StatusNotFound, wire.GraphResourceNotFound, wire.GraphNotFoundMessage(r.PathValue("method")))
		return
	}
	m.h.recordChange(r, c, action, u.UserPrincipalName, err, "id", u.ID, "method", "softwareOathAuthenticationMethod")
	if err != nil {
		m.h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
