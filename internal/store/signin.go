package store

import (
	"context"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

// SignIn stores the state of interactive sign-in: authorization codes,
// refresh token families, device codes, browser sessions, smart lockout
// counters, authenticator registrations and Conditional Access documents.
//
// Every one-time value is consumed by a single conditional write, so of
// concurrent redemptions of one code, one refresh token or one approved
// device code exactly one succeeds, on one node or across replicas sharing a
// PostgreSQL database. Hash keys are opaque to the store.
type SignIn interface {
	AuthCodes
	RefreshTokens
	DeviceCodes
	BrowserSessions
	SignInThrottles
	TOTPMethods
	ConditionalAccess
	// PurgeExpiredSignIn deletes codes, device codes, sessions and refresh
	// tokens (with families) that expired before now, and throttle records
	// idle since before now minus a day.
	PurgeExpiredSignIn(ctx context.Context, now time.Time) (int64, error)
}

// AuthCodes stores authorization codes.
type AuthCodes interface {
	// CreateAuthCode fails with ErrConflict when the hash exists.
	CreateAuthCode(ctx context.Context, c domain.AuthCode) error
	// GetAuthCode returns a code, redeemed or not.
	GetAuthCode(ctx context.Context, hash string) (domain.AuthCode, error)
	// RedeemAuthCode marks the code redeemed at now and returns it. When it
	// was redeemed already it returns the stored record and ErrConflict: the
	// code was replayed. Of concurrent redemptions exactly one succeeds.
	RedeemAuthCode(ctx context.Context, hash string, now time.Time) (domain.AuthCode, error)
}

// RefreshTokens stores refresh token families and their tokens.
type RefreshTokens interface {
	// CreateRefreshFamily stores a family with its first token. It fails
	// with ErrConflict when a family of that id exists, including a revoked
	// tombstone left by RevokeRefreshFamily.
	CreateRefreshFamily(ctx context.Context, f domain.RefreshFamily, first domain.RefreshToken) error
	// GetRefreshToken returns a token with its family.
	GetRefreshToken(ctx context.Context, hash string) (domain.RefreshToken, domain.RefreshFamily, error)
	// RotateRefreshToken marks the token oldHash used at now and stores next
	// in the same family, atomically. It fails with ErrNotFound when the old
	// token does not exist, with ErrConflict when it was used already
	// (reuse: of concurrent rotations exactly one succeeds), and with
	// ErrPrecondition when its family is revoked; in every failure nothing
	// is written.
	RotateRefreshToken(ctx context.Context, oldHash string, next domain.RefreshToken, now time.Time) error
	// RevokeRefreshFamily marks a family revoked (keeping the first time and
	// reason). When the family does not exist yet it stores a revoked
	// tombstone, so that a family later created under that id is refused:
	// a replayed authorization code can revoke what its first redemption is
	// about to issue. A rotation that races with the revocation either
	// completes first (and its token is revoked with the family) or fails.
	RevokeRefreshFamily(ctx context.Context, familyID, tenantID string, now time.Time, reason string) error
	// RevokeUserRefreshFamilies revokes every live family of a user and
	// returns how many it revoked.
	RevokeUserRefreshFamilies(ctx context.Context, tenantID, userID string, now time.Time, reason string) (int64, error)
}

// DeviceCodes stores device authorizations.
type DeviceCodes interface {
	// CreateDeviceCode fails with ErrConflict when the hash or the user code
	// is taken (the caller draws another user code).
	CreateDeviceCode(ctx context.Context, d domain.DeviceCode) error
	// GetDeviceCodeByUserCode finds a device code by its normalised user code.
	GetDeviceCodeByUserCode(ctx context.Context, userCode string) (domain.DeviceCode, error)
	// DecideDeviceCode approves (with the user, sign-in time and methods)
	// or declines a pending, unexpired device code. It fails with
	// ErrNotFound for an unknown user code and ErrPrecondition when the code
	// is no longer pending or has expired.
	DecideDeviceCode(ctx context.Context, userCode string, approve bool, userID string, authTime time.Time, amr []string, now time.Time) error
	// PollDeviceCode records a poll at now and returns the record as it was
	// before the poll. A poll that finds the code approved also marks it
	// redeemed, in the same write, so exactly one poll sees "approved" and
	// every later one "redeemed".
	PollDeviceCode(ctx context.Context, hash string, now time.Time) (domain.DeviceCode, error)
}

// BrowserSessions stores signed-in browsers.
type BrowserSessions interface {
	CreateBrowserSession(ctx context.Context, s domain.BrowserSession) error
	GetBrowserSession(ctx context.Context, hash string) (domain.BrowserSession, error)
	// UpdateBrowserSession replaces AMR, AuthTime, ExpiresAt and LastSeenAt.
	UpdateBrowserSession(ctx context.Context, s domain.BrowserSession) error
	// DeleteBrowserSession fails with ErrNotFound when absent.
	DeleteBrowserSession(ctx context.Context, hash string) error
	// DeleteUserBrowserSessions ends every session of a user.
	DeleteUserBrowserSessions(ctx context.Context, tenantID, userID string) (int64, error)
}

// SignInThrottles stores smart lockout counters.
type SignInThrottles interface {
	// GetSignInThrottle returns the counter of key; ErrNotFound when none.
	GetSignInThrottle(ctx context.Context, key string) (domain.SignInThrottle, error)
	// RecordSignInFailure adds one failure to key's counter atomically,
	// first restarting the count at now when the window that began at
	// WindowStart has passed, and returns the counter after the write.
	RecordSignInFailure(ctx context.Context, key string, now time.Time, window time.Duration) (domain.SignInThrottle, error)
	// LockSignIn locks key until the given time, restarts its failure count
	// and counts the lockout.
	LockSignIn(ctx context.Context, key string, until time.Time) error
	// ClearSignInFailures resets key's failure count after a good sign-in;
	// the lockout history is kept.
	ClearSignInFailures(ctx context.Context, key string) error
}

// TOTPMethods stores authenticator app registrations, one per user.
type TOTPMethods interface {
	// PutTOTPMethod stores an unconfirmed registration, replacing an
	// unconfirmed one; it fails with ErrConflict when a confirmed one exists.
	PutTOTPMethod(ctx context.Context, m domain.TOTPMethod) error
	GetTOTPMethod(ctx context.Context, tenantID, userID string) (domain.TOTPMethod, error)
	// ConfirmTOTPMethod marks the registration confirmed.
	ConfirmTOTPMethod(ctx context.Context, tenantID, userID string) error
	// UseTOTPStep records that the code of step was accepted. It fails with
	// ErrConflict when step is not later than the last accepted one: a code
	// is good once, even under concurrent use.
	UseTOTPStep(ctx context.Context, tenantID, userID string, step int64) error
	// DeleteTOTPMethod fails with ErrNotFound when absent.
	DeleteTOTPMethod(ctx context.Context, tenantID, userID string) error
}

// ConditionalAccess stores Conditional Access policies and named locations.
type ConditionalAccess interface {
	// PutCAObject creates or replaces an object (matched by tenant, kind and
	// id); CreatedAt is kept on replace.
	PutCAObject(ctx context.Context, o domain.ConditionalAccessObject) error
	GetCAObject(ctx context.Context, tenantID, kind, id string) (domain.ConditionalAccessObject, error)
	// ListCAObjects returns a tenant's objects of one kind, oldest first.
	ListCAObjects(ctx context.Context, tenantID, kind string) ([]domain.ConditionalAccessObject, error)
	// DeleteCAObject fails with ErrNotFound when absent.
	DeleteCAObject(ctx context.Context, tenantID, kind, id string) error
}
