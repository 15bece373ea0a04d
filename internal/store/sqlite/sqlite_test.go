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

func BenchmarkStore(b *testing.B) {
	storetest.RunBenchmarks(b, func(b *testing.B) store.Store { return openTemp(b) })
}

// BenchmarkCommit measures one committed write (a sign-in record, the most
// frequent) under each synchronous setting: FULL pays an fsync of the WAL per
// commit.
func BenchmarkCommit(b *testing.B) {
	for _, sync := range []string{"full", "normal"} {
		b.Run(sync, func(b *testing.B) {
			s, err := OpenWith(context.Background(), filepath.Join(b.TempDir(), "tessera.db"), Options{Synchronous: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			n := 0
			for b.Loop() {
				n++
				if err := s.AppendAudit(context.Background(), domain.AuditEvent{ID: fmt.Sprintf("ev-%d", n), Time: time.Now(),
					TenantID: "t", Kind: domain.AuditSignIn, Action: "token.client_credentials", Result: "success"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
