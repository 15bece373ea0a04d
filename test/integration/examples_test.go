package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/sdk/workspace"
	"github.com/tessera-id/tessera/test/testserver"
)

// The programs of examples/, one per workflow of the guide, built and run
// as a person would run them against a real server.

// buildExamples builds every example into a directory and returns it.
func buildExamples(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "github.com/tessera-id/tessera/examples/...")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build examples: %v\n%s", err, out)
	}
	return dir
}

// exampleWorld is a server with a workspace and the workspace's config.json
// in a directory of its own.
type exampleWorld struct {
	s         *testserver.Server
	bin       string // examples
	ws        string // workspace id
	configDir string
}

func newExampleWorld(t *testing.T) *exampleWorld {
	t.Helper()
	s := testserver.Start(t, testserver.Options{})
	w := &exampleWorld{s: s, bin: buildExamples(t), ws: s.Workspace(t, "ex-rg", "ex-ws"), configDir: t.TempDir()}
	c := workspace.Config{SubscriptionID: s.Bootstrap.SubscriptionID, ResourceGroup: "ex-rg", WorkspaceName: "ex-ws"}
	if _, err := c.Write(w.configDir); err != nil {
		t.Fatal(err)
	}
	return w
}

// env is a person's shell after `eval "$(tessera env)"`, with no sign-in
// anywhere (empty HOME, tessera and az configuration), plus vars.
func (w *exampleWorld) env(t *testing.T, vars ...string) []string {
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + t.TempDir(),
		"TESSERA_CONFIG_DIR=" + filepath.Join(home, ".tessera"), "AZURE_CONFIG_DIR=" + filepath.Join(home, ".azure"),
		"TESSERA_URL=" + w.s.URL, "AZURE_AUTHORITY_HOST=" + w.s.URL, "AZURE_TENANT_ID=adfs",
		"SSL_CERT_FILE=" + w.s.Bootstrap.CAFile, "REQUESTS_CA_BUNDLE=" + w.s.Bootstrap.CAFile, "AZURE_CORE_COLLECT_TELEMETRY=no"}
	return append(env, vars...)
}

