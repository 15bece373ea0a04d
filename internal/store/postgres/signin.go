package postgres

import (
	"context"
	"errors"
	"fmt"
	"github.com/tessera-id/tessera/internal/store/storedoc"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// The sign-in state of store.SignIn. One-time values are consumed by
// conditional updates, which PostgreSQL re-evaluates on the newest row
// version after waiting for a concurrent writer: of two redemptions of one
// code the second finds it redeemed. Refresh token rotation and family
// revocation lock the family row (SELECT ... FOR UPDATE), which orders them.

// --- authorization codes ---

func (s *Store) CreateAuthCode(ctx context.Context, c domain.AuthCode) error {
	doc, err := storedoc.EncodeAuthCode(c)
	if err != nil {
		return fmt.Errorf("create auth code: %w", err)
	}
	if _, err := s.exec(ctx, `INSERT INTO auth_codes (hash, expires_at, redeemed_at, doc) VALUES ($1, $2, $3, $4)`,
		c.Hash, storedoc.Utc(c.ExpiresAt), pgTime(c.RedeemedAt), doc); err != nil {
		return fmt.Errorf("create auth code: %w", err)
	}
	return nil
}

func scanAuthCode(row pgx.Row) (domain.AuthCode, error) {
	var (
		c        domain.AuthCode
		exp      time.Time
		redeemed *time.Time
		doc      []byte
	)
	if err := row.Scan(&c.Hash, &exp, &redeemed, &doc); err != nil {
		return c, translate(err)
	}
	c.ExpiresAt, c.RedeemedAt = exp.UTC(), fromPgTime(redeemed)
	return c, storedoc.DecodeAuthCode(doc, &c)
}

func (s *Store) GetAuthCode(ctx context.Context, hash string) (domain.AuthCode, error) {
	c, err := scanAuthCode(s.q.QueryRow(ctx, `SELECT hash, expires_at, redeemed_at, doc FROM auth_codes WHERE hash = $1`, hash))
	if err != nil {
		return c, fmt.Errorf("get auth code: %w", err)
	}
	return c, nil
}

func (s *Store) RedeemAuthCode(ctx context.Context, hash string, now time.Time) (domain.AuthCode, error) {
	c, err := scanAuthCode(s.q.QueryRow(ctx, `UPDATE auth_codes SET redeemed_at = $1 WHERE hash = $2 AND redeemed_at IS NULL
		RETURNING hash, expires_at, redeemed_at, doc`, storedoc.Utc(now), hash))
	switch {
	case err == nil:
		return c, nil
	case !errors.Is(err, store.ErrNotFound):
		return domain.AuthCode{}, fmt.Errorf("redeem auth code: %w", err)
	}
	// No row was updated: the code is unknown or was redeemed before.
	if c, err = s.GetAuthCode(ctx, hash); err != nil {
		return domain.AuthCode{}, err
	}
	return c, fmt.Errorf("redeem auth code: already redeemed: %w", store.ErrConflict)
}

// --- refresh tokens ---

func (s *Store) CreateRefreshFamily(ctx context.Context, f domain.RefreshFamily, first domain.RefreshToken) error {
	fdoc, err := storedoc.EncodeRefreshFamily(f)
	if err != nil {
		return fmt.Errorf("create refresh family: %w", err)
	}
	tdoc, err := storedoc.EncodeRefreshToken(first)
	if err != nil {
		return fmt.Errorf("create refresh family: %w", err)
	}
	err = s.atomic(ctx, false, func(ts *Store) error {
		if _, err := ts.exec(ctx, `INSERT INTO refresh_families (id, tenant_id, user_id, expires_at, revoked_at, revoked_reason, doc)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, f.ID, f.TenantID, f.UserID, pgTime(f.ExpiresAt), pgTime(f.RevokedAt), f.RevokedReason, fdoc); err != nil {
			return err
		}
		_, err := ts.exec(ctx, `INSERT INTO refresh_tokens (hash, family_id, expires_at, used_at, doc) VALUES ($1, $2, $3, $4, $5)`,
			first.Hash, f.ID, storedoc.Utc(first.ExpiresAt), pgTime(first.UsedAt), tdoc)
		return err
	})
	if err != nil {
		return fmt.Errorf("create refresh family %s: %w", f.ID, err)
	}
	return nil
}

func (s *Store) GetRefreshToken(ctx context.Context, hash string) (domain.RefreshToken, domain.RefreshFamily, error) {
	var (
		t                   domain.RefreshToken
		f                   domain.RefreshFamily
		texp                time.Time
		used, fexp, revoked *time.Time
		tdoc, fdoc          []byte
	)
	err := s.queryRow(ctx, `SELECT t.hash, t.family_id, t.expires_at, t.used_at, t.doc,
			f.tenant_id, f.user_id, f.expires_at, f.revoked_at, f.revoked_reason, f.doc
		FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = $1`, []any{hash},
		&t.Hash, &t.FamilyID, &texp, &used, &tdoc, &f.TenantID, &f.UserID, &fexp, &revoked, &f.RevokedReason, &fdoc)
	if err != nil {
		return t, f, fmt.Errorf("get refresh token: %w", err)
	}
	t.ExpiresAt, t.UsedAt = texp.UTC(), fromPgTime(used)
	f.ID, f.ExpiresAt, f.RevokedAt = t.FamilyID, fromPgTime(fexp), fromPgTime(revoked)
	if err := storedoc.DecodeRefreshToken(tdoc, &t); err != nil {
		return t, f, fmt.Errorf("get refresh token: decode: %w", err)
	}
	if err := storedoc.DecodeRefreshFamily(fdoc, &f); err != nil {
		return t, f, fmt.Errorf("get refresh token: decode family: %w", err)
	}
	return t, f, nil
}

func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next domain.RefreshToken, now time.Time) error {
	doc, err := storedoc.EncodeRefreshToken(next)
	if err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	err = s.atomic(ctx, false, func(ts *Store) error {
		var (
			family  string
			used    *time.Time
			revoked *time.Time
		)
		// Locking the family row orders this rotation against a concurrent
		// rotation of any token of the family and against its revocation;
		// used_at is read after the lock is held, so it is current.
		if err := ts.queryRow(ctx, `SELECT f.id, f.revoked_at FROM refresh_families f
			WHERE f.id = (SELECT family_id FROM refresh_tokens WHERE hash = $1) FOR UPDATE`, []any{oldHash}, &family, &revoked); err != nil {
			return err
		}
		if err := ts.queryRow(ctx, `SELECT used_at FROM refresh_tokens WHERE hash = $1`, []any{oldHash}, &used); err != nil {
			return err
		}
		switch {
		case revoked != nil:
			return fmt.Errorf("family revoked: %w", store.ErrPrecondition)
		case used != nil:
			return fmt.Errorf("already used: %w", store.ErrConflict)
		}
		if _, err := ts.exec(ctx, `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2`, storedoc.Utc(now), oldHash); err != nil {
			return err
		}
		_, err := ts.exec(ctx, `INSERT INTO refresh_tokens (hash, family_id, expires_at, used_at, doc) VALUES ($1, $2, $3, $4, $5)`,
			next.Hash, family, storedoc.Utc(next.ExpiresAt), pgTime(next.UsedAt), doc)
		return err
	})
	if err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	return nil
}

func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID, tenantID string, now time.Time, reason string) error {
	if _, err := s.exec(ctx, `INSERT INTO refresh_families (id, tenant_id, user_id, expires_at, revoked_at, revoked_reason, doc)
		VALUES ($1, $2, '', NULL, $3, $4, '{}')
		ON CONFLICT (id) DO UPDATE SET revoked_at = excluded.revoked_at, revoked_reason = excluded.revoked_reason
		WHERE refresh_families.revoked_at IS NULL`, familyID, tenantID, storedoc.Utc(now), reason); err != nil {
		return fmt.Errorf("revoke refresh family %s: %w", familyID, err)
	}
	return nil
}

func (s *Store) RevokeUserRefreshFamilies(ctx context.Context, tenantID, userID string, now time.Time, reason string) (int64, error) {
	tag, err := s.exec(ctx, `UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2
		WHERE tenant_id = $3 AND user_id = $4 AND revoked_at IS NULL`, storedoc.Utc(now), reason, tenantID, userID)
	if err != nil {
		return 0, fmt.Errorf("revoke refresh families of %s: %w", userID, err)
	}
	return tag.RowsAffected(), nil
}

// --- device codes ---

func (s *Store) CreateDeviceCode(ctx context.Context, d domain.DeviceCode) error {
	doc, err := storedoc.EncodeDeviceCode(d)
	if err != nil {
		return fmt.Errorf("create device code: %w", err)
	}
	if _, err := s.exec(ctx, `INSERT INTO device_codes (hash, user_code, expires_at, last_polled_at, status, user_id, auth_time, amr, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, d.Hash, d.UserCode, storedoc.Utc(d.ExpiresAt), pgTime(d.LastPolledAt), d.Status,
		d.UserID, pgTime(d.AuthTime), storedoc.EncodeAMR(d.AMR), doc); err != nil {
		return fmt.Errorf("create device code: %w", err)
	}
	return nil
}

const deviceCodeColumns = `hash, user_code, expires_at, last_polled_at, status, user_id, auth_time, amr, doc`

func scanDeviceCode(row pgx.Row) (domain.DeviceCode, error) {
	var (
		d              domain.DeviceCode
		exp            time.Time
		polled, authAt *time.Time
		amr            string
		doc            []byte
	)
	if err := row.Scan(&d.Hash, &d.UserCode, &exp, &polled, &d.Status, &d.UserID, &authAt, &amr, &doc); err != nil {
		return d, translate(err)
	}
	d.ExpiresAt, d.LastPolledAt, d.AuthTime = exp.UTC(), fromPgTime(polled), fromPgTime(authAt)
	var err error
	if d.AMR, err = storedoc.DecodeAMR(amr); err != nil {
		return d, err
	}
	return d, storedoc.DecodeDeviceCode(doc, &d)
}

func (s *Store) GetDeviceCodeByUserCode(ctx context.Context, userCode string) (domain.DeviceCode, error) {
	d, err := scanDeviceCode(s.q.QueryRow(ctx, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE user_code = $1`, userCode))
	if err != nil {
		return d, fmt.Errorf("get device code: %w", err)
	}
	return d, nil
}

func (s *Store) DecideDeviceCode(ctx context.Context, userCode string, approve bool, userID string, authTime time.Time, amr []string, now time.Time) error {
	status := domain.DeviceCodeDeclined
	if approve {
		status = domain.DeviceCodeApproved
	}
	tag, err := s.exec(ctx, `UPDATE device_codes SET status = $1, user_id = $2, auth_time = $3, amr = $4
		WHERE user_code = $5 AND status = $6 AND expires_at > $7`, status, userID, pgTime(authTime), storedoc.EncodeAMR(amr),
		userCode, domain.DeviceCodePending, storedoc.Utc(now))
	if err != nil {
		return fmt.Errorf("decide device code: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := s.GetDeviceCodeByUserCode(ctx, userCode); err != nil {
		return err
	}
	return fmt.Errorf("decide device code: not pending: %w", store.ErrPrecondition)
}

func (s *Store) PollDeviceCode(ctx context.Context, hash string, now time.Time) (domain.DeviceCode, error) {
	var before domain.DeviceCode
	err := s.atomic(ctx, false, func(ts *Store) error {
		var err error
		// The row lock makes the read and the update one step: a concurrent
		// poll waits here and then reads this poll's result.
		if before, err = scanDeviceCode(ts.q.QueryRow(ctx, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE hash = $1 FOR UPDATE`, hash)); err != nil {
			return err
		}
		_, err = ts.exec(ctx, `UPDATE device_codes SET last_polled_at = $1,
			status = CASE WHEN status = $2 THEN $3 ELSE status END WHERE hash = $4`,
			storedoc.Utc(now), domain.DeviceCodeApproved, domain.DeviceCodeRedeemed, hash)
		return err
	})
	if err != nil {
		return domain.DeviceCode{}, fmt.Errorf("poll device code: %w", err)
	}
	return before, nil
}

// --- browser sessions ---

func (s *Store) CreateBrowserSession(ctx context.Context, b domain.BrowserSession) error {
	if _, err := s.exec(ctx, `INSERT INTO browser_sessions (hash, tenant_id, user_id, auth_time, amr, created_at, expires_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, b.Hash, b.TenantID, b.UserID, pgTime(b.AuthTime), storedoc.EncodeAMR(b.AMR),
		pgTime(b.CreatedAt), storedoc.Utc(b.ExpiresAt), pgTime(b.LastSeenAt)); err != nil {
		return fmt.Errorf("create browser session: %w", err)
	}
	return nil
}

func (s *Store) GetBrowserSession(ctx context.Context, hash string) (domain.BrowserSession, error) {
	var (
		b                     domain.BrowserSession
		authAt, created, seen *time.Time
		exp                   time.Time
		amr                   string
	)
	if err := s.queryRow(ctx, `SELECT hash, tenant_id, user_id, auth_time, amr, created_at, expires_at, last_seen_at
		FROM browser_sessions WHERE hash = $1`, []any{hash}, &b.Hash, &b.TenantID, &b.UserID, &authAt, &amr, &created, &exp, &seen); err != nil {
		return b, fmt.Errorf("get browser session: %w", err)
	}
	b.AuthTime, b.CreatedAt, b.ExpiresAt, b.LastSeenAt = fromPgTime(authAt), fromPgTime(created), exp.UTC(), fromPgTime(seen)
	var err error
	b.AMR, err = storedoc.DecodeAMR(amr)
	return b, err
}

func (s *Store) UpdateBrowserSession(ctx context.Context, b domain.BrowserSession) error {
	if err := s.execOne(ctx, `UPDATE browser_sessions SET auth_time = $1, amr = $2, expires_at = $3, last_seen_at = $4 WHERE hash = $5`,
		pgTime(b.AuthTime), storedoc.EncodeAMR(b.AMR), storedoc.Utc(b.ExpiresAt), pgTime(b.LastSeenAt), b.Hash); err != nil {
		return fmt.Errorf("update browser session: %w", err)
	}
	return nil
}

func (s *Store) DeleteBrowserSession(ctx context.Context, hash string) error {
	if err := s.execOne(ctx, `DELETE FROM browser_sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete browser session: %w", err)
	}
	return nil
}

func (s *Store) DeleteUserBrowserSessions(ctx context.Context, tenantID, userID string) (int64, error) {
	tag, err := s.exec(ctx, `DELETE FROM browser_sessions WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID)
	if err != nil {
		return 0, fmt.Errorf("delete browser sessions of %s: %w", userID, err)
	}
	return tag.RowsAffected(), nil
}

// --- smart lockout ---

const throttleColumns = `key, failures, window_start, locked_until, lockouts`

func scanThrottle(row pgx.Row) (domain.SignInThrottle, error) {
	var (
		t             domain.SignInThrottle
		start, locked *time.Time
	)
	if err := row.Scan(&t.Key, &t.Failures, &start, &locked, &t.Lockouts); err != nil {
		return t, translate(err)
	}
	t.WindowStart, t.LockedUntil = fromPgTime(start), fromPgTime(locked)
	return t, nil
}

func (s *Store) GetSignInThrottle(ctx context.Context, key string) (domain.SignInThrottle, error) {
	t, err := scanThrottle(s.q.QueryRow(ctx, `SELECT `+throttleColumns+` FROM signin_throttles WHERE key = $1`, key))
	if err != nil {
		return t, fmt.Errorf("get sign-in throttle: %w", err)
	}
	return t, nil
}

func (s *Store) RecordSignInFailure(ctx context.Context, key string, now time.Time, window time.Duration) (domain.SignInThrottle, error) {
	// One upsert reads and writes the counter atomically: a concurrent
	// failure waits for the row and then counts on top of this one.
	t, err := scanThrottle(s.q.QueryRow(ctx, `INSERT INTO signin_throttles (key, failures, window_start, locked_until, lockouts)
		VALUES ($1, 1, $2, NULL, 0)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN signin_throttles.window_start IS NULL OR signin_throttles.window_start < $3 THEN 1
				ELSE signin_throttles.failures + 1 END,
			window_start = CASE WHEN signin_throttles.window_start IS NULL OR signin_throttles.window_start < $3 THEN excluded.window_start
				ELSE signin_throttles.window_start END
		RETURNING `+throttleColumns, key, storedoc.Utc(now), storedoc.Utc(now.Add(-window))))
	if err != nil {
		return t, fmt.Errorf("record sign-in failure: %w", err)
	}
	return t, nil
}

func (s *Store) LockSignIn(ctx context.Context, key string, until time.Time) error {
	if _, err := s.exec(ctx, `INSERT INTO signin_throttles (key, failures, window_start, locked_until, lockouts)
		VALUES ($1, 0, NULL, $2, 1)
		ON CONFLICT (key) DO UPDATE SET failures = 0, window_start = NULL, locked_until = excluded.locked_until,
			lockouts = signin_throttles.lockouts + 1`, key, storedoc.Utc(until)); err != nil {
		return fmt.Errorf("lock sign-in: %w", err)
	}
	return nil
}

func (s *Store) ClearSignInFailures(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, `UPDATE signin_throttles SET failures = 0, window_start = NULL WHERE key = $1`, key); err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	return nil
}

// --- authenticator apps ---

func (s *Store) PutTOTPMethod(ctx context.Context, m domain.TOTPMethod) error {
	tag, err := s.exec(ctx, `INSERT INTO totp_methods (tenant_id, user_id, secret, confirmed, created_at, last_step)
		VALUES ($1, $2, $3, false, $4, $5)
		ON CONFLICT (tenant_id, user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at,
			last_step = excluded.last_step WHERE totp_methods.confirmed = false`,
		m.TenantID, m.UserID, m.Secret, pgTime(m.CreatedAt), m.LastStep)
	if err != nil {
		return fmt.Errorf("put totp method: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("put totp method: a confirmed method exists: %w", store.ErrConflict)
	}
	return nil
}

func (s *Store) GetTOTPMethod(ctx context.Context, tenantID, userID string) (domain.TOTPMethod, error) {
	var (
		m       domain.TOTPMethod
		created *time.Time
	)
	if err := s.queryRow(ctx, `SELECT tenant_id, user_id, secret, confirmed, created_at, last_step FROM totp_methods
		WHERE tenant_id = $1 AND user_id = $2`, []any{tenantID, userID}, &m.TenantID, &m.UserID, &m.Secret, &m.Confirmed, &created, &m.LastStep); err != nil {
		return m, fmt.Errorf("get totp method: %w", err)
	}
	m.CreatedAt = fromPgTime(created)
	return m, nil
}

func (s *Store) ConfirmTOTPMethod(ctx context.Context, tenantID, userID string) error {
	if err := s.execOne(ctx, `UPDATE totp_methods SET confirmed = true WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID); err != nil {
		return fmt.Errorf("confirm totp method: %w", err)
	}
	return nil
}

func (s *Store) UseTOTPStep(ctx context.Context, tenantID, userID string, step int64) error {
	tag, err := s.exec(ctx, `UPDATE totp_methods SET last_step = $1 WHERE tenant_id = $2 AND user_id = $3 AND last_step < $1`,
		step, tenantID, userID)
	if err != nil {
		return fmt.Errorf("use totp step: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := s.GetTOTPMethod(ctx, tenantID, userID); err != nil {
		return err
	}
	return fmt.Errorf("use totp step: code already used: %w", store.ErrConflict)
}

func (s *Store) DeleteTOTPMethod(ctx context.Context, tenantID, userID string) error {
	if err := s.execOne(ctx, `DELETE FROM totp_methods WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID); err != nil {
		return fmt.Errorf("delete totp method: %w", err)
	}
	return nil
}

// --- Conditional Access ---

func (s *Store) PutCAObject(ctx context.Context, o domain.ConditionalAccessObject) error {
	if _, err := s.exec(ctx, `INSERT INTO ca_objects (tenant_id, kind, id, doc, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, kind, id) DO UPDATE SET doc = excluded.doc, modified_at = excluded.modified_at`,
		o.TenantID, o.Kind, o.ID, o.Doc, pgTime(o.CreatedAt), pgTime(o.ModifiedAt)); err != nil {
		return fmt.Errorf("put conditional access %s %s: %w", o.Kind, o.ID, err)
	}
	return nil
}

const caColumns = `tenant_id, kind, id, doc, created_at, modified_at`

func scanCA(row pgx.Row) (domain.ConditionalAccessObject, error) {
	var (
		o                 domain.ConditionalAccessObject
		created, modified *time.Time
	)
	if err := row.Scan(&o.TenantID, &o.Kind, &o.ID, &o.Doc, &created, &modified); err != nil {
		return o, translate(err)
	}
	o.CreatedAt, o.ModifiedAt = fromPgTime(created), fromPgTime(modified)
	return o, nil
}

func (s *Store) GetCAObject(ctx context.Context, tenantID, kind, id string) (domain.ConditionalAccessObject, error) {
	o, err := scanCA(s.q.QueryRow(ctx, `SELECT `+caColumns+` FROM ca_objects WHERE tenant_id = $1 AND kind = $2 AND id = $3`, tenantID, kind, id))
	if err != nil {
		return o, fmt.Errorf("get conditional access %s %s: %w", kind, id, err)
	}
	return o, nil
}

func (s *Store) ListCAObjects(ctx context.Context, tenantID, kind string) ([]domain.ConditionalAccessObject, error) {
	out := []domain.ConditionalAccessObject{}
	err := s.queryAll(ctx, `SELECT `+caColumns+` FROM ca_objects WHERE tenant_id = $1 AND kind = $2 ORDER BY created_at, id`,
		[]any{tenantID, kind}, func(r pgx.Rows) error {
			o, err := scanCA(r)
			out = append(out, o)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("list conditional access %s: %w", kind, err)
	}
	return out, nil
}

func (s *Store) DeleteCAObject(ctx context.Context, tenantID, kind, id string) error {
	if err := s.execOne(ctx, `DELETE FROM ca_objects WHERE tenant_id = $1 AND kind = $2 AND id = $3`, tenantID, kind, id); err != nil {
		return fmt.Errorf("delete conditional access %s %s: %w", kind, id, err)
	}
	return nil
}

// --- housekeeping ---

// codeReplayGrace keeps redeemed authorization codes a day past their
// expiry, so that a replay in that time still revokes what the code issued.
const codeReplayGrace = 24 * time.Hour

func (s *Store) PurgeExpiredSignIn(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	err := s.atomic(ctx, false, func(ts *Store) error {
		for _, q := range []struct {
			sql string
			at  time.Time
		}{
			{`DELETE FROM auth_codes WHERE expires_at < $1`, now.Add(-codeReplayGrace)},
			{`DELETE FROM device_codes WHERE expires_at < $1`, now.Add(-time.Hour)},
			{`DELETE FROM browser_sessions WHERE expires_at < $1`, now},
			{`DELETE FROM refresh_tokens WHERE expires_at < $1`, now},
			{`DELETE FROM refresh_families WHERE expires_at IS NOT NULL AND expires_at < $1`, now},
			{`DELETE FROM refresh_families WHERE expires_at IS NULL AND revoked_at < $1`, now.Add(-codeReplayGrace)},
			{`DELETE FROM signin_throttles WHERE GREATEST(window_start, locked_until) IS NULL OR GREATEST(window_start, locked_until) < $1`, now.Add(-24 * time.Hour)},
		} {
			tag, err := ts.exec(ctx, q.sql, storedoc.Utc(q.at))
			if err != nil {
				return err
			}
			total += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired sign-in state: %w", err)
	}
	return total, nil
}
