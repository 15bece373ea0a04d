package assertion

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t thumbprints
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/token/tokenerr"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/domain"
)

// Helpers of this file are prefixed "ta" to stay clear of other test files of
// the package.

const (
	taClientID = "6e8a1c8e-2c4f-4a8e-9d3c-0b7f0a1d2e3f"
	taTokenURL = "https://login.tessera.test/contoso.example/oauth2/v2.0/token"
)

// taNow is the fixed request time of these tests.
var taNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type taCert struct {
	der  []byte
	key  crypto.Signer
	cert *x509.Certificate
}

func (c taCert) x5tRaw() []byte {
	s := sha1.Sum(c.der) //nolint:gosec
	return s[:]
}

func (c taCert) x5tS256Raw() []byte {
	s := sha256.Sum256(c.der)
	return s[:]
}

func taNewCert(t testing.TB, key crypto.Signer, cn string) taCert {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    taNow.Add(-365 * 24 * time.Hour),
		NotAfter:     taNow.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return taCert{der: der, key: key, cert: cert}
}

type taFixtureSet struct {
	rsa, rsa2, ec taCert
}

var (
	taFixturesOnce sync.Once
	taFixturesVal  taFixtureSet
	taFixturesErr  error
)

// taFixtures returns certificates shared by the tests: RSA generation is slow.
func taFixtures(t testing.TB) taFixtureSet {
	t.Helper()
	taFixturesOnce.Do(func() {
		k1, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			taFixturesErr = err
			return
		}
		k2, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			taFixturesErr = err
			return
		}
		k3, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			taFixturesErr = err
			return
		}
		taFixturesVal = taFixtureSet{
			rsa:  taNewCert(t, k1, "client-rsa"),
			rsa2: taNewCert(t, k2, "client-rsa-unregistered"),
			ec:   taNewCert(t, k3, "client-ec"),
		}
	})
	if taFixturesErr != nil {
		t.Fatal(taFixturesErr)
	}
	return taFixturesVal
}

// taSign signs payload as a compact JWS with go-jose.
func taSign(t testing.TB, key any, alg jose.SignatureAlgorithm, headers map[jose.HeaderKey]any, payload []byte) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	opts.WithType("JWT")
	for k, v := range headers {
		opts.WithHeader(k, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// taClaims are the claims MSAL Go sends, at taNow.
func taClaims() map[string]any {
	return map[string]any{
		"aud": taTokenURL,
		"iss": taClientID,
		"sub": taClientID,
		"jti": "7c2b2c4e-5d0c-4f4e-8a43-4c1d0f9e3a11",
		"nbf": taNow.Unix(),
		"exp": taNow.Add(10 * time.Minute).Unix(),
	}
}

func taJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func taB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// taUnsigned builds header.payload.signature from raw JSON parts, for shapes
// go-jose refuses to produce (alg none, broken JSON).
func taUnsigned(header, payload, sig string) string {
	return taB64([]byte(header)) + "." + taB64([]byte(payload)) + "." + sig
}

func taParams(creds ...domain.KeyCredential) CertificateParams {
	return CertificateParams{
		ClientID:     taClientID,
		Certificates: creds,
		AudienceOK:   func(aud string) bool { return aud == taTokenURL },
		Now:          taNow,
	}
}

func taCred(c taCert, id string) domain.KeyCredential {
	return domain.KeyCredential{
		KeyID:               id,
		DisplayName:         "CN=" + c.cert.Subject.CommonName,
		Type:                "AsymmetricX509Cert",
		Usage:               "Verify",
		Key:                 c.der,
		StartDateTime:       taNow.Add(-30 * 24 * time.Hour),
		EndDateTime:         taNow.Add(30 * 24 * time.Hour),
		CustomKeyIdentifier: c.x5tRaw(),
	}
}

// taWantError checks err is a *tokenerr.Error with the AADSTS code and OAuth code.
func taWantError(t *testing.T, err error, aadsts int, oauth string) *tokenerr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want AADSTS%d", aadsts)
	}
	te, ok := tokenerr.AsError(err)
	if !ok {
		t.Fatalf("error %T %v is not a *token.Error", err, err)
	}
	if te.Number != aadsts || te.Code != oauth {
		t.Fatalf("got AADSTS%d %s (%v), want AADSTS%d %s", te.Number, te.Code, err, aadsts, oauth)
	}
	if te.Message == "" {
		t.Fatalf("empty description")
	}
	return te
}

