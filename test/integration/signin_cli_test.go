package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/tessera-id/tessera/sdk/credential"
	"github.com/tessera-id/tessera/test/testserver"
)

// cliEnv is an isolated environment for the tessera client verbs.
func cliEnv(t *testing.T, s *testserver.Server, config string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TESSERA_CONFIG_DIR=" + config,
		"TESSERA_URL=" + s.URL, "TESSERA_CA_FILE=" + s.Bootstrap.CAFile, "AZURE_CONFIG_DIR=" + t.TempDir()}
}

func runCLI(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

// TestLoginVerbs drives tessera login (device code, browser, password,
// service principal), account show|get-access-token, the token cache read
// by sdk/credential, the ca and signins verbs, and logout.
func TestLoginVerbs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildTessera(t)
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "cliuser", userPassword)
	ws := readerOnWorkspace(t, s, u, "cli")
	config := t.TempDir()
	env := cliEnv(t, s, config)

	t.Run("device code", func(t *testing.T) {
		if out := tesseraLoginDeviceCode(t, bin, env, s, u); !strings.Contains(out, u.UPN) {
			t.Fatalf("login printed %s", out)
		}
		fi, err := os.Stat(filepath.Join(config, credential.CacheFileName))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("token cache mode %v, want 0600", fi.Mode().Perm())
		}
	})

	t.Run("account verbs", func(t *testing.T) {
		out, err := runCLI(t, bin, env, "account", "show")
		if err != nil || !strings.Contains(out, u.UPN) || !strings.Contains(out, s.Bootstrap.TenantID) {
			t.Fatalf("account show: %v\n%s", err, out)
		}
		out, err = runCLI(t, bin, env, "account", "get-access-token", "--resource", "https://management.core.windows.net/")
		if err != nil {
			t.Fatalf("get-access-token: %v\n%s", err, out)
		}
		var tok struct{ AccessToken, Tenant string }
		if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Tenant != s.Bootstrap.TenantID {
			t.Fatalf("get-access-token printed %s", out)
		}
		armChecks(t, s, tok.AccessToken, ws)

		// az's account list / set / show: the subscriptions the account can
		// see, and the one verbs use when given none.
		out, err = runCLI(t, bin, env, "account", "list", "--query", "[].id", "-o", "tsv")
		if err != nil || strings.TrimSpace(out) != s.Bootstrap.SubscriptionID {
			t.Fatalf("account list: %v %q", err, out)
		}
		if out, err = runCLI(t, bin, env, "account", "set", "-s", "Not A Subscription"); err == nil {
			t.Fatalf("account set to an unknown subscription succeeded: %s", out)
		}
		if out, err = runCLI(t, bin, env, "account", "set", "--subscription", s.Bootstrap.SubscriptionID); err != nil {
			t.Fatalf("account set: %v %s", err, out)
		}
		out, err = runCLI(t, bin, env, "account", "show", "--query", "[id, isDefault, user.name]", "-o", "tsv")
		if want := s.Bootstrap.SubscriptionID + "\ntrue\n" + u.UPN + "\n"; err != nil || out != want {
			t.Fatalf("account show: %v %q, want %q", err, out, want)
		}
		// Another resource: refreshed with the cached refresh token.
		out, err = runCLI(t, bin, env, "account", "get-access-token", "--scope", "https://ml.azure.com/.default")
		if err != nil || !strings.Contains(out, "accessToken") {
			t.Fatalf("get-access-token --scope: %v\n%s", err, out)
		}
	})

	t.Run("a Go program reads the cache", func(t *testing.T) {
		t.Setenv("TESSERA_CONFIG_DIR", config)
		t.Setenv("TESSERA_URL", "")
		t.Setenv("AZURE_CONFIG_DIR", t.TempDir())
		for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_USERNAME", "AZURE_PASSWORD", "MSI_ENDPOINT", "IDENTITY_ENDPOINT"} {
			t.Setenv(k, "")
		}
		cred, cfg, err := credential.NewDefault(nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.URL != s.URL {
			t.Fatalf("URL from the cache = %q", cfg.URL)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
		if err != nil {
			t.Fatal(err)
		}
		armChecks(t, s, tok.Token, ws)
	})

	t.Run("no browser on this machine", func(t *testing.T) {
		// cliEnv has no DISPLAY, WAYLAND_DISPLAY or BROWSER: an ssh session.
		out, stderr := deviceCodeLogin(t, bin, cliEnv(t, s, t.TempDir()), s, u, "login")
		if !strings.Contains(stderr, "No browser here: no display") || !strings.Contains(stderr, "--use-device-code") {
			t.Errorf("login printed on stderr %q, want why it uses a device code", stderr)
		}
		if !strings.Contains(out, u.UPN) {
			t.Fatalf("login printed %s", out)
		}
	})

	t.Run("browser", func(t *testing.T) {
		benv := cliEnv(t, s, t.TempDir())
		cmd := exec.Command(bin, "login", "--no-browser")
		cmd.Env = benv
		stderr, _ := cmd.StderrPipe()
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		var authURL string
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "https://") {
				authURL = sc.Text()
				break
			}
		}
		if p := s.NewBrowser(t).Get(authURL); !p.Has("to continue to <strong>Tessera CLI</strong>") {
			t.Errorf("the sign-in page of tessera login does not name Tessera's CLI:\n%s", p.Body)
		}
		b := s.NewBrowser(t)
		resp := b.Deliver(b.SignIn(authURL, u.UPN, u.Password))
		resp.Body.Close()
		if err := cmd.Wait(); err != nil || !strings.Contains(stdout.String(), u.UPN) {
			t.Fatalf("browser login: %v %s", err, stdout.String())
		}
	})

	t.Run("password and service principal", func(t *testing.T) {
		penv := cliEnv(t, s, t.TempDir())
		if out, err := runCLI(t, bin, penv, "login", "-u", u.UPN, "-p", u.Password); err == nil || !strings.Contains(out, "AADSTS7000218") {
			t.Fatalf("password login with ROPC off: %v %s", err, out)
		}
		if out, err := runCLI(t, bin, penv, "tenant", "update", "--allow-ropc=true", "--data-dir", s.DataDir); err != nil {
			t.Fatalf("tenant update: %v\n%s", err, out)
		}
		if out, err := runCLI(t, bin, penv, "login", "-u", u.UPN, "-p", u.Password); err != nil {
			t.Fatalf("password login: %v\n%s", err, out)
		}
		admin := s.Bootstrap.AdminServicePrincipal
		if out, err := runCLI(t, bin, penv, "login", "--service-principal", "-u", admin.AppID, "-p", admin.Secret, "--tenant", s.Bootstrap.TenantID); err != nil {
			t.Fatalf("service principal login: %v\n%s", err, out)
		}
		policy := `{"displayName":"Report MFA","state":"enabledForReportingButNotEnforced","conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`
		out, err := runCLI(t, bin, penv, "ca", "policy", "create", policy)
		if err != nil || !strings.Contains(out, `"id"`) {
			t.Fatalf("ca policy create: %v\n%s", err, out)
		}
		if out, err = runCLI(t, bin, penv, "ca", "policy", "list"); err != nil || !strings.Contains(out, "Report MFA") {
			t.Fatalf("ca policy list: %v\n%s", err, out)
		}
		if out, err = runCLI(t, bin, penv, "signins", "list", "--top", "20"); err != nil || !strings.Contains(out, u.UPN) {
			t.Fatalf("signins list: %v\n%s", err, out)
		}
		if out, err = runCLI(t, bin, penv, "signins", "list", "--top", "50", "--failures"); err != nil || strings.Contains(out, `"errorCode": 0`) {
			t.Fatalf("signins list --failures kept a success: %v\n%s", err, out)
		}
		if out, err = runCLI(t, bin, penv, "logout"); err != nil {
			t.Fatalf("logout: %v\n%s", err, out)
		}
		if _, err = runCLI(t, bin, penv, "account", "show"); err == nil {
			t.Fatal("account show after logout succeeded")
		}
	})
}

