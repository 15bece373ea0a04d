package integration

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// TestCLIOutputFlags: every verb that prints a result takes az's --query
// and -o, and a bad one is refused (exit 2) before the verb does anything.
func TestCLIOutputFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildTessera(t)
	s := testserver.Start(t, testserver.Options{})
	s.Workspace(t, "out-rg", "out-ws")
	admin := s.Bootstrap.AdminServicePrincipal
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TESSERA_CONFIG_DIR=" + t.TempDir(),
			"TESSERA_URL=" + s.URL, "TESSERA_CA_FILE=" + s.Bootstrap.CAFile, "AZURE_CONFIG_DIR=" + t.TempDir(),
			"AZURE_TENANT_ID=" + s.Bootstrap.TenantID, "AZURE_CLIENT_ID=" + admin.AppID, "AZURE_CLIENT_SECRET=" + admin.Secret}
		out, err := cmd.CombinedOutput()
		if exit, ok := err.(*exec.ExitError); ok {
			return string(out), exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	for _, tc := range []struct {
		verb  []string
		query string // names something every result has
		want  string
	}{
		{[]string{"ad", "user", "list"}, "[].userPrincipalName", s.Bootstrap.Admin.UserPrincipalName},
		{[]string{"ad", "user", "show", "--id", s.Bootstrap.Admin.UserPrincipalName}, "displayName", "Tessera Administrator"},
		{[]string{"ad", "sp", "list", "--all"}, "[].appId", admin.AppID},
		{[]string{"ad", "sp", "show", "--id", admin.AppID}, "appId", admin.AppID},
		{[]string{"ad", "app", "list"}, "[].appId", admin.AppID},
		{[]string{"ad", "group", "list"}, "length(@)", "0"},
		{[]string{"role", "definition", "list", "--name", "Reader"}, "[].roleName", "Reader"},
		{[]string{"role", "assignment", "list", "--include-inherited"}, "[].roleDefinitionName", "Owner"},
		{[]string{"group", "list"}, "[].name", "out-rg"},
		{[]string{"group", "show", "-n", "out-rg"}, "name", "out-rg"},
		{[]string{"ml", "workspace", "list"}, "[].name", "out-ws"},
		{[]string{"ml", "workspace", "show", "-g", "out-rg", "-n", "out-ws"}, "name", "out-ws"},
		{[]string{"ml", "compute", "list", "-g", "out-rg", "-w", "out-ws"}, "length(@)", "0"},
		{[]string{"ca", "policy", "list"}, "length(@) >= `0`", "true"},
		{[]string{"signins", "list", "--top", "5"}, "length(@) > `0`", "true"},
	} {
		name := strings.Join(tc.verb, " ")
		t.Run(name, func(t *testing.T) {
			if out, code := run(append(tc.verb, "--query", tc.query, "-o", "tsv")...); code != 0 || !strings.Contains(out, tc.want) {
				t.Errorf("--query %s -o tsv: exit %d, %q lacks %q", tc.query, code, out, tc.want)
			}
			for _, format := range []string{"json", "yaml", "table", "none"} {
				// table prints nothing for an empty list, as az does.
				if out, code := run(append(tc.verb, "-o", format)...); code != 0 || format != "table" && (format == "none") != (out == "") {
					t.Errorf("-o %s: exit %d, %q", format, code, out)
				}
			}
			if out, code := run(append(tc.verb, "-o", "xml")...); code != 2 || !strings.Contains(out, "--output xml") {
				t.Errorf("-o xml: exit %d, %q", code, out)
			}
			if out, code := run(append(tc.verb, "--query", "[?")...); code != 2 || !strings.Contains(out, "--query") {
				t.Errorf("a malformed --query: exit %d, %q", code, out)
			}
		})
	}
}
