package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/rbac"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/postgres"
	"github.com/tessera-id/tessera/internal/store/sqlite"
	"github.com/tessera-id/tessera/test/testserver"
)

// The change feed's costs: how fast a replica applies other replicas'
// writes, how long a replica with many role assignments takes to start, and
// what an idle replica spends following the feed.
//
//	go test -run '^$' -bench 'Feed' -benchtime 1x ./bench/
//
// TESSERA_BENCH_ASSIGNMENTS (default 1,000,000) sizes the start-up and idle
// benchmarks, TESSERA_BENCH_IDLE (default 1m) the idle one;
// TESSERA_TEST_POSTGRES_DSN adds PostgreSQL to SQLite.

const readerRole = "acdd72a7-3385-48ef-bd42-f606fba81ae7"

type backend struct {
	name string
	// open returns two handles on one empty database: two replicas.
	open func(b *testing.B) (store.Store, store.Store)
}

func backends(b *testing.B) []backend {
	out := []backend{{"sqlite", func(b *testing.B) (store.Store, store.Store) {
		path := filepath.Join(b.TempDir(), "t.db")
		return openSQLite(b, path), openSQLite(b, path)
	}}}
	if os.Getenv("TESSERA_TEST_POSTGRES_DSN") != "" {
		out = append(out, backend{"postgres", func(b *testing.B) (store.Store, store.Store) {
			dsn := testserver.FreshPostgres(b)
			return openPostgres(b, dsn), openPostgres(b, dsn)
		}})
	}
	return out
}

func openSQLite(b *testing.B, path string) store.Store {
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(b *testing.B, dsn string) store.Store {
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func follower(b *testing.B, st store.Store) (*feed.Follower, *rbac.Service) {
	svc := rbac.NewService(st, rbac.New(), nil)
	f := feed.New(st, feed.Options{})
	svc.Follow(f)
	if err := f.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	return f, svc
}

// writeAssignments stores n assignments, in transactions of batch.
func writeAssignments(b *testing.B, st store.Store, tenant string, n, batch int) {
	ctx := context.Background()
	now := time.Now()
	for done := 0; done < n; {
		err := st.InTx(ctx, func(tx store.Tx) error {
			for i := 0; i < batch && done+i < n; i++ {
				if err := tx.CreateRoleAssignment(ctx, domain.RoleAssignment{ID: uuid.NewString(), TenantID: tenant,
					Scope: fmt.Sprintf("/subscriptions/%s/resourceGroups/rg-%d", tenant, (done+i)%1000), RoleDefinitionID: readerRole,
					PrincipalID: uuid.NewString(), PrincipalType: domain.PrincipalServicePrincipal, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += batch
	}
}

func newTenant(b *testing.B, st store.Store) string {
	id := uuid.NewString()
	if err := st.CreateTenant(context.Background(), domain.Tenant{ID: id, DisplayName: "bench", Domains: []string{id[:8] + ".bench"}}); err != nil {
		b.Fatal(err)
	}
	return id
}

// BenchmarkFeedApply: one replica commits 10,000 role assignments, one per
// transaction; another applies them from the feed.
func BenchmarkFeedApply(b *testing.B) {
	const n = 10_000
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				writer, reader := be.open(b)
				f, _ := follower(b, reader)
				tenant := newTenant(b, writer)
				writeAssignments(b, writer, tenant, n, 1)
				head, err := writer.Revision(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if err := f.WaitFor(context.Background(), head); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(n/time.Since(start).Seconds(), "changes/s")
			}
		})
	}
}

func assignmentsToLoad() int {
	if n, err := strconv.Atoi(os.Getenv("TESSERA_BENCH_ASSIGNMENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFeedStartAndIdle: a replica starts on a database holding
// TESSERA_BENCH_ASSIGNMENTS role assignments (the only full load there is),
// then follows the feed idle for TESSERA_BENCH_IDLE; it reports the start's
// seconds and the CPU the idle follower spent.
func BenchmarkFeedStartAndIdle(b *testing.B) {
	n := assignmentsToLoad()
	idle := time.Minute
	if d, err := time.ParseDuration(os.Getenv("TESSERA_BENCH_IDLE")); err == nil {
		idle = d
	}
	// SQLite only: seeding a million rows through the store's guarded
	// writes (a savepoint each) takes minutes on PostgreSQL.
	for _, be := range backends(b)[:1] {
		b.Run(be.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				writer, reader := be.open(b)
				tenant := newTenant(b, writer)
				writeAssignments(b, writer, tenant, n, 10_000)
				b.StartTimer()
				start := time.Now()
				f, svc := follower(b, reader)
				b.ReportMetric(time.Since(start).Seconds(), "start-s")
				b.Logf("%d assignments: start %v", n, time.Since(start))
				b.StopTimer()
				if got := len(svc.Assignments(tenant)); got != n {
					b.Fatalf("index holds %d assignments, want %d", got, n)
				}
				ctx, cancel := context.WithTimeout(context.Background(), idle)
				before := cpuTime()
				f.Run(ctx)
				cancel()
				b.ReportMetric((cpuTime() - before).Seconds(), "idle-cpu-s")
				b.ReportMetric(idle.Seconds(), "idle-s")
				b.StartTimer()
			}
		})
	}
}
