package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/test/testserver"
)

// mlTimeout bounds one mlclient.py run: the SDK import alone takes seconds,
// and the compute create and delete poll their operations.
const mlTimeout = 120 * time.Second

// mlResult is the JSON line python/mlclient.py prints.
type mlResult struct {
	Steps      []mlStep          `json:"steps"`
	Requests   []mlRequest       `json:"requests"`
	Error      string            `json:"error"`
	Message    string            `json:"message"`
	Versions   map[string]string `json:"versions"`
	MLVersions map[string]string `json:"ml_versions"`
}

// mlStep is one SDK call and what it returned or raised.
type mlStep struct {
	Step       string          `json:"step"`
	OK         bool            `json:"ok"`
	Value      json.RawMessage `json:"value"`
	Error      string          `json:"error"`
	Message    string          `json:"message"`
	StatusCode int             `json:"status_code"`
	ErrorCode  string          `json:"error_code"`
	InnerError string          `json:"inner_error"`
	Traceback  string          `json:"traceback"`
	Requests   []int           `json:"requests"`
}

// mlRequest is one HTTP exchange the SDK made (no credentials recorded).
type mlRequest struct {
	Method         string `json:"method"`
	Host           string `json:"host"`
	Path           string `json:"path"`
	Status         int    `json:"status"`
	AsyncOperation string `json:"Azure-AsyncOperation"`
	Location       string `json:"Location"`
	RetryAfter     string `json:"Retry-After"`
	ContentType    string `json:"Content-Type"`
	Body           string `json:"body"`
	Exception      string `json:"exception"`
}

func (r mlRequest) String() string {
	s := fmt.Sprintf("%s https://%s%s -> %d", r.Method, r.Host, r.Path, r.Status)
	if r.Exception != "" {
		s += " (" + r.Exception + ")"
	}
	if r.AsyncOperation != "" {
		s += " Azure-AsyncOperation: " + r.AsyncOperation
	}
	if r.Location != "" {
		s += " Location: " + r.Location
	}
	if r.Body != "" {
		s += " body: " + r.Body
	}
	return s
}

// entity is how mlclient.py describes an azure-ai-ml entity.
type entity struct {
	Class             string `json:"class"`
	Name              string `json:"name"`
	Type              string `json:"type"`
	Location          string `json:"location"`
	ProvisioningState string `json:"provisioning_state"`
	Size              string `json:"size"`
	MinInstances      *int   `json:"min_instances"`
	MaxInstances      *int   `json:"max_instances"`
	ID                string `json:"id"`
	AccountName       string `json:"account_name"`
	ContainerName     string `json:"container_name"`
	Credentials       string `json:"credentials"`
	PollerStatus      string `json:"poller_status"`
}

