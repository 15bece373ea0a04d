package integration

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// normalize replaces what differs between runs (URL, port, tenant) with
// placeholders and indents the JSON, so golden files are stable.
func normalize(body []byte, s *testserver.Server) []byte {
	host := strings.TrimPrefix(s.URL, "https://")
	r := strings.NewReplacer(s.URL, "{url}", host, "{host}", s.Bootstrap.TenantID, "{tenant}", s.Bootstrap.Domain, "{domain}",
		strings.ToUpper(s.Bootstrap.Domain), "{DOMAIN}")
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return body
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	return []byte(r.Replace(string(pretty)) + "\n")
}

func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file %s (run with -update if the change is intended)\n got: %s\nwant: %s", name, path, got, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
