package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

func testTenants(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := fullTenant()
	// The minimal record has every optional field zero, which a backend must
	// return as zero (not as 1970, not as an empty-but-present value).
	minimal := domain.Tenant{ID: newID()}
	ok(t, s.CreateTenant(ctx, full))
	ok(t, s.CreateTenant(ctx, minimal))

	t.Run("GetTenant round trip", func(t *testing.T) {
		for name, want := range map[string]domain.Tenant{"full": full, "minimal": minimal} {
			t.Run(name, func(t *testing.T) {
				got, err := s.GetTenant(t.Context(), want.ID)
				ok(t, err)
				equal(t, want, got)
			})
		}
	})

	t.Run("GetTenantByDomain is case-insensitive", func(t *testing.T) {
		for _, d := range full.Domains {
			for variant, name := range caseVariants(d) {
				t.Run(d+"/"+variant, func(t *testing.T) {
					got, err := s.GetTenantByDomain(t.Context(), name)
					ok(t, err)
					equal(t, full, got)
				})
			}
		}
	})

	t.Run("ListTenants", func(t *testing.T) {
		got, err := s.ListTenants(t.Context())
		ok(t, err)
		equalByID(t, []domain.Tenant{full, minimal}, got)
	})

	t.Run("UpdateTenant replaces fields and domains", func(t *testing.T) {
		ctx := t.Context()
		tn := fullTenant()
		ok(t, s.CreateTenant(ctx, tn))
		dropped := tn.Domains[1]
		tn.DisplayName = "Fabrikam"
		tn.Domains = []string{tn.Domains[0], "new-" + word() + ".example.org", "NEW-" + word() + ".example.org"}
		tn.Settings.AllowROPC = false
		tn.CreatedAt = at(time.Minute)
		ok(t, s.UpdateTenant(ctx, tn))

		got, err := s.GetTenant(ctx, tn.ID)
		ok(t, err)
		equal(t, tn, got)
		for _, d := range tn.Domains {
			got, err := s.GetTenantByDomain(ctx, strings.ToUpper(d))
			ok(t, err)
			equal(t, tn, got)
		}
		_, err = s.GetTenantByDomain(ctx, dropped)
		isErr(t, err, store.ErrNotFound)
	})

	t.Run("conflicts", func(t *testing.T) {
		other := fullTenant()
		ok(t, s.CreateTenant(ctx, other))
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				dup := fullTenant()
				dup.ID = full.ID
				return s.CreateTenant(ctx, dup)
			}},
			{"domain of another tenant in another case", func(ctx context.Context) error {
				dup := fullTenant()
				dup.Domains = append(dup.Domains, strings.ToUpper(full.Domains[1]))
				return s.CreateTenant(ctx, dup)
			}},
			{"update to a domain of another tenant", func(ctx context.Context) error {
				changed := other
				changed.DisplayName = "changed"
				changed.Domains = []string{"fresh-" + word() + ".example.net", strings.ToLower(full.Domains[1])}
				return s.UpdateTenant(ctx, changed)
			}},
		})

		t.Run("failed create leaves nothing behind", func(t *testing.T) {
			dup := fullTenant()
			dup.Domains = append(dup.Domains, full.Domains[0])
			isErr(t, s.CreateTenant(t.Context(), dup), store.ErrConflict)
			_, err := s.GetTenant(t.Context(), dup.ID)
			isErr(t, err, store.ErrNotFound)
			// Its first domain was indexed before the conflict; the rollback
			// must have removed it again.
			_, err = s.GetTenantByDomain(t.Context(), dup.Domains[0])
			isErr(t, err, store.ErrNotFound)
			ok(t, s.CreateTenant(t.Context(), domain.Tenant{ID: newID(), Domains: dup.Domains[:1]}))
		})

		t.Run("failed update changes nothing", func(t *testing.T) {
			got, err := s.GetTenant(t.Context(), other.ID)
			ok(t, err)
			equal(t, other, got)
			for _, d := range other.Domains {
				got, err := s.GetTenantByDomain(t.Context(), d)
				ok(t, err)
				equal(t, other, got)
			}
		})
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"GetTenant", func(ctx context.Context) error { return discard(s.GetTenant(ctx, newID())) }},
			{"GetTenantByDomain", func(ctx context.Context) error { return discard(s.GetTenantByDomain(ctx, "missing.example")) }},
			{"UpdateTenant", func(ctx context.Context) error {
				return s.UpdateTenant(ctx, domain.Tenant{ID: newID(), Domains: []string{word() + ".example"}})
			}},
		})
		t.Run("failed update indexes no domain", func(t *testing.T) {
			ghost := domain.Tenant{ID: newID(), Domains: []string{word() + ".example"}}
			isErr(t, s.UpdateTenant(t.Context(), ghost), store.ErrNotFound)
			_, err := s.GetTenantByDomain(t.Context(), ghost.Domains[0])
			isErr(t, err, store.ErrNotFound)
		})
	})
}

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID, otherTenantID := newID(), newID()
	full := fullUser(tenantID)
	minimal := domain.User{ID: newID(), TenantID: tenantID, UserPrincipalName: "min@" + word() + ".example"}
	elsewhere := fullUser(otherTenantID)
	ok(t, s.CreateUser(ctx, full))
	ok(t, s.CreateUser(ctx, minimal))
	ok(t, s.CreateUser(ctx, elsewhere))

	t.Run("GetUser round trip", func(t *testing.T) {
		for name, want := range map[string]domain.User{"full": full, "minimal": minimal, "other tenant": elsewhere} {
			t.Run(name, func(t *testing.T) {
				got, err := s.GetUser(t.Context(), want.TenantID, want.ID)
				ok(t, err)
				equal(t, want, got)
			})
		}
	})

	t.Run("GetUserByUPN is case-insensitive", func(t *testing.T) {
		for variant, upn := range caseVariants(full.UserPrincipalName) {
			t.Run(variant, func(t *testing.T) {
				got, err := s.GetUserByUPN(t.Context(), tenantID, upn)
				ok(t, err)
				equal(t, full, got)
			})
		}
	})

	t.Run("ListUsers is per tenant", func(t *testing.T) {
		got, err := s.ListUsers(t.Context(), tenantID)
		ok(t, err)
		equalByID(t, []domain.User{full, minimal}, got)
		got, err = s.ListUsers(t.Context(), newID())
		ok(t, err)
		if len(got) != 0 {
			t.Fatalf("ListUsers of an unknown tenant = %v, want none", got)
		}
	})

	t.Run("UpdateUser", func(t *testing.T) {
		ctx := t.Context()
		u := fullUser(tenantID)
		ok(t, s.CreateUser(ctx, u))
		oldUPN := u.UserPrincipalName
		u.UserPrincipalName = "Renamed." + word() + "@contoso.example.com"
		u.DisplayName = "Renamed"
		u.MailNickname = "renamed"
		u.GivenName = "Renée"
		u.Surname = ""
		u.Mail = "renamed@contoso.example.com"
		u.AccountEnabled = false
		u.PasswordHash = "$argon2id$new"
		u.PasswordChangedAt = at(48 * time.Hour)
		ok(t, s.UpdateUser(ctx, u))
		got, err := s.GetUser(ctx, tenantID, u.ID)
		ok(t, err)
		equal(t, u, got)
		got, err = s.GetUserByUPN(ctx, tenantID, strings.ToLower(u.UserPrincipalName))
		ok(t, err)
		equal(t, u, got)
		_, err = s.GetUserByUPN(ctx, tenantID, oldUPN)
		isErr(t, err, store.ErrNotFound)
	})

	t.Run("ForceChangePassword round trip", func(t *testing.T) {
		ctx := t.Context()
		u := fullUser(tenantID)
		u.ForceChangePassword = true
		ok(t, s.CreateUser(ctx, u))
		got, err := s.GetUser(ctx, tenantID, u.ID)
		ok(t, err)
		equal(t, u, got)
		got, err = s.GetUserByUPN(ctx, tenantID, u.UserPrincipalName)
		ok(t, err)
		equal(t, u, got)
		u.ForceChangePassword = false
		u.PasswordHash = "$argon2id$changed"
		ok(t, s.UpdateUser(ctx, u))
		got, err = s.GetUser(ctx, tenantID, u.ID)
		ok(t, err)
		equal(t, u, got)
		u.ForceChangePassword = true
		ok(t, s.UpdateUser(ctx, u))
		all, err := s.ListUsers(ctx, tenantID)
		ok(t, err)
		found := false
		for _, x := range all {
			if x.ID == u.ID {
				found = true
				equal(t, u, x)
			}
		}
		if !found {
			t.Fatalf("ListUsers misses %s", u.ID)
		}
	})

	t.Run("DeleteUser frees the UPN", func(t *testing.T) {
		ctx := t.Context()
		u := fullUser(tenantID)
		ok(t, s.CreateUser(ctx, u))
		ok(t, s.DeleteUser(ctx, tenantID, u.ID))
		_, err := s.GetUser(ctx, tenantID, u.ID)
		isErr(t, err, store.ErrNotFound)
		_, err = s.GetUserByUPN(ctx, tenantID, u.UserPrincipalName)
		isErr(t, err, store.ErrNotFound)
		again := fullUser(tenantID)
		again.UserPrincipalName = u.UserPrincipalName
		ok(t, s.CreateUser(ctx, again))
	})

	t.Run("same UPN in another tenant", func(t *testing.T) {
		u := fullUser(newID())
		u.UserPrincipalName = full.UserPrincipalName
		ok(t, s.CreateUser(t.Context(), u))
	})

	t.Run("conflicts", func(t *testing.T) {
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				dup := fullUser(tenantID)
				dup.ID = full.ID
				return s.CreateUser(ctx, dup)
			}},
			{"duplicate UPN in another case", func(ctx context.Context) error {
				dup := fullUser(tenantID)
				dup.UserPrincipalName = strings.ToUpper(full.UserPrincipalName)
				return s.CreateUser(ctx, dup)
			}},
			{"update to another user's UPN", func(ctx context.Context) error {
				changed := minimal
				changed.UserPrincipalName = strings.ToLower(full.UserPrincipalName)
				return s.UpdateUser(ctx, changed)
			}},
		})
		got, err := s.GetUser(ctx, tenantID, minimal.ID)
		ok(t, err)
		equal(t, minimal, got)
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"GetUser", func(ctx context.Context) error { return discard(s.GetUser(ctx, tenantID, newID())) }},
			{"GetUser in another tenant", func(ctx context.Context) error { return discard(s.GetUser(ctx, otherTenantID, full.ID)) }},
			{"GetUserByUPN", func(ctx context.Context) error { return discard(s.GetUserByUPN(ctx, tenantID, "nobody@example.com")) }},
			{"GetUserByUPN in another tenant", func(ctx context.Context) error {
				return discard(s.GetUserByUPN(ctx, newID(), full.UserPrincipalName))
			}},
			{"UpdateUser", func(ctx context.Context) error { return s.UpdateUser(ctx, fullUser(tenantID)) }},
			{"UpdateUser in another tenant", func(ctx context.Context) error {
				u := full
				u.TenantID = otherTenantID
				return s.UpdateUser(ctx, u)
			}},
			{"DeleteUser", func(ctx context.Context) error { return s.DeleteUser(ctx, tenantID, newID()) }},
			{"DeleteUser in another tenant", func(ctx context.Context) error { return s.DeleteUser(ctx, otherTenantID, full.ID) }},
		})
	})
}

