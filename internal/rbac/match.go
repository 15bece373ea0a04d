package rbac

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tessera-id/tessera/internal/domain"
)

// pattern is one Actions/NotActions/DataActions/NotDataActions string,
// lower-cased (operation names are compared case-insensitively, rule 8 of
// operations.md) and split at its wildcards.
//
// A "*" matches any sequence of characters (rule 7). In addition, a "*" that
// is a whole segment ("a/*/b") may match no segment at all ("a/b"). Azure's
// own built-ins only make sense that way: AzureML Data Scientist excludes
// computes creation with "workspaces/computes/*/write", which under the
// plain reading would not cover "workspaces/computes/write"; it and Azure AI
// Developer list "workspaces/write" in NotActions, which their
// "workspaces/*/write" Action would not otherwise reach; and Managed Identity
// Operator's "userAssignedIdentities/*/assign/action" is how that role
// grants "userAssignedIdentities/assign/action".
type pattern struct {
	text string
	// alts are the alternative forms (the original first, then with
	// whole-segment wildcards removed), each split at "*".
	alts [][]string
}

// maxCollapsible bounds the alternatives of a pathological pattern: only the
// first few whole-segment wildcards may match nothing.
const maxCollapsible = 4

func compilePattern(p string) pattern {
	lp := strings.ToLower(p)
	var at []int
	for i := 0; i+3 <= len(lp) && len(at) < maxCollapsible; i++ {
		if lp[i:i+3] == "/*/" {
			at = append(at, i)
			i++ // "/*/*/": the second wildcard starts at the shared slash
		}
	}
	alts := make([][]string, 0, 1<<len(at))
	for mask := 0; mask < 1<<len(at); mask++ {
		var b strings.Builder
		prev := 0
		for k, i := range at {
			if mask&(1<<k) != 0 {
				b.WriteString(lp[prev:i])
				prev = i + 2 // keep the closing slash, drop "/*"
			}
		}
		b.WriteString(lp[prev:])
		alts = append(alts, strings.Split(b.String(), "*"))
	}
	return pattern{text: p, alts: alts}
}

// match reports whether the lower-case action matches.
func (p *pattern) match(action string) bool {
	for _, pieces := range p.alts {
		if globMatch(pieces, action) {
			return true
		}
	}
	return false
}

// globMatch matches s against pieces separated by "*". Taking each middle
// piece at its leftmost occurrence is enough: a later occurrence never leaves
// more room for the pieces after it.
func globMatch(pieces []string, s string) bool {
	if len(pieces) == 1 {
		return s == pieces[0]
	}
	first, last := pieces[0], pieces[len(pieces)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, mid := range pieces[1 : len(pieces)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}

// literalPrefix is how much of the pattern is fixed before its first
// wildcard; an exact name counts as longer than any prefix. It ranks how
// specific a grant is for SuggestRoles.
func (p *pattern) literalPrefix() int {
	if i := strings.IndexByte(p.text, '*'); i >= 0 {
		return i
	}
	return len(p.text) + 1<<16
}

// plane selects control-plane (Actions) or data-plane (DataActions) lists;
// the two are never mixed (operations.md rule 10).
type plane int

const (
	control plane = iota
	dataPlane
)

func planeOf(data bool) plane {
	if data {
		return dataPlane
	}
	return control
}

// block is one compiled permission block. NotActions only subtract from the
// Actions of their own block, as in Azure.
type block struct {
	allow [2][]pattern
	deny  [2][]pattern
}

// permits returns the matching allow pattern, if the block grants action.
func (b *block) permits(action string, pl plane) *pattern {
	var hit *pattern
	for i := range b.allow[pl] {
		if b.allow[pl][i].match(action) {
			hit = &b.allow[pl][i]
			break
		}
	}
	if hit == nil {
		return nil
	}
	for i := range b.deny[pl] {
		if b.deny[pl][i].match(action) {
			return nil
		}
	}
	return hit
}

// maxCachedActions bounds each role's decision cache: action strings come
// from request paths, so a client could otherwise grow it without limit.
// Past the bound decisions are still right, only computed each time.
const maxCachedActions = 4096

// actionCache memoises a role's verdict per action string. Keys are the
// caller's strings as given, so the hot path does not lower-case them.
type actionCache struct {
	m sync.Map // string → bool
	n atomic.Int32
}

func (c *actionCache) get(action string) (verdict, ok bool) {
	v, ok := c.m.Load(action)
	if !ok {
		return false, false
	}
	return v.(bool), true
}

func (c *actionCache) put(action string, verdict bool) {
	if c.n.Load() >= maxCachedActions {
		return
	}
	if _, loaded := c.m.LoadOrStore(action, verdict); !loaded {
		c.n.Add(1)
	}
}

// compiledRole is an immutable role definition ready for matching, plus its
// cache. Replacing a definition replaces the compiledRole, which discards the
// cache with it.
type compiledRole struct {
	def     domain.RoleDefinition // private deep copy
	nameKey string                // lower-case role name
	builtIn bool
	// scopes are the canonical assignable scopes.
	scopes []string
	blocks []block
	cache  [2]actionCache
}

func compileRole(def domain.RoleDefinition, builtIn bool) *compiledRole {
	def = cloneDefinition(def)
	r := &compiledRole{def: def, nameKey: strings.ToLower(strings.TrimSpace(def.RoleName)), builtIn: builtIn}
	for _, s := range def.AssignableScopes {
		r.scopes = append(r.scopes, domain.CanonicalScope(s))
	}
	for _, p := range def.Permissions {
		var b block
		b.allow[control] = compileAll(p.Actions)
		b.deny[control] = compileAll(p.NotActions)
		b.allow[dataPlane] = compileAll(p.DataActions)
		b.deny[dataPlane] = compileAll(p.NotDataActions)
		r.blocks = append(r.blocks, b)
	}
	return r
}

func compileAll(ps []string) []pattern {
	out := make([]pattern, 0, len(ps))
	for _, p := range ps {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, compilePattern(p))
		}
	}
	return out
}

// permits reports whether the role grants action on the given plane.
func (r *compiledRole) permits(action string, pl plane) bool {
	if v, ok := r.cache[pl].get(action); ok {
		return v
	}
	v := r.grantingPattern(strings.ToLower(action), pl) != nil
	r.cache[pl].put(action, v)
	return v
}

// grantingPattern returns the most specific allow pattern through which the
// role grants the lower-case action, or nil.
func (r *compiledRole) grantingPattern(action string, pl plane) *pattern {
	var best *pattern
	for i := range r.blocks {
		if p := r.blocks[i].permits(action, pl); p != nil && (best == nil || p.literalPrefix() > best.literalPrefix()) {
			best = p
		}
	}
	return best
}

// assignableAt reports whether the role may be assigned at the canonical
// scope: built-ins anywhere, custom roles at or below an assignable scope.
func (r *compiledRole) assignableAt(scope string) bool {
	if r.builtIn {
		return true
	}
	for _, s := range r.scopes {
		if domain.CanonicalWithin(scope, s) {
			return true
		}
	}
	return false
}
