// Package resources holds the resource manager's rules: subscriptions,
// resource groups, Machine Learning workspaces and their child resources as
// stored documents with ARM ids, ETags and provisioningState, and the
// cascades a delete implies (children, role assignments at the deleted
// scopes, system-assigned identities). It never sees HTTP: it refuses with
// *fault.Error whose Code is the ARM error code, and the ARM edge answers
// by its kind.
package resources

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// Store is the storage the resource manager needs.
type Store interface {
	store.Tenants
	store.Subscriptions
	store.Resources
	store.RoleAssignments
	store.Apps
	store.Nodes
	InTx(ctx context.Context, fn func(tx store.Tx) error) error
}

// Identities owns the service principals behind managed identities: the
// directory's rules decide what creating one means and what deleting one
// takes along (group memberships, grants, ownerships, the role assignments
// it holds). Both run inside the resource manager's transaction, so a
// resource and its identity appear and disappear together.
type Identities interface {
	// CreateManagedIdentityTx creates the identity of the resource resourceID.
	CreateManagedIdentityTx(ctx context.Context, tx store.Tx, tenantID, resourceID, displayName string) (domain.ServicePrincipal, error)
	// DeleteServicePrincipalTx deletes an identity, failing with
	// store.ErrNotFound before writing anything when it is already gone.
	DeleteServicePrincipalTx(ctx context.Context, tx store.Tx, tenantID, id string) error
}

// Actor is who performs a change (recorded in systemData).
type Actor struct {
	ObjectID string
	Name     string
	// Type is User or ServicePrincipal (ARM's createdByType says Application for the latter).
	Type     string
	TenantID string
}

// Service applies resource manager rules.
type Service struct {
	store      Store
	identities Identities
	now        func() time.Time
}

// NewService returns a resource manager service. identities is required:
// every resource with a managed identity goes through it.
func NewService(st Store, identities Identities, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, identities: identities, now: now}
}

// Subscription returns a subscription of the caller's tenant.
func (s *Service) Subscription(ctx context.Context, tenantID, id string) (domain.Subscription, error) {
	sub, err := s.store.GetSubscription(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sub.TenantID != tenantID) {
		return domain.Subscription{}, fault.Errorf(fault.NotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", id)
	}
	if err != nil {
		return domain.Subscription{}, fmt.Errorf("load subscription %s: %w", id, err)
	}
	return sub, nil
}

// Subscriptions lists a tenant's subscriptions.
func (s *Service) Subscriptions(ctx context.Context, tenantID string) ([]domain.Subscription, error) {
	subs, err := s.store.ListSubscriptions(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return subs, nil
}

// newETag returns a fresh entity tag (quoted, as HTTP sends it).
func newETag() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return `"` + hex.EncodeToString(b[:]) + `"`
}

func createdByType(a Actor) string {
	if a.Type == domain.PrincipalUser {
		return "User"
	}
	return "Application"
}

// Tenant returns a tenant.
func (s *Service) Tenant(ctx context.Context, id string) (domain.Tenant, error) {
	t, err := s.store.GetTenant(ctx, id)
	if err != nil {
		return domain.Tenant{}, fmt.Errorf("load tenant %s: %w", id, err)
	}
	return t, nil
}
