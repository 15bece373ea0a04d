package token

import (
	"context"
	"sync"
	"time"

	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/store"
)

// lifetimeCache remembers each resource's access token lifetime, as token
// lifetime policies decide it, per tenant. The change feed empties a
// tenant's entries whenever one of its applications or policies changes on
// any replica, so a policy is in force everywhere within the feed's delay.
type lifetimeCache struct {
	mu       sync.Mutex
	byTenant map[string]map[string]time.Duration // tenant → resource app id → lifetime
	gen      uint64
}

// accessTokenLifetime is the lifetime of an access token for the resource
// with application id appID: the policy assigned to the resource's
// application, else the organisation default, else the configured one.
// The resource's policy rules, not the client's, as in Entra.
func (s *Service) accessTokenLifetime(ctx context.Context, tenantID, appID string) (time.Duration, error) {
	c := &s.lifetimes
	c.mu.Lock()
	d, ok := c.byTenant[tenantID][appID]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	d, set, err := s.dir.AccessTokenLifetime(ctx, tenantID, appID)
	if err != nil {
		return 0, errStore(err)
	}
	if !set {
		d = s.lifetime
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen { // no invalidation raced the read
		if c.byTenant[tenantID] == nil {
			c.byTenant[tenantID] = map[string]time.Duration{}
		}
		c.byTenant[tenantID][appID] = d
	}
	return d, nil
}

func (c *lifetimeCache) forget(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if tenantID == "" {
		clear(c.byTenant)
		return
	}
	delete(c.byTenant, tenantID)
}

// followLifetimes keeps the lifetime cache current from the change feed.
func (s *Service) followLifetimes(f *feed.Follower) {
	forget := func(_ context.Context, ch store.Change) error { s.lifetimes.forget(ch.TenantID); return nil }
	for _, kind := range []store.ChangeKind{store.ChangeApplication, store.ChangeTokenLifetimePolicy, store.ChangeTenant} {
		f.On(kind, forget)
	}
	f.Load(func(context.Context) error { s.lifetimes.forget(""); return nil })
}
