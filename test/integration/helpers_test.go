package integration

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/test/testserver"
)

// clientOptions points an azidentity credential at the test server.
func clientOptions(s *testserver.Server) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: s.URL + "/"},
		Transport: s.Client,
	}
}

// getToken asks cred for an ARM token.
func getToken(t *testing.T, cred azcore.TokenCredential, scope string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		t.Fatalf("GetToken(%s): %v", scope, err)
	}
	if time.Until(tok.ExpiresOn) < 50*time.Minute {
		t.Errorf("token expires in %s, want about an hour", time.Until(tok.ExpiresOn))
	}
	return tok.Token
}

// verifyWithJWKS checks a token's signature against the published JWKS and returns its claims.
func verifyWithJWKS(t *testing.T, s *testserver.Server, raw string) map[string]any {
	t.Helper()
	resp, err := s.Client.Get(s.URL + "/" + s.Bootstrap.TenantID + "/discovery/v2.0/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("decode JWKS: %v", err)
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in JWKS (%d keys)", kid, len(set.Keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("token does not verify against JWKS: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// newCert makes a self-signed RSA certificate for client authentication.
func newCert(t *testing.T) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "tessera-test-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// registerCert adds cert to the application's keyCredentials through Graph.
func registerCert(t *testing.T, s *testserver.Server, app testserver.App, cert *x509.Certificate) {
	t.Helper()
	// az sends the base64 DER with embedded newlines: do the same.
	b64 := base64.StdEncoding.EncodeToString(cert.Raw)
	var lines []string
	for len(b64) > 64 {
		lines, b64 = append(lines, b64[:64]), b64[64:]
	}
	lines = append(lines, b64)
	body := map[string]any{"keyCredentials": []map[string]any{{
		"@odata.type": "#microsoft.graph.keyCredential", "displayName": "CN=test", "type": "AsymmetricX509Cert",
		"usage": "Verify", "key": strings.Join(lines, "\n"),
	}}}
	if st := s.Graph(t, s.GraphToken(t), "PATCH", "/applications/"+app.ObjectID, body, nil); st != http.StatusNoContent {
		t.Fatalf("PATCH keyCredentials: %d", st)
	}
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha1Sum(b []byte) []byte {
	s := sha1.Sum(b)
	return s[:]
}

func headerKid(t *testing.T, raw string) string {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}
