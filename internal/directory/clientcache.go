package directory

import (
	"context"
	"sync"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/store"
)

// clientCacheTTL bounds how long a client looked up by the token endpoint is
// reused. Writes through this process invalidate at once; the TTL only
// matters for writes made by another replica on the same database.
const clientCacheTTL = 3 * time.Second

// clientCache remembers LookupClient results: the token endpoint reads the
// same service principal and application on every request, and decoding them
// costs more than checking the secret.
//
// Entries carry the generation they were read in; every write bumps the
// generation before and after it, so a lookup racing a write can never
// leave an entry that outlives the write.
type clientCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string]cachedClient
}

type cachedClient struct {
	client  Client
	gen     uint64
	expires time.Time
}

func (c *clientCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *clientCache) get(key string, now time.Time) (Client, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.gen != c.gen || now.After(e.expires) {
		return Client{}, false
	}
	return e.client, true
}

func (c *clientCache) put(key string, cl Client, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) > 10000 {
		c.entries = map[string]cachedClient{}
	}
	c.entries[key] = cachedClient{client: cl, gen: gen, expires: now.Add(clientCacheTTL)}
}

func (c *clientCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.entries = nil
	c.mu.Unlock()
}

// invalidatingStore drops the client cache around every write that can
// change a client: any transaction, and direct writes of applications and
// service principals.
type invalidatingStore struct {
	Store
	cache *clientCache
}

func (s invalidatingStore) around(fn func() error) error {
	s.cache.invalidate()
	defer s.cache.invalidate()
	return fn()
}

func (s invalidatingStore) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.around(func() error { return s.Store.InTx(ctx, fn) })
}

func (s invalidatingStore) CreateApplication(ctx context.Context, a domain.Application) error {
	return s.around(func() error { return s.Store.CreateApplication(ctx, a) })
}

func (s invalidatingStore) UpdateApplication(ctx context.Context, a domain.Application) error {
	return s.around(func() error { return s.Store.UpdateApplication(ctx, a) })
}

func (s invalidatingStore) DeleteApplication(ctx context.Context, tenantID, id string) error {
	return s.around(func() error { return s.Store.DeleteApplication(ctx, tenantID, id) })
}

func (s invalidatingStore) CreateServicePrincipal(ctx context.Context, sp domain.ServicePrincipal) error {
	return s.around(func() error { return s.Store.CreateServicePrincipal(ctx, sp) })
}

func (s invalidatingStore) UpdateServicePrincipal(ctx context.Context, sp domain.ServicePrincipal) error {
	return s.around(func() error { return s.Store.UpdateServicePrincipal(ctx, sp) })
}

func (s invalidatingStore) DeleteServicePrincipal(ctx context.Context, tenantID, id string) error {
	return s.around(func() error { return s.Store.DeleteServicePrincipal(ctx, tenantID, id) })
}

// Follow drops cached clients whenever an application or service principal
// changes, on any replica: the change feed brings the commit, and the next
// lookup reads the store.
func (s *Service) Follow(f *feed.Follower) {
	forget := func(context.Context, store.Change) error { s.clients.invalidate(); return nil }
	f.On(store.ChangeApplication, forget)
	f.On(store.ChangeServicePrincipal, forget)
	f.Load(func(context.Context) error { s.clients.invalidate(); return nil })
}
