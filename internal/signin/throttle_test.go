package signin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
)

// TestSmartLockoutByAddress: a stranger's wrong passwords lock the name for
// the stranger's address only; the owner elsewhere still signs in.
func TestSmartLockoutByAddress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.user(t, "dana")
	var err error
	for i := 0; i < 3; i++ {
		_, err = f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: u.UserPrincipalName, Password: "guess", Address: "198.51.100.7"})
	}
	if _, ok := IsLocked(err); !ok {
		t.Fatalf("stranger's third failure: %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: u.UserPrincipalName, Password: "pw", Address: "198.51.100.7"}); err == nil {
		t.Fatal("the locked address signed in")
	}
	if _, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: u.UserPrincipalName, Password: "pw", Address: "203.0.113.9"}); err != nil {
		t.Fatalf("the owner from another address: %v", err)
	}
}

// TestAddressThrottle: failures for many names from one address block the
// address (random names do not bypass it), without touching other
// addresses; an IPv6 address counts by its /64.
func TestAddressThrottle(t *testing.T) {
	f := newFixture(t)
	f.svc = New(f.dir, f.st, nil, Options{Now: f.clock.Now, LockoutThreshold: 3, Throttle: ThrottleOptions{AddressThreshold: 5}})
	ctx := context.Background()
	u := f.user(t, "erin")
	for _, tc := range []struct {
		name, first, next string
	}{
		{"IPv4", "192.0.2.10", "192.0.2.10"},
		{"IPv6 /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 5; i++ {
				_, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: fmt.Sprintf("nobody%d@t.example", i), Password: "x", Address: tc.first})
				// The failure that reaches the limit already says so.
				if _, ok := IsThrottled(err); ok != (i == 4) {
					t.Fatalf("failure %d: %v", i+1, err)
				}
			}
			_, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: u.UserPrincipalName, Password: "pw", Address: tc.next})
			te, ok := IsThrottled(err)
			if !ok || te.Busy || te.RetryAfter <= 0 {
				t.Fatalf("the right password after 5 failures: %v, want a throttle", err)
			}
			if _, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: u.UserPrincipalName, Password: "pw", Address: "203.0.113.50"}); err != nil {
				t.Fatalf("another address: %v", err)
			}
		})
	}
	f.clock.Advance(2 * time.Minute)
	if _, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: u.UserPrincipalName, Password: "pw", Address: "192.0.2.10"}); err != nil {
		t.Fatalf("after the block: %v", err)
	}
}

func TestClientThrottle(t *testing.T) {
	f := newFixture(t)
	tid := f.tenant.ID
	for i := 0; i < 2; i++ {
		if err := f.svc.CheckClient(tid, "app", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ClientFailed(tid, "app", "192.0.2.1"); err != nil {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if _, ok := IsLocked(f.svc.ClientFailed(tid, "APP", "192.0.2.1")); !ok {
		t.Fatal("the third failure did not lock the client")
	}
	if _, ok := IsLocked(f.svc.CheckClient(tid, "app", "192.0.2.1")); !ok {
		t.Fatal("a locked client was let through")
	}
	if err := f.svc.CheckClient(tid, "app", "192.0.2.2"); err != nil {
		t.Fatalf("the client from another address: %v", err)
	}
	f.clock.Advance(61 * time.Second)
	if err := f.svc.CheckClient(tid, "app", "192.0.2.1"); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
}

// TestAuthenticateBusy: when every hashing slot is taken, a sign-in is
// refused at once, known name or not, and nothing is counted against it.
func TestAuthenticateBusy(t *testing.T) {
	f := newFixture(t)
	f.dir = directory.NewService(f.st, f.clock.Now, directory.WithPasswords(directory.NewPasswords(directory.PasswordsOptions{
		Concurrency: 1, Queue: 1, MaxWait: 10 * time.Millisecond})))
	f.svc = New(f.dir, f.st, nil, Options{Now: f.clock.Now, LockoutThreshold: 3})
	ctx := context.Background()
	u := f.user(t, "finn")
	slow := f.user(t, "slow")
	// A hash costly enough to hold the one slot while the test runs.
	slow.PasswordHash = slowHash(t)
	if err := f.st.UpdateUser(ctx, slow); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: slow.UserPrincipalName, Password: "slow", Address: "192.0.2.9"})
		done <- err
	}()
	for f.dir.Passwords().Running() == 0 {
		time.Sleep(time.Millisecond)
	}
	for _, name := range []string{u.UserPrincipalName, "nobody@t.example"} {
		_, err := f.svc.Authenticate(ctx, f.tenant, PasswordAttempt{UPN: name, Password: "pw", Address: "192.0.2.1"})
		if te, ok := IsThrottled(err); !ok || !te.Busy {
			t.Fatalf("%s while busy: %v", name, err)
		}
	}
	if _, err := f.st.GetSignInThrottle(ctx, throttleKey(f.tenant.ID, u.UserPrincipalName, "192.0.2.1")); err == nil {
		t.Fatal("a refused attempt was counted as a failure")
	}
	if err := <-done; err != nil {
		t.Fatalf("the slow sign-in: %v", err)
	}
}

func slowHash(t *testing.T) string {
	t.Helper()
	p := directory.NewPasswords(directory.PasswordsOptions{Params: directory.PasswordParams{Time: 64, MemoryKiB: 8 << 10, Threads: 1}})
	h, err := p.Hash(context.Background(), "slow")
	if err != nil {
		t.Fatal(err)
	}
	return h
}
