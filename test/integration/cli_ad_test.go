package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/test/testserver"
)

// adCLI runs the tessera binary as one service principal, with a controlled
// environment (nothing inherited but PATH) and stdout kept apart from stderr.
type adCLI struct {
	bin           string
	s             *testserver.Server
	appID, secret string
}

type cliResult struct {
	args           []string
	stdout, stderr string
	err            error
}

func (c adCLI) run(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	home := t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AZURE_CONFIG_DIR=" + home,
		"TESSERA_URL=" + c.s.URL, "TESSERA_CA_FILE=" + c.s.Bootstrap.CAFile,
		"AZURE_TENANT_ID=" + c.s.Bootstrap.TenantID, "AZURE_CLIENT_ID=" + c.appID, "AZURE_CLIENT_SECRET=" + c.secret}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("tessera %s timed out", strings.Join(args, " "))
	}
	return cliResult{args: args, stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// ok runs a verb that must succeed and decodes its JSON output into out (if not nil).
func (c adCLI) ok(t *testing.T, out any, args ...string) {
	t.Helper()
	r := c.run(t, args...)
	if r.err != nil {
		t.Fatalf("tessera %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(r.stdout), out); err != nil {
			t.Fatalf("tessera %s printed %q: %v", strings.Join(args, " "), r.stdout, err)
		}
	}
}

// fails runs a verb that must fail with every want in its error output.
func (c adCLI) fails(t *testing.T, want []string, args ...string) {
	t.Helper()
	r := c.run(t, args...)
	var exit *exec.ExitError
	if !errors.As(r.err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("tessera %s: want exit 1, got %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("tessera %s: stderr lacks %q: %s", strings.Join(args, " "), w, r.stderr)
		}
	}
}

func clientSecretWorks(t *testing.T, s *testserver.Server, appID, secret string) bool {
	t.Helper()
	r := s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {appID}, "client_secret": {secret}, "scope": {"https://management.azure.com/.default"}})
	if r.Status != 200 && r.Body["error"] != "invalid_client" {
		t.Fatalf("client credentials: %s", r)
	}
	return r.Status == 200
}

func field(m map[string]any, k string) string { v, _ := m[k].(string); return v }

