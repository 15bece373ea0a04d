package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/tessera-id/tessera/internal/store/storedoc"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

// --- compute nodes ---

const nodeColumns = `id, tenant_id, compute_id, name, secret_hash, created_by, created_at, rotated_at, expires_at`

func scanNode(r interface{ Scan(...any) error }) (domain.ComputeNode, error) {
	var (
		n                               domain.ComputeNode
		createdAt, rotatedAt, expiresAt dbTime
	)
	if err := r.Scan(&n.ID, &n.TenantID, &n.ComputeID, &n.Name, &n.SecretHash, &n.CreatedBy,
		&createdAt, &rotatedAt, &expiresAt); err != nil {
		return domain.ComputeNode{}, noRows(err)
	}
	n.CreatedAt, n.RotatedAt, n.ExpiresAt = createdAt.T, rotatedAt.T, expiresAt.T
	return n, nil
}

func (s *Store) CreateNode(ctx context.Context, n domain.ComputeNode) error {
	if _, err := s.exec(ctx, `INSERT INTO compute_nodes (id, tenant_id, compute_id, compute_key, name, secret_hash,
		created_by, created_at, rotated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.ID, n.TenantID, n.ComputeID, storedoc.Key(n.ComputeID), n.Name, n.SecretHash, n.CreatedBy,
		s.t(n.CreatedAt), s.t(n.RotatedAt), s.t(n.ExpiresAt)); err != nil {
		return fmt.Errorf("create node %s: %w", n.ID, err)
	}
	return nil
}

func (s *Store) GetNode(ctx context.Context, id string) (domain.ComputeNode, error) {
	row, err := s.row(ctx, `SELECT `+nodeColumns+` FROM compute_nodes WHERE id = ?`, id)
	if err != nil {
		return domain.ComputeNode{}, fmt.Errorf("get node %s: %w", id, err)
	}
	n, err := scanNode(row)
	if err != nil {
		return domain.ComputeNode{}, fmt.Errorf("get node %s: %w", id, err)
	}
	return n, nil
}

func (s *Store) ListNodes(ctx context.Context, computeID string) ([]domain.ComputeNode, error) {
	out := []domain.ComputeNode{}
	err := s.queryAll(ctx, `SELECT `+nodeColumns+` FROM compute_nodes WHERE compute_key = ? ORDER BY created_at, id`,
		[]any{storedoc.Key(computeID)}, func(r *sql.Rows) error {
			n, err := scanNode(r)
			if err != nil {
				return err
			}
			out = append(out, n)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list nodes of %s: %w", computeID, err)
	}
	return out, nil
}

func (s *Store) UpdateNodeSecret(ctx context.Context, id string, secretHash []byte, rotatedAt time.Time) error {
	if err := s.execOne(ctx, `UPDATE compute_nodes SET secret_hash = ?, rotated_at = ? WHERE id = ?`,
		secretHash, s.t(rotatedAt), id); err != nil {
		return fmt.Errorf("update secret of node %s: %w", id, err)
	}
	return nil
}

func (s *Store) DeleteNode(ctx context.Context, id string) error {
	if err := s.execOne(ctx, `DELETE FROM compute_nodes WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	return nil
}

// DeleteNodeTree selects the subtree as a key range, as DeleteResourceTree
// does: no LIKE pattern, so '_' and '%' in names are plain characters.
func (s *Store) DeleteNodeTree(ctx context.Context, resourceID string) (int64, error) {
	k := storedoc.Key(resourceID)
	res, err := s.exec(ctx, `DELETE FROM compute_nodes WHERE compute_key = ? OR (compute_key >= ? AND compute_key < ?)`,
		k, k+"/", k+"0")
	if err != nil {
		return 0, fmt.Errorf("delete nodes under %s: %w", resourceID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete nodes under %s: %w", resourceID, err)
	}
	return n, nil
}
