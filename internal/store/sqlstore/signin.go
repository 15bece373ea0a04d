package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/store/storedoc"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// The sign-in state of store.SignIn. One-time values are consumed by
// conditional updates; the multi-statement operations run in atomic, which
// on SQLite holds the single write connection, so they are serialised with
// every other writer.

// --- authorization codes ---

func (s *Store) CreateAuthCode(ctx context.Context, c domain.AuthCode) error {
	doc, err := storedoc.EncodeAuthCode(c)
	if err != nil {
		return fmt.Errorf("create auth code: %w", err)
	}
	if _, err := s.exec(ctx, `INSERT INTO auth_codes (hash, expires_at, redeemed_at, doc) VALUES (?, ?, ?, ?)`,
		c.Hash, s.t(c.ExpiresAt), s.t(c.RedeemedAt), string(doc)); err != nil {
		return fmt.Errorf("create auth code: %w", err)
	}
	return nil
}

const authCodeSelect = `SELECT hash, expires_at, redeemed_at, doc FROM auth_codes WHERE hash = ?`

func (s *Store) GetAuthCode(ctx context.Context, hash string) (domain.AuthCode, error) {
	var (
		c        domain.AuthCode
		exp      dbTime
		redeemed dbTime
		doc      string
	)
	if err := s.queryRow(ctx, authCodeSelect, []any{hash}, &c.Hash, &exp, &redeemed, &doc); err != nil {
		return domain.AuthCode{}, fmt.Errorf("get auth code: %w", err)
	}
	c.ExpiresAt, c.RedeemedAt = exp.T, redeemed.T
	if err := storedoc.DecodeAuthCode([]byte(doc), &c); err != nil {
		return domain.AuthCode{}, fmt.Errorf("get auth code: decode: %w", err)
	}
	return c, nil
}

func (s *Store) RedeemAuthCode(ctx context.Context, hash string, now time.Time) (domain.AuthCode, error) {
	res, err := s.exec(ctx, `UPDATE auth_codes SET redeemed_at = ? WHERE hash = ? AND redeemed_at IS NULL`, s.t(now), hash)
	if err != nil {
		return domain.AuthCode{}, fmt.Errorf("redeem auth code: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return domain.AuthCode{}, fmt.Errorf("redeem auth code: %w", err)
	}
	c, err := s.GetAuthCode(ctx, hash)
	if err != nil {
		return domain.AuthCode{}, err
	}
	if n == 0 {
		return c, fmt.Errorf("redeem auth code: already redeemed: %w", store.ErrConflict)
	}
	return c, nil
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
		if _, err := ts.exec(ctx, `INSERT INTO refresh_families (id, tenant_id, user_id, expires_at, revoked_at, revoked_reason, sid, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, f.ID, f.TenantID, f.UserID, s.t(f.ExpiresAt), s.t(f.RevokedAt), f.RevokedReason, f.SID, string(fdoc)); err != nil {
			return err
		}
		_, err := ts.exec(ctx, `INSERT INTO refresh_tokens (hash, family_id, expires_at, used_at, doc) VALUES (?, ?, ?, ?, ?)`,
			first.Hash, f.ID, s.t(first.ExpiresAt), s.t(first.UsedAt), string(tdoc))
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
		texp                dbTime
		used, fexp, revoked dbTime
		tdoc, fdoc          string
	)
	err := s.queryRow(ctx, `SELECT t.hash, t.family_id, t.expires_at, t.used_at, t.doc,
			f.tenant_id, f.user_id, f.expires_at, f.revoked_at, f.revoked_reason, f.sid, f.doc
		FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = ?`, []any{hash},
		&t.Hash, &t.FamilyID, &texp, &used, &tdoc, &f.TenantID, &f.UserID, &fexp, &revoked, &f.RevokedReason, &f.SID, &fdoc)
	if err != nil {
		return t, f, fmt.Errorf("get refresh token: %w", err)
	}
	t.ExpiresAt, t.UsedAt = texp.T, used.T
	f.ID, f.ExpiresAt, f.RevokedAt = t.FamilyID, fexp.T, revoked.T
	if err := storedoc.DecodeRefreshToken([]byte(tdoc), &t); err != nil {
		return t, f, fmt.Errorf("get refresh token: decode: %w", err)
	}
	if err := storedoc.DecodeRefreshFamily([]byte(fdoc), &f); err != nil {
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
			used    dbTime
			revoked dbTime
		)
		// Locking the family row (where the dialect needs a lock) orders
		// this rotation against a concurrent rotation of any token of the
		// family and against its revocation; used_at is read after the lock
		// is held, so it is current.
		if err := ts.queryRow(ctx, `SELECT f.id, f.revoked_at FROM refresh_families f
			WHERE f.id = (SELECT family_id FROM refresh_tokens WHERE hash = ?)`+s.lockRows(), []any{oldHash}, &family, &revoked); err != nil {
			return err
		}
		if err := ts.queryRow(ctx, `SELECT used_at FROM refresh_tokens WHERE hash = ?`, []any{oldHash}, &used); err != nil {
			return err
		}
		switch {
		case !revoked.T.IsZero():
			return fmt.Errorf("family revoked: %w", store.ErrPrecondition)
		case !used.T.IsZero():
			return fmt.Errorf("already used: %w", store.ErrConflict)
		}
		if _, err := ts.exec(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ?`, s.t(now), oldHash); err != nil {
			return err
		}
		_, err := ts.exec(ctx, `INSERT INTO refresh_tokens (hash, family_id, expires_at, used_at, doc) VALUES (?, ?, ?, ?, ?)`,
			next.Hash, family, s.t(next.ExpiresAt), s.t(next.UsedAt), string(doc))
		return err
	})
	if err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	return nil
}

