package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// RunBenchmarks measures the store operations on the token path, on a fresh
// store from newStore for each.
func RunBenchmarks(b *testing.B, newStore func(b *testing.B) store.Store) {
	b.Run("GetApplicationByAppID", func(b *testing.B) { benchGetApplicationByAppID(b, newStore(b)) })
	b.Run("TokenPathReads", func(b *testing.B) { benchTokenPathReads(b, newStore(b)) })
	b.Run("AppendAudit", func(b *testing.B) { benchAppendAudit(b, newStore) })
}

func benchGetApplicationByAppID(b *testing.B, s store.Store) {
	ctx := context.Background()
	tenantID := "bench-tenant"
	var appIDs []string
	for i := range 1000 {
		a := benchApplication(tenantID, i)
		if err := s.CreateApplication(ctx, a); err != nil {
			b.Fatal(err)
		}
		appIDs = append(appIDs, a.AppID)
	}
	b.Run("serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := s.GetApplicationByAppID(ctx, tenantID, appIDs[i%len(appIDs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.GetApplicationByAppID(ctx, tenantID, appIDs[i%len(appIDs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}

// benchTokenPathReads is the store work of one token request: the tenant,
// the client application and its service principal.
func benchTokenPathReads(b *testing.B, s store.Store) {
	ctx := context.Background()
	tn := domain.Tenant{ID: "bench-tenant", Domains: []string{"contoso.example"}, CreatedAt: time.Now()}
	if err := s.CreateTenant(ctx, tn); err != nil {
		b.Fatal(err)
	}
	var appIDs []string
	for i := range 1000 {
		a := benchApplication(tn.ID, i)
		sp := domain.ServicePrincipal{ID: fmt.Sprintf("sp-%d", i), TenantID: tn.ID, AppID: a.AppID, AppRoles: a.AppRoles,
			PasswordCredentials: a.PasswordCredentials, CreatedAt: time.Now()}
		if err := s.CreateApplication(ctx, a); err != nil {
			b.Fatal(err)
		}
		if err := s.CreateServicePrincipal(ctx, sp); err != nil {
			b.Fatal(err)
		}
		appIDs = append(appIDs, a.AppID)
	}
	b.ResetTimer() // the setup above is not the measured work
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			appID := appIDs[i%len(appIDs)]
			i++
			if _, err := s.GetTenant(ctx, tn.ID); err != nil {
				b.Fatal(err)
			}
			if _, err := s.GetApplicationByAppID(ctx, tn.ID, appID); err != nil {
				b.Fatal(err)
			}
			if _, err := s.GetServicePrincipalByAppID(ctx, tn.ID, appID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchApplication(tenantID string, i int) domain.Application {
	now := time.Now()
	return domain.Application{
		ID:              fmt.Sprintf("app-%d", i),
		TenantID:        tenantID,
		AppID:           fmt.Sprintf("%08d-0000-4000-8000-000000000000", i),
		DisplayName:     fmt.Sprintf("app %d", i),
		SignInAudience:  "AzureADMyOrg",
		IdentifierURIs:  []string{fmt.Sprintf("api://app-%d", i)},
		WebRedirectURIs: []string{"https://app.example.com/signin-oidc"},
		AppRoles: []domain.AppRole{{ID: "r1", AllowedMemberTypes: []string{"Application"}, DisplayName: "Reader",
			IsEnabled: true, Value: "Data.Read"}},
		PasswordCredentials: []domain.PasswordCredential{{KeyID: "k1", Hint: "abc", SecretHash: make([]byte, 32),
			StartDateTime: now, EndDateTime: now.AddDate(1, 0, 0)}},
		CreatedAt: now,
	}
}

func benchAppendAudit(b *testing.B, newStore func(*testing.B) store.Store) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := newStore(b)
			ctx := context.Background()
			events := make([]domain.AuditEvent, batch)
			n := 0
			for b.Loop() {
				for i := range events {
					n++
					events[i] = domain.AuditEvent{
						ID: fmt.Sprintf("ev-%d", n), Time: time.Now(), TenantID: "bench-tenant", Kind: domain.AuditSignIn,
						ActorID: "client", Action: "token.client_credentials", Target: "resource", Result: "success",
						ClientIP: "10.0.0.1", CorrelationID: "corr", Details: map[string]string{"grant": "client_credentials"},
					}
				}
				if err := s.AppendAudit(ctx, events...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