// TestCLIAd is issue 4's scenario with `tessera ad ...` (and `tessera role`)
// instead of az: create-for-rbac on a workspace, the new principal allowed and
// refused by RBAC, a Reader refused a write, and the directory verbs.
func TestCLIAd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildTessera(t)
	s := testserver.Start(t, testserver.Options{})
	b := s.Bootstrap
	ws := s.Workspace(t, "cli-ad-rg", "cliadws")
	admin := adCLI{bin: bin, s: s, appID: b.AdminServicePrincipal.AppID, secret: b.AdminServicePrincipal.Secret}
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	var first struct{ AppID, DisplayName, Password, Tenant string }
	step("sp create-for-rbac", func(t *testing.T) {
		admin.ok(t, &first, "ad", "sp", "create-for-rbac", "--name", "ml-auth", "--role", "Contributor", "--scopes", ws)
		if first.AppID == "" || first.DisplayName != "ml-auth" || first.Tenant != b.TenantID || !clientSecretWorks(t, s, first.AppID, first.Password) {
			t.Fatalf("create-for-rbac printed %+v", first)
		}
	})

	var sdkAuth map[string]any
	step("sp create-for-rbac --sdk-auth", func(t *testing.T) {
		admin.ok(t, &sdkAuth, "ad", "sp", "create-for-rbac", "--name", "ml-auth", "--role", "Contributor", "--scopes", ws, "--sdk-auth")
		want := map[string]string{"clientId": first.AppID, "subscriptionId": b.SubscriptionID, "tenantId": b.TenantID,
			"activeDirectoryEndpointUrl": s.URL + "/adfs", "resourceManagerEndpointUrl": s.URL + "/", "activeDirectoryGraphResourceId": s.URL + "/graph/"}
		for k, v := range want {
			if field(sdkAuth, k) != v {
				t.Errorf("%s = %v, want %s", k, sdkAuth[k], v)
			}
		}
		if !clientSecretWorks(t, s, first.AppID, field(sdkAuth, "clientSecret")) {
			t.Error("the --sdk-auth secret does not work")
		}
		if clientSecretWorks(t, s, first.AppID, first.Password) {
			t.Error("the first secret still works after the application was reused")
		}
	})
	mlAuth := adCLI{bin: bin, s: s, appID: first.AppID, secret: field(sdkAuth, "clientSecret")}

	var spID string
	step("sp show and list", func(t *testing.T) {
		var sp map[string]any
		admin.ok(t, &sp, "ad", "sp", "show", "--id", first.AppID)
		spID = field(sp, "id")
		if spID == "" || field(sp, "appId") != first.AppID || field(sp, "displayName") != "ml-auth" {
			t.Fatalf("sp show printed %v", sp)
		}
		var list []map[string]any
		admin.ok(t, &list, "ad", "sp", "list", "--display-name", "ml-")
		if len(list) != 1 || field(list[0], "id") != spID {
			t.Errorf("sp list printed %v", list)
		}
	})

	step("role assignment list --assignee", func(t *testing.T) {
		var list []struct {
			Properties struct{ PrincipalID, RoleDefinitionID, Scope string }
		}
		admin.ok(t, &list, "role", "assignment", "list", "--scope", ws, "--assignee", first.AppID)
		if len(list) != 1 || list[0].Properties.PrincipalID != spID || !strings.HasSuffix(list[0].Properties.RoleDefinitionID, testserver.RoleContributor) {
			t.Errorf("assignment list printed %+v", list)
		}
	})

	step("allowed and refused as ml-auth", func(t *testing.T) {
		tok := s.ARMToken(t, mlAuth.appID, mlAuth.secret)
		if r := s.ARM(t, tok, "GET", ws+"?api-version=2022-10-01", nil); r.Status != 200 {
			t.Errorf("workspace read: %d %s", r.Status, r.Raw)
		}
		other := "/subscriptions/" + b.SubscriptionID + "/resourcegroups/not-mine?api-version=2021-04-01"
		if r := s.ARM(t, tok, "PUT", other, map[string]any{"location": "eastus"}); r.Status != 403 || r.ErrorCode() != "AuthorizationFailed" {
			t.Errorf("resource group create: %d %s", r.Status, r.Raw)
		}
		// Through the CLI: a Contributor reads role assignments but may not make them.
		mlAuth.ok(t, nil, "role", "assignment", "list", "--scope", ws)
		mlAuth.fails(t, []string{"AuthorizationFailed"}, "role", "assignment", "create", "--assignee", spID, "--role", "Owner", "--scope", ws)
	})

	step("Reader refused a write", func(t *testing.T) {
		var reader struct{ AppID, Password string }
		admin.ok(t, &reader, "ad", "sp", "create-for-rbac", "--name", "ml-reader", "--role", "Reader", "--scopes", ws)
		tok := s.ARMToken(t, reader.AppID, reader.Password)
		if r := s.ARM(t, tok, "GET", ws+"?api-version=2022-10-01", nil); r.Status != 200 {
			t.Errorf("Reader workspace read: %d %s", r.Status, r.Raw)
		}
		r := s.ARM(t, tok, "PUT", ws+"?api-version=2022-10-01", map[string]any{"location": "eastus", "tags": map[string]any{"reader": "was-here"}})
		if r.Status != 403 || r.ErrorCode() != "AuthorizationFailed" {
			t.Errorf("Reader workspace write: %d %s", r.Status, r.Raw)
		}
	})

	step("app create, list, show, delete", func(t *testing.T) {
		var app map[string]any
		admin.ok(t, &app, "ad", "app", "create", "--display-name", "cli-app", "--identifier-uris", "api://cli-app")
		appID := field(app, "appId")
		if appID == "" || field(app, "displayName") != "cli-app" {
			t.Fatalf("app create printed %v", app)
		}
		var list []map[string]any
		admin.ok(t, &list, "ad", "app", "list", "--display-name", "cli-app")
		if len(list) != 1 || field(list[0], "appId") != appID {
			t.Errorf("app list printed %v", list)
		}
		var again map[string]any
		admin.ok(t, &again, "ad", "app", "create", "--display-name", "cli-app")
		if field(again, "appId") != appID {
			t.Errorf("second create made another app: %v", again)
		}
		var shown map[string]any
		admin.ok(t, &shown, "ad", "app", "show", "--id", "api://cli-app")
		if field(shown, "appId") != appID {
			t.Errorf("app show by identifier URI printed %v", shown)
		}
		admin.ok(t, nil, "ad", "app", "delete", "--id", appID)
		admin.fails(t, []string{"Request_ResourceNotFound"}, "ad", "app", "show", "--id", appID)
	})

	var userID string
	upn := "data.scientist@" + b.Domain
	step("user create and show", func(t *testing.T) {
		var u map[string]any
		admin.ok(t, &u, "ad", "user", "create", "--display-name", "Data Scientist", "--user-principal-name", upn, "--password", "Cli-Passw0rd!")
		userID = field(u, "id")
		if userID == "" || field(u, "userPrincipalName") != upn {
			t.Fatalf("user create printed %v", u)
		}
		var shown map[string]any
		admin.ok(t, &shown, "ad", "user", "show", "--id", upn)
		if field(shown, "id") != userID {
			t.Errorf("user show printed %v", shown)
		}
	})

	step("group create, member add, list, check", func(t *testing.T) {
		var g map[string]any
		admin.ok(t, &g, "ad", "group", "create", "--display-name", "ml-team", "--mail-nickname", "ml-team")
		if field(g, "id") == "" || g["securityEnabled"] != true {
			t.Fatalf("group create printed %v", g)
		}
		admin.ok(t, nil, "ad", "group", "member", "add", "--group", "ml-team", "--member-id", userID)
		admin.ok(t, nil, "ad", "group", "member", "add", "--group", field(g, "id"), "--member-id", spID)
		var members []map[string]any
		admin.ok(t, &members, "ad", "group", "member", "list", "--group", "ml-team")
		got := map[string]bool{}
		for _, m := range members {
			got[field(m, "id")] = true
		}
		if len(members) != 2 || !got[userID] || !got[spID] {
			t.Errorf("member list printed %v", members)
		}
		var check struct{ Value bool }
		admin.ok(t, &check, "ad", "group", "member", "check", "--group", "ml-team", "--member-id", spID)
		if !check.Value {
			t.Error("member check: the service principal is not a member")
		}
	})

	step("sp and app credential reset: the old secret stops working", func(t *testing.T) {
		var r1, r2, r3 struct{ AppID, Password, Tenant string }
		admin.ok(t, &r1, "ad", "sp", "credential", "reset", "--id", first.AppID)
		if r1.AppID != first.AppID || r1.Tenant != b.TenantID || !clientSecretWorks(t, s, first.AppID, r1.Password) {
			t.Fatalf("sp credential reset printed %+v", r1)
		}
		admin.ok(t, &r2, "ad", "sp", "credential", "reset", "--id", first.AppID)
		if clientSecretWorks(t, s, first.AppID, r1.Password) || !clientSecretWorks(t, s, first.AppID, r2.Password) {
			t.Error("sp credential reset did not replace the previous secret")
		}
		admin.ok(t, &r3, "ad", "app", "credential", "reset", "--id", first.AppID)
		if clientSecretWorks(t, s, first.AppID, mlAuth.secret) || !clientSecretWorks(t, s, first.AppID, r3.Password) {
			t.Error("app credential reset did not replace the create-for-rbac secret")
		}
		mlAuth.fails(t, []string{"AADSTS7000215"}, "role", "assignment", "list", "--scope", ws)
	})

	step("sp delete", func(t *testing.T) {
		admin.ok(t, nil, "ad", "sp", "delete", "--id", first.AppID)
		admin.fails(t, []string{"Request_ResourceNotFound"}, "ad", "sp", "show", "--id", first.AppID)
	})
}
