package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/test/testserver"
)

// The managed identity tests run the real clients inside `tessera compute
// run` (the binary built here), the way code runs on a compute node:
//
//	go test ./test/compat/ -run ManagedIdentity -count=1 -v
//
// Python's DefaultAzureCredential() with no arguments and
// ManagedIdentityCredential(client_id=...) then MLClient.from_config(...)
// .workspaces.get, with and without a role for the identity; the token
// exchange of workload identity federation (--workload-identity); and, when
// az is installed, `az login --identity`.

// miTimeout bounds one `tessera compute run` of a script (MLClient's import
// alone takes seconds).
const miTimeout = 2 * time.Minute

// buildTesseraBinary compiles the tessera binary for the test.
func buildTesseraBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tessera")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tessera-id/tessera/cmd/tessera")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// miWorld is a workspace with computes whose identities hold different roles.
type miWorld struct {
	s         *testserver.Server
	bin       string
	config    string
	ua        struct{ ID, ClientID, PrincipalID string }
	uaNoRole  struct{ ID, ClientID, PrincipalID string }
	systemOID string
}

const (
	miRG          = "mi-compat-rg"
	miWorkspace   = "mi-ws"
	miCompute     = "cpu"
	miNoRole      = "cpu-norole"
	identityTypeC = "Microsoft.ManagedIdentity/userAssignedIdentities"
)