func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID, tenantID string, now time.Time, reason string) error {
	if _, err := s.exec(ctx, `INSERT INTO refresh_families (id, tenant_id, user_id, expires_at, revoked_at, revoked_reason, doc)
		VALUES (?, ?, '', NULL, ?, ?, '{}')
		ON CONFLICT (id) DO UPDATE SET revoked_at = excluded.revoked_at, revoked_reason = excluded.revoked_reason
		WHERE refresh_families.revoked_at IS NULL`, familyID, tenantID, s.t(now), reason); err != nil {
		return fmt.Errorf("revoke refresh family %s: %w", familyID, err)
	}
	return nil
}

func (s *Store) RevokeUserRefreshFamilies(ctx context.Context, tenantID, userID string, now time.Time, reason string) (int64, error) {
	res, err := s.exec(ctx, `UPDATE refresh_families SET revoked_at = ?, revoked_reason = ?
		WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL`, s.t(now), reason, tenantID, userID)
	if err != nil {
		return 0, fmt.Errorf("revoke refresh families of %s: %w", userID, err)
	}
	return res.RowsAffected()
}

// --- device codes ---

func (s *Store) CreateDeviceCode(ctx context.Context, d domain.DeviceCode) error {
	doc, err := storedoc.EncodeDeviceCode(d)
	if err != nil {
		return fmt.Errorf("create device code: %w", err)
	}
	if _, err := s.exec(ctx, `INSERT INTO device_codes (hash, user_code, expires_at, last_polled_at, status, user_id, auth_time, amr, doc)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.Hash, d.UserCode, s.t(d.ExpiresAt), s.t(d.LastPolledAt), d.Status,
		d.UserID, s.t(d.AuthTime), storedoc.EncodeAMR(d.AMR), string(doc)); err != nil {
		return fmt.Errorf("create device code: %w", err)
	}
	return nil
}

const deviceCodeColumns = `hash, user_code, expires_at, last_polled_at, status, user_id, auth_time, amr, doc`

func scanDeviceCode(scan func(...any) error) (domain.DeviceCode, error) {
	var (
		d              domain.DeviceCode
		exp            dbTime
		polled, authAt dbTime
		amr, doc       string
	)
	if err := scan(&d.Hash, &d.UserCode, &exp, &polled, &d.Status, &d.UserID, &authAt, &amr, &doc); err != nil {
		return d, noRows(err)
	}
	d.ExpiresAt, d.LastPolledAt, d.AuthTime = exp.T, polled.T, authAt.T
	var err error
	if d.AMR, err = storedoc.DecodeAMR(amr); err != nil {
		return d, err
	}
	return d, storedoc.DecodeDeviceCode([]byte(doc), &d)
}

func (s *Store) deviceCode(ctx context.Context, where string, arg any) (domain.DeviceCode, error) {
	row, err := s.row(ctx, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE `+where+` = ?`, arg)
	if err != nil {
		return domain.DeviceCode{}, err
	}
	return scanDeviceCode(row.Scan)
}

