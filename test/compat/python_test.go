package compat

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/test/testserver"
)

const (
	armScope = "https://management.azure.com/.default"
	mlScope  = "https://ml.azure.com/.default"
	// pythonTimeout bounds one script run (interpreter start, discovery, token requests).
	pythonTimeout = 60 * time.Second
)

// pythonResult is the JSON line a script in python/ prints (see _compat.py).
type pythonResult struct {
	Credential string `json:"credential"`
	Now        int64  `json:"now"`
	Tokens     []struct {
		Scope       string `json:"scope"`
		AccessToken string `json:"access_token"`
		ExpiresOn   int64  `json:"expires_on"`
	} `json:"tokens"`
	Assertions []struct {
		URL    string         `json:"url"`
		Header map[string]any `json:"header"`
		Claims map[string]any `json:"claims"`
	} `json:"assertions"`
	Error    string            `json:"error"`
	Message  string            `json:"message"`
	Versions map[string]string `json:"versions"`
}

// pythonInterpreter returns the interpreter that can import azure.identity,
// skipping the test (or failing it under TESSERA_COMPAT_REQUIRED=1) when
// there is none.
func pythonInterpreter(t *testing.T) string {
	t.Helper()
	py := os.Getenv("TESSERA_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	ctx, cancel := context.WithTimeout(context.Background(), pythonTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", "import azure.identity, msal; print(azure.identity.__version__, msal.__version__)")
	cmd.Env = baseEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		detail := fmt.Sprintf("%s: %v", py, err)
		if last := lastLine(string(out)); last != "" {
			detail += ": " + last
		}
		if os.Getenv("TESSERA_COMPAT_REQUIRED") == "1" {
			t.Fatalf("python3-azure not installed: apt-get install python3-azure (TESSERA_COMPAT_REQUIRED=1; %s)", detail)
		}
		t.Skipf("python3-azure not installed: apt-get install python3-azure (%s)", detail)
	}
	t.Logf("%s: azure-identity %s", py, strings.Replace(strings.TrimSpace(string(out)), " ", ", msal ", 1))
	return py
}

// baseEnv is the environment every script starts from: nothing inherited but
// PATH, empty HOME, TMPDIR and Azure CLI configuration.
func baseEnv(t *testing.T) []string {
	t.Helper()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"LC_ALL=C.UTF-8",
		"HOME=" + t.TempDir(),
		"TMPDIR=" + t.TempDir(),
		"AZURE_CONFIG_DIR=" + t.TempDir(),
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONNOUSERSITE=1",
		"PYTHONIOENCODING=utf-8",
	}
	if os.Getenv("TESSERA_COMPAT_DEBUG") != "" {
		env = append(env, "COMPAT_DEBUG=1")
	}
	return env
}

// runPython runs python/<script> against s with vars added to the
// controlled environment, and decodes the JSON line it prints. A script that
// times out, prints no result or exits non-zero fails the test (scripts run
// with COMPAT_EXPECT_ERROR exit 0 when the expected exception is raised).
func runPython(t *testing.T, py string, s *testserver.Server, script string, vars map[string]string) pythonResult {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("python", script))
	if err != nil {
		t.Fatal(err)
	}
	env := append(baseEnv(t),
		"REQUESTS_CA_BUNDLE="+s.Bootstrap.CAFile,
		"SSL_CERT_FILE="+s.Bootstrap.CAFile,
		"AZURE_AUTHORITY_HOST="+s.URL,
	)
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	stdout, stderr, runErr := runClient(t, pythonTimeout, script, env, py, path)
	var res pythonResult
	decodeResultLine(t, script, stdout, stderr, runErr, &res)
	if runErr != nil {
		if res.Error != "" {
			t.Fatalf("%s: %v: %s: %s", script, runErr, res.Error, res.Message)
		}
		t.Fatalf("%s: %v; stdout:\n%s", script, runErr, stdout)
	}
	return res
}

// runClient runs a client program (name args) with env in a temporary
// directory, bounded by timeout, and returns what it printed and how it
// exited; a timeout fails the test. label names it in the test log.
func runClient(t *testing.T, timeout time.Duration, label string, env []string, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	// DefaultAzureCredential may start the Azure CLI; don't wait on its pipes forever.
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	t.Logf("%s ran in %s", label, time.Since(start).Round(time.Millisecond))
	if errOut.Len() > 0 && (err != nil || testing.Verbose() && os.Getenv("TESSERA_COMPAT_DEBUG") != "") {
		t.Logf("%s stderr:\n%s", label, errOut.String())
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s: timed out after %s; stdout:\n%s\nstderr:\n%s", label, timeout, out.String(), errOut.String())
	}
	return out.String(), errOut.String(), err
}

