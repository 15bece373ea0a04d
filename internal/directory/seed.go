package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// MicrosoftTenantID owns Microsoft's first-party applications.
const MicrosoftTenantID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

// EnsureFirstParty creates, once, the service principals of the first-party
// resources and public clients in a tenant. It is safe to call on every start.
func (s *Service) EnsureFirstParty(ctx context.Context, tenantID, graphURL string) error {
	ensure := func(sp domain.ServicePrincipal) error {
		_, err := s.store.GetServicePrincipalByAppID(ctx, tenantID, sp.AppID)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		sp.ID, sp.TenantID, sp.CreatedAt = NewID(), tenantID, s.now().UTC()
		sp.AccountEnabled = true
		sp.ServicePrincipalType = domain.ServicePrincipalTypeApplication
		sp.AppOwnerTenantID = MicrosoftTenantID
		if err := s.store.CreateServicePrincipal(ctx, sp); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		return nil
	}
	for _, r := range FirstPartyResources(graphURL) {
		if err := ensure(domain.ServicePrincipal{AppID: r.AppID, DisplayName: r.DisplayName,
			ServicePrincipalNames: append([]string{r.AppID}, r.Names...)}); err != nil {
			return fmt.Errorf("register resource %s: %w", r.DisplayName, err)
		}
	}
	for _, c := range FirstPartyClients {
		if err := ensure(domain.ServicePrincipal{AppID: c.AppID, DisplayName: c.DisplayName,
			ServicePrincipalNames: []string{c.AppID}, PublicClient: true}); err != nil {
			return fmt.Errorf("register client %s: %w", c.DisplayName, err)
		}
	}
	return nil
}

// NormalizeResource is the form resource names are compared in: lower case,
// without trailing slashes, so https://management.azure.com and
// https://management.azure.com/ name one resource.
func NormalizeResource(name string) string {
	return strings.ToLower(strings.TrimRight(name, "/"))
}

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
