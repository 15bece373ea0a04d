package signin

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlite"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type fixture struct {
	st     *sqlite.Store
	dir    *directory.Service
	svc    *Service
	clock  *clock
	tenant domain.Tenant
}

// cheapHash is a real argon2id hash of "pw" computed once: hashing costs
// seconds on a loaded machine, and these tests need many users.
var (
	hashOnce  sync.Once
	cheapHash string
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tessera.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f := &fixture{st: st, clock: c, tenant: domain.Tenant{ID: directory.NewID(), Domains: []string{"t.example"}}}
	if err := st.CreateTenant(context.Background(), f.tenant); err != nil {
		t.Fatal(err)
	}
	f.dir = directory.NewService(st, c.Now)
	f.svc = New(f.dir, st, nil, Options{Now: c.Now, LockoutThreshold: 3, LockoutDuration: time.Minute, MaxLockoutDuration: 4 * time.Minute})
	hashOnce.Do(func() { cheapHash, _ = directory.HashPassword("pw") })
	return f
}

func (f *fixture) user(t *testing.T, name string) domain.User {
	t.Helper()
	u := domain.User{ID: directory.NewID(), TenantID: f.tenant.ID, UserPrincipalName: name + "@t.example", DisplayName: name,
		MailNickname: name, AccountEnabled: true, PasswordHash: cheapHash, PasswordChangedAt: f.clock.Now().Add(-time.Hour)}
	if err := f.st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestTOTPCode checks RFC 6238 Appendix B's SHA-1 vectors (8 digits there;
// the last six are what a 6-digit authenticator shows).
func TestTOTPCode(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		want string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"}, {2000000000, "69279037"}} {
		if got := TOTPCode(secret, time.Unix(v.unix, 0)); got != v.want[2:] {
			t.Errorf("TOTP at %d = %s, want %s", v.unix, got, v.want[2:])
		}
	}
}

func TestTOTPEnrollVerifyReplay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.user(t, "alice")
	e, err := f.svc.EnrollTOTP(ctx, f.tenant, u)
	if err != nil {
		t.Fatal(err)
	}
	key, err := DecodeTOTPSecret(e.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.VerifyTOTP(ctx, f.tenant.ID, u.ID, TOTPCode(key, f.clock.Now())); !errors.Is(err, ErrNoMFAMethod) {
		t.Fatalf("an unconfirmed method verified: %v", err)
	}
	if err := f.svc.ConfirmTOTP(ctx, f.tenant.ID, u.ID, "000000"); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("wrong confirmation code: %v", err)
	}
	if err := f.svc.ConfirmTOTP(ctx, f.tenant.ID, u.ID, TOTPCode(key, f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	// The confirmation code is spent; so is anything older.
	if err := f.svc.VerifyTOTP(ctx, f.tenant.ID, u.ID, TOTPCode(key, f.clock.Now())); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("a reused code verified: %v", err)
	}
	// A phone 30 s fast is accepted (one step of skew), 90 s is not.
	if err := f.svc.VerifyTOTP(ctx, f.tenant.ID, u.ID, TOTPCode(key, f.clock.Now().Add(30*time.Second))); err != nil {
		t.Fatalf("next step: %v", err)
	}
	if err := f.svc.VerifyTOTP(ctx, f.tenant.ID, u.ID, TOTPCode(key, f.clock.Now().Add(90*time.Second))); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("a code three steps ahead verified: %v", err)
	}
	if _, err := f.svc.EnrollTOTP(ctx, f.tenant, u); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("re-enrollment over a confirmed method: %v", err)
	}
	// Brute force locks the second factor.
	for i := 0; i < 3; i++ {
		err = f.svc.VerifyTOTP(ctx, f.tenant.ID, u.ID, "123456")
	}
	if _, ok := IsLocked(err); !ok {
		t.Fatalf("after 3 wrong codes: %v", err)
	}
	f.clock.Advance(2 * time.Minute)
	if err := f.svc.VerifyTOTP(ctx, f.tenant.ID, u.ID, TOTPCode(key, f.clock.Now())); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
}