func TestVerifyCertificateAssertion(t *testing.T) {
	fx := taFixtures(t)
	rsaCred := taCred(fx.rsa, "key-rsa")
	ecCred := taCred(fx.ec, "key-ec")

	x5tURL := taB64(fx.rsa.x5tRaw())
	x5tPadded := base64.URLEncoding.EncodeToString(fx.rsa.x5tRaw())
	x5tStd := base64.StdEncoding.EncodeToString(fx.rsa.x5tRaw())
	x5tS256Std := base64.StdEncoding.EncodeToString(fx.rsa.x5tS256Raw())
	x5tS256URL := taB64(fx.rsa.x5tS256Raw())
	x5cRSA := []string{base64.StdEncoding.EncodeToString(fx.rsa.der)}
	x5cOther := []string{base64.StdEncoding.EncodeToString(fx.rsa2.der)}

	with := func(mod func(c map[string]any)) []byte {
		c := taClaims()
		mod(c)
		return taJSON(t, c)
	}
	std := taJSON(t, taClaims())

	// MSAL Python 1.21: padded x5t, fractional iat/exp, no nbf.
	msalPython := []byte(fmt.Sprintf(`{"aud": %q, "iss": %q, "jti": "0b8e1c8a-6b53-4a76-9d4e-2f1b0c9a8d7e", "sub": %q, "iat": %d.5999951, "exp": %d.5999951}`,
		taTokenURL, taClientID, taClientID, taNow.Unix()-60, taNow.Unix()+540))

	type tc struct {
		name    string
		token   func() string
		params  func(p *CertificateParams)
		code    int // 0: success
		oauth   string
		keyID   string
		jti     string
		expiry  time.Time
		inDescr string
	}
	cases := []tc{
		{
			name: "RS256 x5t base64url unpadded",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
			},
			keyID: "key-rsa", jti: "7c2b2c4e-5d0c-4f4e-8a43-4c1d0f9e3a11", expiry: taNow.Add(10 * time.Minute),
		},
		{
			name: "RS256 x5t padded with fractional iat/exp (MSAL Python)",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tPadded}, msalPython)
			},
			keyID: "key-rsa", jti: "0b8e1c8a-6b53-4a76-9d4e-2f1b0c9a8d7e",
			expiry: time.Unix(taNow.Unix()+540, 599995100).UTC(),
		},
		{
			name: "RS256 x5t standard alphabet padded",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tStd}, std)
			},
			keyID: "key-rsa",
		},
		{
			name: "PS256 x5t#S256 standard padded (MSAL Go)",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.PS256, map[jose.HeaderKey]any{"x5t#S256": x5tS256Std}, std)
			},
			keyID: "key-rsa",
		},
		{
			name: "PS256 x5t#S256 base64url",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.PS256, map[jose.HeaderKey]any{"x5t#S256": x5tS256URL}, std)
			},
			keyID: "key-rsa",
		},
		{
			name: "x5t and x5t#S256 both naming the certificate",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.PS256, map[jose.HeaderKey]any{"x5t": x5tURL, "x5t#S256": x5tS256URL}, std)
			},
			keyID: "key-rsa",
		},
		{
			name: "x5t and x5t#S256 naming different certificates",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.PS256, map[jose.HeaderKey]any{"x5t": x5tURL, "x5t#S256": taB64(fx.rsa2.x5tS256Raw())}, std)
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "not registered",
		},
		{
			name: "x5c only",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5c": x5cRSA}, std)
			},
			keyID: "key-rsa",
		},
		{
			name: "x5c with x5t (SNI style)",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.PS256, map[jose.HeaderKey]any{"x5c": x5cRSA, "x5t#S256": x5tS256Std}, std)
			},
			keyID: "key-rsa",
		},
		{
			name: "x5c only, unregistered certificate",
			token: func() string {
				return taSign(t, fx.rsa2.key, jose.RS256, map[jose.HeaderKey]any{"x5c": x5cOther}, std)
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "not registered",
		},
		{
			name: "ES256 with EC certificate",
			token: func() string {
				return taSign(t, fx.ec.key, jose.ES256, map[jose.HeaderKey]any{"x5t": taB64(fx.ec.x5tRaw())}, std)
			},
			keyID: "key-ec",
		},
		{
			name: "ES256 signature naming the RSA certificate",
			token: func() string {
				return taSign(t, fx.ec.key, jose.ES256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "invalid signature",
		},
		{
			name: "unregistered certificate",
			token: func() string {
				return taSign(t, fx.rsa2.key, jose.RS256, map[jose.HeaderKey]any{"x5t": taB64(fx.rsa2.x5tRaw())}, std)
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "not registered",
		},
		{
			name: "signed by another key under a registered thumbprint",
			token: func() string {
				return taSign(t, fx.rsa2.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "invalid signature",
		},
		{
			name: "no certificate identifier",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"kid": "whatever"}, std)
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "x5t",
		},
		{
			name: "x5t not a SHA-1 thumbprint",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": "AAAA"}, std)
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "x5t",
		},
		{
			name: "x5t not base64",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": "!!not base64!!"}, std)
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "x5t",
		},
		{
			name: "key credential expired",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
			},
			params: func(p *CertificateParams) {
				c := rsaCred
				c.EndDateTime = taNow.Add(-time.Hour)
				p.Certificates = []domain.KeyCredential{c}
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "expired",
		},
		{
			name: "key credential not yet valid",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
			},
			params: func(p *CertificateParams) {
				c := rsaCred
				c.StartDateTime = taNow.Add(time.Hour)
				p.Certificates = []domain.KeyCredential{c}
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "not yet valid",
		},
		{
			name: "expired duplicate next to a valid registration",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
			},
			params: func(p *CertificateParams) {
				old := rsaCred
				old.KeyID = "key-old"
				old.EndDateTime = taNow.Add(-time.Hour)
				p.Certificates = []domain.KeyCredential{old, rsaCred}
			},
			keyID: "key-rsa",
		},
		{
			name: "unbounded key credential dates",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
			},
			params: func(p *CertificateParams) {
				c := rsaCred
				c.StartDateTime, c.EndDateTime = time.Time{}, time.Time{}
				p.Certificates = []domain.KeyCredential{c}
			},
			keyID: "key-rsa",
		},
		{
			name: "signing-usage key credential is not a client credential",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
			},
			params: func(p *CertificateParams) {
				c := rsaCred
				c.Usage = "Sign"
				p.Certificates = []domain.KeyCredential{c}
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "not registered",
		},
		{
			name: "wrong audience",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) { c["aud"] = "https://login.microsoftonline.com/other/oauth2/v2.0/token" }))
			},
			code: 700023, oauth: tokenerr.ErrInvalidClient, inDescr: "audience",
		},
		{
			name: "audience array with the token endpoint",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) { c["aud"] = []string{"https://elsewhere.test", taTokenURL} }))
			},
			keyID: "key-rsa",
		},
		{
			name: "no audience",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) { delete(c, "aud") }))
			},
			code: 700023, oauth: tokenerr.ErrInvalidClient,
		},
		{
			name: "nil AudienceOK rejects",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
			},
			params: func(p *CertificateParams) { p.AudienceOK = nil },
			code:   700023, oauth: tokenerr.ErrInvalidClient,
		},
		{
			name: "expired",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) {
						c["nbf"] = taNow.Add(-20 * time.Minute).Unix()
						c["exp"] = taNow.Add(-10 * time.Minute).Unix()
					}))
			},
			code: 700024, oauth: tokenerr.ErrInvalidClient, inDescr: "valid time range",
		},
		{
			name: "expired within clock skew",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) {
						c["nbf"] = taNow.Add(-12 * time.Minute).Unix()
						c["exp"] = taNow.Add(-2 * time.Minute).Unix()
					}))
			},
			keyID: "key-rsa",
		},
		{
			name: "expired beyond a custom skew",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) {
						c["nbf"] = taNow.Add(-12 * time.Minute).Unix()
						c["exp"] = taNow.Add(-2 * time.Minute).Unix()
					}))
			},
			params: func(p *CertificateParams) { p.ClockSkew = time.Minute },
			code:   700024, oauth: tokenerr.ErrInvalidClient,
		},
		{
			name: "nbf in the future",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) {
						c["nbf"] = taNow.Add(10 * time.Minute).Unix()
						c["exp"] = taNow.Add(20 * time.Minute).Unix()
					}))
			},
			code: 700024, oauth: tokenerr.ErrInvalidClient, inDescr: "valid from",
		},
		{
			name: "nbf ahead within clock skew",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) {
						c["nbf"] = taNow.Add(3 * time.Minute).Unix()
						c["exp"] = taNow.Add(13 * time.Minute).Unix()
					}))
			},
			keyID: "key-rsa",
		},
		{
			name: "no exp",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) { delete(c, "exp") }))
			},
			code: 700024, oauth: tokenerr.ErrInvalidClient, inDescr: "'exp'",
		},
		{
			name: "lifetime longer than an hour",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) { c["exp"] = taNow.Add(2 * time.Hour).Unix() }))
			},
			code: 700024, oauth: tokenerr.ErrInvalidClient, inDescr: "lifetime",
		},
		{
			name: "exp far ahead without nbf or iat",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) { delete(c, "nbf"); c["exp"] = taNow.Add(24 * time.Hour).Unix() }))
			},
			code: 700024, oauth: tokenerr.ErrInvalidClient, inDescr: "lifetime",
		},
		{
			name: "nbf after exp",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) {
						c["nbf"] = taNow.Add(2 * time.Minute).Unix()
						c["exp"] = taNow.Add(time.Minute).Unix()
					}))
			},
			code: 700024, oauth: tokenerr.ErrInvalidClient,
		},
		{
			name: "iss is not the client id",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) { c["iss"] = "someone-else" }))
			},
			code: 700021, oauth: tokenerr.ErrInvalidClient, inDescr: "'iss'",
		},
		{
			name: "sub is not the client id",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) { c["sub"] = "someone-else" }))
			},
			code: 700021, oauth: tokenerr.ErrInvalidClient, inDescr: "'sub'",
		},
		{
			name: "client id of the request differs",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
			},
			params: func(p *CertificateParams) { p.ClientID = "another-client" },
			code:   700021, oauth: tokenerr.ErrInvalidClient,
		},
		{
			name: "missing jti",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) { delete(c, "jti") }))
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "jti",
		},
		{
			name: "alg none",
			token: func() string {
				return taUnsigned(`{"alg":"none","typ":"JWT","x5t":"`+x5tURL+`"}`, string(std), "")
			},
			code: 50027, oauth: tokenerr.ErrInvalidRequest,
		},
		{
			name: "HS256 keyed with the certificate",
			token: func() string {
				return taSign(t, fx.rsa.der, jose.HS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
			},
			code: 50027, oauth: tokenerr.ErrInvalidRequest,
		},
		{
			name: "claims not JSON",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, []byte("not json"))
			},
			code: 50027, oauth: tokenerr.ErrInvalidRequest,
		},
		{
			name: "exp as a string",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL},
					with(func(c map[string]any) { c["exp"] = fmt.Sprint(taNow.Add(time.Minute).Unix()) }))
			},
			code: 50027, oauth: tokenerr.ErrInvalidRequest,
		},
		{
			name: "critical header",
			token: func() string {
				return taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL, "crit": []string{"exp"}, "exp": 1}, std)
			},
			code: 50027, oauth: tokenerr.ErrInvalidRequest,
		},
		{
			name:  "garbage",
			token: func() string { return "this is not a jwt" },
			code:  50027, oauth: tokenerr.ErrInvalidRequest,
		},
		{
			name: "signature stripped",
			token: func() string {
				s := taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
				return s[:strings.LastIndexByte(s, '.')+1]
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "invalid signature",
		},
		{
			name: "payload swapped after signing",
			token: func() string {
				s := taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": x5tURL}, std)
				parts := strings.Split(s, ".")
				parts[1] = taB64(with(func(c map[string]any) { c["jti"] = "forged" }))
				return strings.Join(parts, ".")
			},
			code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "invalid signature",
		},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := taParams(rsaCred, ecCred)
			if c.params != nil {
				c.params(&p)
			}
			res, err := VerifyCertificate(c.token(), p)
			if c.code != 0 {
				te := taWantError(t, err, c.code, c.oauth)
				if c.inDescr != "" && !strings.Contains(te.Message, c.inDescr) {
					t.Errorf("description %q lacks %q", te.Message, c.inDescr)
				}
				if c.oauth == tokenerr.ErrInvalidClient && te.Kind != fault.Unauthenticated {
					t.Errorf("kind %v", te.Kind)
				}
				// Never any key material in what may reach the client.
				for _, der := range [][]byte{fx.rsa.der, fx.rsa2.der, fx.ec.der} {
					for _, enc := range []string{base64.StdEncoding.EncodeToString(der), taB64(der)} {
						if strings.Contains(err.Error(), enc[:40]) {
							t.Errorf("error leaks a certificate: %v", err)
						}
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if res.KeyID != c.keyID {
				t.Errorf("KeyID = %q, want %q", res.KeyID, c.keyID)
			}
			if c.jti != "" && res.JTI != c.jti {
				t.Errorf("JTI = %q, want %q", res.JTI, c.jti)
			}
			if res.JTI == "" {
				t.Errorf("empty JTI")
			}
			// Fractional dates pass through float64: allow a microsecond.
			if d := res.Expiry.Sub(c.expiry); !c.expiry.IsZero() && (d > time.Microsecond || d < -time.Microsecond) {
				t.Errorf("Expiry = %v, want %v", res.Expiry, c.expiry)
			}
			want := rsaCred
			if c.keyID == "key-ec" {
				want = ecCred
			}
			if res.Thumbprint != strings.ToUpper(fmt.Sprintf("%x", want.CustomKeyIdentifier)) {
				t.Errorf("Thumbprint = %q", res.Thumbprint)
			}
		})
	}
}

