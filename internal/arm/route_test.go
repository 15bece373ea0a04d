package arm

import (
	"strings"
	"testing"
)

func TestRouteTable(t *testing.T) {
	const (
		sub = "/subscriptions/s"
		rg  = sub + "/resourceGroups/rg"
		ws  = rg + "/providers/Microsoft.MachineLearningServices/workspaces/w"
		ra  = "/providers/Microsoft.Authorization/roleAssignments/a"
	)
	cases := []struct {
		method, path, template string
		vals                   map[string]string
	}{
		{"GET", "/tenants", "/tenants", nil},
		{"GET", "/SUBSCRIPTIONS", "/subscriptions", nil},
		{"GET", sub, "/subscriptions/{subscriptionId}", map[string]string{"subscriptionId": "s"}},
		{"GET", sub + "/resourcegroups", "/subscriptions/{subscriptionId}/resourceGroups", nil},
		{"PUT", rg, "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}", map[string]string{"resourceGroupName": "rg"}},
		{"HEAD", strings.ToUpper(rg), "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}", map[string]string{"resourceGroupName": "RG"}},
		{"PUT", ws, "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/{namespace}/{resourcePath...}",
			map[string]string{"namespace": "Microsoft.MachineLearningServices", "resourcePath": "/workspaces/w"}},
		{"POST", ws + "/computes/c/listNodes", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/{namespace}/{resourcePath...}",
			map[string]string{"resourcePath": "/workspaces/w/computes/c/listNodes"}},
		{"PUT", ws + ra, "{scope...}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}", map[string]string{"scope": ws, "roleAssignmentName": "a"}},
		{"DELETE", ra, "{scope...}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}", map[string]string{"scope": ""}},
		{"GET", rg + "/providers/microsoft.authorization/roleassignments", "{scope...}/providers/Microsoft.Authorization/roleAssignments", map[string]string{"scope": rg}},
		{"GET", sub + "/providers/Microsoft.Authorization/roleDefinitions/d", "{scope...}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}", nil},
		{"GET", rg + "/providers/Microsoft.Authorization/permissions", "{scope...}/providers/Microsoft.Authorization/permissions", nil},
		{"POST", ws + "/providers/Microsoft.Authorization/checkAccess", "{scope...}/providers/Microsoft.Authorization/checkAccess", map[string]string{"scope": ws}},
		// A role assignment on a resource named like the extension is still the extension's.
		{"PATCH", rg + ra, "{scope...}/providers/Microsoft.Authorization/{rest...}", map[string]string{"rest": "/roleAssignments/a"}},
		{"PUT", rg + "/providers/Microsoft.Authorization/locks/l", "{scope...}/providers/Microsoft.Authorization/{rest...}", nil},
		{"GET", sub + "/providers/Microsoft.MachineLearningServices/workspaces", "/subscriptions/{subscriptionId}/providers/{namespace}/{resourceType}", nil},
		{"GET", sub + "/providers/Microsoft.MachineLearningServices/locations/eastus/workspaceOperationsStatus/o",
			"/subscriptions/{subscriptionId}/providers/{namespace}/locations/{location}/{operationsStatus}/{operationId}", nil},
		{"POST", sub + "/providers/Microsoft.MachineLearningServices/register", "/subscriptions/{subscriptionId}/providers/{namespace}/register", nil},
		{"GET", rg + "/resources", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/resources", nil},
	}
	for _, tc := range cases {
		rt, p, ok := lookup(tc.method, tc.path)
		if !ok || rt.template != tc.template {
			t.Errorf("%s %s: template %q (found %v), want %q", tc.method, tc.path, rt.template, ok, tc.template)
			continue
		}
		for k, v := range tc.vals {
			if p.get(k) != v {
				t.Errorf("%s %s: %s = %q, want %q", tc.method, tc.path, k, p.get(k), v)
			}
		}
	}
	for _, miss := range []struct{ method, path string }{
		{"GET", ""}, {"GET", "/foo"}, {"POST", sub}, {"DELETE", "/subscriptions"}, {"POST", rg}, {"GET", "/subscriptions/s/x/y/z"},
		{"OPTIONS", ws},
	} {
		if rt, _, ok := lookup(miss.method, miss.path); ok {
			t.Errorf("%s %s: routed to %q, want no route", miss.method, miss.path, rt.template)
		}
	}
}

// FuzzRoute resolves and routes arbitrary paths: no panic, and what a
// template captures is made of the path's own segments.
func FuzzRoute(f *testing.F) {
	for _, s := range []string{
		"/subscriptions/s/resourceGroups/acc-rg/../acc-rg2/providers/Microsoft.Authorization/roleAssignments/x",
		"//subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices//workspaces/w",
		"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/a/providers/Microsoft.Authorization/roleAssignments/b",
		"/providers/Microsoft.Authorization/roleDefinitions/d", "/subscriptions/s/resourceGroups/rg/./../../../", "/tenants/..",
	} {
		f.Add("GET", s)
		f.Add("PUT", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		resolved := resolvePath(path)
		_, p, ok := lookup(method, resolved)
		if !ok {
			return
		}
		for name, v := range p.vals {
			segs := []string{v}
			if strings.HasPrefix(v, "/") || v == "" {
				segs = splitPath(v)
			}
			for _, seg := range segs {
				if seg == "" || seg == "." || seg == ".." {
					t.Fatalf("%s %q: %s = %q", method, path, name, v)
				}
			}
			if v != "" && !strings.Contains(resolved, v) {
				t.Fatalf("%s %q: %s = %q is not in %q", method, path, name, v, resolved)
			}
		}
	})
}
