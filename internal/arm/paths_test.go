package arm

import (
	"strings"
	"testing"
)

func TestResolvePath(t *testing.T) {
	const rg = "/subscriptions/s/resourceGroups/acc-rg"
	for in, want := range map[string]string{
		"/subscriptions/s/resourcegroups/rg/providers/Microsoft.MachineLearningServices//workspaces/ws": "/subscriptions/s/resourcegroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws",
		"/subscriptions/s/resourceGroups/rg/": "/subscriptions/s/resourceGroups/rg",
		"//subscriptions//s/":                 "/subscriptions/s",
		"/subscriptions":                      "/subscriptions",
		"/":                                   "",
		"//":                                  "",
		"":                                    "",
		rg + "/../acc-rg2/providers/Microsoft.Authorization/roleAssignments/x": "/subscriptions/s/resourceGroups/acc-rg2/providers/Microsoft.Authorization/roleAssignments/x",
		rg + "/./x":                      rg + "/x",
		rg + "/../../../":                "/subscriptions",
		rg + "/../../../../../../../a":   "/a",
		rg + "//../x":                    rg + "/x",
		"/subscriptions/s/./.":           "/subscriptions/s",
		"/subscriptions/s/..x/.../y":     "/subscriptions/s/..x/.../y",
		"/../subscriptions/s/locations/": "/subscriptions/s/locations",
	} {
		if got := resolvePath(in); got != want {
			t.Errorf("resolvePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzResolvePath: whatever the path, the resolved one has no ".", ".." or
// empty segment, starts with a slash unless it is the root, and resolves to
// itself.
func FuzzResolvePath(f *testing.F) {
	for _, s := range []string{
		"/subscriptions/s/resourceGroups/acc-rg/../acc-rg2/providers/Microsoft.Authorization/roleAssignments/x",
		"//subscriptions//s/", "/subscriptions/s/resourceGroups/rg/./x", "/../../..", "/a/b/../../../c/.", "", "/", "..", "./a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := resolvePath(p)
		if got != "" && !strings.HasPrefix(got, "/") {
			t.Fatalf("resolvePath(%q) = %q: not absolute", p, got)
		}
		for _, s := range splitPath(got) {
			if s == "" || s == "." || s == ".." {
				t.Fatalf("resolvePath(%q) = %q: segment %q", p, got, s)
			}
		}
		if again := resolvePath(got); again != got {
			t.Fatalf("resolvePath(%q) = %q, then %q", p, got, again)
		}
	})
}
