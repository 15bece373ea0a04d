// Package signin holds the rules of a person signing in: password checks
// with smart lockout, browser sessions, the authenticator-app second factor
// (TOTP) and Conditional Access. It never sees HTTP: the token service's
// password grant and the login pages of package sts both call it, so a
// browser and a script meet the same rules.
//
//	password ──► Authenticate ─► address throttle, lockout counter (per account
//	                 │           name and address, known name or not), then
//	                 │           argon2id within the directory's hashing limit
//	                 │
//	                 ▼
//	             Evaluate ─► per-user MFA, Conditional Access policies
//	                 │             (block / require MFA / report-only)
//	                 ▼
//	     MFA needed? ─► VerifyTOTP (or EnrollTOTP first) ─► amr: pwd, mfa
//	                 │
//	                 ▼
//	   browser: NewSession (cookie) · token service: issue tokens
//
// Errors a person may see never tell whether an account exists: an unknown
// name and a wrong password fail alike (ErrInvalidCredentials), cost the
// same password hash, and count toward the same lockout.
package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// Store is the storage sign-in needs.
type Store interface {
	store.Users
	store.SignIn
}

// Auditor records sign-in events.
type Auditor interface {
	Record(ctx context.Context, ev domain.AuditEvent) error
}

// Options tune a Service; zero values take the defaults.
type Options struct {
	// LockoutThreshold is how many failed sign-ins within LockoutWindow lock
	// an account name (default 10, Entra's smart lockout default).
	LockoutThreshold int
	LockoutWindow    time.Duration // default 10 minutes
	// LockoutDuration is the first lockout's length (default one minute);
	// each further lockout doubles it, up to MaxLockoutDuration (30 minutes).
	LockoutDuration    time.Duration
	MaxLockoutDuration time.Duration
	// SessionLifetime bounds a browser session (default 12 hours).
	SessionLifetime time.Duration
	// Throttle tunes the per-address and per-client failure throttles.
	Throttle ThrottleOptions
	Now      func() time.Time
	Logger   *slog.Logger
}

// Service applies sign-in rules.
type Service struct {
	dir   *directory.Service
	st    Store
	audit Auditor
	opts  Options
	now   func() time.Time
	log   *slog.Logger

	// addresses counts failed sign-ins and client authentications per
	// source address; clients counts failed authentications per client and
	// address (see throttle.go).
	addresses *failureCounter
	clients   *failureCounter
}

// New returns a sign-in service.
func New(dir *directory.Service, st Store, audit Auditor, opts Options) *Service {
	if opts.LockoutThreshold <= 0 {
		opts.LockoutThreshold = 10
	}
	if opts.LockoutWindow <= 0 {
		opts.LockoutWindow = 10 * time.Minute
	}
	if opts.LockoutDuration <= 0 {
		opts.LockoutDuration = time.Minute
	}
	if opts.MaxLockoutDuration <= 0 {
		opts.MaxLockoutDuration = 30 * time.Minute
	}
	if opts.SessionLifetime <= 0 {
		opts.SessionLifetime = 12 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	t := &opts.Throttle
	if t.AddressThreshold == 0 {
		t.AddressThreshold = 100
	}
	if t.AddressWindow <= 0 {
		t.AddressWindow = 5 * time.Minute
	}
	if t.ClientThreshold == 0 {
		t.ClientThreshold = opts.LockoutThreshold
	}
	if t.MaxEntries <= 0 {
		t.MaxEntries = 100_000
	}
	return &Service{dir: dir, st: st, audit: audit, opts: opts, now: opts.Now, log: opts.Logger,
		addresses: newFailureCounter(t.AddressThreshold, t.AddressWindow, opts.LockoutDuration, opts.MaxLockoutDuration, t.MaxEntries),
		clients:   newFailureCounter(t.ClientThreshold, opts.LockoutWindow, opts.LockoutDuration, opts.MaxLockoutDuration, t.MaxEntries),
	}
}

// Directory is the directory service sign-in reads users and groups from.
func (s *Service) Directory() *directory.Service { return s.dir }

// Now is the service clock.
func (s *Service) Now() time.Time { return s.now() }

// Reason codes of sign-in refusals (fault.Error's Code).
const (
	CodeInvalidCredentials = "InvalidCredentials"
	CodeInvalidCode        = "InvalidCode"
	CodeNoMFAMethod        = "NoMFAMethod"
	CodeNoSession          = "NoSession"
	CodeLocked             = "AccountLocked"
	CodeThrottled          = "Throttled"
	CodeBusy               = "Busy"
	CodeInvalidPolicy      = "InvalidPolicy"
)

// Sign-in failures. Callers map them to AADSTS codes (token service) or to
// page messages (login pages).
var (
	// ErrInvalidCredentials: unknown account name or wrong password (AADSTS50126).
	ErrInvalidCredentials = fault.New(fault.Unauthenticated, CodeInvalidCredentials, "invalid username or password")
	// ErrUserDisabled: the password was right but the account is disabled
	// (AADSTS50057). It has the directory's code, so that errors.Is matches
	// either package's.
	ErrUserDisabled = fault.New(fault.Forbidden, directory.CodeUserDisabled, "the user account is disabled")
	// ErrInvalidCode: a wrong, expired or reused verification code.
	ErrInvalidCode = fault.New(fault.Unauthenticated, CodeInvalidCode, "the verification code is not valid")
	// ErrNoMFAMethod: the user has no confirmed authenticator app.
	ErrNoMFAMethod = fault.New(fault.Forbidden, CodeNoMFAMethod, "the user has no authenticator app registered")
)

// LockedError: the account name is locked after repeated failures
// (AADSTS50053). It is a Throttled refusal.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "the account is locked after repeated sign-in failures until " + e.Until.UTC().Format(time.RFC3339)
}

