// Command tokenload measures client-credentials token issuance of a running
// Tessera over HTTPS keep-alive, and the raw RS256 signing rate of this
// machine in the same run, so that the two can be compared.
//
// It uses the administrator service principal of bootstrap.json, and only
// talks to loopback addresses. Every run is bounded in time (-duration,
// -warmup) and in count (-max-requests).
//
//	tokenload -bootstrap DATA/bootstrap.json -duration 20s              # floor, closed loop (max throughput), floor
//	tokenload -bootstrap DATA/bootstrap.json -interleave 10             # 10 × (1 s floor + 2 s closed loop)
//	tokenload -bootstrap DATA/bootstrap.json -rate-fraction 0.8         # open loop at 80 % of the floor
//	tokenload -bootstrap DATA/bootstrap.json -floor-rate 1370 -rate 1100 -floor 0
//	tokenload -floor-only                                               # the RS256 floor alone
//	tokenload -floor-only -signing-backend go                           # ... of Go's crypto/rsa
//
// The floor signs with internal/rsasign, the server's implementation
// (-signing-backend auto|openssl|go, as the server's --signing-backend),
// and reports Go's crypto/rsa rate as a reference when the backend is
// another one. Requests go out through a minimal HTTP/1.1 keep-alive client
// (client.go), one connection per worker, to leave the server as much of
// the shared CPUs as possible.
//
// With -server-pid it reports the CPU the server, itself and other
// processes used (Linux /proc), and the server's CPU per token against the
// floor's CPU per signature ("efficiency"). See bench/README.md.
//
// In open loop (-rate > 0, or -rate-fraction) request i is due at
// start + i/rate whether or not earlier requests have finished, and its
// latency is measured from that due time: a stalled server is charged for
// the requests it made wait (no coordinated omission).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-id/tessera/internal/rsasign"
)

// Hard bounds, whatever the flags say.
const (
	maxDuration    = 5 * time.Minute
	maxConcurrency = 1024
	maxRate        = 100000
	maxRequests    = 10_000_000
)

type bootstrap struct {
	URL                   string `json:"url"`
	TenantID              string `json:"tenantId"`
	CAFile                string `json:"caFile"`
	AdminServicePrincipal struct {
		AppID  string `json:"appId"`
		Secret string `json:"secret"`
	} `json:"adminServicePrincipal"`
}

type options struct {
	url, bootstrap, scope, jsonOut, label string
	signingBackend                        string
	duration, warmup, floor, timeout      time.Duration
	concurrency, maxRequests, floorProcs  int
	rate, rateFraction, floorRate         float64
	floorOnly, floorAfter, v1             bool
	serverPID                             int
	interleave                            int
	slice, floorSlice                     time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "", "server base URL (default: url of bootstrap.json); must be a loopback address")
	flag.StringVar(&o.bootstrap, "bootstrap", "", "path of the server's bootstrap.json (required unless -floor-only)")
	flag.StringVar(&o.scope, "scope", "https://management.azure.com/.default", "scope requested")
	flag.BoolVar(&o.v1, "v1", false, "use the v1 endpoint (/oauth2/token, resource=) instead of v2")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "measured duration (at most 5m)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "load applied before measuring, not counted")
	flag.IntVar(&o.concurrency, "concurrency", 8, "connections and workers (closed loop: requests in flight)")
	flag.Float64Var(&o.rate, "rate", 0, "open-loop arrival rate in requests/s; 0 = closed loop, as fast as possible")
	flag.Float64Var(&o.rateFraction, "rate-fraction", 0, "open-loop rate as a fraction of the RS256 floor (e.g. 0.8); overrides -rate")
	flag.IntVar(&o.maxRequests, "max-requests", 2_000_000, "stop after this many requests")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	flag.DurationVar(&o.floor, "floor", 3*time.Second, "measure the RS256 floor this long (on 1 and on -floor-procs goroutines) before the run; 0 = skip")
	flag.IntVar(&o.floorProcs, "floor-procs", runtime.NumCPU(), "goroutines (and GOMAXPROCS) of the multi-core floor")
	flag.Float64Var(&o.floorRate, "floor-rate", 0, "multi-core RS256 floor in signatures/s measured elsewhere (used with -floor 0)")
	flag.BoolVar(&o.floorOnly, "floor-only", false, "only measure the floor")
	flag.BoolVar(&o.floorAfter, "floor-after", true, "with -floor: measure the multi-core floor again after the run, to see drift")
	flag.StringVar(&o.jsonOut, "json", "", "also write the result as JSON to this file (- = stdout)")
	flag.StringVar(&o.label, "label", "", "name of this run in the output")
	flag.IntVar(&o.interleave, "interleave", 0, "closed loop only: alternate this many pairs of a floor slice and a load slice instead of one floor then one run (robust on a busy machine); -duration is then ignored")
	flag.DurationVar(&o.slice, "slice", 2*time.Second, "with -interleave: length of each load slice")
	flag.DurationVar(&o.floorSlice, "floor-slice", time.Second, "with -interleave: length of each floor slice")
	flag.StringVar(&o.signingBackend, "signing-backend", "auto", `RSA implementation of the floor, as the server's --signing-backend: "auto" (the system's OpenSSL if it loads, else Go), "openssl" or "go"`)
	flag.IntVar(&o.serverPID, "server-pid", 0, "process id of the server, to report the CPU it used during the run (Linux /proc)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "tokenload:", err)
		os.Exit(1)
	}
}

