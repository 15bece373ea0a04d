package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"github.com/tessera-id/tessera/internal/store/storedoc"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

const auditInsert = `INSERT INTO audit_events (id, time, tenant_id, kind, actor_id, actor_name, action, target,
	result, reason, client_ip, correlation_id, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// AppendAudit writes the events in one transaction. A single event needs none:
// one statement is atomic on its own, and sign-ins append one event each.
// Several events go to the server as one batch, one round trip for all.
func (s *Store) AppendAudit(ctx context.Context, events ...domain.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	args := make([][]any, len(events))
	for i, e := range events {
		a, err := auditArgs(e)
		if err != nil {
			return err
		}
		args[i] = a
	}
	if len(events) == 1 {
		if _, err := s.exec(ctx, auditInsert, args[0]...); err != nil {
			return fmt.Errorf("append audit event %s: %w", args[0][0], err)
		}
		return nil
	}
	return s.atomic(ctx, false, func(ts *Store) error {
		var b pgx.Batch
		for _, a := range args {
			b.Queue(auditInsert, a...)
		}
		br := ts.q.SendBatch(ctx, &b)
		for _, a := range args {
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				return fmt.Errorf("append audit event %s: %w", a[0], translate(err))
			}
		}
		return translate(br.Close())
	})
}

func auditArgs(e domain.AuditEvent) ([]any, error) {
	// An event must stay addressable (and the id column is unique), so one
	// that arrives without an id gets a random one.
	if e.ID == "" {
		e.ID = rand.Text()
	}
	var details []byte // nil is SQL NULL
	if len(e.Details) > 0 {
		var err error
		if details, err = json.Marshal(e.Details); err != nil {
			return nil, fmt.Errorf("append audit event %s: %w", e.ID, err)
		}
	}
	return []any{e.ID, storedoc.Utc(e.Time), e.TenantID, e.Kind, e.ActorID, e.ActorName, e.Action, e.Target,
		e.Result, e.Reason, e.ClientIP, e.CorrelationID, details}, nil
}

// ListAudit returns the matching events, newest first. The query text depends
// only on which filters are set, so pgx caches few distinct statements.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]domain.AuditEvent, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.TenantID != "" {
		where = append(where, "tenant_id = "+arg(f.TenantID))
	}
	if f.Kind != "" {
		where = append(where, "kind = "+arg(f.Kind))
	}
	if f.ID != "" {
		where = append(where, "id = "+arg(f.ID))
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= "+arg(storedoc.Utc(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "time <= "+arg(storedoc.Utc(f.Until)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}

	q := `SELECT id, time, tenant_id, kind, actor_id, actor_name, action, target, result, reason, client_ip,
		correlation_id, details FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time DESC, seq DESC LIMIT " + arg(limit)

	out := []domain.AuditEvent{}
	err := s.queryAll(ctx, q, args, func(r pgx.Rows) error {
		var (
			e       domain.AuditEvent
			t       time.Time
			details []byte
		)
		if err := r.Scan(&e.ID, &t, &e.TenantID, &e.Kind, &e.ActorID, &e.ActorName, &e.Action, &e.Target,
			&e.Result, &e.Reason, &e.ClientIP, &e.CorrelationID, &details); err != nil {
			return err
		}
		e.Time = t.UTC()
		if details != nil {
			if err := json.Unmarshal(details, &e.Details); err != nil {
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
