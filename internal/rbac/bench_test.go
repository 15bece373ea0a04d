package rbac

import (
	"encoding/hex"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

// The benchmark tenant: 1,000,000 role assignments across 100,000
// principals and 10,000 groups; principals are in 1-4 groups and a fifth of
// the groups are nested in another; assignments are spread over the root,
// 50 subscriptions, 5,000 resource groups and 50,000 workspaces and
// computes. Generation is deterministic (a seeded PCG).
const (
	benchPrincipals  = 100_000
	benchGroups      = 10_000
	benchAssignments = 1_000_000
	benchSubs        = 50
	benchRGsPerSub   = 100
	benchWSPerRG     = 8
	benchComputes    = 10_000
)

type benchData struct {
	defs        []domain.RoleDefinition
	assignments []domain.RoleAssignment
	memberships []domain.GroupMembership
	principals  []string
	scopes      []string // workspaces and computes: where decisions are asked
	actions     []string
}

func guid(r *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}

func genBenchData() *benchData {
	r := rand.New(rand.NewPCG(1, 2))
	d := &benchData{
		actions: []string{
			"Microsoft.MachineLearningServices/workspaces/read",
			"Microsoft.MachineLearningServices/workspaces/write",
			"Microsoft.MachineLearningServices/workspaces/computes/read",
			"Microsoft.MachineLearningServices/workspaces/computes/write",
			"Microsoft.MachineLearningServices/workspaces/jobs/write",
			"Microsoft.MachineLearningServices/workspaces/listKeys/action",
			"Microsoft.Authorization/roleAssignments/write",
			"Microsoft.Resources/subscriptions/resourceGroups/read",
		},
	}
	roles := []string{}
	for _, b := range BuiltInRoles() {
		roles = append(roles, b.ID)
	}
	for i := range 50 {
		def := domain.RoleDefinition{
			ID: guid(r), RoleName: "Custom " + string(rune('A'+i%26)) + guid(r)[:4], Type: domain.RoleTypeCustom,
			AssignableScopes: []string{"/"},
			Permissions: []domain.Permission{{
				Actions:    []string{"Microsoft.MachineLearningServices/workspaces/*/read", "Microsoft.MachineLearningServices/workspaces/jobs/*"},
				NotActions: []string{"Microsoft.MachineLearningServices/workspaces/jobs/delete"},
			}},
		}
		d.defs = append(d.defs, def)
		roles = append(roles, def.ID)
	}

	var subs, rgs, deep []string
	for range benchSubs {
		s := "/subscriptions/" + guid(r)
		subs = append(subs, s)
		for j := range benchRGsPerSub {
			rg := s + "/resourceGroups/rg-" + guid(r)[:8] + "-" + string(rune('a'+j%26))
			rgs = append(rgs, rg)
			for range benchWSPerRG {
				deep = append(deep, rg+"/providers/Microsoft.MachineLearningServices/workspaces/ws-"+guid(r)[:12])
			}
		}
	}
	for range benchComputes {
		deep = append(deep, deep[r.IntN(len(deep))]+"/computes/cpu-"+guid(r)[:6])
	}
	d.scopes = deep

	d.principals = make([]string, benchPrincipals)
	for i := range d.principals {
		d.principals[i] = guid(r)
	}
	groups := make([]string, benchGroups)
	for i := range groups {
		groups[i] = guid(r)
	}
	for _, p := range d.principals {
		for range 1 + r.IntN(4) {
			d.memberships = append(d.memberships, domain.GroupMembership{GroupID: groups[r.IntN(len(groups))], MemberID: p})
		}
	}
	for i, g := range groups {
		if i%5 == 0 {
			d.memberships = append(d.memberships, domain.GroupMembership{GroupID: groups[r.IntN(len(groups))], MemberID: g})
		}
	}

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d.assignments = make([]domain.RoleAssignment, benchAssignments)
	for i := range d.assignments {
		var principal, ptype string
		if r.IntN(10) == 0 {
			principal, ptype = groups[r.IntN(len(groups))], domain.PrincipalGroup
		} else {
			principal, ptype = d.principals[r.IntN(len(d.principals))], domain.PrincipalUser
		}
		var scope string
		switch x := r.IntN(10_000); {
		case x < 1:
			scope = "/"
		case x < 100:
			scope = subs[r.IntN(len(subs))]
		case x < 2_100:
			scope = rgs[r.IntN(len(rgs))]
		default:
			scope = deep[r.IntN(len(deep))]
		}
		d.assignments[i] = domain.RoleAssignment{
			ID: guid(r), TenantID: "tenant", Scope: scope, RoleDefinitionID: roles[r.IntN(len(roles))],
			PrincipalID: principal, PrincipalType: ptype, CreatedBy: "admin", CreatedAt: now, UpdatedAt: now,
		}
	}
	return d
}

type benchQuery struct {
	principal, action, scope string
}

// benchQueries mixes questions likely to be granted (at or below a scope the
// principal holds a role) with arbitrary ones (mostly denied after a full
// walk of the ancestors, the expensive case).
func benchQueries(d *benchData, n int) []benchQuery {
	r := rand.New(rand.NewPCG(3, 4))
	qs := make([]benchQuery, n)
	for i := range qs {
		q := benchQuery{action: d.actions[r.IntN(len(d.actions))]}
		if i%2 == 0 {
			a := d.assignments[r.IntN(len(d.assignments))]
			q.principal, q.scope = a.PrincipalID, a.Scope
			if a.PrincipalType == domain.PrincipalGroup {
				q.principal = d.principals[r.IntN(len(d.principals))]
			}
		} else {
			q.principal, q.scope = d.principals[r.IntN(len(d.principals))], d.scopes[r.IntN(len(d.scopes))]
		}
		qs[i] = q
	}
	return qs
}

func BenchmarkDecide(b *testing.B) {
	d := genBenchData()
	ix := New()
	start := time.Now()
	if err := ix.Load(d.defs, d.assignments, d.memberships); err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: Load of %d assignments took %v; %+v", len(d.assignments), time.Since(start), ix.Stats())
	qs := benchQueries(d, 1<<16)
	b.ReportAllocs()
	d.assignments = nil

	// Per-decision latency, timed one by one on a sample; the first pass
	// warms the per-role caches and group closures as a running server would.
	for _, q := range qs {
		ix.Decide(q.principal, q.action, q.scope, false)
	}
	lat := make([]time.Duration, len(qs))
	allowed := 0
	for i, q := range qs {
		t0 := time.Now()
		dec := ix.Decide(q.principal, q.action, q.scope, false)
		lat[i] = time.Since(t0)
		if dec.Allowed {
			allowed++
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) }

	// Throughput with every core deciding at once: decisions share the read
	// lock and must not slow each other down much.
	workers := runtime.GOMAXPROCS(0)
	per := len(qs) / workers
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for _, q := range qs[w*per : (w+1)*per] {
				ix.Decide(q.principal, q.action, q.scope, false)
			}
		})
	}
	wg.Wait()
	parallelNs := float64(time.Since(t0).Nanoseconds()) / float64(workers*per)

	i := 0
	for b.Loop() {
		q := qs[i&(len(qs)-1)]
		ix.Decide(q.principal, q.action, q.scope, false)
		i++
	}
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
	b.ReportMetric(pct(0.999), "p99.9-ns")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "max-ns")
	b.ReportMetric(parallelNs, "parallel-ns/decision")
	b.ReportMetric(100*float64(allowed)/float64(len(qs)), "%allowed")
}

func BenchmarkLoad(b *testing.B) {
	d := genBenchData()
	runtime.GC()
	ix := New()
	var took time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := ix.Load(d.defs, d.assignments, d.memberships); err != nil {
			b.Fatal(err)
		}
		took = time.Since(t0)
	}
	// Keep only the index: what stays on the heap is what it holds
	// (including the id strings it shares with the input).
	d = nil
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(took.Seconds(), "load-s")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	b.Logf("%+v", ix.Stats())
	runtime.KeepAlive(ix)
}