// Unwrap is the refusal.
func (e *LockedError) Unwrap() error { return fault.New(fault.Throttled, CodeLocked, e.Error()) }

// IsLocked reports whether err is a *LockedError.
func IsLocked(err error) (*LockedError, bool) {
	var le *LockedError
	ok := errors.As(err, &le)
	return le, ok
}

// throttleKey is the lockout counter of an account name, in a tenant, from
// a source address. It is derived from the name as typed (case-folded), not
// from a user object, so names that do not exist are throttled exactly like
// names that do; and it includes the address, so a stranger's guesses lock
// the name only for the stranger (smart lockout), not for its owner
// elsewhere. Guessing from many addresses meets the address throttle and the
// password hashing limit instead.
func throttleKey(tenantID, upn, addr string) string {
	return tenantID + "|" + strings.ToLower(strings.TrimSpace(upn)) + "|" + addressKey(addr)
}

// PasswordAttempt is one password sign-in: the name and password as typed
// and the source address it came from.
type PasswordAttempt struct {
	UPN      string
	Password string
	Address  string
}

// Authenticate checks a user's password with smart lockout. In order: an
// address that failed too often is refused (*ThrottledError); a name locked
// for this address is refused (*LockedError); the password is checked within
// the server's password hashing limit (*ThrottledError with Busy when it is
// full); a failure counts toward both throttles. An unknown name costs the
// same hash as a known one and counts the same way.
func (s *Service) Authenticate(ctx context.Context, tenant domain.Tenant, a PasswordAttempt) (domain.User, error) {
	now := s.now()
	if d := s.addresses.blocked(addressKey(a.Address), now); d > 0 {
		return domain.User{}, &ThrottledError{RetryAfter: d}
	}
	if a.Password == "" {
		// Nothing to hash; refused before the name is looked up, so an
		// empty password says nothing about the name either.
		return domain.User{}, ErrInvalidCredentials
	}
	key := throttleKey(tenant.ID, a.UPN, a.Address)
	th, err := s.st.GetSignInThrottle(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		th = domain.SignInThrottle{}
	case err != nil:
		return domain.User{}, fmt.Errorf("read sign-in throttle: %w", err)
	}
	if now.Before(th.LockedUntil) {
		return domain.User{}, &LockedError{Until: th.LockedUntil}
	}
	pw := s.dir.Passwords()
	u, err := s.st.GetUserByUPN(ctx, tenant.ID, strings.TrimSpace(a.UPN))
	var verr error
	rehash := false
	switch {
	case errors.Is(err, store.ErrNotFound):
		verr = pw.VerifyNone(ctx, a.Password)
	case err != nil:
		return domain.User{}, fmt.Errorf("load user: %w", err)
	default:
		rehash, verr = pw.Verify(ctx, u.PasswordHash, a.Password)
	}
	var busy *directory.BusyError
	switch {
	case verr == nil:
	case errors.As(verr, &busy):
		return domain.User{}, &ThrottledError{RetryAfter: busy.RetryAfter, Busy: true}
	case ctx.Err() != nil:
		return domain.User{}, fmt.Errorf("check password: %w", verr)
	case !errors.Is(verr, directory.ErrPasswordMismatch):
		// The stored hash is unreadable: the operator's problem, not the caller's.
		s.log.ErrorContext(ctx, "verify password", "user", u.ID, "err", verr)
	}
	if verr != nil {
		err := s.fail(ctx, key, th, now)
		// The failure that reaches the address's limit already says so.
		if d := s.addresses.fail(addressKey(a.Address), now); d > 0 {
			s.log.WarnContext(ctx, "source address throttled after failed sign-ins", "address", a.Address, "for", d)
			if errors.Is(err, ErrInvalidCredentials) {
				err = &ThrottledError{RetryAfter: d}
			}
		}
		return domain.User{}, err
	}
	if th.Failures > 0 {
		if err := s.st.ClearSignInFailures(ctx, key); err != nil {
			s.log.ErrorContext(ctx, "clear sign-in failures", "err", err)
		}
	}
	if !u.AccountEnabled {
		return domain.User{}, ErrUserDisabled
	}
	if rehash {
		s.upgradeHash(ctx, u, a.Password)
	}
	return u, nil
}

