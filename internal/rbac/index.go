package rbac

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

// Index is RBAC data arranged for fast decisions. It is safe for concurrent
// use: decisions share a read lock and never wait for each other; writes
// (rare next to decisions) take the write lock briefly, and Load builds its
// replacement without holding it.
//
// Values returned by Decide share the Index's slices (a role's permission
// lists); treat them as read-only. Every other accessor returns copies.
// Returned assignments carry their times in UTC and their principal id
// lower-cased; the other fields are as they were put.
type Index struct {
	mu sync.RWMutex
	st *state
}

// Decision is the outcome of Decide. When Allowed, Assignment and Role name
// the grant: when several assignments grant the action the one at the nearest
// scope wins, then the role name and the assignment id break ties.
type Decision struct {
	Allowed    bool
	Assignment domain.RoleAssignment
	Role       domain.RoleDefinition
}

// noSlot marks a free assignment slot and the root scope's missing parent.
const noSlot = ^uint32(0)

// state is everything behind the lock. Identifiers are interned into dense
// uint32 slots, and assignments are stored as pointer-free records, so that a
// million of them cost tens of MiB and the garbage collector has next to
// nothing to scan.
type state struct {
	roles      []*compiledRole   // by role slot; nil until defined, or once deleted
	roleUses   []int             // by role slot: assignments referencing it
	roleByID   map[string]uint32 // lower-case GUID → slot, also for roles only referenced so far
	roleByName map[string]uint32 // nameKey(tenant, name) → slot of a defined role

	// Every interned scope has its whole ancestor chain interned too, so a
	// scope's parent is always a slot and a decision walks parents instead
	// of looking each ancestor up.
	scopes      []string // by scope slot: canonical scope
	scopeParent []uint32 // by scope slot
	scopeIDs    map[string]uint32

	// subjects are held by value, sparing a decision one pointer chase
	// per subject; their memoised group closures live apart because they
	// are written under the read lock.
	subjects  []subject                 // by subject slot: principals and groups alike
	closures  []atomic.Pointer[closure] // by subject slot
	subjectID map[string]uint32         // lower-case object id → slot

	records      []record          // by assignment slot
	ids          []string          // by assignment slot: the id as given
	descriptions map[uint32]string // by assignment slot, only the non-empty ones
	free         []uint32          // free assignment slots
	assignByID   map[string]uint32 // lower-case assignment id → slot
	live         int

	// strs interns the repeated strings of assignments (the scope and role
	// id as given, tenant, principal type, creator); slot 0 is "".
	strs   []string
	strIDs map[string]uint32

	// gen invalidates the memoised group closures: it changes whenever a
	// membership edge does.
	gen uint64
}

// record is one role assignment, without pointers.
type record struct {
	subject                                       uint32 // noSlot when free
	role                                          uint32
	scope                                         uint32
	givenScope, givenRole, tenant, ptype, creator uint32 // into strs
	createdNsec, updatedNsec                      uint32
	createdSec, updatedSec                        int64
}

// entry is an assignment as its subject's list holds it.
type entry struct {
	scope uint32
	role  uint32
	slot  uint32 // into state.records
}

// subject is a principal (user, service principal, managed identity) or a
// group: anything that can hold assignments or be a member.
type subject struct {
	key     string
	entries []entry  // sorted by scope, then slot
	groups  []uint32 // groups it is a direct member of
}

// closure memoises a subject's transitive groups; it is written by readers
// under the read lock, hence atomic, and valid while gen matches.
type closure struct {
	gen    uint64
	groups []uint32
}

// New returns an Index holding the built-in roles and nothing else.
func New() *Index {
	return &Index{st: newState(0, 0)}
}

func newState(assignments, subjects int) *state {
	st := &state{
		roleByID:     map[string]uint32{},
		roleByName:   map[string]uint32{},
		scopeIDs:     map[string]uint32{},
		subjectID:    make(map[string]uint32, subjects),
		records:      make([]record, 0, assignments),
		ids:          make([]string, 0, assignments),
		descriptions: map[uint32]string{},
		assignByID:   make(map[string]uint32, assignments),
		strs:         []string{""},
		strIDs:       map[string]uint32{"": 0},
	}
	for _, d := range loadBuiltins().list {
		slot := st.roleSlot(strings.ToLower(d.ID))
		st.roles[slot] = compileRole(d, true)
		st.roleByName[nameKey("", d.RoleName)] = slot
	}
	st.scopeSlot(domain.RootScope)
	return st
}