func TestAuthenticateLockout(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.user(t, "bob")
	if _, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: u.UserPrincipalName, Password: "pw", Address: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 3; i++ {
		_, err = f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: "BOB@t.example", Password: "wrong", Address: "192.0.2.1"})
	}
	le, ok := IsLocked(err)
	if !ok || !le.Until.Equal(f.clock.Now().Add(time.Minute)) {
		t.Fatalf("third failure: %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: u.UserPrincipalName, Password: "pw", Address: "192.0.2.1"}); err == nil {
		t.Fatal("a locked name signed in")
	}
	// The second lockout lasts twice as long.
	f.clock.Advance(61 * time.Second)
	for i := 0; i < 3; i++ {
		_, err = f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: u.UserPrincipalName, Password: "wrong", Address: "192.0.2.1"})
	}
	if le, _ := IsLocked(err); le == nil || !le.Until.Equal(f.clock.Now().Add(2*time.Minute)) {
		t.Fatalf("second lockout: %v", err)
	}
	// Disabled accounts are told apart only after the right password.
	off := f.user(t, "carol")
	off.AccountEnabled = false
	if err := f.st.UpdateUser(ctx, off); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: off.UserPrincipalName, Password: "wrong", Address: "192.0.2.1"}); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("disabled, wrong password: %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: off.UserPrincipalName, Password: "pw", Address: "192.0.2.1"}); !errors.Is(err, ErrUserDisabled) {
		t.Fatalf("disabled, right password: %v", err)
	}
}

func TestSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.user(t, "dave")
	cookie, b, err := f.svc.NewSession(ctx, f.tenant.ID, u, []string{AMRPassword})
	if err != nil {
		t.Fatal(err)
	}
	if b.Hash == cookie || b.Hash != Hash(cookie) {
		t.Fatal("the store must key sessions by a hash of the cookie")
	}
	if _, _, err := f.svc.Session(ctx, f.tenant.ID, cookie); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Session(ctx, directory.NewID(), cookie); !errors.Is(err, ErrNoSession) {
		t.Fatalf("another tenant's session: %v", err)
	}
	b, err = f.svc.AddMFA(ctx, b)
	if err != nil || !HasMFA(b.AMR) {
		t.Fatalf("AddMFA: %v %v", b.AMR, err)
	}
	// A password reset ends it.
	f.clock.Advance(time.Minute)
	u.PasswordChangedAt = f.clock.Now()
	if err := f.st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Session(ctx, f.tenant.ID, cookie); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after a password reset: %v", err)
	}
	// Expiry.
	cookie, _, _ = f.svc.NewSession(ctx, f.tenant.ID, u, []string{AMRPassword})
	f.clock.Advance(13 * time.Hour)
	if _, _, err := f.svc.Session(ctx, f.tenant.ID, cookie); !errors.Is(err, ErrNoSession) {
		t.Fatalf("an expired session: %v", err)
	}
}

