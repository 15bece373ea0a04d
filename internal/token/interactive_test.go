package token

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlite"
	"github.com/tessera-id/tessera/internal/token/signing"
)

// clock is a settable time source shared by the services under test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness is a token service with the user grants over a real SQLite store
// in a temporary directory, a tenant with ROPC allowed, and one user.
type harness struct {
	t       *testing.T
	st      *sqlite.Store
	dir     *directory.Service
	svc     *Service
	ix      *Interactive
	signins *signin.Service
	clock   *clock
	tenant  domain.Tenant
	user    domain.User
}

const harnessPassword = "Harness-Pass-1"

func newHarness(t *testing.T, opts InteractiveOptions) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tessera.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{now: time.Now().UTC()}
	h := &harness{t: t, st: st, clock: c}
	h.tenant = domain.Tenant{ID: directory.NewID(), DisplayName: "Test", Domains: []string{"test.tessera.local"},
		CreatedAt: c.Now(), Settings: domain.TenantSettings{AllowROPC: true}}
	if err := st.CreateTenant(ctx, h.tenant); err != nil {
		t.Fatal(err)
	}
	h.dir = directory.NewService(st, c.Now)
	if err := h.dir.EnsureFirstParty(ctx, h.tenant.ID, "https://localhost:8443/graph/"); err != nil {
		t.Fatal(err)
	}
	// The user's password was set a minute before the harness clock, so
	// sessions that begin "now" are valid (directory.SessionValid).
	h.user = h.newUser("adele")
	km := signing.NewKeys(st, func(ctx context.Context, fn func(store.Keys) error) error {
		return st.InTx(ctx, func(tx store.Tx) error { return fn(tx) })
	}, signing.Options{})
	if err := km.Load(ctx); err != nil {
		t.Fatal(err)
	}
	h.signins = signin.New(h.dir, st, nil, signin.Options{Now: c.Now, LockoutThreshold: 3})
	h.ix = NewInteractive(st, h.signins, opts)
	h.svc = NewService(h.dir, km, st, nil, nil, Options{Now: c.Now},
		ClientCredentials{}, h.ix.Password(), h.ix.AuthorizationCode(), h.ix.RefreshToken(), h.ix.DeviceCode())
	return h
}

func (h *harness) newUser(name string) domain.User {
	h.t.Helper()
	hash, err := directory.HashPassword(harnessPassword)
	if err != nil {
		h.t.Fatal(err)
	}
	u := domain.User{ID: directory.NewID(), TenantID: h.tenant.ID, UserPrincipalName: name + "@test.tessera.local",
		DisplayName: name, MailNickname: name, AccountEnabled: true, PasswordHash: hash,
		PasswordChangedAt: h.clock.Now().Add(-time.Minute), CreatedAt: h.clock.Now()}
	if err := h.st.CreateUser(context.Background(), u); err != nil {
		h.t.Fatal(err)
	}
	return u
}

func (h *harness) req(grant string, form map[string]string) *Request {
	if form == nil {
		form = map[string]string{}
	}
	form["grant_type"] = grant
	r := &Request{Version: 2, Tenant: h.tenant, Segment: h.tenant.ID, BaseURL: "https://localhost:8443",
		EndpointURL: "https://localhost:8443/" + h.tenant.ID + "/oauth2/v2.0/token", GrantType: grant,
		ClientID: form["client_id"], Scope: form["scope"], Resource: form["resource"], ClientSecret: form["client_secret"],
		Form: form, ClientIP: "127.0.0.1"}
	if r.ClientID == "" {
		r.ClientID = directory.AppIDAzureCLI
		form["client_id"] = r.ClientID
	}
	if _, ok := form["scope"]; !ok {
		r.Scope = "https://management.azure.com/.default openid profile offline_access"
	}
	return r
}

func (h *harness) exchange(grant string, form map[string]string) (*Issued, error) {
	return h.svc.Exchange(context.Background(), h.req(grant, form))
}

// password signs the harness user in with ROPC and returns the response.
func (h *harness) password(clientID string) *Issued {
	h.t.Helper()
	is, err := h.exchange("password", map[string]string{"client_id": clientID, "username": h.user.UserPrincipalName, "password": harnessPassword})
	if err != nil {
		h.t.Fatalf("password grant: %v", err)
	}
	if is.RefreshToken == "" {
		h.t.Fatal("no refresh token")
	}
	return is
}

func (h *harness) refresh(clientID, rt string) (*Issued, error) {
	return h.exchange("refresh_token", map[string]string{"client_id": clientID, "refresh_token": rt})
}