func TestVerifyCertificateAssertionDefaults(t *testing.T) {
	fx := taFixtures(t)
	now := time.Now()
	c := taClaims()
	c["nbf"] = now.Unix()
	c["exp"] = now.Add(10 * time.Minute).Unix()
	tok := taSign(t, fx.rsa.key, jose.RS256, map[jose.HeaderKey]any{"x5t": taB64(fx.rsa.x5tRaw())}, taJSON(t, c))
	p := taParams(taCred(fx.rsa, "k"))
	p.Now = time.Time{} // time.Now
	cred := p.Certificates[0]
	cred.StartDateTime, cred.EndDateTime = time.Time{}, time.Time{}
	p.Certificates[0] = cred
	if _, err := VerifyCertificate(tok, p); err != nil {
		t.Fatal(err)
	}
}

func TestInspectAssertion(t *testing.T) {
	fx := taFixtures(t)
	x5t := base64.URLEncoding.EncodeToString(fx.rsa.x5tRaw()) // padded: reported as sent
	c := taClaims()
	c["aud"] = []string{"a", "b"}
	tok := taSign(t, fx.rsa.key, jose.PS256, map[jose.HeaderKey]any{
		"x5t": x5t, "x5c": []string{base64.StdEncoding.EncodeToString(fx.rsa.der)}, "kid": "kid-1",
	}, taJSON(t, c))
	in, err := Inspect(tok)
	if err != nil {
		t.Fatal(err)
	}
	if in.Issuer != taClientID || in.Subject != taClientID || in.Alg != "PS256" || in.X5t != x5t ||
		in.X5tS256 != "" || !in.HasX5c || in.KeyID != "kid-1" || strings.Join(in.Audiences, ",") != "a,b" {
		t.Fatalf("unexpected %+v", in)
	}
	if !in.IsCertificateAssertion(taClientID) || in.IsCertificateAssertion("other") || in.IsCertificateAssertion("") {
		t.Errorf("IsCertificateAssertion wrong")
	}

	fed := map[string]any{"iss": "https://token.actions.githubusercontent.com", "sub": "repo:contoso/app:ref:refs/heads/main", "aud": "api://AzureADTokenExchange", "exp": 1}
	tok = taSign(t, fx.ec.key, jose.ES256, map[jose.HeaderKey]any{"x5t#S256": "abc"}, taJSON(t, fed))
	in, err = Inspect(tok)
	if err != nil {
		t.Fatal(err)
	}
	if in.Issuer != fed["iss"] || in.Subject != fed["sub"] || len(in.Audiences) != 1 || in.Audiences[0] != fed["aud"] ||
		in.HasX5c || in.X5tS256 != "abc" || in.Alg != "ES256" || in.IsCertificateAssertion(taClientID) {
		t.Fatalf("unexpected %+v", in)
	}
}

