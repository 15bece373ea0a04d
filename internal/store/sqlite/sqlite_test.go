package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/storetest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "tessera.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestOpenRejectsSharedMemoryPaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

func TestFilesAreOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tessera.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A write creates the -wal file (and the reader the -shm file).
	if err := s.Remember(t.Context(), "k", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group and others", filepath.Base(p), mode)
		}
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tessera.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	app := domain.Application{
		ID: "11111111-1111-1111-1111-111111111111", TenantID: "t", AppID: "22222222-2222-2222-2222-222222222222",
		DisplayName: "durable", WebRedirectURIs: []string{"https://example.com/cb"},
		CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 678_901_000, time.UTC),
	}
	if err := s.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(ctx, "jti-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening applies no migration twice and finds everything.
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.GetApplicationByAppID(ctx, "t", strings.ToUpper(app.AppID))
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != app.DisplayName || !got.CreatedAt.Equal(app.CreatedAt) || len(got.WebRedirectURIs) != 1 {
		t.Fatalf("after reopen got %+v, want %+v", got, app)
	}
	if err := s.Remember(ctx, "jti-1", time.Now().Add(time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("replay key after reopen: %v, want ErrConflict", err)
	}
	db, err := sql.Open("sqlite", path+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var migrations int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&migrations); err != nil {
		t.Fatal(err)
	}
	files, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if migrations != len(files) {
		t.Fatalf("schema_migrations has %d rows, want %d", migrations, len(files))
	}
}

// TestAcknowledgedWritesSurviveKill checks the durability promise directly: a
// child process writes and reports each write as soon as it returns, the test
// kills it with SIGKILL mid-stream, and every reported write must be there
// when the file is reopened.
func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	if os.Getenv("TESSERA_SQLITE_KILL_CHILD") != "" {
		t.Skip("running as the child of this test")
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	path := filepath.Join(t.TempDir(), "tessera.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESSERA_SQLITE_KILL_CHILD="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if id, ok := strings.CutPrefix(lines.Text(), "acked "); ok {
			acked = append(acked, id)
			if len(acked) == 200 {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(acked) < 200 {
		t.Fatalf("child acknowledged only %d writes before exiting", len(acked))
	}

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range acked {
		if _, err := s.GetUser(t.Context(), "t", id); err != nil {
			t.Fatalf("acknowledged write %s lost after SIGKILL: %v", id, err)
		}
	}
}

// TestKillChild is the child of TestAcknowledgedWritesSurviveKill; it writes
// until killed.
func TestKillChild(t *testing.T) {
	path := os.Getenv("TESSERA_SQLITE_KILL_CHILD")
	if path == "" {
		t.Skip("only runs as a child process")
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		id := "user-" + strconv.Itoa(i)
		u := domain.User{ID: id, TenantID: "t", UserPrincipalName: id + "@example.com"}
		if err := s.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		// Audit batches go through a transaction rather than one statement.
		if err := s.AppendAudit(context.Background(),
			domain.AuditEvent{ID: id + "-a", Time: time.Now(), TenantID: "t"},
			domain.AuditEvent{ID: id + "-b", Time: time.Now(), TenantID: "t"}); err != nil {
			t.Fatal(err)
		}
		fmt.Println("acked", id)
	}
}

func BenchmarkGetApplicationByAppID(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	tenantID := "bench-tenant"
	var appIDs []string
	for i := range 1000 {
		a := benchApplication(tenantID, i)
		if err := s.CreateApplication(ctx, a); err != nil {
			b.Fatal(err)
		}
		appIDs = append(appIDs, a.AppID)
	}
	b.Run("serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := s.GetApplicationByAppID(ctx, tenantID, appIDs[i%len(appIDs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.GetApplicationByAppID(ctx, tenantID, appIDs[i%len(appIDs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}

// BenchmarkTokenPathReads is the store work of one token request: the tenant,
// the client application and its service principal.
func BenchmarkTokenPathReads(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	tn := domain.Tenant{ID: "bench-tenant", Domains: []string{"contoso.example"}, CreatedAt: time.Now()}
	if err := s.CreateTenant(ctx, tn); err != nil {
		b.Fatal(err)
	}
	var appIDs []string
	for i := range 1000 {
		a := benchApplication(tn.ID, i)
		sp := domain.ServicePrincipal{ID: fmt.Sprintf("sp-%d", i), TenantID: tn.ID, AppID: a.AppID, AppRoles: a.AppRoles,
			PasswordCredentials: a.PasswordCredentials, CreatedAt: time.Now()}
		if err := s.CreateApplication(ctx, a); err != nil {
			b.Fatal(err)
		}
		if err := s.CreateServicePrincipal(ctx, sp); err != nil {
			b.Fatal(err)
		}
		appIDs = append(appIDs, a.AppID)
	}
	b.ResetTimer() // the setup above is not the measured work
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			appID := appIDs[i%len(appIDs)]
			i++
			if _, err := s.GetTenant(ctx, tn.ID); err != nil {
				b.Fatal(err)
			}
			if _, err := s.GetApplicationByAppID(ctx, tn.ID, appID); err != nil {
				b.Fatal(err)
			}
			if _, err := s.GetServicePrincipalByAppID(ctx, tn.ID, appID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchApplication(tenantID string, i int) domain.Application {
	now := time.Now()
	return domain.Application{
		ID:              fmt.Sprintf("app-%d", i),
		TenantID:        tenantID,
		AppID:           fmt.Sprintf("%08d-0000-4000-8000-000000000000", i),
		DisplayName:     fmt.Sprintf("app %d", i),
		SignInAudience:  "AzureADMyOrg",
		IdentifierURIs:  []string{fmt.Sprintf("api://app-%d", i)},
		WebRedirectURIs: []string{"https://app.example.com/signin-oidc"},
		AppRoles: []domain.AppRole{{ID: "r1", AllowedMemberTypes: []string{"Application"}, DisplayName: "Reader",
			IsEnabled: true, Value: "Data.Read"}},
		PasswordCredentials: []domain.PasswordCredential{{KeyID: "k1", Hint: "abc", SecretHash: make([]byte, 32),
			StartDateTime: now, EndDateTime: now.AddDate(1, 0, 0)}},
		CreatedAt: now,
	}
}

func BenchmarkAppendAudit(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := openTemp(b)
			ctx := context.Background()
			events := make([]domain.AuditEvent, batch)
			n := 0
			for b.Loop() {
				for i := range events {
					n++
					events[i] = domain.AuditEvent{
						ID: fmt.Sprintf("ev-%d", n), Time: time.Now(), TenantID: "bench-tenant", Kind: domain.AuditSignIn,
						ActorID: "client", Action: "token.client_credentials", Target: "resource", Result: "success",
						ClientIP: "10.0.0.1", CorrelationID: "corr", Details: map[string]string{"grant": "client_credentials"},
					}
				}
				if err := s.AppendAudit(ctx, events...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
