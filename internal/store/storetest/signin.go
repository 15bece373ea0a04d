package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// testSignIn covers store.SignIn: round trips, the one-time semantics of
// codes, refresh tokens and device codes, and that each holds under
// concurrent use (exactly one of several simultaneous redemptions wins).
func testSignIn(t *testing.T, s store.Store) {
	t.Run("AuthCodes", func(t *testing.T) { testAuthCodes(t, s) })
	t.Run("RefreshTokens", func(t *testing.T) { testRefreshTokens(t, s) })
	t.Run("DeviceCodes", func(t *testing.T) { testDeviceCodes(t, s) })
	t.Run("BrowserSessions", func(t *testing.T) { testBrowserSessions(t, s) })
	t.Run("SignInThrottles", func(t *testing.T) { testSignInThrottles(t, s) })
	t.Run("TOTPMethods", func(t *testing.T) { testTOTPMethods(t, s) })
	t.Run("ConditionalAccess", func(t *testing.T) { testConditionalAccess(t, s) })
	t.Run("PurgeExpired", func(t *testing.T) { testPurgeSignIn(t, s) })
}

// exactlyOne fails unless exactly one error is nil and every other one
// errors.Is want.
func exactlyOne(t *testing.T, errs []error, want error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, want):
			t.Fatalf("unexpected error %v, want nil or %v", err, want)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent attempts succeeded, want exactly 1", wins, len(errs))
	}
}

// now is a fixed "current time" with sub-millisecond digits, in UTC+2.
func now() time.Time { return at(10 * time.Minute) }

func fullAuthCode(tenantID string) domain.AuthCode {
	return domain.AuthCode{
		Hash: "code-" + newID(), TenantID: tenantID, ClientID: newID(), UserID: newID(),
		RedirectURI: "http://localhost:53124/", SPA: true, Version: 2,
		Scope: "https://management.azure.com/.default openid profile offline_access", Resource: "https://management.azure.com/",
		Nonce: "n-" + word(), CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: "S256",
		SessionID: "sess-" + word(), AuthTime: at(-time.Minute), AMR: []string{"pwd", "mfa"}, FamilyID: newID(),
		CreatedAt: at(0), ExpiresAt: at(10 * time.Minute),
	}
}

func testAuthCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID := newID()

	t.Run("round trip", func(t *testing.T) {
		c := fullAuthCode(tenantID)
		ok(t, s.CreateAuthCode(ctx, c))
		got, err := s.GetAuthCode(ctx, c.Hash)
		ok(t, err)
		equal(t, c, got)
		isErr(t, s.CreateAuthCode(ctx, c), store.ErrConflict)
		isErr(t, discard(s.GetAuthCode(ctx, "code-missing")), store.ErrNotFound)
	})

	t.Run("redeemed once", func(t *testing.T) {
		c := fullAuthCode(tenantID)
		ok(t, s.CreateAuthCode(ctx, c))
		got, err := s.RedeemAuthCode(ctx, c.Hash, now())
		ok(t, err)
		c.RedeemedAt = now()
		equal(t, c, got)
		again, err := s.RedeemAuthCode(ctx, c.Hash, now().Add(time.Second))
		isErr(t, err, store.ErrConflict)
		// The replay gets the record, with the first redemption's time, so
		// the caller can revoke what that redemption issued.
		equal(t, c, again)
		isErr(t, discard(s.RedeemAuthCode(ctx, "code-missing", now())), store.ErrNotFound)
	})

	t.Run("concurrent redemptions", func(t *testing.T) {
		c := fullAuthCode(tenantID)
		ok(t, s.CreateAuthCode(ctx, c))
		exactlyOne(t, together(8, func(int) error {
			_, err := s.RedeemAuthCode(ctx, c.Hash, now())
			return err
		}), store.ErrConflict)
	})
}