// shimDir is contrib/python, which holds the pydash stand-in azure-ai-ml
// 1.4.0 imports (Debian's python3-azure does not ship pydash).
func shimDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "contrib", "python"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// mlInterpreter is pythonInterpreter plus azure-ai-ml: the test skips (or
// fails under TESSERA_COMPAT_REQUIRED=1) when the SDK cannot be imported
// even with the pydash shim.
func mlInterpreter(t *testing.T) string {
	t.Helper()
	py := pythonInterpreter(t)
	ctx, cancel := context.WithTimeout(context.Background(), mlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", "import azure.ai.ml, pydash; from azure.ai.ml import MLClient; print(azure.ai.ml.__version__, pydash.__version__)")
	cmd.Env = append(baseEnv(t), "PYTHONPATH="+shimDir(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		detail := fmt.Sprintf("%s: %v: %s", py, err, lastLine(string(out)))
		if os.Getenv("TESSERA_COMPAT_REQUIRED") == "1" {
			t.Fatalf("azure-ai-ml not importable (TESSERA_COMPAT_REQUIRED=1; %s)", detail)
		}
		t.Skipf("azure-ai-ml not importable: apt-get install python3-azure (%s)", detail)
	}
	t.Logf("azure-ai-ml, pydash: %s", strings.TrimSpace(string(out)))
	return py
}

// runMLClient runs python/mlclient.py with the given steps as the service
// principal app, in the environment of CLIENTS.md §1 row (c) and §5.
func runMLClient(t *testing.T, py string, s *testserver.Server, app testserver.App, configPath string, steps ...string) mlResult {
	t.Helper()
	env := append(baseEnv(t),
		"REQUESTS_CA_BUNDLE="+s.Bootstrap.CAFile,
		"SSL_CERT_FILE="+s.Bootstrap.CAFile,
		"AZURE_AUTHORITY_HOST="+s.URL,
		"AZURE_TENANT_ID=adfs",
		"AZURE_CLIENT_ID="+app.AppID,
		"AZURE_CLIENT_SECRET="+app.Secret,
		"AZUREML_DEV_URL_MFE="+strings.TrimSuffix(s.URL, "/"),
		"PYTHONPATH="+shimDir(t),
	)
	return runMLClientIn(t, env, nil, py, configPath, steps...)
}

// runMLClientIn runs python/mlclient.py with env (plus the config and
// steps) through the command prefix wrap (nil: directly).
func runMLClientIn(t *testing.T, env, wrap []string, py, configPath string, steps ...string) mlResult {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("python", "mlclient.py"))
	if err != nil {
		t.Fatal(err)
	}
	env = append(env,
		"COMPAT_ML_CONFIG="+configPath,
		"COMPAT_ML_STEPS="+strings.Join(steps, ","),
	)
	argv := append(append([]string{}, wrap...), py, script)
	ctx, cancel := context.WithTimeout(context.Background(), mlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("mlclient.py ran in %s", time.Since(start).Round(time.Millisecond))
	if stderr.Len() > 0 && (runErr != nil || testing.Verbose() && os.Getenv("TESSERA_COMPAT_DEBUG") != "") {
		t.Logf("mlclient.py stderr:\n%s", stderr.String())
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("mlclient.py: timed out after %s; stdout:\n%s\nstderr:\n%s", mlTimeout, stdout.String(), stderr.String())
	}
	var res mlResult
	line := lastLine(stdout.String())
	if line == "" || json.Unmarshal([]byte(line), &res) != nil {
		t.Fatalf("mlclient.py: %v; no JSON result line; stdout:\n%s\nstderr:\n%s", runErr, stdout.String(), stderr.String())
	}
	if runErr != nil || res.Error != "" {
		t.Fatalf("mlclient.py: %v: %s: %s\nstderr:\n%s", runErr, res.Error, res.Message, stderr.String())
	}
	if res.MLVersions != nil {
		t.Logf("azure-ai-ml %s, azure-core %s", res.MLVersions["azure_ai_ml"], res.MLVersions["azure_core"])
	}
	if len(res.Steps) != len(steps) {
		t.Fatalf("mlclient.py reported %d steps, want %d", len(res.Steps), len(steps))
	}
	return res
}

// step returns the named step's record.
func (r mlResult) step(t *testing.T, name string) mlStep {
	t.Helper()
	for _, s := range r.Steps {
		if s.Step == name {
			return s
		}
	}
	t.Fatalf("no step %s in the result", name)
	return mlStep{}
}

// requestsOf are the HTTP exchanges made during step st.
func (r mlResult) requestsOf(st mlStep) []mlRequest {
	var out []mlRequest
	for _, i := range st.Requests {
		if i >= 0 && i < len(r.Requests) {
			out = append(out, r.Requests[i])
		}
	}
	return out
}

// describe is a step's failure with the traffic behind it, for test output.
func (r mlResult) describe(st mlStep) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s raised %s", st.Step, st.Error)
	if st.StatusCode != 0 {
		fmt.Fprintf(&b, " (status %d, code %q)", st.StatusCode, st.ErrorCode)
	}
	fmt.Fprintf(&b, ": %s", st.Message)
	if reqs := r.requestsOf(st); len(reqs) > 0 {
		b.WriteString("\nrequests:")
		for _, q := range reqs {
			b.WriteString("\n  " + q.String())
		}
	}
	if st.Traceback != "" {
		b.WriteString("\ntraceback (tail):\n" + st.Traceback)
	}
	return b.String()
}

// ok returns the step's value decoded into v, failing the (sub)test with
// the client's traceback when the SDK raised.
func (r mlResult) ok(t *testing.T, name string, v any) mlStep {
	t.Helper()
	st := r.step(t, name)
	if !st.OK {
		t.Fatalf("%s", r.describe(st))
	}
	if v != nil {
		if err := json.Unmarshal(st.Value, v); err != nil {
			t.Fatalf("%s: decode value %s: %v", name, st.Value, err)
		}
	}
	for _, q := range r.requestsOf(st) {
		t.Logf("  %s", q)
	}
	return st
}

// refused checks that step name raised HttpResponseError (or a subclass)
// carrying status and error code.
func (r mlResult) refused(t *testing.T, name string, status int, code string) {
	t.Helper()
	st := r.step(t, name)
	if st.OK {
		t.Fatalf("%s succeeded (%s), want %d %s", name, st.Value, status, code)
	}
	if st.StatusCode != status || st.ErrorCode != code {
		t.Fatalf("%s: got status %d code %q, want %d %q\n%s", name, st.StatusCode, st.ErrorCode, status, code, r.describe(st))
	}
	t.Logf("%s refused as expected: %s: %s", name, st.Error, firstLine(st.Message))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func findEntity(list []entity, name string) (entity, bool) {
	for _, e := range list {
		if e.Name == name {
			return e, true
		}
	}
	return entity{}, false
}

func names(list []entity) []string {
	out := make([]string, 0, len(list))
	for _, e := range list {
		out = append(out, e.Name+"("+e.Class+")")
	}
	return out
}

// TestMLClient runs the real azure-ai-ml 1.4.0 MLClient (Debian's
// python3-azure, with the pydash shim) against Tessera: a Contributor
// creates, reads and deletes a compute, and least-privilege principals see
// the server's 403 surfaced by the SDK.
func TestMLClient(t *testing.T) {
	py := mlInterpreter(t)
	s := testserver.Start(t, testserver.Options{})
	const rg, wsName, computeName = "ml-rg", "ws1", "cpu-cluster"
	ws := s.Workspace(t, rg, wsName)
	sub := s.Bootstrap.SubscriptionID
	rgScope := "/subscriptions/" + sub + "/resourceGroups/" + rg

	configPath := filepath.Join(t.TempDir(), "config.json")
	cfg, _ := json.Marshal(map[string]string{"subscription_id": sub, "resource_group": rg, "workspace_name": wsName})
	if err := os.WriteFile(configPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}

	contributor := s.CreateApp(t, "mlclient-contributor", nil)
	s.Assign(t, rgScope, testserver.RoleContributor, contributor.SPID)
	scientist := s.CreateApp(t, "mlclient-data-scientist", nil)
	s.Assign(t, ws, testserver.RoleAzureMLDataScientist, scientist.SPID)
	nobody := s.CreateApp(t, "mlclient-no-role", nil)

	checkCredential := func(t *testing.T, res mlResult) {
		var v struct {
			Credential string `json:"credential"`
			ExpiresOn  int64  `json:"expires_on"`
			Now        int64  `json:"now"`
			TokenParts int    `json:"token_parts"`
		}
		res.ok(t, "credential", &v)
		if v.Credential != "DefaultAzureCredential/EnvironmentCredential/ClientSecretCredential" {
			t.Errorf("token came from %s, want the environment's client secret", v.Credential)
		}
		if v.TokenParts != 3 {
			t.Errorf("access token has %d dot-separated parts, want a JWT", v.TokenParts)
		}
		if life := time.Duration(v.ExpiresOn-v.Now) * time.Second; life < 50*time.Minute || life > 75*time.Minute {
			t.Errorf("expires_on is %s after the client's clock, want about an hour", life)
		}
	}
	checkFromConfig := func(t *testing.T, res mlResult) {
		var v struct {
			SubscriptionID string `json:"subscription_id"`
			ResourceGroup  string `json:"resource_group"`
			WorkspaceName  string `json:"workspace_name"`
		}
		res.ok(t, "from_config", &v)
		if v.SubscriptionID != sub || v.ResourceGroup != rg || v.WorkspaceName != wsName {
			t.Errorf("MLClient scope %+v, want %s/%s/%s", v, sub, rg, wsName)
		}
	}
	checkWorkspaceGet := func(t *testing.T, res mlResult) {
		var w entity
		res.ok(t, "workspaces.get", &w)
		if w.Class != "Workspace" || w.Name != wsName || w.Location != "eastus" {
			t.Errorf("workspaces.get returned %+v, want Workspace %s in eastus", w, wsName)
		}
		if !strings.EqualFold(w.ID, ws) {
			t.Errorf("workspace id %q, want %q", w.ID, ws)
		}
	}

	t.Run("Contributor", func(t *testing.T) {
		res := runMLClient(t, py, s, contributor, configPath,
			"credential", "from_config", "workspaces.get", "workspaces.list", "compute.create", "compute.get",
			"compute.list", "models.list", "jobs.list", "datastores.list", "compute.delete")

		t.Run("DefaultAzureCredential", func(t *testing.T) { checkCredential(t, res) })
		t.Run("MLClient.from_config", func(t *testing.T) { checkFromConfig(t, res) })
		t.Run("workspaces.get", func(t *testing.T) { checkWorkspaceGet(t, res) })
		t.Run("workspaces.list", func(t *testing.T) {
			var list []entity
			res.ok(t, "workspaces.list", &list)
			if _, found := findEntity(list, wsName); !found {
				t.Errorf("workspaces.list returned %v, want %s among them", names(list), wsName)
			}
		})
		t.Run("compute.begin_create_or_update", func(t *testing.T) {
			var c entity
			st := res.ok(t, "compute.create", &c)
			if c.Class != "AmlCompute" || c.Type != "amlcompute" || c.Name != computeName {
				t.Errorf("created compute %+v, want AmlCompute %s of type amlcompute", c, computeName)
			}
			if !strings.EqualFold(c.Size, "STANDARD_DS3_V2") || c.MaxInstances == nil || *c.MaxInstances != 2 || c.MinInstances == nil || *c.MinInstances != 0 {
				t.Errorf("created compute size %q instances %v..%v, want STANDARD_DS3_V2 0..2", c.Size, c.MinInstances, c.MaxInstances)
			}
			if c.ProvisioningState != "Succeeded" || c.PollerStatus != "Succeeded" {
				t.Errorf("provisioning state %q, poller status %q, want Succeeded", c.ProvisioningState, c.PollerStatus)
			}
			// The PUT names an Azure-AsyncOperation URL and the poller follows it.
			var op string
			polled := false
			for _, q := range res.requestsOf(st) {
				if q.Method == "PUT" && strings.Contains(q.Path, "/computes/"+computeName) {
					op = q.AsyncOperation
				}
				if op != "" && q.Method == "GET" && strings.Contains(op, q.Path) {
					polled = true
				}
			}
			if op == "" {
				t.Errorf("PUT compute carried no Azure-AsyncOperation header")
			} else if !polled {
				t.Errorf("the SDK never polled %s", op)
			}
		})
		t.Run("compute.get", func(t *testing.T) {
			var c entity
			res.ok(t, "compute.get", &c)
			if c.Class != "AmlCompute" || c.Type != "amlcompute" || c.Name != computeName || c.ProvisioningState != "Succeeded" {
				t.Errorf("compute.get returned %+v, want Succeeded AmlCompute %s of type amlcompute", c, computeName)
			}
		})
		t.Run("compute.list", func(t *testing.T) {
			var list []entity
			res.ok(t, "compute.list", &list)
			if c, found := findEntity(list, computeName); !found || c.Type != "amlcompute" {
				t.Errorf("compute.list returned %v, want %s of type amlcompute", names(list), computeName)
			}
		})
		t.Run("models.list", func(t *testing.T) {
			var list []entity
			res.ok(t, "models.list", &list)
			t.Logf("models: %v", names(list))
		})
		t.Run("jobs.list", func(t *testing.T) {
			var list []entity
			res.ok(t, "jobs.list", &list)
			t.Logf("jobs: %v", names(list))
		})
		t.Run("datastores.list", func(t *testing.T) {
			var list []entity
			res.ok(t, "datastores.list", &list)
			d, found := findEntity(list, "workspaceblobstore")
			if !found {
				t.Fatalf("datastores.list returned %v, want workspaceblobstore", names(list))
			}
			// The SDK keeps the REST enum DatastoreType.AZURE_BLOB ("AzureBlob") as the entity type.
			if d.Class != "AzureBlobDatastore" || d.Type != "AzureBlob" {
				t.Errorf("workspaceblobstore is %s of type %q, want AzureBlobDatastore AzureBlob", d.Class, d.Type)
			}
			if d.AccountName == "" || d.ContainerName == "" || d.Credentials != "AccountKeyConfiguration" {
				t.Errorf("workspaceblobstore account %q container %q credentials %q, want both names and AccountKeyConfiguration (no secret)",
					d.AccountName, d.ContainerName, d.Credentials)
			}
			t.Logf("workspaceblobstore: %+v", d)
		})
		t.Run("compute.begin_delete", func(t *testing.T) {
			st := res.ok(t, "compute.delete", nil)
			sawAction := false
			for _, q := range res.requestsOf(st) {
				if q.Method == "DELETE" && strings.Contains(q.Path, "underlyingResourceAction=Delete") {
					sawAction = true
				}
			}
			if !sawAction {
				t.Errorf("no DELETE with underlyingResourceAction=Delete among the step's requests")
			}
			r := s.ARM(t, s.AdminARMToken(t), "GET", ws+"/computes/"+computeName+"?api-version=2022-10-01-preview", nil)
			if r.Status != http.StatusNotFound {
				t.Errorf("compute after begin_delete().result(): GET %d %s, want 404", r.Status, r.Raw)
			}
		})
	})

	t.Run("DataScientist", func(t *testing.T) {
		res := runMLClient(t, py, s, scientist, configPath,
			"credential", "from_config", "workspaces.get", "compute.list", "compute.create")
		t.Run("DefaultAzureCredential", func(t *testing.T) { checkCredential(t, res) })
		t.Run("MLClient.from_config", func(t *testing.T) { checkFromConfig(t, res) })
		t.Run("workspaces.get", func(t *testing.T) { checkWorkspaceGet(t, res) })
		t.Run("compute.list", func(t *testing.T) {
			var list []entity
			res.ok(t, "compute.list", &list)
			t.Logf("computes: %v", names(list))
		})
		t.Run("compute.begin_create_or_update refused", func(t *testing.T) {
			res.refused(t, "compute.create", http.StatusForbidden, "AuthorizationFailed")
			st := res.step(t, "compute.create")
			if !strings.Contains(st.Message, "Microsoft.MachineLearningServices/workspaces/computes/write") {
				t.Errorf("the SDK's message does not name the denied action: %s", st.Message)
			}
			r := s.ARM(t, s.AdminARMToken(t), "GET", ws+"/computes/"+computeName+"?api-version=2022-10-01-preview", nil)
			if r.Status != http.StatusNotFound {
				t.Errorf("refused compute exists: GET %d %s", r.Status, r.Raw)
			}
		})
	})

	t.Run("NoRole", func(t *testing.T) {
		res := runMLClient(t, py, s, nobody, configPath, "credential", "from_config", "workspaces.get")
		t.Run("DefaultAzureCredential", func(t *testing.T) { checkCredential(t, res) })
		t.Run("MLClient.from_config", func(t *testing.T) { checkFromConfig(t, res) })
		t.Run("workspaces.get refused", func(t *testing.T) {
			res.refused(t, "workspaces.get", http.StatusForbidden, "AuthorizationFailed")
		})
	})
}