// Load replaces the whole contents with the given data (built-in roles are
// always present). The new state is built aside and swapped in at once, so
// decisions meanwhile see the old data. Invalid records are skipped and
// reported together in the error; the valid rest is loaded regardless. Of
// assignments sharing an id the last one wins. Definitions carrying a
// built-in role's id are taken to be copies of it and ignored.
func (ix *Index) Load(defs []domain.RoleDefinition, assignments []domain.RoleAssignment, memberships []domain.GroupMembership) error {
	st := newState(len(assignments), len(assignments)/8)
	var errs []error
	for _, d := range defs {
		if isBuiltInID(d.ID) {
			continue
		}
		if err := st.putDefinition(d); err != nil {
			errs = append(errs, err)
		}
	}
	for _, m := range memberships {
		if err := st.addMembership(m); err != nil {
			errs = append(errs, err)
		}
	}

	// Slot i holds assignments[i]; invalid ones leave a free slot.
	valid := make([]bool, len(assignments))
	for i, a := range assignments {
		if err := validateAssignment(a); err != nil {
			errs = append(errs, err)
		} else {
			valid[i] = true
		}
	}
	// The id map is independent of the rest and, at a million random keys,
	// as costly as all of it: build it alongside.
	var replaced []uint32
	var wg sync.WaitGroup
	wg.Go(func() {
		for i, a := range assignments {
			if !valid[i] {
				continue
			}
			key := lowerKey(a.ID)
			if old, ok := st.assignByID[key]; ok {
				replaced = append(replaced, old)
			}
			st.assignByID[key] = uint32(i)
		}
	})

	type ref struct{ canonical, given uint32 }
	scopeOf := map[string]ref{} // rows repeat scopes: canonicalise each once
	roleOf := map[string]ref{}
	type owned struct {
		subject uint32
		e       entry
	}
	all := make([]owned, 0, len(assignments))
	st.records = st.records[:len(assignments)]
	st.ids = st.ids[:len(assignments)]
	for i, a := range assignments {
		if !valid[i] {
			st.records[i] = record{subject: noSlot}
			st.free = append(st.free, uint32(i))
			continue
		}
		sc, ok := scopeOf[a.Scope]
		if !ok {
			sc = ref{st.scopeSlot(domain.CanonicalScope(a.Scope)), st.str(a.Scope)}
			scopeOf[a.Scope] = sc
		}
		rl, ok := roleOf[a.RoleDefinitionID]
		if !ok {
			rl = ref{st.roleSlot(lowerKey(roleGUID(a.RoleDefinitionID))), st.str(a.RoleDefinitionID)}
			roleOf[a.RoleDefinitionID] = rl
		}
		rec := st.newRecord(a, sc.canonical, sc.given, rl.canonical, rl.given)
		st.records[i], st.ids[i] = rec, a.ID
		if a.Description != "" {
			st.descriptions[uint32(i)] = a.Description
		}
		all = append(all, owned{rec.subject, entry{scope: rec.scope, role: rec.role, slot: uint32(i)}})
		st.roleUses[rec.role]++
		st.live++
	}
	// Grouping by sorting one array, then slicing it per subject, touches
	// memory in order instead of appending to 100,000 scattered lists.
	slices.SortFunc(all, func(a, b owned) int { return cmp.Or(cmp.Compare(a.subject, b.subject), compareEntries(a.e, b.e)) })
	entries := make([]entry, len(all))
	for i := range all {
		entries[i] = all[i].e
	}
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].subject == all[i].subject {
			j++
		}
		st.subjects[all[i].subject].entries = entries[i:j:j] // full: a later append copies
		i = j
	}
	wg.Wait()
	for _, slot := range replaced {
		st.deleteAssignment(slot)
	}

	ix.mu.Lock()
	ix.st = st
	ix.mu.Unlock()
	return errors.Join(errs...)
}

