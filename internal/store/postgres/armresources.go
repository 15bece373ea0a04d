package postgres

import (
	"context"
	"fmt"
	"github.com/tessera-id/tessera/internal/store/storedoc"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// --- ARM resources ---

const resourceColumns = `id, tenant_id, subscription_id, resource_group, type, parent_id, name, location, etag, body,
	created_by, created_at, updated_at`

// resourceSet is the SET list of a replace, over parameters $1 to $16 (see
// resourceSetArgs). It leaves id alone: a resource keeps the casing of the id
// it was created with.
const resourceSet = `tenant_id = $1, subscription_id = $2, subscription_key = $3, resource_group = $4, resource_group_key = $5,
	type = $6, type_key = $7, parent_id = $8, parent_key = $9, name = $10, location = $11, etag = $12, body = $13,
	created_by = $14, created_at = $15, updated_at = $16`

// resourceSetArgs are the arguments of resourceSet, in its order.
func resourceSetArgs(r domain.Resource) []any {
	return []any{r.TenantID, r.SubscriptionID, storedoc.Key(r.SubscriptionID), r.ResourceGroup, storedoc.Key(r.ResourceGroup),
		r.Type, storedoc.Key(r.Type), r.ParentID, storedoc.Key(r.ParentID), r.Name, r.Location, r.ETag, r.Body,
		r.CreatedBy, pgTime(r.CreatedAt), pgTime(r.UpdatedAt)}
}

// resourceUpsert inserts a resource or, when its key is taken, replaces the
// stored one in the same statement: concurrent upserts of one key wait on
// each other's row lock instead of failing. Its parameters are
// resourceSetArgs, then the key ($17) and the id ($18).
const resourceUpsert = `INSERT INTO resources (tenant_id, subscription_id, subscription_key, resource_group, resource_group_key,
	type, type_key, parent_id, parent_key, name, location, etag, body, created_by, created_at, updated_at, id_key, id)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
	ON CONFLICT (id_key) DO UPDATE SET tenant_id = excluded.tenant_id, subscription_id = excluded.subscription_id,
	subscription_key = excluded.subscription_key, resource_group = excluded.resource_group,
	resource_group_key = excluded.resource_group_key, type = excluded.type, type_key = excluded.type_key,
	parent_id = excluded.parent_id, parent_key = excluded.parent_key, name = excluded.name,
	location = excluded.location, etag = excluded.etag, body = excluded.body, created_by = excluded.created_by,
	created_at = excluded.created_at, updated_at = excluded.updated_at`

func scanResource(r interface{ Scan(...any) error }) (domain.Resource, error) {
	var (
		res                  domain.Resource
		createdAt, updatedAt *time.Time
	)
	if err := r.Scan(&res.ID, &res.TenantID, &res.SubscriptionID, &res.ResourceGroup, &res.Type, &res.ParentID,
		&res.Name, &res.Location, &res.ETag, &res.Body, &res.CreatedBy, &createdAt, &updatedAt); err != nil {
		return domain.Resource{}, translate(err)
	}
	res.CreatedAt = fromPgTime(createdAt)
	res.UpdatedAt = fromPgTime(updatedAt)
	return res, nil
}

// PutResource checks the ETag and writes in one statement. A conditional
// UPDATE takes the row lock, and under READ COMMITTED a writer that waited
// for it re-evaluates "etag = $18" against the row the winner left: of
// several writers holding the same ETag exactly one matches.
func (s *Store) PutResource(ctx context.Context, r domain.Resource, ifMatch string) error {
	var err error
	switch ifMatch {
	case "":
		_, err = s.exec(ctx, resourceUpsert, append(resourceSetArgs(r), storedoc.Key(r.ID), r.ID)...)
	case "*":
		err = s.execOne(ctx, `UPDATE resources SET `+resourceSet+` WHERE id_key = $17`,
			append(resourceSetArgs(r), storedoc.Key(r.ID))...)
	default:
		var tag pgconn.CommandTag
		tag, err = s.exec(ctx, `UPDATE resources SET `+resourceSet+` WHERE id_key = $17 AND etag = $18`,
			append(resourceSetArgs(r), storedoc.Key(r.ID), ifMatch)...)
		if err == nil && tag.RowsAffected() == 0 {
			// A missing resource has no ETag to match either.
			err = store.ErrPrecondition
		}
	}
	if err != nil {
		return fmt.Errorf("put resource %s: %w", r.ID, err)
	}
	return nil
}

func (s *Store) GetResource(ctx context.Context, id string) (domain.Resource, error) {
	res, err := scanResource(s.q.QueryRow(ctx, `SELECT `+resourceColumns+` FROM resources WHERE id_key = $1`, storedoc.Key(id)))
	if err != nil {
		return domain.Resource{}, fmt.Errorf("get resource %s: %w", id, err)
	}
	return res, nil
}

func (s *Store) ListResources(ctx context.Context, subscriptionID, parentID, typ string) ([]domain.Resource, error) {
	out, err := s.listResources(ctx, `SELECT `+resourceColumns+` FROM resources
		WHERE subscription_key = $1 AND parent_key = $2 AND type_key = $3 ORDER BY created_at, id_key`,
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
			WHERE subscription_key = $1 ORDER BY created_at, id_key`, storedoc.Key(subscriptionID))
	} else {
		out, err = s.listResources(ctx, `SELECT `+resourceColumns+` FROM resources
			WHERE subscription_key = $1 AND resource_group_key = $2 ORDER BY created_at, id_key`,
			storedoc.Key(subscriptionID), storedoc.Key(resourceGroup))
	}
	if err != nil {
		return nil, fmt.Errorf("list resources in subscription %s, resource group %q: %w", subscriptionID, resourceGroup, err)
	}
	return out, nil
}

func (s *Store) listResources(ctx context.Context, q string, args ...any) ([]domain.Resource, error) {
	out := []domain.Resource{}
	err := s.queryAll(ctx, q, args, func(r pgx.Rows) error {
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
	if err := s.execOne(ctx, `DELETE FROM resources WHERE id_key = $1`, storedoc.Key(id)); err != nil {
		return fmt.Errorf("delete resource %s: %w", id, err)
	}
	return nil
}

// DeleteResourceTree deletes the subtree in one statement. The descendants'
// keys are those starting with k + "/", which under id_key's bytewise "C"
// collation is the range [k + "/", k + "0"), '0' following '/' in ASCII: no
// LIKE pattern, so '_' and '%' in ids are plain characters, and the primary
// key serves it.
func (s *Store) DeleteResourceTree(ctx context.Context, id string) ([]string, error) {
	k := storedoc.Key(id)
	var deleted []string
	err := s.queryWrite(ctx, `DELETE FROM resources WHERE id_key = $1 OR (id_key >= $2 AND id_key < $3) RETURNING id`,
		[]any{k, k + "/", k + "0"}, func(r pgx.Rows) error {
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

// queryWrite is queryAll for a statement that writes and returns rows
// (... RETURNING). In an InTx transaction it runs in a savepoint, as exec
// does.
func (s *Store) queryWrite(ctx context.Context, q string, args []any, scan func(pgx.Rows) error) error {
	if !s.guard {
		return s.queryAll(ctx, q, args, scan)
	}
	return s.atomic(ctx, false, func(ts *Store) error { return ts.queryAll(ctx, q, args, scan) })
}
