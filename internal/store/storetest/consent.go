package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

func fullGrant(tenantID, clientID, resourceID, principalID string) domain.OAuth2PermissionGrant {
	g := domain.OAuth2PermissionGrant{
		ID: newID(), TenantID: tenantID, ClientID: clientID, ResourceID: resourceID,
		ConsentType: domain.ConsentAllPrincipals, Scope: "Files.Read User.Read", CreatedAt: at(0),
	}
	if principalID != "" {
		g.ConsentType, g.PrincipalID = domain.ConsentPrincipal, principalID
	}
	return g
}

func grantIDs(gs []domain.OAuth2PermissionGrant) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, g.ID)
	}
	return out
}

func testPermissionGrants(t *testing.T, s store.Store) {
	ctx := context.Background()
	tn := newID()
	client, other, resource, user := newID(), newID(), newID(), newID()
	all := fullGrant(tn, client, resource, "")
	mine := fullGrant(tn, client, resource, user)
	mine.CreatedAt = at(time.Second)
	otherClient := fullGrant(tn, other, resource, user)
	otherClient.CreatedAt = at(2 * time.Second)

	before, _ := s.Revision(ctx)
	for _, g := range []domain.OAuth2PermissionGrant{all, mine, otherClient} {
		if err := s.CreatePermissionGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("RoundTrip", func(t *testing.T) {
		got, err := s.GetPermissionGrant(ctx, tn, mine.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := mine
		want.CreatedAt = want.CreatedAt.UTC().Truncate(time.Microsecond)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
		if _, err := s.GetPermissionGrant(ctx, newID(), mine.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get from another tenant: %v", err)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		for name, c := range map[string]struct {
			f    store.GrantFilter
			want []string
		}{
			"none":        {store.GrantFilter{}, []string{all.ID, mine.ID, otherClient.ID}},
			"client":      {store.GrantFilter{ClientID: client}, []string{all.ID, mine.ID}},
			"resource":    {store.GrantFilter{ResourceID: resource}, []string{all.ID, mine.ID, otherClient.ID}},
			"consentType": {store.GrantFilter{ConsentType: domain.ConsentAllPrincipals}, []string{all.ID}},
			"principal":   {store.GrantFilter{PrincipalID: user}, []string{mine.ID, otherClient.ID}},
			"combined":    {store.GrantFilter{ClientID: other, PrincipalID: user}, []string{otherClient.ID}},
			"nothing":     {store.GrantFilter{ClientID: newID()}, []string{}},
		} {
			got, err := s.ListPermissionGrants(ctx, tn, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(grantIDs(got), c.want) {
				t.Errorf("%s: got %v, want %v", name, grantIDs(got), c.want)
			}
		}
	})
	t.Run("OneGrantPerClientResourcePrincipal", func(t *testing.T) {
		dup := fullGrant(tn, client, resource, user)
		if err := s.CreatePermissionGrant(ctx, dup); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second Principal grant: %v", err)
		}
		dup = fullGrant(tn, client, resource, "")
		if err := s.CreatePermissionGrant(ctx, dup); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second AllPrincipals grant: %v", err)
		}
		again := mine
		again.ClientID = newID()
		if err := s.CreatePermissionGrant(ctx, again); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate id: %v", err)
		}
	})
	t.Run("UpdateScope", func(t *testing.T) {
		g := mine
		g.Scope = "Files.Read Files.Write"
		g.ClientID = newID() // only the scope changes
		if err := s.UpdatePermissionGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetPermissionGrant(ctx, tn, mine.ID)
		if got.Scope != g.Scope || got.ClientID != client {
			t.Fatalf("after update: %+v", got)
		}
		g.ID = newID()
		if err := s.UpdatePermissionGrant(ctx, g); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update missing grant: %v", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := s.DeletePermissionGrant(ctx, tn, otherClient.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeletePermissionGrant(ctx, tn, otherClient.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := s.GetPermissionGrant(ctx, tn, otherClient.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get deleted: %v", err)
		}
	})
	t.Run("Changes", func(t *testing.T) {
		got := changesAfter(t, s, before)
		var keys []string
		for _, c := range got {
			if c.Kind != store.ChangePermissionGrant || c.TenantID != tn {
				t.Fatalf("unexpected change %+v", c)
			}
			keys = append(keys, c.Key)
		}
		want := []string{all.ID, mine.ID, otherClient.ID, mine.ID, otherClient.ID}
		if !reflect.DeepEqual(keys, want) {
			t.Fatalf("change keys %v, want %v", keys, want)
		}
	})
}

