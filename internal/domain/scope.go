package domain

import (
	"errors"
	"fmt"
	"strings"
)

// ARM compares ids case-insensitively, so every comparison here works on the
// canonical (lower-case) form, while ParseResourceID keeps the caller's casing
// because ARM echoes ids back as they were created.

// RootScope is the tenant root, the ancestor of every scope.
const RootScope = "/"

// ErrInvalidResourceID reports an id that does not have ARM's shape.
var ErrInvalidResourceID = errors.New("invalid resource id")

// CanonicalScope returns s lower-cased, with one leading slash, duplicate
// slashes collapsed and no trailing slash; the empty string and "/" are the
// root.
func CanonicalScope(s string) string {
	if isCanonical(s) {
		return s
	}
	b := make([]byte, len(s)+1)
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return canonicalUnicode(s)
		}
		if c == '/' {
			continue
		}
		if i == 0 || s[i-1] == '/' {
			b[n] = '/'
			n++
		}
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		b[n] = c
		n++
	}
	if n == 0 {
		return RootScope
	}
	return string(b[:n])
}

// canonicalUnicode is CanonicalScope for the rare id with non-ASCII names.
func canonicalUnicode(s string) string {
	var b strings.Builder
	for _, seg := range strings.Split(s, "/") {
		if seg != "" {
			b.WriteByte('/')
			b.WriteString(seg)
		}
	}
	if b.Len() == 0 {
		return RootScope
	}
	return strings.ToLower(b.String())
}

// isCanonical lets the hot path (scopes that are already canonical) skip the
// allocation.
func isCanonical(s string) bool {
	if s == RootScope {
		return true
	}
	if len(s) < 2 || s[0] != '/' || s[len(s)-1] == '/' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 0x80 || c == '/' && s[i-1] == '/' {
			return false
		}
	}
	return true
}

