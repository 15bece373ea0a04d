package sts

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/token"
)

// aliasesOfHome are the tenant segments that mean "the home tenant": Entra's
// multi-tenant names, and "adfs", which MSAL clients use to skip instance
// discovery against a host that is not Microsoft's.
var aliasesOfHome = map[string]bool{"common": true, "organizations": true, "consumers": true, "adfs": true}

// Tenants resolves tenant path segments, caching hits briefly: tenants are
// read on every token request and change rarely.
type Tenants struct {
	store  store.Tenants
	homeID string
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedTenant
}

type cachedTenant struct {
	t       domain.Tenant
	expires time.Time
}

// NewTenants returns a resolver whose aliases name homeID.
func NewTenants(st store.Tenants, homeID string) *Tenants {
	return &Tenants{store: st, homeID: homeID, ttl: 30 * time.Second, now: time.Now, cache: map[string]cachedTenant{}}
}

// Resolve implements TenantResolver. Unknown tenants yield AADSTS90002.
func (ts *Tenants) Resolve(ctx context.Context, segment string) (domain.Tenant, error) {
	key := strings.ToLower(segment)
	now := ts.now()
	ts.mu.Lock()
	c, ok := ts.cache[key]
	ts.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.t, nil
	}
	var t domain.Tenant
	var err error
	switch {
	case aliasesOfHome[key]:
		t, err = ts.store.GetTenant(ctx, ts.homeID)
	case isGUID(key):
		t, err = ts.store.GetTenant(ctx, key)
	default:
		t, err = ts.store.GetTenantByDomain(ctx, key)
	}
	if errors.Is(err, store.ErrNotFound) {
		return domain.Tenant{}, token.Errorf(token.ErrInvalidRequest, 90002,
			"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
			printable(segment))
	}
	if err != nil {
		return domain.Tenant{}, err
	}
	ts.mu.Lock()
	if len(ts.cache) > 10000 { // bounded: unknown names are never cached, but be safe
		ts.cache = map[string]cachedTenant{}
	}
	ts.cache[key] = cachedTenant{t: t, expires: now.Add(ts.ttl)}
	ts.mu.Unlock()
	return t, nil
}

// Forget drops cached entries (after a tenant changes).
func (ts *Tenants) Forget() {
	ts.mu.Lock()
	ts.cache = map[string]cachedTenant{}
	ts.mu.Unlock()
}

// Follow forgets cached tenants whenever one changes on any replica (the
// change feed).
func (ts *Tenants) Follow(f *feed.Follower) {
	f.On(store.ChangeTenant, func(context.Context, store.Change) error { ts.Forget(); return nil })
	f.Load(func(context.Context) error { ts.Forget(); return nil })
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// printable keeps an echoed value short and free of control characters.
func printable(s string) string {
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
