package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

const (
	typeResourceGroup = "Microsoft.Resources/resourceGroups"
	typeWorkspace     = "Microsoft.MachineLearningServices/workspaces"
	typeCompute       = "Microsoft.MachineLearningServices/workspaces/computes"
)

// armTree builds resources of one subscription the way ARM ids nest.
type armTree struct {
	tenantID, subscriptionID string
}

func newARMTree() armTree { return armTree{tenantID: newID(), subscriptionID: newID()} }

func (a armTree) resourceGroup(name string) domain.Resource {
	id := "/subscriptions/" + a.subscriptionID + "/resourceGroups/" + name
	return a.resource(id, "", "", typeResourceGroup, name)
}

func (a armTree) workspace(rg domain.Resource, name string) domain.Resource {
	id := rg.ID + "/providers/" + typeWorkspace + "/" + name
	return a.resource(id, rg.ID, rg.Name, typeWorkspace, name)
}

func (a armTree) compute(ws domain.Resource, name string) domain.Resource {
	return a.resource(ws.ID+"/computes/"+name, ws.ID, ws.ResourceGroup, typeCompute, name)
}

func (a armTree) resource(id, parentID, rg, typ, name string) domain.Resource {
	return domain.Resource{
		ID:             id,
		TenantID:       a.tenantID,
		SubscriptionID: a.subscriptionID,
		ResourceGroup:  rg,
		Type:           typ,
		ParentID:       parentID,
		Name:           name,
		Location:       "westeurope",
		ETag:           `W/"` + newID() + `"`,
		// Key order, spacing and escapes a JSON re-encoding would change:
		// the body must come back byte for byte.
		Body: []byte(fmt.Sprintf("{\"name\": %q,\n  \"location\":\"westeurope\", \"a\":{\"z\":1,\"b\":[ 2,1 ]},\"s\":\"\\u00e9\\/x\"}\n",
			name)),
		CreatedBy: newID(),
		CreatedAt: at(0),
		UpdatedAt: at(time.Minute),
	}
}

func putAll(t *testing.T, s store.Store, rs ...domain.Resource) {
	t.Helper()
	for _, r := range rs {
		ok(t, s.PutResource(t.Context(), r, ""))
	}
}

// ids returns the resources' ids, sorted.
func ids(rs []domain.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	slices.Sort(out)
	return out
}

func expectIDs(t *testing.T, what string, got []string, want ...domain.Resource) {
	t.Helper()
	got = slices.Clone(got)
	slices.Sort(got)
	if w := ids(want); !slices.Equal(got, w) {
		t.Fatalf("%s = %q,\nwant %q", what, got, w)
	}
}

func expectGone(t *testing.T, s store.Store, rs ...domain.Resource) {
	t.Helper()
	for _, r := range rs {
		_, err := s.GetResource(t.Context(), r.ID)
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetResource(%s) after delete: %v, want ErrNotFound", r.ID, err)
		}
	}
}

func expectStored(t *testing.T, s store.Store, rs ...domain.Resource) {
	t.Helper()
	for _, r := range rs {
		got, err := s.GetResource(t.Context(), r.ID)
		ok(t, err)
		equal(t, r, got)
	}
}