// segmentStarts returns the offset of each segment of a canonical scope
// (just past its slash); segment k is c[starts[k]:end(k)].
func segmentStarts(c string, buf []int) []int {
	starts := buf[:0]
	if c == RootScope {
		return starts
	}
	for i := 0; i < len(c); i++ {
		if c[i] == '/' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// scopeLevels returns, for a canonical scope split at starts, the segment
// count at the end of each level of the hierarchy (the root, at 0 segments,
// is implied). A level is a subscription, a resource group, a provider block
// with its first type/name pair, or a further type/name pair (a child
// resource, or an extension resource under a new "providers"). Keywords are
// recognised only where ARM puts them, so a resource group or a resource
// named "providers" does not confuse it. Incomplete trailing parts (a
// collection path such as ".../workspaces/w/computes") form a level of their
// own rather than failing, which keeps ParentScope total.
func scopeLevels(c string, starts []int, buf []int) []int {
	n := len(starts)
	seg := func(k int) string {
		if k+1 < n {
			return c[starts[k] : starts[k+1]-1]
		}
		return c[starts[k]:]
	}
	levels := buf[:0]
	i := 0
	if n >= 2 && seg(0) == "subscriptions" {
		i = 2
		levels = append(levels, i)
		if i+1 < n && seg(i) == "resourcegroups" {
			i += 2
			levels = append(levels, i)
		}
	}
	for i < n {
		step := 2
		if seg(i) == "providers" {
			step = 4 // providers/{namespace}/{type}/{name}
		}
		i = min(i+step, n)
		levels = append(levels, i)
	}
	return levels
}

// prefixAt returns the canonical scope made of the first k segments.
func prefixAt(c string, starts []int, k int) string {
	if k == 0 {
		return RootScope
	}
	if k < len(starts) {
		return c[:starts[k]-1]
	}
	return c
}

// ParentScope returns the canonical scope directly above s in ARM's
// hierarchy, and false for the root.
func ParentScope(s string) (string, bool) {
	c := CanonicalScope(s)
	if c == RootScope {
		return "", false
	}
	var sbuf, lbuf [32]int
	starts := segmentStarts(c, sbuf[:0])
	levels := scopeLevels(c, starts, lbuf[:0])
	if len(levels) < 2 {
		return RootScope, true
	}
	return prefixAt(c, starts, levels[len(levels)-2]), true
}

// ScopeAncestors returns s (canonical) followed by each ancestor, nearest
// first, ending with "/". The elements share the memory of the canonical
// string.
func ScopeAncestors(s string) []string {
	return AppendScopeAncestors(make([]string, 0, 8), s)
}

// AppendScopeAncestors is ScopeAncestors appending to dst, for hot paths
// that keep dst on the stack.
func AppendScopeAncestors(dst []string, s string) []string {
	c := CanonicalScope(s)
	if c == RootScope {
		return append(dst, RootScope)
	}
	var sbuf, lbuf [32]int
	starts := segmentStarts(c, sbuf[:0])
	levels := scopeLevels(c, starts, lbuf[:0])
	for i := len(levels) - 1; i >= 0; i-- {
		dst = append(dst, prefixAt(c, starts, levels[i]))
	}
	return append(dst, RootScope)
}

// IsScopeWithin reports whether scope is ancestor or lies below it, comparing
// whole segments case-insensitively ("/subscriptions/a" is not within
// "/subscriptions/ab").
func IsScopeWithin(scope, ancestor string) bool {
	return CanonicalWithin(CanonicalScope(scope), CanonicalScope(ancestor))
}

// CanonicalWithin is IsScopeWithin for arguments already in canonical form;
// it does not allocate.
func CanonicalWithin(scope, ancestor string) bool {
	if ancestor == RootScope || scope == ancestor {
		return true
	}
	return len(scope) > len(ancestor) && scope[len(ancestor)] == '/' && scope[:len(ancestor)] == ancestor
}

// ResourceID is a parsed ARM resource id.
//
// Provider, Types and Names describe the resource after the last "providers"
// segment, so an extension resource (a role assignment on a workspace) is
// described as itself, not as the resource it is attached to; subscriptions
// and resource groups are described as Microsoft.Resources types. A
// collection path (a type without a name, as in a list request or a POST
// action) parses with one more type than names.
type ResourceID struct {
	SubscriptionID string
	ResourceGroup  string
	// Provider is the resource provider namespace, e.g. Microsoft.MachineLearningServices.
	Provider string
	// Types are the type segments, e.g. ["workspaces", "computes"].
	Types []string
	// Names are the instance names, e.g. ["w", "c"].
	Names []string
}

// OperationType is the resource type as operation names spell it, e.g.
// "Microsoft.MachineLearningServices/workspaces/computes"; append "/read",
// "/write", "/delete" or "/action" to get the operation.
func (r ResourceID) OperationType() string {
	if len(r.Types) == 0 {
		return r.Provider
	}
	return r.Provider + "/" + strings.Join(r.Types, "/")
}

// Name is the resource's own name (the last instance name), or "" for a
// collection.
func (r ResourceID) Name() string {
	if len(r.Names) == 0 || len(r.Names) < len(r.Types) {
		return ""
	}
	return r.Names[len(r.Names)-1]
}

// ParseResourceID parses an ARM resource id (or a collection path) keeping
// its casing. Empty segments are absent, as ARM reads them; a "." or ".."
// segment is refused, not taken for a type or a name: an id holding one
// names something no client can address, since clients resolve dot
// segments before sending a path. Errors wrap ErrInvalidResourceID.
func ParseResourceID(id string) (ResourceID, error) {
	var segs []string
	for _, seg := range strings.Split(id, "/") {
		switch seg {
		case "":
		case ".", "..":
			return ResourceID{}, fmt.Errorf("%w: %q has a %q segment", ErrInvalidResourceID, id, seg)
		default:
			segs = append(segs, seg)
		}
	}
	if len(segs) == 0 {
		return ResourceID{}, fmt.Errorf("%w: %q has no resource type", ErrInvalidResourceID, id)
	}
	if !strings.HasPrefix(id, "/") {
		return ResourceID{}, fmt.Errorf("%w: %q does not start with a slash", ErrInvalidResourceID, id)
	}
	var r ResourceID
	i := 0
	switch {
	case strings.EqualFold(segs[0], "subscriptions"):
		r.Provider = "Microsoft.Resources"
		r.Types = []string{"subscriptions"}
		if len(segs) >= 2 {
			r.SubscriptionID = segs[1]
			r.Names = []string{segs[1]}
		}
		i = 2
		if len(segs) >= 3 && strings.EqualFold(segs[2], "resourcegroups") {
			r.Types = append(r.Types, "resourceGroups")
			if len(segs) >= 4 {
				r.ResourceGroup = segs[3]
				r.Names = append(r.Names, segs[3])
			}
			i = 4
		}
	case strings.EqualFold(segs[0], "providers"):
	default:
		return ResourceID{}, fmt.Errorf("%w: %q starts with neither /subscriptions nor /providers", ErrInvalidResourceID, id)
	}
	for i < len(segs) {
		if strings.EqualFold(segs[i], "providers") {
			if i+1 >= len(segs) {
				return ResourceID{}, fmt.Errorf("%w: %q has no provider namespace", ErrInvalidResourceID, id)
			}
			r.Provider = segs[i+1]
			r.Types, r.Names = nil, nil
			i += 2
			continue
		}
		// A type/name pair: a child of the current provider's resource, or,
		// before any provider block, a Microsoft.Resources child of the
		// subscription or resource group (locations, resources, tagNames).
		r.Types = append(r.Types, segs[i])
		if i+1 < len(segs) {
			r.Names = append(r.Names, segs[i+1])
		}
		i += 2
	}
	return r, nil
}
