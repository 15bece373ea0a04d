package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// TestMLVerbs drives `tessera group` and `tessera ml workspace|compute`
// (sdk/workspace over armmachinelearning, armresources) against a real
// server, including config.json discovery from the working directory and
// a refusal.
func TestMLVerbs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildTessera(t)
	s := testserver.Start(t, testserver.Options{})
	admin := s.Bootstrap.AdminServicePrincipal
	home := t.TempDir()
	run := func(dir, appID, secret string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TESSERA_CONFIG_DIR=" + filepath.Join(home, ".tessera"),
			"TESSERA_URL=" + s.URL, "TESSERA_CA_FILE=" + s.Bootstrap.CAFile, "AZURE_CONFIG_DIR=" + filepath.Join(home, ".azure"),
			"AZURE_TENANT_ID=adfs", "AZURE_CLIENT_ID=" + appID, "AZURE_CLIENT_SECRET=" + secret}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	dir := t.TempDir()
	must := func(args ...string) string {
		t.Helper()
		out, err := run(dir, admin.AppID, admin.Secret, args...)
		if err != nil {
			t.Fatalf("tessera %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	// The subscription is the only one visible: no flag needed.
	must("group", "create", "-n", "ml-rg", "-l", "westeurope")
	if out := must("group", "list"); !strings.Contains(out, `"name": "ml-rg"`) {
		t.Fatalf("group list: %s", out)
	}
	out := must("ml", "workspace", "create", "-g", "ml-rg", "-n", "ws1", "--display-name", "First", "--write-config", dir)
	var ws struct {
		ID, Location string
		Identity     struct{ PrincipalID string }
		Properties   struct{ FriendlyName, ProvisioningState string }
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &ws); err != nil || ws.Location != "westeurope" ||
		ws.Properties.FriendlyName != "First" || ws.Identity.PrincipalID == "" {
		t.Fatalf("workspace create printed %s (%v)", out, err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || !strings.Contains(string(cfg), `"workspace_name": "ws1"`) || !strings.Contains(string(cfg), s.Bootstrap.SubscriptionID) {
		t.Fatalf("config.json: %s %v", cfg, err)
	}
	for _, args := range [][]string{{"ml", "workspace", "list"}, {"ml", "workspace", "list", "-g", "ml-rg"}} {
		if out := must(args...); !strings.Contains(out, ws.ID) {
			t.Errorf("%v: %s", args, out)
		}
	}
	if out := must("ml", "workspace", "show", "-g", "ml-rg", "-n", "ws1", "--query", "id", "-o", "tsv"); out != ws.ID+"\n" {
		t.Errorf("--query id -o tsv printed %q", out)
	}
	if out := must("ml", "workspace", "show", "-g", "ml-rg", "-n", "ws1", "--query", "id"); out != `"`+ws.ID+`"`+"\n" {
		t.Errorf("--query id (JSON, as az prints it) printed %q", out)
	}
	if out := must("ml", "workspace", "list", "--query", "[].properties.friendlyName", "-o", "tsv"); out != "First\n" {
		t.Errorf("list --query printed %q", out)
	}
	if out := must("ad", "user", "list", "--query", "[?userPrincipalName=='"+s.Bootstrap.Admin.UserPrincipalName+"'].displayName", "-o", "tsv"); out != "Tessera Administrator\n" {
		t.Errorf("ad user list --query printed %q", out)
	}
	// In a directory below config.json, the workspace verbs need no flags.
	sub := filepath.Join(dir, "notebooks", "a")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := run(sub, admin.AppID, admin.Secret, "ml", "workspace", "show"); err != nil || !strings.Contains(out, ws.ID) {
		t.Fatalf("workspace show from config.json: %v %s", err, out)
	}
	if out, err := run(sub, admin.AppID, admin.Secret, "ml", "compute", "create", "-n", "cpu", "--max-instances", "4"); err != nil ||
		!strings.Contains(out, `"provisioningState": "Succeeded"`) || !strings.Contains(out, `"maxNodeCount": 4`) {
		t.Fatalf("compute create: %v %s", err, out)
	}
	if out := must("ml", "compute", "list", "-g", "ml-rg", "-w", "ws1"); !strings.Contains(out, ws.ID+"/computes/cpu") {
		t.Errorf("compute list: %s", out)
	}
	if out := must("ml", "compute", "show", "-n", "cpu"); !strings.Contains(out, `"computeType": "AmlCompute"`) {
		t.Errorf("compute show: %s", out)
	}

	// A Data Scientist may use the workspace but not create computes.
	ds := s.CreateApp(t, "ml-ds", nil)
	s.Assign(t, ws.ID, testserver.RoleAzureMLDataScientist, ds.SPID)
	if out, err := run(dir, ds.AppID, ds.Secret, "ml", "compute", "list"); err != nil || !strings.Contains(out, "cpu") {
		t.Fatalf("data scientist compute list: %v %s", err, out)
	}
	// With a role on the workspace only, not its resource group: the list
	// beside config.json shows the workspace rather than a 403.
	if out, err := run(dir, ds.AppID, ds.Secret, "ml", "workspace", "list", "--query", "[].name", "-o", "tsv"); err != nil || out != "ws1\n" {
		t.Fatalf("data scientist workspace list: %v %q", err, out)
	}
	out, err = run(dir, ds.AppID, ds.Secret, "ml", "compute", "create", "-n", "gpu")
	if err == nil || !strings.Contains(out, "AuthorizationFailed") || !strings.Contains(out, "Microsoft.MachineLearningServices/workspaces/computes/write") {
		t.Fatalf("data scientist compute create: %v %s", err, out)
	}

	must("ml", "compute", "delete", "-n", "cpu")
	if out, err := run(dir, admin.AppID, admin.Secret, "ml", "compute", "show", "-n", "cpu"); err == nil || !strings.Contains(out, "ResourceNotFound") {
		t.Errorf("compute show after delete: %v %s", err, out)
	}
	must("ml", "workspace", "delete", "-g", "ml-rg", "-n", "ws1")
	if out := must("ml", "workspace", "list"); strings.Contains(out, ws.ID) {
		t.Errorf("workspace listed after delete: %s", out)
	}
	must("group", "delete", "-n", "ml-rg")

	// Without config.json or flags, the error says what to give.
	if out, err := run(t.TempDir(), admin.AppID, admin.Secret, "ml", "compute", "list"); err == nil || !strings.Contains(out, "--resource-group/-g and --workspace-name/-w") {
		t.Errorf("compute list with no workspace: %v %s", err, out)
	}
}

// TestEnvServicePrincipal: `tessera env --service-principal FILE` turns
// create-for-rbac's output into the environment credential's variables.
func TestEnvServicePrincipal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildTessera(t)
	s := testserver.Start(t, testserver.Options{})
	file := filepath.Join(t.TempDir(), "ml-auth.json")
	if err := os.WriteFile(file, []byte(`{"appId":"a1","displayName":"ml-auth","password":"-p'w","tenant":"t"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "env", "--data-dir", s.DataDir, "--service-principal", file).CombinedOutput()
	if err != nil {
		t.Fatalf("%v %s", err, out)
	}
	for _, want := range []string{"export AZURE_CLIENT_ID='a1'\n", `export AZURE_CLIENT_SECRET='-p'\''w'` + "\n", "export AZURE_TENANT_ID=adfs\n", "export TESSERA_URL="} {
		if !strings.Contains(string(out), want) {
			t.Errorf("env lacks %q:\n%s", want, out)
		}
	}
}
