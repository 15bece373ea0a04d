package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jmespath "github.com/jmespath-community/go-jmespath"
	"github.com/spf13/cobra"
)

func TestWriteResult(t *testing.T) {
	doc := map[string]any{"id": "/s/x", "name": "x", "properties": map[string]any{"provisioningState": "Succeeded", "n": 2}}
	var b bytes.Buffer
	if err := writeResult(&b, doc, "json", jmespath.MustCompile("length(properties.n)")); err == nil || !strings.Contains(err.Error(), "the command succeeded") {
		t.Errorf("a query failing on the result: %v", err)
	}
	for _, tc := range []struct {
		v             any
		query, format string
		want          string
	}{
		{doc, "id", "json", "\"/s/x\"\n"},
		{doc, "id", "tsv", "/s/x\n"},
		{doc, "properties.provisioningState", "tsv", "Succeeded\n"},
		{doc, "properties.n", "json", "2\n"},
		{[]any{doc, doc}, "[].id", "tsv", "/s/x\n/s/x\n"},
		{[]any{doc}, "[].{id:id, state:properties.provisioningState}", "tsv", "/s/x\tSucceeded\n"},
		{[]any{doc}, "", "table", "Id    Name\n----  ----\n/s/x  x\n"},
		{doc, "nope", "json", "null\n"},
		{doc, "", "none", ""},
		{[]any{doc}, "[].[id, name]", "tsv", "/s/x\tx\n"},
		{[]any{doc}, "[].[id, name]", "table", "Column1  Column2\n-------  -------\n/s/x     x\n"},
		{[]any{}, "", "table", ""},
		{doc, "{id: id, count: properties.n}", "yaml", "count: 2\nid: /s/x\n"},
		{[]any{doc, map[string]any{"id": "/s/y", "name": "y", "properties": map[string]any{"n": 3}}}, "[?properties.n > `2`].name", "tsv", "y\n"},
	} {
		var q jmespath.JMESPath
		if tc.query != "" {
			q = jmespath.MustCompile(tc.query)
		}
		var b bytes.Buffer
		if err := writeResult(&b, tc.v, tc.format, q); err != nil || b.String() != tc.want {
			t.Errorf("--query %s -o %s: %q %v, want %q", tc.query, tc.format, b.String(), err, tc.want)
		}
	}
}

// A bad --query or --output is refused before the command runs (exit 2),
// so no change is made and then reported as a failure.
func TestOutputFlagsCheckedFirst(t *testing.T) {
	ran := false
	root := &cobra.Command{Use: "tessera", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(&cobra.Command{Use: "make", RunE: func(*cobra.Command, []string) error { ran = true; return nil }})
	addOutputFlags(root)
	for _, args := range [][]string{{"make", "--query", "[?"}, {"make", "-o", "xml"}} {
		if code := Main(root, args, &bytes.Buffer{}); code != 2 || ran {
			t.Errorf("%v: exit %d, ran %v; want 2 and not run", args, code, ran)
		}
	}
	if code := Main(root, []string{"make", "--query", "id", "-o", "tsv"}, &bytes.Buffer{}); code != 0 || !ran {
		t.Errorf("good flags: exit %d, ran %v", code, ran)
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

// TestAzFlattened: ARM resources print as az prints them, with the fields
// of properties beside id and name.
func TestAzFlattened(t *testing.T) {
	in := []any{map[string]any{"id": "/r/1", "name": "1", "properties": map[string]any{"roleName": "Reader", "name": "not lifted"}}}
	var b bytes.Buffer
	if err := writeResult(&b, azFlattened{in}, "json", jmespath.MustCompile("[].[id, name, roleName, properties]")); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(b.String()), ""); got != `[["/r/1","1","Reader",null]]` {
		t.Errorf("flattened: %s", got)
	}
}
