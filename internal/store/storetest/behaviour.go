package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

func testReplay(t *testing.T, s store.Store) {
	now := time.Now()
	live, expired := "jti-"+word(), "jti-"+word()
	// The steps run in order against one store; each builds on the last.
	steps := []struct {
		name      string
		key       string
		expiresAt time.Time
		want      error
	}{
		{"new key", live, now.Add(time.Hour), nil},
		{"replayed key", live, now.Add(2 * time.Hour), store.ErrConflict},
		{"replayed key with an earlier expiry", live, now.Add(time.Second), store.ErrConflict},
		{"another key", "jti-" + word(), now.Add(time.Hour), nil},
		// A jti is an opaque, case-sensitive string.
		{"key differing only in case", strings.ToUpper(live), now.Add(time.Hour), nil},
		{"already expired key", expired, now.Add(-time.Minute), nil},
		{"expired key remembered again", expired, now.Add(time.Hour), nil},
		{"re-remembered key is live again", expired, now.Add(time.Hour), store.ErrConflict},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := s.Remember(t.Context(), st.key, st.expiresAt)
			if st.want == nil {
				ok(t, err)
			} else {
				isErr(t, err, st.want)
			}
		})
	}

	t.Run("PurgeExpired counts what it deletes", func(t *testing.T) {
		ctx := t.Context()
		var stale []string
		for i := range 3 {
			k := "stale-" + word()
			stale = append(stale, k)
			ok(t, s.Remember(ctx, k, now.Add(-time.Duration(i+1)*time.Hour)))
		}
		fresh := "fresh-" + word()
		ok(t, s.Remember(ctx, fresh, now.Add(time.Hour)))

		n, err := s.PurgeExpired(ctx, time.Now())
		ok(t, err)
		if n != 3 {
			t.Fatalf("PurgeExpired = %d, want 3", n)
		}
		n, err = s.PurgeExpired(ctx, time.Now())
		ok(t, err)
		if n != 0 {
			t.Fatalf("second PurgeExpired = %d, want 0", n)
		}
		isErr(t, s.Remember(ctx, fresh, now.Add(time.Hour)), store.ErrConflict)
		isErr(t, s.Remember(ctx, live, now.Add(time.Hour)), store.ErrConflict)
		for _, k := range stale {
			ok(t, s.Remember(ctx, k, now.Add(time.Hour)))
		}
	})
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantA, tenantB := newID(), newID()
	// Whole seconds, so that the inclusive Since boundary is exact whatever
	// sub-millisecond precision the backend keeps.
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, zone)
	ev := func(tenantID, kind string, sec int) domain.AuditEvent {
		return domain.AuditEvent{
			ID:            newID(),
			Time:          base.Add(time.Duration(sec) * time.Second),
			TenantID:      tenantID,
			Kind:          kind,
			ActorID:       newID(),
			ActorName:     "Adele Vance",
			Action:        "token.client_credentials",
			Target:        newID(),
			Result:        "failure",
			Reason:        "AADSTS7000215",
			ClientIP:      "2001:db8::1",
			CorrelationID: newID(),
			Details:       map[string]string{"grant": "client_credentials", "resource": "https://management.azure.com/"},
		}
	}
	e1 := ev(tenantA, domain.AuditSignIn, 0)
	e2 := ev(tenantA, domain.AuditChange, 1)
	e2.Details = nil
	e3 := ev(tenantB, domain.AuditSignIn, 2)
	e4 := ev(tenantA, domain.AuditSignIn, 3)
	e5 := ev(tenantA, domain.AuditChange, 3) // same instant as e4, appended after it

	ok(t, s.AppendAudit(ctx, e1, e2, e3))
	ok(t, s.AppendAudit(ctx, e4))
	ok(t, s.AppendAudit(ctx, e5))
	ok(t, s.AppendAudit(ctx)) // nothing to write is not an error

	cases := []struct {
		name   string
		filter store.AuditFilter
		want   []domain.AuditEvent
	}{
		{"everything, newest first", store.AuditFilter{}, []domain.AuditEvent{e5, e4, e3, e2, e1}},
		{"tenant", store.AuditFilter{TenantID: tenantA}, []domain.AuditEvent{e5, e4, e2, e1}},
		{"kind", store.AuditFilter{Kind: domain.AuditSignIn}, []domain.AuditEvent{e4, e3, e1}},
		{"tenant and kind", store.AuditFilter{TenantID: tenantA, Kind: domain.AuditChange}, []domain.AuditEvent{e5, e2}},
		{"since is inclusive", store.AuditFilter{Since: e3.Time}, []domain.AuditEvent{e5, e4, e3}},
		{"since in another zone", store.AuditFilter{Since: e3.Time.UTC().Add(time.Millisecond)}, []domain.AuditEvent{e5, e4}},
		{"until is inclusive", store.AuditFilter{Until: e3.Time}, []domain.AuditEvent{e3, e2, e1}},
		{"until in another zone", store.AuditFilter{Until: e3.Time.UTC().Add(-time.Millisecond)}, []domain.AuditEvent{e2, e1}},
		{"since and until", store.AuditFilter{Since: e2.Time, Until: e3.Time}, []domain.AuditEvent{e3, e2}},
		{"all filters", store.AuditFilter{TenantID: tenantA, Kind: domain.AuditSignIn, Since: e2.Time}, []domain.AuditEvent{e4}},
		{"limit", store.AuditFilter{Limit: 2}, []domain.AuditEvent{e5, e4}},
		{"limit with tenant", store.AuditFilter{TenantID: tenantA, Limit: 3}, []domain.AuditEvent{e5, e4, e2}},
		{"unknown tenant", store.AuditFilter{TenantID: newID()}, nil},
		{"id", store.AuditFilter{ID: e2.ID}, []domain.AuditEvent{e2}},
		{"id, however old", store.AuditFilter{ID: e1.ID, Limit: 1}, []domain.AuditEvent{e1}},
		{"id with its tenant and kind", store.AuditFilter{TenantID: tenantA, Kind: domain.AuditSignIn, ID: e4.ID}, []domain.AuditEvent{e4}},
		{"id of another tenant", store.AuditFilter{TenantID: tenantB, ID: e4.ID}, nil},
		{"id of another kind", store.AuditFilter{Kind: domain.AuditChange, ID: e4.ID}, nil},
		{"unknown id", store.AuditFilter{ID: newID()}, nil},
	}
	for _, c := range cases {
		t.Run("ListAudit/"+c.name, func(t *testing.T) {
			got, err := s.ListAudit(t.Context(), c.filter)
			ok(t, err)
			// Order is the contract here, so compare as given.
			equal(t, c.want, got)
		})
	}

	t.Run("AppendAudit is one transaction", func(t *testing.T) {
		ctx := t.Context()
		fresh := ev(tenantB, domain.AuditChange, 10)
		dup := ev(tenantB, domain.AuditChange, 11)
		dup.ID = e1.ID
		isErr(t, s.AppendAudit(ctx, fresh, dup), store.ErrConflict)
		got, err := s.ListAudit(ctx, store.AuditFilter{TenantID: tenantB})
		ok(t, err)
		equal(t, []domain.AuditEvent{e3}, got)
	})

	t.Run("ListAudit defaults to 100 events", func(t *testing.T) {
		ctx := t.Context()
		tenant := newID()
		batch := make([]domain.AuditEvent, 105)
		for i := range batch {
			batch[i] = ev(tenant, domain.AuditSignIn, 100+i)
		}
		ok(t, s.AppendAudit(ctx, batch...))
		got, err := s.ListAudit(ctx, store.AuditFilter{TenantID: tenant})
		ok(t, err)
		if len(got) != 100 {
			t.Fatalf("ListAudit returned %d events, want 100", len(got))
		}
		equal(t, batch[104], got[0])
		equal(t, batch[5], got[99])
	})
}

