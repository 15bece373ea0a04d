package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func stream(t *testing.T, events ...event) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	for _, e := range events {
		line, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	return &b
}

const (
	pkgCompat = "github.com/tessera-id/tessera/test/compat"
	pkgInteg  = "github.com/tessera-id/tessera/test/integration"
)

func TestMatrixFromResults(t *testing.T) {
	in := stream(t,
		event{Action: "output", Package: pkgCompat, Test: "TestPython", Output: "    python_test.go:79: /usr/bin/python3: azure-identity 1.13.0b2, msal 1.21.0\n"},
		event{Action: "pass", Package: pkgCompat, Test: "TestPython"},
		event{Action: "output", Package: pkgCompat, Test: "TestAzCLI", Output: "    azcli_test.go:75: Azure CLI not usable: apt-get install azure-cli\n"},
		event{Action: "output", Package: pkgCompat, Test: "TestAzCLI", Output: "--- SKIP: TestAzCLI (0.01s)\n"},
		event{Action: "skip", Package: pkgCompat, Test: "TestAzCLI"},
		event{Action: "pass", Package: pkgInteg, Test: "TestWorkspaceSDK/computes"},
		event{Action: "fail", Package: pkgInteg, Test: "TestWorkspaceSDK/a_reader_is_refused_a_write"},
		event{Action: "fail", Package: pkgInteg, Test: "TestWorkspaceSDK"},
		event{Action: "pass", Package: pkgInteg, Test: "TestExampleServicePrincipal"},
		event{Action: "pass", Package: pkgInteg, Test: "TestMLVerbs"},
	)
	res, err := read(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := res.missing(compat, integration); len(m) != 0 {
		t.Fatalf("missing %v", m)
	}
	page := render(res, moduleVersions("require (\n\tgithub.com/Azure/azure-sdk-for-go/sdk/azidentity v1.15.0 // indirect\n\tgithub.com/spf13/cobra v1.10.2\n)\n"))
	for _, want := range []string{
		"| Python azure-identity | not run | pass (1) | not run | not run | — | not run |",
		"| Azure CLI (az) | not run | skip | skip | not run | skip | skip |",
		"| Go sdk/credential + sdk/workspace | not run | pass (1) | not run | not run | **FAIL** (1 of 1) | **FAIL** (1 of 2) |",
		"| tessera CLI | not run | not run | not run | not run | pass (1) | pass (1) |",
		"- skip `compat` TestAzCLI — Azure CLI not usable: apt-get install azure-cli\n",
		"- fail `integration` TestWorkspaceSDK/a_reader_is_refused_a_write\n",
		"- azure-identity (Python) 1.13.0b2\n", "- msal (Python) 1.21.0\n",
		"- `azidentity` v1.15.0\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "cobra") {
		t.Error("non-Azure modules listed")
	}

	partial, _ := read(stream(t, event{Action: "pass", Package: pkgInteg, Test: "TestMLVerbs"}), nil)
	if m := partial.missing(compat, integration); len(m) != 1 || m[0] != compat {
		t.Errorf("missing %v, want [test/compat]", m)
	}
}

func TestPassthroughShowsWhatGoTestShows(t *testing.T) {
	in := stream(t,
		event{Action: "output", Package: pkgInteg, Test: "TestA", Output: "=== RUN   TestA\n"},
		event{Action: "output", Package: pkgInteg, Test: "TestA", Output: "    a_test.go:1: quiet\n"},
		event{Action: "pass", Package: pkgInteg, Test: "TestA"},
		event{Action: "output", Package: pkgInteg, Test: "TestB/sub", Output: "    b_test.go:2: loud failure\n"},
		event{Action: "fail", Package: pkgInteg, Test: "TestB/sub"},
		event{Action: "fail", Package: pkgInteg, Test: "TestB"},
		event{Action: "output", Package: pkgInteg, Output: "FAIL\tgithub.com/tessera-id/tessera/test/integration\t1.0s\n"},
		event{Action: "build-output", ImportPath: "x", Output: "# x\nx.go:1: syntax error\n"},
	)
	var echo bytes.Buffer
	if _, err := read(in, &echo); err != nil {
		t.Fatal(err)
	}
	got := echo.String()
	for _, want := range []string{"loud failure", "FAIL\tgithub.com/tessera-id/tessera/test/integration", "x.go:1: syntax error"} {
		if !strings.Contains(got, want) {
			t.Errorf("passthrough lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "quiet") {
		t.Errorf("a passing test's output was shown:\n%s", got)
	}
}

// TestRulesNameRealTests keeps the rules honest: every test a rule names
// exists in its package, every cell names a declared client and workflow,
// and every client has a rule.
func TestRulesNameRealTests(t *testing.T) {
	root := filepath.Join("..", "..")
	funcs := map[string]map[string]bool{}
	for _, pkg := range []string{compat, integration} {
		funcs[pkg] = map[string]bool{}
		files, _ := filepath.Glob(filepath.Join(root, pkg, "*_test.go"))
		re := regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				funcs[pkg][m[1]] = true
			}
		}
	}
	hasRule := map[string]bool{}
	for _, r := range rules {
		if !funcs[r.Package][r.Test] {
			t.Errorf("rule %s/%s names %s %s, which does not exist", r.Client, r.Workflow, r.Package, r.Test)
		}
		if r.Sub != "" {
			if _, err := regexp.Compile(r.Sub); err != nil {
				t.Errorf("rule %s/%s: %v", r.Client, r.Workflow, err)
			}
		}
		if !contains(workflows, r.Workflow) {
			t.Errorf("rule for %s: unknown workflow %q", r.Client, r.Workflow)
		}
		known := false
		for _, c := range clients {
			known = known || c.Name == r.Client
		}
		if !known {
			t.Errorf("rule for unknown client %q", r.Client)
		}
		hasRule[r.Client] = true
	}
	for _, c := range clients {
		if !hasRule[c.Name] {
			t.Errorf("client %s has no rule", c.Name)
		}
	}
}

// TestCommittedPageIsGenerated: docs/compatibility.md is this tool's output
// for the current rows and columns (its cells come from a test run).
func TestCommittedPageIsGenerated(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "compatibility.md"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.HasPrefix(page, "<!-- Generated by tools/compatmatrix") {
		t.Fatal("docs/compatibility.md does not carry the generator's header: regenerate it, never edit it")
	}
	if !strings.Contains(page, "| client | "+strings.Join(workflows, " | ")+" |\n") {
		t.Error("docs/compatibility.md has other columns than the rules: regenerate it")
	}
	for _, c := range clients {
		if !strings.Contains(page, "\n| "+c.Name+" | ") {
			t.Errorf("docs/compatibility.md has no row for %s: regenerate it", c.Name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
