// Token-service clients and resources: what the token service looks up
// in the directory for every request.

package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// Client is a token-service client: its service principal in the tenant and,
// when the app is registered there, its application (credentials live on it).
type Client struct {
	ServicePrincipal domain.ServicePrincipal
	Application      *domain.Application
}

// LookupClient finds the client appID in a tenant.
// Results are cached briefly (see clientCache); callers must treat them as
// read-only.
func (s *Service) LookupClient(ctx context.Context, tenantID, appID string) (Client, error) {
	key := tenantID + "/" + strings.ToLower(appID)
	now := s.now()
	if c, ok := s.clients.get(key, now); ok {
		return c, nil
	}
	gen := s.clients.generation()
	c, err := s.lookupClient(ctx, tenantID, appID)
	if err == nil {
		s.clients.put(key, c, gen, now)
	}
	return c, err
}

func (s *Service) lookupClient(ctx context.Context, tenantID, appID string) (Client, error) {
	sp, err := s.store.GetServicePrincipalByAppID(ctx, tenantID, appID)
	if err != nil {
		return Client{}, fmt.Errorf("load service principal %s: %w", appID, err)
	}
	c := Client{ServicePrincipal: sp}
	if sp.AppOwnerTenantID != tenantID {
		return c, nil
	}
	app, err := s.store.GetApplicationByAppID(ctx, tenantID, appID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c, nil
	case err != nil:
		return Client{}, fmt.Errorf("load application %s: %w", appID, err)
	}
	c.Application = &app
	return c, nil
}

// ResourceIndex maps normalized resource names (identifier URIs and app ids)
// of a tenant's service principals to them.
func (s *Service) ResourceIndex(ctx context.Context, tenantID string) (map[string]domain.ServicePrincipal, error) {
	sps, err := s.store.ListServicePrincipals(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list service principals of %s: %w", tenantID, err)
	}
	idx := make(map[string]domain.ServicePrincipal, len(sps)*2)
	for _, sp := range sps {
		if sp.PublicClient {
			continue
		}
		idx[NormalizeResource(sp.AppID)] = sp
		for _, n := range sp.ServicePrincipalNames {
			idx[NormalizeResource(n)] = sp
		}
	}
	return idx, nil
}

// AppRoleValues returns the values of the app roles that principalID holds
// on the resource service principal.
func (s *Service) AppRoleValues(ctx context.Context, tenantID, principalID string, resource domain.ServicePrincipal) ([]string, error) {
	if len(resource.AppRoles) == 0 {
		return nil, nil
	}
	held, err := s.store.ListAppRoleAssignments(ctx, tenantID, principalID)
	if err != nil {
		return nil, fmt.Errorf("list app role assignments of %s: %w", principalID, err)
	}
	var out []string
	for _, h := range held {
		if h.ResourceID != resource.ID {
			continue
		}
		for _, r := range resource.AppRoles {
			if r.ID == h.AppRoleID && r.IsEnabled && r.Value != "" {
				out = append(out, r.Value)
			}
		}
	}
	return out, nil
}
