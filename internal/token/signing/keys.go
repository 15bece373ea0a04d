// Package signing owns the token-signing keys: generation, rotation across
// replicas, the published key set, and signing. Verification and minting
// are the token rules' (internal/token); they use the keys through here.
package signing

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/rsasign"
	"github.com/tessera-id/tessera/internal/store"
)

// Tx runs fn inside one store transaction, so that a rotation by one
// replica is all-or-nothing.
type Tx func(ctx context.Context, fn func(store.Keys) error) error

// Keys owns the token-signing keys. It keeps the current key parsed in
// memory with a ready go-jose signer (parsing a key per token would cost more
// than signing), publishes next, current and previous keys in the JWKS, and
// rotates: next becomes current, current becomes previous, a new next is made.
// Several replicas share keys through the store; Reload picks up a rotation
// done elsewhere.
type Keys struct {
	store store.Keys
	inTx  Tx
	now   func() time.Time
	// keep is how long a previous key stays published: at least the longest
	// lifetime of a token it signed.
	keep    time.Duration
	bits    int
	backend rsasign.Backend

	mu      sync.RWMutex
	current *signingKey
	public  map[string]*jose.JSONWebKey // kid → published key
	jwks    []byte                      // pre-rendered JWKS document

}

type signingKey struct {
	kid     string
	signer  jose.Signer
	backend string // the RSA implementation that signs
	native  bool   // signed by a native library through cgo
}

// Options configure a Keys.
type Options struct {
	// PreviousKeyRetention keeps a rotated-out key published this long (default 24h).
	PreviousKeyRetention time.Duration
	// RSABits is the modulus size of new keys (default 2048).
	RSABits int
	// SigningBackend picks the RSA implementation (default rsasign.Auto).
	SigningBackend rsasign.Backend
	Now            func() time.Time
}

// NewKeys returns a manager over ks. Call Load before use.
func NewKeys(ks store.Keys, inTx Tx, opts Options) *Keys {
	m := &Keys{store: ks, inTx: inTx, now: opts.Now, keep: opts.PreviousKeyRetention, bits: opts.RSABits,
		backend: opts.SigningBackend}
	if m.now == nil {
		m.now = time.Now
	}
	if m.keep <= 0 {
		m.keep = 24 * time.Hour
	}
	if m.bits == 0 {
		m.bits = 2048
	}
	if m.backend == "" {
		m.backend = rsasign.Auto
	}
	return m
}