func testApplications(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID, otherTenantID := newID(), newID()
	full := fullApplication(tenantID)
	minimal := domain.Application{ID: newID(), TenantID: tenantID, AppID: newID()}
	ok(t, s.CreateApplication(ctx, full))
	ok(t, s.CreateApplication(ctx, minimal))

	t.Run("GetApplication round trip", func(t *testing.T) {
		for name, want := range map[string]domain.Application{"full": full, "minimal": minimal} {
			t.Run(name, func(t *testing.T) {
				got, err := s.GetApplication(t.Context(), tenantID, want.ID)
				ok(t, err)
				equal(t, want, got)
			})
		}
	})

	t.Run("GetApplicationByAppID is case-insensitive", func(t *testing.T) {
		for variant, appID := range caseVariants(full.AppID) {
			t.Run(variant, func(t *testing.T) {
				got, err := s.GetApplicationByAppID(t.Context(), tenantID, appID)
				ok(t, err)
				equal(t, full, got)
			})
		}
	})

	t.Run("does not modify the caller's record", func(t *testing.T) {
		// Normalising times must work on copies: the services keep using
		// the value they stored.
		a := fullApplication(tenantID)
		before := a.PasswordCredentials[0].StartDateTime
		ok(t, s.CreateApplication(t.Context(), a))
		if after := a.PasswordCredentials[0].StartDateTime; after != before {
			t.Fatalf("CreateApplication changed the caller's credential time from %v to %v", before, after)
		}
	})

	t.Run("ListApplications is per tenant", func(t *testing.T) {
		ctx := t.Context()
		tid := newID()
		want := []domain.Application{fullApplication(tid), fullApplication(tid), {ID: newID(), TenantID: tid, AppID: newID()}}
		for _, a := range want {
			ok(t, s.CreateApplication(ctx, a))
		}
		got, err := s.ListApplications(ctx, tid)
		ok(t, err)
		equalByID(t, want, got)
		got, err = s.ListApplications(ctx, newID())
		ok(t, err)
		if len(got) != 0 {
			t.Fatalf("ListApplications of an unknown tenant = %v, want none", got)
		}
	})

	t.Run("UpdateApplication", func(t *testing.T) {
		ctx := t.Context()
		a := fullApplication(tenantID)
		ok(t, s.CreateApplication(ctx, a))
		oldAppID := a.AppID
		a.AppID = newID()
		a.DisplayName = "renamed"
		a.WebRedirectURIs = nil
		a.AppRoles = a.AppRoles[:1]
		a.PasswordCredentials = append(a.PasswordCredentials, domain.PasswordCredential{
			KeyID: newID(), Hint: "new", SecretHash: []byte("h"), StartDateTime: at(time.Hour), EndDateTime: at(2 * time.Hour),
		})
		a.KeyCredentials = nil
		a.FederatedCredentials = append(a.FederatedCredentials, domain.FederatedIdentityCredential{
			ID: newID(), Name: "second", Issuer: "https://issuer.example", Subject: "sub", Audiences: []string{"a", "b"},
		})
		a.AccessTokenAcceptedVersion = 1
		ok(t, s.UpdateApplication(ctx, a))
		got, err := s.GetApplication(ctx, tenantID, a.ID)
		ok(t, err)
		equal(t, a, got)
		got, err = s.GetApplicationByAppID(ctx, tenantID, a.AppID)
		ok(t, err)
		equal(t, a, got)
		_, err = s.GetApplicationByAppID(ctx, tenantID, oldAppID)
		isErr(t, err, store.ErrNotFound)
	})

	t.Run("DeleteApplication does not cascade", func(t *testing.T) {
		ctx := t.Context()
		a := fullApplication(tenantID)
		sp := fullServicePrincipal(tenantID, a.AppID)
		ok(t, s.CreateApplication(ctx, a))
		ok(t, s.CreateServicePrincipal(ctx, sp))
		ok(t, s.DeleteApplication(ctx, tenantID, a.ID))
		_, err := s.GetApplication(ctx, tenantID, a.ID)
		isErr(t, err, store.ErrNotFound)
		_, err = s.GetApplicationByAppID(ctx, tenantID, a.AppID)
		isErr(t, err, store.ErrNotFound)
		got, err := s.GetServicePrincipalByAppID(ctx, tenantID, a.AppID)
		ok(t, err)
		equal(t, sp, got)
		// The appId is free again.
		again := fullApplication(tenantID)
		again.AppID = a.AppID
		ok(t, s.CreateApplication(ctx, again))
	})

	t.Run("same appId in another tenant", func(t *testing.T) {
		a := fullApplication(otherTenantID)
		a.AppID = full.AppID
		ok(t, s.CreateApplication(t.Context(), a))
	})

	t.Run("conflicts", func(t *testing.T) {
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				dup := fullApplication(tenantID)
				dup.ID = full.ID
				return s.CreateApplication(ctx, dup)
			}},
			{"duplicate appId in another case", func(ctx context.Context) error {
				dup := fullApplication(tenantID)
				dup.AppID = strings.ToUpper(full.AppID)
				return s.CreateApplication(ctx, dup)
			}},
			{"update to another application's appId", func(ctx context.Context) error {
				changed := minimal
				changed.AppID = full.AppID
				return s.UpdateApplication(ctx, changed)
			}},
		})
		got, err := s.GetApplication(ctx, tenantID, minimal.ID)
		ok(t, err)
		equal(t, minimal, got)
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"GetApplication", func(ctx context.Context) error { return discard(s.GetApplication(ctx, tenantID, newID())) }},
			{"GetApplication in another tenant", func(ctx context.Context) error {
				return discard(s.GetApplication(ctx, newID(), full.ID))
			}},
			{"GetApplicationByAppID", func(ctx context.Context) error {
				return discard(s.GetApplicationByAppID(ctx, tenantID, newID()))
			}},
			{"GetApplicationByAppID in another tenant", func(ctx context.Context) error {
				return discard(s.GetApplicationByAppID(ctx, newID(), full.AppID))
			}},
			{"UpdateApplication", func(ctx context.Context) error { return s.UpdateApplication(ctx, fullApplication(tenantID)) }},
			{"DeleteApplication", func(ctx context.Context) error { return s.DeleteApplication(ctx, tenantID, newID()) }},
			{"DeleteApplication in another tenant", func(ctx context.Context) error {
				return s.DeleteApplication(ctx, newID(), full.ID)
			}},
		})
	})
}

