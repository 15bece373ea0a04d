package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

func fullNode(tenantID, computeID string) domain.ComputeNode {
	hash := sha256.Sum256([]byte(newID()))
	return domain.ComputeNode{
		ID:         newID(),
		TenantID:   tenantID,
		ComputeID:  computeID,
		Name:       "node " + word(),
		SecretHash: hash[:],
		CreatedBy:  newID(),
		CreatedAt:  at(0),
		RotatedAt:  at(time.Minute),
		ExpiresAt:  at(24 * time.Hour),
	}
}

func nodeIDs(ns []domain.ComputeNode) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	slices.Sort(out)
	return out
}

func expectNodes(t *testing.T, s store.Store, computeID string, want ...domain.ComputeNode) {
	t.Helper()
	got, err := s.ListNodes(t.Context(), computeID)
	ok(t, err)
	if g, w := nodeIDs(got), nodeIDs(want); !slices.Equal(g, w) {
		t.Fatalf("ListNodes(%s) = %q, want %q", computeID, g, w)
	}
}

func expectNodesGone(t *testing.T, s store.Store, ns ...domain.ComputeNode) {
	t.Helper()
	for _, n := range ns {
		if _, err := s.GetNode(t.Context(), n.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetNode(%s) = %v, want ErrNotFound", n.ID, err)
		}
	}
}

func testNodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newARMTree()
	rg := a.resourceGroup("RG-Nodes")
	ws := a.workspace(rg, "WS_1")
	cpu := ws.ID + "/computes/cpu-cluster"
	full := fullNode(a.tenantID, cpu)
	// Minimal: no hash, name or times.
	minimal := domain.ComputeNode{ID: newID(), TenantID: a.tenantID, ComputeID: cpu}
	// The same compute name in another workspace.
	other := fullNode(a.tenantID, a.workspace(rg, "WS_2").ID+"/computes/cpu-cluster")
	for _, n := range []domain.ComputeNode{full, minimal, other} {
		ok(t, s.CreateNode(ctx, n))
	}

	t.Run("GetNode round trip", func(t *testing.T) {
		for name, want := range map[string]domain.ComputeNode{"full": full, "minimal": minimal, "other compute": other} {
			t.Run(name, func(t *testing.T) {
				got, err := s.GetNode(t.Context(), want.ID)
				ok(t, err)
				equal(t, want, got)
			})
		}
	})

	t.Run("ListNodes matches the compute id in any case", func(t *testing.T) {
		for name, id := range caseVariants(cpu) {
			t.Run(name, func(t *testing.T) {
				got, err := s.ListNodes(t.Context(), id)
				ok(t, err)
				equalByID(t, []domain.ComputeNode{full, minimal}, got)
			})
		}
		expectNodes(t, s, ws.ID+"/computes/unknown")
	})

	t.Run("UpdateNodeSecret replaces only the hash and rotation time", func(t *testing.T) {
		n := fullNode(a.tenantID, cpu)
		ok(t, s.CreateNode(t.Context(), n))
		hash := sha256.Sum256([]byte("rotated"))
		ok(t, s.UpdateNodeSecret(t.Context(), n.ID, hash[:], at(time.Hour)))
		want := n
		want.SecretHash, want.RotatedAt = hash[:], at(time.Hour)
		got, err := s.GetNode(t.Context(), n.ID)
		ok(t, err)
		equal(t, want, got)
		ok(t, s.DeleteNode(t.Context(), n.ID))
	})

	t.Run("conflicts", func(t *testing.T) {
		runErrCases(t, store.ErrConflict, []errCase{
			{"duplicate id", func(ctx context.Context) error {
				dup := fullNode(newID(), ws.ID+"/computes/x")
				dup.ID = full.ID
				return s.CreateNode(ctx, dup)
			}},
		})
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"GetNode", func(ctx context.Context) error { return discard(s.GetNode(ctx, newID())) }},
			// Node ids compare exactly, like directory object ids.
			{"GetNode other case", func(ctx context.Context) error { return discard(s.GetNode(ctx, strings.ToUpper(full.ID))) }},
			{"UpdateNodeSecret", func(ctx context.Context) error { return s.UpdateNodeSecret(ctx, newID(), []byte{1}, at(0)) }},
			{"DeleteNode", func(ctx context.Context) error { return s.DeleteNode(ctx, newID()) }},
		})
	})

	t.Run("DeleteNode", func(t *testing.T) {
		n := fullNode(a.tenantID, cpu)
		ok(t, s.CreateNode(t.Context(), n))
		ok(t, s.DeleteNode(t.Context(), n.ID))
		expectNodesGone(t, s, n)
		isErr(t, s.DeleteNode(t.Context(), n.ID), store.ErrNotFound)
		expectNodes(t, s, cpu, full, minimal)
	})

	t.Run("DeleteNodeTree", func(t *testing.T) {
		b := newARMTree()
		brg := b.resourceGroup("rg")
		// Names whose keys share prefixes, and the characters a LIKE pattern
		// would take for wildcards.
		w1 := b.workspace(brg, "w_1").ID
		w1Sibling := b.workspace(brg, "w_10").ID
		w1Like := b.workspace(brg, "wx1").ID
		c1 := fullNode(b.tenantID, w1+"/computes/c%")
		c1b := fullNode(b.tenantID, strings.ToUpper(w1)+"/computes/C2")
		c1Sibling := fullNode(b.tenantID, w1+"/computes/c%-2")
		c2 := fullNode(b.tenantID, w1Sibling+"/computes/c%")
		c3 := fullNode(b.tenantID, w1Like+"/computes/c%")
		for _, n := range []domain.ComputeNode{c1, c1b, c1Sibling, c2, c3} {
			ok(t, s.CreateNode(t.Context(), n))
		}

		// One compute: its siblings with a longer name stay.
		n, err := s.DeleteNodeTree(t.Context(), strings.ToLower(c1.ComputeID))
		ok(t, err)
		if n != 1 {
			t.Fatalf("DeleteNodeTree(compute) deleted %d nodes, want 1", n)
		}
		expectNodesGone(t, s, c1)
		expectNodes(t, s, c1Sibling.ComputeID, c1Sibling)

		// A workspace: every compute under it, not the workspace whose name
		// extends it or matches it as a LIKE pattern.
		n, err = s.DeleteNodeTree(t.Context(), w1)
		ok(t, err)
		if n != 2 {
			t.Fatalf("DeleteNodeTree(workspace) deleted %d nodes, want 2", n)
		}
		expectNodesGone(t, s, c1b, c1Sibling)
		expectNodes(t, s, c2.ComputeID, c2)
		expectNodes(t, s, c3.ComputeID, c3)

		n, err = s.DeleteNodeTree(t.Context(), w1)
		ok(t, err)
		if n != 0 {
			t.Fatalf("DeleteNodeTree of an empty tree deleted %d nodes", n)
		}
	})

	t.Run("InTx rolls node writes back", func(t *testing.T) {
		n := fullNode(a.tenantID, cpu)
		err := s.InTx(t.Context(), func(tx store.Tx) error {
			if err := tx.CreateNode(t.Context(), n); err != nil {
				return err
			}
			if err := tx.UpdateNodeSecret(t.Context(), full.ID, []byte("x"), at(time.Hour)); err != nil {
				return err
			}
			if _, err := tx.DeleteNodeTree(t.Context(), cpu); err != nil {
				return err
			}
			return errBoom
		})
		isErr(t, err, errBoom)
		expectNodesGone(t, s, n)
		got, err := s.GetNode(t.Context(), full.ID)
		ok(t, err)
		equal(t, full, got)
	})
}
