package arm

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/wire"
)

const (
	authzNS            = "Microsoft.Authorization"
	roleAssignmentType = authzNS + "/roleAssignments"
	roleDefinitionType = authzNS + "/roleDefinitions"
)

// scopeOf is the {scope...} of a Microsoft.Authorization route, once it is
// known to be the root or a scope inside one of the caller's subscriptions.
func (h *Handler) scopeOf(w http.ResponseWriter, r *http.Request, c caller, p params) (string, bool) {
	scope := p.scope()
	return scope, h.validScope(w, r, c, scope)
}

// validScope accepts the root and scopes inside the caller's subscriptions.
func (h *Handler) validScope(w http.ResponseWriter, r *http.Request, c caller, scope string) bool {
	if scope == "/" {
		return true
	}
	id, err := domain.ParseResourceID(scope)
	// A scope names a subscription, a resource group or a resource, never a
	// collection (".../resourceGroups/rg/x").
	if err != nil || id.SubscriptionID == "" || len(id.Names) != len(id.Types) {
		wire.WriteARMError(w, http.StatusBadRequest, "InvalidScope", "The scope '"+scope+"' is not valid.")
		return false
	}
	if _, err := h.res.Subscription(r.Context(), c.TenantID, id.SubscriptionID); err != nil {
		h.fail(w, r, err)
		return false
	}
	return true
}

func armTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// definitionPrefix is where role definitions are addressed for a scope:
// the subscription's, or the root's.
func definitionPrefix(scope string) string {
	if id, err := domain.ParseResourceID(scope); err == nil && id.SubscriptionID != "" {
		return "/subscriptions/" + id.SubscriptionID
	}
	return ""
}

func assignmentJSON(a domain.RoleAssignment) map[string]any {
	scope := a.Scope
	prefix := scope
	if prefix == "/" {
		prefix = ""
	}
	return map[string]any{
		"id": prefix + "/providers/Microsoft.Authorization/roleAssignments/" + a.ID, "name": a.ID, "type": roleAssignmentType,
		"properties": map[string]any{
			"roleDefinitionId": definitionPrefix(scope) + "/providers/Microsoft.Authorization/roleDefinitions/" + a.RoleDefinitionID,
			"principalId":      a.PrincipalID, "principalType": a.PrincipalType, "scope": scope, "description": a.Description,
			"condition": nil, "conditionVersion": nil, "createdOn": armTime(a.CreatedAt), "updatedOn": armTime(a.UpdatedAt),
			"createdBy": a.CreatedBy, "updatedBy": a.CreatedBy, "delegatedManagedIdentityResourceId": nil,
		},
	}
}