// TestEvaluate is Conditional Access as a table: users, groups, target
// resources, client app types, named locations, controls and states.
func TestEvaluate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice, bob := f.user(t, "alice"), f.user(t, "bob")
	g, err := f.dir.CreateGroup(ctx, f.tenant.ID, directory.GroupInput{DisplayName: "contractors", MailNickname: "contractors"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.dir.AddMember(ctx, f.tenant.ID, g.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	office, err := f.svc.CreateLocation(ctx, f.tenant.ID, NamedLocation{DisplayName: "office", IsTrusted: true,
		IPRanges: []IPRange{{CIDRAddress: "10.1.0.0/16"}}})
	if err != nil {
		t.Fatal(err)
	}
	const arm, ml = directory.AppIDResourceManager, directory.AppIDAzureML
	policy := func(name, state string, users UserCondition, apps []string, types []string, locs *LocationCondition, controls ...string) {
		t.Helper()
		if _, err := f.svc.CreatePolicy(ctx, f.tenant.ID, Policy{DisplayName: name, State: state,
			Conditions: Conditions{Users: &users, Applications: &ApplicationCondition{IncludeApplications: apps},
				ClientAppTypes: types, Locations: locs},
			GrantControls: &GrantControls{Operator: "OR", BuiltInControls: controls}}); err != nil {
			t.Fatal(err)
		}
	}
	policy("block contractors outside the office", StateEnabled, UserCondition{IncludeGroups: []string{g.ID}}, []string{"All"}, []string{"all"},
		&LocationCondition{IncludeLocations: []string{"All"}, ExcludeLocations: []string{"AllTrusted"}}, "block")
	policy("mfa for ARM from apps", StateEnabled, UserCondition{IncludeUsers: []string{"All"}, ExcludeUsers: []string{bob.ID}}, []string{arm},
		[]string{ClientAppNative}, nil, "mfa")
	policy("report mfa for ML", StateReportOnly, UserCondition{IncludeUsers: []string{"All"}}, []string{ml}, []string{"all"}, nil, "mfa")
	policy("off", StateDisabled, UserCondition{IncludeUsers: []string{"All"}}, []string{"All"}, []string{"all"}, nil, "block")

	for _, tc := range []struct {
		name          string
		user          domain.User
		resource, ip  string
		appType       string
		amr           []string
		block, mfa    bool
		status        string
		reportOutcome string
	}{
		{"contractor outside", bob, arm, "203.0.113.9", ClientAppNative, nil, true, false, "failure", ""},
		{"contractor in the office", bob, arm, "10.1.2.3", ClientAppNative, nil, false, false, "notApplied", ""},
		{"employee, ARM from an app", alice, arm, "203.0.113.9", ClientAppNative, []string{"pwd"}, false, true, "failure", ""},
		{"employee, ARM from an app with mfa", alice, arm, "203.0.113.9", ClientAppNative, []string{"pwd", "mfa"}, false, false, "success", ""},
		{"employee, ARM from a browser", alice, arm, "203.0.113.9", ClientAppBrowser, []string{"pwd"}, false, false, "notApplied", ""},
		{"employee, ML: report only", alice, ml, "203.0.113.9", ClientAppNative, []string{"pwd"}, false, false, "notApplied", "reportOnlyInterrupted"},
		{"employee, ML with mfa: report only", alice, ml, "203.0.113.9", ClientAppNative, []string{"pwd", "mfa"}, false, false, "notApplied", "reportOnlySuccess"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := f.svc.Evaluate(ctx, SignInContext{Tenant: f.tenant, User: tc.user, ClientAppID: directory.AppIDAzureCLI,
				ResourceAppID: tc.resource, ClientIP: tc.ip, ClientAppType: tc.appType, AMR: tc.amr})
			if err != nil {
				t.Fatal(err)
			}
			if d.Block != tc.block || d.NeedMFA != tc.mfa || d.Status() != tc.status {
				t.Fatalf("block %v mfa %v status %s; results %+v", d.Block, d.NeedMFA, d.Status(), d.Results)
			}
			if tc.reportOutcome != "" {
				found := false
				for _, r := range d.Results {
					found = found || r.DisplayName == "report mfa for ML" && r.Result == tc.reportOutcome
				}
				if !found {
					t.Fatalf("report-only outcome missing: %+v", d.Results)
				}
			}
			for _, r := range d.Results {
				if r.DisplayName == "off" && r.Result != "notEnabled" {
					t.Fatalf("a disabled policy applied: %+v", r)
				}
			}
		})
	}
	t.Run("directory roles", func(t *testing.T) {
		admin := f.user(t, "admin")
		if err := f.st.CreateDirectoryRoleAssignment(ctx, domain.DirectoryRoleAssignment{ID: directory.NewID(), TenantID: f.tenant.ID,
			PrincipalID: admin.ID, RoleTemplateID: domain.RoleGlobalAdministrator}); err != nil {
			t.Fatal(err)
		}
		policy("admins need mfa everywhere", StateEnabled, UserCondition{IncludeRoles: []string{domain.RoleGlobalAdministrator}},
			[]string{"All"}, []string{"all"}, nil, "mfa")
		for _, tc := range []struct {
			u    domain.User
			want bool
		}{{admin, true}, {alice, false}} {
			d, err := f.svc.Evaluate(ctx, SignInContext{Tenant: f.tenant, User: tc.u, ResourceAppID: ml, ClientAppType: ClientAppBrowser, ClientIP: "10.1.0.1"})
			if err != nil || d.NeedMFA != tc.want {
				t.Fatalf("%s: need MFA %v (want %v), %v", tc.u.UserPrincipalName, d.NeedMFA, tc.want, err)
			}
		}
	})
	t.Run("a location in use cannot be deleted", func(t *testing.T) {
		policy("uses the office", StateDisabled, UserCondition{IncludeUsers: []string{"None"}}, []string{"All"}, []string{"all"},
			&LocationCondition{IncludeLocations: []string{office.ID}}, "block")
		var pe *PolicyError
		if err := f.svc.DeleteLocation(ctx, f.tenant.ID, office.ID); !errors.As(err, &pe) {
			t.Fatalf("delete: %v", err)
		}
	})
	t.Run("per-user MFA", func(t *testing.T) {
		c := f.user(t, "carol")
		e, _ := f.svc.EnrollTOTP(ctx, f.tenant, c)
		key, _ := DecodeTOTPSecret(e.Secret)
		if err := f.svc.ConfirmTOTP(ctx, f.tenant.ID, c.ID, TOTPCode(key, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		d, err := f.svc.Evaluate(ctx, SignInContext{Tenant: f.tenant, User: c, ResourceAppID: ml, ClientAppType: ClientAppBrowser, AMR: []string{"pwd"}})
		if err != nil || !d.NeedMFA || !d.PerUserMFA || !d.MFAEnrolled {
			t.Fatalf("per-user MFA: %+v %v", d, err)
		}
	})
}

func TestPolicyValidation(t *testing.T) {
	ok := func() Policy {
		return Policy{DisplayName: "p", State: StateEnabled, Conditions: Conditions{Users: &UserCondition{IncludeUsers: []string{"All"}},
			Applications: &ApplicationCondition{IncludeApplications: []string{"All"}}, ClientAppTypes: []string{"all"}},
			GrantControls: &GrantControls{BuiltInControls: []string{"mfa"}}}
	}
	p := ok()
	if err := p.validate(); err != nil || p.GrantControls.Operator != "OR" {
		t.Fatalf("valid policy: %v (operator %q)", err, p.GrantControls.Operator)
	}
	for name, mutate := range map[string]func(*Policy){
		"no name":         func(p *Policy) { p.DisplayName = "" },
		"bad state":       func(p *Policy) { p.State = "on" },
		"no users":        func(p *Policy) { p.Conditions.Users = nil },
		"no apps":         func(p *Policy) { p.Conditions.Applications.IncludeApplications = nil },
		"no app types":    func(p *Policy) { p.Conditions.ClientAppTypes = nil },
		"unknown type":    func(p *Policy) { p.Conditions.ClientAppTypes = []string{"fax"} },
		"no controls":     func(p *Policy) { p.GrantControls = nil },
		"unknown control": func(p *Policy) { p.GrantControls.BuiltInControls = []string{"retinaScan"} },
		"block and mfa":   func(p *Policy) { p.GrantControls.BuiltInControls = []string{"block", "mfa"} },
		"bad operator":    func(p *Policy) { p.GrantControls.Operator = "XOR" },
	} {
		p := ok()
		mutate(&p)
		var pe *PolicyError
		if err := p.validate(); !errors.As(err, &pe) {
			t.Errorf("%s: %v, want a PolicyError", name, err)
		}
	}
	l := NamedLocation{DisplayName: "x", IPRanges: []IPRange{{CIDRAddress: "2001:db8::/32"}}}
	if err := l.validate(); err != nil || l.IPRanges[0].ODataType != "#microsoft.graph.iPv6CidrRange" {
		t.Fatalf("location: %v %+v", err, l)
	}
	l.IPRanges[0].CIDRAddress = "10.0.0.300/8"
	if err := l.validate(); err == nil {
		t.Fatal("a bad CIDR was accepted")
	}
}
