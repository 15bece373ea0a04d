package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// --- subscriptions ---

func (s *Store) CreateSubscription(ctx context.Context, sub domain.Subscription) error {
	if _, err := s.exec(ctx, `INSERT INTO subscriptions (id, tenant_id, display_name, state, created_at) VALUES (?, ?, ?, ?, ?)`,
		sub.ID, sub.TenantID, sub.DisplayName, sub.State, s.t(sub.CreatedAt)); err != nil {
		return fmt.Errorf("create subscription %s: %w", sub.ID, err)
	}
	return nil
}

const subscriptionColumns = `id, tenant_id, display_name, state, created_at`

func scanSubscription(r interface{ Scan(...any) error }) (domain.Subscription, error) {
	var (
		sub       domain.Subscription
		createdAt dbTime
	)
	if err := r.Scan(&sub.ID, &sub.TenantID, &sub.DisplayName, &sub.State, &createdAt); err != nil {
		return domain.Subscription{}, noRows(err)
	}
	sub.CreatedAt = createdAt.T
	return sub, nil
}

func (s *Store) GetSubscription(ctx context.Context, id string) (domain.Subscription, error) {
	row, err := s.row(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id = ?`, id)
	if err != nil {
		return domain.Subscription{}, fmt.Errorf("get subscription %s: %w", id, err)
	}
	sub, err := scanSubscription(row)
	if err != nil {
		return domain.Subscription{}, fmt.Errorf("get subscription %s: %w", id, err)
	}
	return sub, nil
}

func (s *Store) ListSubscriptions(ctx context.Context, tenantID string) ([]domain.Subscription, error) {
	out := []domain.Subscription{}
	err := s.queryAll(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE tenant_id = ? ORDER BY created_at, id`,
		[]any{tenantID}, func(r *sql.Rows) error {
			sub, err := scanSubscription(r)
			if err != nil {
				return err
			}
			out = append(out, sub)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list subscriptions of %s: %w", tenantID, err)
	}
	return out, nil
}

// --- role assignments ---

func (s *Store) CreateRoleAssignment(ctx context.Context, a domain.RoleAssignment) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeRoleAssignment, TenantID: a.TenantID, Key: a.ID}, true,
		`INSERT INTO role_assignments (id, tenant_id, scope, role_definition_id, principal_id,
		principal_type, description, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.TenantID, a.Scope, a.RoleDefinitionID, a.PrincipalID, a.PrincipalType, a.Description, a.CreatedBy,
		s.t(a.CreatedAt), s.t(a.UpdatedAt)); err != nil {
		return fmt.Errorf("create role assignment %s: %w", a.ID, err)
	}
	return nil
}

const roleAssignmentColumns = `id, tenant_id, scope, role_definition_id, principal_id, principal_type, description, created_by, created_at, updated_at`

func scanRoleAssignment(r interface{ Scan(...any) error }) (domain.RoleAssignment, error) {
	var (
		a                    domain.RoleAssignment
		createdAt, updatedAt dbTime
	)
	if err := r.Scan(&a.ID, &a.TenantID, &a.Scope, &a.RoleDefinitionID, &a.PrincipalID, &a.PrincipalType,
		&a.Description, &a.CreatedBy, &createdAt, &updatedAt); err != nil {
		return domain.RoleAssignment{}, noRows(err)
	}
	a.CreatedAt = createdAt.T
	a.UpdatedAt = updatedAt.T
	return a, nil
}

func (s *Store) GetRoleAssignment(ctx context.Context, id string) (domain.RoleAssignment, error) {
	row, err := s.row(ctx, `SELECT `+roleAssignmentColumns+` FROM role_assignments WHERE id = ?`, id)
	if err != nil {
		return domain.RoleAssignment{}, fmt.Errorf("get role assignment %s: %w", id, err)
	}
	a, err := scanRoleAssignment(row)
	if err != nil {
		return domain.RoleAssignment{}, fmt.Errorf("get role assignment %s: %w", id, err)
	}
	return a, nil
}

// ListRoleAssignments reads a tenant's assignments in no particular order:
// a replica loads them all at start, a million of them in a large tenant,
// where sorting would cost more than reading and a growing slice would copy
// them over and over; hence no ORDER BY, and the count first.
func (s *Store) ListRoleAssignments(ctx context.Context, tenantID string) ([]domain.RoleAssignment, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT count(*) FROM role_assignments WHERE tenant_id = ?`, []any{tenantID}, &n); err != nil {
		return nil, fmt.Errorf("count role assignments of %s: %w", tenantID, err)
	}
	// Rows committed between the count and the read only grow the slice.
	out := make([]domain.RoleAssignment, 0, n)
	err := s.queryAll(ctx, `SELECT `+roleAssignmentColumns+` FROM role_assignments WHERE tenant_id = ?`,
		[]any{tenantID}, func(r *sql.Rows) error {
			a, err := scanRoleAssignment(r)
			if err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list role assignments of %s: %w", tenantID, err)
	}
	return out, nil
}

