package arm

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tessera-id/tessera/internal/resources"
	"github.com/tessera-id/tessera/internal/wire"
)

// routes is the resource manager's route table: the handler for a URL is the
// first row whose methods and template match it. Templates are matched
// segment by segment, literal segments case-insensitively as ARM matches
// them; {name} takes one segment and {name...} any number of them, none
// included, the most it can. Paths arrive resolved (see resolvePath), so a
// template never sees ".", ".." or an empty segment.
var routes = compileRoutes([]route{
	// Microsoft.Authorization is an extension at any scope: the root, a
	// subscription, a resource group or a resource. Its rows come first so
	// that a role assignment on a workspace is not read as a child of it.
	{"GET", "{scope...}/providers/Microsoft.Authorization/permissions", (*Handler).permissions},
	{"GET", "{scope...}/providers/Microsoft.Authorization/roleAssignments", (*Handler).listRoleAssignments},
	{"GET PUT DELETE", "{scope...}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}", (*Handler).roleAssignment},
	{"POST", "{scope...}/providers/Microsoft.Authorization/checkAccess", (*Handler).checkAccess},
	{"GET", "{scope...}/providers/Microsoft.Authorization/roleDefinitions", (*Handler).listRoleDefinitions},
	{"GET PUT DELETE", "{scope...}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}", (*Handler).roleDefinition},
	// Nothing else of Microsoft.Authorization exists; without this row the
	// resource row below would take it for a stored resource type.
	{"*", "{scope...}/providers/Microsoft.Authorization/{rest...}", (*Handler).noRouteFor},

	{"GET", "/tenants", (*Handler).listTenants},
	{"GET", "/subscriptions", (*Handler).listSubscriptions},
	{"GET", "/subscriptions/{subscriptionId}", (*Handler).getSubscription},
	{"GET", "/subscriptions/{subscriptionId}/locations", (*Handler).listLocations},
	{"GET", "/subscriptions/{subscriptionId}/resources", (*Handler).listResources},
	{"GET", "/subscriptions/{subscriptionId}/providers", (*Handler).listProviders},
	{"GET", "/subscriptions/{subscriptionId}/providers/{namespace}", (*Handler).getProvider},
	{"POST", "/subscriptions/{subscriptionId}/providers/{namespace}/register", (*Handler).registerProvider},
	{"GET", "/subscriptions/{subscriptionId}/providers/{namespace}/{resourceType}", (*Handler).listInSubscription},
	{"GET", "/subscriptions/{subscriptionId}/providers/{namespace}/locations/{location}/{operationsStatus}/{operationId}", (*Handler).operationStatus},
	{"GET", "/subscriptions/{subscriptionId}/resourceGroups", (*Handler).listResourceGroups},
	{"GET HEAD PUT PATCH DELETE", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}", (*Handler).resourceGroup},
	{"GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/resources", (*Handler).listResources},
	// A resource, a child resource, a collection of either, or a POST action
	// on one: the resource id decides (see resource).
	{"GET PUT PATCH DELETE POST", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/{namespace}/{resourcePath...}", (*Handler).resource},
})

// route is one row of the table.
type route struct {
	methods  string // space-separated, or "*" for any
	template string
	serve    func(h *Handler, w http.ResponseWriter, r *http.Request, c caller, p params)
}

// params are what a matched template names, and the resolved path.
type params struct {
	path string
	vals map[string]string
}

// get returns a {name} segment, or a {name...} run as "/a/b" ("" for none).
func (p params) get(name string) string { return p.vals[name] }

// scope is the {scope...} run, with the root as "/".
func (p params) scope() string {
	if s := p.vals["scope"]; s != "" {
		return s
	}
	return "/"
}

type compiledRoute struct {
	route
	methods map[string]bool // nil: any
	segs    []templateSeg
}

type templateSeg struct {
	literal string // when name is ""
	name    string
	rest    bool // {name...}
}

func compileRoutes(rs []route) []compiledRoute {
	out := make([]compiledRoute, 0, len(rs))
	for _, r := range rs {
		c := compiledRoute{route: r}
		if r.methods != "*" {
			c.methods = map[string]bool{}
			for _, m := range strings.Fields(r.methods) {
				c.methods[m] = true
			}
		}
		for _, s := range splitPath(strings.TrimPrefix(r.template, "{scope...}")) {
			c.segs = append(c.segs, compileSeg(s))
		}
		if strings.HasPrefix(r.template, "{scope...}") {
			c.segs = append([]templateSeg{{name: "scope", rest: true}}, c.segs...)
		}
		out = append(out, c)
	}
	return out
}

func compileSeg(s string) templateSeg {
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return templateSeg{literal: s}
	}
	name := s[1 : len(s)-1]
	if n, ok := strings.CutSuffix(name, "..."); ok {
		return templateSeg{name: n, rest: true}
	}
	return templateSeg{name: name}
}

// match fills vals when t matches segs.
func match(t []templateSeg, segs []string, vals map[string]string) bool {
	if len(t) == 0 {
		return len(segs) == 0
	}
	switch first := t[0]; {
	case first.rest:
		for k := len(segs); k >= 0; k-- {
			if match(t[1:], segs[k:], vals) {
				vals[first.name] = joinSegs(segs[:k])
				return true
			}
		}
		return false
	case len(segs) == 0:
		return false
	case first.name != "":
		if match(t[1:], segs[1:], vals) {
			vals[first.name] = segs[0]
			return true
		}
		return false
	default:
		return strings.EqualFold(first.literal, segs[0]) && match(t[1:], segs[1:], vals)
	}
}

func joinSegs(segs []string) string {
	if len(segs) == 0 {
		return ""
	}
	return "/" + strings.Join(segs, "/")
}

// lookup finds the row for a method and resolved path.
func lookup(method, path string) (compiledRoute, params, bool) {
	segs := splitPath(path)
	for _, rt := range routes {
		if rt.methods != nil && !rt.methods[method] {
			continue
		}
		vals := map[string]string{}
		if match(rt.segs, segs, vals) {
			return rt, params{path: path, vals: vals}, true
		}
	}
	return compiledRoute{}, params{}, false
}

// route serves an authenticated ARM request from the table.
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
	rt, p, ok := lookup(r.Method, resolvePath(r.URL.Path))
	if !ok {
		h.noRoute(w, r)
		return
	}
	rt.serve(h, w, r, c, p)
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

// NoRoute answers a path the resource manager does not serve, in ARM's
// shape (for a host that only the resource manager answers on).
func (h *Handler) NoRoute(w http.ResponseWriter, r *http.Request) { h.noRoute(w, r) }

func (h *Handler) noRoute(w http.ResponseWriter, r *http.Request) {
	wire.WriteARMError(w, http.StatusNotFound, "NoRegisteredProviderFound",
		"No registered resource provider found for the request path '"+r.URL.Path+"' and method '"+r.Method+"'.")
}

// noRouteFor is noRoute as a table row.
func (h *Handler) noRouteFor(w http.ResponseWriter, r *http.Request, _ caller, _ params) {
	h.noRoute(w, r)
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
