package workspace

import (
	"context"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
)

// The child resources of a workspace. Each helper lists (all pages), gets,
// creates or replaces (waiting for long-running operations) and deletes,
// with armmachinelearning's own types; Raw gives the generated client.

// Computes are the workspace's compute targets.
type Computes struct {
	ws  *Client
	raw *armmachinelearning.ComputeClient
}

// Computes returns the workspace's compute client.
func (c *Client) Computes() *Computes {
	return &Computes{ws: c, raw: c.factory.NewComputeClient()}
}

// Raw is the generated client.
func (x *Computes) Raw() *armmachinelearning.ComputeClient { return x.raw }

// List lists the computes.
func (x *Computes) List(ctx context.Context) ([]*armmachinelearning.ComputeResource, error) {
	return collect(ctx, x.raw.NewListPager(x.ws.ResourceGroup, x.ws.Name, nil), func(r armmachinelearning.ComputeClientListResponse) []*armmachinelearning.ComputeResource {
		return r.Value
	})
}

// Get reads a compute.
func (x *Computes) Get(ctx context.Context, name string) (*armmachinelearning.ComputeResource, error) {
	r, err := x.raw.Get(ctx, x.ws.ResourceGroup, x.ws.Name, name, nil)
	if err != nil {
		return nil, err
	}
	return &r.ComputeResource, nil
}

// CreateOrUpdate creates or replaces a compute and waits for the operation.
func (x *Computes) CreateOrUpdate(ctx context.Context, name string, compute armmachinelearning.ComputeResource) (*armmachinelearning.ComputeResource, error) {
	p, err := x.raw.BeginCreateOrUpdate(ctx, x.ws.ResourceGroup, x.ws.Name, name, compute, nil)
	r, err := wait(ctx, p, err, x.ws.poll)
	if err != nil {
		return nil, err
	}
	return &r.ComputeResource, nil
}

// Delete deletes a compute (underlyingResourceAction=Delete) and waits.
func (x *Computes) Delete(ctx context.Context, name string) error {
	p, err := x.raw.BeginDelete(ctx, x.ws.ResourceGroup, x.ws.Name, name, armmachinelearning.UnderlyingResourceActionDelete, nil)
	_, err = wait(ctx, p, err, x.ws.poll)
	return err
}

// Jobs are the workspace's jobs (records: Tessera does not run them).
type Jobs struct {
	ws  *Client
	raw *armmachinelearning.JobsClient
}

// Jobs returns the workspace's jobs client.
func (c *Client) Jobs() *Jobs { return &Jobs{ws: c, raw: c.factory.NewJobsClient()} }

// Raw is the generated client.
func (x *Jobs) Raw() *armmachinelearning.JobsClient { return x.raw }

// List lists the active jobs.
func (x *Jobs) List(ctx context.Context) ([]*armmachinelearning.JobBase, error) {
	return collect(ctx, x.raw.NewListPager(x.ws.ResourceGroup, x.ws.Name, nil), func(r armmachinelearning.JobsClientListResponse) []*armmachinelearning.JobBase {
		return r.Value
	})
}

// Get reads a job.
func (x *Jobs) Get(ctx context.Context, name string) (*armmachinelearning.JobBase, error) {
	r, err := x.raw.Get(ctx, x.ws.ResourceGroup, x.ws.Name, name, nil)
	if err != nil {
		return nil, err
	}
	return &r.JobBase, nil
}

// CreateOrUpdate creates or replaces a job.
func (x *Jobs) CreateOrUpdate(ctx context.Context, name string, job armmachinelearning.JobBase) (*armmachinelearning.JobBase, error) {
	r, err := x.raw.CreateOrUpdate(ctx, x.ws.ResourceGroup, x.ws.Name, name, job, nil)
	if err != nil {
		return nil, err
	}
	return &r.JobBase, nil
}

// Delete deletes a job and waits.
func (x *Jobs) Delete(ctx context.Context, name string) error {
	p, err := x.raw.BeginDelete(ctx, x.ws.ResourceGroup, x.ws.Name, name, nil)
	_, err = wait(ctx, p, err, x.ws.poll)
	return err
}

// Models are the workspace's model containers and their versions.
type Models struct {
	ws       *Client
	raw      *armmachinelearning.ModelContainersClient
	versions *armmachinelearning.ModelVersionsClient
}

// Models returns the workspace's models client.
func (c *Client) Models() *Models {
	return &Models{ws: c, raw: c.factory.NewModelContainersClient(), versions: c.factory.NewModelVersionsClient()}
}

// Raw is the generated containers client.
func (x *Models) Raw() *armmachinelearning.ModelContainersClient { return x.raw }

// RawVersions is the generated versions client.
func (x *Models) RawVersions() *armmachinelearning.ModelVersionsClient { return x.versions }

// List lists the models.
func (x *Models) List(ctx context.Context) ([]*armmachinelearning.ModelContainer, error) {
	return collect(ctx, x.raw.NewListPager(x.ws.ResourceGroup, x.ws.Name, nil), func(r armmachinelearning.ModelContainersClientListResponse) []*armmachinelearning.ModelContainer {
		return r.Value
	})
}

