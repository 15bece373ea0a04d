package resources

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// completion builds a resource's stored document from a request body: the
// client's fields, the server's (id, name, type, systemData,
// provisioningState) and each type's defaults.
type completion struct {
	s      *Service
	ctx    context.Context
	tx     store.Tx
	id     domain.ResourceID
	fullID string
	spec   typeSpec
	body   Document
	prev   Document // nil on create
	parent Document // the parent resource, for child types
	actor  Actor
	sub    domain.Subscription

	doc      Document
	children []domain.Resource
}

func (c *completion) build() (Document, error) {
	props, _ := c.body["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	doc := Document{"id": c.fullID, "name": c.id.Name(), "type": c.spec.Type, "properties": props}
	for _, k := range []string{"tags", "sku", "kind"} {
		if v, ok := c.body[k]; ok && v != nil {
			doc[k] = v
		}
	}
	if c.spec.Tracked {
		loc := str(c.body["location"])
		if loc == "" && c.parent != nil {
			loc = str(c.parent["location"])
		}
		if loc == "" && c.prev != nil {
			loc = str(c.prev["location"])
		}
		if loc == "" {
			return nil, fault.Errorf(fault.Invalid, "LocationRequired", "The location property is required for this definition.")
		}
		doc["location"] = strings.ToLower(strings.ReplaceAll(loc, " ", ""))
		if _, ok := doc["tags"]; !ok {
			doc["tags"] = map[string]any{}
		}
	}
	now := c.s.now().UTC().Format("2006-01-02T15:04:05.0000000Z")
	sys := Document{"createdAt": now, "createdBy": c.actor.Name, "createdByType": createdByType(c.actor),
		"lastModifiedAt": now, "lastModifiedBy": c.actor.Name, "lastModifiedByType": createdByType(c.actor)}
	if c.prev != nil {
		if old, ok := c.prev["systemData"].(map[string]any); ok {
			for _, k := range []string{"createdAt", "createdBy", "createdByType"} {
				sys[k] = old[k]
			}
		}
	}
	doc["systemData"] = sys
	c.doc = doc
	if c.spec.Identity {
		if err := c.identity(); err != nil {
			return nil, err
		}
	}
	if c.spec.prepare != nil {
		if err := c.spec.prepare(c); err != nil {
			return nil, err
		}
	}
	if c.spec.complete != nil {
		c.spec.complete(c)
	}
	props["provisioningState"] = "Succeeded"
	return doc, nil
}

// props is the document's properties object.
func (c *completion) props() map[string]any { return c.doc["properties"].(map[string]any) }

// prevProp reads a property of the previous version.
func (c *completion) prevProp(k string) any {
	if c.prev == nil {
		return nil
	}
	p, _ := c.prev["properties"].(map[string]any)
	return p[k]
}

// keep sets properties the server owns to their previous value, or to def on create.
func (c *completion) keep(k string, def any) {
	if v := c.prevProp(k); v != nil {
		c.props()[k] = v
		return
	}
	if _, ok := c.props()[k]; !ok || def != nil {
		c.props()[k] = def
	}
}

// identity handles identity.type: a system-assigned identity becomes a
// service principal of type ManagedIdentity, created once and deleted when
// the resource drops it. User-assigned identities must exist and are echoed
// with their ids (see userAssignedIdentities).
func (c *completion) identity() error {
	req, _ := c.body["identity"].(map[string]any)
	var prevID map[string]any
	if c.prev != nil {
		prevID, _ = c.prev["identity"].(map[string]any)
	}
	typ := ""
	if req != nil {
		typ = str(req["type"])
	} else if prevID != nil {
		typ = str(prevID["type"])
	}
	system := strings.Contains(strings.ToLower(typ), "systemassigned")
	prevPrincipal := ""
	if prevID != nil {
		prevPrincipal = str(prevID["principalId"])
	}
	switch {
	case system && prevPrincipal != "":
		c.doc["identity"] = map[string]any{"type": typ, "principalId": prevPrincipal, "tenantId": c.actor.TenantID}
	case system:
		sp, err := c.newIdentityPrincipal()
		if err != nil {
			return err
		}
		c.doc["identity"] = map[string]any{"type": typ, "principalId": sp.ID, "tenantId": c.actor.TenantID}
	default:
		if prevPrincipal != "" {
			if err := c.s.deleteIdentitiesAndAssignments(c.ctx, c.tx, c.id.SubscriptionID, "", []string{prevPrincipal}); err != nil {
				return err
			}
		}
		if typ != "" {
			c.doc["identity"] = map[string]any{"type": typ}
		}
	}
	return c.userAssignedIdentities(typ, req, prevID)
}

func completeWorkspace(c *completion) {
	p := c.props()
	rg := resourceGroupID(c.id.SubscriptionID, c.id.ResourceGroup)
	name := c.id.Name()
	flat := strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(name))
	if len(flat) > 12 {
		flat = flat[:12]
	}
	c.keep("workspaceId", uuid.NewString())
	if _, ok := p["friendlyName"]; !ok {
		c.keep("friendlyName", name)
	}
	for k, v := range map[string]string{
		"storageAccount":      rg + "/providers/Microsoft.Storage/storageAccounts/" + flat + "storage",
		"keyVault":            rg + "/providers/Microsoft.KeyVault/vaults/" + flat + "keyvault",
		"applicationInsights": rg + "/providers/Microsoft.Insights/components/" + flat + "insights",
		"containerRegistry":   rg + "/providers/Microsoft.ContainerRegistry/registries/" + flat + "registry",
	} {
		if _, ok := p[k]; !ok {
			c.keep(k, v)
		}
	}
	loc := str(c.doc["location"])
	p["discoveryUrl"] = "https://" + loc + ".api.azureml.ms/discovery"
	p["mlFlowTrackingUri"] = "azureml://" + loc + ".api.azureml.ms/mlflow/v1.0" + c.fullID
	p["tenantId"] = c.actor.TenantID
	for k, v := range map[string]any{"hbiWorkspace": false, "publicNetworkAccess": "Enabled", "v1LegacyMode": false, "description": ""} {
		if _, ok := p[k]; !ok {
			p[k] = v
		}
	}
	if _, ok := c.doc["sku"]; !ok {
		c.doc["sku"] = map[string]any{"name": "Basic", "tier": "Basic"}
	}
	if _, ok := c.doc["kind"]; !ok {
		c.doc["kind"] = "Default"
	}
	if c.prev == nil {
		c.defaultDatastore()
	}
}