func compareEntries(a, b entry) int {
	return cmp.Or(cmp.Compare(a.scope, b.scope), cmp.Compare(a.slot, b.slot))
}

// lowerKey lower-cases ASCII ids, without allocating when they already are.
func lowerKey(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// nameKey is the uniqueness key of a role name: names are unique within a
// tenant (built-ins, with no tenant, are reserved in all of them).
func nameKey(tenantID, roleName string) string {
	return strings.ToLower(tenantID) + "\x00" + strings.ToLower(strings.TrimSpace(roleName))
}

func (st *state) roleSlot(key string) uint32 {
	if slot, ok := st.roleByID[key]; ok {
		return slot
	}
	slot := uint32(len(st.roles))
	st.roles = append(st.roles, nil)
	st.roleUses = append(st.roleUses, 0)
	st.roleByID[key] = slot
	return slot
}

// scopeSlot interns a canonical scope together with its ancestors.
func (st *state) scopeSlot(canonical string) uint32 {
	if slot, ok := st.scopeIDs[canonical]; ok {
		return slot
	}
	parent := noSlot
	if p, ok := domain.ParentScope(canonical); ok {
		parent = st.scopeSlot(p)
	}
	slot := uint32(len(st.scopes))
	st.scopes = append(st.scopes, canonical)
	st.scopeParent = append(st.scopeParent, parent)
	st.scopeIDs[canonical] = slot
	return slot
}

func (st *state) subjectSlot(id string) uint32 {
	key := lowerKey(id)
	if slot, ok := st.subjectID[key]; ok {
		return slot
	}
	slot := uint32(len(st.subjects))
	st.subjects = append(st.subjects, subject{key: key})
	st.closures = append(st.closures, atomic.Pointer[closure]{})
	st.subjectID[key] = slot
	return slot
}

func (st *state) str(s string) uint32 {
	if slot, ok := st.strIDs[s]; ok {
		return slot
	}
	slot := uint32(len(st.strs))
	st.strs = append(st.strs, s)
	st.strIDs[s] = slot
	return slot
}

// PutDefinition adds or replaces a custom role definition. Built-in roles
// cannot be replaced, and a role name is unique (case-insensitively) among a
// tenant's custom roles and the built-ins, as in Azure.
func (ix *Index) PutDefinition(def domain.RoleDefinition) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.st.putDefinition(def)
}

func (st *state) putDefinition(def domain.RoleDefinition) error {
	def.ID = roleGUID(def.ID)
	switch {
	case def.ID == "":
		return errors.New("rbac: role definition without an id")
	case isBuiltInID(def.ID):
		return fmt.Errorf("rbac: role definition %s is built in", def.ID)
	case def.Type == domain.RoleTypeBuiltIn:
		return fmt.Errorf("rbac: role definition %s claims to be built in but is not", def.ID)
	case strings.TrimSpace(def.RoleName) == "":
		return fmt.Errorf("rbac: role definition %s has no name", def.ID)
	case len(def.AssignableScopes) == 0:
		return fmt.Errorf("rbac: role definition %s has no assignable scopes", def.ID)
	}
	if def.Type == "" {
		def.Type = domain.RoleTypeCustom
	}
	slot := st.roleSlot(strings.ToLower(def.ID))
	name := nameKey(def.TenantID, def.RoleName)
	for _, key := range []string{nameKey("", def.RoleName), name} {
		if other, ok := st.roleByName[key]; ok && other != slot {
			return fmt.Errorf("rbac: role name %q is already used by role %s", def.RoleName, st.roles[other].def.ID)
		}
	}
	if old := st.roles[slot]; old != nil {
		delete(st.roleByName, nameKey(old.def.TenantID, old.def.RoleName))
	}
	st.roles[slot] = compileRole(def, false)
	st.roleByName[name] = slot
	return nil
}

// DeleteDefinition removes a custom role definition; assignments of it stay
// but grant nothing. Built-in roles cannot be deleted. It reports whether the
// role existed.
func (ix *Index) DeleteDefinition(id string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	st := ix.st
	slot, ok := st.roleByID[strings.ToLower(roleGUID(id))]
	if !ok || st.roles[slot] == nil || st.roles[slot].builtIn {
		return false
	}
	delete(st.roleByName, nameKey(st.roles[slot].def.TenantID, st.roles[slot].def.RoleName))
	st.roles[slot] = nil
	return true
}