// txWrites is one of each kind of write, for the transaction tests.
type txWrites struct {
	tenant domain.Tenant
	user   domain.User
	app    domain.Application
	sp     domain.ServicePrincipal
	sub    domain.Subscription
	ra     domain.RoleAssignment
	key    domain.SigningKey
	jti    string
	event  domain.AuditEvent
}

func newTxWrites() txWrites {
	tn := fullTenant()
	app := fullApplication(tn.ID)
	return txWrites{
		tenant: tn,
		user:   fullUser(tn.ID),
		app:    app,
		sp:     fullServicePrincipal(tn.ID, app.AppID),
		sub:    domain.Subscription{ID: newID(), TenantID: tn.ID, DisplayName: "sub", State: "Enabled", CreatedAt: at(0)},
		ra:     fullRoleAssignment(tn.ID),
		key:    domain.SigningKey{ID: "kid-" + word(), Algorithm: "RS256", State: domain.KeyStateNext, PrivateKey: []byte{1}, CreatedAt: at(0)},
		jti:    "jti-" + word(),
		event:  domain.AuditEvent{ID: newID(), Time: at(0), TenantID: tn.ID, Kind: domain.AuditChange, Action: "tenant.create"},
	}
}

func (w txWrites) write(ctx context.Context, s store.Tx) error {
	return errors.Join(
		s.CreateTenant(ctx, w.tenant),
		s.CreateUser(ctx, w.user),
		s.CreateApplication(ctx, w.app),
		s.CreateServicePrincipal(ctx, w.sp),
		s.CreateSubscription(ctx, w.sub),
		s.CreateRoleAssignment(ctx, w.ra),
		s.CreateSigningKey(ctx, w.key),
		s.Remember(ctx, w.jti, time.Now().Add(time.Hour)),
		s.AppendAudit(ctx, w.event),
	)
}