func TestInspectAssertionMalformed(t *testing.T) {
	fx := taFixtures(t)
	good := taJSON(t, taClaims())
	goodHdr := `{"alg":"RS256","typ":"JWT"}`
	sig := taB64([]byte("sig"))
	cases := map[string]string{
		"empty":                "",
		"one part":             "abc",
		"two parts":            "abc.def",
		"four parts":           "a.b.c.d",
		"five parts (JWE)":     "a.b.c.d.e",
		"bad base64 header":    "!!!." + taB64(good) + "." + sig,
		"bad base64 payload":   taB64([]byte(goodHdr)) + ".***." + sig,
		"bad base64 signature": taB64([]byte(goodHdr)) + "." + taB64(good) + ".%%%",
		"padded base64 parts":  base64.URLEncoding.EncodeToString([]byte(goodHdr+" ")) + "." + taB64(good) + "." + sig,
		"header not JSON":      taUnsigned(`{"alg":`, string(good), sig),
		"header array":         taUnsigned(`["RS256"]`, string(good), sig),
		"alg none":             taUnsigned(`{"alg":"none"}`, string(good), ""),
		"alg None":             taUnsigned(`{"alg":"None"}`, string(good), sig),
		"alg HS256":            taUnsigned(`{"alg":"HS256"}`, string(good), sig),
		"alg HS512":            taUnsigned(`{"alg":"HS512"}`, string(good), sig),
		"alg EdDSA":            taUnsigned(`{"alg":"EdDSA"}`, string(good), sig),
		"alg missing":          taUnsigned(`{"typ":"JWT"}`, string(good), sig),
		"alg not a string":     taUnsigned(`{"alg":256}`, string(good), sig),
		"x5t not a string":     taUnsigned(`{"alg":"RS256","x5t":42}`, string(good), sig),
		"x5c garbage":          taUnsigned(`{"alg":"RS256","x5c":["bm90IGEgY2VydA=="]}`, string(good), sig),
		"payload not JSON":     taUnsigned(goodHdr, "hello", sig),
		"payload array":        taUnsigned(goodHdr, `["iss"]`, sig),
		"payload null":         taUnsigned(goodHdr, `null`, sig),
		"payload string":       taUnsigned(goodHdr, `"x"`, sig),
		"payload trailing":     taUnsigned(goodHdr, `{"iss":"a"} {}`, sig),
		"iss a number":         taUnsigned(goodHdr, `{"iss":1}`, sig),
		"aud an object":        taUnsigned(goodHdr, `{"aud":{"a":1}}`, sig),
		"aud array of numbers": taUnsigned(goodHdr, `{"aud":[1,2]}`, sig),
		"exp a string":         taUnsigned(goodHdr, `{"exp":"1795659666"}`, sig),
		"exp negative":         taUnsigned(goodHdr, `{"exp":-1}`, sig),
		"exp huge":             taUnsigned(goodHdr, `{"exp":1e300}`, sig),
		"exp bool":             taUnsigned(goodHdr, `{"exp":true}`, sig),
		"nbf overflow":         taUnsigned(goodHdr, `{"nbf":99999999999999999999999}`, sig),
		"JSON serialization":   `{"payload":"` + taB64(good) + `","protected":"` + taB64([]byte(goodHdr)) + `","signature":"` + sig + `"}`,
		"b64 false":            taUnsigned(`{"alg":"RS256","b64":false,"crit":["b64"]}`, string(good), sig),
		"too large":            taUnsigned(goodHdr, `{"iss":"`+strings.Repeat("a", maxAssertionBytes)+`"}`, sig),
		"whitespace inside":    taB64([]byte(goodHdr)) + " ." + taB64(good) + "." + sig,
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Inspect(raw)
			te := taWantError(t, err, 50027, tokenerr.ErrInvalidRequest)
			if te.Message != "JWT token is invalid or malformed." {
				t.Errorf("description %q", te.Message)
			}
			// The same input fails the same way in the verifiers.
			_, err = VerifyCertificate(raw, taParams(taCred(fx.rsa, "k")))
			taWantError(t, err, 50027, tokenerr.ErrInvalidRequest)
		})
	}
}

func TestAssertionNumericDate(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{in: `1795659666`, want: time.Unix(1795659666, 0)},
		{in: `1795659666.5999951`, want: time.Unix(1795659666, 599995136)}, // float64 rounding
		{in: `1795659666.0`, want: time.Unix(1795659666, 0)},
		{in: `1.795659666e9`, want: time.Unix(1795659666, 0)},
		{in: `0`, want: time.Unix(0, 0)},
		{in: `253402300799`, want: time.Unix(253402300799, 0)},
		{in: `253402300800`, err: true},
		{in: `-5`, err: true},
		{in: `-0.5`, err: true},
		{in: `"1795659666"`, err: true},
		{in: `true`, err: true},
		{in: `[1]`, err: true},
		{in: `1e400`, err: true},
		{in: `9223372036854775808`, err: true},
	}
	for _, c := range cases {
		var d assertionNumericDate
		err := json.Unmarshal([]byte(c.in), &d)
		if c.err {
			if err == nil {
				t.Errorf("%s: got %v, want error", c.in, d.Time)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		// Within a microsecond: float64 cannot hold more at this magnitude.
		if diff := d.Time.Sub(c.want); diff > time.Microsecond || diff < -time.Microsecond {
			t.Errorf("%s: got %v, want %v", c.in, d.Time, c.want)
		}
	}

	// null means absent.
	var c assertionClaims
	if err := json.Unmarshal([]byte(`{"exp":null,"aud":null}`), &c); err != nil || c.Expiry != nil || c.Audience != nil {
		t.Errorf("null: %+v %v", c, err)
	}
}

func TestDecodeAssertionThumbprint(t *testing.T) {
	raw := []byte{0xfb, 0xff, 0xbf, 0x3e, 0x00, 0xfb, 0xff, 0xbf, 0x3e, 0x00, 0xfb, 0xff, 0xbf, 0x3e, 0x00, 0xfb, 0xff, 0xbf, 0x3e, 0x01}
	std := base64.StdEncoding.EncodeToString(raw)
	if !strings.ContainsAny(std, "+/") || !strings.HasSuffix(std, "=") {
		t.Fatalf("fixture %q does not exercise the standard alphabet and padding", std)
	}
	for _, enc := range []string{
		std,
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
	} {
		got, err := decodeAssertionThumbprint(enc, sha1.Size)
		if err != nil || string(got) != string(raw) {
			t.Errorf("%q: got %x, %v", enc, got, err)
		}
	}
	for _, bad := range []string{"", "AAAA", "####", std + "AA", base64.RawURLEncoding.EncodeToString(append(raw, raw...))} {
		if _, err := decodeAssertionThumbprint(bad, sha1.Size); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestAssertionPrintable(t *testing.T) {
	if got := assertionPrintable("a\r\nb\x00c"); got != "a??b?c" {
		t.Errorf("got %q", got)
	}
	if got := assertionPrintable(strings.Repeat("x", 1000)); len(got) != 259 {
		t.Errorf("len %d", len(got))
	}
	if got := assertionPrintable("\xff"); got != "?" {
		t.Errorf("got %q", got)
	}
}

func TestAssertionErrorsAreTyped(t *testing.T) {
	// errors.As through wrapping, as the sts layer does.
	_, err := Inspect("x")
	wrapped := fmt.Errorf("authenticate: %w", err)
	var te *tokenerr.Error
	if !errors.As(wrapped, &te) || te.Number != 50027 {
		t.Fatalf("got %v", wrapped)
	}
}
