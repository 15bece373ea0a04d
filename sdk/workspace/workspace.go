// Package workspace gives Go programs what azure-ai-ml's MLClient gives
// Python ones: FromConfig with the same config.json discovery, and clients
// for a workspace and its child resources (computes, jobs, models,
// datastores, environments, online endpoints).
//
// Every call goes through the Azure SDK for Go's resource manager package
// for Machine Learning (armmachinelearning) pointed at Tessera: the
// generated clients, their pagers and long-running-operation pollers, and
// the request shapes and api-versions Azure's own SDK sends. The types in
// and out are that package's; Raw methods expose the generated clients for
// anything these helpers do not cover.
//
//	cred, cfg, err := credential.NewDefault(nil)
//	ws, err := workspace.FromConfig(cred, "", workspace.WithConfig(cfg))
//	w, err := ws.Get(ctx)
//	computes, err := ws.Computes().List(ctx)
package workspace

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"

	"github.com/tessera-id/tessera/sdk/credential"
)

// Option configures the clients.
type Option func(*options)

type options struct {
	cfg      *credential.Config
	arm      *arm.ClientOptions
	fileName string
	poll     time.Duration
}

// WithConfig points the clients at the Tessera cfg describes (as returned
// by credential.NewDefault or credential.Resolve). Without it, and without
// WithClientOptions, the clients call credential.Resolve(nil): TESSERA_URL,
// AZURE_AUTHORITY_HOST or the `tessera login` cache.
func WithConfig(cfg credential.Config) Option {
	return func(o *options) { o.cfg = &cfg }
}

// WithClientOptions gives the resource manager client options outright
// (e.g. Azure itself: arm.ClientOptions{} with cloud.AzurePublic).
func WithClientOptions(co *arm.ClientOptions) Option {
	return func(o *options) { o.arm = co }
}

// WithFileName overrides the configuration file name FromConfig looks for
// in directories (azure-ai-ml's file_name).
func WithFileName(name string) Option {
	return func(o *options) { o.fileName = name }
}

// WithPollInterval sets how often long-running operations are polled when
// the server gives no Retry-After (default one second).
func WithPollInterval(d time.Duration) Option {
	return func(o *options) { o.poll = d }
}

func resolve(opts []Option) (options, *arm.ClientOptions, error) {
	var o options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	if o.poll <= 0 {
		o.poll = time.Second
	}
	if o.arm != nil {
		return o, o.arm, nil
	}
	if o.cfg == nil {
		cfg, err := credential.Resolve(nil)
		if err != nil {
			return o, nil, err
		}
		o.cfg = &cfg
	}
	return o, &arm.ClientOptions{ClientOptions: o.cfg.ClientOptions}, nil
}

// Client is one workspace: its identity and clients for what it holds.
type Client struct {
	SubscriptionID string
	ResourceGroup  string
	Name           string

	factory *armmachinelearning.ClientFactory
	poll    time.Duration
}

// FromConfig is MLClient.from_config: it finds the workspace configuration
// from path (see FindConfig; "" is the working directory) and returns the
// workspace's client.
func FromConfig(cred azcore.TokenCredential, path string, opts ...Option) (*Client, error) {
	o, _, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	c, err := FindConfig(path, o.fileName)
	if err != nil {
		return nil, err
	}
	return New(cred, c.SubscriptionID, c.ResourceGroup, c.WorkspaceName, opts...)
}

// New returns the client of a named workspace.
func New(cred azcore.TokenCredential, subscriptionID, resourceGroup, name string, opts ...Option) (*Client, error) {
	if subscriptionID == "" || resourceGroup == "" || name == "" {
		return nil, errors.New("workspace: subscription, resource group and workspace name are all required")
	}
	o, co, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	f, err := armmachinelearning.NewClientFactory(subscriptionID, cred, co)
	if err != nil {
		return nil, err
	}
	return &Client{SubscriptionID: subscriptionID, ResourceGroup: resourceGroup, Name: name, factory: f, poll: o.poll}, nil
}

