package testserver

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresDSNEnv names a PostgreSQL server where the test user may create
// databases (scripts/test-setup.sh starts one and sets it).
const PostgresDSNEnv = "TESSERA_TEST_POSTGRES_DSN"

// FreshPostgres creates an empty database for one test and returns its DSN;
// the database is dropped when the test ends. It skips the test when no
// server is configured.
func FreshPostgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresDSNEnv)
	if admin == "" {
		t.Skip(PostgresDSNEnv + " not set; PostgreSQL-backed server tests skipped")
	}
	u, err := url.Parse(admin)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("%s must be a postgres:// URL", PostgresDSNEnv)
	}
	name := "tessera_it_" + strings.ToLower(rand.Text()[:12])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresDSNEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
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
	u.Path = "/" + name
	return u.String()
}