func wantAADSTS(t *testing.T, err error, oauth string, code int) {
	t.Helper()
	te, ok := AsError(err)
	if !ok || te.Code != oauth || te.Number != code {
		t.Fatalf("err = %v, want %s AADSTS%d", err, oauth, code)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	h := newHarness(t, InteractiveOptions{})
	rt1 := h.password(directory.AppIDAzureCLI).RefreshToken
	is2, err := h.refresh(directory.AppIDAzureCLI, rt1)
	if err != nil {
		t.Fatal(err)
	}
	if is2.RefreshToken == "" || is2.RefreshToken == rt1 {
		t.Fatal("refresh did not rotate the token")
	}
	// The spent token again: reuse, and the whole family ends.
	_, err = h.refresh(directory.AppIDAzureCLI, rt1)
	wantAADSTS(t, err, ErrInvalidGrant, 70000)
	_, err = h.refresh(directory.AppIDAzureCLI, is2.RefreshToken)
	wantAADSTS(t, err, ErrInvalidGrant, 70000)
	// Another sign-in of the same user is unaffected.
	if _, err := h.refresh(directory.AppIDAzureCLI, h.password(directory.AppIDAzureCLI).RefreshToken); err != nil {
		t.Fatalf("a separate family was affected: %v", err)
	}
}

func TestConcurrentRefreshOneWinsFamilyRevoked(t *testing.T) {
	h := newHarness(t, InteractiveOptions{})
	rt := h.password(directory.AppIDAzureCLI).RefreshToken
	const n = 8
	var wg sync.WaitGroup
	results := make([]*Issued, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = h.refresh(directory.AppIDAzureCLI, rt) })
	}
	wg.Wait()
	wins := 0
	var winner string
	for i, err := range errs {
		if err == nil {
			wins++
			winner = results[i].RefreshToken
			continue
		}
		wantAADSTS(t, err, ErrInvalidGrant, 70000)
	}
	if wins != 1 {
		t.Fatalf("%d concurrent refreshes succeeded, want 1", wins)
	}
	// The losers were reuse: the winner's token is revoked with the family.
	_, err := h.refresh(directory.AppIDAzureCLI, winner)
	wantAADSTS(t, err, ErrInvalidGrant, 70000)
}

func TestRefreshLifetimes(t *testing.T) {
	t.Run("sliding", func(t *testing.T) {
		h := newHarness(t, InteractiveOptions{RefreshIdle: time.Hour, RefreshMax: 24 * time.Hour})
		rt := h.password(directory.AppIDAzureCLI).RefreshToken
		// Used within the idle time, it keeps going.
		for range 3 {
			h.clock.Advance(50 * time.Minute)
			is, err := h.refresh(directory.AppIDAzureCLI, rt)
			if err != nil {
				t.Fatalf("refresh within the idle time: %v", err)
			}
			rt = is.RefreshToken
		}
		h.clock.Advance(61 * time.Minute)
		_, err := h.refresh(directory.AppIDAzureCLI, rt)
		wantAADSTS(t, err, ErrInvalidGrant, 700082)
	})
	t.Run("absolute", func(t *testing.T) {
		h := newHarness(t, InteractiveOptions{RefreshIdle: time.Hour, RefreshMax: 3 * time.Hour})
		rt := h.password(directory.AppIDAzureCLI).RefreshToken
		var err error
		for i := 0; i < 10; i++ {
			h.clock.Advance(40 * time.Minute)
			var is *Issued
			if is, err = h.refresh(directory.AppIDAzureCLI, rt); err != nil {
				break
			}
			rt = is.RefreshToken
		}
		// 3 hours / 40 minutes: the fifth refresh is past the family's end.
		wantAADSTS(t, err, ErrInvalidGrant, 700082)
	})
}

