package bench

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tessera-id/tessera/test/testserver"
)

// BenchmarkARMGetWorkspaceHTTP measures an authorized ARM read over HTTPS
// keep-alive: bearer check, RBAC decision (a workspace-scoped AzureML Data
// Scientist assignment, inherited nowhere else), store read, JSON answer.
// Client and server share the process and both cores.
//
//	go test -run '^$' -bench ARMGetWorkspaceHTTP -benchtime 10s ./bench/
func BenchmarkARMGetWorkspaceHTTP(b *testing.B) {
	s := testserver.Start(b, testserver.Options{})
	ws := s.Workspace(b, "bench-rg", "bench-ws")
	app := s.CreateApp(b, "bench-reader", nil)
	s.Assign(b, ws, testserver.RoleAzureMLDataScientist, app.SPID)
	tok := s.ARMToken(b, app.AppID, app.Secret)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: s.CAPool},
		MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64,
	}}
	url := s.URL + ws + "?api-version=2022-10-01-preview"
	get := func() error {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET workspace: %d", resp.StatusCode)
		}
		return err
	}
	for i := 0; i < 50; i++ {
		if err := get(); err != nil {
			b.Fatal(err)
		}
	}
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := get(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
