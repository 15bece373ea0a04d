package arm

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tessera-id/tessera/internal/resources"
	"github.com/tessera-id/tessera/internal/wire"
)

// route dispatches an ARM request by the shape of its path. ARM paths are
// case-insensitive; ids keep the casing resources were created with.
func (h *Handler) route(w http.ResponseWriter, r *http.Request, c caller) {
	apiVersion := r.URL.Query().Get("api-version")
	if apiVersion == "" {
		wire.WriteARMError(w, http.StatusBadRequest, "MissingApiVersionParameter",
			"The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	if !validAPIVersion(apiVersion) {
		wire.WriteARMError(w, http.StatusBadRequest, "InvalidApiVersionParameter",
			"The api-version '"+apiVersion+"' is invalid. The supported versions are 'yyyy-mm-dd' or 'yyyy-mm-dd-preview'.")
		return
	}
	path := cleanPath(r.URL.Path)
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	low := make([]string, len(segs))
	for i, s := range segs {
		low[i] = strings.ToLower(s)
	}
	// Microsoft.Authorization is an extension at any scope.
	for i := len(low) - 2; i >= 0; i-- {
		if low[i] == "providers" && low[i+1] == "microsoft.authorization" {
			h.authorization(w, r, c, "/"+strings.Join(segs[:i], "/"), segs[i+2:])
			return
		}
	}
	n := len(low)
	switch {
	case n == 1 && low[0] == "tenants" && r.Method == http.MethodGet:
		h.listTenants(w, r, c)
	case n == 1 && low[0] == "subscriptions" && r.Method == http.MethodGet:
		h.listSubscriptions(w, r, c)
	case low[0] != "subscriptions" || n < 2:
		h.noRoute(w, r)
	case n == 2 && r.Method == http.MethodGet:
		h.getSubscription(w, r, c, segs[1])
	case n == 3 && low[2] == "locations" && r.Method == http.MethodGet:
		h.listLocations(w, r, c, segs[1])
	case n == 3 && low[2] == "resourcegroups" && r.Method == http.MethodGet:
		h.listResourceGroups(w, r, c, segs[1])
	case n == 3 && low[2] == "resources" && r.Method == http.MethodGet:
		h.listResources(w, r, c, segs[1], "")
	case n == 3 && low[2] == "providers" && r.Method == http.MethodGet:
		h.listProviders(w, r, c, segs[1])
	case n == 4 && low[2] == "providers" && r.Method == http.MethodGet:
		h.getProvider(w, r, c, segs[1], segs[3])
	case n == 5 && low[2] == "providers" && low[4] == "register" && r.Method == http.MethodPost:
		h.registerProvider(w, r, c, segs[1], segs[3])
	case n == 5 && low[2] == "providers" && r.Method == http.MethodGet:
		h.listInSubscription(w, r, c, segs[1], segs[3], segs[4])
	case n == 4 && low[2] == "resourcegroups":
		h.resourceGroup(w, r, c, segs[1], segs[3])
	case n == 5 && low[2] == "resourcegroups" && low[4] == "resources" && r.Method == http.MethodGet:
		h.listResources(w, r, c, segs[1], segs[3])
	case n == 8 && low[2] == "providers" && low[4] == "locations" && strings.HasSuffix(low[6], "operationsstatus") && r.Method == http.MethodGet:
		h.operationStatus(w, r, c, path)
	case n >= 7 && low[2] == "resourcegroups" && low[4] == "providers":
		h.resource(w, r, c, path)
	default:
		h.noRoute(w, r)
	}
}

func validAPIVersion(v string) bool {
	base := strings.TrimSuffix(v, "-preview")
	if len(base) != 10 || base[4] != '-' || base[7] != '-' {
		return false
	}
	for i, ch := range base {
		if i != 4 && i != 7 && (ch < '0' || ch > '9') {
			return false
		}
	}
	return true
}

func (h *Handler) noRoute(w http.ResponseWriter, r *http.Request) {
	wire.WriteARMError(w, http.StatusNotFound, "NoRegisteredProviderFound",
		"No registered resource provider found for the request path '"+r.URL.Path+"' and method '"+r.Method+"'.")
}

// pageSize is how many items one list page holds before a nextLink.
const pageSize = 100

// writeList writes {"value":[...],"nextLink":...}, paging with $skipToken.
func (h *Handler) writeList(w http.ResponseWriter, r *http.Request, items []any) {
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("$skipToken"))
	if start < 0 || start > len(items) {
		start = len(items)
	}
	size := pageSize
	if t, err := strconv.Atoi(q.Get("$top")); err == nil && t > 0 && t < size {
		size = t
	}
	end := start + size
	out := map[string]any{}
	if end < len(items) {
		q.Set("$skipToken", strconv.Itoa(end))
		out["nextLink"] = h.base.For(r) + r.URL.Path + "?" + q.Encode()
	} else {
		end = len(items)
	}
	page := items[start:end]
	if page == nil {
		page = []any{}
	}
	out["value"] = page
	wire.WriteJSON(w, http.StatusOK, out)
}

func actorOf(c caller) resources.Actor {
	return resources.Actor{ObjectID: c.ObjectID, Name: c.Name, Type: c.Type, TenantID: c.TenantID}
}

// actionFor is the operation an HTTP method implies on a resource type.
func actionFor(method, opType string) string {
	switch method {
	case http.MethodGet, http.MethodHead:
		return opType + "/read"
	case http.MethodPut, http.MethodPatch:
		return opType + "/write"
	case http.MethodDelete:
		return opType + "/delete"
	}
	return opType + "/action"
}