// present reports, for each write, whether s holds it.
func (w txWrites) present(t *testing.T, s store.Store) map[string]bool {
	t.Helper()
	ctx := t.Context()
	found := func(err error) bool {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unexpected error: %v", err)
		}
		return err == nil
	}
	keys, err := s.ListSigningKeys(ctx)
	ok(t, err)
	keyFound := false
	for _, k := range keys {
		keyFound = keyFound || k.ID == w.key.ID
	}
	events, err := s.ListAudit(ctx, store.AuditFilter{TenantID: w.tenant.ID})
	ok(t, err)
	jtiErr := s.Remember(ctx, w.jti, time.Now().Add(time.Hour))
	if jtiErr != nil && !errors.Is(jtiErr, store.ErrConflict) {
		t.Fatalf("unexpected error: %v", jtiErr)
	}
	return map[string]bool{
		"tenant":            found(discard(s.GetTenant(ctx, w.tenant.ID))),
		"tenant domain":     found(discard(s.GetTenantByDomain(ctx, w.tenant.Domains[0]))),
		"user":              found(discard(s.GetUser(ctx, w.user.TenantID, w.user.ID))),
		"application":       found(discard(s.GetApplication(ctx, w.app.TenantID, w.app.ID))),
		"service principal": found(discard(s.GetServicePrincipal(ctx, w.sp.TenantID, w.sp.ID))),
		"subscription":      found(discard(s.GetSubscription(ctx, w.sub.ID))),
		"role assignment":   found(discard(s.GetRoleAssignment(ctx, w.ra.ID))),
		"signing key":       keyFound,
		"replay key":        jtiErr != nil,
		"audit event":       len(events) > 0,
	}
}

func expectPresent(t *testing.T, got map[string]bool, want bool) {
	t.Helper()
	for what, present := range got {
		if present != want {
			t.Errorf("%s present = %v, want %v", what, present, want)
		}
	}
}

var errBoom = errors.New("boom")

