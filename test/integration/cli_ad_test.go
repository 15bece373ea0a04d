package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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

// clientCredentialsWork reports whether a client credentials request for ARM
// with these client credentials gets a token; anything but a token or
// invalid_client fails the test.
func clientCredentialsWork(t *testing.T, s *testserver.Server, creds url.Values) bool {
	t.Helper()
	creds.Set("grant_type", "client_credentials")
	creds.Set("scope", armScope)
	r := s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", creds)
	if r.Status != 200 && r.Body["error"] != "invalid_client" {
		t.Fatalf("client credentials: %s", r)
	}
	return r.Status == 200
}

func clientSecretWorks(t *testing.T, s *testserver.Server, appID, secret string) bool {
	t.Helper()
	return clientCredentialsWork(t, s, url.Values{"client_id": {appID}, "client_secret": {secret}})
}

// assertionWorks: does a federated token (client assertion) sign appID in?
func assertionWorks(t *testing.T, s *testserver.Server, appID, assertion string) bool {
	t.Helper()
	return clientCredentialsWork(t, s, url.Values{"client_id": {appID},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}})
}

// passwordSignIn signs a user in with the password grant (the tenant must allow it).
func passwordSignIn(t *testing.T, s *testserver.Server, upn, password string) testserver.TokenResponse {
	t.Helper()
	return s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"},
		"client_id": {azCLI}, "username": {upn}, "password": {password}, "scope": {armScope}})
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
		var list []struct{ PrincipalID, RoleDefinitionID, RoleDefinitionName, Scope string }
		admin.ok(t, &list, "role", "assignment", "list", "--scope", ws, "--assignee", first.AppID)
		if len(list) != 1 || list[0].PrincipalID != spID || !strings.HasSuffix(list[0].RoleDefinitionID, testserver.RoleContributor) ||
			list[0].RoleDefinitionName != "Contributor" {
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

	step("user update: display name, password and sign-in state take effect", func(t *testing.T) {
		if err := s.App.SetAllowROPC(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		if r := passwordSignIn(t, s, upn, "Cli-Passw0rd!"); r.Status != 200 {
			t.Fatalf("sign-in before the update: %s", r)
		}
		admin.ok(t, nil, "ad", "user", "update", "--id", upn, "--display-name", "Lead Data Scientist", "--password", "Cli-Passw0rd-2!")
		var shown map[string]any
		admin.ok(t, &shown, "ad", "user", "show", "--id", userID)
		if field(shown, "displayName") != "Lead Data Scientist" || shown["accountEnabled"] != true {
			t.Errorf("user show after update printed %v", shown)
		}
		wantOAuthError(t, passwordSignIn(t, s, upn, "Cli-Passw0rd!"), "invalid_grant", 50126)
		if r := passwordSignIn(t, s, upn, "Cli-Passw0rd-2!"); r.Status != 200 {
			t.Fatalf("sign-in with the new password: %s", r)
		}

		admin.ok(t, nil, "ad", "user", "update", "--id", userID, "--account-enabled", "false")
		var disabled map[string]any
		admin.ok(t, &disabled, "ad", "user", "show", "--id", upn)
		if disabled["accountEnabled"] != false {
			t.Errorf("user show after --account-enabled false printed %v", disabled)
		}
		wantOAuthError(t, passwordSignIn(t, s, upn, "Cli-Passw0rd-2!"), "invalid_grant", 50057)
		admin.ok(t, nil, "ad", "user", "update", "--id", upn, "--account-enabled", "true")
		if r := passwordSignIn(t, s, upn, "Cli-Passw0rd-2!"); r.Status != 200 {
			t.Fatalf("sign-in after --account-enabled true: %s", r)
		}

		// --force-change-password-next-sign-in: ROPC answers AADSTS50055 while it is set.
		admin.ok(t, nil, "ad", "user", "update", "--id", upn, "--force-change-password-next-sign-in", "true")
		wantOAuthError(t, passwordSignIn(t, s, upn, "Cli-Passw0rd-2!"), "invalid_grant", 50055)
		admin.ok(t, nil, "ad", "user", "update", "--id", upn, "--force-change-password-next-sign-in", "false")
		if r := passwordSignIn(t, s, upn, "Cli-Passw0rd-2!"); r.Status != 200 {
			t.Fatalf("sign-in after --force-change-password-next-sign-in false: %s", r)
		}
		admin.fails(t, []string{"usage error", "true or false"}, "ad", "user", "update", "--id", upn, "--force-change-password-next-sign-in", "maybe")
		tempUPN := "temp-cli@" + b.Domain
		admin.ok(t, nil, "ad", "user", "create", "--display-name", "Temp", "--user-principal-name", tempUPN,
			"--password", "Temp-Passw0rd!", "--force-change-password-next-sign-in")
		wantOAuthError(t, passwordSignIn(t, s, tempUPN, "Temp-Passw0rd!"), "invalid_grant", 50055)
		admin.ok(t, nil, "ad", "user", "delete", "--id", tempUPN)

		admin.fails(t, []string{"usage error", "--display-name"}, "ad", "user", "update", "--id", upn)
		admin.fails(t, []string{"usage error", "true or false"}, "ad", "user", "update", "--id", upn, "--account-enabled", "no")
		admin.fails(t, []string{"Request_BadRequest", "password complexity"}, "ad", "user", "update", "--id", upn, "--password", "short")
		admin.fails(t, []string{"Request_ResourceNotFound"}, "ad", "user", "update", "--id", "nobody@"+b.Domain, "--display-name", "Nobody")
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

	step("group list and delete", func(t *testing.T) {
		var list []map[string]any
		admin.ok(t, &list, "ad", "group", "list", "--display-name", "ml-")
		if len(list) != 1 || field(list[0], "displayName") != "ml-team" {
			t.Fatalf("group list --display-name printed %v", list)
		}
		var temp map[string]any
		admin.ok(t, &temp, "ad", "group", "create", "--display-name", "ml-temp", "--mail-nickname", "ml-temp")
		admin.ok(t, &list, "ad", "group", "list", "--filter", "mailNickname eq 'ml-temp'")
		if len(list) != 1 || field(list[0], "id") != field(temp, "id") {
			t.Errorf("group list --filter printed %v", list)
		}
		admin.ok(t, &list, "ad", "group", "list", "--display-name", "ml-", "--filter", "mailNickname eq 'ml-team'")
		if len(list) != 1 || field(list[0], "displayName") != "ml-team" {
			t.Errorf("group list with --filter and --display-name printed %v", list)
		}
		admin.fails(t, []string{"Request_BadRequest"}, "ad", "group", "list", "--filter", "noSuchProperty eq 'x'")

		admin.ok(t, nil, "ad", "group", "delete", "--group", "ml-temp")
		admin.fails(t, []string{"Request_ResourceNotFound"}, "ad", "group", "show", "--group", field(temp, "id"))
		admin.ok(t, &list, "ad", "group", "list", "--display-name", "ml-temp")
		if list == nil || len(list) != 0 {
			t.Errorf("group list after delete printed %v, want []", list)
		}
		admin.fails(t, []string{"Request_ResourceNotFound", "ml-temp"}, "ad", "group", "delete", "--group", "ml-temp")

		// Two groups of one name: deleting by the name is refused, by object id it works.
		var dup1, dup2 map[string]any
		admin.ok(t, &dup1, "ad", "group", "create", "--display-name", "ml-dup", "--mail-nickname", "ml-dup-1")
		admin.ok(t, &dup2, "ad", "group", "create", "--display-name", "ml-dup", "--mail-nickname", "ml-dup-2")
		admin.fails(t, []string{"more than one group is named", "object id"}, "ad", "group", "delete", "--group", "ml-dup")
		admin.ok(t, nil, "ad", "group", "delete", "--group", field(dup1, "id"))
		admin.ok(t, &list, "ad", "group", "list", "--display-name", "ml-dup")
		if len(list) != 1 || field(list[0], "id") != field(dup2, "id") {
			t.Errorf("group list after deleting one of two printed %v", list)
		}
	})

	step("app federated-credential create, list, delete: the credential signs the app in", func(t *testing.T) {
		// The external token: a workload's v2 token for api://AzureADTokenExchange, with Tessera as its issuer.
		// A v2 token names its audience by app id.
		exchange := s.CreateApp(t, "token-exchange", map[string]any{
			"identifierUris": []string{"api://AzureADTokenExchange"}, "api": map[string]any{"requestedAccessTokenVersion": 2},
		})
		workload := s.CreateApp(t, "workload", nil)
		external := s.AppToken(t, workload.AppID, workload.Secret, "api://AzureADTokenExchange/.default")
		issuer := s.URL + "/" + b.TenantID + "/v2.0"
		target := s.CreateApp(t, "fic-target", nil)
		if assertionWorks(t, s, target.AppID, external) {
			t.Fatal("the workload token signs the target in before it has a federated credential")
		}

		var fic map[string]any
		admin.ok(t, &fic, "ad", "app", "federated-credential", "create", "--id", target.AppID, "--parameters",
			`{"name":"workload","issuer":"`+issuer+`","subject":"`+workload.SPID+`","audiences":["`+exchange.AppID+`"]}`)
		if field(fic, "id") == "" || field(fic, "name") != "workload" || field(fic, "issuer") != issuer || field(fic, "subject") != workload.SPID {
			t.Fatalf("federated-credential create printed %v", fic)
		}
		if !assertionWorks(t, s, target.AppID, external) {
			t.Error("the new federated credential does not sign the application in")
		}

		// From a file, with the application named by object id.
		file := filepath.Join(t.TempDir(), "credential.json")
		if err := os.WriteFile(file, []byte(`{"name":"github","issuer":"https://token.actions.githubusercontent.com","subject":"repo:contoso/ml:ref:refs/heads/main"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		var github map[string]any
		admin.ok(t, &github, "ad", "app", "federated-credential", "create", "--id", target.ObjectID, "--parameters", "@"+file)
		var list []map[string]any
		admin.ok(t, &list, "ad", "app", "federated-credential", "list", "--id", target.AppID)
		if len(list) != 2 || field(list[0], "id") != field(fic, "id") || field(list[1], "id") != field(github, "id") {
			t.Fatalf("federated-credential list printed %v", list)
		}

		admin.fails(t, []string{"Request_MultipleObjectsWithSameKeyValue"}, "ad", "app", "federated-credential", "create", "--id", target.AppID,
			"--parameters", `{"name":"workload","issuer":"https://other.example","subject":"s"}`)
		admin.fails(t, []string{"Request_BadRequest", "issuer"}, "ad", "app", "federated-credential", "create", "--id", target.AppID,
			"--parameters", `{"name":"plain","issuer":"http://insecure.example","subject":"s"}`)
		admin.fails(t, []string{"--parameters", "not a JSON object"}, "ad", "app", "federated-credential", "create", "--id", target.AppID,
			"--parameters", "{name:")
		admin.fails(t, []string{"Request_ResourceNotFound"}, "ad", "app", "federated-credential", "list", "--id", "api://no-such-app")

		admin.ok(t, nil, "ad", "app", "federated-credential", "delete", "--id", target.AppID, "--federated-credential-id", "workload")
		if assertionWorks(t, s, target.AppID, external) {
			t.Error("the workload token still signs the application in after its credential was deleted")
		}
		admin.ok(t, nil, "ad", "app", "federated-credential", "delete", "--id", target.ObjectID, "--federated-credential-id", field(github, "id"))
		admin.ok(t, &list, "ad", "app", "federated-credential", "list", "--id", target.AppID)
		if list == nil || len(list) != 0 {
			t.Errorf("federated-credential list after the deletes printed %v, want []", list)
		}
		admin.fails(t, []string{"Request_ResourceNotFound"}, "ad", "app", "federated-credential", "delete", "--id", target.AppID,
			"--federated-credential-id", "workload")
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
