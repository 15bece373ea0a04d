package domain

import "time"

// Signing key states, in rotation order: a key is published as next, signs as
// current, and stays published as previous until every token it signed expired.
const (
	KeyStateNext     = "next"
	KeyStateCurrent  = "current"
	KeyStatePrevious = "previous"
	KeyStateRetired  = "retired"
)

// SigningKey is a token-signing key pair.
type SigningKey struct {
	ID        string // kid
	Algorithm string // RS256
	State     string
	// PrivateKey is the PKCS#8 DER encoding of the private key.
	PrivateKey []byte
	// Certificate is a self-signed DER certificate of the public key (for x5c / x5t).
	Certificate []byte
	CreatedAt   time.Time
	// ActivatedAt is when the key became current (zero while next).
	ActivatedAt time.Time
	// RetiredAt is when the key stopped signing (zero while next or current).
	RetiredAt time.Time
}
