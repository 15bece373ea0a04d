package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/app"
)

// buildTessera compiles the tessera binary once per test run.
func buildTessera(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tessera")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tessera-id/tessera/cmd/tessera")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
}

// startServe runs `tessera serve` and waits until /healthz answers.
func startServe(t *testing.T, bin, dataDir, listen string, extra ...string) *proc {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, append([]string{"serve", "--data-dir", dataDir, "--listen", listen}, extra...)...)
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &stderr}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	insecure := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := insecure.Get("https://" + listen + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("tessera serve did not become healthy: %s", stderr.String())
	return nil
}

func trustingClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CA file holds no certificate")
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func postJSON(t *testing.T, c *http.Client, method, u, bearer string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, u, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw := readBody(t, resp)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, u, resp.StatusCode, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

func clientToken(t *testing.T, c *http.Client, base, tenant, id, secret, scope string) (int, map[string]any) {
	t.Helper()
	resp, err := c.PostForm(base+"/"+tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {id}, "client_secret": {secret}, "scope": {scope}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, decodeMap(t, readBody(t, resp))
}

// TestServeBinaryLifecycle drives the real binary: first start bootstraps,
// an acknowledged write survives kill -9, a second start reuses everything,
// `tessera keys rotate` works on the data directory, and `tessera env`
// prints the client settings.
func TestServeBinaryLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildTessera(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	listen := freePort(t)

	p := startServe(t, bin, dataDir, listen)
	if !strings.Contains(p.stderr.String(), "bootstrapped") {
		t.Errorf("first start does not say it bootstrapped: %s", p.stderr.String())
	}
	info, err := os.Stat(filepath.Join(dataDir, app.BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("bootstrap.json mode %v, want 0600", info.Mode().Perm())
	}
	raw, _ := os.ReadFile(filepath.Join(dataDir, app.BootstrapFile))
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"url", "tenantId", "domain", "subscriptionId", "caFile", "admin", "adminServicePrincipal"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("bootstrap.json lacks %q", f)
		}
	}
	b, err := app.ReadBootstrap(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	c := trustingClient(t, b.CAFile)
	base := "https://" + strings.Replace(listen, "127.0.0.1", "localhost", 1)
	if b.URL != base {
		t.Errorf("bootstrap url %q, want %q", b.URL, base)
	}
	st, tok := clientToken(t, c, base, b.TenantID, b.AdminServicePrincipal.AppID, b.AdminServicePrincipal.Secret, base+"/graph/.default")
	if st != 200 {
		t.Fatalf("admin token: %d %v", st, tok)
	}
	gt := tok["access_token"].(string)
	created := postJSON(t, c, "POST", base+"/graph/v1.0/applications", gt, map[string]any{"displayName": "durable"})
	objectID, appID := created["id"].(string), created["appId"].(string)
	pw := postJSON(t, c, "POST", base+"/graph/v1.0/applications/"+objectID+"/addPassword", gt, map[string]any{})
	postJSON(t, c, "POST", base+"/graph/v1.0/servicePrincipals", gt, map[string]any{"appId": appID})
	secret := pw["secretText"].(string)

	// kill -9 right after the acknowledged writes.
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()

	rotate := exec.Command(bin, "keys", "rotate", "--data-dir", dataDir)
	if out, err := rotate.CombinedOutput(); err != nil || !strings.Contains(string(out), "Rotated signing keys") {
		t.Fatalf("keys rotate: %v %s", err, out)
	}

	p2 := startServe(t, bin, dataDir, listen)
	if !strings.Contains(p2.stderr.String(), filepath.Join(dataDir, app.BootstrapFile)) {
		t.Errorf("second start does not say where bootstrap.json is: %s", p2.stderr.String())
	}
	raw2, _ := os.ReadFile(filepath.Join(dataDir, app.BootstrapFile))
	if !bytes.Equal(raw, raw2) {
		t.Error("bootstrap.json changed on the second start")
	}
	if st, body := clientToken(t, c, base, b.TenantID, appID, secret, armScope); st != 200 {
		t.Fatalf("the app written before kill -9 does not sign in: %d %v", st, body)
	}
	resp, err := c.Get(base + "/common/discovery/keys")
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []any }
	json.Unmarshal(readBody(t, resp), &set)
	if len(set.Keys) != 3 {
		t.Errorf("after keys rotate the JWKS has %d keys, want 3", len(set.Keys))
	}

	env := exec.Command(bin, "env", "--data-dir", dataDir)
	out, err := env.Output()
	if err != nil {
		t.Fatalf("tessera env: %v", err)
	}
	for _, want := range []string{"REQUESTS_CA_BUNDLE=", "SSL_CERT_FILE=", "NODE_EXTRA_CA_CERTS=", "AZURE_AUTHORITY_HOST='" + base + "'",
		"AZURE_TENANT_ID=adfs", "TESSERA_TENANT_ID='" + b.TenantID + "'"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("tessera env lacks %q:\n%s", want, out)
		}
	}
	if bytes.Contains(out, []byte("az ")) {
		t.Errorf("tessera env without --az touches the person's az configuration:\n%s", out)
	}
	// A teammate's machine: no data directory, only the URL and the CA
	// file, which is public.
	remote := exec.Command(bin, "env", "--url", base, "--ca-file", b.CAFile)
	remote.Dir = t.TempDir()
	remoteOut, err := remote.Output()
	if err != nil || !bytes.Equal(remoteOut, out) {
		t.Errorf("tessera env --url --ca-file: %v\n%s\nwant the data directory's:\n%s", err, remoteOut, out)
	}
	typo := exec.Command(bin, "env", "--data-dir", dataDir, "--service-principal", filepath.Join(t.TempDir(), "ml-auht.json"))
	if typoOut, err := typo.Output(); err == nil || len(typoOut) != 0 {
		t.Errorf("tessera env with a missing credentials file: %v, printed for eval:\n%s", err, typoOut)
	}

	// Graceful shutdown on SIGTERM.
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p2.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM: %s", err, p2.stderr.String())
		}
	case <-ctx.Done():
		t.Error("serve did not stop after SIGTERM")
	}
}