func testResources(t *testing.T, s store.Store) {
	a := newARMTree()
	rg := a.resourceGroup("RG-Main")
	ws := a.workspace(rg, "WS_1")
	cpu := a.compute(ws, "cpu-cluster")
	gpu := a.compute(ws, "GPU_cluster")
	// Minimal: no body, no times, no location.
	minimal := domain.Resource{ID: rg.ID + "/providers/Microsoft.Storage/storageAccounts/min", SubscriptionID: a.subscriptionID,
		ResourceGroup: rg.Name, ParentID: rg.ID, Type: "Microsoft.Storage/storageAccounts", Name: "min"}
	rg2 := a.resourceGroup("rg-second")
	ws2 := a.workspace(rg2, "other")
	// Same resource group name in another subscription of another tenant.
	b := newARMTree()
	brg := b.resourceGroup("RG-Main")
	bws := b.workspace(brg, "WS_1")
	putAll(t, s, rg, ws, cpu, gpu, minimal, rg2, ws2, brg, bws)

	t.Run("GetResource round trip", func(t *testing.T) {
		for name, want := range map[string]domain.Resource{"resource group": rg, "workspace": ws, "compute": gpu,
			"minimal": minimal, "other subscription": bws} {
			t.Run(name, func(t *testing.T) {
				got, err := s.GetResource(t.Context(), want.ID)
				ok(t, err)
				equal(t, want, got)
				if string(got.Body) != string(want.Body) {
					t.Fatalf("body = %q, want %q", got.Body, want.Body)
				}
			})
		}
	})

	t.Run("GetResource is case-insensitive and keeps the stored casing", func(t *testing.T) {
		for variant, id := range caseVariants(gpu.ID) {
			t.Run(variant, func(t *testing.T) {
				got, err := s.GetResource(t.Context(), id)
				ok(t, err)
				equal(t, gpu, got)
			})
		}
	})

	t.Run("ListResources lists direct children of one type", func(t *testing.T) {
		cases := []struct {
			name             string
			sub, parent, typ string
			want             []domain.Resource
		}{
			{"resource groups", a.subscriptionID, "", typeResourceGroup, []domain.Resource{rg, rg2}},
			{"resource groups in another case", strings.ToUpper(a.subscriptionID), "", strings.ToLower(typeResourceGroup), []domain.Resource{rg, rg2}},
			{"workspaces of a group", a.subscriptionID, rg.ID, typeWorkspace, []domain.Resource{ws}},
			{"workspaces, parent in another case", a.subscriptionID, strings.ToUpper(rg.ID), strings.ToUpper(typeWorkspace), []domain.Resource{ws}},
			{"computes of a workspace", a.subscriptionID, strings.ToLower(ws.ID), typeCompute, []domain.Resource{cpu, gpu}},
			{"other type under the same parent", a.subscriptionID, rg.ID, minimal.Type, []domain.Resource{minimal}},
			{"other subscription", b.subscriptionID, "", typeResourceGroup, []domain.Resource{brg}},
			{"parent of another subscription", a.subscriptionID, brg.ID, typeWorkspace, nil},
			{"no children", a.subscriptionID, cpu.ID, typeCompute, nil},
			{"unknown subscription", newID(), "", typeResourceGroup, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.ListResources(t.Context(), c.sub, c.parent, c.typ)
				ok(t, err)
				equalByID(t, c.want, got)
			})
		}
	})

	t.Run("ListResourcesIn", func(t *testing.T) {
		cases := []struct {
			name    string
			sub, rg string
			want    []domain.Resource
		}{
			{"whole subscription", a.subscriptionID, "", []domain.Resource{rg, ws, cpu, gpu, minimal, rg2, ws2}},
			{"whole subscription in another case", strings.ToUpper(a.subscriptionID), "", []domain.Resource{rg, ws, cpu, gpu, minimal, rg2, ws2}},
			{"one resource group", a.subscriptionID, "RG-Main", []domain.Resource{ws, cpu, gpu, minimal}},
			{"resource group in another case", a.subscriptionID, "rg-MAIN", []domain.Resource{ws, cpu, gpu, minimal}},
			{"another resource group", a.subscriptionID, "rg-second", []domain.Resource{ws2}},
			{"same group name in another subscription", b.subscriptionID, "rg-main", []domain.Resource{bws}},
			{"unknown resource group", a.subscriptionID, "rg-none", nil},
			{"unknown subscription", newID(), "", nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.ListResourcesIn(t.Context(), c.sub, c.rg)
				ok(t, err)
				equalByID(t, c.want, got)
			})
		}
	})

	t.Run("PutResource", func(t *testing.T) {
		fresh := func() domain.Resource { return a.workspace(rg2, "put-"+word()) }

		t.Run("unconditional put replaces", func(t *testing.T) {
			ctx := t.Context()
			r := fresh()
			ok(t, s.PutResource(ctx, r, ""))
			r.Location = "eastus"
			r.ETag = `W/"` + newID() + `"`
			r.Body = []byte(`{"replaced":true}`)
			r.UpdatedAt = at(time.Hour)
			ok(t, s.PutResource(ctx, r, ""))
			expectStored(t, s, r)
		})

		t.Run("replace keeps the id's casing", func(t *testing.T) {
			ctx := t.Context()
			r := fresh()
			ok(t, s.PutResource(ctx, r, ""))
			for _, mode := range []string{"unconditional", "any", "etag"} {
				ifMatch := map[string]string{"unconditional": "", "any": "*", "etag": r.ETag}[mode]
				changed := r
				changed.ID = strings.ToUpper(r.ID)
				changed.ETag = `W/"` + newID() + `"`
				changed.Location = "loc-" + word()
				ok(t, s.PutResource(ctx, changed, ifMatch))
				want := changed
				want.ID = r.ID
				expectStored(t, s, want)
				r.ETag = changed.ETag
			}
		})

		t.Run(`"*" requires the resource`, func(t *testing.T) {
			ctx := t.Context()
			r := fresh()
			isErr(t, s.PutResource(ctx, r, "*"), store.ErrNotFound)
			expectGone(t, s, r)
			ok(t, s.PutResource(ctx, r, ""))
			r.Body = []byte(`{"v":2}`)
			ok(t, s.PutResource(ctx, r, "*"))
			expectStored(t, s, r)
		})

		t.Run("an ETag must match the stored one", func(t *testing.T) {
			ctx := t.Context()
			r := fresh()
			ok(t, s.PutResource(ctx, r, ""))
			stale := r.ETag

			next := r
			next.ETag = `W/"` + newID() + `"`
			next.Body = []byte(`{"v":2}`)
			isErr(t, s.PutResource(ctx, next, `W/"`+newID()+`"`), store.ErrPrecondition)
			// ETags are opaque and compared exactly.
			isErr(t, s.PutResource(ctx, next, strings.ToUpper(stale)), store.ErrPrecondition)
			expectStored(t, s, r)

			ok(t, s.PutResource(ctx, next, stale))
			expectStored(t, s, next)
			// The old ETag is spent.
			again := next
			again.ETag = `W/"` + newID() + `"`
			isErr(t, s.PutResource(ctx, again, stale), store.ErrPrecondition)
			expectStored(t, s, next)
		})

		t.Run("an ETag on a missing resource", func(t *testing.T) {
			r := fresh()
			isErr(t, s.PutResource(t.Context(), r, r.ETag), store.ErrPrecondition)
			expectGone(t, s, r)
		})
	})

	t.Run("DeleteResource deletes one resource", func(t *testing.T) {
		ctx := t.Context()
		w := a.workspace(rg2, "del-"+word())
		c := a.compute(w, "c1")
		putAll(t, s, w, c)
		ok(t, s.DeleteResource(ctx, strings.ToUpper(w.ID)))
		expectGone(t, s, w)
		expectStored(t, s, c)
		isErr(t, s.DeleteResource(ctx, w.ID), store.ErrNotFound)
		ok(t, s.DeleteResource(ctx, c.ID))
	})

	t.Run("DeleteResourceTree", func(t *testing.T) {
		ctx := t.Context()
		tr := newARMTree()
		group := tr.resourceGroup("rg_tree")
		root := tr.workspace(group, "ws_1")
		child := tr.compute(root, "c_1")
		grandchild := tr.resource(child.ID+"/nodes/n%1", child.ID, group.Name, typeCompute+"/nodes", "n%1")
		// Neighbours a prefix match would catch: an unescaped LIKE 'ws_1/%'
		// matches wsX1's subtree, and 'ws_1%' matches ws_10 and ws_1-b.
		lookalike := tr.workspace(group, "wsX1")
		lookalikeChild := tr.compute(lookalike, "c_1")
		longer := tr.workspace(group, "ws_10")
		longerChild := tr.compute(longer, "c")
		dashed := tr.workspace(group, "ws_1-b")
		dashedChild := tr.compute(dashed, "c")
		percent := tr.workspace(group, "w%")
		percentChild := tr.compute(percent, "c")
		wide := tr.workspace(group, "wAny")
		wideChild := tr.compute(wide, "c")
		putAll(t, s, group, root, child, grandchild, lookalike, lookalikeChild, longer, longerChild,
			dashed, dashedChild, percent, percentChild, wide, wideChild)

		got, err := s.DeleteResourceTree(ctx, strings.ToUpper(root.ID))
		ok(t, err)
		expectIDs(t, "deleted ids", got, root, child, grandchild)
		expectGone(t, s, root, child, grandchild)
		expectStored(t, s, group, lookalike, lookalikeChild, longer, longerChild, dashed, dashedChild)

		got, err = s.DeleteResourceTree(ctx, percent.ID)
		ok(t, err)
		expectIDs(t, "deleted ids", got, percent, percentChild)
		expectStored(t, s, wide, wideChild)

		t.Run("a leaf", func(t *testing.T) {
			got, err := s.DeleteResourceTree(t.Context(), strings.ToLower(longerChild.ID))
			ok(t, err)
			expectIDs(t, "deleted ids", got, longerChild)
			expectStored(t, s, longer)
		})

		t.Run("missing", func(t *testing.T) {
			_, err := s.DeleteResourceTree(t.Context(), root.ID)
			isErr(t, err, store.ErrNotFound)
		})

		t.Run("a whole resource group", func(t *testing.T) {
			ctx := t.Context()
			// A group whose name extends this one's is not inside it.
			neighbour := tr.resourceGroup("rg_tree2")
			neighbourChild := tr.workspace(neighbour, "ws")
			putAll(t, s, neighbour, neighbourChild)
			got, err := s.DeleteResourceTree(ctx, group.ID)
			ok(t, err)
			expectIDs(t, "deleted ids", got, group, lookalike, lookalikeChild, longer, dashed, dashedChild, wide, wideChild)
			rest, err := s.ListResourcesIn(ctx, tr.subscriptionID, "")
			ok(t, err)
			equalByID(t, []domain.Resource{neighbour, neighbourChild}, rest)
			// The first tree's subscription is untouched.
			expectStored(t, s, rg, ws, cpu, gpu, minimal)
		})
	})

	t.Run("not found", func(t *testing.T) {
		runErrCases(t, store.ErrNotFound, []errCase{
			{"GetResource", func(ctx context.Context) error { return discard(s.GetResource(ctx, rg.ID+"/missing")) }},
			{"DeleteResource", func(ctx context.Context) error { return s.DeleteResource(ctx, rg.ID+"/missing") }},
			{"DeleteResourceTree", func(ctx context.Context) error { return discard(s.DeleteResourceTree(ctx, rg.ID+"/missing")) }},
		})
	})
}

