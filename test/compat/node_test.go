package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/test/testserver"
)

// The Node tests run the real @azure/identity (4.13.1, msal-node 5.x, pinned
// by node/package-lock.json) through node/identity.js, which gets one token
// and prints it as one JSON line:
//
//	npm ci --prefix test/compat/node
//	go test ./test/compat/ -run Node -count=1 -v
//
// Node reads the test server's CA from NODE_EXTRA_CA_CERTS. The credentials
// are given authorityHost (option or AZURE_AUTHORITY_HOST) and, with a
// tenant GUID, disableInstanceDiscovery: true (CLIENTS.md §1): without it
// msal-node asks login.microsoftonline.com, which these tests never reach.
// With tenant "adfs" @azure/identity lists the authority as known
// (getKnownAuthorities) and msal-node skips instance discovery, so
// DefaultAzureCredential() runs with no argument.

// nodeTimeout bounds one run of identity.js.
const nodeTimeout = 60 * time.Second

// nodeResult is the JSON line node/identity.js prints.
type nodeResult struct {
	Credential         string            `json:"credential"`
	Token              string            `json:"token"`
	ExpiresOnTimestamp int64             `json:"expiresOnTimestamp"` // ms
	Now                int64             `json:"now"`                // ms, the client's clock
	Error              string            `json:"error"`
	Message            string            `json:"message"`
	Versions           map[string]string `json:"versions"`
}

// nodeClient is the node binary and the absolute path of identity.js.
type nodeClient struct{ node, script string }

// nodeIdentity finds node and the installed @azure/identity, skipping the
// test (or failing it under TESSERA_COMPAT_REQUIRED=1) when either is
// missing.
func nodeIdentity(t *testing.T) nodeClient {
	t.Helper()
	const install = "npm ci --prefix test/compat/node"
	absent := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("TESSERA_COMPAT_REQUIRED") == "1" {
			t.Fatalf("%s (TESSERA_COMPAT_REQUIRED=1)", msg)
		}
		t.Skip(msg)
	}
	node := os.Getenv("TESSERA_NODE")
	if node == "" {
		var err error
		if node, err = exec.LookPath("node"); err != nil {
			absent("node not installed (Node.js 20 or later, then %s): %v", install, err)
		}
	}
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@azure", "identity", "package.json")); err != nil {
		absent("@azure/identity not installed: %s", install)
	}
	c := nodeClient{node: node, script: filepath.Join(dir, "identity.js")}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, c.script, "versions")
	cmd.Env = baseEnv(t)
	out, err := cmd.CombinedOutput()
	var res nodeResult
	if err != nil || json.Unmarshal([]byte(lastLine(string(out))), &res) != nil || res.Versions["@azure/identity"] == "" {
		absent("%s cannot load @azure/identity (%v: %s): %s", node, err, lastLine(string(out)), install)
	}
	v := res.Versions
	t.Logf("node %s: @azure/identity %s, @azure/msal-node %s, @azure/msal-common %s", v["node"], v["@azure/identity"], v["@azure/msal-node"], v["@azure/msal-common"])
	return c
}

// decodeNode reads the result line of a run of identity.js. A run that
// prints no result fails the test; one that failed returns its error, so
// that a case expecting an error can check it.
func decodeNode(t *testing.T, mode, stdout, stderr string, runErr error) nodeResult {
	t.Helper()
	var res nodeResult
	decodeResultLine(t, "identity.js "+mode, stdout, stderr, runErr, &res)
	if runErr != nil && res.Error == "" {
		t.Fatalf("identity.js %s: %v; stdout:\n%s", mode, runErr, stdout)
	}
	return res
}

// run runs identity.js <mode> against s with vars added to the controlled
// environment (baseEnv, the CA in NODE_EXTRA_CA_CERTS, AZURE_AUTHORITY_HOST).
func (c nodeClient) run(t *testing.T, s *testserver.Server, mode string, vars map[string]string) nodeResult {
	t.Helper()
	env := append(baseEnv(t), "NODE_EXTRA_CA_CERTS="+s.Bootstrap.CAFile, "AZURE_AUTHORITY_HOST="+s.URL)
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	stdout, stderr, err := runClient(t, nodeTimeout, "identity.js "+mode, env, c.node, c.script, mode)
	return decodeNode(t, mode, stdout, stderr, err)
}