func newFamily(tenantID, userID string) (domain.RefreshFamily, domain.RefreshToken) {
	f := domain.RefreshFamily{
		ID: newID(), TenantID: tenantID, UserID: userID, ClientID: newID(), FOCI: true, SPA: true,
		AuthTime: at(-time.Minute), AMR: []string{"pwd"}, SID: "sid-" + word(), CreatedAt: at(0), ExpiresAt: at(90 * 24 * time.Hour),
	}
	return f, newRefreshToken(f.ClientID)
}

func newRefreshToken(clientID string) domain.RefreshToken {
	return domain.RefreshToken{Hash: "rt-" + newID(), ClientID: clientID, IssuedAt: at(0), ExpiresAt: at(14 * 24 * time.Hour)}
}

func testRefreshTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID, userID := newID(), newID()

	t.Run("round trip", func(t *testing.T) {
		f, first := newFamily(tenantID, userID)
		ok(t, s.CreateRefreshFamily(ctx, f, first))
		gotT, gotF, err := s.GetRefreshToken(ctx, first.Hash)
		ok(t, err)
		first.FamilyID = f.ID
		equal(t, first, gotT)
		equal(t, f, gotF)
		isErr(t, s.CreateRefreshFamily(ctx, f, newRefreshToken(f.ClientID)), store.ErrConflict)
		isErr(t, errOf3(s.GetRefreshToken(ctx, "rt-missing")), store.ErrNotFound)
	})

	t.Run("a family without a browser session", func(t *testing.T) {
		f, first := newFamily(tenantID, userID)
		f.SID = ""
		ok(t, s.CreateRefreshFamily(ctx, f, first))
		_, gotF, err := s.GetRefreshToken(ctx, first.Hash)
		ok(t, err)
		equal(t, f, gotF)
	})

	t.Run("rotation and reuse", func(t *testing.T) {
		f, first := newFamily(tenantID, userID)
		ok(t, s.CreateRefreshFamily(ctx, f, first))
		second := newRefreshToken("foci-" + word())
		ok(t, s.RotateRefreshToken(ctx, first.Hash, second, now()))
		old, _, err := s.GetRefreshToken(ctx, first.Hash)
		ok(t, err)
		if !near(old.UsedAt, now()) {
			t.Fatalf("rotated token UsedAt = %v, want %v", old.UsedAt, now())
		}
		gotT, gotF, err := s.GetRefreshToken(ctx, second.Hash)
		ok(t, err)
		second.FamilyID = f.ID // the new token joins the old one's family
		equal(t, second, gotT)
		equal(t, f, gotF)

		// Reuse of the rotated token fails and writes nothing.
		third := newRefreshToken(f.ClientID)
		isErr(t, s.RotateRefreshToken(ctx, first.Hash, third, now()), store.ErrConflict)
		isErr(t, errOf3(s.GetRefreshToken(ctx, third.Hash)), store.ErrNotFound)
		isErr(t, s.RotateRefreshToken(ctx, "rt-missing", third, now()), store.ErrNotFound)
	})

	t.Run("revocation", func(t *testing.T) {
		f, first := newFamily(tenantID, userID)
		ok(t, s.CreateRefreshFamily(ctx, f, first))
		ok(t, s.RevokeRefreshFamily(ctx, f.ID, tenantID, now(), "reuse"))
		ok(t, s.RevokeRefreshFamily(ctx, f.ID, tenantID, now().Add(time.Hour), "later"))
		_, gotF, err := s.GetRefreshToken(ctx, first.Hash)
		ok(t, err)
		if !near(gotF.RevokedAt, now()) || gotF.RevokedReason != "reuse" {
			t.Fatalf("family revoked at %v for %q, want the first revocation (%v, reuse)", gotF.RevokedAt, gotF.RevokedReason, now())
		}
		next := newRefreshToken(f.ClientID)
		isErr(t, s.RotateRefreshToken(ctx, first.Hash, next, now()), store.ErrPrecondition)
		isErr(t, errOf3(s.GetRefreshToken(ctx, next.Hash)), store.ErrNotFound)
	})

	t.Run("tombstone refuses a later family", func(t *testing.T) {
		f, first := newFamily(tenantID, userID)
		ok(t, s.RevokeRefreshFamily(ctx, f.ID, tenantID, now(), "code replayed"))
		isErr(t, s.CreateRefreshFamily(ctx, f, first), store.ErrConflict)
		isErr(t, errOf3(s.GetRefreshToken(ctx, first.Hash)), store.ErrNotFound)
	})

	t.Run("revoke a user's families", func(t *testing.T) {
		user := newID()
		var firsts []domain.RefreshToken
		for range 3 {
			f, first := newFamily(tenantID, user)
			ok(t, s.CreateRefreshFamily(ctx, f, first))
			firsts = append(firsts, first)
		}
		other, otherFirst := newFamily(tenantID, newID())
		ok(t, s.CreateRefreshFamily(ctx, other, otherFirst))
		n, err := s.RevokeUserRefreshFamilies(ctx, tenantID, user, now(), "password reset")
		ok(t, err)
		if n != 3 {
			t.Fatalf("revoked %d families, want 3", n)
		}
		for _, first := range firsts {
			_, f, err := s.GetRefreshToken(ctx, first.Hash)
			ok(t, err)
			if f.RevokedAt.IsZero() || f.RevokedReason != "password reset" {
				t.Fatalf("family %s not revoked: %+v", f.ID, f)
			}
		}
		_, f, err := s.GetRefreshToken(ctx, otherFirst.Hash)
		ok(t, err)
		if !f.RevokedAt.IsZero() {
			t.Fatal("another user's family was revoked")
		}
	})

	t.Run("concurrent rotations of one token", func(t *testing.T) {
		f, first := newFamily(tenantID, userID)
		ok(t, s.CreateRefreshFamily(ctx, f, first))
		nexts := make([]domain.RefreshToken, 8)
		for i := range nexts {
			nexts[i] = newRefreshToken(f.ClientID)
		}
		errs := together(len(nexts), func(i int) error { return s.RotateRefreshToken(ctx, first.Hash, nexts[i], now()) })
		exactlyOne(t, errs, store.ErrConflict)
		for i, err := range errs {
			_, _, gerr := s.GetRefreshToken(ctx, nexts[i].Hash)
			if (err == nil) != (gerr == nil) {
				t.Fatalf("rotation %d: err %v but its new token lookup: %v", i, err, gerr)
			}
		}
	})

	t.Run("rotation racing revocation", func(t *testing.T) {
		for range 10 {
			f, first := newFamily(tenantID, userID)
			ok(t, s.CreateRefreshFamily(ctx, f, first))
			next := newRefreshToken(f.ClientID)
			var rotErr, revErr error
			together(2, func(i int) error {
				if i == 0 {
					rotErr = s.RotateRefreshToken(ctx, first.Hash, next, now())
				} else {
					revErr = s.RevokeRefreshFamily(ctx, f.ID, tenantID, now(), "reuse")
				}
				return nil
			})
			ok(t, revErr)
			if rotErr != nil && !errors.Is(rotErr, store.ErrPrecondition) {
				t.Fatalf("rotation: %v, want nil or ErrPrecondition", rotErr)
			}
			// Whichever came first, no live token of the family remains.
			if rotErr == nil {
				_, nf, err := s.GetRefreshToken(ctx, next.Hash)
				ok(t, err)
				if nf.RevokedAt.IsZero() {
					t.Fatal("a token rotated concurrently with the revocation is live")
				}
			}
		}
	})
}

