package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

// TestBackgroundCheckpoint: committed pages reach the database file within
// a few checkpoint periods, long before the writer's own automatic
// checkpoint (autoCheckpointPages of WAL) would copy them.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tessera.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := fileSize(t, path)
	events := make([]domain.AuditEvent, 200)
	for i := range events {
		events[i] = domain.AuditEvent{Time: time.Now(), TenantID: "t", Kind: domain.AuditSignIn, Action: "token",
			Result: "success", Reason: string(make([]byte, 500))}
	}
	if err := s.AppendAudit(ctx, events...); err != nil {
		t.Fatal(err)
	}
	if wal := fileSize(t, path+"-wal"); wal/4096 >= autoCheckpointPages {
		t.Fatalf("test writes %d bytes of WAL, enough to trigger the writer's own checkpoint", wal)
	}
	deadline := time.Now().Add(10 * checkpointEvery)
	for fileSize(t, path) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes after %s: no background checkpoint", before, 10*checkpointEvery)
		}
		time.Sleep(checkpointEvery / 5)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