// checkNodeToken verifies the token against the JWKS, checks want's claims
// (empty values are not checked), and that the client's expiresOnTimestamp
// is about an hour away and agrees with exp.
func checkNodeToken(t *testing.T, keys *jwks, res nodeResult, want map[string]any) {
	t.Helper()
	if res.Error != "" {
		t.Fatalf("%s: %s", res.Error, res.Message)
	}
	claims := keys.verify(t, res.Token)
	tid := keys.s.Bootstrap.TenantID
	base := map[string]any{"aud": "https://management.azure.com", "tid": tid, "iss": "https://sts.windows.net/" + tid + "/", "idtyp": "app"}
	for k, v := range want {
		base[k] = v
	}
	for k, v := range base {
		if v != "" && claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	// @azure/core-auth's AccessToken.expiresOnTimestamp (ms) is what SDK clients schedule refreshes by.
	if life := time.Duration(res.ExpiresOnTimestamp-res.Now) * time.Millisecond; life < 50*time.Minute || life > 75*time.Minute {
		t.Errorf("expiresOnTimestamp %d is %s after the client's clock, want about an hour", res.ExpiresOnTimestamp, life)
	}
	if exp, _ := claims["exp"].(float64); int64(exp) < res.ExpiresOnTimestamp/1000-300 || int64(exp) > res.ExpiresOnTimestamp/1000+300 {
		t.Errorf("client expiresOnTimestamp %d disagrees with exp %d", res.ExpiresOnTimestamp, int64(exp))
	}
}

// TestNodeIdentity gets ARM tokens for a service principal with
// @azure/identity's ClientSecretCredential, ClientCertificateCredential and
// DefaultAzureCredential, and checks the error a wrong secret surfaces.
func TestNodeIdentity(t *testing.T) {
	c := nodeIdentity(t)
	s := testserver.Start(t, testserver.Options{})
	keys := &jwks{s: s}
	tid := s.Bootstrap.TenantID
	app := s.CreateApp(t, "node-compat", nil)
	certPath := writeCertPEM(t, s, app)
	secretApp := map[string]any{"appid": app.AppID, "oid": app.SPID, "appidacr": "1"}
	certApp := map[string]any{"appid": app.AppID, "oid": app.SPID, "appidacr": "2"}

	for _, tc := range []struct {
		name, mode string
		vars       map[string]string
		// credential is the chain member DefaultAzureCredential used.
		credential string
		claims     map[string]any
		// wantErr: the run must fail with a message containing it.
		wantErr string
	}{
		{name: "ClientSecretCredential", mode: "secret", claims: secretApp, vars: map[string]string{
			"COMPAT_TENANT_ID": tid, "COMPAT_CLIENT_ID": app.AppID, "COMPAT_CLIENT_SECRET": app.Secret,
			"COMPAT_AUTHORITY": s.URL, "COMPAT_DISABLE_INSTANCE_DISCOVERY": "1",
		}},
		// Tenant adfs: no disableInstanceDiscovery, msal-node treats the authority as ADFS
		// (GET /adfs/.well-known/openid-configuration, no /v2.0).
		{name: "ClientSecretCredential/adfs", mode: "secret", claims: secretApp, vars: map[string]string{
			"COMPAT_TENANT_ID": "adfs", "COMPAT_CLIENT_ID": app.AppID, "COMPAT_CLIENT_SECRET": app.Secret, "COMPAT_AUTHORITY": s.URL,
		}},
		{name: "ClientCertificateCredential", mode: "certificate", claims: certApp, vars: map[string]string{
			"COMPAT_TENANT_ID": tid, "COMPAT_CLIENT_ID": app.AppID, "COMPAT_CERTIFICATE_PATH": certPath,
			"COMPAT_AUTHORITY": s.URL, "COMPAT_DISABLE_INSTANCE_DISCOVERY": "1",
		}},
		// DefaultAzureCredential reads the authority (AZURE_AUTHORITY_HOST) and the secret from the
		// environment, but disableInstanceDiscovery only from its options: with a tenant GUID the
		// script passes {disableInstanceDiscovery: true}.
		{name: "DefaultAzureCredential/environment/secret", mode: "default", credential: "EnvironmentCredential", claims: secretApp,
			vars: map[string]string{
				"AZURE_TENANT_ID": tid, "AZURE_CLIENT_ID": app.AppID, "AZURE_CLIENT_SECRET": app.Secret,
				"COMPAT_DISABLE_INSTANCE_DISCOVERY": "1",
			}},
		// DefaultAzureCredential() verbatim: tenant adfs from the environment.
		{name: "DefaultAzureCredential()/adfs/secret", mode: "default", credential: "EnvironmentCredential", claims: secretApp,
			vars: map[string]string{"AZURE_TENANT_ID": "adfs", "AZURE_CLIENT_ID": app.AppID, "AZURE_CLIENT_SECRET": app.Secret}},
		{name: "DefaultAzureCredential()/adfs/certificate", mode: "default", credential: "EnvironmentCredential", claims: certApp,
			vars: map[string]string{"AZURE_TENANT_ID": "adfs", "AZURE_CLIENT_ID": app.AppID, "AZURE_CLIENT_CERTIFICATE_PATH": certPath}},
		{name: "ClientSecretCredential/wrong secret", mode: "secret", wantErr: "AADSTS7000215", vars: map[string]string{
			"COMPAT_TENANT_ID": tid, "COMPAT_CLIENT_ID": app.AppID, "COMPAT_CLIENT_SECRET": "not-the-secret",
			"COMPAT_AUTHORITY": s.URL, "COMPAT_DISABLE_INSTANCE_DISCOVERY": "1",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.run(t, s, tc.mode, tc.vars)
			if tc.wantErr != "" {
				if res.Error == "" || !strings.Contains(res.Message, tc.wantErr) {
					t.Fatalf("got error %q %q, want one mentioning %s", res.Error, res.Message, tc.wantErr)
				}
				t.Logf("client error: %s: %s", res.Error, res.Message)
				return
			}
			if tc.credential != "" && res.Credential != tc.credential {
				t.Errorf("token came from %s, want %s", res.Credential, tc.credential)
			}
			checkNodeToken(t, keys, res, tc.claims)
		})
	}
}

// TestManagedIdentityNode runs ManagedIdentityCredential and
// DefaultAzureCredential() inside `tessera compute run` (see
// managed_identity_test.go): the run sets IDENTITY_ENDPOINT +
// IDENTITY_HEADER, which msal-node picks first (App Service source), and
// NODE_EXTRA_CA_CERTS.
func TestManagedIdentityNode(t *testing.T) {
	c := nodeIdentity(t)
	w := newMIWorld(t)
	keys := &jwks{s: w.s}
	computeID := "/subscriptions/" + w.s.Bootstrap.SubscriptionID + "/resourceGroups/" + miRG +
		"/providers/Microsoft.MachineLearningServices/workspaces/" + miWorkspace + "/computes/" + miCompute

	for _, tc := range []struct {
		name, mode, clientID string
		credential           string
		claims               map[string]any
	}{
		{name: "ManagedIdentityCredential()", mode: "managed", credential: "ManagedIdentityCredential",
			claims: map[string]any{"oid": w.systemOID, "xms_mirid": computeID}},
		{name: "ManagedIdentityCredential(user-assigned)", mode: "managed", clientID: w.ua.ClientID, credential: "ManagedIdentityCredential",
			claims: map[string]any{"appid": w.ua.ClientID, "oid": w.ua.PrincipalID, "xms_mirid": w.ua.ID}},
		{name: "DefaultAzureCredential()", mode: "default", credential: "ManagedIdentityCredential",
			claims: map[string]any{"oid": w.systemOID, "xms_mirid": computeID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var env []string
			if tc.clientID != "" {
				env = append(env, "COMPAT_MI_CLIENT_ID="+tc.clientID)
			}
			stdout, stderr, err := w.computeRun(t, []string{"--compute", miCompute}, env, c.node, c.script, tc.mode)
			res := decodeNode(t, tc.mode, stdout, stderr, err)
			if res.Credential != tc.credential {
				t.Errorf("token came from %s, want %s", res.Credential, tc.credential)
			}
			checkNodeToken(t, keys, res, tc.claims)
		})
	}
}