// together starts n goroutines at once and returns their errors.
func together(n int, fn func(i int) error) []error {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testResourceConcurrency(t *testing.T, s store.Store) {
	const workers = 8
	a := newARMTree()
	rg := a.resourceGroup("rg-concurrency")
	putAll(t, s, rg)

	t.Run("same ETag from many goroutines", func(t *testing.T) {
		for round := range 20 {
			ctx := t.Context()
			r := a.workspace(rg, "ws-"+word())
			ok(t, s.PutResource(ctx, r, ""))
			versions := make([]domain.Resource, workers)
			for i := range versions {
				versions[i] = r
				versions[i].ETag = `W/"` + newID() + `"`
				versions[i].Body = []byte(fmt.Sprintf(`{"writer":%d}`, i))
			}
			errs := together(workers, func(i int) error { return s.PutResource(ctx, versions[i], r.ETag) })
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("round %d: writers %d and %d both succeeded with one ETag", round, winner, i)
					}
					winner = i
				case !errors.Is(err, store.ErrPrecondition):
					t.Fatalf("round %d: unexpected error: %v", round, err)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: no writer succeeded", round)
			}
			expectStored(t, s, versions[winner])
		}
	})

	t.Run("unconditional puts of one new resource", func(t *testing.T) {
		for round := range 20 {
			ctx := t.Context()
			r := a.workspace(rg, "new-"+word())
			errs := together(workers, func(i int) error {
				v := r
				v.ETag = fmt.Sprintf("etag-%d", i)
				return s.PutResource(ctx, v, "")
			})
			for _, err := range errs {
				if err != nil {
					t.Fatalf("round %d: unexpected error: %v", round, err)
				}
			}
			got, err := s.ListResources(ctx, a.subscriptionID, rg.ID, typeWorkspace)
			ok(t, err)
			n := 0
			for _, g := range got {
				if g.ID == r.ID {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("round %d: %d copies of the resource, want 1", round, n)
			}
		}
	})

	t.Run("chained ETags from many goroutines", func(t *testing.T) {
		// Each writer reads, then writes with the ETag it read, retrying
		// on ErrPrecondition: no update may be lost.
		ctx := t.Context()
		r := a.workspace(rg, "counter")
		r.Body = []byte("0")
		ok(t, s.PutResource(ctx, r, ""))
		const perWorker = 10
		errs := together(workers, func(i int) error {
			for range perWorker {
				for {
					cur, err := s.GetResource(ctx, r.ID)
					if err != nil {
						return err
					}
					var n int
					if _, err := fmt.Sscan(string(cur.Body), &n); err != nil {
						return err
					}
					next := cur
					next.Body = []byte(fmt.Sprint(n + 1))
					next.ETag = newID()
					err = s.PutResource(ctx, next, cur.ETag)
					if err == nil {
						break
					}
					if !errors.Is(err, store.ErrPrecondition) {
						return err
					}
				}
			}
			return nil
		})
		for _, err := range errs {
			ok(t, err)
		}
		got, err := s.GetResource(ctx, r.ID)
		ok(t, err)
		if want := fmt.Sprint(workers * perWorker); string(got.Body) != want {
			t.Fatalf("counter = %s, want %s: an update was lost", got.Body, want)
		}
	})
}

