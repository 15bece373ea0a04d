package rbac

import (
	"cmp"
	"slices"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
)

// Decide reports whether principalID may perform action at scope, counting
// assignments to the principal and to every group it is in, directly or
// through nested groups, at the scope and each of its ancestors. data selects
// DataActions/NotDataActions instead of Actions/NotActions. An unknown
// principal, action or scope is simply not allowed.
func (ix *Index) Decide(principalID, action, scope string, data bool) Decision {
	pl := planeOf(data)
	var subjBuf, chainBuf [16]uint32

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := ix.st
	subjects := st.subjectsOf(principalID, subjBuf[:0])
	if subjects == nil {
		return Decision{}
	}
	chain := st.chain(scope, chainBuf[:0])
	best, bestDepth := noSlot, len(chain)
	var bestRole *compiledRole
	consider := func(e entry, depth int) {
		if depth > bestDepth {
			return
		}
		r := st.roles[e.role]
		if r == nil || !r.permits(action, pl) {
			return
		}
		if depth < bestDepth || r.nameKey < bestRole.nameKey ||
			r.nameKey == bestRole.nameKey && lowerKey(st.ids[e.slot]) < lowerKey(st.ids[best]) {
			best, bestDepth, bestRole = e.slot, depth, r
		}
	}
	for _, s := range subjects {
		entries := st.subjects[s].entries
		if len(entries) <= 4*len(chain) {
			// Few entries: one pass over contiguous memory beats a search
			// per ancestor.
			for _, e := range entries {
				if depth := slices.Index(chain, e.scope); depth >= 0 {
					consider(e, depth)
				}
			}
			continue
		}
		for depth, sc := range chain {
			if depth > bestDepth {
				break
			}
			for _, e := range entriesAt(entries, sc) {
				consider(e, depth)
			}
		}
	}
	if best == noSlot {
		return Decision{}
	}
	return Decision{Allowed: true, Assignment: st.assignment(best), Role: bestRole.def}
}

// entriesAt returns the entries at one scope of a sorted list.
func entriesAt(es []entry, scope uint32) []entry {
	i, _ := slices.BinarySearchFunc(es, scope, func(e entry, sc uint32) int { return cmp.Compare(e.scope, sc) })
	j := i
	for j < len(es) && es[j].scope == scope {
		j++
	}
	return es[i:j]
}

// Permissions returns the effective permission blocks of principalID at
// scope: those of every role assigned at the scope or an ancestor to the
// principal or its groups, each role once, nearest scope first and then by
// role name. It backs ARM's GET {scope}/providers/Microsoft.Authorization/permissions.
func (ix *Index) Permissions(principalID, scope string) []domain.Permission {
	var subjBuf, chainBuf [16]uint32

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := ix.st
	subjects := st.subjectsOf(principalID, subjBuf[:0])
	out := []domain.Permission{}
	seen := map[uint32]bool{}
	for _, sc := range st.chain(scope, chainBuf[:0]) {
		var here []*compiledRole
		for _, s := range subjects {
			for _, e := range entriesAt(st.subjects[s].entries, sc) {
				if r := st.roles[e.role]; r != nil && !seen[e.role] {
					seen[e.role] = true
					here = append(here, r)
				}
			}
		}
		slices.SortFunc(here, func(a, b *compiledRole) int { return strings.Compare(a.nameKey, b.nameKey) })
		for _, r := range here {
			out = append(out, clonePermissions(r.def.Permissions)...)
		}
	}
	return out
}

// HasAssignmentWithin reports whether principalID, or a group it is in, holds
// an assignment of a defined role at scope, above it or anywhere below it.
// ARM uses it to decide which subscriptions to list to a principal.
func (ix *Index) HasAssignmentWithin(principalID, scope string) bool {
	c := domain.CanonicalScope(scope)
	var buf [16]uint32

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := ix.st
	for _, s := range st.subjectsOf(principalID, buf[:0]) {
		for _, e := range st.subjects[s].entries {
			at := st.scopes[e.scope]
			if st.roles[e.role] != nil && (domain.CanonicalWithin(at, c) || domain.CanonicalWithin(c, at)) {
				return true
			}
		}
	}
	return false
}

