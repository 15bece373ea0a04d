package integration

import (
	"sync"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// TestPostgresReplicas runs two servers on one PostgreSQL database: they
// share keys and state, so what one writes the other serves at once, and a
// token one mints verifies against the other's JWKS.
func TestPostgresReplicas(t *testing.T) {
	dsn := testserver.FreshPostgres(t)
	a := testserver.Start(t, testserver.Options{Store: dsn})
	b := testserver.Start(t, testserver.Options{Store: dsn, Replica: a})

	app := a.CreateApp(t, "replicated", nil)
	tok := b.AppToken(t, app.AppID, app.Secret, armScope)
	claims := verifyWithJWKS(t, a, tok)
	if claims["appid"] != app.AppID || claims["tid"] != a.Bootstrap.TenantID {
		t.Fatalf("claims from replica b: %v", claims)
	}
	verifyWithJWKS(t, b, a.AppToken(t, app.AppID, app.Secret, armScope))
}

// TestPostgresConcurrentBootstrap starts replicas on an empty database at
// once: exactly one bootstraps, and all serve the same tenant.
func TestPostgresConcurrentBootstrap(t *testing.T) {
	dsn := testserver.FreshPostgres(t)
	tenants := make([]string, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tenants[i], errs[i] = testserver.StartBare(t, dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	if tenants[0] == "" || tenants[0] != tenants[1] || tenants[1] != tenants[2] {
		t.Fatalf("replicas serve different tenants: %v", tenants)
	}
}
