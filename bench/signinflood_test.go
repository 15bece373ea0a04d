package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/config"
	"github.com/tessera-id/tessera/internal/rsasign"
	"github.com/tessera-id/tessera/test/testserver"
)

// BenchmarkSignInFlood is the password-flood load test: for a fixed time
// (30 s; TESSERA_FLOOD_DURATION overrides) 64 workers post wrong passwords
// for random user names, half at the HTML login page and half at the
// password grant (ROPC), while one client takes client-credentials tokens
// at 100 per second. The address throttle is off, so every attempt meets
// the password hashing limit, as a flood from many addresses would.
//
// Reported: the process's peak RSS (server and load generator together, an
// upper bound for the server), the tokens' p50/p99 latency and errors, and
// how the attempts were answered (wrong password checked, or refused with
// 429). Run it once: go test -run '^$' -bench SignInFlood -benchtime 1x ./bench/
// Targets: peak RSS ≤ 512 MiB, token p99 ≤ 50 ms, no token errors.
func BenchmarkSignInFlood(b *testing.B) {
	duration := 30 * time.Second
	if v := os.Getenv("TESSERA_FLOOD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 10*time.Minute {
			b.Fatalf("TESSERA_FLOOD_DURATION %q: want a duration up to 10m", v)
		}
		duration = d
	}
	// As tessera serve runs: its GC target and its default soft limit.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(config.Default().MemoryLimit.Bytes))

	s := testserver.Start(b, testserver.Options{Config: func(c *config.Config) { c.FailedSignInsPerAddress = 0 }})
	if err := s.App.SetAllowROPC(context.Background(), true); err != nil {
		b.Fatal(err)
	}
	// And with serve's Ps: one per CPU, one per password hashing slot, one
	// per native signing slot (see cmd/tessera).
	procs := runtime.GOMAXPROCS(0) + s.App.PasswordHashSlots()
	if s.App.SignsNatively() {
		procs += rsasign.NativeSlots()
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	tenant := s.Bootstrap.TenantID
	tokenURL := s.URL + "/" + tenant + "/oauth2/v2.0/token"
	const workers, tokenRate = 64, 100
	newClient := func(conns int) *http.Client {
		return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: s.CAPool}, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	}

	// The login form, fetched once; its fields are posted again and again.
	br := s.NewBrowser(b)
	authURL := s.URL + "/" + tenant + "/oauth2/v2.0/authorize?" + url.Values{
		"client_id": {"04b07795-8ddb-461a-bbee-02f9e1bf7b46"}, "response_type": {"code"}, "redirect_uri": {"http://localhost:8400"},
		"scope": {"https://management.azure.com/.default openid"}, "code_challenge": {strings.Repeat("A", 43)},
		"code_challenge_method": {"S256"},
	}.Encode()
	form := br.Get(authURL).FormWith(b, "password")

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var (
		checked, refused, other atomic.Int64
		peakRSS                 atomic.Int64
		wg                      sync.WaitGroup
	)
	count := func(status int, body []byte) {
		switch {
		case status == http.StatusTooManyRequests:
			refused.Add(1)
		case status == http.StatusOK && bytes.Contains(body, []byte("incorrect")), status == http.StatusBadRequest && bytes.Contains(body, []byte("50126")):
			checked.Add(1)
		default:
			other.Add(1)
		}
	}
	post := func(c *http.Client, target string, data url.Values) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(data.Encode()))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, body, err
	}
	attackers := newClient(workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(login bool) {
			defer wg.Done()
			for ctx.Err() == nil {
				name := strings.ToLower(rand.Text()[:12]) + "@nowhere.example"
				var data url.Values
				target := tokenURL
				if login {
					data = url.Values{}
					for k, v := range form.Fields {
						data[k] = v
					}
					data.Set("username", name)
					data.Set("password", "Wrong-Password-1")
					target = form.Action
				} else {
					data = url.Values{"grant_type": {"password"}, "client_id": {"04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
						"username": {name}, "password": {"Wrong-Password-1"}, "scope": {"https://management.azure.com/.default"}}
				}
				client := attackers
				if login {
					client = br.Client
				}
				st, body, err := post(client, target, data)
				if err != nil {
					if ctx.Err() == nil {
						other.Add(1)
					}
					continue
				}
				count(st, body)
			}
		}(i%2 == 0)
	}

	// The legitimate client: an open loop at tokenRate, each request timed
	// from when it was due, so a stalled server shows in the latency.
	var (
		latMu     sync.Mutex
		latencies []time.Duration
		tokenErrs atomic.Int64
	)
	cc := newClient(16)
	ccForm := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.Bootstrap.AdminServicePrincipal.AppID},
		"client_secret": {s.Bootstrap.AdminServicePrincipal.Secret}, "scope": {"https://management.azure.com/.default"}}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / tokenRate)
		defer tick.Stop()
		var inflight sync.WaitGroup
		defer inflight.Wait()
		for {
			select {
			case <-ctx.Done():
				return
			case due := <-tick.C:
				inflight.Add(1)
				go func() {
					defer inflight.Done()
					st, body, err := post(cc, tokenURL, ccForm)
					if ctx.Err() != nil {
						return // cut off by the end of the run
					}
					if err != nil || st != http.StatusOK || !bytes.Contains(body, []byte(`"access_token"`)) {
						tokenErrs.Add(1)
						b.Logf("token error: %d %v %.200s", st, err, body)
						return
					}
					latMu.Lock()
					latencies = append(latencies, time.Since(due))
					latMu.Unlock()
				}()
			}
		}
	}()

	// RSS, sampled every 100 ms.
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rss(); r > peakRSS.Load() {
				peakRSS.Store(r)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	b.ResetTimer()
	wg.Wait()
	b.StopTimer()

	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
	}
	secs := duration.Seconds()
	b.ReportMetric(float64(peakRSS.Load())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(pct(0.50), "token-p50-ms")
	b.ReportMetric(pct(0.99), "token-p99-ms")
	b.ReportMetric(float64(tokenErrs.Load()), "token-errors")
	b.ReportMetric(float64(len(latencies))/secs, "tokens/s")
	b.ReportMetric(float64(checked.Load())/secs, "checked/s")
	b.ReportMetric(float64(refused.Load())/secs, "refused/s")
	b.ReportMetric(float64(other.Load()), "other-answers")
	b.Logf("%s: %d wrong passwords checked, %d refused (429), %d other; %d tokens, %d errors; peak RSS %d MiB",
		duration, checked.Load(), refused.Load(), other.Load(), len(latencies), tokenErrs.Load(), peakRSS.Load()>>20)
}

// rss is the process's resident set size in bytes (Linux), 0 elsewhere.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
