package postgres

import (
	"context"
	"fmt"
	"github.com/tessera-id/tessera/internal/store/storedoc"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-id/tessera/internal/domain"
)

// --- compute nodes ---

const nodeColumns = `id, tenant_id, compute_id, name, secret_hash, created_by, created_at, rotated_at, expires_at`

func scanNode(r interface{ Scan(...any) error }) (domain.ComputeNode, error) {
	var (
		n                               domain.ComputeNode
		createdAt, rotatedAt, expiresAt *time.Time
	)
	if err := r.Scan(&n.ID, &n.TenantID, &n.ComputeID, &n.Name, &n.SecretHash, &n.CreatedBy,
		&createdAt, &rotatedAt, &expiresAt); err != nil {
		return domain.ComputeNode{}, translate(err)
	}
	n.CreatedAt, n.RotatedAt, n.ExpiresAt = fromPgTime(createdAt), fromPgTime(rotatedAt), fromPgTime(expiresAt)
	return n, nil
}

func (s *Store) CreateNode(ctx context.Context, n domain.ComputeNode) error {
	if _, err := s.exec(ctx, `INSERT INTO compute_nodes (id, tenant_id, compute_id, compute_key, name, secret_hash,
		created_by, created_at, rotated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		n.ID, n.TenantID, n.ComputeID, storedoc.Key(n.ComputeID), n.Name, n.SecretHash, n.CreatedBy,
		pgTime(n.CreatedAt), pgTime(n.RotatedAt), pgTime(n.ExpiresAt)); err != nil {
		return fmt.Errorf("create node %s: %w", n.ID, err)
	}
	return nil
}

func (s *Store) GetNode(ctx context.Context, id string) (domain.ComputeNode, error) {
	n, err := scanNode(s.q.QueryRow(ctx, `SELECT `+nodeColumns+` FROM compute_nodes WHERE id = $1`, id))
	if err != nil {
		return domain.ComputeNode{}, fmt.Errorf("get node %s: %w", id, err)
	}
	return n, nil
}

func (s *Store) ListNodes(ctx context.Context, computeID string) ([]domain.ComputeNode, error) {
	out := []domain.ComputeNode{}
	err := s.queryAll(ctx, `SELECT `+nodeColumns+` FROM compute_nodes WHERE compute_key = $1 ORDER BY created_at, id`,
		[]any{storedoc.Key(computeID)}, func(r pgx.Rows) error {
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
	if err := s.execOne(ctx, `UPDATE compute_nodes SET secret_hash = $1, rotated_at = $2 WHERE id = $3`,
		secretHash, pgTime(rotatedAt), id); err != nil {
		return fmt.Errorf("update secret of node %s: %w", id, err)
	}
	return nil
}

func (s *Store) DeleteNode(ctx context.Context, id string) error {
	if err := s.execOne(ctx, `DELETE FROM compute_nodes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	return nil
}

// DeleteNodeTree selects the subtree as a key range of the COLLATE "C"
// compute_key, as DeleteResourceTree does: no LIKE pattern, so '_' and '%'
// in names are plain characters.
func (s *Store) DeleteNodeTree(ctx context.Context, resourceID string) (int64, error) {
	k := storedoc.Key(resourceID)
	tag, err := s.exec(ctx, `DELETE FROM compute_nodes WHERE compute_key = $1 OR (compute_key >= $2 AND compute_key < $3)`,
		k, k+"/", k+"0")
	if err != nil {
		return 0, fmt.Errorf("delete nodes under %s: %w", resourceID, err)
	}
	return tag.RowsAffected(), nil
}