// GroupsOf returns the ids (lower-case) of every group principalID is in,
// directly or through nested groups, sorted.
func (ix *Index) GroupsOf(principalID string) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := ix.st
	slot, ok := st.subjectID[lowerKey(principalID)]
	if !ok {
		return nil
	}
	groups := st.groupsOf(slot)
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = st.subjects[g].key
	}
	slices.Sort(out)
	return out
}

// CanAssign reports whether the role may be assigned at scope: built-in roles
// anywhere, custom roles only at or below one of their AssignableScopes.
// Unknown roles cannot be assigned.
func (ix *Index) CanAssign(roleID, scope string) bool {
	c := domain.CanonicalScope(scope)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	r := ix.st.role(roleID)
	return r != nil && r.assignableAt(c)
}

func (st *state) role(id string) *compiledRole {
	slot, ok := st.roleByID[strings.ToLower(roleGUID(id))]
	if !ok {
		return nil
	}
	return st.roles[slot]
}

// Definition returns a role definition (built-in or custom) by GUID or ARM id.
func (ix *Index) Definition(id string) (domain.RoleDefinition, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if r := ix.st.role(id); r != nil {
		return cloneDefinition(r.def), true
	}
	return domain.RoleDefinition{}, false
}

// DefinitionByName returns the role definition with the given name,
// case-insensitively: a built-in, or else a custom role of that name. Custom
// names are unique only within a tenant; when several tenants in the Index
// use the name, the one with the smallest tenant id is returned, so prefer
// DefinitionByNameIn.
func (ix *Index) DefinitionByName(name string) (domain.RoleDefinition, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if slot, ok := ix.st.roleByName[nameKey("", name)]; ok {
		return cloneDefinition(ix.st.roles[slot].def), true
	}
	key := strings.ToLower(strings.TrimSpace(name))
	var found *compiledRole
	for _, r := range ix.st.roles {
		if r != nil && r.nameKey == key && (found == nil || r.def.TenantID < found.def.TenantID) {
			found = r
		}
	}
	if found == nil {
		return domain.RoleDefinition{}, false
	}
	return cloneDefinition(found.def), true
}

// DefinitionByNameIn returns the role definition named name,
// case-insensitively, that tenantID can see: a built-in, or else the
// tenant's custom role of that name.
func (ix *Index) DefinitionByNameIn(tenantID, name string) (domain.RoleDefinition, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, key := range []string{nameKey("", name), nameKey(tenantID, name)} {
		if slot, ok := ix.st.roleByName[key]; ok {
			return cloneDefinition(ix.st.roles[slot].def), true
		}
	}
	return domain.RoleDefinition{}, false
}

// Definitions returns every role definition: built-ins first in their file
// order, then custom roles by name.
func (ix *Index) Definitions() []domain.RoleDefinition {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var builtIn, custom []*compiledRole
	for _, r := range ix.st.roles {
		switch {
		case r == nil:
		case r.builtIn:
			builtIn = append(builtIn, r)
		default:
			custom = append(custom, r)
		}
	}
	slices.SortFunc(custom, func(a, b *compiledRole) int { return strings.Compare(a.nameKey, b.nameKey) })
	out := make([]domain.RoleDefinition, 0, len(builtIn)+len(custom))
	for _, r := range append(builtIn, custom...) {
		out = append(out, cloneDefinition(r.def))
	}
	return out
}

// Assignment returns a role assignment by id.
func (ix *Index) Assignment(id string) (domain.RoleAssignment, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if slot, ok := ix.st.assignByID[lowerKey(id)]; ok {
		return ix.st.assignment(slot), true
	}
	return domain.RoleAssignment{}, false
}

// Assignments returns every role assignment, in no particular order.
func (ix *Index) Assignments() []domain.RoleAssignment {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]domain.RoleAssignment, 0, ix.st.live)
	for slot, r := range ix.st.records {
		if r.subject != noSlot {
			out = append(out, ix.st.assignment(uint32(slot)))
		}
	}
	return out
}

