// Package directory resolves directory objects through Tessera's Microsoft
// Graph API: the lookups a CLI needs to turn a user principal name, an app id
// or an identifier URI into an object id.
package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/google/uuid"
)

// Client calls Graph at {base}/graph/v1.0 with tokens for {base}/graph/.
type Client struct {
	base     string
	pipeline runtime.Pipeline
}

// New returns a Graph client for the Tessera at base.
func New(base string, cred azcore.TokenCredential, opts azcore.ClientOptions) *Client {
	base = strings.TrimRight(base, "/")
	auth := runtime.NewBearerTokenPolicy(cred, []string{base + "/graph/.default"}, nil)
	return &Client{base: base, pipeline: runtime.NewPipeline("tessera-directory", "v1.0.0", runtime.PipelineOptions{
		PerRetry: []policy.Policy{auth},
	}, &opts)}
}

// Object is a resolved directory object.
type Object struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// Type is User, ServicePrincipal or Group (RBAC's principalType).
	Type string `json:"-"`
}

func (c *Client) list(ctx context.Context, collection, filter string) ([]Object, error) {
	u := c.base + "/graph/v1.0/" + collection + "?$filter=" + url.QueryEscape(filter)
	req, err := runtime.NewRequest(ctx, http.MethodGet, u)
	if err != nil {
		return nil, err
	}
	resp, err := c.pipeline.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, runtime.NewResponseError(resp)
	}
	var body struct {
		Value []Object `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decode %s list: %w", collection, err)
	}
	return body.Value, nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ResolvePrincipal finds the object an assignee names, the way az does: a
// UPN (contains @) is a user; otherwise a service principal name (app id or
// identifier URI); otherwise, for a GUID, the object id itself.
func (c *Client) ResolvePrincipal(ctx context.Context, assignee string) (Object, error) {
	if strings.Contains(assignee, "@") {
		users, err := c.list(ctx, "users", "userPrincipalName eq "+quote(assignee))
		if err != nil {
			return Object{}, err
		}
		if len(users) == 1 {
			users[0].Type = "User"
			return users[0], nil
		}
		return Object{}, fmt.Errorf("no user with user principal name %q", assignee)
	}
	sps, err := c.list(ctx, "servicePrincipals", "servicePrincipalNames/any(c:c eq "+quote(assignee)+")")
	if err != nil {
		return Object{}, err
	}
	if len(sps) == 1 {
		sps[0].Type = "ServicePrincipal"
		return sps[0], nil
	}
	if _, err := uuid.Parse(assignee); err == nil {
		// An object id: the server checks it exists when the assignment is made.
		return Object{ID: strings.ToLower(assignee)}, nil
	}
	return Object{}, fmt.Errorf("cannot find user or service principal %q in the directory", assignee)
}

// Names maps object ids (lower case) to the name a person knows them by:
// a user's principal name, a service principal's or group's display name.
// Ids Graph does not know are left out. Graph answers up to 1000 ids a call.
func (c *Client) Names(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	seen := map[string]bool{}
	var unique []string
	for _, id := range ids {
		if k := strings.ToLower(id); id != "" && !seen[k] {
			seen[k] = true
			unique = append(unique, id)
		}
	}
	for start := 0; start < len(unique); start += 1000 {
		batch := unique[start:min(start+1000, len(unique))]
		var resp struct {
			Value []struct {
				ID                string `json:"id"`
				DisplayName       string `json:"displayName"`
				UserPrincipalName string `json:"userPrincipalName"`
			} `json:"value"`
		}
		if err := c.do(ctx, http.MethodPost, "/directoryObjects/getByIds", map[string]any{"ids": batch}, &resp); err != nil {
			return nil, fmt.Errorf("look up principal names: %w", err)
		}
		for _, o := range resp.Value {
			name := o.UserPrincipalName
			if name == "" {
				name = o.DisplayName
			}
			out[strings.ToLower(o.ID)] = name
		}
	}
	return out, nil
}
