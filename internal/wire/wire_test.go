package wire

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestOAuthErrorShape(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := NewOAuthError("invalid_client", 7000215, "Invalid client secret provided.", "trace-1", "corr-1", "https://localhost:8443", now)
	rec := httptest.NewRecorder()
	WriteOAuthError(rec, 401, e)
	if rec.Code != 401 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d headers %v", rec.Code, rec.Header())
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: trace-1\r\nCorrelation ID: corr-1\r\nTimestamp: 2026-01-02 03:04:05Z"
	if got["error_description"] != want {
		t.Errorf("error_description %q", got["error_description"])
	}
	if got["timestamp"] != "2026-01-02 03:04:05Z" || got["trace_id"] != "trace-1" || got["correlation_id"] != "corr-1" {
		t.Errorf("fields %v", got)
	}
	if codes := got["error_codes"].([]any); len(codes) != 1 || codes[0] != float64(7000215) {
		t.Errorf("error_codes %v", codes)
	}
	if !strings.HasSuffix(got["error_uri"].(string), "/error?code=7000215") {
		t.Errorf("error_uri %v", got["error_uri"])
	}
}

func TestDiscoveryNeverDoubleSlashes(t *testing.T) {
	for _, d := range []OpenIDConfiguration{
		DiscoveryV2(DiscoveryParams{BaseURL: "https://h:1", Segment: "adfs", TenantID: "t"}),
		DiscoveryV1(DiscoveryParams{BaseURL: "https://h:1", Segment: "t", TenantID: "t"}),
	} {
		b, _ := json.Marshal(d)
		if strings.Contains(strings.ReplaceAll(string(b), "https://", ""), "//") {
			t.Errorf("double slash in %s", b)
		}
	}
}