// upgradeHash re-hashes a password that matched a hash made with older
// parameters. It is best effort: the sign-in succeeds either way, and the
// next one tries again.
func (s *Service) upgradeHash(ctx context.Context, u domain.User, password string) {
	h, err := s.dir.Passwords().Hash(ctx, password)
	if err == nil {
		err = s.dir.UpgradePasswordHash(ctx, u.TenantID, u.ID, u.PasswordHash, h)
	}
	if err != nil {
		s.log.WarnContext(ctx, "upgrade password hash", "user", u.ID, "err", err)
	}
}

// fail counts a failed sign-in and locks the name once the threshold is
// reached; the failure that reaches it already reports the lockout.
func (s *Service) fail(ctx context.Context, key string, prev domain.SignInThrottle, now time.Time) error {
	th, err := s.st.RecordSignInFailure(ctx, key, now, s.opts.LockoutWindow)
	if err != nil {
		return fmt.Errorf("record sign-in failure: %w", err)
	}
	if th.Failures < s.opts.LockoutThreshold {
		return ErrInvalidCredentials
	}
	d := s.opts.LockoutDuration
	for i := 0; i < prev.Lockouts && d < s.opts.MaxLockoutDuration; i++ {
		d *= 2
	}
	d = min(d, s.opts.MaxLockoutDuration)
	until := now.Add(d)
	if err := s.st.LockSignIn(ctx, key, until); err != nil {
		return fmt.Errorf("lock sign-in: %w", err)
	}
	return &LockedError{Until: until}
}

// UserValid reports whether a sign-in made at authTime for userID still
// holds: the user exists, is enabled and has not had the password reset
// since. Sessions and refresh tokens are checked with it on every use.
func (s *Service) UserValid(ctx context.Context, tenantID, userID string, authTime time.Time) (domain.User, bool, error) {
	u, err := s.st.GetUser(ctx, tenantID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return domain.User{}, false, nil
	}
	if err != nil {
		return domain.User{}, false, fmt.Errorf("load user: %w", err)
	}
	return u, directory.SessionValid(u, authTime), nil
}

// Record writes a sign-in event to the audit log (failures are logged, not
// returned: a sign-in does not fail because its record could not be kept).
func (s *Service) Record(ctx context.Context, ev domain.AuditEvent) {
	if s.audit == nil {
		return
	}
	if ev.Kind == "" {
		ev.Kind = domain.AuditSignIn
	}
	if ev.Time.IsZero() {
		ev.Time = s.now().UTC()
	}
	if err := s.audit.Record(ctx, ev); err != nil {
		s.log.ErrorContext(ctx, "record sign-in", "err", err)
	}
}

// Hash is the store key of a secret handed to a client or browser.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewSecret returns 32 random bytes in base64url: a code, token or cookie value.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return encodeB64(b)
}
