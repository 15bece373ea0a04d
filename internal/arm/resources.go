package arm

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/resources"
	"github.com/tessera-id/tessera/internal/wire"
)

const rgType = "Microsoft.Resources/subscriptions/resourceGroups"

func (h *Handler) resourceGroup(w http.ResponseWriter, r *http.Request, c caller, p params) {
	subID, name := p.get("subscriptionId"), p.get("resourceGroupName")
	scope := "/subscriptions/" + subID + "/resourceGroups/" + name
	if !h.authorize(w, r, c, actionFor(r.Method, rgType), scope) {
		return
	}
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		doc, err := h.res.ResourceGroup(ctx, c.TenantID, subID, name)
		if r.Method == http.MethodHead {
			if err != nil {
				w.WriteHeader(http.StatusNotFound)
			} else {
				w.WriteHeader(http.StatusNoContent)
			}
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		wire.WriteJSON(w, http.StatusOK, doc)
	case http.MethodPut, http.MethodPatch:
		var body resources.Document
		if !h.readJSON(w, r, &body) {
			return
		}
		if r.Method == http.MethodPatch {
			cur, err := h.res.ResourceGroup(ctx, c.TenantID, subID, name)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			if _, ok := body["tags"]; !ok {
				body["tags"] = cur["tags"]
			}
			body["location"] = cur["location"]
		}
		doc, created, err := h.res.PutResourceGroup(ctx, actorOf(c), subID, name, body)
		h.recordChange(r, c, actionFor(r.Method, rgType), scope, err)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		wire.WriteJSON(w, status, doc)
	case http.MethodDelete:
		err := h.res.DeleteResourceGroup(ctx, c.TenantID, subID, name)
		h.recordChange(r, c, actionFor(r.Method, rgType), scope, err)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		h.noRoute(w, r)
	}
}

