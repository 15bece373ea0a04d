package arm

import (
	"net/http"
	"strings"

	"github.com/tessera-id/tessera/internal/resources"
)

// listInSubscription serves GET /subscriptions/{s}/providers/{namespace}/{type}:
// the resources of a top-level type across the subscription's resource
// groups, as the SDKs' ListBySubscription operations read them (e.g.
// armmachinelearning's WorkspacesClient.NewListBySubscriptionPager). Like
// every list, it shows what the caller may read.
func (h *Handler) listInSubscription(w http.ResponseWriter, r *http.Request, c caller, p params) {
	subID, namespace, typ := p.get("subscriptionId"), p.get("namespace"), p.get("resourceType")
	registered := false
	for _, t := range resources.ResourceTypes(namespace) {
		registered = registered || strings.EqualFold(t, typ)
	}
	if !registered {
		h.noRoute(w, r)
		return
	}
	if _, ok := h.requireVisible(w, r, c, subID); !ok {
		return
	}
	docs, err := h.res.ResourcesIn(r.Context(), c.TenantID, subID, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fullType := namespace + "/" + typ
	var kept []resources.Document
	for _, d := range docs {
		if t, _ := d["type"].(string); strings.EqualFold(t, fullType) {
			kept = append(kept, d)
		}
	}
	h.writeList(w, r, h.readable(c, kept, ""))
}