// AssignmentsFor returns the assignments held directly by principalID (not
// through its groups), by scope.
func (ix *Index) AssignmentsFor(principalID string) []domain.RoleAssignment {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := ix.st
	slot, ok := st.subjectID[lowerKey(principalID)]
	if !ok {
		return nil
	}
	out := make([]domain.RoleAssignment, 0, len(st.subjects[slot].entries))
	for _, e := range st.subjects[slot].entries {
		out = append(out, st.assignment(e.slot))
	}
	return out
}

// RoleAssignmentCount returns how many assignments reference a role
// definition (by GUID or ARM id), defined or not: a role in use must not be
// deleted.
func (ix *Index) RoleAssignmentCount(roleID string) int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if slot, ok := ix.st.roleByID[strings.ToLower(roleGUID(roleID))]; ok {
		return ix.st.roleUses[slot]
	}
	return 0
}

// Stats counts what the Index holds.
type Stats struct {
	Roles       int // defined roles, built-in and custom
	Assignments int
	Subjects    int // principals and groups seen in assignments or memberships
	Scopes      int // distinct scopes with assignments (plus the root)
}

// Stats returns the current counts.
func (ix *Index) Stats() Stats {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := ix.st
	roles := 0
	for _, r := range st.roles {
		if r != nil {
			roles++
		}
	}
	return Stats{Roles: roles, Assignments: st.live, Subjects: len(st.subjects), Scopes: len(st.scopes)}
}

// SuggestRoles returns the roles (built-in and custom) that grant action,
// least privileged first, to explain a denial ("you need one of ...").
//
// "Least privileged" is a heuristic, in order: roles that neither hold a
// wildcard-everything Action ("*") nor can write role assignments (and so
// grant themselves anything) come first, then roles with one of the two,
// then those with both (Owner); then fewer patterns that reach every
// provider ("*/read"); then the role whose granting pattern is more specific
// (a longer fixed prefix before its first wildcard, an exact name beating any
// wildcard); then more NotActions; then fewer patterns; then the name.
// roleAssignmentsWrite is the operation that lets a holder grant itself any
// role, the mark of a privileged role.
const roleAssignmentsWrite = "microsoft.authorization/roleassignments/write"

func (ix *Index) SuggestRoles(action string, data bool) []domain.RoleDefinition {
	pl := planeOf(data)
	act := strings.ToLower(action)
	type cand struct {
		r                               *compiledRole
		tier, broad, spec, minus, total int
	}
	var cands []cand
	ix.mu.RLock()
	for _, r := range ix.st.roles {
		if r == nil {
			continue
		}
		p := r.grantingPattern(act, pl)
		if p == nil {
			continue
		}
		c := cand{r: r, spec: p.literalPrefix()}
		if r.grantingPattern(roleAssignmentsWrite, control) != nil {
			c.tier++
		}
		for i := range r.blocks {
			if slices.ContainsFunc(r.blocks[i].allow[control], func(a pattern) bool { return strings.Trim(a.text, "*") == "" }) {
				c.tier++
				break
			}
		}
		for i := range r.blocks {
			for _, a := range r.blocks[i].allow[pl] {
				if strings.HasPrefix(a.text, "*") {
					c.broad++
				}
			}
			c.total += len(r.blocks[i].allow[pl])
			c.minus += len(r.blocks[i].deny[pl])
		}
		cands = append(cands, c)
	}
	ix.mu.RUnlock()
	slices.SortFunc(cands, func(a, b cand) int {
		return cmp.Or(
			cmp.Compare(a.tier, b.tier),
			cmp.Compare(a.broad, b.broad),
			cmp.Compare(b.spec, a.spec),
			cmp.Compare(b.minus, a.minus),
			cmp.Compare(a.total, b.total),
			strings.Compare(a.r.nameKey, b.r.nameKey),
		)
	})
	out := make([]domain.RoleDefinition, len(cands))
	for i, c := range cands {
		out[i] = cloneDefinition(c.r.def)
	}
	return out
}