// Get reads a model.
func (x *Models) Get(ctx context.Context, name string) (*armmachinelearning.ModelContainer, error) {
	r, err := x.raw.Get(ctx, x.ws.ResourceGroup, x.ws.Name, name, nil)
	if err != nil {
		return nil, err
	}
	return &r.ModelContainer, nil
}

// CreateOrUpdate creates or replaces a model.
func (x *Models) CreateOrUpdate(ctx context.Context, name string, m armmachinelearning.ModelContainer) (*armmachinelearning.ModelContainer, error) {
	r, err := x.raw.CreateOrUpdate(ctx, x.ws.ResourceGroup, x.ws.Name, name, m, nil)
	if err != nil {
		return nil, err
	}
	return &r.ModelContainer, nil
}

// Delete deletes a model.
func (x *Models) Delete(ctx context.Context, name string) error {
	_, err := x.raw.Delete(ctx, x.ws.ResourceGroup, x.ws.Name, name, nil)
	return err
}

// ListVersions lists a model's versions.
func (x *Models) ListVersions(ctx context.Context, name string) ([]*armmachinelearning.ModelVersion, error) {
	return collect(ctx, x.versions.NewListPager(x.ws.ResourceGroup, x.ws.Name, name, nil), func(r armmachinelearning.ModelVersionsClientListResponse) []*armmachinelearning.ModelVersion {
		return r.Value
	})
}

// GetVersion reads a model version.
func (x *Models) GetVersion(ctx context.Context, name, version string) (*armmachinelearning.ModelVersion, error) {
	r, err := x.versions.Get(ctx, x.ws.ResourceGroup, x.ws.Name, name, version, nil)
	if err != nil {
		return nil, err
	}
	return &r.ModelVersion, nil
}

// CreateOrUpdateVersion creates or replaces a model version.
func (x *Models) CreateOrUpdateVersion(ctx context.Context, name, version string, v armmachinelearning.ModelVersion) (*armmachinelearning.ModelVersion, error) {
	r, err := x.versions.CreateOrUpdate(ctx, x.ws.ResourceGroup, x.ws.Name, name, version, v, nil)
	if err != nil {
		return nil, err
	}
	return &r.ModelVersion, nil
}

// DeleteVersion deletes a model version.
func (x *Models) DeleteVersion(ctx context.Context, name, version string) error {
	_, err := x.versions.Delete(ctx, x.ws.ResourceGroup, x.ws.Name, name, version, nil)
	return err
}

// Environments are the workspace's environment containers and versions.
type Environments struct {
	ws       *Client
	raw      *armmachinelearning.EnvironmentContainersClient
	versions *armmachinelearning.EnvironmentVersionsClient
}

// Environments returns the workspace's environments client.
func (c *Client) Environments() *Environments {
	return &Environments{ws: c, raw: c.factory.NewEnvironmentContainersClient(), versions: c.factory.NewEnvironmentVersionsClient()}
}

// Raw is the generated containers client.
func (x *Environments) Raw() *armmachinelearning.EnvironmentContainersClient { return x.raw }

// RawVersions is the generated versions client.
func (x *Environments) RawVersions() *armmachinelearning.EnvironmentVersionsClient { return x.versions }

// List lists the environments.
func (x *Environments) List(ctx context.Context) ([]*armmachinelearning.EnvironmentContainer, error) {
	return collect(ctx, x.raw.NewListPager(x.ws.ResourceGroup, x.ws.Name, nil), func(r armmachinelearning.EnvironmentContainersClientListResponse) []*armmachinelearning.EnvironmentContainer {
		return r.Value
	})
}

// Get reads an environment.
func (x *Environments) Get(ctx context.Context, name string) (*armmachinelearning.EnvironmentContainer, error) {
	r, err := x.raw.Get(ctx, x.ws.ResourceGroup, x.ws.Name, name, nil)
	if err != nil {
		return nil, err
	}
	return &r.EnvironmentContainer, nil
}

// CreateOrUpdate creates or replaces an environment.
func (x *Environments) CreateOrUpdate(ctx context.Context, name string, e armmachinelearning.EnvironmentContainer) (*armmachinelearning.EnvironmentContainer, error) {
	r, err := x.raw.CreateOrUpdate(ctx, x.ws.ResourceGroup, x.ws.Name, name, e, nil)
	if err != nil {
		return nil, err
	}
	return &r.EnvironmentContainer, nil
}

// Delete deletes an environment.
func (x *Environments) Delete(ctx context.Context, name string) error {
	_, err := x.raw.Delete(ctx, x.ws.ResourceGroup, x.ws.Name, name, nil)
	return err
}

// ListVersions lists an environment's versions.
func (x *Environments) ListVersions(ctx context.Context, name string) ([]*armmachinelearning.EnvironmentVersion, error) {
	return collect(ctx, x.versions.NewListPager(x.ws.ResourceGroup, x.ws.Name, name, nil), func(r armmachinelearning.EnvironmentVersionsClientListResponse) []*armmachinelearning.EnvironmentVersion {
		return r.Value
	})
}