// run runs a built example (or any command) in the config directory.
func (w *exampleWorld) run(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if !filepath.IsAbs(name) {
		name = filepath.Join(w.bin, name)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir, cmd.WaitDelay = env, w.configDir, 5*time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s:\n%s", filepath.Base(name), strings.Join(args, " "), out)
	return string(out), err
}

func wantLines(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestExampleServicePrincipal: examples/service-principal signs in with a
// least-privilege service principal's secret, reads the workspace and its
// computes, and is refused a compute.
func TestExampleServicePrincipal(t *testing.T) {
	w := newExampleWorld(t)
	s := w.s
	if r := s.ARM(t, s.AdminARMToken(t), "PUT", w.ws+"/computes/cpu?api-version=2024-04-01",
		map[string]any{"location": "eastus", "properties": map[string]any{"computeType": "AmlCompute"}}); r.Status >= 300 {
		t.Fatalf("compute: %d %s", r.Status, r.Raw)
	}
	sp := s.CreateApp(t, "ml-auth", nil)
	s.Assign(t, w.ws, testserver.RoleAzureMLDataScientist, sp.SPID)
	out, err := w.run(t, w.env(t, "AZURE_CLIENT_ID="+sp.AppID, "AZURE_CLIENT_SECRET="+sp.Secret),
		"service-principal", "-try-create-compute", "gpu")
	if err != nil {
		t.Fatalf("service-principal: %v", err)
	}
	wantLines(t, out, "signed in as app "+sp.AppID, "id:       "+w.ws, "computes: 1\n  cpu\n",
		"create compute gpu: refused (403 AuthorizationFailed)")

	// An explicit config file, and a wrong secret: the error is the token
	// service's.
	out, err = w.run(t, w.env(t, "AZURE_CLIENT_ID="+sp.AppID, "AZURE_CLIENT_SECRET=wrong"), "service-principal", "-config", filepath.Join(w.configDir, "config.json"))
	if err == nil || !strings.Contains(out, "AADSTS7000215") {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestExampleManagedIdentity: examples/managed-identity runs on a compute
// node through `tessera compute run` and signs in as the compute's
// system-assigned identity.
func TestExampleManagedIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	w := newExampleWorld(t)
	s := w.s
	tessera := buildTessera(t)
	compute := w.ws + "/computes/cpu"
	r := s.ARM(t, s.AdminARMToken(t), "PUT", compute+"?api-version=2024-04-01", map[string]any{"location": "eastus",
		"identity": map[string]any{"type": "SystemAssigned"}, "properties": map[string]any{"computeType": "AmlCompute"}})
	if r.Status >= 300 {
		t.Fatalf("compute: %d %s", r.Status, r.Raw)
	}
	principal, _ := r.Body["identity"].(map[string]any)["principalId"].(string)
	s.Assign(t, w.ws, testserver.RoleReader, principal)

	// The person starting the run signs in as themselves (here the
	// administrator service principal); the program gets none of it.
	admin := s.Bootstrap.AdminServicePrincipal
	env := w.env(t, "AZURE_TENANT_ID="+s.Bootstrap.TenantID, "AZURE_CLIENT_ID="+admin.AppID, "AZURE_CLIENT_SECRET="+admin.Secret)
	out, err := w.run(t, env, tessera, "compute", "run", "--workspace", "ex-ws", "-g", "ex-rg", "--compute", "cpu", "--",
		filepath.Join(w.bin, "managed-identity"))
	if err != nil {
		t.Fatalf("compute run managed-identity: %v", err)
	}
	wantLines(t, out, "signed in as managed identity of "+compute+" (object id "+principal+")", "id:       "+w.ws)
}

// TestExampleCLISession: examples/cli-session reuses a CLI sign-in: the
// token cache of `tessera login` (a person, by device code), and the Azure
// CLI's session when az is installed.
func TestExampleCLISession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	w := newExampleWorld(t)
	s := w.s
	tessera := buildTessera(t)
	u := s.CreateUser(t, "exuser", userPassword)
	s.Assign(t, w.ws, testserver.RoleReader, u.ID)

	t.Run("tessera login", func(t *testing.T) {
		env := w.env(t)
		tesseraLoginDeviceCode(t, tessera, env, s, u)
		// The shell needs no server variables: the cache names the server.
		// (It keeps SSL_CERT_FILE: `tessera env` trusts the CA through it.)
		var bare []string
		for _, kv := range env {
			if !strings.HasPrefix(kv, "TESSERA_URL=") && !strings.HasPrefix(kv, "AZURE_AUTHORITY_HOST=") {
				bare = append(bare, kv)
			}
		}
		for _, source := range []string{"tessera", "default"} {
			out, err := w.run(t, bare, "cli-session", "-source", source)
			if err != nil {
				t.Fatalf("cli-session -source %s: %v", source, err)
			}
			wantLines(t, out, "signed in as user "+u.UPN, "id:       "+w.ws)
		}
	})

	t.Run("az login", func(t *testing.T) {
		az, err := exec.LookPath("az")
		if err != nil {
			if os.Getenv("TESSERA_COMPAT_REQUIRED") == "1" {
				t.Fatal("az not installed (TESSERA_COMPAT_REQUIRED=1)")
			}
			t.Skip("az not installed: apt-get install azure-cli to run the Azure CLI session example")
		}
		sp := s.CreateApp(t, "ex-az", nil)
		s.Assign(t, w.ws, testserver.RoleReader, sp.SPID)
		env := w.env(t)
		cloud, _ := json.Marshal(map[string]any{"endpoints": map[string]string{"resourceManager": s.URL + "/", "microsoftGraphResourceId": s.URL + "/graph/"}})
		for _, args := range [][]string{
			{"cloud", "register", "-n", "Tessera", "--cloud-config", string(cloud)},
			{"cloud", "set", "-n", "Tessera"},
			{"login", "--service-principal", "-u", sp.AppID, "-p=" + sp.Secret, "--tenant", s.Bootstrap.TenantID},
		} {
			if _, err := w.run(t, env, az, args...); err != nil {
				t.Fatalf("az %s: %v", args[0], err)
			}
		}
		for _, source := range []string{"az", "default"} {
			out, err := w.run(t, env, "cli-session", "-source", source)
			if err != nil {
				t.Fatalf("cli-session -source %s: %v", source, err)
			}
			wantLines(t, out, "signed in as app "+sp.AppID, "id:       "+w.ws)
		}
	})
}

// TestExampleInteractive: examples/interactive finds no credential in the
// chain and falls back to the browser: the test plays the person at
// Tessera's login page. With -no-browser, the error names every link of
// the chain and why it could not sign in.
func TestExampleInteractive(t *testing.T) {
	w := newExampleWorld(t)
	s := w.s
	u := s.CreateUser(t, "exbrowser", userPassword)
	s.Assign(t, w.ws, testserver.RoleReader, u.ID)

	out, err := w.run(t, w.env(t), "interactive", "-no-browser")
	if err == nil {
		t.Fatal("-no-browser signed in with nothing configured")
	}
	wantLines(t, out, "EnvironmentCredential:", "WorkloadIdentityCredential:", "ManagedIdentityCredential:",
		"TesseraLoginCacheCredential: not logged in", "AzureCLICredential:")

	opened := fakeOpener(t) // xdg-open on PATH records the URL instead of opening a browser
	env := w.env(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(w.bin, "interactive"), "-login-hint", u.UPN)
	cmd.Env, cmd.Dir, cmd.WaitDelay = env, w.configDir, 5*time.Second
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case authURL := <-opened:
		if !strings.Contains(authURL, "login_hint=") {
			t.Errorf("authorize URL without the login hint: %s", authURL)
		}
		b := s.NewBrowser(t)
		resp := b.Deliver(b.SignIn(authURL, u.UPN, u.Password))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the example's loopback listener answered %d", resp.StatusCode)
		}
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("no browser was opened:\n%s", buf.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("interactive: %v\n%s", err, buf.String())
	}
	wantLines(t, buf.String(), "signed in as user "+u.UPN, "id:       "+w.ws)
}
