package integration

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/tessera-id/tessera/test/testserver"
)

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}

const armScope = "https://management.azure.com/.default"

func TestClientSecretCredential(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	app := s.CreateApp(t, "ci-bot", nil)
	for _, tenant := range []string{s.Bootstrap.TenantID, "adfs", s.Bootstrap.Domain} {
		t.Run(tenant, func(t *testing.T) {
			cred, err := azidentity.NewClientSecretCredential(tenant, app.AppID, app.Secret, &azidentity.ClientSecretCredentialOptions{
				ClientOptions: clientOptions(s), DisableInstanceDiscovery: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			claims := verifyWithJWKS(t, s, getToken(t, cred, armScope))
			want := map[string]any{
				"aud": "https://management.azure.com", "iss": "https://sts.windows.net/" + s.Bootstrap.TenantID + "/",
				"tid": s.Bootstrap.TenantID, "appid": app.AppID, "appidacr": "1", "idtyp": "app",
				"oid": app.SPID, "sub": app.SPID, "ver": "1.0",
			}
			for k, v := range want {
				if claims[k] != v {
					t.Errorf("claim %s = %v, want %v", k, claims[k], v)
				}
			}
			exp, iat := claims["exp"].(float64), claims["iat"].(float64)
			if life := time.Duration(exp-iat) * time.Second; life < time.Hour || life > 70*time.Minute {
				t.Errorf("token lifetime %s, want about an hour", life)
			}
		})
	}
}

func TestClientCertificateCredential(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	app := s.CreateApp(t, "cert-bot", nil)
	cert, key := newCert(t)
	registerCert(t, s, app, cert)
	cases := []struct {
		name, tenant string
		sendChain    bool
	}{
		{"guid PS256 x5t#S256", s.Bootstrap.TenantID, false},
		{"adfs RS256 x5t", "adfs", false},
		{"x5c chain", s.Bootstrap.TenantID, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cred, err := azidentity.NewClientCertificateCredential(tc.tenant, app.AppID, []*x509.Certificate{cert}, crypto.PrivateKey(key),
				&azidentity.ClientCertificateCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: true, SendCertificateChain: tc.sendChain})
			if err != nil {
				t.Fatal(err)
			}
			claims := verifyWithJWKS(t, s, getToken(t, cred, armScope))
			if claims["appidacr"] != "2" || claims["appid"] != app.AppID {
				t.Errorf("claims appid=%v appidacr=%v, want %s and 2", claims["appid"], claims["appidacr"], app.AppID)
			}
		})
	}
	t.Run("unregistered certificate", func(t *testing.T) {
		other, otherKey := newCert(t)
		cred, err := azidentity.NewClientCertificateCredential(s.Bootstrap.TenantID, app.AppID, []*x509.Certificate{other}, crypto.PrivateKey(otherKey),
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cred.GetToken(context.Background(), tokenOptions(armScope))
		if err == nil || !strings.Contains(err.Error(), "700027") {
			t.Fatalf("GetToken with an unregistered certificate: %v, want AADSTS700027", err)
		}
	})
}

// TestFederatedAssertion exchanges a token Tessera itself issued (as an
// external OIDC issuer would) for an ARM token, through the federated
// credential of a second application.
func TestFederatedAssertion(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	// The "workload": an app whose v2 tokens for api://AzureADTokenExchange
	// act as the external token. A v2 token names its audience by app id.
	exchange := s.CreateApp(t, "token-exchange", map[string]any{
		"identifierUris": []string{"api://AzureADTokenExchange"}, "api": map[string]any{"requestedAccessTokenVersion": 2},
	})
	workload := s.CreateApp(t, "workload", nil)
	external := s.AppToken(t, workload.AppID, workload.Secret, "api://AzureADTokenExchange/.default")
	issuer := s.URL + "/" + s.Bootstrap.TenantID + "/v2.0"

	target := s.CreateApp(t, "federated-target", nil)
	fic := map[string]any{"name": "workload", "issuer": issuer, "subject": workload.SPID, "audiences": []string{exchange.AppID}}
	if st := s.Graph(t, s.GraphToken(t), "POST", "/applications/"+target.ObjectID+"/federatedIdentityCredentials", fic, nil); st != http.StatusCreated {
		t.Fatalf("add federated credential: %d", st)
	}
	cred, err := azidentity.NewClientAssertionCredential(s.Bootstrap.TenantID, target.AppID,
		func(context.Context) (string, error) { return external, nil },
		&azidentity.ClientAssertionCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	claims := verifyWithJWKS(t, s, getToken(t, cred, armScope))
	if claims["appid"] != target.AppID {
		t.Errorf("appid = %v, want %s", claims["appid"], target.AppID)
	}

	t.Run("subject mismatch", func(t *testing.T) {
		other := s.CreateApp(t, "other-workload", nil)
		tok := s.AppToken(t, other.AppID, other.Secret, "api://AzureADTokenExchange/.default")
		r := s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {target.AppID}, "scope": {armScope},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {tok},
		})
		assertAADSTS(t, r, http.StatusUnauthorized, "invalid_client", 700213)
	})
}

