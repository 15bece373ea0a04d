package signin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// TOTP parameters: those every authenticator app supports (RFC 6238 with
// HMAC-SHA1, six digits, 30-second steps), so the otpauth:// URI works with
// Microsoft Authenticator, Google Authenticator, 1Password and oathtool.
const (
	totpPeriod = 30
	totpDigits = 6
	// totpSkew accepts the codes of the neighbouring steps: phone clocks drift.
	totpSkew = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPCode computes the code of secret at time t (RFC 6238 / RFC 4226).
func TOTPCode(secret []byte, t time.Time) string {
	return hotp(secret, t.Unix()/totpPeriod)
}

func hotp(secret []byte, counter int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1_000_000)
}

// Enrollment is a started authenticator registration.
type Enrollment struct {
	// Secret is the key in base32, for typing into an app.
	Secret string
	// URI is the otpauth:// URI an app imports (as a QR code or link).
	URI string
}

// EnrollTOTP starts (or restarts) a user's authenticator registration. It
// fails with store.ErrConflict when a confirmed one exists.
func (s *Service) EnrollTOTP(ctx context.Context, tenant domain.Tenant, u domain.User) (Enrollment, error) {
	secret := make([]byte, 20) // 160 bits, RFC 4226's recommendation
	if _, err := rand.Read(secret); err != nil {
		return Enrollment{}, err
	}
	if err := s.st.PutTOTPMethod(ctx, domain.TOTPMethod{TenantID: tenant.ID, UserID: u.ID, Secret: secret,
		CreatedAt: s.now().UTC()}); err != nil {
		return Enrollment{}, fmt.Errorf("enroll authenticator: %w", err)
	}
	return enrollment(secret, u.UserPrincipalName), nil
}

// PendingEnrollment returns the unconfirmed registration of a user, so a
// page can show the same secret again after a wrong code.
func (s *Service) PendingEnrollment(ctx context.Context, tenantID string, u domain.User) (Enrollment, bool, error) {
	m, err := s.st.GetTOTPMethod(ctx, tenantID, u.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && m.Confirmed {
		return Enrollment{}, false, nil
	}
	if err != nil {
		return Enrollment{}, false, err
	}
	return enrollment(m.Secret, u.UserPrincipalName), true, nil
}

func enrollment(secret []byte, upn string) Enrollment {
	enc := b32.EncodeToString(secret)
	label := url.PathEscape("Tessera:" + upn)
	q := url.Values{"secret": {enc}, "issuer": {"Tessera"}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return Enrollment{Secret: enc, URI: "otpauth://totp/" + label + "?" + q.Encode()}
}

// HasTOTP reports whether a user has a confirmed authenticator app.
func (s *Service) HasTOTP(ctx context.Context, tenantID, userID string) (bool, error) {
	m, err := s.st.GetTOTPMethod(ctx, tenantID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return m.Confirmed, nil
}

// ConfirmTOTP finishes a registration with the first code from the app.
func (s *Service) ConfirmTOTP(ctx context.Context, tenantID, userID, code string) error {
	m, err := s.st.GetTOTPMethod(ctx, tenantID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoMFAMethod
	}
	if err != nil {
		return err
	}
	if err := s.checkCode(ctx, m, code); err != nil {
		return err
	}
	return s.st.ConfirmTOTPMethod(ctx, tenantID, userID)
}

// VerifyTOTP checks a code from a user's confirmed authenticator. Each
// code is accepted once (RFC 6238 §5.2), even under concurrent attempts.
func (s *Service) VerifyTOTP(ctx context.Context, tenantID, userID, code string) error {
	m, err := s.st.GetTOTPMethod(ctx, tenantID, userID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !m.Confirmed {
		return ErrNoMFAMethod
	}
	if err != nil {
		return err
	}
	return s.checkCode(ctx, m, code)
}

// RemoveTOTP deletes a user's registration (administrator reset).
func (s *Service) RemoveTOTP(ctx context.Context, tenantID, userID string) error {
	return s.st.DeleteTOTPMethod(ctx, tenantID, userID)
}

func (s *Service) checkCode(ctx context.Context, m domain.TOTPMethod, code string) error {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != totpDigits {
		return ErrInvalidCode
	}
	// Six digits are guessable by brute force, so failures count toward a
	// lockout of the user's second factor, as passwords do.
	key := "totp|" + m.TenantID + "|" + m.UserID
	now := s.now()
	th, err := s.st.GetSignInThrottle(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		th = domain.SignInThrottle{}
	case err != nil:
		return err
	}
	if now.Before(th.LockedUntil) {
		return &LockedError{Until: th.LockedUntil}
	}
	cur := now.Unix() / totpPeriod
	// Compare against every candidate step without stopping early, so the
	// time taken does not say which step matched.
	matched := int64(-1)
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		if subtle.ConstantTimeCompare([]byte(hotp(m.Secret, step)), []byte(code)) == 1 {
			matched = step
		}
	}
	if matched < 0 {
		if err := s.fail(ctx, key, th, now); !errors.Is(err, ErrInvalidCredentials) {
			return err
		}
		return ErrInvalidCode
	}
	switch err := s.st.UseTOTPStep(ctx, m.TenantID, m.UserID, matched); {
	case errors.Is(err, store.ErrConflict):
		return ErrInvalidCode // this code, or a later one, was used already
	case err != nil:
		return err
	}
	if th.Failures > 0 {
		_ = s.st.ClearSignInFailures(ctx, key)
	}
	return nil
}

// DecodeTOTPSecret reads a base32 secret as an authenticator app shows it.
func DecodeTOTPSecret(s string) ([]byte, error) {
	return b32.DecodeString(strings.ToUpper(strings.ReplaceAll(s, " ", "")))
}