func validateAssignment(a domain.RoleAssignment) error {
	switch {
	case a.ID == "":
		return errors.New("rbac: role assignment without an id")
	case a.PrincipalID == "":
		return fmt.Errorf("rbac: role assignment %s has no principal", a.ID)
	case roleGUID(a.RoleDefinitionID) == "":
		return fmt.Errorf("rbac: role assignment %s has no role definition", a.ID)
	case a.Scope != domain.RootScope && strings.Trim(a.Scope, "/") == "":
		// An empty scope must not silently become the tenant root.
		return fmt.Errorf("rbac: role assignment %s has no scope", a.ID)
	}
	return nil
}

// PutAssignment adds or replaces (by id) a role assignment. The role need not
// be defined yet; until it is, the assignment grants nothing.
func (ix *Index) PutAssignment(a domain.RoleAssignment) error {
	if err := validateAssignment(a); err != nil {
		return err
	}
	scope := domain.CanonicalScope(a.Scope)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.st.putAssignment(a, ix.st.scopeSlot(scope))
	return nil
}

// newRecord interns the parts of a that repeat across assignments.
func (st *state) newRecord(a domain.RoleAssignment, scope, givenScope, role, givenRole uint32) record {
	r := record{
		subject:    st.subjectSlot(a.PrincipalID),
		role:       role,
		scope:      scope,
		givenScope: givenScope,
		givenRole:  givenRole,
		tenant:     st.str(a.TenantID),
		ptype:      st.str(a.PrincipalType),
		creator:    st.str(a.CreatedBy),
	}
	r.createdSec, r.createdNsec = stamp(a.CreatedAt)
	r.updatedSec, r.updatedNsec = stamp(a.UpdatedAt)
	return r
}

// putAssignment stores a, replacing any assignment with its id, and keeps
// its subject's list sorted.
func (st *state) putAssignment(a domain.RoleAssignment, scope uint32) {
	key := lowerKey(a.ID)
	if old, ok := st.assignByID[key]; ok {
		st.deleteAssignment(old)
	}
	rec := st.newRecord(a, scope, st.str(a.Scope), st.roleSlot(lowerKey(roleGUID(a.RoleDefinitionID))), st.str(a.RoleDefinitionID))
	var slot uint32
	if n := len(st.free); n > 0 {
		slot = st.free[n-1]
		st.free = st.free[:n-1]
		st.records[slot], st.ids[slot] = rec, a.ID
	} else {
		slot = uint32(len(st.records))
		st.records = append(st.records, rec)
		st.ids = append(st.ids, a.ID)
	}
	if a.Description != "" {
		st.descriptions[slot] = a.Description
	}
	st.assignByID[key] = slot
	st.roleUses[rec.role]++
	st.live++
	e := entry{scope: scope, role: rec.role, slot: slot}
	s := &st.subjects[rec.subject]
	i, _ := slices.BinarySearchFunc(s.entries, e, compareEntries)
	s.entries = slices.Insert(s.entries, i, e)
}

// stamp keeps a time as seconds and nanoseconds: unlike time.Time it holds
// no pointer, and the zero time survives the round trip.
func stamp(t time.Time) (int64, uint32) { return t.Unix(), uint32(t.Nanosecond()) }

func unstamp(sec int64, nsec uint32) time.Time { return time.Unix(sec, int64(nsec)).UTC() }

// assignment rebuilds the domain value of a used slot.
func (st *state) assignment(slot uint32) domain.RoleAssignment {
	r := &st.records[slot]
	return domain.RoleAssignment{
		ID:               st.ids[slot],
		TenantID:         st.strs[r.tenant],
		Scope:            st.strs[r.givenScope],
		RoleDefinitionID: st.strs[r.givenRole],
		PrincipalID:      st.subjects[r.subject].key,
		PrincipalType:    st.strs[r.ptype],
		Description:      st.descriptions[slot],
		CreatedBy:        st.strs[r.creator],
		CreatedAt:        unstamp(r.createdSec, r.createdNsec),
		UpdatedAt:        unstamp(r.updatedSec, r.updatedNsec),
	}
}

