// Package rsasign makes RS256 signatures (RSASSA-PKCS1-v1_5 with SHA-256) for
// token signing, with the fastest implementation this process can load.
//
// Every token Tessera issues costs one RSA private-key operation, so the
// signature bounds the token endpoint's throughput. Go's crypto/rsa is
// constant-time but generic; the system's OpenSSL libcrypto (3.x or 1.1.x,
// loaded at run time through github.com/golang-fips/openssl, the binding the
// Go FIPS toolchains use) signs 1.5 to 2 times as fast on x86-64. Both are
// deterministic for PKCS#1 v1.5, so a token's bytes do not depend on which one
// signed it. Without cgo, or without libcrypto on the machine, Go's
// implementation signs.
package rsasign

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Backend names an implementation of the private-key operation.
type Backend string

const (
	// Auto uses OpenSSL when it can be loaded, else Go.
	Auto Backend = "auto"
	// Go is Go's crypto/rsa.
	Go Backend = "go"
	// OpenSSL is the system's libcrypto; choosing it explicitly makes its
	// absence an error instead of a fallback.
	OpenSSL Backend = "openssl"
)

// ParseBackend reads a backend name ("" means Auto).
func ParseBackend(s string) (Backend, error) {
	switch b := Backend(strings.ToLower(strings.TrimSpace(s))); b {
	case "":
		return Auto, nil
	case Auto, Go, OpenSSL:
		return b, nil
	}
	return "", fmt.Errorf("unknown RSA signing backend %q (want auto, go or openssl)", s)
}

// Signer signs with one RSA key. It implements go-jose's OpaqueSigner, so
// go-jose still builds the JWS; it is safe for concurrent use.
type Signer struct {
	public  *jose.JSONWebKey
	goKey   *rsa.PrivateKey
	native  nativeKey // nil when Go signs
	backend string
	// slots admits as many native signatures at once as there are CPUs.
	// The runtime hands the P of a goroutine in a long cgo call to another
	// thread, so without them every request in flight would end up signing
	// on a thread of its own, time-sliced by the kernel: all of them
	// finishing late instead of each in turn finishing early. (CPUs, not
	// GOMAXPROCS: threads in cgo calls run outside GOMAXPROCS, and
	// GOMAXPROCS may change after the signer is made.)
	slots chan struct{}
}

// New prepares a signer for key, published as public (its kid and
// certificate go into the JWS header through go-jose).
func New(key *rsa.PrivateKey, public *jose.JSONWebKey, backend Backend) (*Signer, error) {
	if key == nil {
		return nil, errors.New("rsasign: no key")
	}
	key.Precompute()
	s := &Signer{public: public, goKey: key, backend: "go crypto/rsa"}
	if backend == Go {
		return s, nil
	}
	native, name, err := loadNative(key)
	switch {
	case err == nil:
		s.native, s.backend = native, name
		s.slots = make(chan struct{}, NativeSlots())
	case backend == OpenSSL:
		return nil, fmt.Errorf("rsasign: OpenSSL backend: %w", err)
	}
	return s, nil
}

// Native reports whether a native library signs (through cgo). At most
// NativeSlots() such signatures run at once.
func (s *Signer) Native() bool { return s.native != nil }

// NativeSlots is how many native signatures run at once: one per CPU.
func NativeSlots() int { return runtime.NumCPU() }

// Backend describes the implementation that signs, for logs and benchmarks.
func (s *Signer) Backend() string { return s.backend }

// Public implements jose.OpaqueSigner.
func (s *Signer) Public() *jose.JSONWebKey { return s.public }

// Algs implements jose.OpaqueSigner.
func (s *Signer) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.RS256} }

// SignPayload implements jose.OpaqueSigner: payload is the JWS signing input.
func (s *Signer) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.RS256 {
		return nil, fmt.Errorf("rsasign: algorithm %s not supported", alg)
	}
	digest := sha256.Sum256(payload)
	return s.SignDigest(digest[:])
}

// SignDigest signs a SHA-256 digest.
func (s *Signer) SignDigest(digest []byte) ([]byte, error) {
	if s.native != nil {
		s.slots <- struct{}{}
		defer func() { <-s.slots }()
		return s.native.signSHA256(digest)
	}
	return rsa.SignPKCS1v15(rand.Reader, s.goKey, crypto.SHA256, digest)
}

// nativeKey is a private key held by a native library.
type nativeKey interface {
	signSHA256(digest []byte) ([]byte, error)
}
