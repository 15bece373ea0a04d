package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// tesseraCLI runs the tessera binary as the given service principal.
func tesseraCLI(t *testing.T, bin string, s *testserver.Server, appID, secret string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TESSERA_URL="+s.URL, "TESSERA_CA_FILE="+s.Bootstrap.CAFile,
		"AZURE_TENANT_ID="+s.Bootstrap.TenantID, "AZURE_CLIENT_ID="+appID, "AZURE_CLIENT_SECRET="+secret,
		"AZURE_CONFIG_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestRoleVerbs drives `tessera role ...` (built on the Azure SDK for Go's
// armauthorization client) against a real server.
func TestRoleVerbs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildTessera(t)
	s := testserver.Start(t, testserver.Options{})
	ws := s.Workspace(t, "cli-rg", "cliws")
	admin := s.Bootstrap.AdminServicePrincipal
	ds := s.CreateApp(t, "cli-ds", nil)
	run := func(args ...string) string {
		t.Helper()
		out, err := tesseraCLI(t, bin, s, admin.AppID, admin.Secret, args...)
		if err != nil {
			t.Fatalf("tessera %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	out := run("role", "assignment", "create", "--assignee", ds.AppID, "--role", "AzureML Data Scientist", "--scope", ws)
	var created struct {
		ID                 string
		PrincipalID, Scope string // az's flattened shape
		Properties         any
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.PrincipalID != ds.SPID || created.Properties != nil {
		t.Fatalf("assignment create printed %s (%v)", out, err)
	}

	out = run("role", "assignment", "list", "--scope", ws, "--assignee", ds.AppID)
	if !strings.Contains(out, created.ID) {
		t.Errorf("assignment list lacks %s: %s", created.ID, out)
	}
	// As az: the names of the role and the principal; the default
	// subscription's scope, which the workspace's assignment is below (--all).
	out = run("role", "assignment", "list", "--assignee", ds.AppID, "--query", "[].[roleDefinitionName, principalName, scope]", "-o", "tsv")
	if out != "" {
		t.Errorf("list at the subscription's scope shows an assignment below it: %q", out)
	}
	out = run("role", "assignment", "list", "--all", "--assignee", ds.AppID, "--query", "[].[roleDefinitionName, principalName, scope]", "-o", "tsv")
	if want := "AzureML Data Scientist\tcli-ds\t" + ws + "\n"; !strings.EqualFold(out, want) {
		t.Errorf("list --all printed %q, want %q", out, want)
	}
	out = run("role", "assignment", "list", "--scope", ws+"/computes/c1", "--include-inherited", "--role", "AzureML Data Scientist", "--query", "length(@)")
	if strings.TrimSpace(out) != "1" {
		t.Errorf("list --include-inherited --role at a compute printed %q", out)
	}

	out = run("role", "check", "--assignee", ds.AppID, "--action", "Microsoft.MachineLearningServices/workspaces/read", "--scope", ws)
	if !strings.HasPrefix(out, "allowed:") || !strings.Contains(out, "AzureML Data Scientist") {
		t.Errorf("role check (allowed) printed %s", out)
	}
	denied, err := tesseraCLI(t, bin, s, admin.AppID, admin.Secret, "role", "check", "--assignee", ds.AppID,
		"--action", "Microsoft.MachineLearningServices/workspaces/computes/write", "--scope", ws+"/computes/c1")
	if err == nil || !strings.HasPrefix(denied, "denied:") || !strings.Contains(denied, "roles that would allow it") {
		t.Errorf("role check (denied) exited %v and printed %s", err, denied)
	}

	def := `{"Name":"Compute Starter","Description":"Starts computes","Actions":["Microsoft.MachineLearningServices/workspaces/computes/start/action","Microsoft.MachineLearningServices/workspaces/read"],"AssignableScopes":["` + ws + `"]}`
	out = run("role", "definition", "create", "--role-definition", def)
	if !strings.Contains(out, "Compute Starter") {
		t.Fatalf("definition create printed %s", out)
	}
	out = run("role", "definition", "list", "--scope", ws, "--custom-role-only")
	if !strings.Contains(out, "Compute Starter") {
		t.Errorf("definition list lacks the custom role: %s", out)
	}
	run("role", "assignment", "delete", "--assignee", ds.AppID, "--role", "AzureML Data Scientist", "--scope", ws)
	if _, err := tesseraCLI(t, bin, s, admin.AppID, admin.Secret, "role", "check", "--assignee", ds.AppID,
		"--action", "Microsoft.MachineLearningServices/workspaces/read", "--scope", ws); err == nil {
		t.Error("access remains after the assignment was deleted")
	}
	run("role", "definition", "delete", "Compute Starter", "--scope", ws)

	// A Data Scientist cannot assign roles: the CLI surfaces ARM's 403.
	s.Assign(t, ws, testserver.RoleAzureMLDataScientist, ds.SPID)
	out, err = tesseraCLI(t, bin, s, ds.AppID, ds.Secret, "role", "assignment", "create", "--assignee", ds.SPID, "--role", "Owner", "--scope", ws)
	if err == nil || !strings.Contains(out, "AuthorizationFailed") {
		t.Errorf("Data Scientist role assignment: %v %s", err, out)
	}
}
