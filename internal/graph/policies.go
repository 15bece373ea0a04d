package graph

import (
	"net/http"
	"strings"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/graph/odata"
	"github.com/tessera-id/tessera/internal/wire"
)

// --- authorizationPolicy ---

// Entra's fixed values of the authorization policy that Tessera does not
// let anyone change.
const (
	authorizationPolicyID = "authorizationPolicy"
	guestUserRoleID       = "10dae51f-b6af-4016-8d66-8c2a99b929b3"
)

type defaultUserRolePermissionsJSON struct {
	AllowedToCreateApps                      bool     `json:"allowedToCreateApps"`
	AllowedToCreateSecurityGroups            bool     `json:"allowedToCreateSecurityGroups"`
	AllowedToCreateTenants                   bool     `json:"allowedToCreateTenants"`
	AllowedToReadBitlockerKeysForOwnedDevice bool     `json:"allowedToReadBitlockerKeysForOwnedDevice"`
	AllowedToReadOtherUsers                  bool     `json:"allowedToReadOtherUsers"`
	PermissionGrantPoliciesAssigned          []string `json:"permissionGrantPoliciesAssigned"`
}

// authorizationPolicyJSON is Graph's authorizationPolicy (v1.0 answers the
// one object, not a collection).
type authorizationPolicyJSON struct {
	ID                                        string                         `json:"id"`
	DisplayName                               string                         `json:"displayName"`
	Description                               string                         `json:"description"`
	AllowInvitesFrom                          string                         `json:"allowInvitesFrom"`
	AllowedToSignUpEmailBasedSubscriptions    bool                           `json:"allowedToSignUpEmailBasedSubscriptions"`
	AllowedToUseSSPR                          bool                           `json:"allowedToUseSSPR"`
	AllowEmailVerifiedUsersToJoinOrganization bool                           `json:"allowEmailVerifiedUsersToJoinOrganization"`
	BlockMsolPowerShell                       bool                           `json:"blockMsolPowerShell"`
	GuestUserRoleID                           string                         `json:"guestUserRoleId"`
	DefaultUserRolePermissions                defaultUserRolePermissionsJSON `json:"defaultUserRolePermissions"`
}

func toAuthorizationPolicyJSON(p directory.AuthorizationPolicy) authorizationPolicyJSON {
	// Tessera has no self-service app registration: creating applications
	// needs an application administrator role.
	return authorizationPolicyJSON{
		ID: authorizationPolicyID, DisplayName: "Authorization Policy",
		Description:      "Used to manage authorization related settings across the company.",
		AllowInvitesFrom: "none", GuestUserRoleID: guestUserRoleID,
		DefaultUserRolePermissions: defaultUserRolePermissionsJSON{
			AllowedToReadOtherUsers:         true,
			PermissionGrantPoliciesAssigned: p.PermissionGrantPoliciesAssigned,
		},
	}
}

var authorizationPolicySet = entitySet{"policies/authorizationPolicy", "microsoft.graph.authorizationPolicy",
	odata.SchemaOf(toMap(toAuthorizationPolicyJSON(directory.AuthorizationPolicy{})))}

func (h *Handler) getAuthorizationPolicy(w http.ResponseWriter, r *http.Request, c caller) {
	p, err := h.dir.GetAuthorizationPolicy(r.Context(), c.TenantID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusOK, authorizationPolicySet, toMap(toAuthorizationPolicyJSON(p)))
}

