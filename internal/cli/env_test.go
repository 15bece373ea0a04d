package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envServer is a TLS server answering the home tenant's discovery document
// as Tessera does, and the PEM file of its certificate.
func envServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/adfs/v2.0/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"issuer":"` + srv.URL + `/0a1b2c3d-0000-4000-8000-000000000001/v2.0"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, writePEM(t, srv.Certificate().Raw)
}

func writePEM(t *testing.T, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// selfSignedCA is a CA certificate that signed nothing the tests serve
// (every httptest server shares one certificate).
func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// runEnv runs `tessera env` in a shell that points nowhere yet.
func runEnv(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Setenv("TESSERA_URL", "")
	t.Setenv("TESSERA_CA_FILE", "")
	t.Setenv("TESSERA_CONFIG_DIR", t.TempDir())
	t.Setenv("TESSERA_DATA_DIR", filepath.Join(t.TempDir(), "none"))
	root := Root()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"env"}, args...))
	err = root.Execute()
	return out.String(), errOut.String(), err
}

func TestEnvFromURL(t *testing.T) {
	srv, ca := envServer(t)
	sp := filepath.Join(t.TempDir(), "ml-auth.json")
	os.WriteFile(sp, []byte(`{"appId":"a1","password":"s1","tenant":"t"}`), 0o600)
	out, _, err := runEnv(t, "--url", srv.URL, "--ca-file", ca, "--service-principal", sp)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"export SSL_CERT_FILE='" + ca + "'\n", "export TESSERA_URL='" + srv.URL + "'\n",
		"export TESSERA_TENANT_ID='0a1b2c3d-0000-4000-8000-000000000001'\n", "export AZURE_TENANT_ID=adfs\n",
		"export AZURE_CLIENT_ID='a1'\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("env lacks %q:\n%s", want, out)
		}
	}
	// The person's az cloud is theirs: nothing runs az without --az.
	if strings.Contains(out, "az ") {
		t.Errorf("env without --az touches az:\n%s", out)
	}
}

// TestEnvFailsWhole: on any error `tessera env` prints nothing for eval to
// run, so `eval "$(tessera env ...)"` fails instead of leaving the shell
// half pointed (as the administrator, say, when only the service principal
// file had a typo).
func TestEnvFailsWhole(t *testing.T) {
	srv, ca := envServer(t)
	otherCA := writePEM(t, selfSignedCA(t))
	srv2, _ := envServer(t)
	srv2.Close()
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	badSP := filepath.Join(t.TempDir(), "empty.json")
	os.WriteFile(badSP, []byte(`{"displayName":"ml-auth"}`), 0o600)
	for name, args := range map[string][]string{
		"typo'd service principal file":              {"--url", srv.URL, "--ca-file", ca, "--service-principal", filepath.Join(t.TempDir(), "ml-auht.json")},
		"service principal file without credentials": {"--url", srv.URL, "--ca-file", ca, "--service-principal", badSP},
		"unreachable URL":                            {"--url", srv2.URL, "--ca-file", ca},
		"wrong CA":                                   {"--url", srv.URL, "--ca-file", otherCA},
		"no CA":                                      {"--url", srv.URL},
		"CA file that is no PEM":                     {"--url", srv.URL, "--ca-file", notPEM},
		"missing CA file":                            {"--url", srv.URL, "--ca-file", ca + ".typo"},
		"http URL":                                   {"--url", strings.Replace(srv.URL, "https:", "http:", 1), "--ca-file", ca},
		"typo'd data directory":                      {"--data-dir", filepath.Join(t.TempDir(), "tessera-dta")},
		"no server named":                            {},
		"URL and data directory both":                {"--url", srv.URL, "--data-dir", t.TempDir()},
	} {
		t.Run(name, func(t *testing.T) {
			out, _, err := runEnv(t, args...)
			if err == nil {
				t.Error("env succeeded")
			}
			if out != "" {
				t.Errorf("env printed for eval despite the error (%v):\n%s", err, out)
			}
		})
	}
}

// TestEnvAzFailsWhole: --az that cannot register the cloud prints nothing
// either; the shell must not go on as if az pointed at Tessera.
func TestEnvAzFailsWhole(t *testing.T) {
	srv, ca := envServer(t)
	bin := t.TempDir()
	failing := filepath.Join(t.TempDir(), "az")
	os.WriteFile(failing, []byte("#!/bin/sh\necho 'az: no such cloud' >&2\nexit 1\n"), 0o755)
	for name, path := range map[string]string{"no az": bin, "az fails": filepath.Dir(failing)} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("PATH", path)
			out, _, err := runEnv(t, "--url", srv.URL, "--ca-file", ca, "--az", "--az-config-dir", t.TempDir())
			if err == nil || out != "" {
				t.Errorf("env --az: %v, printed for eval:\n%s", err, out)
			}
		})
	}
}

// TestEnvPublicCloudNames: for a server that answers under the public
// cloud's names, env prints the CA trust variables and nothing else, and
// warns (on stderr) when login.microsoftonline.com is not that server.
func TestEnvPublicCloudNames(t *testing.T) {
	srv, ca := envServer(t)
	out, stderr, err := runEnv(t, "--url", srv.URL, "--ca-file", ca, "--public-cloud-names")
	if err != nil {
		t.Fatal(err)
	}
	want := "export REQUESTS_CA_BUNDLE='" + ca + "'\nexport SSL_CERT_FILE='" + ca + "'\nexport NODE_EXTRA_CA_CERTS='" + ca + "'\n"
	if out != want {
		t.Errorf("env --public-cloud-names printed\n%s\nwant\n%s", out, want)
	}
	if !strings.Contains(stderr, "login.microsoftonline.com does not answer as this Tessera") {
		t.Errorf("no warning on stderr: %q", stderr)
	}
	if _, _, err := runEnv(t, "--url", srv.URL, "--ca-file", ca, "--public-cloud-names", "--az"); err == nil {
		t.Error("--public-cloud-names with --az: no error")
	}
}