func TestRefreshEndsWithPasswordResetAndDisable(t *testing.T) {
	h := newHarness(t, InteractiveOptions{})
	ctx := context.Background()
	rt := h.password(directory.AppIDAzureCLI).RefreshToken
	h.clock.Advance(time.Second)
	pw := "Another-Pass-2"
	if _, err := h.dir.UpdateUser(ctx, h.tenant.ID, h.user.ID, directory.UserPatch{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	_, err := h.refresh(directory.AppIDAzureCLI, rt)
	wantAADSTS(t, err, ErrInvalidGrant, 50173)

	u2 := h.newUser("bob")
	h.user = u2
	rt = h.password(directory.AppIDAzureCLI).RefreshToken
	off := false
	if _, err := h.dir.UpdateUser(ctx, h.tenant.ID, u2.ID, directory.UserPatch{AccountEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	_, err = h.refresh(directory.AppIDAzureCLI, rt)
	wantAADSTS(t, err, ErrInvalidGrant, 50173)
}

func TestFOCIFamilyRefresh(t *testing.T) {
	h := newHarness(t, InteractiveOptions{})
	ctx := context.Background()
	cli := h.password(directory.AppIDAzureCLI)
	if cli.FOCI != "1" {
		t.Fatalf("foci = %q for the Azure CLI", cli.FOCI)
	}
	// Azure PowerShell redeems the CLI's token.
	ps, err := h.refresh(directory.AppIDAzurePowerShell, cli.RefreshToken)
	if err != nil {
		t.Fatalf("family refresh: %v", err)
	}
	if ps.FOCI != "1" {
		t.Fatal("family refresh response lacks foci")
	}
	// A registered public client is not in the family.
	app, err := h.dir.CreateApplication(ctx, h.tenant.ID, directory.ApplicationInput{DisplayName: "native",
		PublicRedirectURIs: []string{"http://localhost"}, IsFallbackPublicClient: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.dir.CreateServicePrincipal(ctx, h.tenant.ID, app.AppID, true); err != nil {
		t.Fatal(err)
	}
	_, err = h.refresh(app.AppID, ps.RefreshToken)
	wantAADSTS(t, err, ErrInvalidGrant, 70000)
	own := h.password(app.AppID)
	if own.FOCI != "" {
		t.Fatal("a registered app got foci")
	}
	_, err = h.refresh(directory.AppIDAzureCLI, own.RefreshToken)
	wantAADSTS(t, err, ErrInvalidGrant, 70000)
	if _, err := h.refresh(app.AppID, own.RefreshToken); err != nil {
		t.Fatalf("own refresh: %v", err)
	}
}

func TestPasswordGrant(t *testing.T) {
	h := newHarness(t, InteractiveOptions{})
	ctx := context.Background()
	form := func(user, pw string) map[string]string {
		return map[string]string{"username": user, "password": pw}
	}
	t.Run("wrong password and unknown user look alike", func(t *testing.T) {
		_, e1 := h.exchange("password", form(h.user.UserPrincipalName, "wrong"))
		_, e2 := h.exchange("password", form("nobody@test.tessera.local", "wrong"))
		wantAADSTS(t, e1, ErrInvalidGrant, 50126)
		wantAADSTS(t, e2, ErrInvalidGrant, 50126)
		t1, _ := AsError(e1)
		t2, _ := AsError(e2)
		if t1.Message != t2.Message {
			t.Fatalf("descriptions differ: %q vs %q", t1.Message, t2.Message)
		}
	})
	t.Run("smart lockout", func(t *testing.T) {
		u := h.newUser("locky")
		var err error
		for range 3 {
			_, err = h.exchange("password", form(u.UserPrincipalName, "wrong"))
		}
		wantAADSTS(t, err, ErrInvalidGrant, 50053)
		// Locked: even the right password is refused until the lock ends.
		_, err = h.exchange("password", form(u.UserPrincipalName, harnessPassword))
		wantAADSTS(t, err, ErrInvalidGrant, 50053)
		h.clock.Advance(61 * time.Second)
		if _, err := h.exchange("password", form(u.UserPrincipalName, harnessPassword)); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
		// Unknown names lock out the same way.
		for range 3 {
			_, err = h.exchange("password", form("ghost@test.tessera.local", "wrong"))
		}
		wantAADSTS(t, err, ErrInvalidGrant, 50053)
	})
	t.Run("disabled by tenant setting", func(t *testing.T) {
		tn, _ := h.st.GetTenant(ctx, h.tenant.ID)
		tn.Settings.AllowROPC = false
		if err := h.st.UpdateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		defer func() {
			tn.Settings.AllowROPC = true
			_ = h.st.UpdateTenant(ctx, tn)
		}()
		_, err := h.exchange("password", form(h.user.UserPrincipalName, harnessPassword))
		wantAADSTS(t, err, ErrUnauthorizedClient, 7000218)
	})
	t.Run("refused when MFA is required", func(t *testing.T) {
		u := h.newUser("mfauser")
		if _, err := h.signins.EnrollTOTP(ctx, h.tenant, u); err != nil {
			t.Fatal(err)
		}
		if err := h.st.ConfirmTOTPMethod(ctx, h.tenant.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		_, err := h.exchange("password", form(u.UserPrincipalName, harnessPassword))
		wantAADSTS(t, err, ErrInvalidGrant, 50076)
	})
	t.Run("refused when Conditional Access blocks", func(t *testing.T) {
		u := h.newUser("blocked")
		p, err := h.signins.CreatePolicy(ctx, h.tenant.ID, signin.Policy{DisplayName: "Block ARM", State: signin.StateEnabled,
			Conditions: signin.Conditions{Users: &signin.UserCondition{IncludeUsers: []string{u.ID}},
				Applications:   &signin.ApplicationCondition{IncludeApplications: []string{directory.AppIDResourceManager}},
				ClientAppTypes: []string{"all"}},
			GrantControls: &signin.GrantControls{Operator: "OR", BuiltInControls: []string{"block"}}})
		if err != nil {
			t.Fatal(err)
		}
		defer h.signins.DeletePolicy(ctx, h.tenant.ID, p.ID)
		_, err = h.exchange("password", form(u.UserPrincipalName, harnessPassword))
		wantAADSTS(t, err, ErrInvalidGrant, 53003)
		// Another resource is not targeted.
		f := form(u.UserPrincipalName, harnessPassword)
		f["scope"] = "https://ml.azure.com/.default offline_access"
		if _, err := h.exchange("password", f); err != nil {
			t.Fatalf("untargeted resource: %v", err)
		}
	})
}

func TestDeviceCodeGrant(t *testing.T) {
	h := newHarness(t, InteractiveOptions{DeviceCodeInterval: 5, DeviceCodeLifetime: 15 * time.Minute})
	ctx := context.Background()
	start := func() *DeviceAuthorization {
		t.Helper()
		da, err := h.ix.StartDeviceAuthorization(ctx, h.svc, h.req("", map[string]string{"client_id": directory.AppIDAzureCLI}), "https://localhost:8443/devicelogin")
		if err != nil {
			t.Fatal(err)
		}
		return da
	}
	poll := func(grant string, da *DeviceAuthorization) (*Issued, error) {
		return h.exchange(grant, map[string]string{"device_code": da.DeviceCode})
	}
	t.Run("approve", func(t *testing.T) {
		for _, grant := range []string{GrantDeviceCodeURN, GrantDeviceCodeBare} {
			da := start()
			_, err := poll(grant, da)
			wantAADSTS(t, err, ErrAuthorizationPending, 70016)
			_, err = poll(grant, da) // at once: too fast
			wantAADSTS(t, err, ErrSlowDown, 70016)
			h.clock.Advance(5 * time.Second)
			_, err = poll(grant, da)
			wantAADSTS(t, err, ErrAuthorizationPending, 70016)
			pd, err := h.ix.LookupUserCode(ctx, h.svc, da.UserCode)
			if err != nil {
				t.Fatal(err)
			}
			if pd.ResourceAppID != directory.AppIDResourceManager {
				t.Fatalf("resource %s", pd.ResourceAppID)
			}
			if err := h.ix.DecideUserCode(ctx, da.UserCode, true, h.user, h.clock.Now(), []string{"pwd"}); err != nil {
				t.Fatal(err)
			}
			is, err := poll(grant, da)
			if err != nil {
				t.Fatalf("poll after approval: %v", err)
			}
			if is.RefreshToken == "" || is.IDToken == "" || is.FOCI != "1" {
				t.Fatalf("incomplete response %+v", is)
			}
			_, err = poll(grant, da)
			wantAADSTS(t, err, ErrInvalidGrant, 54005)
		}
	})
	t.Run("decline", func(t *testing.T) {
		da := start()
		if err := h.ix.DecideUserCode(ctx, da.UserCode, false, h.user, h.clock.Now(), []string{"pwd"}); err != nil {
			t.Fatal(err)
		}
		_, err := poll(GrantDeviceCodeURN, da)
		wantAADSTS(t, err, ErrAuthorizationDeclined, 65004)
		if err := h.ix.DecideUserCode(ctx, da.UserCode, true, h.user, h.clock.Now(), nil); err != ErrUnknownUserCode {
			t.Fatalf("deciding twice: %v", err)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		da := start()
		h.clock.Advance(16 * time.Minute)
		_, err := poll(GrantDeviceCodeURN, da)
		wantAADSTS(t, err, ErrExpiredToken, 70019)
		if _, err := h.ix.LookupUserCode(ctx, h.svc, da.UserCode); err != ErrUnknownUserCode {
			t.Fatalf("expired code looked up: %v", err)
		}
	})
	t.Run("other client and unknown code", func(t *testing.T) {
		da := start()
		_, err := h.exchange(GrantDeviceCodeURN, map[string]string{"device_code": da.DeviceCode, "client_id": directory.AppIDAzurePowerShell})
		wantAADSTS(t, err, ErrInvalidGrant, 70000)
		_, err = h.exchange(GrantDeviceCodeURN, map[string]string{"device_code": "nope"})
		wantAADSTS(t, err, ErrInvalidGrant, 70000)
	})
	t.Run("user codes", func(t *testing.T) {
		da := start()
		if len(da.UserCode) != 9 || da.UserCode[4] != '-' {
			t.Fatalf("user code %q, want XXXX-XXXX", da.UserCode)
		}
		lower := NormalizeUserCode(" " + da.UserCode[:4] + " " + da.UserCode[5:] + " ")
		if _, err := h.ix.LookupUserCode(ctx, h.svc, lower); err != nil {
			t.Fatalf("normalised lookup: %v", err)
		}
	})
}