func definitionJSON(d domain.RoleDefinition, scope string) map[string]any {
	perms := make([]any, 0, len(d.Permissions))
	for _, p := range d.Permissions {
		perms = append(perms, map[string]any{"actions": nonNil(p.Actions), "notActions": nonNil(p.NotActions),
			"dataActions": nonNil(p.DataActions), "notDataActions": nonNil(p.NotDataActions)})
	}
	props := map[string]any{"roleName": d.RoleName, "type": d.Type, "description": d.Description,
		"assignableScopes": nonNil(d.AssignableScopes), "permissions": perms}
	if !d.CreatedAt.IsZero() {
		props["createdOn"], props["updatedOn"], props["createdBy"], props["updatedBy"] = armTime(d.CreatedAt), armTime(d.UpdatedAt), d.CreatedBy, d.CreatedBy
	}
	return map[string]any{"id": definitionPrefix(scope) + "/providers/Microsoft.Authorization/roleDefinitions/" + d.ID,
		"name": d.ID, "type": roleDefinitionType, "properties": props}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (h *Handler) permissions(w http.ResponseWriter, r *http.Request, c caller, p params) {
	scope, ok := h.scopeOf(w, r, c, p)
	if !ok {
		return
	}
	items := []any{}
	for _, p := range h.rbac.Permissions(c.ObjectID, scope) {
		items = append(items, map[string]any{"actions": nonNil(p.Actions), "notActions": nonNil(p.NotActions),
			"dataActions": nonNil(p.DataActions), "notDataActions": nonNil(p.NotDataActions)})
	}
	h.writeList(w, r, items)
}

var (
	filterPrincipal  = regexp.MustCompile(`(?i)principalId\s+eq\s+'([0-9a-fA-F-]{36})'`)
	filterAssignedTo = regexp.MustCompile(`(?i)assignedTo\('([0-9a-fA-F-]{36})'\)`)
	filterAtScope    = regexp.MustCompile(`(?i)atScope\(\)`)
	filterRoleName   = regexp.MustCompile(`(?i)roleName\s+eq\s+'([^']*)'`)
	filterRoleType   = regexp.MustCompile(`(?i)type\s+eq\s+'([^']*)'`)
)

// listRoleAssignments lists assignments related to scope: with atScope() at
// the scope and its ancestors, otherwise also its descendants; narrowed to a
// principal by principalId eq, or to a principal and its groups by assignedTo.
func (h *Handler) listRoleAssignments(w http.ResponseWriter, r *http.Request, c caller, p params) {
	scope, ok := h.scopeOf(w, r, c, p)
	if !ok || !h.authorize(w, r, c, roleAssignmentType+"/read", scope) {
		return
	}
	filter := r.URL.Query().Get("$filter")
	atScope := filterAtScope.MatchString(filter)
	principals := map[string]bool{}
	if m := filterPrincipal.FindStringSubmatch(filter); m != nil {
		principals[strings.ToLower(m[1])] = true
	}
	if m := filterAssignedTo.FindStringSubmatch(filter); m != nil {
		p := strings.ToLower(m[1])
		principals[p] = true
		for _, g := range h.rbac.Index().GroupsOf(p) {
			principals[g] = true
		}
	}
	items := []any{}
	for _, a := range h.rbac.Assignments(c.TenantID) {
		if len(principals) > 0 && !principals[a.PrincipalID] {
			continue
		}
		above := domain.IsScopeWithin(scope, a.Scope)
		below := domain.IsScopeWithin(a.Scope, scope)
		if above || (!atScope && below) {
			items = append(items, assignmentJSON(a))
		}
	}
	h.writeList(w, r, items)
}

func (h *Handler) roleAssignment(w http.ResponseWriter, r *http.Request, c caller, p params) {
	scope, ok := h.scopeOf(w, r, c, p)
	if !ok {
		return
	}
	name := p.get("roleAssignmentName")
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet:
		if !h.authorize(w, r, c, roleAssignmentType+"/read", scope) {
			return
		}
		a, ok := h.rbac.Assignment(c.TenantID, name)
		if !ok || domain.CanonicalScope(a.Scope) != domain.CanonicalScope(scope) {
			wire.WriteARMError(w, http.StatusNotFound, "RoleAssignmentNotFound", "The role assignment '"+name+"' is not found.")
			return
		}
		wire.WriteJSON(w, http.StatusOK, assignmentJSON(a))
	case http.MethodPut:
		if !h.authorize(w, r, c, roleAssignmentType+"/write", scope) {
			return
		}
		var body struct {
			Properties struct {
				RoleDefinitionID string `json:"roleDefinitionId"`
				PrincipalID      string `json:"principalId"`
				PrincipalType    string `json:"principalType"`
				Description      string `json:"description"`
				Condition        string `json:"condition"`
			} `json:"properties"`
		}
		if !h.readJSON(w, r, &body) {
			return
		}
		if body.Properties.Condition != "" {
			wire.WriteARMError(w, http.StatusBadRequest, "InvalidRoleAssignmentRequest", "Role assignment conditions are not supported by Tessera.")
			return
		}
		roleID := body.Properties.RoleDefinitionID
		roleID = roleID[strings.LastIndex(roleID, "/")+1:]
		a, err := h.rbac.CreateAssignment(ctx, domain.RoleAssignment{
			ID: name, TenantID: c.TenantID, Scope: canonicalCase(scope), RoleDefinitionID: roleID,
			PrincipalID: body.Properties.PrincipalID, PrincipalType: body.Properties.PrincipalType,
			Description: body.Properties.Description, CreatedBy: c.ObjectID,
		})
		h.recordChange(r, c, roleAssignmentType+"/write", scope+"/providers/Microsoft.Authorization/roleAssignments/"+name, err)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		wire.WriteJSON(w, http.StatusCreated, assignmentJSON(a))
	case http.MethodDelete:
		if !h.authorize(w, r, c, roleAssignmentType+"/delete", scope) {
			return
		}
		a, err := h.rbac.DeleteAssignment(ctx, c.TenantID, scope, name)
		if fault.KindOf(err) == fault.NotFound {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.recordChange(r, c, roleAssignmentType+"/delete", scope+"/providers/Microsoft.Authorization/roleAssignments/"+name, err)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		wire.WriteJSON(w, http.StatusOK, assignmentJSON(a))
	default:
		h.noRoute(w, r)
	}
}

// canonicalCase fixes the casing of the fixed segments of a scope
// (subscriptions, resourceGroups, providers) while keeping names as given.
func canonicalCase(scope string) string {
	segs := strings.Split(scope, "/")
	for i, s := range segs {
		switch strings.ToLower(s) {
		case "subscriptions":
			if i == 1 {
				segs[i] = "subscriptions"
			}
		case "resourcegroups":
			if i == 3 {
				segs[i] = "resourceGroups"
			}
		case "providers":
			segs[i] = "providers"
		}
	}
	return strings.Join(segs, "/")
}

func (h *Handler) listRoleDefinitions(w http.ResponseWriter, r *http.Request, c caller, p params) {
	scope, ok := h.scopeOf(w, r, c, p)
	if !ok {
		return
	}
	filter := r.URL.Query().Get("$filter")
	name, typ := "", ""
	if m := filterRoleName.FindStringSubmatch(filter); m != nil {
		name = m[1]
	}
	if m := filterRoleType.FindStringSubmatch(filter); m != nil {
		typ = m[1]
	}
	items := []any{}
	for _, d := range h.rbac.Definitions(c.TenantID) {
		if name != "" && !strings.EqualFold(d.RoleName, name) {
			continue
		}
		if typ != "" && !strings.EqualFold(d.Type, typ) {
			continue
		}
		if !assignableAt(d, scope) {
			continue
		}
		items = append(items, definitionJSON(d, scope))
	}
	h.writeList(w, r, items)
}

// assignableAt: a definition is listed at a scope it may be assigned at, or
// above its assignable scopes (so a custom role shows at its subscription).
func assignableAt(d domain.RoleDefinition, scope string) bool {
	if d.Type != domain.RoleTypeCustom {
		return true
	}
	for _, s := range d.AssignableScopes {
		if domain.IsScopeWithin(scope, s) || domain.IsScopeWithin(s, scope) {
			return true
		}
	}
	return false
}

func (h *Handler) roleDefinition(w http.ResponseWriter, r *http.Request, c caller, p params) {
	scope, ok := h.scopeOf(w, r, c, p)
	if !ok {
		return
	}
	name := p.get("roleDefinitionId")
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet:
		d, ok := h.rbac.Definition(c.TenantID, name)
		if !ok {
			wire.WriteARMError(w, http.StatusNotFound, "RoleDefinitionDoesNotExist", "The specified role definition with ID '"+name+"' does not exist.")
			return
		}
		wire.WriteJSON(w, http.StatusOK, definitionJSON(d, scope))
	case http.MethodPut:
		var body struct {
			Properties struct {
				RoleName         string              `json:"roleName"`
				Description      string              `json:"description"`
				Permissions      []domain.Permission `json:"permissions"`
				AssignableScopes []string            `json:"assignableScopes"`
			} `json:"properties"`
		}
		if !h.readJSON(w, r, &body) {
			return
		}
		p := body.Properties
		// Writing a role needs roleDefinitions/write at every scope it can be assigned at.
		for _, s := range p.AssignableScopes {
			if !h.validScope(w, r, c, s) || !h.authorize(w, r, c, roleDefinitionType+"/write", s) {
				return
			}
		}
		d, created, err := h.rbac.PutDefinition(ctx, domain.RoleDefinition{ID: name, TenantID: c.TenantID, RoleName: p.RoleName,
			Description: p.Description, Permissions: p.Permissions, AssignableScopes: p.AssignableScopes, CreatedBy: c.ObjectID})
		h.recordChange(r, c, roleDefinitionType+"/write", "/providers/Microsoft.Authorization/roleDefinitions/"+name, err)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		wire.WriteJSON(w, status, definitionJSON(d, scope))
	case http.MethodDelete:
		d, ok, err := h.rbac.StoredDefinition(ctx, c.TenantID, name)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if !ok {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		for _, s := range d.AssignableScopes {
			if !h.authorize(w, r, c, roleDefinitionType+"/delete", s) {
				return
			}
		}
		_, err = h.rbac.DeleteDefinition(ctx, c.TenantID, d.ID)
		h.recordChange(r, c, roleDefinitionType+"/delete", "/providers/Microsoft.Authorization/roleDefinitions/"+name, err)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		wire.WriteJSON(w, http.StatusOK, definitionJSON(d, scope))
	default:
		h.noRoute(w, r)
	}
}

// checkAccess answers whether a principal may perform actions at a scope,
// naming the assignment and role that grant each, or the built-in roles that
// would (least privileged first). Checking another principal needs
// roleAssignments/read at the scope; checking oneself needs nothing.
func (h *Handler) checkAccess(w http.ResponseWriter, r *http.Request, c caller, p params) {
	scope, ok := h.scopeOf(w, r, c, p)
	if !ok {
		return
	}
	var body struct {
		Subject struct {
			PrincipalID string `json:"principalId"`
		} `json:"subject"`
		Actions []struct {
			ID           string `json:"id"`
			IsDataAction bool   `json:"isDataAction"`
		} `json:"actions"`
	}
	if !h.readJSON(w, r, &body) {
		return
	}
	principal := strings.ToLower(body.Subject.PrincipalID)
	if principal == "" {
		principal = c.ObjectID
	}
	if principal != c.ObjectID && !h.authorize(w, r, c, roleAssignmentType+"/read", scope) {
		return
	}
	if len(body.Actions) == 0 || len(body.Actions) > 100 {
		wire.WriteARMError(w, http.StatusBadRequest, "InvalidRequest", "Between 1 and 100 actions must be given.")
		return
	}
	items := []any{}
	for _, a := range body.Actions {
		d := h.rbac.Decide(principal, a.ID, scope, a.IsDataAction)
		item := map[string]any{"actionId": a.ID, "isDataAction": a.IsDataAction, "accessDecision": "NotAllowed",
			"roleAssignment": nil, "roleDefinition": nil}
		if d.Allowed {
			item["accessDecision"] = "Allowed"
			item["roleAssignment"] = assignmentJSON(d.Assignment)
			item["roleDefinition"] = definitionJSON(d.Role, scope)
		} else {
			suggested := []any{}
			for i, role := range h.rbac.Index().SuggestRoles(a.ID, a.IsDataAction) {
				if i == 5 {
					break
				}
				suggested = append(suggested, map[string]any{"id": role.ID, "roleName": role.RoleName})
			}
			item["suggestedRoles"] = suggested
		}
		items = append(items, item)
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"value": items})
}
