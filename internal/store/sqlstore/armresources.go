package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/tessera-id/tessera/internal/store/storedoc"
	"slices"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// --- ARM resources ---

const resourceColumns = `id, tenant_id, subscription_id, resource_group, type, parent_id, name, location, etag, body,
	created_by, created_at, updated_at`

// resourceSet is the SET list of a replace. It leaves id alone: a resource
// keeps the casing of the id it was created with.
const resourceSet = `tenant_id = ?, subscription_id = ?, subscription_key = ?, resource_group = ?, resource_group_key = ?,
	type = ?, type_key = ?, parent_id = ?, parent_key = ?, name = ?, location = ?, etag = ?, body = ?,
	created_by = ?, created_at = ?, updated_at = ?`

// resourceSetArgs are the arguments of resourceSet, in its order.
func (s *Store) resourceSetArgs(r domain.Resource) []any {
	return []any{r.TenantID, r.SubscriptionID, storedoc.Key(r.SubscriptionID), r.ResourceGroup, storedoc.Key(r.ResourceGroup),
		r.Type, storedoc.Key(r.Type), r.ParentID, storedoc.Key(r.ParentID), r.Name, r.Location, r.ETag, r.Body,
		r.CreatedBy, s.t(r.CreatedAt), s.t(r.UpdatedAt)}
}

// resourceUpsert inserts a resource or, when its key is taken, replaces the
// stored one in the same statement.
const resourceUpsert = `INSERT INTO resources (id_key, id, tenant_id, subscription_id, subscription_key, resource_group,
	resource_group_key, type, type_key, parent_id, parent_key, name, location, etag, body, created_by, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id_key) DO UPDATE SET tenant_id = excluded.tenant_id, subscription_id = excluded.subscription_id,
	subscription_key = excluded.subscription_key, resource_group = excluded.resource_group,
	resource_group_key = excluded.resource_group_key, type = excluded.type, type_key = excluded.type_key,
	parent_id = excluded.parent_id, parent_key = excluded.parent_key, name = excluded.name,
	location = excluded.location, etag = excluded.etag, body = excluded.body, created_by = excluded.created_by,
	created_at = excluded.created_at, updated_at = excluded.updated_at`

func scanResource(r interface{ Scan(...any) error }) (domain.Resource, error) {
	var (
		res                  domain.Resource
		createdAt, updatedAt dbTime
	)
	if err := r.Scan(&res.ID, &res.TenantID, &res.SubscriptionID, &res.ResourceGroup, &res.Type, &res.ParentID,
		&res.Name, &res.Location, &res.ETag, &res.Body, &res.CreatedBy, &createdAt, &updatedAt); err != nil {
		return domain.Resource{}, noRows(err)
	}
	res.CreatedAt = createdAt.T
	res.UpdatedAt = updatedAt.T
	return res, nil
}

// PutResource decides and writes in one statement, and SQLite runs one
// writer at a time, so two writers holding the same ETag cannot both win.
func (s *Store) PutResource(ctx context.Context, r domain.Resource, ifMatch string) error {
	var err error
	switch ifMatch {
	case "":
		_, err = s.exec(ctx, resourceUpsert, append([]any{storedoc.Key(r.ID), r.ID}, s.resourceSetArgs(r)...)...)
	case "*":
		err = s.execOne(ctx, `UPDATE resources SET `+resourceSet+` WHERE id_key = ?`,
			append(s.resourceSetArgs(r), storedoc.Key(r.ID))...)
	default:
		var res sql.Result
		res, err = s.exec(ctx, `UPDATE resources SET `+resourceSet+` WHERE id_key = ? AND etag = ?`,
			append(s.resourceSetArgs(r), storedoc.Key(r.ID), ifMatch)...)
		if err == nil {
			var n int64
			if n, err = res.RowsAffected(); err == nil && n == 0 {
				// A missing resource has no ETag to match either.
				err = store.ErrPrecondition
			}
		}
	}
	if err != nil {
		return fmt.Errorf("put resource %s: %w", r.ID, err)
	}
	return nil
}