func testInTx(t *testing.T, s store.Store) {
	t.Run("commit makes every write visible", func(t *testing.T) {
		w := newTxWrites()
		ok(t, s.InTx(t.Context(), func(tx store.Tx) error { return w.write(t.Context(), tx) }))
		expectPresent(t, w.present(t, s), true)
	})

	t.Run("reads inside see the transaction's writes", func(t *testing.T) {
		w := newTxWrites()
		ok(t, s.InTx(t.Context(), func(tx store.Tx) error {
			if err := w.write(t.Context(), tx); err != nil {
				return err
			}
			got, err := tx.GetApplicationByAppID(t.Context(), w.app.TenantID, strings.ToUpper(w.app.AppID))
			if err != nil {
				return err
			}
			equal(t, w.app, got)
			users, err := tx.ListUsers(t.Context(), w.tenant.ID)
			if err != nil {
				return err
			}
			equal(t, []domain.User{w.user}, users)
			return nil
		}))
	})

	t.Run("error rolls back every write", func(t *testing.T) {
		w := newTxWrites()
		err := s.InTx(t.Context(), func(tx store.Tx) error {
			if err := w.write(t.Context(), tx); err != nil {
				return err
			}
			return fmt.Errorf("later step: %w", errBoom)
		})
		isErr(t, err, errBoom)
		expectPresent(t, w.present(t, s), false)
	})

	t.Run("store error is returned and rolls back", func(t *testing.T) {
		w := newTxWrites()
		existing := fullUser(newID())
		ok(t, s.CreateUser(t.Context(), existing))
		err := s.InTx(t.Context(), func(tx store.Tx) error {
			if err := w.write(t.Context(), tx); err != nil {
				return err
			}
			return tx.CreateUser(t.Context(), existing)
		})
		isErr(t, err, store.ErrConflict)
		expectPresent(t, w.present(t, s), false)
	})

	t.Run("panic rolls back and releases the store", func(t *testing.T) {
		w := newTxWrites()
		func() {
			defer func() {
				if r := recover(); r != errBoom {
					t.Fatalf("recovered %v, want the panic value", r)
				}
			}()
			_ = s.InTx(t.Context(), func(tx store.Tx) error {
				if err := w.write(t.Context(), tx); err != nil {
					return err
				}
				panic(errBoom)
			})
		}()
		expectPresent(t, w.present(t, s), false)
		// The store must still accept writes, in and out of transactions.
		ok(t, s.CreateTenant(t.Context(), fullTenant()))
		ok(t, s.InTx(t.Context(), func(tx store.Tx) error { return tx.CreateTenant(t.Context(), fullTenant()) }))
	})

	t.Run("a failed write does not spoil the transaction", func(t *testing.T) {
		// A service may try a create, see ErrConflict and carry on (create
		// if absent); the rest of the transaction must still commit.
		tenantID := newID()
		a, b := fullApplication(tenantID), fullApplication(tenantID)
		tn := fullTenant()
		jti := "jti-" + word()
		ok(t, s.Remember(t.Context(), jti, time.Now().Add(time.Hour)))
		ok(t, s.InTx(t.Context(), func(tx store.Tx) error {
			ctx := t.Context()
			if err := tx.CreateApplication(ctx, a); err != nil {
				return err
			}
			dup := fullApplication(tenantID)
			dup.AppID = a.AppID
			if err := tx.CreateApplication(ctx, dup); !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("duplicate appId in transaction: %v, want ErrConflict", err)
			}
			if err := tx.Remember(ctx, jti, time.Now().Add(time.Hour)); !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("replayed jti in transaction: %v, want ErrConflict", err)
			}
			// A multi-statement write failing halfway must undo its own
			// first half and nothing else.
			bad := fullTenant()
			bad.Domains = []string{"half-" + word() + ".example", strings.ToUpper(tn.Domains[0])}
			if err := tx.CreateTenant(ctx, tn); err != nil {
				return err
			}
			if err := tx.CreateTenant(ctx, bad); !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("tenant with a taken domain in transaction: %v, want ErrConflict", err)
			}
			if _, err := tx.GetTenantByDomain(ctx, bad.Domains[0]); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("domain of the failed tenant: %v, want ErrNotFound", err)
			}
			return tx.CreateApplication(ctx, b)
		}))
		got, err := s.ListApplications(t.Context(), tenantID)
		ok(t, err)
		equalByID(t, []domain.Application{a, b}, got)
		gotTenant, err := s.GetTenant(t.Context(), tn.ID)
		ok(t, err)
		equal(t, tn, gotTenant)
	})

	t.Run("nested InTx commits with the outer one", func(t *testing.T) {
		outer, inner := newTxWrites(), newTxWrites()
		ok(t, s.InTx(t.Context(), func(tx store.Tx) error {
			if err := outer.write(t.Context(), tx); err != nil {
				return err
			}
			return tx.InTx(t.Context(), func(tx store.Tx) error { return inner.write(t.Context(), tx) })
		}))
		expectPresent(t, outer.present(t, s), true)
		expectPresent(t, inner.present(t, s), true)
	})

	t.Run("nested InTx error rolls back both", func(t *testing.T) {
		outer, inner := newTxWrites(), newTxWrites()
		err := s.InTx(t.Context(), func(tx store.Tx) error {
			if err := outer.write(t.Context(), tx); err != nil {
				return err
			}
			return tx.InTx(t.Context(), func(tx store.Tx) error {
				if err := inner.write(t.Context(), tx); err != nil {
					return err
				}
				return errBoom
			})
		})
		isErr(t, err, errBoom)
		expectPresent(t, outer.present(t, s), false)
		expectPresent(t, inner.present(t, s), false)
	})
}