func (h *Handler) listResourceGroups(w http.ResponseWriter, r *http.Request, c caller, p params) {
	subID := p.get("subscriptionId")
	if _, ok := h.requireVisible(w, r, c, subID); !ok {
		return
	}
	docs, err := h.res.ResourceGroups(r.Context(), c.TenantID, subID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeList(w, r, h.readable(c, docs, rgType))
}

// readable keeps the documents the caller may read: a list shows what each
// item's own read permission allows.
func (h *Handler) readable(c caller, docs []resources.Document, opType string) []any {
	items := []any{}
	for _, d := range docs {
		id, _ := d["id"].(string)
		t := opType
		if t == "" {
			t, _ = d["type"].(string)
		}
		if h.rbac.Decide(c.ObjectID, t+"/read", id, false).Allowed {
			items = append(items, d)
		}
	}
	return items
}

// listResources lists a subscription's resources, or a resource group's.
func (h *Handler) listResources(w http.ResponseWriter, r *http.Request, c caller, p params) {
	subID, rg := p.get("subscriptionId"), p.get("resourceGroupName")
	if _, ok := h.requireVisible(w, r, c, subID); !ok {
		return
	}
	if rg != "" {
		if _, err := h.res.ResourceGroup(r.Context(), c.TenantID, subID, rg); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	docs, err := h.res.ResourcesIn(r.Context(), c.TenantID, subID, rg)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if f := r.URL.Query().Get("$filter"); f != "" {
		docs = filterResources(docs, f)
	}
	h.writeList(w, r, h.readable(c, docs, ""))
}

// filterResources applies the `resourceType eq 'T'` and `resourceGroup eq 'g'`
// clauses az sends (joined with "and"); other clauses are ignored.
func filterResources(docs []resources.Document, filter string) []resources.Document {
	var out []resources.Document
	clauses := strings.Split(filter, " and ")
	for _, d := range docs {
		keep := true
		for _, cl := range clauses {
			field, val, ok := strings.Cut(strings.TrimSpace(cl), " eq ")
			if !ok {
				continue
			}
			val = strings.Trim(strings.TrimSpace(val), "'")
			switch strings.ToLower(strings.TrimSpace(field)) {
			case "resourcetype":
				keep = keep && strings.EqualFold(d["type"].(string), val)
			case "resourcegroup":
				id, _ := domain.ParseResourceID(d["id"].(string))
				keep = keep && strings.EqualFold(id.ResourceGroup, val)
			}
		}
		if keep {
			out = append(out, d)
		}
	}
	return out
}

// resource serves a provider resource or collection under a resource group.
func (h *Handler) resource(w http.ResponseWriter, r *http.Request, c caller, p params) {
	path := p.path
	if p.get("resourcePath") == "" {
		h.noRoute(w, r)
		return
	}
	id, err := domain.ParseResourceID(path)
	if err != nil {
		wire.WriteARMError(w, http.StatusBadRequest, "InvalidResourceId", err.Error())
		return
	}
	collection := len(id.Names) < len(id.Types)
	ctx := r.Context()
	if r.Method == http.MethodPost {
		h.resourceAction(w, r, c, id, path)
		return
	}
	if collection {
		if r.Method != http.MethodGet {
			h.noRoute(w, r)
			return
		}
		scope := "/subscriptions/" + id.SubscriptionID + "/resourceGroups/" + id.ResourceGroup
		if len(id.Types) > 1 {
			scope = path[:strings.LastIndex(path, "/")]
		}
		if !h.authorize(w, r, c, id.OperationType()+"/read", scope) {
			return
		}
		docs, err := h.res.List(ctx, c.TenantID, id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		items := make([]any, len(docs))
		for i, d := range docs {
			items[i] = d
		}
		h.writeList(w, r, items)
		return
	}
	action := actionFor(r.Method, id.OperationType())
	if !h.authorize(w, r, c, action, path) {
		return
	}
	switch r.Method {
	case http.MethodGet:
		stored, err := h.res.GetStored(ctx, c.TenantID, id, path)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		w.Header().Set("ETag", stored.ETag)
		wire.WriteRawJSON(w, http.StatusOK, stored.Body)
	case http.MethodPut, http.MethodPatch:
		var body resources.Document
		if !h.readJSON(w, r, &body) {
			return
		}
		ifMatch := r.Header.Get("If-Match")
		if r.Method == http.MethodPatch {
			cur, stored, err := h.res.Get(ctx, c.TenantID, id, path)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			body = mergePatch(cur, body)
			if ifMatch == "" {
				ifMatch = stored.ETag
			}
		}
		if !h.authorizeIdentityAssignment(w, c, action, path, body) {
			return
		}
		res, err := h.res.Put(ctx, actorOf(c), id, body, ifMatch)
		h.recordChange(r, c, action, path, err)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		w.Header().Set("ETag", res.ETag)
		status := http.StatusOK
		if res.AnswerCreated {
			status = http.StatusCreated
		}
		if res.Operation != nil {
			h.asyncHeaders(w, r, res.Operation)
		}
		wire.WriteJSON(w, status, res.Doc)
	case http.MethodDelete:
		op, err := h.res.Delete(ctx, actorOf(c), id, path)
		if fe, ok := err.(*fault.Error); ok && fe.Kind == fault.NotFound && fe.Code == "ResourceNotFound" {
			w.WriteHeader(http.StatusNoContent) // deleting what is absent succeeds, as in ARM
			return
		}
		h.recordChange(r, c, action, path, err)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if op != nil {
			h.asyncHeaders(w, r, op)
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		h.noRoute(w, r)
	}
}

// asyncHeaders point the SDK's poller at the operation's status record.
func (h *Handler) asyncHeaders(w http.ResponseWriter, r *http.Request, op *resources.Operation) {
	u := h.base.For(r) + op.ID + "?api-version=" + r.URL.Query().Get("api-version")
	w.Header().Set("Azure-AsyncOperation", u)
	w.Header().Set("Location", u)
	w.Header().Set("Retry-After", "0")
}

// operationStatus serves the status records asyncHeaders point at, named
// {kind}OperationsStatus as the SDKs' pollers expect.
func (h *Handler) operationStatus(w http.ResponseWriter, r *http.Request, c caller, p params) {
	if !strings.HasSuffix(strings.ToLower(p.get("operationsStatus")), "operationsstatus") {
		h.noRoute(w, r)
		return
	}
	doc, err := h.res.OperationStatus(r.Context(), actorOf(c), p.path)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, doc)
}

// resourceAction serves POST .../{resource}/{action}: the operation is
// "<type>/<action>/action" on the resource.
func (h *Handler) resourceAction(w http.ResponseWriter, r *http.Request, c caller, id domain.ResourceID, path string) {
	if len(id.Types) == len(id.Names) || len(id.Types) < 2 {
		h.noRoute(w, r)
		return
	}
	actionName := id.Types[len(id.Types)-1]
	target := id
	target.Types = id.Types[:len(id.Types)-1]
	resPath := path[:strings.LastIndex(path, "/")]
	action := target.OperationType() + "/" + actionName + "/action"
	if !h.authorize(w, r, c, action, resPath) {
		return
	}
	if h.nodeAction(w, r, c, target, resPath, actionName, action) {
		return
	}
	// Tessera's other actions take no input, but a body they are sent is
	// still held to the rule every write is.
	if _, ok := h.readBody(w, r); !ok {
		return
	}
	if _, _, err := h.res.Get(r.Context(), c.TenantID, target, resPath); err != nil {
		h.fail(w, r, err)
		return
	}
	h.recordChange(r, c, action, resPath, nil)
	switch strings.ToLower(actionName) {
	case "start", "stop", "restart":
		w.WriteHeader(http.StatusAccepted)
	default:
		// Tessera holds no storage or inference keys: key-listing actions
		// answer with an empty key set rather than invented secrets.
		wire.WriteJSON(w, http.StatusOK, map[string]any{})
	}
}

// mergePatch applies an RFC 7396 JSON merge patch.
func mergePatch(cur, patch map[string]any) map[string]any {
	out := map[string]any{}
	b, _ := json.Marshal(cur)
	_ = json.Unmarshal(b, &out)
	for k, v := range patch {
		if v == nil {
			delete(out, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			if cm, ok := out[k].(map[string]any); ok {
				out[k] = mergePatch(cm, pm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