// GetVersion reads an environment version.
func (x *Environments) GetVersion(ctx context.Context, name, version string) (*armmachinelearning.EnvironmentVersion, error) {
	r, err := x.versions.Get(ctx, x.ws.ResourceGroup, x.ws.Name, name, version, nil)
	if err != nil {
		return nil, err
	}
	return &r.EnvironmentVersion, nil
}

// CreateOrUpdateVersion creates or replaces an environment version.
func (x *Environments) CreateOrUpdateVersion(ctx context.Context, name, version string, v armmachinelearning.EnvironmentVersion) (*armmachinelearning.EnvironmentVersion, error) {
	r, err := x.versions.CreateOrUpdate(ctx, x.ws.ResourceGroup, x.ws.Name, name, version, v, nil)
	if err != nil {
		return nil, err
	}
	return &r.EnvironmentVersion, nil
}

// DeleteVersion deletes an environment version.
func (x *Environments) DeleteVersion(ctx context.Context, name, version string) error {
	_, err := x.versions.Delete(ctx, x.ws.ResourceGroup, x.ws.Name, name, version, nil)
	return err
}

// Datastores are the workspace's datastores (Tessera stores their
// descriptions; it holds no storage secrets).
type Datastores struct {
	ws  *Client
	raw *armmachinelearning.DatastoresClient
}

// Datastores returns the workspace's datastores client.
func (c *Client) Datastores() *Datastores {
	return &Datastores{ws: c, raw: c.factory.NewDatastoresClient()}
}

// Raw is the generated client.
func (x *Datastores) Raw() *armmachinelearning.DatastoresClient { return x.raw }

// List lists the datastores.
func (x *Datastores) List(ctx context.Context) ([]*armmachinelearning.Datastore, error) {
	return collect(ctx, x.raw.NewListPager(x.ws.ResourceGroup, x.ws.Name, nil), func(r armmachinelearning.DatastoresClientListResponse) []*armmachinelearning.Datastore {
		return r.Value
	})
}

// Get reads a datastore.
func (x *Datastores) Get(ctx context.Context, name string) (*armmachinelearning.Datastore, error) {
	r, err := x.raw.Get(ctx, x.ws.ResourceGroup, x.ws.Name, name, nil)
	if err != nil {
		return nil, err
	}
	return &r.Datastore, nil
}

// CreateOrUpdate creates or replaces a datastore.
func (x *Datastores) CreateOrUpdate(ctx context.Context, name string, d armmachinelearning.Datastore) (*armmachinelearning.Datastore, error) {
	r, err := x.raw.CreateOrUpdate(ctx, x.ws.ResourceGroup, x.ws.Name, name, d, nil)
	if err != nil {
		return nil, err
	}
	return &r.Datastore, nil
}

// Delete deletes a datastore.
func (x *Datastores) Delete(ctx context.Context, name string) error {
	_, err := x.raw.Delete(ctx, x.ws.ResourceGroup, x.ws.Name, name, nil)
	return err
}

// OnlineEndpoints are the workspace's online endpoints.
type OnlineEndpoints struct {
	ws  *Client
	raw *armmachinelearning.OnlineEndpointsClient
}

// OnlineEndpoints returns the workspace's online endpoints client.
func (c *Client) OnlineEndpoints() *OnlineEndpoints {
	return &OnlineEndpoints{ws: c, raw: c.factory.NewOnlineEndpointsClient()}
}

// Raw is the generated client.
func (x *OnlineEndpoints) Raw() *armmachinelearning.OnlineEndpointsClient { return x.raw }

// List lists the online endpoints.
func (x *OnlineEndpoints) List(ctx context.Context) ([]*armmachinelearning.OnlineEndpoint, error) {
	return collect(ctx, x.raw.NewListPager(x.ws.ResourceGroup, x.ws.Name, nil), func(r armmachinelearning.OnlineEndpointsClientListResponse) []*armmachinelearning.OnlineEndpoint {
		return r.Value
	})
}

// Get reads an online endpoint.
func (x *OnlineEndpoints) Get(ctx context.Context, name string) (*armmachinelearning.OnlineEndpoint, error) {
	r, err := x.raw.Get(ctx, x.ws.ResourceGroup, x.ws.Name, name, nil)
	if err != nil {
		return nil, err
	}
	return &r.OnlineEndpoint, nil
}

// CreateOrUpdate creates or replaces an online endpoint and waits.
func (x *OnlineEndpoints) CreateOrUpdate(ctx context.Context, name string, e armmachinelearning.OnlineEndpoint) (*armmachinelearning.OnlineEndpoint, error) {
	p, err := x.raw.BeginCreateOrUpdate(ctx, x.ws.ResourceGroup, x.ws.Name, name, e, nil)
	r, err := wait(ctx, p, err, x.ws.poll)
	if err != nil {
		return nil, err
	}
	return &r.OnlineEndpoint, nil
}

// Delete deletes an online endpoint and waits.
func (x *OnlineEndpoints) Delete(ctx context.Context, name string) error {
	p, err := x.raw.BeginDelete(ctx, x.ws.ResourceGroup, x.ws.Name, name, nil)
	_, err = wait(ctx, p, err, x.ws.poll)
	return err
}
