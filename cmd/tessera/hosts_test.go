package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/internal/cli"
)

func runTessera(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetErr(&errOut)
	code = cli.Main(root, args, &errOut)
	return out.String(), errOut.String(), code
}

// TestHosts: `tessera hosts` prints the lines; --apply writes them once
// between markers, whatever was in the file; --remove restores the file.
func TestHosts(t *testing.T) {
	out, _, code := runTessera(t, "hosts", "--address", "10.1.2.3")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, name := range []string{"login.microsoftonline.com", "login.windows.net", "sts.windows.net",
		"management.azure.com", "management.core.windows.net", "graph.microsoft.com"} {
		if !strings.Contains(out, "10.1.2.3 "+name+"\n") {
			t.Errorf("no line for %s in:\n%s", name, out)
		}
	}

	file := filepath.Join(t.TempDir(), "hosts")
	original := "127.0.0.1 localhost\n::1 localhost ip6-localhost\n# a comment\n10.0.0.5 build-cache" // no final newline
	if err := os.WriteFile(file, []byte(original), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runTessera(t, "hosts", "--apply", "--file", file); code != 0 {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	first, _ := os.ReadFile(file)
	if !strings.HasPrefix(string(first), original+"\n") || !strings.Contains(string(first), "127.0.0.1 management.azure.com\n") {
		t.Fatalf("after --apply:\n%s", first)
	}
	if _, stderr, code := runTessera(t, "hosts", "--apply", "--file", file); code != 0 || !strings.Contains(stderr, "unchanged") {
		t.Fatalf("second apply: exit %d: %s", code, stderr)
	}
	if again, _ := os.ReadFile(file); string(again) != string(first) {
		t.Fatalf("second --apply changed the file:\n%s", again)
	}
	// A new address replaces the block rather than adding a second one.
	if _, _, code := runTessera(t, "hosts", "--apply", "--address", "192.0.2.7", "--file", file); code != 0 {
		t.Fatal("apply with a new address failed")
	}
	moved, _ := os.ReadFile(file)
	if strings.Count(string(moved), hostsBegin) != 1 || strings.Contains(string(moved), "127.0.0.1 graph.microsoft.com") ||
		!strings.Contains(string(moved), "192.0.2.7 graph.microsoft.com") {
		t.Fatalf("after a second address:\n%s", moved)
	}
	if _, stderr, code := runTessera(t, "hosts", "--remove", "--file", file); code != 0 {
		t.Fatalf("remove: exit %d: %s", code, stderr)
	}
	if after, _ := os.ReadFile(file); string(after) != original+"\n" {
		t.Fatalf("after --remove:\n%q\nwant\n%q", after, original+"\n")
	}

	// Lines of the operator's own for the same names are reported.
	if err := os.WriteFile(file, []byte("10.9.9.9 graph.microsoft.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, _ := runTessera(t, "hosts", "--apply", "--file", file); !strings.Contains(stderr, "10.9.9.9 graph.microsoft.com") {
		t.Errorf("no warning about an existing line: %s", stderr)
	}

	// A begin marker without its end is not a block to remove.
	broken := hostsBegin + "\n127.0.0.1 login.microsoftonline.com\n10.0.0.5 build-cache\n"
	if got := withoutHostsBlock("127.0.0.1 localhost\n" + broken); got != "127.0.0.1 localhost\n"+broken {
		t.Errorf("an unterminated block was cut:\n%s", got)
	}

	for _, args := range [][]string{{"hosts", "--address", "not-an-ip"}, {"hosts", "--apply", "--remove", "--file", file}} {
		if _, _, code := runTessera(t, args...); code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
	}
}
