package integration

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"

	"github.com/tessera-id/tessera/sdk/credential"
	"github.com/tessera-id/tessera/sdk/workspace"
	"github.com/tessera-id/tessera/test/testserver"
)

// sdkEnv points credential.NewDefault at s as the service principal
// appID (the environment link) and isolates it from this machine's az and
// tessera sign-ins.
func sdkEnv(t *testing.T, s *testserver.Server, tenant, appID, secret string) {
	t.Helper()
	for _, k := range []string{"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE",
		"MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_AUTHORITY_HOST"} {
		t.Setenv(k, "")
	}
	t.Setenv("TESSERA_URL", s.URL)
	t.Setenv("TESSERA_CA_FILE", s.Bootstrap.CAFile)
	t.Setenv("AZURE_TENANT_ID", tenant)
	t.Setenv("AZURE_CLIENT_ID", appID)
	t.Setenv("AZURE_CLIENT_SECRET", secret)
	t.Setenv("TESSERA_CONFIG_DIR", t.TempDir())
	t.Setenv("AZURE_CONFIG_DIR", t.TempDir())
}

func responseCode(err error) (int, string) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, re.ErrorCode
	}
	return 0, ""
}

// TestWorkspaceSDK drives sdk/workspace — the Azure SDK for Go's
// armmachinelearning clients, unmodified, with credential.NewDefault —
// through a workspace's life and each kind of child resource.
func TestWorkspaceSDK(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	admin := s.Bootstrap.AdminServicePrincipal
	// The adfs alias, as `tessera env` sets it.
	sdkEnv(t, s, "adfs", admin.AppID, admin.Secret)
	cred, cfg, err := credential.NewDefault(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sub := s.Bootstrap.SubscriptionID
	if r := s.ARM(t, s.AdminARMToken(t), "PUT", "/subscriptions/"+sub+"/resourcegroups/sdk-rg?api-version=2021-04-01", map[string]any{"location": "eastus"}); r.Status >= 300 {
		t.Fatalf("resource group: %d %s", r.Status, r.Raw)
	}

	wss, err := workspace.NewWorkspaces(cred, sub, workspace.WithConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	created, err := wss.CreateOrUpdate(ctx, "sdk-rg", "sdkws", armmachinelearning.Workspace{
		Location:   to.Ptr("eastus"),
		Identity:   &armmachinelearning.ManagedServiceIdentity{Type: to.Ptr(armmachinelearning.ManagedServiceIdentityTypeSystemAssigned)},
		Properties: &armmachinelearning.WorkspaceProperties{FriendlyName: to.Ptr("SDK workspace")},
	})
	if err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	if created.Identity == nil || created.Identity.PrincipalID == nil || created.Properties.ProvisioningState == nil ||
		*created.Properties.ProvisioningState != armmachinelearning.ProvisioningStateSucceeded {
		t.Fatalf("created workspace %+v", created)
	}
	for _, rg := range []string{"sdk-rg", ""} {
		list, err := wss.List(ctx, rg)
		if err != nil {
			t.Fatalf("list workspaces (resource group %q): %v", rg, err)
		}
		if len(list) != 1 || *list[0].Name != "sdkws" {
			t.Fatalf("list workspaces (resource group %q): %d", rg, len(list))
		}
	}

	// FromConfig reads config.json as MLClient.from_config does.
	dir := t.TempDir()
	if _, err := (workspace.Config{SubscriptionID: sub, ResourceGroup: "sdk-rg", WorkspaceName: "sdkws"}).Write(dir); err != nil {
		t.Fatal(err)
	}
	ws, err := workspace.FromConfig(cred, dir, workspace.WithConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ws.Get(ctx)
	if err != nil || *got.ID != ws.ID() || *got.Properties.FriendlyName != "SDK workspace" {
		t.Fatalf("get through FromConfig: %+v %v", got, err)
	}

	t.Run("computes", func(t *testing.T) {
		c, err := ws.Computes().CreateOrUpdate(ctx, "cpu", armmachinelearning.ComputeResource{
			Location: to.Ptr("eastus"),
			Properties: &armmachinelearning.AmlCompute{
				ComputeType: to.Ptr(armmachinelearning.ComputeTypeAmlCompute),
				Properties: &armmachinelearning.AmlComputeProperties{
					VMSize:        to.Ptr("STANDARD_DS3_V2"),
					ScaleSettings: &armmachinelearning.ScaleSettings{MaxNodeCount: to.Ptr[int32](2), MinNodeCount: to.Ptr[int32](0)},
				},
			},
		})
		if err != nil {
			t.Fatalf("create compute: %v", err)
		}
		aml, ok := c.Properties.(*armmachinelearning.AmlCompute)
		if !ok || aml.ProvisioningState == nil || *aml.ProvisioningState != armmachinelearning.ProvisioningStateSucceeded {
			t.Fatalf("compute %T %+v", c.Properties, c.Properties)
		}
		list, err := ws.Computes().List(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("list computes: %d %v", len(list), err)
		}
		if _, err := ws.Computes().Get(ctx, "cpu"); err != nil {
			t.Fatal(err)
		}
		if err := ws.Computes().Delete(ctx, "cpu"); err != nil {
			t.Fatalf("delete compute: %v", err)
		}
		if _, err := ws.Computes().Get(ctx, "cpu"); err == nil {
			t.Fatal("the compute outlived its deletion")
		} else if st, _ := responseCode(err); st != http.StatusNotFound {
			t.Fatalf("get a deleted compute: %v", err)
		}
	})

	t.Run("environments", func(t *testing.T) {
		e := ws.Environments()
		if _, err := e.CreateOrUpdate(ctx, "py", armmachinelearning.EnvironmentContainer{Properties: &armmachinelearning.EnvironmentContainerProperties{Description: to.Ptr("python")}}); err != nil {
			t.Fatalf("create environment: %v", err)
		}
		if _, err := e.CreateOrUpdateVersion(ctx, "py", "1", armmachinelearning.EnvironmentVersion{Properties: &armmachinelearning.EnvironmentVersionProperties{
			Image: to.Ptr("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04")}}); err != nil {
			t.Fatalf("create environment version: %v", err)
		}
		if l, err := e.List(ctx); err != nil || len(l) != 1 {
			t.Fatalf("list environments: %d %v", len(l), err)
		}
		if l, err := e.ListVersions(ctx, "py"); err != nil || len(l) != 1 {
			t.Fatalf("list environment versions: %d %v", len(l), err)
		}
		if v, err := e.GetVersion(ctx, "py", "1"); err != nil || *v.Properties.Image == "" {
			t.Fatalf("get environment version: %v", err)
		}
	})

	t.Run("jobs", func(t *testing.T) {
		envID := ws.ID() + "/environments/py/versions/1"
		j, err := ws.Jobs().CreateOrUpdate(ctx, "job1", armmachinelearning.JobBase{Properties: &armmachinelearning.CommandJob{
			JobType: to.Ptr(armmachinelearning.JobTypeCommand), Command: to.Ptr("python train.py"), EnvironmentID: to.Ptr(envID),
		}})
		if err != nil {
			t.Fatalf("create job: %v", err)
		}
		if _, ok := j.Properties.(*armmachinelearning.CommandJob); !ok {
			t.Fatalf("job properties %T", j.Properties)
		}
		if l, err := ws.Jobs().List(ctx); err != nil || len(l) != 1 {
			t.Fatalf("list jobs: %d %v", len(l), err)
		}
		if _, err := ws.Jobs().Get(ctx, "job1"); err != nil {
			t.Fatal(err)
		}
		if err := ws.Jobs().Delete(ctx, "job1"); err != nil {
			t.Fatalf("delete job: %v", err)
		}
	})

	t.Run("models", func(t *testing.T) {
		m := ws.Models()
		if _, err := m.CreateOrUpdate(ctx, "clf", armmachinelearning.ModelContainer{Properties: &armmachinelearning.ModelContainerProperties{Description: to.Ptr("a classifier")}}); err != nil {
			t.Fatalf("create model: %v", err)
		}
		if _, err := m.CreateOrUpdateVersion(ctx, "clf", "1", armmachinelearning.ModelVersion{Properties: &armmachinelearning.ModelVersionProperties{
			ModelURI: to.Ptr("azureml://datastores/workspaceblobstore/paths/clf/1")}}); err != nil {
			t.Fatalf("create model version: %v", err)
		}
		if l, err := m.List(ctx); err != nil || len(l) != 1 {
			t.Fatalf("list models: %d %v", len(l), err)
		}
		if l, err := m.ListVersions(ctx, "clf"); err != nil || len(l) != 1 {
			t.Fatalf("list model versions: %d %v", len(l), err)
		}
		if err := m.DeleteVersion(ctx, "clf", "1"); err != nil {
			t.Fatal(err)
		}
		if err := m.Delete(ctx, "clf"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("datastores", func(t *testing.T) {
		d := ws.Datastores()
		_, err := d.CreateOrUpdate(ctx, "blob2", armmachinelearning.Datastore{Properties: &armmachinelearning.AzureBlobDatastore{
			DatastoreType: to.Ptr(armmachinelearning.DatastoreTypeAzureBlob), AccountName: to.Ptr("acct"), ContainerName: to.Ptr("data"),
			Credentials: &armmachinelearning.NoneDatastoreCredentials{CredentialsType: to.Ptr(armmachinelearning.CredentialsTypeNone)},
		}})
		if err != nil {
			t.Fatalf("create datastore: %v", err)
		}
		l, err := d.List(ctx)
		if err != nil {
			t.Fatalf("list datastores: %v", err)
		}
		found := false
		for _, x := range l {
			found = found || *x.Name == "blob2"
		}
		if !found {
			t.Fatalf("blob2 not listed among %d datastores", len(l))
		}
		g, err := d.Get(ctx, "blob2")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := g.Properties.(*armmachinelearning.AzureBlobDatastore); !ok {
			t.Fatalf("datastore properties %T", g.Properties)
		}
		if err := d.Delete(ctx, "blob2"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("online endpoints", func(t *testing.T) {
		o := ws.OnlineEndpoints()
		e, err := o.CreateOrUpdate(ctx, "ep1", armmachinelearning.OnlineEndpoint{
			Location:   to.Ptr("eastus"),
			Identity:   &armmachinelearning.ManagedServiceIdentity{Type: to.Ptr(armmachinelearning.ManagedServiceIdentityTypeSystemAssigned)},
			Properties: &armmachinelearning.OnlineEndpointProperties{AuthMode: to.Ptr(armmachinelearning.EndpointAuthModeAADToken)},
		})
		if err != nil {
			t.Fatalf("create online endpoint: %v", err)
		}
		if e.Properties == nil || e.Properties.ProvisioningState == nil || *e.Properties.ProvisioningState != armmachinelearning.EndpointProvisioningStateSucceeded {
			t.Fatalf("endpoint %+v", e.Properties)
		}
		if l, err := o.List(ctx); err != nil || len(l) != 1 {
			t.Fatalf("list online endpoints: %d %v", len(l), err)
		}
		if err := o.Delete(ctx, "ep1"); err != nil {
			t.Fatalf("delete online endpoint: %v", err)
		}
	})

	t.Run("a reader is refused a write", func(t *testing.T) {
		reader := s.CreateApp(t, "sdk-reader", nil)
		s.Assign(t, ws.ID(), testserver.RoleReader, reader.SPID)
		sdkEnv(t, s, s.Bootstrap.TenantID, reader.AppID, reader.Secret)
		rcred, rcfg, err := credential.NewDefault(nil)
		if err != nil {
			t.Fatal(err)
		}
		rws, err := workspace.New(rcred, sub, "sdk-rg", "sdkws", workspace.WithConfig(rcfg))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rws.Get(ctx); err != nil {
			t.Fatalf("reader get: %v", err)
		}
		if _, err := rws.Computes().List(ctx); err != nil {
			t.Fatalf("reader list computes: %v", err)
		}
		_, err = rws.Computes().CreateOrUpdate(ctx, "nope", armmachinelearning.ComputeResource{Location: to.Ptr("eastus"),
			Properties: &armmachinelearning.AmlCompute{ComputeType: to.Ptr(armmachinelearning.ComputeTypeAmlCompute)}})
		if st, code := responseCode(err); st != http.StatusForbidden || code != "AuthorizationFailed" {
			t.Fatalf("reader create compute: %v", err)
		}
	})

	if err := wss.Delete(ctx, "sdk-rg", "sdkws"); err != nil {
		t.Fatalf("delete workspace: %v", err)
	}
	if _, err := wss.Get(ctx, "sdk-rg", "sdkws"); err == nil {
		t.Fatal("the workspace outlived its deletion")
	} else if st, code := responseCode(err); st != http.StatusNotFound || code != "ResourceNotFound" {
		t.Fatalf("get a deleted workspace: %v", err)
	}
}