// defaultDatastore adds the workspaceblobstore every workspace has.
func (c *completion) defaultDatastore() {
	id := c.fullID + "/datastores/workspaceblobstore"
	now := c.s.now().UTC()
	doc := Document{"id": id, "name": "workspaceblobstore", "type": ProviderML + "/workspaces/datastores",
		"properties": map[string]any{"datastoreType": "AzureBlob", "accountName": lastSegment(str(c.props()["storageAccount"])),
			"containerName": "azureml-blobstore-" + str(c.props()["workspaceId"]), "endpoint": "core.windows.net", "protocol": "https",
			"isDefault": true, "credentials": map[string]any{"credentialsType": "AccountKey"}, "tags": map[string]any{}, "properties": map[string]any{},
			"description": nil, "serviceDataAccessAuthIdentity": "WorkspaceSystemAssignedIdentity"},
		"systemData": c.doc["systemData"]}
	body, _ := json.Marshal(doc)
	c.children = append(c.children, domain.Resource{ID: id, TenantID: c.actor.TenantID, SubscriptionID: c.id.SubscriptionID,
		ResourceGroup: c.id.ResourceGroup, Type: ProviderML + "/workspaces/datastores", ParentID: strings.ToLower(c.fullID),
		Name: "workspaceblobstore", ETag: newETag(), Body: body, CreatedBy: c.actor.ObjectID, CreatedAt: now, UpdatedAt: now})
}

func completeCompute(c *completion) {
	p := c.props()
	inner, _ := p["properties"].(map[string]any)
	if inner == nil {
		inner = map[string]any{}
		p["properties"] = inner
	}
	scale, _ := inner["scaleSettings"].(map[string]any)
	min := 0.0
	if scale != nil {
		min, _ = scale["minNodeCount"].(float64)
	}
	inner["allocationState"] = "Steady"
	inner["currentNodeCount"] = min
	inner["targetNodeCount"] = min
	inner["nodeStateCounts"] = map[string]any{"idleNodeCount": min, "runningNodeCount": 0, "preparingNodeCount": 0,
		"unusableNodeCount": 0, "leavingNodeCount": 0, "preemptedNodeCount": 0}
	c.keep("createdOn", c.s.now().UTC().Format("2006-01-02T15:04:05.000000Z"))
	p["modifiedOn"] = c.s.now().UTC().Format("2006-01-02T15:04:05.000000Z")
	if _, ok := p["isAttachedCompute"]; !ok {
		p["isAttachedCompute"] = false
	}
	if _, ok := p["disableLocalAuth"]; !ok {
		p["disableLocalAuth"] = false
	}
}

func completeJob(c *completion) {
	p := c.props()
	if _, ok := p["status"]; !ok {
		// Tessera stores jobs; it does not run them.
		p["status"] = "NotStarted"
	}
	c.keep("services", map[string]any{})
}

func completeDatastore(c *completion) {
	// Secrets are accepted on write and never stored or returned.
	if cred, ok := c.props()["credentials"].(map[string]any); ok {
		delete(cred, "secrets")
	}
}

func completeConnection(c *completion) {
	// Connection credentials are write-only.
	p := c.props()
	for _, k := range []string{"credentials"} {
		if cred, ok := p[k].(map[string]any); ok {
			for ck := range cred {
				if ck != "type" {
					delete(cred, ck)
				}
			}
		}
	}
}

func completeEndpoint(c *completion) {
	p := c.props()
	loc := str(c.doc["location"])
	p["scoringUri"] = "https://" + c.id.Name() + "." + loc + ".inference.ml.azure.com/score"
	p["swaggerUri"] = "https://" + c.id.Name() + "." + loc + ".inference.ml.azure.com/swagger.json"
	if _, ok := p["authMode"]; !ok {
		p["authMode"] = "Key"
	}
	if _, ok := p["traffic"]; !ok {
		p["traffic"] = map[string]any{}
	}
}

func completeDeployment(c *completion) {
	if _, ok := c.doc["sku"]; !ok {
		c.doc["sku"] = map[string]any{"name": "Default", "capacity": 1}
	}
}

func completeVersion(c *completion) {
	p := c.props()
	if _, ok := p["isArchived"]; !ok {
		p["isArchived"] = false
	}
	if _, ok := p["isAnonymous"]; !ok {
		p["isAnonymous"] = false
	}
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }
