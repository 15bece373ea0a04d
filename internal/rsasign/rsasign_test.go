package rsasign

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func newKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// nativeOrSkip returns an OpenSSL-backed signer, or skips where this build
// or machine has none.
func nativeOrSkip(t testing.TB, k *rsa.PrivateKey) *Signer {
	t.Helper()
	s, err := New(k, &jose.JSONWebKey{Key: &k.PublicKey, KeyID: "k1"}, OpenSSL)
	if err != nil {
		if os.Getenv("TESSERA_COMPAT_REQUIRED") == "1" {
			t.Fatalf("no OpenSSL backend, and CI requires it: %v", err)
		}
		t.Skipf("no OpenSSL backend here (needs cgo and libcrypto.so.3 or .so.1.1): %v", err)
	}
	return s
}

func TestBackendsSignIdentically(t *testing.T) {
	k := newKey(t)
	native := nativeOrSkip(t, k)
	goSigner, err := New(k, &jose.JSONWebKey{Key: &k.PublicKey, KeyID: "k1"}, Go)
	if err != nil {
		t.Fatal(err)
	}
	if goSigner.Backend() != "go crypto/rsa" {
		t.Fatalf("Go backend reports %q", goSigner.Backend())
	}
	for _, payload := range [][]byte{nil, []byte("eyJhbGciOiJSUzI1NiJ9.e30"), bytes.Repeat([]byte("x"), 5000)} {
		a, err := native.SignPayload(payload, jose.RS256)
		if err != nil {
			t.Fatal(err)
		}
		b, err := goSigner.SignPayload(payload, jose.RS256)
		if err != nil {
			t.Fatal(err)
		}
		// PKCS#1 v1.5 is deterministic: both must produce the same bytes.
		if !bytes.Equal(a, b) {
			t.Fatalf("%s and Go signed %q differently", native.Backend(), payload)
		}
		digest := sha256.Sum256(payload)
		if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, digest[:], a); err != nil {
			t.Fatalf("signature does not verify: %v", err)
		}
	}
}

func TestJWSThroughGoJose(t *testing.T) {
	k := newKey(t)
	for _, backend := range []Backend{Auto, Go} {
		s, err := New(k, &jose.JSONWebKey{Key: &k.PublicKey, KeyID: "kid-1"}, backend)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s}, (&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		jws, err := signer.Sign([]byte(`{"aud":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		compact, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		if parsed.Signatures[0].Header.KeyID != "kid-1" {
			t.Fatalf("%s: kid %q", s.Backend(), parsed.Signatures[0].Header.KeyID)
		}
		payload, err := parsed.Verify(&k.PublicKey)
		if err != nil || string(payload) != `{"aud":"x"}` {
			t.Fatalf("%s: verify: %v %q", s.Backend(), err, payload)
		}
	}
}

func TestRefusesOtherAlgorithms(t *testing.T) {
	k := newKey(t)
	s, err := New(k, &jose.JSONWebKey{Key: &k.PublicKey}, Auto)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignPayload([]byte("x"), jose.PS256); err == nil {
		t.Fatal("PS256 accepted by an RS256 signer")
	}
}

func TestParseBackend(t *testing.T) {
	for in, want := range map[string]Backend{"": Auto, "auto": Auto, " Go ": Go, "OPENSSL": OpenSSL} {
		if got, err := ParseBackend(in); err != nil || got != want {
			t.Errorf("ParseBackend(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseBackend("boring"); err == nil {
		t.Error("unknown backend accepted")
	}
}

// BenchmarkSign measures one RS256 signature of a token-sized payload with
// each backend, in parallel on all CPUs: the token endpoint's floor.
func BenchmarkSign(b *testing.B) {
	k := newKey(b)
	payload := bytes.Repeat([]byte("x"), 900)
	for _, backend := range []Backend{Go, OpenSSL} {
		b.Run(string(backend), func(b *testing.B) {
			var s *Signer
			if backend == OpenSSL {
				s = nativeOrSkip(b, k)
			} else {
				s, _ = New(k, &jose.JSONWebKey{Key: &k.PublicKey}, Go)
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.SignPayload(payload, jose.RS256); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