// DeleteAssignment removes a role assignment by id and reports whether it
// existed. The access it granted is gone for every later decision.
func (ix *Index) DeleteAssignment(id string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	slot, ok := ix.st.assignByID[lowerKey(id)]
	if ok {
		ix.st.deleteAssignment(slot)
	}
	return ok
}

func (st *state) deleteAssignment(slot uint32) {
	rec := &st.records[slot]
	s := &st.subjects[rec.subject]
	s.entries = slices.DeleteFunc(s.entries, func(e entry) bool { return e.slot == slot })
	if key := lowerKey(st.ids[slot]); st.assignByID[key] == slot {
		delete(st.assignByID, key) // unless a later duplicate in Load took the id
	}
	delete(st.descriptions, slot)
	st.roleUses[rec.role]--
	*rec = record{subject: noSlot}
	st.ids[slot] = ""
	st.free = append(st.free, slot)
	st.live--
}

// AddMembership records that m.MemberID (a user, service principal or group)
// is a direct member of group m.GroupID. Adding an existing edge is a no-op.
func (ix *Index) AddMembership(m domain.GroupMembership) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.st.addMembership(m)
}

func (st *state) addMembership(m domain.GroupMembership) error {
	if m.GroupID == "" || m.MemberID == "" {
		return fmt.Errorf("rbac: group membership %q ∈ %q lacks an id", m.MemberID, m.GroupID)
	}
	member, group := st.subjectSlot(m.MemberID), st.subjectSlot(m.GroupID)
	s := &st.subjects[member]
	if !slices.Contains(s.groups, group) {
		s.groups = append(s.groups, group)
		st.gen++
	}
	return nil
}

// RemoveMembership deletes a direct membership edge and reports whether it
// existed; access inherited through it is gone for every later decision.
func (ix *Index) RemoveMembership(m domain.GroupMembership) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	st := ix.st
	member, ok1 := st.subjectID[lowerKey(m.MemberID)]
	group, ok2 := st.subjectID[lowerKey(m.GroupID)]
	if !ok1 || !ok2 {
		return false
	}
	s := &st.subjects[member]
	i := slices.Index(s.groups, group)
	if i < 0 {
		return false
	}
	s.groups = slices.Delete(s.groups, i, i+1)
	st.gen++
	return true
}

// groupsOf returns the transitive groups of a subject (not the subject
// itself, even when a cycle leads back to it), memoised per membership
// generation.
func (st *state) groupsOf(subj uint32) []uint32 {
	s := &st.subjects[subj]
	if len(s.groups) == 0 {
		return nil
	}
	if c := st.closures[subj].Load(); c != nil && c.gen == st.gen {
		return c.groups
	}
	seen := map[uint32]bool{subj: true}
	var out []uint32
	queue := slices.Clone(s.groups)
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if seen[g] {
			continue
		}
		seen[g] = true
		out = append(out, g)
		queue = append(queue, st.subjects[g].groups...)
	}
	st.closures[subj].Store(&closure{gen: st.gen, groups: out})
	return out
}

// subjectsOf returns the principal's slot followed by its transitive groups,
// or nil if the principal is unknown.
func (st *state) subjectsOf(principalID string, buf []uint32) []uint32 {
	slot, ok := st.subjectID[lowerKey(principalID)]
	if !ok {
		return nil
	}
	return append(append(buf[:0], slot), st.groupsOf(slot)...)
}

// chain returns the interned scopes at or above scope, nearest first (the
// ancestors nothing is assigned at are not interned and so not needed).
func (st *state) chain(scope string, buf []uint32) []uint32 {
	start := uint32(0) // the root, always interned
	var abuf [16]string
	for _, a := range domain.AppendScopeAncestors(abuf[:0], scope) {
		if slot, ok := st.scopeIDs[a]; ok {
			start = slot
			break
		}
	}
	out := buf[:0]
	for s := start; s != noSlot; s = st.scopeParent[s] {
		out = append(out, s)
	}
	return out
}
