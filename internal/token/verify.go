package token

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/token/signing"
)

// Access-token verification failures, for resource servers (Graph, ARM).
var (
	ErrTokenMalformed = errors.New("the access token is malformed")
	ErrTokenSignature = errors.New("the access token signature is invalid")
	ErrTokenExpired   = errors.New("the access token has expired")
	ErrTokenNotYet    = errors.New("the access token is not yet valid")
	ErrTokenIssuer    = errors.New("the access token issuer is not trusted")
)

// Verifier checks tokens Tessera signed, with the published signing keys.
// Resource servers (Graph, ARM) use it for every request.
type Verifier struct {
	keys     *signing.Keys
	verified verifiedCache
}

// NewVerifier verifies with keys.
func NewVerifier(keys *signing.Keys) *Verifier { return &Verifier{keys: keys} }

// VerifyAccessToken checks a token Tessera signed: signature by a published
// key, lifetime (with clock skew) and issuer shape. The caller checks aud.
//
// Verified tokens are remembered (by a hash of the token) until they expire:
// a client presents one token for an hour, and a signature check per request
// would cost more than the rest of an authorized ARM read.
func (m *Verifier) VerifyAccessToken(raw string, now time.Time) (*AccessClaims, error) {
	key := sha256.Sum256([]byte(raw))
	if c, ok := m.verified.get(key); ok {
		if err := checkLifetime(c, now); err != nil {
			return nil, err
		}
		return c, nil
	}
	c, err := m.verifyAccessToken(raw, now)
	if err != nil {
		return nil, err
	}
	m.verified.put(key, c)
	return c, nil
}

func (m *Verifier) verifyAccessToken(raw string, now time.Time) (*AccessClaims, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, ErrTokenMalformed
	}
	kid := jws.Signatures[0].Header.KeyID
	key, ok := m.keys.PublicKey(kid)
	if !ok {
		return nil, ErrTokenSignature
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, ErrTokenSignature
	}
	var c AccessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTokenMalformed, err)
	}
	if err := checkLifetime(&c, now); err != nil {
		return nil, err
	}
	if c.Tid == "" || !(c.Iss == "https://sts.windows.net/"+c.Tid+"/" || strings.HasSuffix(c.Iss, "/"+c.Tid+"/v2.0")) {
		return nil, ErrTokenIssuer
	}
	return &c, nil
}

// ClientAppID is the client that obtained the token (appid in v1, azp in v2).
func (c *AccessClaims) ClientAppID() string {
	if c.AppID != "" {
		return c.AppID
	}
	return c.Azp
}

func checkLifetime(c *AccessClaims, now time.Time) error {
	const skew = 5 * time.Minute
	switch {
	case c.Exp == 0 || now.After(time.Unix(c.Exp, 0).Add(skew)):
		return ErrTokenExpired
	case now.Add(skew).Before(time.Unix(c.Nbf, 0)):
		return ErrTokenNotYet
	}
	return nil
}

// verifiedCache remembers verified tokens. It is bounded: when full it is
// emptied, which costs at most one signature check per live token.
type verifiedCache struct {
	mu      sync.RWMutex
	entries map[[32]byte]*AccessClaims
}

const verifiedCacheSize = 50000

func (v *verifiedCache) get(k [32]byte) (*AccessClaims, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	c, ok := v.entries[k]
	return c, ok
}

func (v *verifiedCache) put(k [32]byte, c *AccessClaims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.entries == nil || len(v.entries) >= verifiedCacheSize {
		v.entries = make(map[[32]byte]*AccessClaims, 1024)
	}
	v.entries[k] = c
}

// IDTokenClient reads an id_token_hint: the client (aud) of an id_token
// Tessera signed for tenantID, expired or not (a logout names the sign-in
// it ends, however old), or "" when it is not one.
func (m *Verifier) IDTokenClient(raw, tenantID string) string {
	if raw == "" {
		return ""
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return ""
	}
	key, ok := m.keys.PublicKey(jws.Signatures[0].Header.KeyID)
	if !ok {
		return ""
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return ""
	}
	var c IDClaims
	if err := json.Unmarshal(payload, &c); err != nil || c.Tid != tenantID {
		return ""
	}
	return c.Aud
}