// Load reads the keys from the store, creating a current and a next key on
// first start, and prepares the signer and the JWKS.
func (m *Keys) Load(ctx context.Context) error {
	err := m.inTx(ctx, func(ks store.Keys) error {
		keys, err := ks.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		var hasCurrent, hasNext bool
		for _, k := range keys {
			hasCurrent = hasCurrent || k.State == domain.KeyStateCurrent
			hasNext = hasNext || k.State == domain.KeyStateNext
		}
		if !hasCurrent {
			k, err := m.newKey(domain.KeyStateCurrent)
			if err != nil {
				return err
			}
			if err := ks.CreateSigningKey(ctx, k); err != nil {
				return err
			}
		}
		if !hasNext {
			k, err := m.newKey(domain.KeyStateNext)
			if err != nil {
				return err
			}
			return ks.CreateSigningKey(ctx, k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("initialise signing keys: %w", err)
	}
	return m.Reload(ctx)
}

// Reload re-reads the keys from the store and swaps them in.
func (m *Keys) Reload(ctx context.Context) error {
	keys, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].CreatedAt.After(keys[j].CreatedAt) })
	var current *signingKey
	public := map[string]*jose.JSONWebKey{}
	var published []jose.JSONWebKey
	m.mu.RLock()
	prev := m.current
	m.mu.RUnlock()
	for _, k := range keys {
		if k.State == domain.KeyStateRetired {
			continue
		}
		cert, err := x509.ParseCertificate(k.Certificate)
		if err != nil {
			return fmt.Errorf("parse certificate of key %s: %w", k.ID, err)
		}
		jwk := publicJWK(k.ID, cert)
		public[k.ID] = &jwk
		published = append(published, jwk)
		if k.State == domain.KeyStateCurrent && current == nil {
			if prev != nil && prev.kid == k.ID {
				current = prev // already parsed: keep the signer
				continue
			}
			parsed, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
			if err != nil {
				return fmt.Errorf("parse private key %s: %w", k.ID, err)
			}
			priv, ok := parsed.(*rsa.PrivateKey)
			if !ok {
				return fmt.Errorf("private key %s is a %T, not an RSA key", k.ID, parsed)
			}
			rs, err := rsasign.New(priv, &jose.JSONWebKey{Key: &priv.PublicKey, KeyID: k.ID}, m.backend)
			if err != nil {
				return fmt.Errorf("signer for key %s: %w", k.ID, err)
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rs},
				(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.ID).WithHeader("x5t", base64.RawURLEncoding.EncodeToString(jwk.CertificateThumbprintSHA1)))
			if err != nil {
				return fmt.Errorf("signer for key %s: %w", k.ID, err)
			}
			current = &signingKey{kid: k.ID, signer: signer, backend: rs.Backend(), native: rs.Native()}
		}
	}
	if current == nil {
		return errors.New("no current signing key")
	}
	doc, err := json.Marshal(struct {
		Keys []jose.JSONWebKey `json:"keys"`
	}{published})
	if err != nil {
		return fmt.Errorf("render JWKS: %w", err)
	}
	m.mu.Lock()
	m.current, m.public, m.jwks = current, public, doc
	m.mu.Unlock()
	return nil
}

// Follow reloads the keys whenever one is created, rotated or retired on any
// replica, or by `tessera keys rotate` (the change feed).
func (m *Keys) Follow(f *feed.Follower) {
	f.On(store.ChangeSigningKey, func(ctx context.Context, _ store.Change) error { return m.Reload(ctx) })
	f.Load(m.Reload)
}

// Rotate promotes the next key to current, demotes current to previous,
// retires previous keys older than the retention, and creates a new next key.
func (m *Keys) Rotate(ctx context.Context) error {
	now := m.now().UTC()
	fresh, err := m.newKey(domain.KeyStateNext)
	if err != nil {
		return err
	}
	err = m.inTx(ctx, func(ks store.Keys) error {
		keys, err := ks.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			switch k.State {
			case domain.KeyStateNext:
				k.State, k.ActivatedAt = domain.KeyStateCurrent, now
			case domain.KeyStateCurrent:
				k.State, k.RetiredAt = domain.KeyStatePrevious, now
			case domain.KeyStatePrevious:
				if now.Sub(k.RetiredAt) < m.keep {
					continue
				}
				k.State = domain.KeyStateRetired
			default:
				continue
			}
			if err := ks.UpdateSigningKey(ctx, k); err != nil {
				return err
			}
		}
		return ks.CreateSigningKey(ctx, fresh)
	})
	if err != nil {
		return fmt.Errorf("rotate signing keys: %w", err)
	}
	return m.Reload(ctx)
}

// CurrentActivatedAt reports when the current key began signing, so a
// scheduler can tell whether a rotation is due.
func (m *Keys) CurrentActivatedAt(ctx context.Context) (time.Time, error) {
	keys, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return time.Time{}, err
	}
	for _, k := range keys {
		if k.State == domain.KeyStateCurrent {
			if k.ActivatedAt.IsZero() {
				return k.CreatedAt, nil
			}
			return k.ActivatedAt, nil
		}
	}
	return time.Time{}, errors.New("no current signing key")
}

