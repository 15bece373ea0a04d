package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/tessera-id/tessera/internal/store/storedoc"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// --- role definitions ---

func (s *Store) CreateRoleDefinition(ctx context.Context, d domain.RoleDefinition) error {
	doc, err := storedoc.EncodeRoleDefinition(d)
	if err != nil {
		return fmt.Errorf("create role definition %s: %w", d.ID, err)
	}
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeRoleDefinition, TenantID: d.TenantID, Key: storedoc.Key(d.ID)}, true,
		`INSERT INTO role_definitions (id_key, tenant_id, role_name_key, created_at, doc) VALUES (?, ?, ?, ?, ?)`,
		storedoc.Key(d.ID), d.TenantID, storedoc.Key(d.RoleName), s.t(d.CreatedAt), string(doc)); err != nil {
		return fmt.Errorf("create role definition %s: %w", d.ID, err)
	}
	return nil
}

func (s *Store) GetRoleDefinition(ctx context.Context, id string) (domain.RoleDefinition, error) {
	var doc []byte
	if err := s.queryRow(ctx, `SELECT doc FROM role_definitions WHERE id_key = ?`, []any{storedoc.Key(id)}, &doc); err != nil {
		return domain.RoleDefinition{}, fmt.Errorf("get role definition %s: %w", id, err)
	}
	d, err := storedoc.DecodeRoleDefinition(doc)
	if err != nil {
		return domain.RoleDefinition{}, fmt.Errorf("get role definition %s: decode: %w", id, err)
	}
	return d, nil
}

func (s *Store) ListRoleDefinitions(ctx context.Context, tenantID string) ([]domain.RoleDefinition, error) {
	out := []domain.RoleDefinition{}
	err := s.queryAll(ctx, `SELECT doc FROM role_definitions WHERE tenant_id = ? ORDER BY created_at, id_key`,
		[]any{tenantID}, func(r *sql.Rows) error {
			var doc []byte
			if err := r.Scan(&doc); err != nil {
				return err
			}
			d, err := storedoc.DecodeRoleDefinition(doc)
			if err != nil {
				return fmt.Errorf("decode: %w", err)
			}
			out = append(out, d)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list role definitions of %s: %w", tenantID, err)
	}
	return out, nil
}

// UpdateRoleDefinition replaces the definition matched by id within its
// tenant: a definition never moves to another tenant.
func (s *Store) UpdateRoleDefinition(ctx context.Context, d domain.RoleDefinition) error {
	doc, err := storedoc.EncodeRoleDefinition(d)
	if err != nil {
		return fmt.Errorf("update role definition %s: %w", d.ID, err)
	}
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeRoleDefinition, TenantID: d.TenantID, Key: storedoc.Key(d.ID)}, true,
		`UPDATE role_definitions SET role_name_key = ?, created_at = ?, doc = ? WHERE id_key = ? AND tenant_id = ?`,
		storedoc.Key(d.RoleName), s.t(d.CreatedAt), string(doc), storedoc.Key(d.ID), d.TenantID); err != nil {
		return fmt.Errorf("update role definition %s: %w", d.ID, err)
	}
	return nil
}

func (s *Store) DeleteRoleDefinition(ctx context.Context, id string) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeRoleDefinition, Key: storedoc.Key(id)}, true,
		`DELETE FROM role_definitions WHERE id_key = ?`, storedoc.Key(id)); err != nil {
		return fmt.Errorf("delete role definition %s: %w", id, err)
	}
	return nil
}