// ParseID splits a workspace ARM id into subscription, resource group and
// name.
func ParseID(id string) (subscriptionID, resourceGroup, name string, err error) {
	p := strings.Split(strings.Trim(id, "/"), "/")
	if len(p) != 8 || !strings.EqualFold(p[0], "subscriptions") || !strings.EqualFold(p[2], "resourceGroups") ||
		!strings.EqualFold(p[5], "Microsoft.MachineLearningServices") || !strings.EqualFold(p[6], "workspaces") {
		return "", "", "", fmt.Errorf("%q is not a workspace id (/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{name})", id)
	}
	return p[1], p[3], p[7], nil
}

// ID is the workspace's ARM id.
func (c *Client) ID() string {
	return Config{SubscriptionID: c.SubscriptionID, ResourceGroup: c.ResourceGroup, WorkspaceName: c.Name}.ID()
}

// Config is the workspace's config.json content.
func (c *Client) Config() Config {
	return Config{SubscriptionID: c.SubscriptionID, ResourceGroup: c.ResourceGroup, WorkspaceName: c.Name}
}

// Factory is the armmachinelearning client factory of the workspace's
// subscription, for the clients this package does not wrap.
func (c *Client) Factory() *armmachinelearning.ClientFactory { return c.factory }

// Get reads the workspace.
func (c *Client) Get(ctx context.Context) (*armmachinelearning.Workspace, error) {
	r, err := c.factory.NewWorkspacesClient().Get(ctx, c.ResourceGroup, c.Name, nil)
	if err != nil {
		return nil, err
	}
	return &r.Workspace, nil
}

// Workspaces manages the workspaces of one subscription.
type Workspaces struct {
	SubscriptionID string
	raw            *armmachinelearning.WorkspacesClient
	poll           time.Duration
}

// NewWorkspaces returns the workspaces client of a subscription.
func NewWorkspaces(cred azcore.TokenCredential, subscriptionID string, opts ...Option) (*Workspaces, error) {
	o, co, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	raw, err := armmachinelearning.NewWorkspacesClient(subscriptionID, cred, co)
	if err != nil {
		return nil, err
	}
	return &Workspaces{SubscriptionID: subscriptionID, raw: raw, poll: o.poll}, nil
}

// Raw is the generated client.
func (w *Workspaces) Raw() *armmachinelearning.WorkspacesClient { return w.raw }

// List lists the workspaces of a resource group, or of the whole
// subscription when resourceGroup is empty, following nextLinks.
func (w *Workspaces) List(ctx context.Context, resourceGroup string) ([]*armmachinelearning.Workspace, error) {
	if resourceGroup == "" {
		return collect(ctx, w.raw.NewListBySubscriptionPager(nil), func(r armmachinelearning.WorkspacesClientListBySubscriptionResponse) []*armmachinelearning.Workspace {
			return r.Value
		})
	}
	return collect(ctx, w.raw.NewListByResourceGroupPager(resourceGroup, nil), func(r armmachinelearning.WorkspacesClientListByResourceGroupResponse) []*armmachinelearning.Workspace {
		return r.Value
	})
}

// Get reads a workspace.
func (w *Workspaces) Get(ctx context.Context, resourceGroup, name string) (*armmachinelearning.Workspace, error) {
	r, err := w.raw.Get(ctx, resourceGroup, name, nil)
	if err != nil {
		return nil, err
	}
	return &r.Workspace, nil
}

// CreateOrUpdate creates or replaces a workspace and waits for it.
func (w *Workspaces) CreateOrUpdate(ctx context.Context, resourceGroup, name string, ws armmachinelearning.Workspace) (*armmachinelearning.Workspace, error) {
	p, err := w.raw.BeginCreateOrUpdate(ctx, resourceGroup, name, ws, nil)
	r, err := wait(ctx, p, err, w.poll)
	if err != nil {
		return nil, err
	}
	return &r.Workspace, nil
}

// Delete deletes a workspace (and, on the server, everything it holds)
// and waits for it.
func (w *Workspaces) Delete(ctx context.Context, resourceGroup, name string) error {
	p, err := w.raw.BeginDelete(ctx, resourceGroup, name, nil)
	_, err = wait(ctx, p, err, w.poll)
	return err
}

// collect reads every page of a pager.
func collect[R, T any](ctx context.Context, p *runtime.Pager[R], items func(R) []*T) ([]*T, error) {
	out := []*T{}
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, items(page)...)
	}
	return out, nil
}

// wait polls a long-running operation to its end.
func wait[T any](ctx context.Context, p *runtime.Poller[T], err error, every time.Duration) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	return p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: every})
}