// Sign signs payload (JSON claims) with the current key.
func (m *Keys) Sign(payload []byte) (string, error) {
	m.mu.RLock()
	k := m.current
	m.mu.RUnlock()
	jws, err := k.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", k.kid, err)
	}
	return jws.CompactSerialize()
}

// JWKS returns the published key set document.
func (m *Keys) JWKS() []byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.jwks
}

// PublicKey returns the published key with id kid.
func (m *Keys) PublicKey(kid string) (*jose.JSONWebKey, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, ok := m.public[kid]
	return k, ok
}

// SigningBackend names the RSA implementation that signs tokens.
func (m *Keys) SigningBackend() string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.current.backend
}

// SignsNatively reports whether a native library (OpenSSL) signs tokens.
func (m *Keys) SignsNatively() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.current.native
}

// CurrentKeyID returns the kid new tokens carry.
func (m *Keys) CurrentKeyID() string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.current.kid
}

func (m *Keys) newKey(state string) (domain.SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, m.bits)
	if err != nil {
		return domain.SigningKey{}, fmt.Errorf("generate RSA key: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return domain.SigningKey{}, fmt.Errorf("encode key: %w", err)
	}
	now := m.now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(uuid.New().NodeID()),
		Subject:      pkix.Name{CommonName: "Tessera token signing"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return domain.SigningKey{}, fmt.Errorf("self-sign key certificate: %w", err)
	}
	k := domain.SigningKey{
		ID:          Thumbprint(der),
		Algorithm:   string(jose.RS256),
		State:       state,
		PrivateKey:  pkcs8,
		Certificate: der,
		CreatedAt:   now,
	}
	if state == domain.KeyStateCurrent {
		k.ActivatedAt = now
	}
	return k, nil
}

// Thumbprint is Entra's key id: the base64url SHA-1 of the certificate.
func Thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func publicJWK(kid string, cert *x509.Certificate) jose.JSONWebKey {
	s256 := sha256.Sum256(cert.Raw)
	jwk := jose.JSONWebKey{
		Key:                         cert.PublicKey,
		KeyID:                       kid,
		Algorithm:                   string(jose.RS256),
		Use:                         "sig",
		Certificates:                []*x509.Certificate{cert},
		CertificateThumbprintSHA1:   sha1Sum(cert.Raw),
		CertificateThumbprintSHA256: s256[:],
	}
	return jwk
}

func sha1Sum(b []byte) []byte {
	s := sha1.Sum(b)
	return s[:]
}

// KeyInfo is what may be shown of a signing key: never its private part.
type KeyInfo struct {
	ID string
	// X5t is the base64url SHA-1 thumbprint of the key's certificate.
	X5t         string
	State       string
	CreatedAt   time.Time
	ActivatedAt time.Time
	RetiredAt   time.Time
	// RetireAfter is, for a previous key, the end of its retention: the
	// first rotation after it removes the key from the JWKS (zero for next
	// and current keys).
	RetireAfter time.Time
}

// Keys lists the published keys (next, current, previous), newest first.
func (m *Keys) Keys(ctx context.Context) ([]KeyInfo, error) {
	keys, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].CreatedAt.After(keys[j].CreatedAt) })
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		if k.State == domain.KeyStateRetired {
			continue
		}
		ki := KeyInfo{ID: k.ID, X5t: base64.RawURLEncoding.EncodeToString(sha1Sum(k.Certificate)), State: k.State,
			CreatedAt: k.CreatedAt, ActivatedAt: k.ActivatedAt, RetiredAt: k.RetiredAt}
		if k.State == domain.KeyStatePrevious {
			ki.RetireAfter = k.RetiredAt.Add(m.keep)
		}
		out = append(out, ki)
	}
	return out, nil
}

// PublicKeys returns the published signing keys (current, next, previous).
func (m *Keys) PublicKeys() []jose.JSONWebKey {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]jose.JSONWebKey, 0, len(m.public))
	for _, k := range m.public {
		out = append(out, *k)
	}
	return out
}
