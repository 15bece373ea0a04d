package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/tessera-id/tessera/internal/store/storedoc"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

const auditInsert = `INSERT INTO audit_events (id, time, tenant_id, kind, actor_id, actor_name, action, target,
	result, reason, client_ip, correlation_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// auditRowsPerStatement bounds a multi-row audit insert (13 parameters a row).
const auditRowsPerStatement = 64

// AppendAudit writes the events in one transaction. A single event needs none:
// one statement is atomic on its own, and sign-ins append one event each.
// Where statements are prepared (SQLite, in process) a batch is one prepared
// insert per event; elsewhere each round trip costs more than parsing, so a
// batch goes as multi-row inserts.
func (s *Store) AppendAudit(ctx context.Context, events ...domain.AuditEvent) error {
	switch len(events) {
	case 0:
		return nil
	case 1:
		return s.insertAudit(ctx, events)
	}
	return s.atomic(ctx, false, func(ts *Store) error {
		per := auditRowsPerStatement
		if s.h.d.PrepareStatements {
			per = 1
		}
		for len(events) > 0 {
			n := min(per, len(events))
			if err := ts.insertAudit(ctx, events[:n]); err != nil {
				return err
			}
			events = events[n:]
		}
		return nil
	})
}

// insertAudit inserts events with one statement.
func (s *Store) insertAudit(ctx context.Context, events []domain.AuditEvent) error {
	q := auditInsert
	if len(events) > 1 {
		q += strings.Repeat(", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", len(events)-1)
	}
	args := make([]any, 0, 13*len(events))
	for _, e := range events {
		// An event must stay addressable (and the id column is unique), so
		// one that arrives without an id gets a random one.
		if e.ID == "" {
			e.ID = rand.Text()
		}
		var details sql.NullString
		if len(e.Details) > 0 {
			b, err := json.Marshal(e.Details)
			if err != nil {
				return fmt.Errorf("append audit event %s: %w", e.ID, err)
			}
			details = sql.NullString{String: string(b), Valid: true}
		}
		args = append(args, e.ID, s.t(storedoc.Utc(e.Time)), e.TenantID, e.Kind, e.ActorID, e.ActorName,
			e.Action, e.Target, e.Result, e.Reason, e.ClientIP, e.CorrelationID, details)
	}
	if _, err := s.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("append %d audit events (first %s): %w", len(events), events[0].ID, err)
	}
	return nil
}

// ListAudit returns the matching events, newest first. The query text depends
// only on which filters are set, so there are few distinct statements to cache.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]domain.AuditEvent, error) {
	var (
		where []string
		args  []any
	)
	if f.TenantID != "" {
		where = append(where, "tenant_id = ?")
		args = append(args, f.TenantID)
	}
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, f.Kind)
	}
	if f.ID != "" {
		where = append(where, "id = ?")
		args = append(args, f.ID)
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, s.t(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "time <= ?")
		args = append(args, s.t(f.Until))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)

	q := `SELECT id, time, tenant_id, kind, actor_id, actor_name, action, target, result, reason, client_ip,
		correlation_id, details FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time DESC, seq DESC LIMIT ?"

	out := []domain.AuditEvent{}
	err := s.queryAll(ctx, q, args, func(r *sql.Rows) error {
		var (
			e       domain.AuditEvent
			t       dbTime
			details sql.NullString
		)
		if err := r.Scan(&e.ID, &t, &e.TenantID, &e.Kind, &e.ActorID, &e.ActorName, &e.Action, &e.Target,
			&e.Result, &e.Reason, &e.ClientIP, &e.CorrelationID, &details); err != nil {
			return err
		}
		e.Time = t.T
		if details.Valid {
			if err := json.Unmarshal([]byte(details.String), &e.Details); err != nil {
				return fmt.Errorf("audit event %s: decode details: %w", e.ID, err)
			}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return out, nil
}
