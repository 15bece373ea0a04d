// Package bench holds Tessera's load and profiling harness (see README.md).
// This file is an in-process benchmark of client-credentials issuance over
// HTTPS keep-alive, meant for CPU profiles of the whole request path:
//
//	go test -run '^$' -bench ClientCredentialsHTTP -benchtime 10s \
//	    -cpuprofile /tmp/cc.prof ./bench/
//	go tool pprof -top -nodecount 40 bench.test /tmp/cc.prof
//
// Client and server share the process (and the CPUs), as they share the
// machine in bench/run.sh; the profile shows both, the client under
// net/http.(*Transport) and crypto/tls client frames.
package bench

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tessera-id/tessera/test/testserver"
)

// BenchmarkClientCredentialsHTTP posts client_credentials token requests
// (v2 endpoint, secret in the body, the ARM scope) from parallel clients
// over keep-alive connections. ns/op is per token with all clients running.
func BenchmarkClientCredentialsHTTP(b *testing.B) {
	s := testserver.Start(b, testserver.Options{})
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: s.CAPool},
		MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64,
	}}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.Bootstrap.AdminServicePrincipal.AppID},
		"client_secret": {s.Bootstrap.AdminServicePrincipal.Secret},
		"scope":         {"https://management.azure.com/.default"},
	}.Encode()
	endpoint := s.URL + "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"
	post := func() error {
		resp, err := client.Post(endpoint, "application/x-www-form-urlencoded", bytes.NewReader([]byte(form)))
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"access_token":"ey`)) {
			return fmt.Errorf("token: %d %s", resp.StatusCode, body)
		}
		return nil
	}
	// Warm the connections, caches and statement cache.
	for i := 0; i < 50; i++ {
		if err := post(); err != nil {
			b.Fatal(err)
		}
	}
	b.SetParallelism(8) // 8 × GOMAXPROCS clients in flight
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := post(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