func (s *Store) DeleteRoleAssignment(ctx context.Context, id string) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeRoleAssignment, Key: id}, true,
		`DELETE FROM role_assignments WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete role assignment %s: %w", id, err)
	}
	return nil
}

// --- signing keys ---

func (s *Store) CreateSigningKey(ctx context.Context, k domain.SigningKey) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeSigningKey, Key: k.ID}, true,
		`INSERT INTO signing_keys (id, algorithm, state, private_key, certificate, created_at, activated_at, retired_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.State, k.PrivateKey, k.Certificate,
		s.t(k.CreatedAt), s.t(k.ActivatedAt), s.t(k.RetiredAt)); err != nil {
		return fmt.Errorf("create signing key %s: %w", k.ID, err)
	}
	return nil
}

func (s *Store) ListSigningKeys(ctx context.Context) ([]domain.SigningKey, error) {
	out := []domain.SigningKey{}
	err := s.queryAll(ctx, `SELECT id, algorithm, state, private_key, certificate, created_at, activated_at, retired_at
		FROM signing_keys ORDER BY created_at, id`, nil, func(r *sql.Rows) error {
		var (
			k                             domain.SigningKey
			createdAt, activated, retired dbTime
		)
		if err := r.Scan(&k.ID, &k.Algorithm, &k.State, &k.PrivateKey, &k.Certificate, &createdAt, &activated, &retired); err != nil {
			return err
		}
		k.CreatedAt = createdAt.T
		k.ActivatedAt = activated.T
		k.RetiredAt = retired.T
		out = append(out, k)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return out, nil
}

func (s *Store) UpdateSigningKey(ctx context.Context, k domain.SigningKey) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeSigningKey, Key: k.ID}, true,
		`UPDATE signing_keys SET state = ?, activated_at = ?, retired_at = ? WHERE id = ?`,
		k.State, s.t(k.ActivatedAt), s.t(k.RetiredAt), k.ID); err != nil {
		return fmt.Errorf("update signing key %s: %w", k.ID, err)
	}
	return nil
}

// --- replay ---

// Remember is one statement so that SQLite decides atomically between "new",
// "expired, take it over" and "live, conflict": the upsert's WHERE leaves a
// live row untouched, and zero changed rows means the value was replayed.
func (s *Store) Remember(ctx context.Context, k string, expiresAt time.Time) error {
	res, err := s.exec(ctx, `INSERT INTO replay (key, expires_at) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE replay.expires_at < ?`,
		k, s.t(expiresAt), s.t(time.Now()))
	if err != nil {
		return fmt.Errorf("remember %q: %w", k, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("remember %q: %w", k, err)
	}
	if n == 0 {
		return fmt.Errorf("remember %q: %w", k, store.ErrConflict)
	}
	return nil
}

func (s *Store) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM replay WHERE expires_at < ?`, s.t(now))
	if err != nil {
		return 0, fmt.Errorf("purge expired replay records: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge expired replay records: %w", err)
	}
	return n, nil
}