func tokenOptions(scope string) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: []string{scope}}
}

func TestDiscoveryDocuments(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	tid := s.Bootstrap.TenantID
	cases := []struct{ path, golden string }{
		{"/" + tid + "/v2.0/.well-known/openid-configuration", "discovery_v2.json"},
		{"/organizations/v2.0/.well-known/openid-configuration", "discovery_v2_organizations.json"},
		{"/" + tid + "/.well-known/openid-configuration", "discovery_v1.json"},
		{"/adfs/.well-known/openid-configuration", "discovery_adfs.json"},
		{"/" + strings.ToUpper(s.Bootstrap.Domain) + "/v2.0/.well-known/openid-configuration", "discovery_v2_domain.json"},
		{"/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape(s.URL+"/"+tid+"/oauth2/v2.0/authorize"), "instance_discovery.json"},
		{"/common/userrealm/admin@" + s.Bootstrap.Domain + "?api-version=1.0", "userrealm.json"},
		{"/metadata/endpoints?api-version=2015-01-01", "metadata_2015.json"},
		{"/metadata/endpoints?api-version=2022-09-01", "metadata_2022.json"},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			resp, err := s.Client.Get(s.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", tc.path, resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if doubleSlash.Match(body) {
				t.Errorf("document contains '//' in a URL path: %s", body)
			}
			compareGolden(t, tc.golden, normalize(body, s))
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		resp, err := s.Client.Get(s.URL + "/00000000-0000-0000-0000-000000000001/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		assertAADSTS(t, testserver.TokenResponse{Status: resp.StatusCode, Body: decodeMap(t, readBody(t, resp))}, 400, "invalid_request", 90002)
	})
	t.Run("jwks", func(t *testing.T) {
		for _, p := range []string{"/common/discovery/keys", "/" + tid + "/discovery/v2.0/keys", "/adfs/discovery/keys"} {
			resp, err := s.Client.Get(s.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(readBody(t, resp), &set); err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != 2 {
				t.Fatalf("%s: %d keys, want current and next", p, len(set.Keys))
			}
			for _, k := range set.Keys {
				for _, f := range []string{"kty", "use", "kid", "x5t", "n", "e", "x5c"} {
					if k[f] == nil {
						t.Errorf("%s: key lacks %s: %v", p, f, k)
					}
				}
				if _, hasD := k["d"]; hasD {
					t.Fatalf("%s publishes a private key", p)
				}
			}
		}
	})
}

// doubleSlash finds "//" inside a URL path (not after a scheme).
var doubleSlash = regexp.MustCompile(`[^:"]//`)

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func assertAADSTS(t *testing.T, r testserver.TokenResponse, status int, oauth string, code int) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if r.Body["error"] != oauth {
		t.Errorf("error %v, want %s: %s", r.Body["error"], oauth, r.Raw)
	}
	codes, _ := r.Body["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != float64(code) {
		t.Errorf("error_codes %v, want [%d]", r.Body["error_codes"], code)
	}
	desc, _ := r.Body["error_description"].(string)
	if !strings.HasPrefix(desc, "AADSTS"+itoa(code)+": ") || !strings.Contains(desc, "Trace ID: ") || !strings.Contains(desc, "Correlation ID: ") {
		t.Errorf("error_description %q lacks the AADSTS prefix or the trace lines", desc)
	}
	for _, f := range []string{"timestamp", "trace_id", "correlation_id"} {
		if s, _ := r.Body[f].(string); s == "" {
			t.Errorf("error body lacks %s", f)
		}
	}
}

var _ azcore.TokenCredential = (*azidentity.ClientSecretCredential)(nil)
