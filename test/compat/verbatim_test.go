package compat

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/internal/app"
	"github.com/tessera-id/tessera/internal/config"
	"github.com/tessera-id/tessera/test/browser"
	"github.com/tessera-id/tessera/test/testserver"
)

// verbatim is a Tessera answering for the public cloud's host names
// (serve --public-cloud-names) on 127.0.0.1:443, and the command prefix
// that runs a client in a private mount namespace whose /etc/hosts sends
// those names to it: the test machine's own hosts file is never changed.
type verbatim struct {
	s    *testserver.Server
	wrap []string
}

// skipVerbatim skips the test, or fails it under TESSERA_COMPAT_REQUIRED=1.
func skipVerbatim(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("TESSERA_COMPAT_REQUIRED") == "1" {
		t.Fatalf("TESSERA_COMPAT_REQUIRED=1: "+format, args...)
	}
	t.Skipf(format, args...)
}

func startVerbatim(t *testing.T) verbatim {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		skipVerbatim(t, "the public cloud names tests run clients under `unshare --mount`, which is not installed")
	}
	lines := []string{"127.0.0.1 localhost", "::1 localhost"}
	for _, name := range app.PublicCloudHosts() {
		lines = append(lines, "127.0.0.1 "+name)
	}
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wrap := []string{unshare, "--mount", "sh", "-c", `mount --bind "$0" /etc/hosts && exec "$@"`, hosts}
	probe := exec.Command(wrap[0], append(wrap[1:], "getent", "hosts", "management.azure.com")...)
	if out, err := probe.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "127.0.0.1") {
		skipVerbatim(t, "a private mount namespace with its own /etc/hosts is not permitted here (needs root: unshare --mount, mount --bind): %v: %s", err, strings.TrimSpace(string(out)))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:443")
	if err != nil {
		skipVerbatim(t, "the public cloud's names are served on 127.0.0.1:443, which is not available: %v", err)
	}
	ln.Close()
	s := testserver.Start(t, testserver.Options{Listen: "127.0.0.1:443", Config: func(c *config.Config) { c.PublicCloudNames = true }})
	return verbatim{s: s, wrap: wrap}
}

// browser is a test browser on this machine's side of the namespace: it
// reaches the public cloud's login name at Tessera's address, as a person's
// browser would through the hosts file.
func (v verbatim) browser(t *testing.T) *testserver.Browser {
	b := v.s.NewBrowser(t)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	b.Client.Transport = &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: v.s.CAPool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, "127.0.0.1:443")
		},
	}
	b.Client.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != "login.microsoftonline.com" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return b
}

// trustEnv is what `tessera env --public-cloud-names` exports: the CA
// trust variables, and nothing Tessera-specific.
func (v verbatim) trustEnv() []string {
	ca := v.s.Bootstrap.CAFile
	return []string{"REQUESTS_CA_BUNDLE=" + ca, "SSL_CERT_FILE=" + ca, "NODE_EXTRA_CA_CERTS=" + ca}
}