func newMIWorld(t *testing.T) *miWorld {
	t.Helper()
	w := &miWorld{s: testserver.Start(t, testserver.Options{}), bin: buildTesseraBinary(t)}
	s := w.s
	ws := s.Workspace(t, miRG, miWorkspace)
	admin := s.AdminARMToken(t)
	rg := "/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups/" + miRG
	uami := func(name string) (id, clientID, principalID string) {
		id = rg + "/providers/" + identityTypeC + "/" + name
		r := s.ARM(t, admin, "PUT", id+"?api-version=2023-01-31", map[string]any{"location": "eastus"})
		if r.Status != http.StatusCreated {
			t.Fatalf("create identity %s: %d %s", name, r.Status, r.Raw)
		}
		p, _ := r.Body["properties"].(map[string]any)
		return id, str(p, "clientId"), str(p, "principalId")
	}
	w.ua.ID, w.ua.ClientID, w.ua.PrincipalID = uami("ua-ml")
	w.uaNoRole.ID, w.uaNoRole.ClientID, w.uaNoRole.PrincipalID = uami("ua-norole")
	compute := func(name string, identity map[string]any) string {
		r := s.ARM(t, admin, "PUT", ws+"/computes/"+name+"?api-version=2022-10-01-preview", map[string]any{"location": "eastus",
			"identity": identity, "properties": map[string]any{"computeType": "AmlCompute"}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create compute %s: %d %s", name, r.Status, r.Raw)
		}
		idn, _ := r.Body["identity"].(map[string]any)
		return str(idn, "principalId")
	}
	w.systemOID = compute(miCompute, map[string]any{"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": map[string]any{
		w.ua.ID: map[string]any{}, w.uaNoRole.ID: map[string]any{}}})
	compute(miNoRole, map[string]any{"type": "SystemAssigned"})
	// The identities of "cpu" and the user-assigned "ua-ml" may read the
	// workspace; the identity of "cpu-norole" and "ua-norole" hold no role.
	s.Assign(t, ws, testserver.RoleReader, w.systemOID)
	s.Assign(t, ws, testserver.RoleReader, w.ua.PrincipalID)

	w.config = filepath.Join(t.TempDir(), "config.json")
	cfg, _ := json.Marshal(map[string]string{"subscription_id": s.Bootstrap.SubscriptionID, "resource_group": miRG, "workspace_name": miWorkspace})
	if err := os.WriteFile(w.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// cliEnv is what `tessera` itself needs to register the node: the
// administrator's credential (which the run does not pass on to the command).
func (w *miWorld) cliEnv() []string {
	s := w.s
	return []string{
		"TESSERA_URL=" + s.URL, "TESSERA_CA_FILE=" + s.Bootstrap.CAFile,
		"AZURE_TENANT_ID=" + s.Bootstrap.TenantID, "AZURE_CLIENT_ID=" + s.Bootstrap.AdminServicePrincipal.AppID,
		"AZURE_CLIENT_SECRET=" + s.Bootstrap.AdminServicePrincipal.Secret,
	}
}

// computeRun runs `tessera compute run <flags> -- <command>` with env added
// to the controlled environment and returns its stdout.
func (w *miWorld) computeRun(t *testing.T, flags []string, env []string, command ...string) (string, string, error) {
	t.Helper()
	args := append([]string{"compute", "run", "--workspace", miWorkspace, "--resource-group", miRG}, flags...)
	args = append(append(args, "--"), command...)
	ctx, cancel := context.WithTimeout(context.Background(), miTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, args...)
	cmd.Env = append(append(baseEnv(t), w.cliEnv()...), env...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	t.Logf("tessera compute run %s ran in %s", strings.Join(flags, " "), time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("tessera compute run timed out; stderr:\n%s", stderr.String())
	}
	return stdout.String(), stderr.String(), err
}

// mlInCompute runs python/managed_identity.py (mlclient.py's steps) inside
// `tessera compute run`.
func (w *miWorld) mlInCompute(t *testing.T, py string, flags []string, env ...string) mlResult {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("python", "managed_identity.py"))
	if err != nil {
		t.Fatal(err)
	}
	env = append(env, "PYTHONPATH="+shimDir(t), "COMPAT_ML_CONFIG="+w.config, "COMPAT_ML_STEPS=credential,from_config,workspaces.get")
	stdout, stderr, runErr := w.computeRun(t, flags, env, py, script)
	if runErr != nil || testing.Verbose() && os.Getenv("TESSERA_COMPAT_DEBUG") != "" {
		t.Logf("stderr:\n%s", stderr)
	}
	var res mlResult
	line := lastLine(stdout)
	if line == "" || json.Unmarshal([]byte(line), &res) != nil {
		t.Fatalf("managed_identity.py: %v; no JSON result line; stdout:\n%s\nstderr:\n%s", runErr, stdout, stderr)
	}
	if runErr != nil || res.Error != "" {
		t.Fatalf("managed_identity.py: %v: %s: %s\nstderr:\n%s", runErr, res.Error, res.Message, stderr)
	}
	return res
}

type miCredentialStep struct {
	Credential string            `json:"credential"`
	ExpiresOn  int64             `json:"expires_on"`
	Now        int64             `json:"now"`
	Claims     map[string]string `json:"claims"`
}

func (w *miWorld) checkIdentity(t *testing.T, res mlResult, wantCredential, appID, oid, mirid string) {
	t.Helper()
	var v miCredentialStep
	res.ok(t, "credential", &v)
	if !strings.Contains(v.Credential, wantCredential) {
		t.Errorf("token came from %s, want %s", v.Credential, wantCredential)
	}
	if d := v.ExpiresOn - v.Now; d < 50*60 || d > 2*60*60 {
		t.Errorf("token expires in %ds, want about an hour", d)
	}
	want := map[string]string{"appid": appID, "oid": oid, "xms_mirid": mirid, "idtyp": "app", "tid": w.s.Bootstrap.TenantID}
	for k, x := range want {
		if x != "" && v.Claims[k] != x {
			t.Errorf("claim %s = %q, want %q", k, v.Claims[k], x)
		}
	}
	res.ok(t, "from_config", nil)
}

// TestManagedIdentityPython runs Python's credentials and MLClient inside
// `tessera compute run`.
func TestManagedIdentityPython(t *testing.T) {
	py := mlInterpreter(t)
	w := newMIWorld(t)
	computeID := "/subscriptions/" + w.s.Bootstrap.SubscriptionID + "/resourceGroups/" + miRG +
		"/providers/Microsoft.MachineLearningServices/workspaces/" + miWorkspace + "/computes/" + miCompute

	t.Run("DefaultAzureCredential() with the compute's identity", func(t *testing.T) {
		res := w.mlInCompute(t, py, []string{"--compute", miCompute}, "COMPAT_MI_CREDENTIAL=default")
		w.checkIdentity(t, res, "ManagedIdentityCredential", "", w.systemOID, computeID)
		var ws entity
		res.ok(t, "workspaces.get", &ws)
		if ws.Name != miWorkspace {
			t.Errorf("workspace = %+v", ws)
		}
	})

	t.Run("DefaultAzureCredential() refused without a role", func(t *testing.T) {
		res := w.mlInCompute(t, py, []string{"--compute", miNoRole}, "COMPAT_MI_CREDENTIAL=default")
		w.checkIdentity(t, res, "ManagedIdentityCredential", "", "", computeID[:strings.LastIndex(computeID, "/")]+"/"+miNoRole)
		res.refused(t, "workspaces.get", http.StatusForbidden, "AuthorizationFailed")
	})

	t.Run("ManagedIdentityCredential(client_id=user-assigned)", func(t *testing.T) {
		res := w.mlInCompute(t, py, []string{"--compute", miCompute}, "COMPAT_MI_CREDENTIAL=managed", "COMPAT_MI_CLIENT_ID="+w.ua.ClientID)
		w.checkIdentity(t, res, "ManagedIdentityCredential", w.ua.ClientID, w.ua.PrincipalID, w.ua.ID)
		res.ok(t, "workspaces.get", nil)
	})

	t.Run("ManagedIdentityCredential(client_id=user-assigned) refused without a role", func(t *testing.T) {
		res := w.mlInCompute(t, py, []string{"--compute", miCompute}, "COMPAT_MI_CREDENTIAL=managed", "COMPAT_MI_CLIENT_ID="+w.uaNoRole.ClientID)
		w.checkIdentity(t, res, "ManagedIdentityCredential", w.uaNoRole.ClientID, w.uaNoRole.PrincipalID, w.uaNoRole.ID)
		res.refused(t, "workspaces.get", http.StatusForbidden, "AuthorizationFailed")
	})

	t.Run("--identity makes the user-assigned identity the default", func(t *testing.T) {
		res := w.mlInCompute(t, py, []string{"--compute", miCompute, "--identity", w.ua.ClientID}, "COMPAT_MI_CREDENTIAL=default")
		w.checkIdentity(t, res, "ManagedIdentityCredential", w.ua.ClientID, w.ua.PrincipalID, w.ua.ID)
		res.ok(t, "workspaces.get", nil)
	})

	t.Run("workload identity federation", func(t *testing.T) {
		issuer := w.s.URL + "/oidc/compute/" + w.s.Bootstrap.TenantID
		fic := map[string]any{"properties": map[string]any{"issuer": issuer, "subject": computeID, "audiences": []string{"api://AzureADTokenExchange"}}}
		if r := w.s.ARM(t, w.s.AdminARMToken(t), "PUT", w.ua.ID+"/federatedIdentityCredentials/cpu?api-version=2023-01-31", fic); r.Status != http.StatusCreated {
			t.Fatalf("add federated credential: %d %s", r.Status, r.Raw)
		}
		// Python 1.13.0b2 has no WorkloadIdentityCredential class: the token
		// exchange is DefaultAzureCredential's ManagedIdentityCredential,
		// which reads the same variables (TokenExchangeCredential).
		res := w.mlInCompute(t, py, []string{"--compute", miCompute, "--workload-identity", "--identity", w.ua.ClientID}, "COMPAT_MI_CREDENTIAL=default")
		w.checkIdentity(t, res, "TokenExchangeCredential", w.ua.ClientID, w.ua.PrincipalID, w.ua.ID)
		res.ok(t, "workspaces.get", nil)
	})

	t.Run("the node is revoked when the run ends", func(t *testing.T) {
		// The command prints the run's endpoint and secret, then exits 3;
		// after the run, the endpoint is gone and the node has no registration.
		stdout, _, err := w.computeRun(t, []string{"--compute", miCompute}, nil, "sh", "-c", `echo "$TESSERA_NODE_ID"; exit 3`)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 3 {
			t.Fatalf("exit = %v, want the command's status 3", err)
		}
		nodeID := strings.TrimSpace(stdout)
		r := w.s.ARM(t, w.s.AdminARMToken(t), "POST", computeID+"/listNodes?api-version=2023-10-01", nil)
		if nodeID == "" || strings.Contains(string(r.Raw), nodeID) {
			t.Errorf("node %q still registered after the run: %s", nodeID, r.Raw)
		}
	})
}

// TestManagedIdentityAzLogin runs `az login --identity` (az 2.45 POSTs to
// MSI_ENDPOINT with Metadata: true, AZURE_CLI.md §3) inside `tessera compute
// run`, then lists the workspace with the compute's identity.
func TestManagedIdentityAzLogin(t *testing.T) {
	az, err := exec.LookPath("az")
	if err != nil {
		if os.Getenv("TESSERA_COMPAT_REQUIRED") == "1" {
			t.Fatal("az not installed (TESSERA_COMPAT_REQUIRED=1)")
		}
		t.Skip("az not installed: apt-get install azure-cli")
	}
	w := newMIWorld(t)
	s := w.s
	configDir, home := t.TempDir(), t.TempDir()
	env := []string{"AZ=" + az, "AZURE_CONFIG_DIR=" + configDir, "HOME=" + home, "AZURE_CORE_COLLECT_TELEMETRY=no", "AZURE_CORE_NO_COLOR=true"}
	script := filepath.Join(t.TempDir(), "az-identity.sh")
	cloud, _ := json.Marshal(map[string]any{"endpoints": map[string]string{"resourceManager": s.URL + "/", "microsoftGraphResourceId": s.URL + "/graph/"}})
	body := `set -e
"$AZ" cloud register -n Tessera --cloud-config '` + string(cloud) + `' --output none
"$AZ" cloud set -n Tessera --output none
"$AZ" login --identity --output json
"$AZ" resource show --ids "$1" --api-version 2022-10-01 --output json
`
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	ws := "/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups/" + miRG + "/providers/Microsoft.MachineLearningServices/workspaces/" + miWorkspace
	stdout, stderr, err := w.computeRun(t, []string{"--compute", miCompute}, env, "sh", script, ws)
	if err != nil {
		t.Fatalf("az login --identity: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, lastLines(stderr, 40))
	}
	if !strings.Contains(stdout, `"systemAssignedIdentity"`) || !strings.Contains(stdout, s.Bootstrap.SubscriptionID) {
		t.Errorf("az login --identity printed:\n%s", stdout)
	}
	if !strings.Contains(stdout, `"name": "`+miWorkspace+`"`) {
		t.Errorf("az resource show with the identity printed:\n%s", stdout)
	}
	// az used the Cloud Shell shape: the sign-in log says so.
	var log struct {
		Value []struct {
			ServicePrincipalID string `json:"servicePrincipalId"`
			Status             struct {
				ErrorCode int `json:"errorCode"`
			} `json:"status"`
			MSI *struct {
				MSIType string `json:"msiType"`
			} `json:"managedServiceIdentity"`
			Details []struct{ Key, Value string } `json:"additionalDetails"`
		} `json:"value"`
	}
	s.Graph(t, s.GraphToken(t), "GET", "/auditLogs/signIns?$top=100", nil, &log)
	found := false
	for _, e := range log.Value {
		d := map[string]string{}
		for _, kv := range e.Details {
			d[kv.Key] = kv.Value
		}
		found = found || d["action"] == "token.managed_identity" && e.MSI != nil && e.Status.ErrorCode == 0 && d["source"] == "CloudShell" &&
			e.ServicePrincipalID == w.systemOID
	}
	if !found {
		t.Errorf("no Cloud Shell managed identity sign-in of %s in the log", w.systemOID)
	}
}
