package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func cfgJSON(ws string) string {
	return `{"subscription_id":"s1","resource_group":"rg1","workspace_name":"` + ws + `"}`
}

// TestFindConfig follows azure-ai-ml's MLClient.from_config rules.
func TestFindConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		files  map[string]string // relative to the root
		start  string            // relative start directory or file
		fileNm string
		want   string // workspace name, "" for not found
	}{
		{"explicit file", map[string]string{"x/my.json": cfgJSON("explicit")}, "x/my.json", "", "explicit"},
		{"config.json in the start directory", map[string]string{"a/b/config.json": cfgJSON("here")}, "a/b", "", "here"},
		{"a parent's config.json", map[string]string{"a/config.json": cfgJSON("parent")}, "a/b/c", "", "parent"},
		{".azureml in the start directory", map[string]string{"a/.azureml/config.json": cfgJSON("dot")}, "a", "", "dot"},
		{".azureml of a parent wins over a plain config.json nearer", map[string]string{
			"a/.azureml/config.json": cfgJSON("dot-parent"), "a/b/config.json": cfgJSON("plain-near"),
		}, "a/b", "", "dot-parent"},
		{"aml_config", map[string]string{"a/aml_config/config.json": cfgJSON("aml")}, "a/b", "", "aml"},
		{"config.json before project.json", map[string]string{"a/config.json": cfgJSON("cfg"), "a/project.json": cfgJSON("proj")}, "a", "", "cfg"},
		{"project.json", map[string]string{"a/project.json": cfgJSON("proj")}, "a", "", "proj"},
		{"file name override", map[string]string{"a/config.json": cfgJSON("cfg"), "a/ws.json": cfgJSON("named")}, "a", "ws.json", "named"},
		{"Scope field", map[string]string{"a/config.json": `{"Scope":"/subscriptions/s9/resourceGroups/rg9/providers/Microsoft.MachineLearningServices/workspaces/scoped"}`}, "a", "", "scoped"},
		{"not found", map[string]string{"elsewhere/config.json": cfgJSON("no")}, "a/b", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for p, body := range tc.files {
				writeFile(t, filepath.Join(root, p), body)
			}
			start := filepath.Join(root, tc.start)
			_ = os.MkdirAll(start, 0o755)
			if _, ok := tc.files[tc.start]; ok {
				start = filepath.Join(root, tc.start)
			}
			c, err := FindConfig(start, tc.fileNm)
			if tc.want == "" {
				var nf *NotFoundError
				if !errors.As(err, &nf) {
					t.Fatalf("got %+v, %v; want NotFoundError", c, err)
				}
				for _, want := range []string{
					filepath.Join(start, ".azureml", "config.json"), filepath.Join(root, "a", "aml_config", "project.json"),
					filepath.Join(root, "config.json"), "/config.json",
				} {
					if !strings.Contains(err.Error(), want+"\n") {
						t.Errorf("the error does not name %s:\n%s", want, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.WorkspaceName != tc.want || c.Path == "" {
				t.Fatalf("found %+v, want workspace %s", c, tc.want)
			}
		})
	}
}

func TestFindConfigWorkingDirectory(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "config.json"), cfgJSON("cwd"))
	sub := filepath.Join(root, "nb")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	c, err := FindConfig("", "")
	if err != nil || c.WorkspaceName != "cwd" {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"missing": `{"subscription_id":"s"}`, "bad": `{`, "scope": `{"Scope":"/subscriptions/s"}`,
	} {
		p := filepath.Join(dir, name+".json")
		writeFile(t, p, body)
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", name, err)
		}
		if name == "missing" && !strings.Contains(err.Error(), "resource_group, workspace_name") {
			t.Errorf("missing fields not named: %v", err)
		}
	}
}

func TestConfigWriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := Config{SubscriptionID: "s", ResourceGroup: "rg", WorkspaceName: "w"}
	path, err := c.Write(dir)
	if err != nil || path != filepath.Join(dir, "config.json") {
		t.Fatalf("%s %v", path, err)
	}
	got, err := FindConfig(dir, "")
	if err != nil || got.ID() != c.ID() {
		t.Fatalf("%+v %v", got, err)
	}
	s, rg, w, err := ParseID(c.ID())
	if err != nil || s != "s" || rg != "rg" || w != "w" {
		t.Fatalf("ParseID: %s %s %s %v", s, rg, w, err)
	}
	if _, _, _, err := ParseID("/subscriptions/s/resourceGroups/rg"); err == nil {
		t.Error("ParseID accepted a resource group id")
	}
}
