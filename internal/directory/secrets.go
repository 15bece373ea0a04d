package directory

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
)

// Secret verification outcomes.
var (
	ErrSecretInvalid = fault.New(fault.Unauthenticated, CodeSecretInvalid, "client secret does not match")
	ErrSecretExpired = fault.New(fault.Unauthenticated, CodeSecretExpired, "client secret has expired")
)

// NewClientSecret returns a fresh high-entropy secret and its stored hash.
// 32 random bytes make brute force hopeless, so a fast hash (SHA-256) is the
// right choice: a slow password hash per token request would cap throughput
// without adding security.
func NewClientSecret() (secret string, hash []byte, err error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	// The "~" marks Tessera secrets the way Entra's "Q~" does, and is safe in forms.
	secret = base64.RawURLEncoding.EncodeToString(raw[:3]) + "~" + base64.RawURLEncoding.EncodeToString(raw[3:])
	return secret, HashClientSecret(secret), nil
}

// HashClientSecret is the stored form of a secret.
func HashClientSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// SecretHint is the prefix Graph shows in place of a secret.
func SecretHint(secret string) string {
	if len(secret) < 3 {
		return ""
	}
	return secret[:3]
}

// CheckClientSecret compares secret against every credential in constant
// time (each comparison runs whatever the earlier ones found), and reports
// ErrSecretExpired when it matches only a credential outside its validity.
func CheckClientSecret(creds []domain.PasswordCredential, secret string, now time.Time) error {
	h := HashClientSecret(secret)
	valid, expired := 0, 0
	for _, c := range creds {
		eq := subtle.ConstantTimeCompare(c.SecretHash, h)
		inWindow := (c.StartDateTime.IsZero() || !now.Before(c.StartDateTime)) &&
			(c.EndDateTime.IsZero() || now.Before(c.EndDateTime))
		if inWindow {
			valid |= eq
		} else {
			expired |= eq
		}
	}
	switch {
	case valid == 1:
		return nil
	case expired == 1:
		return ErrSecretExpired
	}
	return ErrSecretInvalid
}