func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPublicCloudNames runs the clients as their users write them for the
// public cloud, with only the machine's name resolution (a private
// /etc/hosts) and trust (the CA bundle variables) pointing at Tessera: no
// AZURE_AUTHORITY_HOST, no adfs tenant, no AZUREML_DEV_URL_MFE, no az
// cloud register.
func TestPublicCloudNames(t *testing.T) {
	v := startVerbatim(t)
	s := v.s
	const rg, wsName = "verbatim-rg", "verbatim-ws"
	s.Workspace(t, rg, wsName)
	sub, tid := s.Bootstrap.SubscriptionID, s.Bootstrap.TenantID
	sp := s.CreateApp(t, "verbatim-contributor", nil)
	s.Assign(t, "/subscriptions/"+sub+"/resourceGroups/"+rg, testserver.RoleContributor, sp.SPID)
	spEnv := []string{"AZURE_CLIENT_ID=" + sp.AppID, "AZURE_CLIENT_SECRET=" + sp.Secret, "AZURE_TENANT_ID=" + tid}

	t.Run("Python DefaultAzureCredential and MLClient.from_config", func(t *testing.T) {
		py := mlInterpreter(t)
		configPath := filepath.Join(t.TempDir(), "config.json")
		cfg, _ := json.Marshal(map[string]string{"subscription_id": sub, "resource_group": rg, "workspace_name": wsName})
		if err := os.WriteFile(configPath, cfg, 0o600); err != nil {
			t.Fatal(err)
		}
		// contrib/python holds pydash, which azure-ai-ml imports and Debian
		// does not package: a library, not a setting.
		env := append(append(append(baseEnv(t), v.trustEnv()...), spEnv...), "PYTHONPATH="+shimDir(t))
		res := runMLClientIn(t, env, v.wrap, py, configPath, "credential", "from_config", "workspaces.get", "compute.list")
		var cred struct {
			Credential string `json:"credential"`
		}
		res.ok(t, "credential", &cred)
		if cred.Credential != "DefaultAzureCredential/EnvironmentCredential/ClientSecretCredential" {
			t.Errorf("token came from %s, want the environment's client secret", cred.Credential)
		}
		var ws entity
		res.ok(t, "workspaces.get", &ws)
		if ws.Name != wsName {
			t.Errorf("workspaces.get returned %q", ws.Name)
		}
		res.ok(t, "compute.list", nil)
		hosts := map[string]bool{}
		for _, r := range res.Requests {
			// MSAL writes the port of its tenant discovery URL.
			hosts[strings.TrimSuffix(r.Host, ":443")] = true
		}
		for h := range hosts {
			if h != "login.microsoftonline.com" && h != "management.azure.com" {
				t.Errorf("the SDK called %s; want only login.microsoftonline.com and management.azure.com", h)
			}
		}
		if !hosts["management.azure.com"] {
			t.Errorf("no request reached management.azure.com: %v", res.Requests)
		}
	})

	t.Run("Go azidentity DefaultAzureCredential and an ARM client", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "goclient")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./goclient")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./goclient: %v\n%s", err, out)
		}
		env := append(append(append(baseEnv(t), v.trustEnv()...), spEnv...), "COMPAT_SUBSCRIPTION_ID="+sub)
		stdout, stderr, runErr := runClient(t, pythonTimeout, "goclient", env, v.wrap[0], append(v.wrap[1:], bin)...)
		var res struct {
			Groups []string `json:"groups"`
			Token  string   `json:"token"`
			Error  string   `json:"error"`
		}
		decodeResultLine(t, "goclient", stdout, stderr, runErr, &res)
		if runErr != nil || res.Error != "" {
			t.Fatalf("goclient: %v: %s\n%s", runErr, res.Error, stderr)
		}
		if !slices.Contains(res.Groups, rg) {
			t.Errorf("resource groups %v lack %s", res.Groups, rg)
		}
		c := claimsOf(t, res.Token)
		if c["iss"] != "https://sts.windows.net/"+tid+"/" || c["aud"] != "https://management.azure.com" || c["appid"] != sp.AppID {
			t.Errorf("ARM token iss %v aud %v appid %v", c["iss"], c["aud"], c["appid"])
		}
	})

	t.Run("Node DefaultAzureCredential", func(t *testing.T) {
		c := nodeIdentity(t)
		env := append(append(baseEnv(t), v.trustEnv()...), spEnv...)
		stdout, stderr, err := runClient(t, nodeTimeout, "identity.js default", env, v.wrap[0], append(v.wrap[1:], c.node, c.script, "default")...)
		res := decodeNode(t, "default", stdout, stderr, err)
		if res.Error != "" {
			t.Fatalf("%s: %s\n%s", res.Error, res.Message, stderr)
		}
		if res.Credential != "EnvironmentCredential" {
			t.Errorf("token came from %q, want EnvironmentCredential", res.Credential)
		}
		claims := claimsOf(t, res.Token)
		if claims["iss"] != "https://sts.windows.net/"+tid+"/" || claims["appid"] != sp.AppID {
			t.Errorf("token iss %v appid %v", claims["iss"], claims["appid"])
		}
	})

	t.Run("az login --service-principal in AzureCloud", func(t *testing.T) {
		az := findAz(t)
		a := emptyAzSession(t, az, s)
		a.wrap = v.wrap
		var cloud struct{ Name string }
		a.json(t, &cloud, "cloud", "show")
		if cloud.Name != "AzureCloud" {
			t.Fatalf("az's active cloud is %s, want the default AzureCloud", cloud.Name)
		}
		subs := a.loginSP(t, sp.AppID, sp.Secret)
		if len(subs) != 1 || subs[0].ID != sub || subs[0].CloudName != "AzureCloud" || subs[0].TenantID != tid {
			t.Fatalf("az login printed %+v", subs)
		}
		var groups []struct{ Name string }
		a.json(t, &groups, "group", "list")
		if !slices.ContainsFunc(groups, func(g struct{ Name string }) bool { return g.Name == rg }) {
			t.Errorf("az group list: %+v lacks %s", groups, rg)
		}
	})

	t.Run("the guide's snippet: DefaultAzureCredential, then InteractiveBrowserCredential in Chromium", func(t *testing.T) {
		py := pythonInterpreter(t)
		// Chromium runs outside the namespace: a resolver rule sends the
		// login name to Tessera, as the hosts file does for the client.
		ctx := browser.New(t, chromedp.Flag("host-resolver-rules", "MAP login.microsoftonline.com 127.0.0.1"))
		u, _ := signinUser(t, s, "guideuser")
		opener, urls := testserver.OpenerScript(t, "browser")
		errc := make(chan error, 1)
		go func() {
			select {
			case authURL := <-urls:
				if !strings.HasPrefix(authURL, "https://login.microsoftonline.com/") {
					errc <- fmt.Errorf("the credential opened %s", authURL)
					return
				}
				bctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				defer cancel()
				errc <- chromedp.Do(bctx, chromedp.Navigate(authURL), browser.Login(u.UPN, u.Password))
			case <-time.After(2 * time.Minute):
				errc <- errors.New("the credential opened no browser")
			}
		}()
		script, err := filepath.Abs(filepath.Join("python", "guide_fallback.py"))
		if err != nil {
			t.Fatal(err)
		}
		env := append(append(baseEnv(t), v.trustEnv()...), "BROWSER="+opener)
		stdout, stderr, runErr := runClient(t, 3*time.Minute, "guide_fallback.py", env, v.wrap[0], append(v.wrap[1:], py, script)...)
		var res struct {
			pythonResult
			Fallback string `json:"fallback"`
		}
		decodeResultLine(t, "guide_fallback.py", stdout, stderr, runErr, &res)
		if runErr != nil || res.Error != "" {
			t.Fatalf("guide_fallback.py: %v: %s: %s\n%s", runErr, res.Error, res.Message, stderr)
		}
		if err := <-errc; err != nil {
			t.Fatalf("browser: %v", err)
		}
		if res.Fallback == "" || res.Credential != "InteractiveBrowserCredential" || len(res.Tokens) == 0 {
			t.Fatalf("fallback %q, credential %q, %d tokens", res.Fallback, res.Credential, len(res.Tokens))
		}
		c := claimsOf(t, res.Tokens[0].AccessToken)
		if c["upn"] != u.UPN || c["aud"] != "https://management.azure.com" || c["tid"] != tid {
			t.Errorf("token claims upn %v aud %v tid %v", c["upn"], c["aud"], c["tid"])
		}
	})

	t.Run("az login --use-device-code in AzureCloud", func(t *testing.T) {
		az := findAz(t)
		u, ws := signinUser(t, s, "verbatimuser")
		a := emptyAzSession(t, az, s)
		a.wrap = v.wrap
		res := a.loginWithDeviceCode(t, func(page, code string) error {
			if !strings.HasPrefix(page, "https://login.microsoftonline.com/") {
				t.Errorf("az sends the person to %s", page)
			}
			return v.browser(t).ApproveDeviceCode(page, code, u.UPN, u.Password)
		})
		var subs []azSubscription
		if err := json.Unmarshal(res.stdout, &subs); err != nil || len(subs) != 1 || subs[0].User.Name != u.UPN ||
			subs[0].CloudName != "AzureCloud" || subs[0].TenantID != tid {
			t.Fatalf("az login printed %s (%v)", res.stdout, err)
		}
		a.userChecks(t, ws)
	})
}
