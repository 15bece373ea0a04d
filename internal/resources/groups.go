package resources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// ResourceGroupType is the ARM type of resource groups.
const ResourceGroupType = "Microsoft.Resources/resourceGroups"

// PutResourceGroup creates or updates a resource group.
func (s *Service) PutResourceGroup(ctx context.Context, a Actor, subID, name string, body Document) (Document, bool, error) {
	if err := validGroupName(name); err != nil {
		return nil, false, err
	}
	if _, err := s.Subscription(ctx, a.TenantID, subID); err != nil {
		return nil, false, err
	}
	loc := strings.ToLower(strings.ReplaceAll(str(body["location"]), " ", ""))
	var out Document
	var created bool
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		id := resourceGroupID(subID, name)
		old, err := tx.GetResource(ctx, id)
		var prev Document
		switch {
		case err == nil:
			id, name = old.ID, old.Name
			if prev, err = docOf(old); err != nil {
				return err
			}
			if loc != "" && loc != str(prev["location"]) {
				return fault.Errorf(fault.Invalid, "InvalidResourceGroupLocation",
					"Invalid resource group location '%s'. The Resource group already exists in location '%s'.", loc, str(prev["location"]))
			}
			loc = str(prev["location"])
		case errors.Is(err, store.ErrNotFound):
			if loc == "" {
				return fault.Errorf(fault.Invalid, "LocationRequired", "The location property is required for this definition.")
			}
		default:
			return err
		}
		tags, _ := body["tags"].(map[string]any)
		if tags == nil {
			tags = map[string]any{}
		}
		out = Document{"id": id, "name": name, "type": ResourceGroupType, "location": loc, "tags": tags,
			"properties": map[string]any{"provisioningState": "Succeeded"}}
		if mb := str(body["managedBy"]); mb != "" {
			out["managedBy"] = mb
		}
		raw, _ := json.Marshal(out)
		now := s.now().UTC()
		r := domain.Resource{ID: id, TenantID: a.TenantID, SubscriptionID: subID, ResourceGroup: name, Type: ResourceGroupType,
			Name: name, Location: loc, ETag: newETag(), Body: raw, CreatedBy: a.ObjectID, CreatedAt: now, UpdatedAt: now}
		if prev != nil {
			r.CreatedAt, r.CreatedBy = old.CreatedAt, old.CreatedBy
		}
		created = prev == nil
		return tx.PutResource(ctx, r, "")
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

func validGroupName(n string) error {
	if n == "" || len(n) > 90 || strings.HasSuffix(n, ".") {
		return fault.Errorf(fault.Invalid, "InvalidResourceGroup", "The provided resource group name '%s' has these invalid characters or length.", n)
	}
	for _, r := range n {
		if !(r == '-' || r == '_' || r == '.' || r == '(' || r == ')' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127) {
			return fault.Errorf(fault.Invalid, "InvalidResourceGroup", "The provided resource group name '%s' has these invalid characters or length.", n)
		}
	}
	return nil
}

// ResourceGroup returns a resource group document.
func (s *Service) ResourceGroup(ctx context.Context, tenantID, subID, name string) (Document, error) {
	if _, err := s.Subscription(ctx, tenantID, subID); err != nil {
		return nil, err
	}
	r, err := s.store.GetResource(ctx, resourceGroupID(subID, name))
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.TenantID != tenantID) {
		return nil, fault.Errorf(fault.NotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", name)
	}
	if err != nil {
		return nil, err
	}
	return docOf(r)
}

// ResourceGroups lists a subscription's resource groups by name.
func (s *Service) ResourceGroups(ctx context.Context, tenantID, subID string) ([]Document, error) {
	if _, err := s.Subscription(ctx, tenantID, subID); err != nil {
		return nil, err
	}
	rs, err := s.store.ListResources(ctx, subID, "", ResourceGroupType)
	if err != nil {
		return nil, fmt.Errorf("list resource groups: %w", err)
	}
	return docsOf(rs, tenantID)
}

// DeleteResourceGroup deletes a resource group with everything it holds.
func (s *Service) DeleteResourceGroup(ctx context.Context, tenantID, subID, name string) error {
	if _, err := s.ResourceGroup(ctx, tenantID, subID, name); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx store.Tx) error {
		r, err := tx.GetResource(ctx, resourceGroupID(subID, name))
		if err != nil {
			return err
		}
		return s.deleteTree(ctx, tx, r.ID, subID, r.Name)
	})
}

// ResourcesIn lists the tracked resources of a subscription or one of its
// groups (what `az resource list` shows): no groups, no status records.
func (s *Service) ResourcesIn(ctx context.Context, tenantID, subID, rg string) ([]Document, error) {
	if _, err := s.Subscription(ctx, tenantID, subID); err != nil {
		return nil, err
	}
	rs, err := s.store.ListResourcesIn(ctx, subID, rg)
	if err != nil {
		return nil, err
	}
	var kept []domain.Resource
	for _, r := range rs {
		if spec, ok := lookupType(r.Type); ok && spec.Tracked {
			kept = append(kept, r)
		}
	}
	return docsOf(kept, tenantID)
}
