package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrintQuery(t *testing.T) {
	doc := map[string]any{"id": "/s/x", "properties": map[string]any{"provisioningState": "Succeeded", "n": 2}}
	for _, tc := range []struct {
		v     any
		query string
		want  string
	}{
		{doc, "id", "/s/x\n"},
		{doc, "properties.provisioningState", "Succeeded\n"},
		{doc, "Properties.N", "2\n"},
		{[]any{doc, doc}, "id", "/s/x\n/s/x\n"},
		{[]any{doc}, "[].id", "/s/x\n"},
	} {
		var b bytes.Buffer
		if err := printQuery(&b, tc.v, tc.query); err != nil || b.String() != tc.want {
			t.Errorf("--query %s: %q %v, want %q", tc.query, b.String(), err, tc.want)
		}
	}
	if err := printQuery(&bytes.Buffer{}, doc, "nope"); err == nil {
		t.Error("a missing field printed nothing without an error")
	}
}

func TestWriteSPEnv(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"plain.json":   `{"appId":"a","password":"p","tenant":"t"}`,
		"sdkauth.json": `{"clientId":"a","clientSecret":"p","tenantId":"t"}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := writeSPEnv(&b, path); err != nil || b.String() != "export AZURE_CLIENT_ID='a'\nexport AZURE_CLIENT_SECRET='p'\n" {
			t.Errorf("%s: %q %v", name, b.String(), err)
		}
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"appId":"a"}`), 0o600)
	if err := writeSPEnv(&bytes.Buffer{}, bad); err == nil || !strings.Contains(err.Error(), "no appId and password") {
		t.Errorf("bad file: %v", err)
	}
}