func fullPolicy(tenantID string, orgDefault bool) domain.TokenLifetimePolicy {
	return domain.TokenLifetimePolicy{
		ID: newID(), TenantID: tenantID, DisplayName: "policy " + word(),
		Definition:            []string{`{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"02:00:00"}}`},
		IsOrganizationDefault: orgDefault, CreatedAt: at(0),
	}
}

func testTokenLifetimePolicies(t *testing.T, s store.Store) {
	ctx := context.Background()
	tn := newID()
	def := fullPolicy(tn, true)
	p := fullPolicy(tn, false)
	p.CreatedAt = at(time.Second)
	before, _ := s.Revision(ctx)
	for _, x := range []domain.TokenLifetimePolicy{def, p} {
		if err := s.CreateTokenLifetimePolicy(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("RoundTrip", func(t *testing.T) {
		got, err := s.GetTokenLifetimePolicy(ctx, tn, def.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := def
		want.CreatedAt = want.CreatedAt.UTC().Truncate(time.Microsecond)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
		list, err := s.ListTokenLifetimePolicies(ctx, tn)
		if err != nil || len(list) != 2 || list[0].ID != def.ID || list[1].ID != p.ID {
			t.Fatalf("list: %+v %v", list, err)
		}
		if list, _ := s.ListTokenLifetimePolicies(ctx, newID()); len(list) != 0 {
			t.Fatalf("another tenant lists %+v", list)
		}
	})
	t.Run("OneOrganizationDefault", func(t *testing.T) {
		if err := s.CreateTokenLifetimePolicy(ctx, fullPolicy(tn, true)); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second default: %v", err)
		}
		q := p
		q.IsOrganizationDefault = true
		if err := s.UpdateTokenLifetimePolicy(ctx, q); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("update to second default: %v", err)
		}
		if err := s.CreateTokenLifetimePolicy(ctx, fullPolicy(newID(), true)); err != nil {
			t.Fatalf("another tenant's default: %v", err)
		}
	})
	t.Run("Update", func(t *testing.T) {
		q := p
		q.DisplayName = "renamed"
		q.Definition = []string{`{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"04:00:00"}}`}
		if err := s.UpdateTokenLifetimePolicy(ctx, q); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetTokenLifetimePolicy(ctx, tn, p.ID)
		if got.DisplayName != "renamed" || !reflect.DeepEqual(got.Definition, q.Definition) {
			t.Fatalf("after update: %+v", got)
		}
		q.ID = newID()
		if err := s.UpdateTokenLifetimePolicy(ctx, q); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update missing: %v", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := s.DeleteTokenLifetimePolicy(ctx, tn, def.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteTokenLifetimePolicy(ctx, tn, def.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		// The default's place is free again.
		if err := s.CreateTokenLifetimePolicy(ctx, fullPolicy(tn, true)); err != nil {
			t.Fatalf("new default after delete: %v", err)
		}
	})
	t.Run("Changes", func(t *testing.T) {
		got := changesAfter(t, s, before)
		if len(got) < 4 || got[0].Kind != store.ChangeTokenLifetimePolicy || got[0].Key != def.ID || got[0].TenantID != tn {
			t.Fatalf("changes %+v", got)
		}
	})
}
