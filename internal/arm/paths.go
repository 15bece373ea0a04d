package arm

import "strings"

// cleanPath is the request path route dispatches on: without a trailing
// slash and without empty segments. The Azure CLI sends an empty
// parentResourcePath as an empty segment —
// `az resource show -g rg -n ws --resource-type Microsoft.MachineLearningServices/workspaces`
// requests .../providers/Microsoft.MachineLearningServices//workspaces/ws —
// and ARM treats it as absent.
func cleanPath(p string) string {
	if !strings.Contains(p, "//") {
		return strings.TrimRight(p, "/")
	}
	segs := strings.Split(p, "/")
	kept := segs[:0]
	for _, s := range segs {
		if s != "" {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		return ""
	}
	return "/" + strings.Join(kept, "/")
}
