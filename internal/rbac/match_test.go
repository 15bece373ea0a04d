package rbac

import (
	"strconv"
	"testing"

	"github.com/tessera-id/tessera/internal/domain"
)

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "Microsoft.Foo/bars/write", true},
		{"*", "", true},
		{"*/read", "Microsoft.Foo/bars/read", true},
		{"*/read", "Microsoft.Foo/bars/write", false},
		{"*/read", "Microsoft.Foo/bars/readKeys/action", false},
		{"*/read", "Microsoft.Foo/bars/unread", false},
		{"Microsoft.Foo/bars/read", "microsoft.foo/BARS/read", true},
		{"Microsoft.Foo/bars/read", "Microsoft.Foo/bars/read2", false},
		{"Microsoft.Foo/bars/read", "Microsoft.Foo/bars", false},
		{"Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", true},
		{"Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/read", false},
		{"Microsoft.Authorization/*", "Microsoft.Authorization/roleAssignments/write", true},
		{"Microsoft.Authorization/*", "Microsoft.AuthorizationX/roleAssignments/write", false},
		{"Microsoft.MachineLearningServices/workspaces/*/read", "Microsoft.MachineLearningServices/workspaces/computes/read", true},
		{"Microsoft.MachineLearningServices/workspaces/*/read", "Microsoft.MachineLearningServices/workspaces/models/versions/read", true},
		// A whole-segment "*" may also match no segment (see pattern).
		{"Microsoft.MachineLearningServices/workspaces/*/read", "Microsoft.MachineLearningServices/workspaces/read", true},
		{"Microsoft.MachineLearningServices/workspaces/computes/*/write", "Microsoft.MachineLearningServices/workspaces/computes/write", true},
		{"Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", true},
		{"a/*/*/b", "a/b", true},
		{"a/*/*/b", "a/x/b", true},
		{"a/*/b", "a/xb", false},
		{"a/*/b", "ab", false},
		{"a/*/b", "a//b", true},
		// A "*" that is not a whole segment matches characters only.
		{"Microsoft.Foo/bar*/read", "Microsoft.Foo/bars/read", true},
		{"Microsoft.Foo/bar*/read", "Microsoft.Foo/bar/read", true},
		{"Microsoft.Foo/bar*/read", "Microsoft.Foo/read", false},
		{"Microsoft.Foo/*s/read", "Microsoft.Foo/bars/read", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "acb", false},
		{"ab*ba", "aba", false}, // prefix and suffix must not overlap
		{"**", "anything", true},
	}
	for _, tt := range tests {
		p := compilePattern(tt.pattern)
		if got := p.match(lowerKey(tt.action)); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.action, got, tt.want)
		}
	}
}

func role(blocks ...domain.Permission) *compiledRole {
	return compileRole(domain.RoleDefinition{ID: "r", RoleName: "r", Permissions: blocks}, false)
}

func TestRolePermits(t *testing.T) {
	tests := []struct {
		name   string
		role   *compiledRole
		action string
		data   bool
		want   bool
	}{
		{"actions grant", role(domain.Permission{Actions: []string{"A/b/*"}}), "a/b/write", false, true},
		{"notActions subtract", role(domain.Permission{Actions: []string{"A/b/*"}, NotActions: []string{"a/b/write"}}), "a/b/write", false, false},
		{"notActions of another block do not subtract",
			role(domain.Permission{Actions: []string{"A/b/*"}, NotActions: []string{"a/b/write"}}, domain.Permission{Actions: []string{"a/b/write"}}),
			"a/b/write", false, true},
		{"notActions alone grant nothing", role(domain.Permission{NotActions: []string{"*"}}), "a/b/write", false, false},
		{"actions do not grant data actions", role(domain.Permission{Actions: []string{"*"}}), "a/b/read", true, false},
		{"data actions do not grant actions", role(domain.Permission{DataActions: []string{"*"}}), "a/b/read", false, false},
		{"data actions grant data actions", role(domain.Permission{DataActions: []string{"a/*"}}), "a/b/read", true, true},
		{"notDataActions subtract", role(domain.Permission{DataActions: []string{"a/*"}, NotDataActions: []string{"A/B/READ"}}), "a/b/read", true, false},
		{"notDataActions do not touch actions", role(domain.Permission{Actions: []string{"a/*"}, NotDataActions: []string{"a/b/read"}}), "a/b/read", false, true},
		{"empty patterns are ignored", role(domain.Permission{Actions: []string{"", " "}}), "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Twice: the second answer comes from the cache.
			for range 2 {
				if got := tt.role.permits(tt.action, planeOf(tt.data)); got != tt.want {
					t.Errorf("permits(%q, data=%v) = %v, want %v", tt.action, tt.data, got, tt.want)
				}
			}
		})
	}
}

func TestActionCacheIsBounded(t *testing.T) {
	r := role(domain.Permission{Actions: []string{"*"}})
	for i := range maxCachedActions + 100 {
		r.permits("Microsoft.Foo/bars/"+strconv.Itoa(i)+"/read", control)
	}
	if n := r.cache[control].n.Load(); n != maxCachedActions {
		t.Errorf("cache holds %d actions, want the bound %d", n, maxCachedActions)
	}
	if !r.permits("Microsoft.Foo/uncached/read", control) {
		t.Error("a decision past the cache bound is wrong")
	}
}