func (s *Store) GetDeviceCodeByUserCode(ctx context.Context, userCode string) (domain.DeviceCode, error) {
	d, err := s.deviceCode(ctx, "user_code", userCode)
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
	res, err := s.exec(ctx, `UPDATE device_codes SET status = ?, user_id = ?, auth_time = ?, amr = ?
		WHERE user_code = ? AND status = ? AND expires_at > ?`, status, userID, s.t(authTime), storedoc.EncodeAMR(amr),
		userCode, domain.DeviceCodePending, s.t(now))
	if err != nil {
		return fmt.Errorf("decide device code: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	if _, err := s.GetDeviceCodeByUserCode(ctx, userCode); err != nil {
		return err
	}
	return fmt.Errorf("decide device code: not pending: %w", store.ErrPrecondition)
}

func (s *Store) PollDeviceCode(ctx context.Context, hash string, now time.Time) (domain.DeviceCode, error) {
	var before domain.DeviceCode
	err := s.atomic(ctx, false, func(ts *Store) error {
		// The row lock (where the dialect needs one) makes the read and the
		// update one step: a concurrent poll waits here and then reads this
		// poll's result.
		row, err := ts.row(ctx, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE hash = ?`+s.lockRows(), hash)
		if err != nil {
			return err
		}
		if before, err = scanDeviceCode(row.Scan); err != nil {
			return err
		}
		_, err = ts.exec(ctx, `UPDATE device_codes SET last_polled_at = ?,
			status = CASE WHEN status = ? THEN ? ELSE status END WHERE hash = ?`,
			s.t(now), domain.DeviceCodeApproved, domain.DeviceCodeRedeemed, hash)
		return err
	})
	if err != nil {
		return domain.DeviceCode{}, fmt.Errorf("poll device code: %w", err)
	}
	return before, nil
}

// --- browser sessions ---

func (s *Store) CreateBrowserSession(ctx context.Context, b domain.BrowserSession) error {
	if _, err := s.exec(ctx, `INSERT INTO browser_sessions (hash, tenant_id, user_id, auth_time, amr, created_at, expires_at, last_seen_at, client_ids)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, b.Hash, b.TenantID, b.UserID, s.t(b.AuthTime), storedoc.EncodeAMR(b.AMR),
		s.t(b.CreatedAt), s.t(b.ExpiresAt), s.t(b.LastSeenAt), strings.Join(b.ClientIDs, " ")); err != nil {
		return fmt.Errorf("create browser session: %w", err)
	}
	return nil
}

func (s *Store) GetBrowserSession(ctx context.Context, hash string) (domain.BrowserSession, error) {
	var (
		b                     domain.BrowserSession
		authAt, created, seen dbTime
		exp                   dbTime
		amr, clients          string
	)
	if err := s.queryRow(ctx, `SELECT hash, tenant_id, user_id, auth_time, amr, created_at, expires_at, last_seen_at, client_ids
		FROM browser_sessions WHERE hash = ?`, []any{hash}, &b.Hash, &b.TenantID, &b.UserID, &authAt, &amr, &created, &exp, &seen, &clients); err != nil {
		return b, fmt.Errorf("get browser session: %w", err)
	}
	if clients != "" {
		b.ClientIDs = strings.Fields(clients)
	}
	b.AuthTime, b.CreatedAt, b.ExpiresAt, b.LastSeenAt = authAt.T, created.T, exp.T, seen.T
	var err error
	b.AMR, err = storedoc.DecodeAMR(amr)
	return b, err
}

func (s *Store) UpdateBrowserSession(ctx context.Context, b domain.BrowserSession) error {
	if err := s.execOne(ctx, `UPDATE browser_sessions SET auth_time = ?, amr = ?, expires_at = ?, last_seen_at = ?, client_ids = ? WHERE hash = ?`,
		s.t(b.AuthTime), storedoc.EncodeAMR(b.AMR), s.t(b.ExpiresAt), s.t(b.LastSeenAt), strings.Join(b.ClientIDs, " "), b.Hash); err != nil {
		return fmt.Errorf("update browser session: %w", err)
	}
	return nil
}

func (s *Store) DeleteBrowserSession(ctx context.Context, hash string) error {
	if err := s.execOne(ctx, `DELETE FROM browser_sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("delete browser session: %w", err)
	}
	return nil
}

func (s *Store) DeleteUserBrowserSessions(ctx context.Context, tenantID, userID string) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM browser_sessions WHERE tenant_id = ? AND user_id = ?`, tenantID, userID)
	if err != nil {
		return 0, fmt.Errorf("delete browser sessions of %s: %w", userID, err)
	}
	return res.RowsAffected()
}

// --- smart lockout ---

const throttleColumns = `key, failures, window_start, locked_until, lockouts`

func scanThrottle(scan func(...any) error) (domain.SignInThrottle, error) {
	var (
		t             domain.SignInThrottle
		start, locked dbTime
	)
	if err := scan(&t.Key, &t.Failures, &start, &locked, &t.Lockouts); err != nil {
		return t, noRows(err)
	}
	t.WindowStart, t.LockedUntil = start.T, locked.T
	return t, nil
}

func (s *Store) GetSignInThrottle(ctx context.Context, key string) (domain.SignInThrottle, error) {
	row, err := s.row(ctx, `SELECT `+throttleColumns+` FROM signin_throttles WHERE key = ?`, key)
	if err != nil {
		return domain.SignInThrottle{}, err
	}
	t, err := scanThrottle(row.Scan)
	if err != nil {
		return t, fmt.Errorf("get sign-in throttle: %w", err)
	}
	return t, nil
}

func (s *Store) RecordSignInFailure(ctx context.Context, key string, now time.Time, window time.Duration) (domain.SignInThrottle, error) {
	var out domain.SignInThrottle
	// One statement: the upsert reads and writes the counter atomically.
	err := s.queryWrite(ctx, `INSERT INTO signin_throttles (key, failures, window_start, locked_until, lockouts)
			VALUES (?, 1, ?, NULL, 0)
			ON CONFLICT (key) DO UPDATE SET
				failures = CASE WHEN signin_throttles.window_start IS NULL OR signin_throttles.window_start < ? THEN 1
					ELSE signin_throttles.failures + 1 END,
				window_start = CASE WHEN signin_throttles.window_start IS NULL OR signin_throttles.window_start < ? THEN excluded.window_start
					ELSE signin_throttles.window_start END
			RETURNING `+throttleColumns,
		[]any{key, s.t(now), s.t(now.Add(-window)), s.t(now.Add(-window))}, func(r *sql.Rows) error {
			var err error
			out, err = scanThrottle(r.Scan)
			return err
		})
	if err != nil {
		return out, fmt.Errorf("record sign-in failure: %w", err)
	}
	return out, nil
}

func (s *Store) LockSignIn(ctx context.Context, key string, until time.Time) error {
	if _, err := s.exec(ctx, `INSERT INTO signin_throttles (key, failures, window_start, locked_until, lockouts)
		VALUES (?, 0, NULL, ?, 1)
		ON CONFLICT (key) DO UPDATE SET failures = 0, window_start = NULL, locked_until = excluded.locked_until,
			lockouts = signin_throttles.lockouts + 1`, key, s.t(until)); err != nil {
		return fmt.Errorf("lock sign-in: %w", err)
	}
	return nil
}

func (s *Store) ClearSignInFailures(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, `UPDATE signin_throttles SET failures = 0, window_start = NULL WHERE key = ?`, key); err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	return nil
}

// --- authenticator apps ---

func (s *Store) PutTOTPMethod(ctx context.Context, m domain.TOTPMethod) error {
	res, err := s.exec(ctx, `INSERT INTO totp_methods (tenant_id, user_id, secret, confirmed, created_at, last_step)
		VALUES (?, ?, ?, FALSE, ?, ?)
		ON CONFLICT (tenant_id, user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at,
			last_step = excluded.last_step WHERE NOT totp_methods.confirmed`,
		m.TenantID, m.UserID, m.Secret, s.t(m.CreatedAt), m.LastStep)
	if err != nil {
		return fmt.Errorf("put totp method: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("put totp method: a confirmed method exists: %w", store.ErrConflict)
	}
	return nil
}

func (s *Store) GetTOTPMethod(ctx context.Context, tenantID, userID string) (domain.TOTPMethod, error) {
	var (
		m       domain.TOTPMethod
		created dbTime
	)
	if err := s.queryRow(ctx, `SELECT tenant_id, user_id, secret, confirmed, created_at, last_step FROM totp_methods
		WHERE tenant_id = ? AND user_id = ?`, []any{tenantID, userID}, &m.TenantID, &m.UserID, &m.Secret, &m.Confirmed, &created, &m.LastStep); err != nil {
		return m, fmt.Errorf("get totp method: %w", err)
	}
	m.CreatedAt = created.T
	return m, nil
}

func (s *Store) ConfirmTOTPMethod(ctx context.Context, tenantID, userID string) error {
	if err := s.execOne(ctx, `UPDATE totp_methods SET confirmed = TRUE WHERE tenant_id = ? AND user_id = ?`, tenantID, userID); err != nil {
		return fmt.Errorf("confirm totp method: %w", err)
	}
	return nil
}

func (s *Store) UseTOTPStep(ctx context.Context, tenantID, userID string, step int64) error {
	res, err := s.exec(ctx, `UPDATE totp_methods SET last_step = ? WHERE tenant_id = ? AND user_id = ? AND last_step < ?`,
		step, tenantID, userID, step)
	if err != nil {
		return fmt.Errorf("use totp step: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	if _, err := s.GetTOTPMethod(ctx, tenantID, userID); err != nil {
		return err
	}
	return fmt.Errorf("use totp step: code already used: %w", store.ErrConflict)
}

func (s *Store) DeleteTOTPMethod(ctx context.Context, tenantID, userID string) error {
	if err := s.execOne(ctx, `DELETE FROM totp_methods WHERE tenant_id = ? AND user_id = ?`, tenantID, userID); err != nil {
		return fmt.Errorf("delete totp method: %w", err)
	}
	return nil
}

// --- Conditional Access ---

func (s *Store) PutCAObject(ctx context.Context, o domain.ConditionalAccessObject) error {
	if _, err := s.exec(ctx, `INSERT INTO ca_objects (tenant_id, kind, id, doc, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, kind, id) DO UPDATE SET doc = excluded.doc, modified_at = excluded.modified_at`,
		o.TenantID, o.Kind, o.ID, o.Doc, s.t(o.CreatedAt), s.t(o.ModifiedAt)); err != nil {
		return fmt.Errorf("put conditional access %s %s: %w", o.Kind, o.ID, err)
	}
	return nil
}

const caColumns = `tenant_id, kind, id, doc, created_at, modified_at`

func scanCA(scan func(...any) error) (domain.ConditionalAccessObject, error) {
	var (
		o                 domain.ConditionalAccessObject
		created, modified dbTime
	)
	if err := scan(&o.TenantID, &o.Kind, &o.ID, &o.Doc, &created, &modified); err != nil {
		return o, noRows(err)
	}
	o.CreatedAt, o.ModifiedAt = created.T, modified.T
	return o, nil
}

func (s *Store) GetCAObject(ctx context.Context, tenantID, kind, id string) (domain.ConditionalAccessObject, error) {
	row, err := s.row(ctx, `SELECT `+caColumns+` FROM ca_objects WHERE tenant_id = ? AND kind = ? AND id = ?`, tenantID, kind, id)
	if err != nil {
		return domain.ConditionalAccessObject{}, err
	}
	o, err := scanCA(row.Scan)
	if err != nil {
		return o, fmt.Errorf("get conditional access %s %s: %w", kind, id, err)
	}
	return o, nil
}

func (s *Store) ListCAObjects(ctx context.Context, tenantID, kind string) ([]domain.ConditionalAccessObject, error) {
	out := []domain.ConditionalAccessObject{}
	err := s.queryAll(ctx, `SELECT `+caColumns+` FROM ca_objects WHERE tenant_id = ? AND kind = ? ORDER BY created_at, id`,
		[]any{tenantID, kind}, func(r *sql.Rows) error {
			o, err := scanCA(r.Scan)
			out = append(out, o)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("list conditional access %s: %w", kind, err)
	}
	return out, nil
}

func (s *Store) DeleteCAObject(ctx context.Context, tenantID, kind, id string) error {
	if err := s.execOne(ctx, `DELETE FROM ca_objects WHERE tenant_id = ? AND kind = ? AND id = ?`, tenantID, kind, id); err != nil {
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
			{`DELETE FROM auth_codes WHERE expires_at < ?`, now.Add(-codeReplayGrace)},
			{`DELETE FROM device_codes WHERE expires_at < ?`, now.Add(-time.Hour)},
			{`DELETE FROM browser_sessions WHERE expires_at < ?`, now},
			{`DELETE FROM refresh_tokens WHERE expires_at < ?`, now},
			{`DELETE FROM refresh_families WHERE (expires_at IS NOT NULL AND expires_at < ?)`, now},
			{`DELETE FROM refresh_families WHERE expires_at IS NULL AND revoked_at < ?`, now.Add(-codeReplayGrace)},
			// Idle: neither a window nor a lockout since the cut-off.
			{`DELETE FROM signin_throttles WHERE (window_start IS NULL OR window_start < ?) AND (locked_until IS NULL OR locked_until < ?)`, now.Add(-24 * time.Hour)},
		} {
			// Every placeholder of a purge is the cut-off.
			args := make([]any, strings.Count(q.sql, "?"))
			for i := range args {
				args[i] = s.t(q.at)
			}
			res, err := ts.exec(ctx, q.sql, args...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired sign-in state: %w", err)
	}
	return total, nil
}