// near reports whether got is want at the store's precision (a millisecond).
func near(got, want time.Time) bool { return got.Sub(want).Abs() < time.Millisecond }

// errOf3 keeps the error of a three-result call.
func errOf3[A, B any](_ A, _ B, err error) error { return err }

func fullDeviceCode(tenantID string) domain.DeviceCode {
	return domain.DeviceCode{
		Hash: "dc-" + newID(), UserCode: "UC" + word(), TenantID: tenantID, ClientID: newID(), Version: 2,
		Scope: "https://management.azure.com/.default offline_access", Resource: "https://management.azure.com/",
		Interval: 5, CreatedAt: at(0), ExpiresAt: at(15 * time.Minute), Status: domain.DeviceCodePending, FamilyID: newID(),
	}
}

func testDeviceCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID := newID()

	t.Run("round trip", func(t *testing.T) {
		d := fullDeviceCode(tenantID)
		ok(t, s.CreateDeviceCode(ctx, d))
		got, err := s.GetDeviceCodeByUserCode(ctx, d.UserCode)
		ok(t, err)
		equal(t, d, got)
		dup := fullDeviceCode(tenantID)
		dup.UserCode = d.UserCode
		isErr(t, s.CreateDeviceCode(ctx, dup), store.ErrConflict)
		isErr(t, discard(s.GetDeviceCodeByUserCode(ctx, "missing")), store.ErrNotFound)
		isErr(t, discard(s.PollDeviceCode(ctx, "dc-missing", now())), store.ErrNotFound)
	})

	t.Run("approve then poll", func(t *testing.T) {
		d := fullDeviceCode(tenantID)
		ok(t, s.CreateDeviceCode(ctx, d))
		p1, err := s.PollDeviceCode(ctx, d.Hash, now())
		ok(t, err)
		if p1.Status != domain.DeviceCodePending || !p1.LastPolledAt.IsZero() {
			t.Fatalf("first poll saw %s, last polled %v; want pending, never", p1.Status, p1.LastPolledAt)
		}
		p2, err := s.PollDeviceCode(ctx, d.Hash, now().Add(5*time.Second))
		ok(t, err)
		if !near(p2.LastPolledAt, now()) {
			t.Fatalf("second poll saw last poll %v, want %v", p2.LastPolledAt, now())
		}
		user := newID()
		ok(t, s.DecideDeviceCode(ctx, d.UserCode, true, user, at(time.Minute), []string{"pwd", "mfa"}, now()))
		isErr(t, s.DecideDeviceCode(ctx, d.UserCode, false, user, at(time.Minute), nil, now()), store.ErrPrecondition)
		won, err := s.PollDeviceCode(ctx, d.Hash, now().Add(10*time.Second))
		ok(t, err)
		want := d
		want.Status, want.UserID, want.AuthTime, want.AMR = domain.DeviceCodeApproved, user, at(time.Minute), []string{"pwd", "mfa"}
		want.LastPolledAt = now().Add(5 * time.Second)
		equal(t, want, won)
		after, err := s.PollDeviceCode(ctx, d.Hash, now().Add(15*time.Second))
		ok(t, err)
		if after.Status != domain.DeviceCodeRedeemed {
			t.Fatalf("poll after redemption saw %s, want redeemed", after.Status)
		}
	})

	t.Run("decline, expiry, unknown", func(t *testing.T) {
		d := fullDeviceCode(tenantID)
		ok(t, s.CreateDeviceCode(ctx, d))
		ok(t, s.DecideDeviceCode(ctx, d.UserCode, false, newID(), now(), []string{"pwd"}, now()))
		p, err := s.PollDeviceCode(ctx, d.Hash, now())
		ok(t, err)
		if p.Status != domain.DeviceCodeDeclined {
			t.Fatalf("status %s, want declined", p.Status)
		}
		expired := fullDeviceCode(tenantID)
		ok(t, s.CreateDeviceCode(ctx, expired))
		isErr(t, s.DecideDeviceCode(ctx, expired.UserCode, true, newID(), now(), nil, expired.ExpiresAt.Add(time.Second)), store.ErrPrecondition)
		isErr(t, s.DecideDeviceCode(ctx, "missing", true, newID(), now(), nil, now()), store.ErrNotFound)
	})

	t.Run("concurrent polls after approval", func(t *testing.T) {
		d := fullDeviceCode(tenantID)
		ok(t, s.CreateDeviceCode(ctx, d))
		ok(t, s.DecideDeviceCode(ctx, d.UserCode, true, newID(), now(), []string{"pwd"}, now()))
		var mu sync.Mutex
		approved := 0
		for _, err := range together(8, func(int) error {
			p, err := s.PollDeviceCode(ctx, d.Hash, now())
			if err == nil && p.Status == domain.DeviceCodeApproved {
				mu.Lock()
				approved++
				mu.Unlock()
			}
			return err
		}) {
			ok(t, err)
		}
		if approved != 1 {
			t.Fatalf("%d polls saw the code approved, want exactly 1", approved)
		}
	})
}

func testBrowserSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID, userID := newID(), newID()
	b := domain.BrowserSession{Hash: "s-" + newID(), TenantID: tenantID, UserID: userID, AuthTime: at(0), AMR: []string{"pwd"},
		CreatedAt: at(0), ExpiresAt: at(24 * time.Hour), LastSeenAt: at(0)}
	ok(t, s.CreateBrowserSession(ctx, b))
	isErr(t, s.CreateBrowserSession(ctx, b), store.ErrConflict)
	got, err := s.GetBrowserSession(ctx, b.Hash)
	ok(t, err)
	equal(t, b, got)

	b.AMR, b.AuthTime, b.ExpiresAt, b.LastSeenAt = []string{"pwd", "mfa"}, at(time.Minute), at(48*time.Hour), at(time.Minute)
	// The clients it signed in to, for front-channel logout.
	b.ClientIDs = []string{newID(), newID()}
	ok(t, s.UpdateBrowserSession(ctx, b))
	got, err = s.GetBrowserSession(ctx, b.Hash)
	ok(t, err)
	equal(t, b, got)

	other := b
	other.Hash = "s-" + newID()
	ok(t, s.CreateBrowserSession(ctx, other))
	ok(t, s.DeleteBrowserSession(ctx, b.Hash))
	isErr(t, discard(s.GetBrowserSession(ctx, b.Hash)), store.ErrNotFound)
	isErr(t, s.DeleteBrowserSession(ctx, b.Hash), store.ErrNotFound)
	isErr(t, s.UpdateBrowserSession(ctx, b), store.ErrNotFound)
	n, err := s.DeleteUserBrowserSessions(ctx, tenantID, userID)
	ok(t, err)
	if n != 1 {
		t.Fatalf("deleted %d sessions, want 1", n)
	}
	isErr(t, discard(s.GetBrowserSession(ctx, other.Hash)), store.ErrNotFound)
}