// testRBACInTx checks that groups, role definitions and resources take part
// in transactions like every other write.
func testRBACInTx(t *testing.T, s store.Store) {
	type writes struct {
		group domain.Group
		edge  domain.GroupMembership
		def   domain.RoleDefinition
		res   domain.Resource
	}
	newWrites := func() writes {
		tenantID := newID()
		g := fullGroup(tenantID)
		a := newARMTree()
		return writes{
			group: g,
			edge:  domain.GroupMembership{TenantID: tenantID, GroupID: g.ID, MemberID: newID()},
			def:   fullRoleDefinition(tenantID),
			res:   a.resourceGroup("rg-" + word()),
		}
	}
	write := func(ctx context.Context, tx store.Tx, w writes) error {
		return errors.Join(
			tx.CreateGroup(ctx, w.group),
			tx.AddGroupMember(ctx, w.edge),
			tx.CreateRoleDefinition(ctx, w.def),
			tx.PutResource(ctx, w.res, ""),
		)
	}
	present := func(t *testing.T, w writes) map[string]bool {
		t.Helper()
		ctx := t.Context()
		found := func(err error) bool {
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("unexpected error: %v", err)
			}
			return err == nil
		}
		members, err := s.ListGroupMembers(ctx, w.edge.TenantID, w.edge.GroupID)
		ok(t, err)
		return map[string]bool{
			"group":           found(discard(s.GetGroup(ctx, w.group.TenantID, w.group.ID))),
			"group member":    slices.Contains(members, w.edge.MemberID),
			"role definition": found(discard(s.GetRoleDefinition(ctx, w.def.ID))),
			"resource":        found(discard(s.GetResource(ctx, w.res.ID))),
		}
	}

	t.Run("commit", func(t *testing.T) {
		w := newWrites()
		ok(t, s.InTx(t.Context(), func(tx store.Tx) error { return write(t.Context(), tx, w) }))
		expectPresent(t, present(t, w), true)
	})

	t.Run("error rolls back", func(t *testing.T) {
		w := newWrites()
		err := s.InTx(t.Context(), func(tx store.Tx) error {
			if err := write(t.Context(), tx, w); err != nil {
				return err
			}
			// Reads inside see the writes.
			if _, err := tx.GetResource(t.Context(), strings.ToUpper(w.res.ID)); err != nil {
				return err
			}
			return errBoom
		})
		isErr(t, err, errBoom)
		expectPresent(t, present(t, w), false)
	})

	t.Run("failed writes do not spoil the transaction", func(t *testing.T) {
		existing, w := newWrites(), newWrites()
		ok(t, write(t.Context(), s, existing))
		child := newARMTree().resourceGroup("rg-" + word())
		ok(t, s.InTx(t.Context(), func(tx store.Tx) error {
			ctx := t.Context()
			if err := tx.CreateGroup(ctx, w.group); err != nil {
				return err
			}
			checks := []struct {
				what string
				err  error
				want error
			}{
				{"duplicate group", tx.CreateGroup(ctx, existing.group), store.ErrConflict},
				{"duplicate edge", tx.AddGroupMember(ctx, existing.edge), store.ErrConflict},
				{"missing edge", tx.RemoveGroupMember(ctx, w.edge), store.ErrNotFound},
				{"duplicate role name", tx.CreateRoleDefinition(ctx, func() domain.RoleDefinition {
					d := fullRoleDefinition(existing.def.TenantID)
					d.RoleName = existing.def.RoleName
					return d
				}()), store.ErrConflict},
				{"stale ETag", tx.PutResource(ctx, existing.res, `W/"stale"`), store.ErrPrecondition},
				{`"*" on a missing resource`, tx.PutResource(ctx, child, "*"), store.ErrNotFound},
				{"missing tree", discard(tx.DeleteResourceTree(ctx, child.ID)), store.ErrNotFound},
			}
			for _, c := range checks {
				if !errors.Is(c.err, c.want) {
					return fmt.Errorf("%s in transaction: %v, want %v", c.what, c.err, c.want)
				}
			}
			// A tree delete inside the transaction commits with it.
			deleted, err := tx.DeleteResourceTree(ctx, existing.res.ID)
			if err != nil {
				return err
			}
			if len(deleted) != 1 || deleted[0] != existing.res.ID {
				return fmt.Errorf("DeleteResourceTree in transaction = %q, want [%s]", deleted, existing.res.ID)
			}
			if err := tx.DeleteGroup(ctx, existing.group.TenantID, existing.group.ID); err != nil {
				return err
			}
			return errors.Join(
				tx.AddGroupMember(ctx, w.edge),
				tx.CreateRoleDefinition(ctx, w.def),
				tx.PutResource(ctx, w.res, ""),
			)
		}))
		expectPresent(t, present(t, w), true)
		got := present(t, existing)
		if got["group"] || got["group member"] || got["resource"] || !got["role definition"] {
			t.Fatalf("existing writes after the transaction: %v, want only the role definition", got)
		}
	})
}
