package directory

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/store"
)

// aliasesOfHome are the tenant segments that mean "the home tenant": Entra's
// multi-tenant names, and "adfs", which MSAL clients use to skip instance
// discovery against a host that is not Microsoft's.
var aliasesOfHome = map[string]bool{"common": true, "organizations": true, "consumers": true, "adfs": true}

// Tenants resolves the tenant a URL's path segment names (a GUID, a
// verified domain, or an alias of the home tenant), caching hits: tenants
// are read on every token request and change rarely; the change feed drops
// the cache when one changes.
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

// Resolve finds the tenant segment names; an unknown one is a NotFound
// refusal with CodeTenantNotFound.
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
	case IsGUID(key):
		t, err = ts.store.GetTenant(ctx, key)
	default:
		t, err = ts.store.GetTenantByDomain(ctx, key)
	}
	if errors.Is(err, store.ErrNotFound) {
		return domain.Tenant{}, fault.Errorf(fault.NotFound, CodeTenantNotFound, "Tenant '%s' not found.", segment)
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