func (h *Handler) patchAuthorizationPolicy(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.authorize(w, r, c, directory.OpManagePolicies, "", "authorizationPolicy.update") {
		return
	}
	var b struct {
		DefaultUserRolePermissions *struct {
			PermissionGrantPoliciesAssigned *[]string `json:"permissionGrantPoliciesAssigned"`
		} `json:"defaultUserRolePermissions"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	if b.DefaultUserRolePermissions == nil || b.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned == nil {
		// Nothing Tessera keeps was named: as a PATCH of no property.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	policies := *b.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned
	_, err := h.dir.SetPermissionGrantPolicies(r.Context(), c.TenantID, policies)
	h.recordChange(r, c, "authorizationPolicy.update", authorizationPolicyID, err,
		"permissionGrantPoliciesAssigned", strings.Join(policies, ","))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- tokenLifetimePolicies ---

type tokenLifetimePolicyJSON struct {
	ODataType             string   `json:"@odata.type,omitempty"`
	ID                    string   `json:"id"`
	DeletedDateTime       *string  `json:"deletedDateTime"`
	Definition            []string `json:"definition"`
	DisplayName           string   `json:"displayName"`
	IsOrganizationDefault bool     `json:"isOrganizationDefault"`
}

func toTokenLifetimePolicyJSON(p domain.TokenLifetimePolicy) tokenLifetimePolicyJSON {
	def := p.Definition
	if def == nil {
		def = []string{}
	}
	return tokenLifetimePolicyJSON{ID: p.ID, Definition: def, DisplayName: p.DisplayName, IsOrganizationDefault: p.IsOrganizationDefault}
}

var tokenLifetimePoliciesSet = entitySet{"policies/tokenLifetimePolicies", "microsoft.graph.tokenLifetimePolicy",
	odata.SchemaOf(toMap(toTokenLifetimePolicyJSON(domain.TokenLifetimePolicy{})))}

func policyItems(ps []domain.TokenLifetimePolicy, typed bool) []odata.Item {
	items := make([]odata.Item, 0, len(ps))
	for _, p := range ps {
		j := toTokenLifetimePolicyJSON(p)
		if typed {
			j.ODataType = "#microsoft.graph.tokenLifetimePolicy"
		}
		items = append(items, odata.Item{Created: p.CreatedAt, ID: p.ID, Object: toMap(j)})
	}
	return items
}

func (h *Handler) listTokenLifetimePolicies(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, tokenLifetimePoliciesSet)
	if !ok {
		return
	}
	ps, err := h.dir.ListTokenLifetimePolicies(r.Context(), c.TenantID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeList(w, r, tokenLifetimePoliciesSet.context, q, policyItems(ps, false))
}

func (h *Handler) getTokenLifetimePolicy(w http.ResponseWriter, r *http.Request, c caller) {
	p, err := h.dir.GetTokenLifetimePolicy(r.Context(), c.TenantID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusOK, tokenLifetimePoliciesSet, toMap(toTokenLifetimePolicyJSON(p)))
}

type tokenLifetimePolicyBody struct {
	DisplayName           *string   `json:"displayName"`
	Definition            *[]string `json:"definition"`
	IsOrganizationDefault *bool     `json:"isOrganizationDefault"`
}

func (h *Handler) createTokenLifetimePolicy(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.authorize(w, r, c, directory.OpManagePolicies, "", "tokenLifetimePolicy.create") {
		return
	}
	var b tokenLifetimePolicyBody
	if !h.decode(w, r, &b) {
		return
	}
	if b.DisplayName == nil || b.Definition == nil {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Properties 'displayName' and 'definition' are required.")
		return
	}
	in := directory.TokenLifetimePolicyInput{DisplayName: *b.DisplayName, Definition: *b.Definition}
	if b.IsOrganizationDefault != nil {
		in.IsOrganizationDefault = *b.IsOrganizationDefault
	}
	p, err := h.dir.CreateTokenLifetimePolicy(r.Context(), c.TenantID, in)
	h.recordChange(r, c, "tokenLifetimePolicy.create", p.ID, err, "displayName", in.DisplayName)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", h.link(r, Prefix+"/policies/tokenLifetimePolicies/"+p.ID))
	h.writeEntity(w, r, http.StatusCreated, tokenLifetimePoliciesSet, toMap(toTokenLifetimePolicyJSON(p)))
}

func (h *Handler) patchTokenLifetimePolicy(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.authorize(w, r, c, directory.OpManagePolicies, "", "tokenLifetimePolicy.update") {
		return
	}
	var b tokenLifetimePolicyBody
	if !h.decode(w, r, &b) {
		return
	}
	id := r.PathValue("id")
	_, err := h.dir.UpdateTokenLifetimePolicy(r.Context(), c.TenantID, id, directory.TokenLifetimePolicyPatch{
		DisplayName: b.DisplayName, Definition: b.Definition, IsOrganizationDefault: b.IsOrganizationDefault})
	h.recordChange(r, c, "tokenLifetimePolicy.update", id, err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deleteTokenLifetimePolicy(w http.ResponseWriter, r *http.Request, c caller) {
	if !h.authorize(w, r, c, directory.OpManagePolicies, "", "tokenLifetimePolicy.delete") {
		return
	}
	id := r.PathValue("id")
	err := h.dir.DeleteTokenLifetimePolicy(r.Context(), c.TenantID, id)
	h.recordChange(r, c, "tokenLifetimePolicy.delete", id, err)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- an application's token lifetime policies ---

func (h *Handler) listApplicationPolicies(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := h.query(w, r, tokenLifetimePoliciesSet)
	if !ok {
		return
	}
	app, ok := h.loadApplication(w, r, c)
	if !ok {
		return
	}
	ps, err := h.dir.ApplicationTokenLifetimePolicies(r.Context(), c.TenantID, app.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeList(w, r, "applications('"+app.ID+"')/tokenLifetimePolicies", q, policyItems(ps, true))
}

// assignApplicationPolicy is POST /applications/{id}/tokenLifetimePolicies/$ref.
// Changing which policy an app gets is a policy change (Global
// Administrators), and the app's manager must also be allowed to change it.
func (h *Handler) assignApplicationPolicy(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.manageApplication(w, r, c, "application.addTokenLifetimePolicy")
	if !ok || !h.authorize(w, r, c, directory.OpManagePolicies, "", "application.addTokenLifetimePolicy") {
		return
	}
	var b struct {
		ODataID *string `json:"@odata.id"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	policyID := ""
	if b.ODataID != nil {
		if i := strings.LastIndex(*b.ODataID, "/tokenLifetimePolicies/"); i >= 0 {
			policyID = (*b.ODataID)[i+len("/tokenLifetimePolicies/"):]
		}
	}
	if !directory.IsGUID(policyID) {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest,
			"Property '@odata.id' must be the URL of a token lifetime policy (…/policies/tokenLifetimePolicies/{id}).")
		return
	}
	err := h.dir.AssignTokenLifetimePolicy(r.Context(), c.TenantID, app.ID, policyID)
	h.recordChange(r, c, "application.addTokenLifetimePolicy", app.AppID, err, "policy", policyID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) removeApplicationPolicy(w http.ResponseWriter, r *http.Request, c caller) {
	app, ok := h.manageApplication(w, r, c, "application.removeTokenLifetimePolicy")
	if !ok || !h.authorize(w, r, c, directory.OpManagePolicies, "", "application.removeTokenLifetimePolicy") {
		return
	}
	policyID := r.PathValue("policy")
	err := h.dir.UnassignTokenLifetimePolicy(r.Context(), c.TenantID, app.ID, policyID)
	h.recordChange(r, c, "application.removeTokenLifetimePolicy", app.AppID, err, "policy", policyID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