func testSignInThrottles(t *testing.T, s store.Store) {
	ctx := t.Context()
	key := "t:" + word() + "@contoso.example.com"
	const window = 10 * time.Minute
	isErr(t, discard(s.GetSignInThrottle(ctx, key)), store.ErrNotFound)

	var last domain.SignInThrottle
	for i := range 3 {
		var err error
		last, err = s.RecordSignInFailure(ctx, key, now().Add(time.Duration(i)*time.Second), window)
		ok(t, err)
	}
	equal(t, domain.SignInThrottle{Key: key, Failures: 3, WindowStart: now()}, last)

	// A failure after the window starts a new count.
	later := now().Add(window + time.Minute)
	got, err := s.RecordSignInFailure(ctx, key, later, window)
	ok(t, err)
	equal(t, domain.SignInThrottle{Key: key, Failures: 1, WindowStart: later}, got)

	ok(t, s.LockSignIn(ctx, key, later.Add(time.Minute)))
	got, err = s.GetSignInThrottle(ctx, key)
	ok(t, err)
	equal(t, domain.SignInThrottle{Key: key, LockedUntil: later.Add(time.Minute), Lockouts: 1}, got)

	_, err = s.RecordSignInFailure(ctx, key, later, window)
	ok(t, err)
	ok(t, s.ClearSignInFailures(ctx, key))
	got, err = s.GetSignInThrottle(ctx, key)
	ok(t, err)
	equal(t, domain.SignInThrottle{Key: key, LockedUntil: later.Add(time.Minute), Lockouts: 1}, got)

	t.Run("concurrent failures all count", func(t *testing.T) {
		k := "t:" + word()
		for _, err := range together(12, func(int) error {
			_, err := s.RecordSignInFailure(ctx, k, now(), window)
			return err
		}) {
			ok(t, err)
		}
		got, err := s.GetSignInThrottle(ctx, k)
		ok(t, err)
		if got.Failures != 12 {
			t.Fatalf("failures = %d after 12 concurrent failures", got.Failures)
		}
	})
}

