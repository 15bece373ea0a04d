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