func testConcurrency(t *testing.T, s store.Store) {
	const workers, perWorker = 8, 50

	// run starts n goroutines together and returns their errors.
	run := func(n int, fn func(i int) error) []error {
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = fn(i)
			})
		}
		close(start)
		wg.Wait()
		return errs
	}

	t.Run("distinct writes from many goroutines", func(t *testing.T) {
		ctx := t.Context()
		tenantID := newID()
		apps := make([][]domain.Application, workers)
		keys := make([][]string, workers)
		for w := range workers {
			for range perWorker {
				apps[w] = append(apps[w], fullApplication(tenantID))
				keys[w] = append(keys[w], "jti-"+newID())
			}
		}
		errs := run(workers, func(w int) error {
			for i := range perWorker {
				if err := s.CreateApplication(ctx, apps[w][i]); err != nil {
					return err
				}
				if err := s.Remember(ctx, keys[w][i], time.Now().Add(time.Hour)); err != nil {
					return err
				}
				// Interleave reads with the writes: a read must see a
				// write that returned before it started.
				if _, err := s.GetApplicationByAppID(ctx, tenantID, apps[w][i].AppID); err != nil {
					return fmt.Errorf("read own write: %w", err)
				}
			}
			return nil
		})
		for _, err := range errs {
			ok(t, err)
		}
		got, err := s.ListApplications(ctx, tenantID)
		ok(t, err)
		if len(got) != workers*perWorker {
			t.Fatalf("ListApplications = %d applications, want %d", len(got), workers*perWorker)
		}
		for w := range workers {
			for _, k := range keys[w] {
				isErr(t, s.Remember(ctx, k, time.Now().Add(time.Hour)), store.ErrConflict)
			}
		}
	})

	t.Run("same replay key from many goroutines", func(t *testing.T) {
		for round := range 20 {
			key := "jti-" + newID()
			errs := run(workers, func(int) error {
				return s.Remember(t.Context(), key, time.Now().Add(time.Hour))
			})
			succeeded := 0
			for _, err := range errs {
				switch {
				case err == nil:
					succeeded++
				case !errors.Is(err, store.ErrConflict):
					t.Fatalf("round %d: unexpected error: %v", round, err)
				}
			}
			if succeeded != 1 {
				t.Fatalf("round %d: %d of %d concurrent Remember calls succeeded, want exactly 1", round, succeeded, workers)
			}
		}
	})

	t.Run("concurrent transactions", func(t *testing.T) {
		ctx := t.Context()
		tenantID := newID()
		const perTx = 10
		errs := run(workers, func(int) error {
			for range perTx {
				err := s.InTx(ctx, func(tx store.Tx) error {
					u := fullUser(tenantID)
					if err := tx.CreateUser(ctx, u); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, domain.AuditEvent{ID: newID(), Time: time.Now(), TenantID: tenantID, Kind: domain.AuditChange, Target: u.ID})
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		for _, err := range errs {
			ok(t, err)
		}
		users, err := s.ListUsers(ctx, tenantID)
		ok(t, err)
		events, err := s.ListAudit(ctx, store.AuditFilter{TenantID: tenantID, Limit: 1000})
		ok(t, err)
		if len(users) != workers*perTx || len(events) != workers*perTx {
			t.Fatalf("%d users and %d audit events, want %d of each", len(users), len(events), workers*perTx)
		}
	})
}

func testPing(t *testing.T, s store.Store) {
	ok(t, s.Ping(t.Context()))
}