// decodeResultLine decodes the JSON line a client program prints last into
// v; a run that printed none fails the test.
func decodeResultLine(t *testing.T, label, stdout, stderr string, runErr error, v any) {
	t.Helper()
	line := lastLine(stdout)
	if line == "" || json.Unmarshal([]byte(line), v) != nil {
		t.Fatalf("%s: %v; no JSON result line; stdout:\n%s\nstderr:\n%s", label, runErr, stdout, stderr)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// jwks verifies tokens against the server's published keys (fetched once).
type jwks struct {
	s   *testserver.Server
	set *jose.JSONWebKeySet
}

// verify checks a token's signature against GET {url}/{tenant}/discovery/v2.0/keys
// and returns its claims.
func (k *jwks) verify(t *testing.T, raw string) map[string]any {
	t.Helper()
	if k.set == nil {
		resp, err := k.s.Client.Get(k.s.URL + "/" + k.s.Bootstrap.TenantID + "/discovery/v2.0/keys")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set jose.JSONWebKeySet
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET JWKS: %d", resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			t.Fatalf("decode JWKS: %v", err)
		}
		k.set = &set
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("access token is not an RS256 JWS: %v", err)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := k.set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in JWKS (%d keys)", kid, len(k.set.Keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("access token does not verify against JWKS: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// checkTokens verifies every token of res: one per scope in order, signed
// by the JWKS, for the app, about an hour long.
func checkTokens(t *testing.T, keys *jwks, res pythonResult, app testserver.App, appidacr string, scopes ...string) {
	t.Helper()
	if len(res.Tokens) != len(scopes) {
		t.Fatalf("got %d tokens, want %d (%v)", len(res.Tokens), len(scopes), scopes)
	}
	tid := keys.s.Bootstrap.TenantID
	for i, tok := range res.Tokens {
		if tok.Scope != scopes[i] {
			t.Errorf("token %d for %q, want %q", i, tok.Scope, scopes[i])
		}
		claims := keys.verify(t, tok.AccessToken)
		want := map[string]any{
			"aud": strings.TrimSuffix(strings.TrimSuffix(scopes[i], "/.default"), "/"), "appid": app.AppID, "tid": tid,
			"idtyp": "app", "appidacr": appidacr, "oid": app.SPID, "iss": "https://sts.windows.net/" + tid + "/",
		}
		for k, v := range want {
			if claims[k] != v {
				t.Errorf("token for %s: claim %s = %v, want %v", tok.Scope, k, claims[k], v)
			}
		}
		// azure-core's AccessToken.expires_on is what SDK clients schedule refreshes by.
		if life := time.Duration(tok.ExpiresOn-res.Now) * time.Second; life < 50*time.Minute || life > 75*time.Minute {
			t.Errorf("token for %s: expires_on %d is %s after the client's clock, want about an hour", tok.Scope, tok.ExpiresOn, life)
		}
		if exp, _ := claims["exp"].(float64); int64(exp) < tok.ExpiresOn-300 || int64(exp) > tok.ExpiresOn+300 {
			t.Errorf("token for %s: client expires_on %d disagrees with exp %d", tok.Scope, tok.ExpiresOn, int64(exp))
		}
	}
}

// writeCertPEM makes an RSA key and self-signed certificate, registers the
// certificate on app through Graph and writes key + certificate to one PEM
// file, the format AZURE_CLIENT_CERTIFICATE_PATH expects.
func writeCertPEM(t *testing.T, s *testserver.Server, app testserver.App) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "tessera-python-compat"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_ = pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	path := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	// As registerCert in test/integration: az sends the base64 DER with embedded newlines.
	b64 := base64.StdEncoding.EncodeToString(der)
	var lines []string
	for len(b64) > 64 {
		lines, b64 = append(lines, b64[:64]), b64[64:]
	}
	lines = append(lines, b64)
	body := map[string]any{"keyCredentials": []map[string]any{{
		"@odata.type": "#microsoft.graph.keyCredential", "displayName": "CN=tessera-python-compat", "type": "AsymmetricX509Cert",
		"usage": "Verify", "key": strings.Join(lines, "\n"),
	}}}
	if st := s.Graph(t, s.GraphToken(t), "PATCH", "/applications/"+app.ObjectID, body, nil); st != http.StatusNoContent {
		t.Fatalf("PATCH keyCredentials: %d", st)
	}
	return path
}

// logAssertions shows what MSAL signed, and checks it sent at least one.
func logAssertions(t *testing.T, res pythonResult) {
	t.Helper()
	if len(res.Assertions) == 0 {
		t.Errorf("no client assertion was posted: the certificate was not used")
	}
	for _, a := range res.Assertions {
		t.Logf("client assertion to %s: header %v, jti %v, iat %v, exp %v", a.URL, a.Header, a.Claims["jti"], a.Claims["iat"], a.Claims["exp"])
	}
}

func TestPython(t *testing.T) {
	py := pythonInterpreter(t)
	s := testserver.Start(t, testserver.Options{})
	keys := &jwks{s: s}
	tid := s.Bootstrap.TenantID
	app := s.CreateApp(t, "python-compat", nil)
	certPath := writeCertPEM(t, s, app)

	t.Run("DefaultAzureCredential/adfs/secret", func(t *testing.T) {
		// DefaultAzureCredential() verbatim: tenant adfs is the only way MSAL skips instance discovery.
		res := runPython(t, py, s, "default_credential.py", map[string]string{
			"AZURE_TENANT_ID": "adfs", "AZURE_CLIENT_ID": app.AppID, "AZURE_CLIENT_SECRET": app.Secret,
		})
		if res.Credential != "DefaultAzureCredential/EnvironmentCredential/ClientSecretCredential" {
			t.Errorf("token came from %s, want the environment's client secret", res.Credential)
		}
		checkTokens(t, keys, res, app, "1", armScope)
	})

	t.Run("DefaultAzureCredential/adfs/certificate", func(t *testing.T) {
		res := runPython(t, py, s, "default_credential.py", map[string]string{
			"AZURE_TENANT_ID": "adfs", "AZURE_CLIENT_ID": app.AppID, "AZURE_CLIENT_CERTIFICATE_PATH": certPath,
		})
		if res.Credential != "DefaultAzureCredential/EnvironmentCredential/CertificateCredential" {
			t.Errorf("token came from %s, want the environment's certificate", res.Credential)
		}
		logAssertions(t, res)
		checkTokens(t, keys, res, app, "2", armScope)
	})

	t.Run("ClientSecretCredential", func(t *testing.T) {
		res := runPython(t, py, s, "client_secret.py", map[string]string{
			"COMPAT_TENANT_ID": tid, "COMPAT_CLIENT_ID": app.AppID, "COMPAT_CLIENT_SECRET": app.Secret, "COMPAT_AUTHORITY": s.URL,
		})
		checkTokens(t, keys, res, app, "1", armScope)
	})

	t.Run("CertificateCredential", func(t *testing.T) {
		res := runPython(t, py, s, "certificate.py", map[string]string{
			"COMPAT_TENANT_ID": tid, "COMPAT_CLIENT_ID": app.AppID, "COMPAT_CERTIFICATE_PATH": certPath, "COMPAT_AUTHORITY": s.URL,
		})
		logAssertions(t, res)
		checkTokens(t, keys, res, app, "2", armScope)
	})

	t.Run("ClientSecretCredential/wrong secret", func(t *testing.T) {
		res := runPython(t, py, s, "client_secret.py", map[string]string{
			"COMPAT_TENANT_ID": tid, "COMPAT_CLIENT_ID": app.AppID, "COMPAT_CLIENT_SECRET": "not-the-secret", "COMPAT_AUTHORITY": s.URL,
			"COMPAT_EXPECT_ERROR": "ClientAuthenticationError",
		})
		if res.Error != "ClientAuthenticationError" || !strings.Contains(res.Message, "AADSTS7000215") {
			t.Errorf("got %s %q, want ClientAuthenticationError mentioning AADSTS7000215", res.Error, res.Message)
		}
		t.Logf("client error: %s", res.Message)
	})

	t.Run("DefaultAzureCredential/instance_discovery=False", func(t *testing.T) {
		res := runPython(t, py, s, "default_credential.py", map[string]string{
			"AZURE_TENANT_ID": tid, "AZURE_CLIENT_ID": app.AppID, "AZURE_CLIENT_SECRET": app.Secret,
			"COMPAT_INSTANCE_DISCOVERY": "false",
		})
		if res.Credential != "DefaultAzureCredential/EnvironmentCredential/ClientSecretCredential" {
			t.Errorf("token came from %s, want the environment's client secret", res.Credential)
		}
		checkTokens(t, keys, res, app, "1", armScope)
	})

	t.Run("CertificateCredential/two resources", func(t *testing.T) {
		// MSAL Python signs one assertion and reuses it (same jti) for about
		// ten minutes; Tessera accepts the replay on the connection that first
		// presented it, which is how one credential instance behaves.
		res := runPython(t, py, s, "certificate.py", map[string]string{
			"COMPAT_TENANT_ID": tid, "COMPAT_CLIENT_ID": app.AppID, "COMPAT_CERTIFICATE_PATH": certPath, "COMPAT_AUTHORITY": s.URL,
			"COMPAT_SCOPES": armScope + " " + mlScope,
		})
		logAssertions(t, res)
		checkTokens(t, keys, res, app, "2", armScope, mlScope)
		if len(res.Assertions) != 2 {
			t.Fatalf("%d client assertions posted, want 2", len(res.Assertions))
		}
		if j0, j1 := res.Assertions[0].Claims["jti"], res.Assertions[1].Claims["jti"]; j0 != j1 {
			t.Errorf("MSAL sent two different assertions (jti %v, %v): the case no longer exercises a reused jti", j0, j1)
		}
	})
}
