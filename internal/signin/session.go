package signin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

func encodeB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Authentication method references (RFC 8176) Tessera records.
const (
	AMRPassword = "pwd"
	AMRMFA      = "mfa"
	AMROTP      = "otp"
)

// HasMFA reports whether amr records a second factor.
func HasMFA(amr []string) bool { return slices.Contains(amr, AMRMFA) }

// ErrNoSession: the cookie names no live session, or the session no longer
// holds (expired, user disabled or password reset since).
var ErrNoSession = fault.New(fault.Unauthenticated, CodeNoSession, "no valid sign-in session")

// NewSession starts a browser session for a user who just authenticated
// with amr, and returns the cookie value (only its hash is stored).
func (s *Service) NewSession(ctx context.Context, tenantID string, u domain.User, amr []string) (string, domain.BrowserSession, error) {
	cookie := NewSecret()
	now := s.now().UTC()
	b := domain.BrowserSession{
		Hash: Hash(cookie), TenantID: tenantID, UserID: u.ID, AuthTime: now, AMR: amr,
		CreatedAt: now, ExpiresAt: now.Add(s.opts.SessionLifetime), LastSeenAt: now,
	}
	if err := s.st.CreateBrowserSession(ctx, b); err != nil {
		return "", domain.BrowserSession{}, fmt.Errorf("create session: %w", err)
	}
	return cookie, b, nil
}

// SessionLifetime is how long a new session lasts.
func (s *Service) SessionLifetime() time.Duration { return s.opts.SessionLifetime }

// Session returns the live session a cookie names in a tenant, with its
// user. A session of another tenant, an expired one, or one whose user was
// disabled or had the password reset since it began is ErrNoSession (and a
// stale one is deleted).
func (s *Service) Session(ctx context.Context, tenantID, cookie string) (domain.BrowserSession, domain.User, error) {
	if cookie == "" {
		return domain.BrowserSession{}, domain.User{}, ErrNoSession
	}
	b, err := s.st.GetBrowserSession(ctx, Hash(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return b, domain.User{}, ErrNoSession
	}
	if err != nil {
		return b, domain.User{}, fmt.Errorf("load session: %w", err)
	}
	if b.TenantID != tenantID {
		return domain.BrowserSession{}, domain.User{}, ErrNoSession
	}
	if !s.now().Before(b.ExpiresAt) {
		_ = s.st.DeleteBrowserSession(ctx, b.Hash)
		return domain.BrowserSession{}, domain.User{}, ErrNoSession
	}
	u, ok, err := s.UserValid(ctx, tenantID, b.UserID, b.AuthTime)
	if err != nil {
		return b, u, err
	}
	if !ok {
		_ = s.st.DeleteBrowserSession(ctx, b.Hash)
		return domain.BrowserSession{}, domain.User{}, ErrNoSession
	}
	return b, u, nil
}

// AddMFA records in a session that its user passed a second factor now.
func (s *Service) AddMFA(ctx context.Context, b domain.BrowserSession) (domain.BrowserSession, error) {
	if !HasMFA(b.AMR) {
		b.AMR = append(slices.Clone(b.AMR), AMRMFA)
	}
	b.LastSeenAt = s.now().UTC()
	if err := s.st.UpdateBrowserSession(ctx, b); err != nil {
		return b, fmt.Errorf("update session: %w", err)
	}
	return b, nil
}

// AddClient records that the session signed in to the client appID, so
// that logout can tell it (front-channel logout).
func (s *Service) AddClient(ctx context.Context, b domain.BrowserSession, appID string) (domain.BrowserSession, error) {
	for _, id := range b.ClientIDs {
		if strings.EqualFold(id, appID) {
			return b, nil
		}
	}
	b.ClientIDs = append(slices.Clone(b.ClientIDs), appID)
	if err := s.st.UpdateBrowserSession(ctx, b); err != nil {
		return b, fmt.Errorf("update session: %w", err)
	}
	return b, nil
}

// SID is the sid claim of a session: stable for the session, and not the
// session's store key (which is the hash of the cookie).
func SID(sessionHash string) string {
	if sessionHash == "" {
		return ""
	}
	return Hash("sid:" + sessionHash)[:32]
}

// EndSession deletes the session a cookie names (logout); an unknown
// cookie is not an error.
func (s *Service) EndSession(ctx context.Context, cookie string) error {
	if cookie == "" {
		return nil
	}
	if err := s.st.DeleteBrowserSession(ctx, Hash(cookie)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// RevokeUser ends every session and refresh token family of a user (an
// administrator's "revoke sessions", or after a password reset).
func (s *Service) RevokeUser(ctx context.Context, tenantID, userID, reason string) error {
	if _, err := s.st.DeleteUserBrowserSessions(ctx, tenantID, userID); err != nil {
		return err
	}
	_, err := s.st.RevokeUserRefreshFamilies(ctx, tenantID, userID, s.now().UTC(), reason)
	return err
}
