package rbac

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/tessera-id/tessera/internal/domain"
)

// builtinRolesJSON is a verbatim copy of shared/contracts/builtin-roles.json
// (see builtin-roles.SOURCES.md there); keep it verbatim so the two can be
// compared byte for byte.
//
//go:embed builtin-roles.json
var builtinRolesJSON []byte

// armRoleDefinition is ARM's roleDefinition resource shape.
type armRoleDefinition struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		RoleName         string          `json:"roleName"`
		Description      string          `json:"description"`
		Type             string          `json:"type"`
		Permissions      []armPermission `json:"permissions"`
		AssignableScopes []string        `json:"assignableScopes"`
	} `json:"properties"`
}

// armPermission is one permission object. Azure publishes some built-ins with
// an ABAC condition inside the object; it is accepted so such definitions
// load, but not evaluated: Tessera has no condition engine, and the block is
// applied as if it had no condition. None of the embedded roles has one.
type armPermission struct {
	Actions          []string `json:"actions"`
	NotActions       []string `json:"notActions"`
	DataActions      []string `json:"dataActions"`
	NotDataActions   []string `json:"notDataActions"`
	Condition        string   `json:"condition,omitempty"`
	ConditionVersion string   `json:"conditionVersion,omitempty"`
}

type builtins struct {
	list   []domain.RoleDefinition
	byID   map[string]int // lower-case GUID
	byName map[string]int // lower-case role name
}

// loadBuiltins parses the embedded file once; a malformed file is a build
// defect, so it panics rather than limping on without built-in roles.
var loadBuiltins = sync.OnceValue(func() *builtins {
	defs, err := parseRoleDefinitions(builtinRolesJSON)
	if err != nil {
		panic(fmt.Sprintf("rbac: embedded builtin-roles.json: %v", err))
	}
	b := &builtins{list: defs, byID: map[string]int{}, byName: map[string]int{}}
	for i, d := range defs {
		b.byID[strings.ToLower(d.ID)] = i
		b.byName[strings.ToLower(d.RoleName)] = i
	}
	return b
})

func parseRoleDefinitions(data []byte) ([]domain.RoleDefinition, error) {
	var raw []armRoleDefinition
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	defs := make([]domain.RoleDefinition, 0, len(raw))
	for _, r := range raw {
		if r.Name == "" || r.Properties.RoleName == "" {
			return nil, fmt.Errorf("role definition %q has no name or roleName", r.ID)
		}
		d := domain.RoleDefinition{
			ID:               r.Name,
			RoleName:         r.Properties.RoleName,
			Description:      r.Properties.Description,
			Type:             domain.RoleTypeBuiltIn,
			AssignableScopes: []string{domain.RootScope},
		}
		for _, p := range r.Properties.Permissions {
			d.Permissions = append(d.Permissions, domain.Permission{
				Actions:        nonNil(p.Actions),
				NotActions:     nonNil(p.NotActions),
				DataActions:    nonNil(p.DataActions),
				NotDataActions: nonNil(p.NotDataActions),
			})
		}
		defs = append(defs, d)
	}
	return defs, nil
}

// nonNil keeps empty lists as [] rather than null when callers re-serialise.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// BuiltInRoles returns Azure's built-in role definitions that Tessera ships,
// in file order. The result is the caller's to modify.
func BuiltInRoles() []domain.RoleDefinition {
	b := loadBuiltins()
	out := make([]domain.RoleDefinition, len(b.list))
	for i, d := range b.list {
		out[i] = cloneDefinition(d)
	}
	return out
}

// BuiltInRole finds a built-in role by GUID, by ARM id
// (".../roleDefinitions/{guid}") or by role name, case-insensitively.
func BuiltInRole(idOrName string) (domain.RoleDefinition, bool) {
	b := loadBuiltins()
	key := strings.ToLower(idOrName)
	i, ok := b.byID[roleGUID(key)]
	if !ok {
		i, ok = b.byName[key]
	}
	if !ok {
		return domain.RoleDefinition{}, false
	}
	return cloneDefinition(b.list[i]), true
}

func isBuiltInID(id string) bool {
	_, ok := loadBuiltins().byID[strings.ToLower(roleGUID(id))]
	return ok
}

// roleGUID accepts either a bare GUID or an ARM role definition id, since
// callers hold both forms (ARM bodies carry the full id).
func roleGUID(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}

func cloneDefinition(d domain.RoleDefinition) domain.RoleDefinition {
	d.AssignableScopes = append([]string(nil), d.AssignableScopes...)
	d.Permissions = clonePermissions(d.Permissions)
	return d
}

func clonePermissions(ps []domain.Permission) []domain.Permission {
	if ps == nil {
		return nil
	}
	out := make([]domain.Permission, len(ps))
	for i, p := range ps {
		out[i] = domain.Permission{
			Actions:        append([]string{}, p.Actions...),
			NotActions:     append([]string{}, p.NotActions...),
			DataActions:    append([]string{}, p.DataActions...),
			NotDataActions: append([]string{}, p.NotDataActions...),
		}
	}
	return out
}
