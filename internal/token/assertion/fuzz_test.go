package assertion

import (
	"crypto"
	"crypto/sha1" //nolint:gosec // x5t
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"github.com/tessera-id/tessera/internal/token/tokenerr"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/domain"
)

// The fuzz certificate is fixed (testdata/assertion_fuzz_client.pem, a P-256
// test-only key pair) so that corpus entries stay meaningful across runs.
var fuzzAssertionNow = time.Unix(1795659200, 0).UTC()

func fuzzAssertionFixture(f *testing.F) (der []byte, key crypto.Signer) {
	f.Helper()
	data, err := os.ReadFile("testdata/assertion_fuzz_client.pem")
	if err != nil {
		f.Fatal(err)
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			der = b.Bytes
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				f.Fatal(err)
			}
			key = k.(crypto.Signer)
		}
	}
	if der == nil || key == nil {
		f.Fatal("fixture incomplete")
	}
	return der, key
}

// fuzzAssertionSeeds are valid and near-valid assertions plus junk.
func fuzzAssertionSeeds(f *testing.F, der []byte, key crypto.Signer) []string {
	f.Helper()
	s1 := sha1.Sum(der) //nolint:gosec // x5t
	s256 := sha256.Sum256(der)
	x5t := base64.URLEncoding.EncodeToString(s1[:])
	payloads := []string{
		fmt.Sprintf(`{"aud":%q,"iss":%q,"sub":%q,"jti":"j1","iat":1795659066.5999951,"exp":1795659666.5999951}`, taTokenURL, taClientID, taClientID),
		fmt.Sprintf(`{"aud":[%q],"iss":%q,"sub":%q,"jti":"j2","nbf":1795659100,"exp":1795659700}`, taTokenURL, taClientID, taClientID),
		`{"iss":"https://token.actions.githubusercontent.com","sub":"repo:a/b:ref:refs/heads/main","aud":"api://AzureADTokenExchange","exp":1795659700}`,
		`{}`,
	}
	headers := []map[jose.HeaderKey]any{
		{"x5t": x5t},
		{"x5t#S256": base64.StdEncoding.EncodeToString(s256[:])},
		{"x5c": []string{base64.StdEncoding.EncodeToString(der)}},
		{"kid": "k1"},
	}
	var seeds []string
	for i, p := range payloads {
		seeds = append(seeds, taSign(f, key, jose.ES256, headers[i%len(headers)], []byte(p)))
	}
	seeds = append(seeds,
		"",
		".",
		"..",
		"...",
		"a.b.c",
		"eyJhbGciOiJub25lIn0.e30.",
		"eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
		"eyJhbGciOiJFUzI1NiJ9.bnVsbA.c2ln",
		"eyJhbGciOiJSUzI1NiIsIng1YyI6WyJBQUFBIl19.e30.c2ln",
		"eyJhbGciOiJSUzI1NiIsImNyaXQiOlsiYjY0Il0sImI2NCI6ZmFsc2V9.e30.c2ln",
		strings.Repeat("A", 300)+"."+strings.Repeat("B", 300)+"."+strings.Repeat("C", 300),
	)
	return seeds
}

func FuzzInspectAssertion(f *testing.F) {
	der, key := fuzzAssertionFixture(f)
	for _, s := range fuzzAssertionSeeds(f, der, key) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		in, err := Inspect(raw)
		if err != nil {
			te, ok := tokenerr.AsError(err)
			if !ok || te.Number != 50027 || te.Code != tokenerr.ErrInvalidRequest {
				t.Fatalf("unexpected error %T %v", err, err)
			}
			return
		}
		switch jose.SignatureAlgorithm(in.Alg) {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512:
		default:
			t.Fatalf("accepted alg %q", in.Alg)
		}
		if strings.Count(raw, ".") != 2 {
			t.Fatalf("accepted %d dots", strings.Count(raw, "."))
		}
	})
}

func FuzzVerifyCertificateAssertion(f *testing.F) {
	der, key := fuzzAssertionFixture(f)
	for _, s := range fuzzAssertionSeeds(f, der, key) {
		f.Add(s)
	}
	creds := []domain.KeyCredential{{KeyID: "fuzz", Type: "AsymmetricX509Cert", Usage: "Verify", Key: der}}
	f.Fuzz(func(t *testing.T, raw string) {
		res, err := VerifyCertificate(raw, CertificateParams{
			ClientID:     taClientID,
			Certificates: creds,
			AudienceOK:   func(aud string) bool { return aud == taTokenURL },
			Now:          fuzzAssertionNow,
		})
		if err != nil {
			if _, ok := tokenerr.AsError(err); !ok {
				t.Fatalf("untyped error %T %v", err, err)
			}
			return
		}
		// Anything accepted must really be a valid assertion of this client.
		if res.KeyID != "fuzz" || res.JTI == "" || res.Thumbprint != assertionSHA1Hex(der) {
			t.Fatalf("odd result %+v", res)
		}
		if !fuzzAssertionNow.Before(res.Expiry.Add(DefaultAssertionClockSkew)) ||
			res.Expiry.After(fuzzAssertionNow.Add(MaxClientAssertionLifetime+DefaultAssertionClockSkew)) {
			t.Fatalf("accepted expiry %v", res.Expiry)
		}
		in, ierr := Inspect(raw)
		if ierr != nil || in.Issuer != taClientID || in.Subject != taClientID {
			t.Fatalf("accepted %+v %v", in, ierr)
		}
	})
}