// tesseraLoginDeviceCode runs `tessera login --use-device-code` with env,
// approves the code it prints as u in a browser of s, and returns what the
// login printed on stdout once it has finished.
func tesseraLoginDeviceCode(t *testing.T, bin string, env []string, s *testserver.Server, u testserver.User) string {
	t.Helper()
	out, _ := deviceCodeLogin(t, bin, env, s, u, "login", "--use-device-code")
	return out
}

// deviceCodeLogin runs tessera with args, which must sign in with a device
// code, approves the code as u, and returns the login's stdout and the
// stderr it printed up to the code.
func deviceCodeLogin(t *testing.T, bin string, env []string, s *testserver.Server, u testserver.User, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	re := regexp.MustCompile(`open the page (\S+) and enter the code (\S+) `)
	var m []string
	var before strings.Builder
	for sc.Scan() {
		before.WriteString(sc.Text() + "\n")
		if m = re.FindStringSubmatch(sc.Text()); m != nil {
			break
		}
	}
	if m == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("no device code message: %s", before.String())
	}
	if err := approveDeviceCode(t, s.NewBrowser(t), m[1], m[2], u); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = bufio.NewReader(stderr).WriteTo(new(bytes.Buffer)) }()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tessera login: %v", err)
	}
	return stdout.String(), before.String()
}