// Result is the JSON output.
type Result struct {
	Label      string  `json:"label,omitempty"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	NumCPU     int     `json:"numCPU"`
	Floor1     float64 `json:"rs256FloorSingle,omitempty"` // signatures/s on one goroutine
	FloorN     float64 `json:"rs256Floor,omitempty"`       // signatures/s on FloorProcs goroutines
	FloorProcs int     `json:"rs256FloorProcs,omitempty"`
	// Backend is the RSA implementation the floor signed with
	// (internal/rsasign, as the server: -signing-backend).
	Backend string `json:"rs256Backend,omitempty"`
	// FloorGo is Go's crypto/rsa on FloorProcs goroutines (a 1 s sample), a
	// reference when Backend is another implementation.
	FloorGo float64 `json:"rs256FloorGo,omitempty"`
	// FloorPerCPU is signatures per CPU-second of the multi-core floor: what
	// a core does when it gets to run, however busy the machine is.
	FloorPerCPU float64 `json:"rs256FloorPerCPUSecond,omitempty"`
	FloorAfter  float64 `json:"rs256FloorAfter,omitempty"` // multi-core floor measured again after the run
	// FloorOther is the CPU (cores) other processes used while the
	// multi-core floor ran: above ~0.05 the floor is understated.
	FloorOther      float64 `json:"rs256FloorOtherCores,omitempty"`
	FloorAfterOther float64 `json:"rs256FloorAfterOtherCores,omitempty"`

	Mode        string         `json:"mode,omitempty"` // closed or open
	TargetRate  float64        `json:"targetRate,omitempty"`
	Concurrency int            `json:"concurrency,omitempty"`
	Duration    float64        `json:"durationSeconds,omitempty"`
	Requests    int            `json:"requests"`
	OK          int            `json:"ok"`
	Errors      map[string]int `json:"errors,omitempty"`
	Unsent      int            `json:"unsent,omitempty"` // open loop: due but not sent before the end
	Connections int64          `json:"connections"`
	TokensPerS  float64        `json:"tokensPerSecond"`
	// Interleaved mode: pairs of floor and load slices, each pair's ratio.
	Interleave  int       `json:"interleavePairs,omitempty"`
	PairRatios  []float64 `json:"pairRatiosPercent,omitempty"`
	RatioMedian float64   `json:"ratioMedianPercent,omitempty"`
	// Tokens completed in each second of the measured window: median and
	// best second, which shrug off short bursts of other load.
	TokensPerSMedian float64 `json:"tokensPerSecondMedian1s,omitempty"`
	TokensPerSMax    float64 `json:"tokensPerSecondMax1s,omitempty"`
	RatioPct         float64 `json:"ratioToFloorPercent,omitempty"`
	RatioAfter       float64 `json:"ratioToFloorAfterPercent,omitempty"`
	P50ms            float64 `json:"p50ms"`
	P90ms            float64 `json:"p90ms"`
	P99ms            float64 `json:"p99ms"`
	P999ms           float64 `json:"p999ms"`
	MaxMs            float64 `json:"maxms"`
	// CPU used during the measured window, in cores (Linux only; 0 if unknown).
	CPUServer float64 `json:"cpuServerCores,omitempty"`
	CPULoad   float64 `json:"cpuLoadGeneratorCores,omitempty"`
	CPUOther  float64 `json:"cpuOtherCores,omitempty"`
	CPUIdle   float64 `json:"cpuIdleCores,omitempty"`
	// TokensPerServerCore is tokens/s divided by the server's cores used.
	TokensPerServerCore float64 `json:"tokensPerServerCore,omitempty"`
	// ServerEfficiencyPct is TokensPerServerCore over FloorPerCPU: the share
	// of the server's CPU that a bare signature would need.
	ServerEfficiencyPct float64 `json:"serverEfficiencyPercent,omitempty"`
	// ProjectedRatioPct is ServerEfficiencyPct × the share of the CPUs the
	// load generator leaves: the ratio a quiet machine would give if the
	// server used every CPU cycle left. An estimate for busy machines.
	ProjectedRatioPct float64 `json:"projectedQuietRatioPercent,omitempty"`
}

func run(o options) error {
	if o.duration <= 0 || o.duration > maxDuration {
		return fmt.Errorf("-duration must be in (0, %s]", maxDuration)
	}
	if o.warmup < 0 || o.warmup > time.Minute {
		return errors.New("-warmup must be in [0, 1m]")
	}
	if o.floor < 0 || o.floor > time.Minute {
		return errors.New("-floor must be in [0, 1m]")
	}
	if o.concurrency < 1 || o.concurrency > maxConcurrency {
		return fmt.Errorf("-concurrency must be in [1, %d]", maxConcurrency)
	}
	if o.maxRequests < 1 || o.maxRequests > maxRequests {
		return fmt.Errorf("-max-requests must be in [1, %d]", maxRequests)
	}
	if o.floorProcs < 1 || o.floorProcs > 256 {
		return errors.New("-floor-procs must be in [1, 256]")
	}
	if o.interleave < 0 || o.interleave > 100 || o.slice <= 0 || o.floorSlice <= 0 ||
		time.Duration(o.interleave)*(o.slice+o.floorSlice) > maxDuration {
		return fmt.Errorf("-interleave × (-slice + -floor-slice) must be at most %s", maxDuration)
	}
	if o.interleave > 0 && (o.rate > 0 || o.rateFraction > 0) {
		return errors.New("-interleave is for the closed loop only")
	}
	backend, err := rsasign.ParseBackend(o.signingBackend)
	if err != nil {
		return fmt.Errorf("-signing-backend: %w", err)
	}
	res := Result{Label: o.label, GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU()}
	var signers floorSigners
	if o.floor > 0 || o.interleave > 0 {
		if signers, err = newFloorSigners(backend); err != nil {
			return err
		}
		res.Backend = signers.sig.Backend()
	}
	if o.interleave > 0 {
		o.floor = 0
		o.duration = time.Duration(o.interleave) * o.slice
	}

	if o.floor > 0 {
		res.Floor1 = signRate(signers.sig, 1, o.floor/2).rate
		f := signRate(signers.sig, o.floorProcs, o.floor)
		res.FloorN, res.FloorPerCPU, res.FloorOther, res.FloorProcs = f.rate, f.perCPU, f.other, o.floorProcs
		signers.goReference(o.floorProcs, &res)
		fmt.Printf("RS256 floor (2048-bit PKCS#1 v1.5, SHA-256, %s): %.0f signatures/s on 1 goroutine, %.0f signatures/s on %d goroutines (GOMAXPROCS %d)",
			res.Backend, res.Floor1, res.FloorN, o.floorProcs, o.floorProcs)
		if res.FloorPerCPU > 0 {
			fmt.Printf(", %.0f per CPU-second; other processes used %.2f cores meanwhile", res.FloorPerCPU, res.FloorOther)
		}
		fmt.Println()
		printGoReference(res)
	} else if o.floorRate > 0 {
		res.FloorN = o.floorRate
		fmt.Printf("RS256 floor (given): %.0f signatures/s\n", res.FloorN)
	}
	if o.floorOnly {
		return emit(o, res)
	}

	if o.rateFraction > 0 {
		if res.FloorN == 0 {
			return errors.New("-rate-fraction needs a floor (-floor > 0 or -floor-rate)")
		}
		o.rate = o.rateFraction * res.FloorN
	}
	if o.rate < 0 || o.rate > maxRate {
		return fmt.Errorf("-rate must be in [0, %d]", maxRate)
	}

	if o.bootstrap == "" {
		return errors.New("-bootstrap is required")
	}
	b, err := readBootstrap(o.bootstrap)
	if err != nil {
		return err
	}
	baseURL := o.url
	if baseURL == "" {
		baseURL = b.URL
	}
	base, err := loopbackURL(baseURL)
	if err != nil {
		return err
	}
	req, err := newRequest(base, b, o.scope, o.v1)
	if err != nil {
		return err
	}
	tgt, err := newTarget(base, b.CAFile, req, o.timeout)
	if err != nil {
		return err
	}
	// One request first: fail fast on a wrong secret or scope, and check the answer.
	if err := preflight(tgt, req); err != nil {
		return err
	}

	if o.interleave > 0 {
		return runInterleaved(tgt, signers, o, res)
	}

	var s stats
	start := time.Now()
	measureFrom := start.Add(o.warmup)
	end := measureFrom.Add(o.duration)
	perSecond := make(chan []float64, 1)
	go func() {
		var rates []float64
		time.Sleep(time.Until(measureFrom))
		prev := completed.Load()
		for t := measureFrom.Add(time.Second); !t.After(end); t = t.Add(time.Second) {
			time.Sleep(time.Until(t))
			n := completed.Load()
			rates = append(rates, float64(n-prev))
			prev = n
		}
		perSecond <- rates
	}()
	// CPU use and tokens completed in the measured window.
	cpu := make(chan cpuUse, 1)
	inWindow := make(chan int64, 1)
	go func() {
		time.Sleep(time.Until(measureFrom))
		a, n := sampleCPU(o.serverPID), completed.Load()
		time.Sleep(time.Until(end))
		inWindow <- completed.Load() - n
		cpu <- sampleCPU(o.serverPID).since(a)
	}()
	if o.rate > 0 {
		res.Mode, res.TargetRate = "open", o.rate
		s = openLoop(tgt, o, start, measureFrom, end)
	} else {
		res.Mode = "closed"
		s = closedLoop(tgt, o, start, measureFrom, end)
	}
	// Tokens received during the window: in open loop, requests due in the
	// window but answered after it (a saturated server's backlog) count in
	// ok and in the latencies, not in the rate.
	res.TokensPerS = float64(<-inWindow) / o.duration.Seconds()
	if u := <-cpu; u.ok {
		res.CPUServer, res.CPULoad, res.CPUOther, res.CPUIdle = u.server, u.self, u.other, u.idle
		if u.server > 0 {
			res.TokensPerServerCore = res.TokensPerS / u.server
		}
	}
	res.Concurrency, res.Duration = o.concurrency, o.duration.Seconds()
	res.Requests, res.OK, res.Errors, res.Unsent = s.requests, s.ok, s.errors, s.unsent
	res.Connections = tgt.conns.Load()
	if rates := <-perSecond; len(rates) > 0 {
		sort.Float64s(rates)
		res.TokensPerSMedian, res.TokensPerSMax = rates[len(rates)/2], rates[len(rates)-1]
	}
	if res.FloorN > 0 {
		res.RatioPct = 100 * res.TokensPerS / res.FloorN
	}
	if res.TokensPerServerCore > 0 && res.FloorPerCPU > 0 {
		res.ServerEfficiencyPct = 100 * res.TokensPerServerCore / res.FloorPerCPU
		res.ProjectedRatioPct = projected(res)
	}
	if o.floor > 0 && o.floorAfter {
		f := signRate(signers.sig, o.floorProcs, o.floor)
		res.FloorAfter, res.FloorAfterOther = f.rate, f.other
		res.RatioAfter = 100 * res.TokensPerS / res.FloorAfter
	}
	lat := s.latencies
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	res.P50ms, res.P90ms, res.P99ms, res.P999ms = pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 99.9)
	if len(lat) > 0 {
		res.MaxMs = ms(lat[len(lat)-1])
	}
	printResult(res)
	return emit(o, res)
}

func emit(o options, res Result) error {
	if o.jsonOut == "" {
		return nil
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if o.jsonOut == "-" {
		_, err = os.Stdout.Write(data)
		return err
	}
	return os.WriteFile(o.jsonOut, data, 0o644)
}

func printResult(r Result) {
	name := r.Mode + " loop"
	if r.Label != "" {
		name = r.Label + " (" + name + ")"
	}
	fmt.Printf("== %s: %d workers/connections", name, r.Concurrency)
	if r.Mode == "open" {
		fmt.Printf(", target %.0f requests/s", r.TargetRate)
	}
	fmt.Printf(", %.0fs measured, load generator GOMAXPROCS %d of %d CPUs\n", r.Duration, r.GOMAXPROCS, r.NumCPU)
	fmt.Printf("requests:    %d (ok %d)\n", r.Requests, r.OK)
	if len(r.Errors) == 0 {
		fmt.Printf("errors:      none\n")
	} else {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, r.Errors[k]))
		}
		fmt.Printf("errors:      %s\n", strings.Join(parts, ", "))
	}
	if r.Unsent > 0 {
		fmt.Printf("unsent:      %d due requests could not be sent before the end (server saturated)\n", r.Unsent)
	}
	fmt.Printf("connections: %d opened (keep-alive)\n", r.Connections)
	fmt.Printf("tokens/s:    %.0f", r.TokensPerS)
	if r.TokensPerSMax > 0 {
		fmt.Printf(" (1-second windows: median %.0f, best %.0f)", r.TokensPerSMedian, r.TokensPerSMax)
	}
	fmt.Println()
	fmt.Printf("latency:     p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n", r.P50ms, r.P90ms, r.P99ms, r.P999ms, r.MaxMs)
	if r.CPUServer > 0 || r.CPULoad > 0 {
		fmt.Printf("cpu (cores): server %.2f, load generator %.2f, other processes %.2f, idle %.2f", r.CPUServer, r.CPULoad, r.CPUOther, r.CPUIdle)
		if r.TokensPerServerCore > 0 {
			fmt.Printf("; %.0f tokens/s per server core", r.TokensPerServerCore)
		}
		fmt.Println()
	}
	if r.ServerEfficiencyPct > 0 {
		fmt.Printf("efficiency:  server CPU per token = %.1f%% signing at the floor's cost (%.0f tokens/s per server core vs %.0f signatures per CPU-second)\n",
			r.ServerEfficiencyPct, r.TokensPerServerCore, r.FloorPerCPU)
		fmt.Printf("projection:  %.1f%% of the floor on a quiet machine (efficiency × CPUs left by the load generator; an estimate)\n", r.ProjectedRatioPct)
	}
	if r.FloorAfter > 0 {
		fmt.Printf("floor after: %.0f signatures/s (%.1f%% of it; other processes %.2f cores)", r.FloorAfter, r.RatioAfter, r.FloorAfterOther)
		if d := r.FloorAfter/r.FloorN - 1; d > 0.1 || d < -0.1 {
			fmt.Printf(" — the floor drifted %+.0f%% during the run: the machine is not quiet", 100*d)
		}
		fmt.Println()
	}
	if r.FloorN > 0 {
		fmt.Printf("ratio: %.1f%% of RS256 floor (%.0f signatures/s)\n", r.RatioPct, r.FloorN)
	}
}

func readBootstrap(path string) (bootstrap, error) {
	var b bootstrap
	data, err := os.ReadFile(path)
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("parse %s: %w", path, err)
	}
	if b.TenantID == "" || b.AdminServicePrincipal.AppID == "" || b.AdminServicePrincipal.Secret == "" {
		return b, fmt.Errorf("%s lacks tenantId or adminServicePrincipal", path)
	}
	return b, nil
}

// loopbackURL parses base and refuses a host that is not a loopback
// address (a literal loopback IP or "localhost"). The dialer checks the
// address actually dialled as well.
func loopbackURL(base string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil {
		return nil, fmt.Errorf("parse -url: %w", err)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("-url %s: only https is measured", base)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return u, nil
	}
	if strings.EqualFold(host, "localhost") {
		return u, nil
	}
	return nil, fmt.Errorf("-url %s: refusing a host that is not loopback (127.0.0.0/8, ::1, localhost)", base)
}

// stats are what a run measured after the warm-up.
type stats struct {
	requests, ok, unsent int
	errors               map[string]int
	latencies            []time.Duration // of successful requests
}

// recorder is one worker's share of the stats (merged at the end, so the
// hot path takes no lock).
type recorder struct {
	requests, ok int
	errors       map[string]int
	latencies    []time.Duration
}

func (r *recorder) add(class string, lat time.Duration) {
	r.requests++
	if class != "" {
		if r.errors == nil {
			r.errors = map[string]int{}
		}
		r.errors[class]++
		return
	}
	r.ok++
	r.latencies = append(r.latencies, lat)
}

func merge(rs []*recorder) stats {
	s := stats{errors: map[string]int{}}
	for _, r := range rs {
		s.requests += r.requests
		s.ok += r.ok
		for k, v := range r.errors {
			s.errors[k] += v
		}
		s.latencies = append(s.latencies, r.latencies...)
	}
	if len(s.errors) == 0 {
		s.errors = nil
	}
	return s
}

// closedLoop runs -concurrency workers, each sending its next request when
// the previous one is answered. Requests sent during the warm-up are not
// counted; a request counts in the window if it completes within it.
func closedLoop(t *target, o options, start, measureFrom, end time.Time) stats {
	var budget atomic.Int64
	budget.Store(int64(o.maxRequests))
	recs := make([]*recorder, o.concurrency)
	var wg sync.WaitGroup
	for i := range recs {
		rec := &recorder{latencies: make([]time.Duration, 0, 4096)}
		recs[i] = rec
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := t.newConn()
			defer c.close()
			for {
				t0 := time.Now()
				if !t0.Before(end) || budget.Add(-1) < 0 {
					return
				}
				class := c.do()
				t1 := time.Now()
				if t1.Before(measureFrom) || t1.After(end) {
					continue
				}
				rec.add(class, t1.Sub(t0))
			}
		}()
	}
	wg.Wait()
	return merge(recs)
}

// openLoop sends requests at a constant rate: request i is due at
// start + i/rate and its latency runs from that due time. -concurrency
// workers (connections) take due requests in order; when all are busy, due
// requests wait and that wait is part of their latency.
func openLoop(t *target, o options, start, measureFrom, end time.Time) stats {
	interval := time.Duration(float64(time.Second) / o.rate)
	total := int(float64(o.warmup+o.duration) / float64(interval))
	if total > o.maxRequests {
		total = o.maxRequests
	}
	due := make(chan time.Time, 1<<16)
	// The dispatcher releases each request at its due time (sleeping in
	// steps of at least 200 µs, releasing all that became due meanwhile).
	go func() {
		defer close(due)
		for i := 0; i < total; i++ {
			t := start.Add(time.Duration(i) * interval)
			if d := time.Until(t); d > 200*time.Microsecond {
				time.Sleep(d)
			}
			due <- t
		}
	}()
	// Workers stop sending at end (plus the timeout, so queued-up requests
	// that became due before end still get a chance and are charged for it).
	stopAt := end.Add(o.timeout)
	recs := make([]*recorder, o.concurrency)
	var unsent atomic.Int64
	var wg sync.WaitGroup
	for i := range recs {
		rec := &recorder{latencies: make([]time.Duration, 0, 4096)}
		recs[i] = rec
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := t.newConn()
			defer c.close()
			for at := range due {
				if time.Now().After(stopAt) {
					if !at.Before(measureFrom) {
						unsent.Add(1)
					}
					continue
				}
				class := c.do()
				if at.Before(measureFrom) || !at.Before(end) {
					continue
				}
				rec.add(class, time.Since(at))
			}
		}()
	}
	wg.Wait()
	s := merge(recs)
	s.unsent = int(unsent.Load())
	return s
}

func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return ms(sorted[i])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuUse is CPU time used in a window, in cores (seconds of CPU per second).
type cpuUse struct {
	ok                        bool
	server, self, other, idle float64
	// raw counters (clock ticks) and wall time of a sample
	srvTicks, selfTicks, busyTicks, idleTicks int64
	at                                        time.Time
}

// clkTck is USER_HZ, 100 on every mainstream Linux.
const clkTck = 100

// sampleCPU reads /proc/stat and the CPU time of this process and of pid.
func sampleCPU(pid int) cpuUse {
	u := cpuUse{at: time.Now()}
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return u
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return u
	}
	for i := 1; i < len(f) && i <= 8; i++ {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		if i == 4 || i == 5 { // idle, iowait
			u.idleTicks += v
		} else {
			u.busyTicks += v
		}
	}
	u.selfTicks = procTicks("self")
	if pid > 0 {
		u.srvTicks = procTicks(strconv.Itoa(pid))
	}
	u.ok = u.selfTicks >= 0 && u.srvTicks >= 0
	return u
}

// procTicks is utime+stime of /proc/<p>/stat, or -1.
func procTicks(p string) int64 {
	data, err := os.ReadFile("/proc/" + p + "/stat")
	if err != nil {
		return -1
	}
	// The command name (field 2) may hold spaces: fields count from after ")".
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return -1
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st
}

func (b cpuUse) since(a cpuUse) cpuUse {
	if !a.ok || !b.ok {
		return cpuUse{}
	}
	wall := b.at.Sub(a.at).Seconds() * clkTck
	if wall <= 0 {
		return cpuUse{}
	}
	u := cpuUse{ok: true}
	u.server = float64(b.srvTicks-a.srvTicks) / wall
	u.self = float64(b.selfTicks-a.selfTicks) / wall
	u.idle = float64(b.idleTicks-a.idleTicks) / wall
	u.other = float64(b.busyTicks-a.busyTicks)/wall - u.server - u.self
	if u.other < 0 {
		u.other = 0
	}
	return u
}

// runInterleaved is the closed loop measured in -interleave pairs of a
// floor slice (workers paused, server idle, signing on -floor-procs
// goroutines) and a load slice (workers running). Foreign load on a shared
// machine then weighs on both sides of each pair alike; the result is the
// aggregate ratio and the median of the pairs' ratios.
func runInterleaved(t *target, signers floorSigners, o options, res Result) error {
	var (
		gate   sync.RWMutex // held for writing: workers wait
		stop   atomic.Bool
		inLoad atomic.Bool
		budget atomic.Int64
		wg     sync.WaitGroup
	)
	budget.Store(int64(o.maxRequests))
	gate.Lock()
	recs := make([]*recorder, o.concurrency)
	for i := range recs {
		rec := &recorder{latencies: make([]time.Duration, 0, 4096)}
		recs[i] = rec
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := t.newConn()
			defer c.close()
			for {
				gate.RLock()
				if stop.Load() || budget.Add(-1) < 0 {
					gate.RUnlock()
					return
				}
				t0 := time.Now()
				class := c.do()
				if inLoad.Load() {
					rec.add(class, time.Since(t0))
				}
				gate.RUnlock()
			}
		}()
	}
	res.Floor1 = signRate(signers.sig, 1, o.floorSlice).rate
	signers.goReference(o.floorProcs, &res)
	gate.Unlock() // warm-up, not recorded
	time.Sleep(o.warmup)

	var sigs, floorWall, floorCPU, toks, loadWall, srv, self, other, idle float64
	var floorOther float64
	for i := 0; i < o.interleave; i++ {
		gate.Lock() // waits for requests in flight
		f := signRate(signers.sig, o.floorProcs, o.floorSlice)
		sigs, floorWall, floorOther = sigs+f.n, floorWall+f.wall, floorOther+f.other*f.wall
		if f.perCPU > 0 {
			floorCPU += f.n / f.perCPU
		}
		a, n0, t0 := sampleCPU(o.serverPID), completed.Load(), time.Now()
		inLoad.Store(true)
		gate.Unlock()
		time.Sleep(o.slice)
		n1, t1 := completed.Load(), time.Now()
		inLoad.Store(false)
		u := sampleCPU(o.serverPID).since(a)
		w := t1.Sub(t0).Seconds()
		toks, loadWall = toks+float64(n1-n0), loadWall+w
		srv, self, other, idle = srv+u.server*w, self+u.self*w, other+u.other*w, idle+u.idle*w
		res.PairRatios = append(res.PairRatios, round1(100*float64(n1-n0)/w/f.rate))
	}
	gate.Lock()
	stop.Store(true)
	gate.Unlock()
	wg.Wait()

	s := merge(recs)
	res.Mode, res.Interleave, res.Concurrency, res.Duration = "closed", o.interleave, o.concurrency, loadWall
	res.Requests, res.OK, res.Errors = s.requests, s.ok, s.errors
	res.FloorN, res.FloorProcs, res.FloorOther = sigs/floorWall, o.floorProcs, floorOther/floorWall
	if floorCPU > 0 {
		res.FloorPerCPU = sigs / floorCPU
	}
	res.TokensPerS = toks / loadWall
	res.RatioPct = 100 * res.TokensPerS / res.FloorN
	pr := append([]float64(nil), res.PairRatios...)
	sort.Float64s(pr)
	res.RatioMedian = pr[len(pr)/2]
	res.CPUServer, res.CPULoad, res.CPUOther, res.CPUIdle = srv/loadWall, self/loadWall, other/loadWall, idle/loadWall
	if res.CPUServer > 0 {
		res.TokensPerServerCore = res.TokensPerS / res.CPUServer
		if res.FloorPerCPU > 0 {
			res.ServerEfficiencyPct = 100 * res.TokensPerServerCore / res.FloorPerCPU
			res.ProjectedRatioPct = projected(res)
		}
	}
	res.Connections = t.conns.Load()
	lat := s.latencies
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	res.P50ms, res.P90ms, res.P99ms, res.P999ms = pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 99.9)
	if len(lat) > 0 {
		res.MaxMs = ms(lat[len(lat)-1])
	}
	fmt.Printf("RS256 floor (2048-bit PKCS#1 v1.5, SHA-256, %s): %.0f signatures/s on 1 goroutine; over %d slices of %s: %.0f signatures/s on %d goroutines, %.0f per CPU-second; other processes used %.2f cores meanwhile\n",
		res.Backend, res.Floor1, o.interleave, o.floorSlice, res.FloorN, o.floorProcs, res.FloorPerCPU, res.FloorOther)
	printGoReference(res)
	printResult(res)
	fmt.Printf("pairs:       %d × (%s floor + %s load); ratio per pair (%%): %v; median %.1f%%\n",
		o.interleave, o.floorSlice, o.slice, res.PairRatios, res.RatioMedian)
	return emit(o, res)
}

// printGoReference prints the Go crypto/rsa reference rate, if measured,
// and warns when the multi-core floor did not scale.
func printGoReference(r Result) {
	if r.FloorProcs > 1 && r.Floor1 > 0 && r.FloorN < 1.3*r.Floor1 && r.FloorOther < 0.3 {
		fmt.Printf("WARNING: the floor on %d goroutines is only %.2f× the floor on 1 on an otherwise quiet machine: signatures did not run in parallel, the floor is understated\n",
			r.FloorProcs, r.FloorN/r.Floor1)
	}
	if r.FloorGo > 0 && r.FloorN > 0 {
		fmt.Printf("Go crypto/rsa (reference, not the floor): %.0f signatures/s on %d goroutines; %s signs %.2f× as fast\n",
			r.FloorGo, r.FloorProcs, r.Backend, r.FloorN/r.FloorGo)
	}
}

// projected is the quiet-machine ratio estimate (see Result.ProjectedRatioPct).
func projected(r Result) float64 {
	n := float64(r.FloorProcs)
	if n == 0 || r.CPULoad >= n {
		return 0
	}
	return r.ServerEfficiencyPct * (n - r.CPULoad) / n
}

func round1(x float64) float64 { return float64(int(x*10+0.5)) / 10 }
