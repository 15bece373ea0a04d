package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Access-token verification failures, for resource servers (Graph, ARM).
var (
	ErrTokenMalformed = errors.New("the access token is malformed")
	ErrTokenSignature = errors.New("the access token signature is invalid")
	ErrTokenExpired   = errors.New("the access token has expired")
	ErrTokenNotYet    = errors.New("the access token is not yet valid")
	ErrTokenIssuer    = errors.New("the access token issuer is not trusted")
)

// VerifyAccessToken checks a token Tessera signed: signature by a published
// key, lifetime (with clock skew) and issuer shape. The caller checks aud.
func (m *KeyManager) VerifyAccessToken(raw string, now time.Time) (*AccessClaims, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, ErrTokenMalformed
	}
	kid := jws.Signatures[0].Header.KeyID
	key, ok := m.PublicKey(kid)
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
	const skew = 5 * time.Minute
	switch {
	case c.Exp == 0 || now.After(time.Unix(c.Exp, 0).Add(skew)):
		return nil, ErrTokenExpired
	case now.Add(skew).Before(time.Unix(c.Nbf, 0)):
		return nil, ErrTokenNotYet
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
