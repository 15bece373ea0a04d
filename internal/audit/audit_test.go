package audit_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/audit"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlite"
)

// newLog opens a Log on a fresh SQLite store, closed when the test ends.
func newLog(t *testing.T) (*sqlite.Store, *audit.Log) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, audit.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestGroupCommit: concurrent callers each learn their event is committed;
// every event lands exactly once, including those queued at Close.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	st, log := newLog(t)
	const writers, each = 8, 100
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				errs <- log.Record(ctx, domain.AuditEvent{ID: uuid.NewString(), Time: time.Now(), TenantID: "t", Kind: domain.AuditSignIn, Action: "token", Result: "success"})
			}
		}()
	}
	wg.Wait()
	log.Close()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	got, err := st.ListAudit(ctx, store.AuditFilter{TenantID: "t", Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != writers*each {
		t.Fatalf("%d events stored, want %d", len(got), writers*each)
	}
	if err := log.Record(ctx, domain.AuditEvent{ID: uuid.NewString()}); err != audit.ErrClosed {
		t.Fatalf("Record after Close = %v, want ErrClosed", err)
	}
}

// TestSubmitAssignsTimeOrderedIDs: an event without an id gets a version-7
// UUID, so ids sort by time; Submit's wait reports the commit.
func TestSubmitAssignsTimeOrderedIDs(t *testing.T) {
	ctx := context.Background()
	st, log := newLog(t)
	defer log.Close()
	var waits []func() error
	for i := 0; i < 3; i++ {
		waits = append(waits, log.Submit(ctx, domain.AuditEvent{Time: time.Now(), TenantID: "t", Kind: domain.AuditSignIn, Action: "token", Result: "success"}))
	}
	for _, wait := range waits {
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.ListAudit(ctx, store.AuditFilter{TenantID: "t", Limit: 10})
	if err != nil || len(got) != 3 {
		t.Fatalf("ListAudit: %d events, %v", len(got), err)
	}
	for _, ev := range got {
		id, err := uuid.Parse(ev.ID)
		if err != nil || id.Version() != 7 {
			t.Fatalf("id %q is not a version-7 UUID", ev.ID)
		}
	}
}
