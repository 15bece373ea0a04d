package arm

import "testing"

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"/subscriptions/s/resourcegroups/rg/providers/Microsoft.MachineLearningServices//workspaces/ws": "/subscriptions/s/resourcegroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws",
		"/subscriptions/s/resourceGroups/rg/": "/subscriptions/s/resourceGroups/rg",
		"//subscriptions//s/":                 "/subscriptions/s",
		"/subscriptions":                      "/subscriptions",
		"/":                                   "",
		"//":                                  "",
	} {
		if got := cleanPath(in); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}
