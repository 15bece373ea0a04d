package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

func testSubscriptions(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID := newID()
	full := domain.Subscription{ID: newID(), TenantID: tenantID, DisplayName: "Production", State: "Enabled", CreatedAt: at(0)}
	minimal := domain.Subscription{ID: newID(), TenantID: tenantID}
	elsewhere := domain.Subscription{ID: newID(), TenantID: newID(), DisplayName: "Other", State: "Enabled", CreatedAt: at(time.Hour)}
	for _, sub := range []domain.Subscription{full, minimal, elsewhere} {
		ok(t, s.CreateSubscription(ctx, sub))
	}

	t.Run("GetSubscription round trip", func(t *testing.T) {
		for name, want := range map[string]domain.Subscription{"full": full, "minimal": minimal, "other tenant": elsewhere} {
			t.Run(name, func(t *testing.T) {
				got, err := s.GetSubscription(t.Context(), want.ID)
				ok(t, err)
				equal(t, want, got)
			})
		}
	})

	t.Run("ListSubscriptions is per tenant", func(t *testing.T) {
		got, err := s.ListSubscriptions(t.Context(), tenantID)
		ok(t, err)
		equalByID(t, []domain.Subscription{full, minimal}, got)
		got, err = s.ListSubscriptions(t.Context(), newID())
		ok(t, err)
		if len(got) != 0 {
			t.Fatalf("ListSubscriptions of an unknown tenant = %v, want none", got)
		}
	})

	t.Run("conflicts", func(t *testing.T) {
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				return s.CreateSubscription(ctx, domain.Subscription{ID: full.ID, TenantID: newID(), DisplayName: "dup"})
			}},
		})
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"GetSubscription", func(ctx context.Context) error { return discard(s.GetSubscription(ctx, newID())) }},
		})
	})
}

func testRoleAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenantID := newID()
	full := fullRoleAssignment(tenantID)
	minimal := domain.RoleAssignment{ID: newID(), TenantID: tenantID, Scope: "/", RoleDefinitionID: domain.RoleReader, PrincipalID: newID()}
	elsewhere := fullRoleAssignment(newID())
	for _, a := range []domain.RoleAssignment{full, minimal, elsewhere} {
		ok(t, s.CreateRoleAssignment(ctx, a))
	}

	t.Run("GetRoleAssignment round trip", func(t *testing.T) {
		for name, want := range map[string]domain.RoleAssignment{"full": full, "minimal": minimal, "other tenant": elsewhere} {
			t.Run(name, func(t *testing.T) {
				got, err := s.GetRoleAssignment(t.Context(), want.ID)
				ok(t, err)
				equal(t, want, got)
			})
		}
	})

	t.Run("ListRoleAssignments is per tenant", func(t *testing.T) {
		got, err := s.ListRoleAssignments(t.Context(), tenantID)
		ok(t, err)
		equalByID(t, []domain.RoleAssignment{full, minimal}, got)
	})

	t.Run("same scope and role for another principal", func(t *testing.T) {
		a := fullRoleAssignment(tenantID)
		a.Scope, a.RoleDefinitionID = full.Scope, full.RoleDefinitionID
		ok(t, s.CreateRoleAssignment(t.Context(), a))
	})

	t.Run("DeleteRoleAssignment frees the triple", func(t *testing.T) {
		ctx := t.Context()
		a := fullRoleAssignment(tenantID)
		ok(t, s.CreateRoleAssignment(ctx, a))
		ok(t, s.DeleteRoleAssignment(ctx, a.ID))
		_, err := s.GetRoleAssignment(ctx, a.ID)
		isErr(t, err, store.ErrNotFound)
		again := a
		again.ID = newID()
		ok(t, s.CreateRoleAssignment(ctx, again))
	})

	t.Run("conflicts", func(t *testing.T) {
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				dup := fullRoleAssignment(tenantID)
				dup.ID = full.ID
				return s.CreateRoleAssignment(ctx, dup)
			}},
			{"duplicate scope, role and principal", func(ctx context.Context) error {
				dup := full
				dup.ID = newID()
				dup.Description = "again"
				return s.CreateRoleAssignment(ctx, dup)
			}},
			// ARM compares scopes and GUIDs case-insensitively.
			{"duplicate triple in another case", func(ctx context.Context) error {
				dup := full
				dup.ID = newID()
				dup.Scope = strings.ToUpper(full.Scope)
				dup.RoleDefinitionID = strings.ToUpper(full.RoleDefinitionID)
				dup.PrincipalID = strings.ToUpper(full.PrincipalID)
				return s.CreateRoleAssignment(ctx, dup)
			}},
		})
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"GetRoleAssignment", func(ctx context.Context) error { return discard(s.GetRoleAssignment(ctx, newID())) }},
			{"DeleteRoleAssignment", func(ctx context.Context) error { return s.DeleteRoleAssignment(ctx, newID()) }},
		})
	})
}

func testSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	current := domain.SigningKey{
		ID:          "kid-" + word(),
		Algorithm:   "RS256",
		State:       domain.KeyStateCurrent,
		PrivateKey:  []byte{0x30, 0x82, 0x04, 0xbe, 0x02, 0x01, 0x00},
		Certificate: []byte{0x30, 0x82, 0x02, 0xa0, 0xa0, 0x03},
		CreatedAt:   at(0),
		ActivatedAt: at(time.Hour),
	}
	next := domain.SigningKey{
		ID:          "kid-" + word(),
		Algorithm:   "RS256",
		State:       domain.KeyStateNext,
		PrivateKey:  []byte{1, 2, 3},
		Certificate: []byte{4, 5, 6},
		CreatedAt:   at(24 * time.Hour),
	}
	ok(t, s.CreateSigningKey(ctx, current))
	ok(t, s.CreateSigningKey(ctx, next))

	t.Run("ListSigningKeys round trip", func(t *testing.T) {
		got, err := s.ListSigningKeys(t.Context())
		ok(t, err)
		equalByID(t, []domain.SigningKey{current, next}, got)
	})

	t.Run("UpdateSigningKey changes only state and times", func(t *testing.T) {
		ctx := t.Context()
		rotated := current
		rotated.State = domain.KeyStatePrevious
		rotated.RetiredAt = at(48 * time.Hour)
		promoted := next
		promoted.State = domain.KeyStateCurrent
		promoted.ActivatedAt = at(48 * time.Hour)
		ok(t, s.UpdateSigningKey(ctx, rotated))
		// The key material is not the update's to change.
		tampered := promoted
		tampered.Algorithm = "HS256"
		tampered.PrivateKey = []byte("other")
		tampered.Certificate = nil
		tampered.CreatedAt = at(-time.Hour)
		ok(t, s.UpdateSigningKey(ctx, tampered))

		got, err := s.ListSigningKeys(ctx)
		ok(t, err)
		equalByID(t, []domain.SigningKey{rotated, promoted}, got)
	})

	t.Run("conflicts", func(t *testing.T) {
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				dup := next
				dup.State = domain.KeyStateNext
				return s.CreateSigningKey(ctx, dup)
			}},
		})
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"UpdateSigningKey", func(ctx context.Context) error {
				return s.UpdateSigningKey(ctx, domain.SigningKey{ID: "kid-missing", State: domain.KeyStateRetired})
			}},
		})
	})
}