func testServicePrincipals(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID := newID()
	full := fullServicePrincipal(tenantID, newID())
	minimal := domain.ServicePrincipal{ID: newID(), TenantID: tenantID, AppID: newID()}
	ok(t, s.CreateServicePrincipal(ctx, full))
	ok(t, s.CreateServicePrincipal(ctx, minimal))

	t.Run("GetServicePrincipal round trip", func(t *testing.T) {
		for name, want := range map[string]domain.ServicePrincipal{"full": full, "minimal": minimal} {
			t.Run(name, func(t *testing.T) {
				got, err := s.GetServicePrincipal(t.Context(), tenantID, want.ID)
				ok(t, err)
				equal(t, want, got)
			})
		}
	})

	t.Run("GetServicePrincipalByAppID is case-insensitive", func(t *testing.T) {
		for variant, appID := range caseVariants(full.AppID) {
			t.Run(variant, func(t *testing.T) {
				got, err := s.GetServicePrincipalByAppID(t.Context(), tenantID, appID)
				ok(t, err)
				equal(t, full, got)
			})
		}
	})

	t.Run("ListServicePrincipals is per tenant", func(t *testing.T) {
		got, err := s.ListServicePrincipals(t.Context(), tenantID)
		ok(t, err)
		equalByID(t, []domain.ServicePrincipal{full, minimal}, got)
		got, err = s.ListServicePrincipals(t.Context(), newID())
		ok(t, err)
		if len(got) != 0 {
			t.Fatalf("ListServicePrincipals of an unknown tenant = %v, want none", got)
		}
	})

	t.Run("UpdateServicePrincipal", func(t *testing.T) {
		ctx := t.Context()
		sp := fullServicePrincipal(tenantID, newID())
		ok(t, s.CreateServicePrincipal(ctx, sp))
		sp.DisplayName = "renamed"
		sp.AccountEnabled = false
		sp.ServicePrincipalNames = append(sp.ServicePrincipalNames, "https://extra.example")
		sp.ServicePrincipalType = domain.ServicePrincipalTypeManagedIdentity
		sp.AppRoles = nil
		sp.PasswordCredentials = sp.PasswordCredentials[1:]
		sp.PublicClient = false
		ok(t, s.UpdateServicePrincipal(ctx, sp))
		got, err := s.GetServicePrincipalByAppID(ctx, tenantID, sp.AppID)
		ok(t, err)
		equal(t, sp, got)
	})

	t.Run("DeleteServicePrincipal", func(t *testing.T) {
		ctx := t.Context()
		sp := fullServicePrincipal(tenantID, newID())
		ok(t, s.CreateServicePrincipal(ctx, sp))
		ok(t, s.DeleteServicePrincipal(ctx, tenantID, sp.ID))
		_, err := s.GetServicePrincipal(ctx, tenantID, sp.ID)
		isErr(t, err, store.ErrNotFound)
		_, err = s.GetServicePrincipalByAppID(ctx, tenantID, sp.AppID)
		isErr(t, err, store.ErrNotFound)
	})

	t.Run("same appId in another tenant", func(t *testing.T) {
		ok(t, s.CreateServicePrincipal(t.Context(), fullServicePrincipal(newID(), full.AppID)))
	})

	t.Run("conflicts", func(t *testing.T) {
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				dup := fullServicePrincipal(tenantID, newID())
				dup.ID = full.ID
				return s.CreateServicePrincipal(ctx, dup)
			}},
			{"duplicate appId in another case", func(ctx context.Context) error {
				return s.CreateServicePrincipal(ctx, fullServicePrincipal(tenantID, strings.ToUpper(full.AppID)))
			}},
			{"update to another service principal's appId", func(ctx context.Context) error {
				changed := minimal
				changed.AppID = full.AppID
				return s.UpdateServicePrincipal(ctx, changed)
			}},
		})
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"GetServicePrincipal", func(ctx context.Context) error { return discard(s.GetServicePrincipal(ctx, tenantID, newID())) }},
			{"GetServicePrincipal in another tenant", func(ctx context.Context) error {
				return discard(s.GetServicePrincipal(ctx, newID(), full.ID))
			}},
			{"GetServicePrincipalByAppID", func(ctx context.Context) error {
				return discard(s.GetServicePrincipalByAppID(ctx, tenantID, newID()))
			}},
			{"GetServicePrincipalByAppID in another tenant", func(ctx context.Context) error {
				return discard(s.GetServicePrincipalByAppID(ctx, newID(), full.AppID))
			}},
			{"UpdateServicePrincipal", func(ctx context.Context) error {
				return s.UpdateServicePrincipal(ctx, fullServicePrincipal(tenantID, newID()))
			}},
			{"DeleteServicePrincipal", func(ctx context.Context) error { return s.DeleteServicePrincipal(ctx, tenantID, newID()) }},
		})
	})
}

func testAppRoleAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID := newID()
	principal, other := newID(), newID()
	mk := func(principalID string) domain.AppRoleAssignment {
		return domain.AppRoleAssignment{
			ID: newID(), TenantID: tenantID, PrincipalID: principalID, ResourceID: newID(), AppRoleID: newID(), CreatedAt: at(0),
		}
	}
	held := []domain.AppRoleAssignment{mk(principal), mk(principal), {ID: newID(), TenantID: tenantID, PrincipalID: principal}}
	for _, a := range append(held, mk(other)) {
		ok(t, s.CreateAppRoleAssignment(ctx, a))
	}

	t.Run("ListAppRoleAssignments returns the principal's", func(t *testing.T) {
		got, err := s.ListAppRoleAssignments(t.Context(), tenantID, principal)
		ok(t, err)
		equalByID(t, held, got)
	})

	t.Run("ListAppRoleAssignments is per tenant", func(t *testing.T) {
		got, err := s.ListAppRoleAssignments(t.Context(), newID(), principal)
		ok(t, err)
		if len(got) != 0 {
			t.Fatalf("assignments in another tenant = %v, want none", got)
		}
	})

	t.Run("DeleteAppRoleAssignment", func(t *testing.T) {
		ctx := t.Context()
		ok(t, s.DeleteAppRoleAssignment(ctx, tenantID, held[0].ID))
		got, err := s.ListAppRoleAssignments(ctx, tenantID, principal)
		ok(t, err)
		equalByID(t, held[1:], got)
	})

	t.Run("conflicts", func(t *testing.T) {
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				dup := mk(newID())
				dup.ID = held[1].ID
				return s.CreateAppRoleAssignment(ctx, dup)
			}},
		})
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"DeleteAppRoleAssignment", func(ctx context.Context) error { return s.DeleteAppRoleAssignment(ctx, tenantID, newID()) }},
			{"DeleteAppRoleAssignment twice", func(ctx context.Context) error {
				return s.DeleteAppRoleAssignment(ctx, tenantID, held[0].ID)
			}},
			{"DeleteAppRoleAssignment in another tenant", func(ctx context.Context) error {
				return s.DeleteAppRoleAssignment(ctx, newID(), held[1].ID)
			}},
		})
	})
}

func testDirectoryRoleAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID := newID()
	principal := newID()
	mk := func(principalID, role string) domain.DirectoryRoleAssignment {
		return domain.DirectoryRoleAssignment{ID: newID(), TenantID: tenantID, PrincipalID: principalID, RoleTemplateID: role, CreatedAt: at(0)}
	}
	held := []domain.DirectoryRoleAssignment{
		mk(principal, domain.RoleGlobalAdministrator),
		mk(principal, domain.RoleApplicationAdministrator),
		{ID: newID(), TenantID: tenantID, PrincipalID: principal},
	}
	for _, a := range append(held, mk(newID(), domain.RoleUserAdministrator)) {
		ok(t, s.CreateDirectoryRoleAssignment(ctx, a))
	}

	t.Run("ListDirectoryRoleAssignments returns the principal's", func(t *testing.T) {
		got, err := s.ListDirectoryRoleAssignments(t.Context(), tenantID, principal)
		ok(t, err)
		equalByID(t, held, got)
	})

	t.Run("ListDirectoryRoleAssignments is per tenant", func(t *testing.T) {
		got, err := s.ListDirectoryRoleAssignments(t.Context(), newID(), principal)
		ok(t, err)
		if len(got) != 0 {
			t.Fatalf("assignments in another tenant = %v, want none", got)
		}
	})

	t.Run("DeleteDirectoryRoleAssignment", func(t *testing.T) {
		ctx := t.Context()
		ok(t, s.DeleteDirectoryRoleAssignment(ctx, tenantID, held[0].ID))
		got, err := s.ListDirectoryRoleAssignments(ctx, tenantID, principal)
		ok(t, err)
		equalByID(t, held[1:], got)
	})

	t.Run("conflicts", func(t *testing.T) {
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				dup := mk(newID(), domain.RoleGlobalAdministrator)
				dup.ID = held[1].ID
				return s.CreateDirectoryRoleAssignment(ctx, dup)
			}},
		})
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"DeleteDirectoryRoleAssignment", func(ctx context.Context) error {
				return s.DeleteDirectoryRoleAssignment(ctx, tenantID, newID())
			}},
			{"DeleteDirectoryRoleAssignment in another tenant", func(ctx context.Context) error {
				return s.DeleteDirectoryRoleAssignment(ctx, newID(), held[1].ID)
			}},
		})
	})
}