func testTOTPMethods(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID, userID := newID(), newID()
	m := domain.TOTPMethod{TenantID: tenantID, UserID: userID, Secret: []byte{1, 2, 3, 0, 255}, CreatedAt: at(0)}
	ok(t, s.PutTOTPMethod(ctx, m))
	got, err := s.GetTOTPMethod(ctx, tenantID, userID)
	ok(t, err)
	equal(t, m, got)

	// An unconfirmed registration is replaced by a new enrollment.
	m.Secret, m.CreatedAt = []byte("another secret"), at(time.Minute)
	ok(t, s.PutTOTPMethod(ctx, m))
	ok(t, s.ConfirmTOTPMethod(ctx, tenantID, userID))
	got, err = s.GetTOTPMethod(ctx, tenantID, userID)
	ok(t, err)
	m.Confirmed = true
	equal(t, m, got)
	isErr(t, s.PutTOTPMethod(ctx, m), store.ErrConflict)

	ok(t, s.UseTOTPStep(ctx, tenantID, userID, 100))
	isErr(t, s.UseTOTPStep(ctx, tenantID, userID, 100), store.ErrConflict)
	isErr(t, s.UseTOTPStep(ctx, tenantID, userID, 99), store.ErrConflict)
	ok(t, s.UseTOTPStep(ctx, tenantID, userID, 101))
	exactlyOne(t, together(8, func(int) error { return s.UseTOTPStep(ctx, tenantID, userID, 102) }), store.ErrConflict)

	isErr(t, s.UseTOTPStep(ctx, tenantID, newID(), 1), store.ErrNotFound)
	isErr(t, s.ConfirmTOTPMethod(ctx, tenantID, newID()), store.ErrNotFound)
	ok(t, s.DeleteTOTPMethod(ctx, tenantID, userID))
	isErr(t, discard(s.GetTOTPMethod(ctx, tenantID, userID)), store.ErrNotFound)
	isErr(t, s.DeleteTOTPMethod(ctx, tenantID, userID), store.ErrNotFound)
}