func (s *Store) GetResource(ctx context.Context, id string) (domain.Resource, error) {
	row, err := s.row(ctx, `SELECT `+resourceColumns+` FROM resources WHERE id_key = ?`, storedoc.Key(id))
	if err != nil {
		return domain.Resource{}, fmt.Errorf("get resource %s: %w", id, err)
	}
	res, err := scanResource(row)
	if err != nil {
		return domain.Resource{}, fmt.Errorf("get resource %s: %w", id, err)
	}
	return res, nil
}

func (s *Store) ListResources(ctx context.Context, subscriptionID, parentID, typ string) ([]domain.Resource, error) {
	out, err := s.listResources(ctx, `SELECT `+resourceColumns+` FROM resources
		WHERE subscription_key = ? AND parent_key = ? AND type_key = ? ORDER BY created_at, id_key`,
		storedoc.Key(subscriptionID), storedoc.Key(parentID), storedoc.Key(typ))
	if err != nil {
		return nil, fmt.Errorf("list resources of type %s under %q: %w", typ, parentID, err)
	}
	return out, nil
}

func (s *Store) ListResourcesIn(ctx context.Context, subscriptionID, resourceGroup string) ([]domain.Resource, error) {
	var (
		out []domain.Resource
		err error
	)
	if resourceGroup == "" {
		out, err = s.listResources(ctx, `SELECT `+resourceColumns+` FROM resources
			WHERE subscription_key = ? ORDER BY created_at, id_key`, storedoc.Key(subscriptionID))
	} else {
		out, err = s.listResources(ctx, `SELECT `+resourceColumns+` FROM resources
			WHERE subscription_key = ? AND resource_group_key = ? ORDER BY created_at, id_key`,
			storedoc.Key(subscriptionID), storedoc.Key(resourceGroup))
	}
	if err != nil {
		return nil, fmt.Errorf("list resources in subscription %s, resource group %q: %w", subscriptionID, resourceGroup, err)
	}
	return out, nil
}

func (s *Store) listResources(ctx context.Context, q string, args ...any) ([]domain.Resource, error) {
	out := []domain.Resource{}
	err := s.queryAll(ctx, q, args, func(r *sql.Rows) error {
		res, err := scanResource(r)
		if err != nil {
			return err
		}
		out = append(out, res)
		return nil
	})
	return out, err
}

func (s *Store) DeleteResource(ctx context.Context, id string) error {
	if err := s.execOne(ctx, `DELETE FROM resources WHERE id_key = ?`, storedoc.Key(id)); err != nil {
		return fmt.Errorf("delete resource %s: %w", id, err)
	}
	return nil
}

// DeleteResourceTree deletes the subtree in one statement. The descendants'
// keys are those starting with k + "/", which under the bytewise collation is
// the range [k + "/", k + "0"), '0' following '/' in ASCII: no LIKE pattern,
// so '_' and '%' in ids are plain characters, and the primary key serves it.
func (s *Store) DeleteResourceTree(ctx context.Context, id string) ([]string, error) {
	k := storedoc.Key(id)
	deleted := []string{}
	err := s.queryWrite(ctx, `DELETE FROM resources WHERE id_key = ? OR (id_key >= ? AND id_key < ?) RETURNING id`,
		[]any{k, k + "/", k + "0"}, func(r *sql.Rows) error {
			var d string
			if err := r.Scan(&d); err != nil {
				return err
			}
			deleted = append(deleted, d)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("delete resource tree %s: %w", id, err)
	}
	if len(deleted) == 0 {
		return nil, fmt.Errorf("delete resource tree %s: %w", id, store.ErrNotFound)
	}
	// Parents before their children.
	slices.SortFunc(deleted, func(a, b string) int { return strings.Compare(storedoc.Key(a), storedoc.Key(b)) })
	return deleted, nil
}
