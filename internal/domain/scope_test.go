package domain

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	tSub = "/subscriptions/S1"
	tRG  = tSub + "/resourceGroups/RG"
	tWS  = tRG + "/providers/Microsoft.MachineLearningServices/workspaces/W"
	tCmp = tWS + "/computes/C"
)

func TestCanonicalScope(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"//", "/"},
		{"/subscriptions/ABC/", "/subscriptions/abc"},
		{"subscriptions/abc", "/subscriptions/abc"},
		{"/subscriptions//abc///resourceGroups/RG", "/subscriptions/abc/resourcegroups/rg"},
		{"/subscriptions/abc", "/subscriptions/abc"},
		{"/SUBSCRIPTIONS/Ä", "/subscriptions/ä"},
	}
	for _, tt := range tests {
		if got := CanonicalScope(tt.in); got != tt.want {
			t.Errorf("CanonicalScope(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParentScope(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"root", "/", "", false},
		{"empty is root", "", "", false},
		{"subscription", tSub, "/", true},
		{"resource group", tRG, "/subscriptions/s1", true},
		{"resource", tWS, "/subscriptions/s1/resourcegroups/rg", true},
		{"child", tCmp, "/subscriptions/s1/resourcegroups/rg/providers/microsoft.machinelearningservices/workspaces/w", true},
		{"grandchild", tWS + "/models/m/versions/1", "/subscriptions/s1/resourcegroups/rg/providers/microsoft.machinelearningservices/workspaces/w/models/m", true},
		{"subscription-level resource", tSub + "/providers/Microsoft.Foo/bars/b", "/subscriptions/s1", true},
		{"extension on workspace", tWS + "/providers/Microsoft.Authorization/roleAssignments/ra", "/subscriptions/s1/resourcegroups/rg/providers/microsoft.machinelearningservices/workspaces/w", true},
		{"extension on subscription", tSub + "/providers/Microsoft.Authorization/roleAssignments/ra", "/subscriptions/s1", true},
		{"extension on root", "/providers/Microsoft.Authorization/roleAssignments/ra", "/", true},
		{"extension on child", tCmp + "/providers/Microsoft.Authorization/roleAssignments/ra", "/subscriptions/s1/resourcegroups/rg/providers/microsoft.machinelearningservices/workspaces/w/computes/c", true},
		{"resource group named providers", "/subscriptions/s/resourceGroups/providers/providers/NS/t/n", "/subscriptions/s/resourcegroups/providers", true},
		{"resource named providers", tRG + "/providers/NS/t/providers/c/x", "/subscriptions/s1/resourcegroups/rg/providers/ns/t/providers", true},
		{"collection", tWS + "/computes", "/subscriptions/s1/resourcegroups/rg/providers/microsoft.machinelearningservices/workspaces/w", true},
		{"trailing slash and case", "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/", "/subscriptions/s1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParentScope(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParentScope(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestScopeAncestors(t *testing.T) {
	ws := "/subscriptions/s1/resourcegroups/rg/providers/microsoft.machinelearningservices/workspaces/w"
	tests := []struct {
		in   string
		want []string
	}{
		{"/", []string{"/"}},
		{tSub, []string{"/subscriptions/s1", "/"}},
		{tCmp + "/providers/Microsoft.Authorization/roleAssignments/ra", []string{
			ws + "/computes/c/providers/microsoft.authorization/roleassignments/ra",
			ws + "/computes/c",
			ws,
			"/subscriptions/s1/resourcegroups/rg",
			"/subscriptions/s1",
			"/",
		}},
	}
	for _, tt := range tests {
		if got := ScopeAncestors(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ScopeAncestors(%q) =\n%q\nwant\n%q", tt.in, got, tt.want)
		}
	}
	// Every element but the root must agree with ParentScope.
	for _, s := range []string{tCmp, tWS + "/models/m/versions/1", tSub + "/providers/NS/t/n/c/d"} {
		anc := ScopeAncestors(s)
		for i := 0; i+1 < len(anc); i++ {
			if p, _ := ParentScope(anc[i]); p != anc[i+1] {
				t.Errorf("ParentScope(%q) = %q, ScopeAncestors says %q", anc[i], p, anc[i+1])
			}
		}
	}
}

func TestIsScopeWithin(t *testing.T) {
	tests := []struct {
		scope, ancestor string
		want            bool
	}{
		{"/subscriptions/a", "/", true},
		{"/", "/", true},
		{"/", "/subscriptions/a", false},
		{"/subscriptions/a", "/subscriptions/a", true},
		{"/subscriptions/A/", "/subscriptions/a", true},
		{"/subscriptions/ab", "/subscriptions/a", false},
		{"/subscriptions/a/resourceGroups/x", "/subscriptions/a", true},
		{"/subscriptions/a", "/subscriptions/a/resourceGroups/x", false},
		{"/subscriptions/a/resourceGroups/x2", "/subscriptions/a/resourceGroups/x", false},
		{tCmp, tWS, true},
		{tCmp, tRG, true},
		{tWS, tCmp, false},
	}
	for _, tt := range tests {
		if got := IsScopeWithin(tt.scope, tt.ancestor); got != tt.want {
			t.Errorf("IsScopeWithin(%q, %q) = %v, want %v", tt.scope, tt.ancestor, got, tt.want)
		}
	}
}

func TestParseResourceID(t *testing.T) {
	tests := []struct {
		name, in string
		want     ResourceID
		op       string
	}{
		{"subscription", "/subscriptions/S1", ResourceID{SubscriptionID: "S1", Provider: "Microsoft.Resources", Types: []string{"subscriptions"}, Names: []string{"S1"}}, "Microsoft.Resources/subscriptions"},
		{"subscriptions collection", "/subscriptions", ResourceID{Provider: "Microsoft.Resources", Types: []string{"subscriptions"}}, "Microsoft.Resources/subscriptions"},
		{"resource group", "/subscriptions/S1/resourcegroups/RG", ResourceID{SubscriptionID: "S1", ResourceGroup: "RG", Provider: "Microsoft.Resources", Types: []string{"subscriptions", "resourceGroups"}, Names: []string{"S1", "RG"}}, "Microsoft.Resources/subscriptions/resourceGroups"},
		{"resource group collection", "/subscriptions/S1/resourceGroups", ResourceID{SubscriptionID: "S1", Provider: "Microsoft.Resources", Types: []string{"subscriptions", "resourceGroups"}, Names: []string{"S1"}}, "Microsoft.Resources/subscriptions/resourceGroups"},
		{"workspace", tWS, ResourceID{SubscriptionID: "S1", ResourceGroup: "RG", Provider: "Microsoft.MachineLearningServices", Types: []string{"workspaces"}, Names: []string{"W"}}, "Microsoft.MachineLearningServices/workspaces"},
		{"compute", tCmp, ResourceID{SubscriptionID: "S1", ResourceGroup: "RG", Provider: "Microsoft.MachineLearningServices", Types: []string{"workspaces", "computes"}, Names: []string{"W", "C"}}, "Microsoft.MachineLearningServices/workspaces/computes"},
		{"model version", tWS + "/models/m/versions/1", ResourceID{SubscriptionID: "S1", ResourceGroup: "RG", Provider: "Microsoft.MachineLearningServices", Types: []string{"workspaces", "models", "versions"}, Names: []string{"W", "m", "1"}}, "Microsoft.MachineLearningServices/workspaces/models/versions"},
		{"POST action", tWS + "/listKeys", ResourceID{SubscriptionID: "S1", ResourceGroup: "RG", Provider: "Microsoft.MachineLearningServices", Types: []string{"workspaces", "listKeys"}, Names: []string{"W"}}, "Microsoft.MachineLearningServices/workspaces/listKeys"},
		{"role assignment on workspace", tWS + "/providers/Microsoft.Authorization/roleAssignments/G", ResourceID{SubscriptionID: "S1", ResourceGroup: "RG", Provider: "Microsoft.Authorization", Types: []string{"roleAssignments"}, Names: []string{"G"}}, "Microsoft.Authorization/roleAssignments"},
		{"tenant-level", "/providers/Microsoft.Authorization/roleDefinitions/X", ResourceID{Provider: "Microsoft.Authorization", Types: []string{"roleDefinitions"}, Names: []string{"X"}}, "Microsoft.Authorization/roleDefinitions"},
		{"identity", "/subscriptions/S1/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1", ResourceID{SubscriptionID: "S1", ResourceGroup: "RG", Provider: "Microsoft.ManagedIdentity", Types: []string{"userAssignedIdentities"}, Names: []string{"id1"}}, "Microsoft.ManagedIdentity/userAssignedIdentities"},
		{"provider registration", "/subscriptions/S1/providers/Microsoft.MachineLearningServices/register", ResourceID{SubscriptionID: "S1", Provider: "Microsoft.MachineLearningServices", Types: []string{"register"}}, "Microsoft.MachineLearningServices/register"},
		{"subscription locations", "/subscriptions/S1/locations", ResourceID{SubscriptionID: "S1", Provider: "Microsoft.Resources", Types: []string{"subscriptions", "locations"}, Names: []string{"S1"}}, "Microsoft.Resources/subscriptions/locations"},
		{"duplicate slashes", "/subscriptions//S1/", ResourceID{SubscriptionID: "S1", Provider: "Microsoft.Resources", Types: []string{"subscriptions"}, Names: []string{"S1"}}, "Microsoft.Resources/subscriptions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseResourceID(tt.in)
			if err != nil {
				t.Fatalf("ParseResourceID(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseResourceID(%q) =\n%+v\nwant\n%+v", tt.in, got, tt.want)
			}
			if op := got.OperationType(); op != tt.op {
				t.Errorf("OperationType() = %q, want %q", op, tt.op)
			}
		})
	}
}

func TestParseResourceIDErrors(t *testing.T) {
	for _, in := range []string{"", "/", "subscriptions/s", "/foo/bar", "/subscriptions/s/providers", "/providers",
		tRG + "/../rg2", tRG + "/./x", tRG + "/../../../", "/subscriptions/s/resourceGroups/..", tWS + "/computes/..",
		"/subscriptions/./resourceGroups/rg", "/providers/Microsoft.Authorization/../x"} {
		if _, err := ParseResourceID(in); !errors.Is(err, ErrInvalidResourceID) {
			t.Errorf("ParseResourceID(%q) error = %v, want ErrInvalidResourceID", in, err)
		}
	}
}

func TestResourceIDName(t *testing.T) {
	r, _ := ParseResourceID(tCmp)
	if r.Name() != "C" {
		t.Errorf("Name() = %q, want C", r.Name())
	}
	r, _ = ParseResourceID(tWS + "/computes")
	if r.Name() != "" {
		t.Errorf("collection Name() = %q, want empty", r.Name())
	}
}

// FuzzScope checks the scope helpers against each other on arbitrary input
// (resource ids come from request paths).
func FuzzScope(f *testing.F) {
	for _, s := range []string{"", "/", tSub, tRG, tWS, tCmp, tWS + "/providers/Microsoft.Authorization/roleAssignments/x", "//a//B/", "/providers/p", "/subscriptions/ä/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CanonicalScope(s)
		if c != canonicalUnicode(s) {
			t.Fatalf("CanonicalScope(%q) = %q, reference %q", s, c, canonicalUnicode(s))
		}
		if CanonicalScope(c) != c {
			t.Fatalf("CanonicalScope not idempotent on %q", c)
		}
		anc := ScopeAncestors(s)
		if anc[0] != c || anc[len(anc)-1] != RootScope {
			t.Fatalf("ScopeAncestors(%q) = %q", s, anc)
		}
		for i, a := range anc {
			if !IsScopeWithin(s, a) {
				t.Fatalf("%q not within its ancestor %q", s, a)
			}
			p, ok := ParentScope(a)
			if i+1 < len(anc) && (!ok || p != anc[i+1]) {
				t.Fatalf("ParentScope(%q) = %q, %v; ScopeAncestors says %q", a, p, ok, anc[i+1])
			}
			if i+1 == len(anc) && ok {
				t.Fatalf("root %q has parent %q", a, p)
			}
		}
		if r, err := ParseResourceID(s); err == nil && len(r.Types)-len(r.Names) > 1 {
			t.Fatalf("ParseResourceID(%q) = %+v: more than one type without a name", s, r)
		}
	})
}

// FuzzParseResourceID: an id that parses has no dot segment in any part,
// and every part is a segment of the id as given.
func FuzzParseResourceID(f *testing.F) {
	for _, s := range []string{tSub, tRG, tWS, tCmp, tRG + "/../rg2/providers/Microsoft.Authorization/roleAssignments/x",
		tWS + "/providers/Microsoft.Authorization/roleAssignments/x", "//subscriptions//s//", "/subscriptions/s/resourceGroups/rg/providers/P//t/./n",
		"/providers/Microsoft.Authorization/roleDefinitions/d", "/subscriptions/%2e%2e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseResourceID(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidResourceID) {
				t.Fatalf("ParseResourceID(%q) error %v does not wrap ErrInvalidResourceID", s, err)
			}
			return
		}
		segs := map[string]bool{}
		for _, seg := range strings.Split(s, "/") {
			segs[seg] = true
		}
		parts := append(append([]string{r.SubscriptionID, r.ResourceGroup, r.Provider}, r.Types...), r.Names...)
		for _, p := range parts {
			if p == "." || p == ".." || strings.Contains(p, "/") {
				t.Fatalf("ParseResourceID(%q) = %+v: part %q", s, r, p)
			}
		}
		for _, n := range r.Names {
			if n == "" || !segs[n] {
				t.Fatalf("ParseResourceID(%q) = %+v: name %q is not a segment of the id", s, r, n)
			}
		}
	})
}
