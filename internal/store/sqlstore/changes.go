package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/store"
)

// changed records that the object (kind, tenantID, key) changed in s's
// transaction; the change joins the feed when the transaction commits and
// is dropped with it, or with the savepoint it was made in.
func (s *Store) changed(kind store.ChangeKind, tenantID, key string) {
	*s.pending = append(*s.pending, store.Change{Kind: kind, TenantID: tenantID, Key: key})
}

// recording runs fn as one atomic write whose changes join the feed: the
// write methods of objects that replicas keep in memory go through it, so
// no such write can commit without its change.
func (s *Store) recording(ctx context.Context, fn func(ts *Store) error) error {
	return s.atomic(ctx, false, fn)
}

// changeRowsPerStatement bounds one insert into the feed.
const changeRowsPerStatement = 500

// appendChanges writes the transaction's pending changes to the feed, just
// before its commit. Taking the revisions by updating change_head holds
// that row's lock (PostgreSQL) or the database's write lock (SQLite) until
// the commit, so transactions that append commit in revision order and a
// follower never sees revision N before N-1. It is the transaction's last
// lock, taken when nothing else remains to wait for, so it cannot be part
// of a deadlock.
func (s *Store) appendChanges(ctx context.Context, tx *sql.Tx, pending []store.Change) (int64, error) {
	ts := &Store{h: s.h, tx: tx}
	var head int64
	err := ts.queryWrite(ctx, `UPDATE change_head SET revision = revision + ? WHERE id = 1 RETURNING revision`,
		[]any{int64(len(pending))}, func(r *sql.Rows) error { return r.Scan(&head) })
	if err != nil {
		return 0, fmt.Errorf("append changes: take revisions: %w", err)
	}
	if head == 0 {
		return 0, fmt.Errorf("append changes: change_head has no row")
	}
	now := s.t(time.Now())
	rev := head - int64(len(pending))
	for len(pending) > 0 {
		// Bounded statements: SQLite takes at most 32,766 parameters.
		n := min(len(pending), changeRowsPerStatement)
		q := `INSERT INTO changes (revision, time, kind, tenant_id, key) VALUES (?, ?, ?, ?, ?)` +
			strings.Repeat(", (?, ?, ?, ?, ?)", n-1)
		args := make([]any, 0, 5*n)
		for _, c := range pending[:n] {
			rev++
			args = append(args, rev, now, string(c.Kind), c.TenantID, c.Key)
		}
		if _, err := ts.exec(ctx, q, args...); err != nil {
			return 0, fmt.Errorf("append changes: %w", err)
		}
		pending = pending[n:]
	}
	if s.h.d.NotifyChanges != "" {
		if _, err := tx.ExecContext(ctx, s.h.d.NotifyChanges); err != nil {
			return 0, fmt.Errorf("append changes: notify: %w", err)
		}
	}
	return head, nil
}

// committed tells the follower of this process about a commit that
// appended changes up to revision.
func (s *Store) committed(ctx context.Context, revision int64) {
	s.Wake()
	if fn := s.h.onCommit.Load(); fn != nil {
		(*fn)(ctx, revision)
	}
}

// Wake signals the change follower that the feed may have grown: the
// backend calls it when it learns of another process's commit.
func (s *Store) Wake() {
	select {
	case s.h.signal <- struct{}{}:
	default: // a signal is pending already
	}
}

// ChangeSignal implements store.Feed.
func (s *Store) ChangeSignal() <-chan struct{} { return s.h.signal }

// OnCommit implements store.Feed.
func (s *Store) OnCommit(fn func(ctx context.Context, revision int64)) { s.h.onCommit.Store(&fn) }

// Revision implements store.Changes.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	var rev int64
	if err := s.queryRow(ctx, `SELECT revision FROM change_head WHERE id = 1`, nil, &rev); err != nil {
		return 0, fmt.Errorf("read feed revision: %w", err)
	}
	return rev, nil
}

// ChangesAfter implements store.Changes.
func (s *Store) ChangesAfter(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	var out []store.Change
	err := s.queryAll(ctx, `SELECT revision, time, kind, tenant_id, key FROM changes WHERE revision > ? ORDER BY revision LIMIT ?`,
		[]any{after, limit}, func(r *sql.Rows) error {
			var (
				c    store.Change
				at   dbTime
				kind string
			)
			if err := r.Scan(&c.Revision, &at, &kind, &c.TenantID, &c.Key); err != nil {
				return err
			}
			c.Time, c.Kind = at.T, store.ChangeKind(kind)
			out = append(out, c)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read changes after %d: %w", after, err)
	}
	return out, nil
}

// TrimChanges implements store.Changes.
func (s *Store) TrimChanges(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.execCount(ctx, `DELETE FROM changes WHERE time < ?`, s.t(before))
	if err != nil {
		return 0, fmt.Errorf("trim changes: %w", err)
	}
	return n, nil
}

// execRecorded runs one write of an object that replicas keep in memory and
// records its change, atomically. The change is recorded only when the
// write touched a row; mustTouch makes touching none ErrNotFound.
func (s *Store) execRecorded(ctx context.Context, c store.Change, mustTouch bool, q string, args ...any) error {
	return s.recording(ctx, func(ts *Store) error {
		n, err := ts.execCount(ctx, q, args...)
		switch {
		case err != nil:
			return err
		case n > 0:
			ts.changed(c.Kind, c.TenantID, c.Key)
		case mustTouch:
			return store.ErrNotFound
		}
		return nil
	})
}
