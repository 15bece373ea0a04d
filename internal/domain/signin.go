package domain

import "time"

// Interactive sign-in records. Every secret a client or browser holds (an
// authorization code, a refresh token, a device code, a session cookie) is
// stored only as a hash: a copy of the database does not let anyone redeem
// or replay it. The hash is computed above the store, which treats it as an
// opaque key.

// AuthCode is an authorization code issued by /authorize, redeemable once.
type AuthCode struct {
	// Hash is the SHA-256 (hex) of the code value.
	Hash     string
	TenantID string
	ClientID string
	UserID   string
	// RedirectURI is the redirect_uri of the authorize request, exactly as
	// sent: the redemption must repeat it character for character.
	RedirectURI string
	// SPA: RedirectURI is a single-page application redirect, so the code
	// may only be redeemed by a cross-origin (browser) request.
	SPA bool
	// Version is 1 for /oauth2/authorize (resource=) and 2 for v2 (scope=).
	Version  int
	Scope    string
	Resource string
	Nonce    string
	// CodeChallenge and CodeChallengeMethod are the PKCE parameters (RFC 7636).
	CodeChallenge       string
	CodeChallengeMethod string
	SessionID           string
	AuthTime            time.Time
	AMR                 []string
	// FamilyID is the refresh token family the redemption issues into, fixed
	// when the code is issued so that a replayed code can revoke what the
	// first redemption issued.
	FamilyID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	// RedeemedAt is zero until the code is redeemed.
	RedeemedAt time.Time
}

// RefreshFamily is the lineage of refresh tokens that descend from one
// sign-in. Rotation replaces the token but keeps the family; revoking the
// family ends every token in it at once.
type RefreshFamily struct {
	ID       string
	TenantID string
	UserID   string
	// ClientID is the client that signed in; FOCI family members may refresh
	// with each other's tokens.
	ClientID string
	FOCI     bool
	// SPA: the sign-in was a single-page application's; its tokens may
	// only be redeemed cross-origin, and the family lives 24 hours.
	SPA      bool
	AuthTime time.Time
	AMR      []string
	// SID is the sid of the browser session the family was signed in from
	// (empty for flows without one: password, device code), which id_tokens
	// issued by a refresh carry on.
	SID string
	// CreatedAt and ExpiresAt bound the family's absolute lifetime: no
	// rotation extends it past ExpiresAt.
	CreatedAt time.Time
	ExpiresAt time.Time
	// RevokedAt is zero while the family is valid.
	RevokedAt     time.Time
	RevokedReason string
}

// RefreshToken is one refresh token of a family.
type RefreshToken struct {
	// Hash is the SHA-256 (hex) of the token value.
	Hash     string
	FamilyID string
	// ClientID is the client the token was issued to.
	ClientID string
	IssuedAt time.Time
	// ExpiresAt is the sliding (inactivity) expiry: each rotation issues a
	// token with a later one, up to the family's ExpiresAt.
	ExpiresAt time.Time
	// UsedAt is zero until the token is rotated; presenting it again after
	// that is reuse.
	UsedAt time.Time
}

// Device code statuses.
const (
	DeviceCodePending  = "pending"
	DeviceCodeApproved = "approved"
	DeviceCodeDeclined = "declined"
	DeviceCodeRedeemed = "redeemed"
)

// DeviceCode is a pending device authorization (RFC 8628).
type DeviceCode struct {
	// Hash is the SHA-256 (hex) of the device_code value the client polls with.
	Hash string
	// UserCode is what the person types on the verification page, stored
	// normalised (upper case, no separator).
	UserCode string
	TenantID string
	ClientID string
	Version  int
	Scope    string
	Resource string
	// Interval is the least number of seconds between two polls.
	Interval     int
	CreatedAt    time.Time
	ExpiresAt    time.Time
	LastPolledAt time.Time
	Status       string
	// UserID, AuthTime and AMR are set when the person approves.
	UserID   string
	AuthTime time.Time
	AMR      []string
	// FamilyID is the refresh token family the redemption issues into.
	FamilyID string
}

// BrowserSession is a signed-in browser (the session cookie's record).
type BrowserSession struct {
	// Hash is the SHA-256 (hex) of the cookie value.
	Hash     string
	TenantID string
	UserID   string
	AuthTime time.Time
	// AMR lists how the person authenticated: "pwd", then "mfa" once a
	// second factor was verified in this session.
	AMR        []string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
	// ClientIDs are the app ids of the clients the session signed in to,
	// which front-channel logout tells when it ends.
	ClientIDs []string
}

// SignInThrottle counts failed sign-ins of one account name (smart lockout).
// Unknown names are counted like known ones, so lockout reveals nothing
// about which accounts exist.
type SignInThrottle struct {
	Key string
	// Failures counts failures since WindowStart.
	Failures    int
	WindowStart time.Time
	// LockedUntil is when the current lockout ends (zero: not locked).
	LockedUntil time.Time
	// Lockouts counts lockouts so far; each lasts longer than the last.
	Lockouts int
}

// TOTPMethod is a user's authenticator app registration (RFC 6238).
type TOTPMethod struct {
	TenantID string
	UserID   string
	// Secret is the shared HMAC key.
	Secret []byte
	// Confirmed is false until the person proves the app works by entering
	// a code; an unconfirmed method does not count as a second factor.
	Confirmed bool
	CreatedAt time.Time
	// LastStep is the last time step whose code was accepted: a code is
	// good once (RFC 6238 §5.2).
	LastStep int64
}

// Conditional Access object kinds.
const (
	CAKindPolicy        = "policy"
	CAKindNamedLocation = "namedLocation"
)

// ConditionalAccessObject is a Conditional Access policy or a named location
// kept as the Graph JSON document it was written as; the sign-in service
// parses it when it evaluates a sign-in.
type ConditionalAccessObject struct {
	TenantID   string
	Kind       string
	ID         string
	Doc        []byte
	CreatedAt  time.Time
	ModifiedAt time.Time
}
