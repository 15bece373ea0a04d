// Package compute lets a program act as a node of a Tessera ML compute:
// register the node (a resource manager action on the compute, made with
// the caller's own credential), serve the managed-identity endpoint to the
// node's workloads on loopback, and keep a workload identity token file
// fresh. `tessera compute run` and `tessera node agent` are built on it.
package compute

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/tessera-id/tessera/sdk/credential"
)

// APIVersion is the api-version of the node actions.
const APIVersion = "2023-10-01"

// Client calls the resource manager of a Tessera.
type Client struct {
	base     string
	pipeline runtime.Pipeline
}

// NewClient returns a resource manager client for the Tessera cfg names,
// authenticating with cred.
func NewClient(cfg credential.Config, cred azcore.TokenCredential) *Client {
	auth := runtime.NewBearerTokenPolicy(cred, []string{credential.ManagementAudience + ".default"}, nil)
	opts := cfg.ClientOptions
	return &Client{base: strings.TrimRight(cfg.URL, "/"), pipeline: runtime.NewPipeline("tessera-compute", "v1.0.0",
		runtime.PipelineOptions{PerRetry: []policy.Policy{auth}}, &opts)}
}

// NodeInfo is a registered node as the resource manager describes it.
type NodeInfo struct {
	NodeID    string `json:"nodeId"`
	Name      string `json:"name"`
	ComputeID string `json:"computeId"`
	TenantID  string `json:"tenantId"`
	NodeState string `json:"nodeState"`
	CreatedAt string `json:"createdAt,omitempty"`
	CreatedBy string `json:"createdBy,omitempty"`
	RotatedAt string `json:"rotatedAt,omitempty"`
	ExpiresAt string `json:"expiresAt,omitempty"`
}

// Registration is a node with its secret, as registerNode and
// rotateNodeSecret return it.
type Registration struct {
	NodeInfo
	Secret                string `json:"secret"`
	IdentityEndpoint      string `json:"identityEndpoint"`
	IMDSEndpoint          string `json:"imdsEndpoint"`
	WorkloadTokenEndpoint string `json:"workloadTokenEndpoint"`
	WorkloadIdentity      struct {
		Issuer  string `json:"issuer"`
		Subject string `json:"subject"`
	} `json:"workloadIdentity"`
}

// action POSTs body to {computeID}/{name} and decodes the answer into out.
func (c *Client) action(ctx context.Context, computeID, name string, body, out any) error {
	return c.do(ctx, http.MethodPost, computeID+"/"+name, nil, body, out)
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("api-version", APIVersion)
	req, err := runtime.NewRequest(ctx, method, c.base+path+"?"+q.Encode())
	if err != nil {
		return err
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		if err := req.SetBody(streaming.NopCloser(bytes.NewReader(b)), "application/json"); err != nil {
			return err
		}
	}
	resp, err := c.pipeline.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return runtime.NewResponseError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

// Register registers a node on the compute computeID (an ARM id). ttl above
// zero makes the registration expire on its own.
func (c *Client) Register(ctx context.Context, computeID, name string, ttl time.Duration) (Registration, error) {
	var reg Registration
	err := c.action(ctx, computeID, "registerNode", map[string]any{"name": name, "expiresInSeconds": int64(ttl.Seconds())}, &reg)
	return reg, err
}

// Rotate issues the node a new secret; the old one stops working at once.
func (c *Client) Rotate(ctx context.Context, computeID, nodeID string) (Registration, error) {
	var reg Registration
	err := c.action(ctx, computeID, "rotateNodeSecret", map[string]string{"nodeId": nodeID}, &reg)
	return reg, err
}

// Revoke deletes the node's registration; its secret stops working at once.
func (c *Client) Revoke(ctx context.Context, computeID, nodeID string) error {
	return c.action(ctx, computeID, "revokeNode", map[string]string{"nodeId": nodeID}, nil)
}

// List lists the nodes of a compute.
func (c *Client) List(ctx context.Context, computeID string) ([]NodeInfo, error) {
	var out struct {
		Nodes []NodeInfo `json:"nodes"`
	}
	err := c.action(ctx, computeID, "listNodes", map[string]any{}, &out)
	return out.Nodes, err
}

// WorkspaceType is the ARM type of ML workspaces.
const WorkspaceType = "Microsoft.MachineLearningServices/workspaces"

// FindWorkspace returns the ARM id of the workspace named name: the name
// itself when it is already an id; else the one workspace of that name in
// resourceGroup (and subscription, when given) among what the caller can
// see.
func (c *Client) FindWorkspace(ctx context.Context, name, subscription, resourceGroup string) (string, error) {
	if strings.HasPrefix(strings.ToLower(name), "/subscriptions/") {
		return strings.TrimRight(name, "/"), nil
	}
	subs := []string{subscription}
	if subscription == "" {
		var list struct {
			Value []struct {
				SubscriptionID string `json:"subscriptionId"`
			} `json:"value"`
		}
		if err := c.do(ctx, http.MethodGet, "/subscriptions", nil, nil, &list); err != nil {
			return "", fmt.Errorf("list subscriptions: %w", err)
		}
		subs = subs[:0]
		for _, s := range list.Value {
			subs = append(subs, s.SubscriptionID)
		}
	}
	var found []string
	for _, sub := range subs {
		filter := "resourceType eq '" + WorkspaceType + "'"
		if resourceGroup != "" {
			filter = "resourceGroup eq '" + resourceGroup + "' and " + filter
		}
		var list struct {
			Value []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"value"`
		}
		if err := c.do(ctx, http.MethodGet, "/subscriptions/"+sub+"/resources", url.Values{"$filter": {filter}}, nil, &list); err != nil {
			return "", fmt.Errorf("list workspaces of subscription %s: %w", sub, err)
		}
		for _, w := range list.Value {
			if strings.EqualFold(w.Name, name) {
				found = append(found, w.ID)
			}
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no workspace named %q is visible to you (give --resource-group, --subscription or the workspace's full id)", name)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%d workspaces are named %q: give --resource-group or the workspace's full id (%s)", len(found), name, strings.Join(found, ", "))
}

// Identities are the managed identities a compute carries.
type Identities struct {
	// SystemAssigned is the principal id of the system-assigned identity, or "".
	SystemAssigned string
	// UserAssigned are the client ids of the user-assigned identities.
	UserAssigned []string
}

// Identities reads the managed identities of the compute computeID.
func (c *Client) Identities(ctx context.Context, computeID string) (Identities, error) {
	var compute struct {
		Identity *struct {
			Type                   string `json:"type"`
			PrincipalID            string `json:"principalId"`
			UserAssignedIdentities map[string]struct {
				ClientID string `json:"clientId"`
			} `json:"userAssignedIdentities"`
		} `json:"identity"`
	}
	if err := c.do(ctx, http.MethodGet, computeID, nil, nil, &compute); err != nil {
		return Identities{}, err
	}
	var ids Identities
	if compute.Identity == nil {
		return ids, nil
	}
	if strings.Contains(strings.ToLower(compute.Identity.Type), "systemassigned") {
		ids.SystemAssigned = compute.Identity.PrincipalID
	}
	for _, u := range compute.Identity.UserAssignedIdentities {
		ids.UserAssigned = append(ids.UserAssigned, u.ClientID)
	}
	return ids, nil
}