func testConditionalAccess(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID := newID()
	p1 := domain.ConditionalAccessObject{TenantID: tenantID, Kind: domain.CAKindPolicy, ID: newID(),
		Doc: []byte(`{"displayName":"Block legacy","state":"enabled"}`), CreatedAt: at(0), ModifiedAt: at(0)}
	p2 := domain.ConditionalAccessObject{TenantID: tenantID, Kind: domain.CAKindPolicy, ID: newID(),
		Doc: []byte(`{"displayName":"MFA for ARM"}`), CreatedAt: at(time.Minute), ModifiedAt: at(time.Minute)}
	loc := domain.ConditionalAccessObject{TenantID: tenantID, Kind: domain.CAKindNamedLocation, ID: newID(),
		Doc: []byte(`{"ipRanges":[]}`), CreatedAt: at(0), ModifiedAt: at(0)}
	for _, o := range []domain.ConditionalAccessObject{p1, p2, loc} {
		ok(t, s.PutCAObject(ctx, o))
	}
	got, err := s.GetCAObject(ctx, tenantID, domain.CAKindPolicy, p1.ID)
	ok(t, err)
	equal(t, p1, got)
	list, err := s.ListCAObjects(ctx, tenantID, domain.CAKindPolicy)
	ok(t, err)
	equal(t, []domain.ConditionalAccessObject{p1, p2}, list)

	// A replace keeps the creation time.
	repl := p1
	repl.Doc, repl.CreatedAt, repl.ModifiedAt = []byte(`{"state":"disabled"}`), at(time.Hour), at(time.Hour)
	ok(t, s.PutCAObject(ctx, repl))
	got, err = s.GetCAObject(ctx, tenantID, domain.CAKindPolicy, p1.ID)
	ok(t, err)
	repl.CreatedAt = p1.CreatedAt
	equal(t, repl, got)

	ok(t, s.DeleteCAObject(ctx, tenantID, domain.CAKindPolicy, p1.ID))
	isErr(t, s.DeleteCAObject(ctx, tenantID, domain.CAKindPolicy, p1.ID), store.ErrNotFound)
	isErr(t, discard(s.GetCAObject(ctx, tenantID, domain.CAKindNamedLocation, p2.ID)), store.ErrNotFound)
	list, err = s.ListCAObjects(ctx, newID(), domain.CAKindPolicy)
	ok(t, err)
	if len(list) != 0 {
		t.Fatalf("another tenant lists %d policies", len(list))
	}
}

func testPurgeSignIn(t *testing.T, s store.Store) {
	ctx := context.Background()
	tenantID := newID()
	clock := at(365 * 24 * time.Hour)

	oldCode, liveCode := fullAuthCode(tenantID), fullAuthCode(tenantID)
	oldCode.ExpiresAt, liveCode.ExpiresAt = clock.Add(-48*time.Hour), clock.Add(time.Minute)
	ok(t, s.CreateAuthCode(ctx, oldCode))
	ok(t, s.CreateAuthCode(ctx, liveCode))

	oldFam, oldRT := newFamily(tenantID, newID())
	oldFam.ExpiresAt = clock.Add(-time.Hour)
	ok(t, s.CreateRefreshFamily(ctx, oldFam, oldRT))
	liveFam, liveRT := newFamily(tenantID, newID())
	liveFam.ExpiresAt, liveRT.ExpiresAt = clock.Add(time.Hour), clock.Add(time.Hour)
	ok(t, s.CreateRefreshFamily(ctx, liveFam, liveRT))

	oldDC := fullDeviceCode(tenantID)
	oldDC.ExpiresAt = clock.Add(-2 * time.Hour)
	ok(t, s.CreateDeviceCode(ctx, oldDC))

	oldSess := domain.BrowserSession{Hash: "s-" + newID(), TenantID: tenantID, UserID: newID(), AMR: []string{"pwd"}, ExpiresAt: clock.Add(-time.Second)}
	ok(t, s.CreateBrowserSession(ctx, oldSess))

	n, err := s.PurgeExpiredSignIn(ctx, clock)
	ok(t, err)
	if n < 4 {
		t.Fatalf("purged %d records, want at least 4", n)
	}
	isErr(t, discard(s.GetAuthCode(ctx, oldCode.Hash)), store.ErrNotFound)
	ok(t, discard(s.GetAuthCode(ctx, liveCode.Hash)))
	isErr(t, errOf3(s.GetRefreshToken(ctx, oldRT.Hash)), store.ErrNotFound)
	ok(t, errOf3(s.GetRefreshToken(ctx, liveRT.Hash)))
	isErr(t, discard(s.GetDeviceCodeByUserCode(ctx, oldDC.UserCode)), store.ErrNotFound)
	isErr(t, discard(s.GetBrowserSession(ctx, oldSess.Hash)), store.ErrNotFound)
}
