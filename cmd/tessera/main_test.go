package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/internal/cli"
)

// Scripts decide by the exit status alone: 0 worked, 1 ran and failed, 2
// the command line names nothing Tessera can run (az's convention).
func TestExitStatus(t *testing.T) {
	t.Setenv("TESSERA_CONFIG_DIR", t.TempDir())
	version = "v0.0.0-test"
	t.Cleanup(func() { version = "" })

	tests := []struct {
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{args: nil, code: 0, stdout: "Available Commands:"},
		{args: []string{"--help"}, code: 0, stdout: "Available Commands:"},
		{args: []string{"--version"}, code: 0, stdout: "tessera version v0.0.0-test"},
		{args: []string{"tenant", "--help"}, code: 0, stdout: "tessera tenant [command]"},
		{args: []string{"help", "ad", "sp"}, code: 0, stdout: "create-for-rbac"},

		{args: []string{"foo"}, code: 2, stderr: "tessera: 'foo' is misspelled or not recognized by the system."},
		{args: []string{"tenant", "show"}, code: 2, stderr: "'show' is misspelled or not recognized by the system.\nCommands of 'tessera tenant': update."},
		{args: []string{"tenant", "show", "--data-dir", "d"}, code: 2, stderr: "'show' is misspelled"},
		{args: []string{"account", "lsit"}, code: 2, stderr: "Did you mean 'tessera account list'?\nCommands of 'tessera account': get-access-token, list, set, show."},
		{args: []string{"ad", "sp", "shwo"}, code: 2, stderr: "Did you mean 'tessera ad sp show'?"},
		{args: []string{"help", "tenant", "show"}, code: 2, stderr: "'show' is misspelled"},
		{args: []string{"tenant"}, code: 2, stderr: "'tessera tenant' needs a command: update."},
		{args: []string{"ad", "sp"}, code: 2, stderr: "'tessera ad sp' needs a command"},
		{args: []string{"completion"}, code: 2, stderr: "needs a command"},
		{args: []string{"ad", "sp", "show"}, code: 2, stderr: "tessera: the following arguments are required: --id\n"},
		{args: []string{"role", "assignment", "create", "--role", "Reader"}, code: 2, stderr: "required: --assignee, --scope\n"},
		{args: []string{"account", "show", "extra"}, code: 2, stderr: "unrecognized arguments: extra"},
		{args: []string{"role", "definition", "show"}, code: 2, stderr: "accepts 1 arg(s), received 0"},
		{args: []string{"compute", "run", "--workspace", "w", "--compute", "c"}, code: 2, stderr: "requires at least 1 arg(s)"},
		{args: []string{"--bogus"}, code: 2, stderr: "unknown flag: --bogus"},
		{args: []string{"account", "show", "--bogus"}, code: 2, stderr: "unknown flag: --bogus"},

		{args: []string{"account", "show"}, code: 1, stderr: "not logged in"},
		{args: []string{"tenant", "update"}, code: 1, stderr: "nothing to change"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			root := newRoot()
			root.SetOut(&stdout)
			root.SetErr(&stderr)
			code := cli.Main(root, tc.args, &stderr)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tc.stdout)
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.stderr)
			}
		})
	}
}
