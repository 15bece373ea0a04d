package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/storetest"
)

// dsnEnv names a server where the test user may CREATE DATABASE;
// testdata/start-postgres.sh starts one and prints the line that sets it.
const dsnEnv = "TESSERA_TEST_POSTGRES_DSN"

func adminDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skip(dsnEnv + " not set; PostgreSQL conformance skipped")
	}
	return dsn
}

// freshDatabase creates an empty database for one test, drops it when the
// test ends, and returns a DSN for it.
func freshDatabase(t testing.TB) string {
	t.Helper()
	admin := adminDSN(t)
	name := "tessera_test_" + strings.ToLower(rand.Text()[:12])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", dsnEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	// Registered before the caller registers Close, so it runs after it.
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// withDatabase points dsn, in either of libpq's forms, at database name.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", dsnEnv, err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	// In the key=value form the last occurrence of a key wins.
	return dsn + " dbname=" + name, nil
}

func openFresh(t testing.TB) *Store {
	t.Helper()
	return openAt(t, freshDatabase(t))
}

// openAt opens the store on dsn until the test ends.
func openAt(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	adminDSN(t) // skip once rather than in every group
	storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
}

// TestConcurrentOpen starts several stores on one empty database at once, as
// replicas do after a deploy: the advisory lock must let exactly one of them
// apply each migration and the others find the schema ready.
func TestConcurrentOpen(t *testing.T) {
	dsn := freshDatabase(t)
	const replicas = 6
	var (
		wg     sync.WaitGroup
		stores = make([]*Store, replicas)
		errs   = make([]error, replicas)
	)
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var n int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	files, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(files) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(files))
	}
	// Every replica sees the others' writes.
	app := domain.Application{ID: "app-1", TenantID: "t", AppID: "Abc"}
	if err := stores[1].CreateApplication(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[replicas-1].GetApplicationByAppID(t.Context(), "t", "aBC"); err != nil {
		t.Fatal(err)
	}
	if err := stores[2].CreateApplication(t.Context(), app); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate from another replica: %v, want ErrConflict", err)
	}
}

func TestOpenErrorHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://tessera:s3cret-pw@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@h:5432/postgres?sslmode=disable", "postgres://u:p@h:5432/x?sslmode=disable"},
		{"postgresql://h/postgres", "postgresql://h/x"},
		{"host=h user=u dbname=postgres", "host=h user=u dbname=postgres dbname=x"},
	} {
		got, err := withDatabase(c.in, "x")
		if err != nil || got != c.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func BenchmarkStore(b *testing.B) {
	adminDSN(b)
	storetest.RunBenchmarks(b, func(b *testing.B) store.Store { return openFresh(b) })
}
