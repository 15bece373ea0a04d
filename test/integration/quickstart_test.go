package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/app"
	"github.com/tessera-id/tessera/test/testserver"
)

// TestQuickstart runs docs/quickstart.md: every fenced ```sh block, in
// order, as one bash script (set -euo pipefail), in a copy of the working
// tree with no data directory — a newcomer's clean clone. The ```sh server
// block runs in the background as the "first terminal"; ```sh python and
// ```sh az blocks run when those clients are installed (and must under
// TESSERA_COMPAT_REQUIRED=1). The test plays the person at the browser
// `tessera login` opens. Because the commands come from the page itself,
// the page and the test cannot drift apart.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("copies the repository and builds it; skipped with -short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	clone := t.TempDir()
	copyWorkingTree(t, root, clone)
	blocks := shellBlocks(t, filepath.Join(clone, "docs", "quickstart.md"))

	required := os.Getenv("TESSERA_COMPAT_REQUIRED") == "1"
	home := t.TempDir()
	env := []string{"HOME=" + home, "TMPDIR=" + t.TempDir(), "LC_ALL=C.UTF-8", "AZURE_CONFIG_DIR=" + filepath.Join(home, ".azure"),
		"AZURE_CORE_COLLECT_TELEMETRY=no", "AZURE_CORE_NO_COLOR=true", "PYTHONDONTWRITEBYTECODE=1", "PYTHONNOUSERSITE=1",
		"GOTOOLCHAIN=local", "TESSERA_LISTEN=" + freePort(t)}
	env = append(env, goToolEnv()...)
	path := os.Getenv("PATH")

	// The person's browser: an xdg-open that records the URL it is given,
	// on a desktop (without a display, tessera login uses a device code).
	opener, opened := testserver.OpenerScript(t, "xdg-open")
	path = filepath.Dir(opener) + string(os.PathListSeparator) + path
	env = append(env, "DISPLAY=:0")

	var clients []string
	if py, why := quickstartPython(t, root); py != "" {
		dir := t.TempDir()
		if err := os.Symlink(py, filepath.Join(dir, "python3")); err != nil {
			t.Fatal(err)
		}
		path = dir + string(os.PathListSeparator) + path
		clients = append(clients, "python")
	} else if required {
		t.Fatalf("the quickstart's Python step needs azure-identity and azure-ai-ml (TESSERA_COMPAT_REQUIRED=1): %s", why)
	} else {
		t.Logf("skipping the quickstart's Python block: %s", why)
	}
	if _, err := exec.LookPath("az"); err == nil {
		clients = append(clients, "az")
	} else if required {
		t.Fatal("the quickstart's az step needs the Azure CLI (TESSERA_COMPAT_REQUIRED=1)")
	} else {
		t.Log("skipping the quickstart's az block: az is not installed")
	}
	env = append(env, "PATH="+path)

	// 1. The server, in its own terminal.
	var serverBlock string
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, b := range blocks {
		switch b.tag {
		case "server":
			if serverBlock != "" {
				t.Fatal("the quickstart has two ```sh server blocks")
			}
			serverBlock = b.body
		case "", "python", "az":
			if b.tag != "" && !contains(clients, b.tag) {
				continue
			}
			fmt.Fprintf(&script, "echo '+ [quickstart line %d]'\n%s\n", b.line, b.body)
		default:
			t.Fatalf("quickstart line %d: unknown block tag %q", b.line, b.tag)
		}
	}
	if serverBlock == "" {
		t.Fatal("the quickstart has no ```sh server block")
	}
	server := exec.Command("bash", "-c", serverBlock)
	server.Dir, server.Env = clone, env
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // `go run` starts a child: stop the group
	var serverLog bytes.Buffer
	server.Stdout, server.Stderr = &serverLog, &serverLog
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-server.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = server.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-server.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("server output:\n%s", serverLog.String())
		}
	})
	b := waitForQuickstartServer(t, filepath.Join(clone, "tessera-data"), &serverLog)

	// The person at the browser: sign in as the administrator.
	signedIn := make(chan error, 1)
	go func() {
		select {
		case authURL := <-opened:
			s := &testserver.Server{URL: b.URL, CAPool: caPool(t, b.CAFile)}
			br := s.NewBrowser(t)
			p := br.SignIn(authURL, b.Admin.UserPrincipalName, b.Admin.Password)
			if p.Status != http.StatusFound && !p.Has("Finishing sign-in") {
				signedIn <- fmt.Errorf("the sign-in page answered %d:\n%s", p.Status, p.Body)
				return
			}
			resp := br.Deliver(p)
			resp.Body.Close()
			signedIn <- nil
		case <-time.After(8 * time.Minute):
			signedIn <- nil
		}
	}()

	// 2. Everything else, in the second terminal.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir, cmd.Env, cmd.WaitDelay = clone, env, 10*time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("quickstart output:\n%s", out)
	if err != nil {
		t.Fatalf("the quickstart's commands failed: %v", err)
	}
	select {
	case err := <-signedIn:
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatal("tessera login did not open a browser")
	}
	wants := []string{
		"/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws1\n",
		"create compute gpu: refused (403 AuthorizationFailed), as the role intends",
	}
	if contains(clients, "python") {
		wants = append(wants, "python: workspace ws1\n", "python: refused: 403 AuthorizationFailed\n")
	}
	if contains(clients, "az") {
		wants = append(wants, "\nws1\n", "AuthorizationFailed", "az: refused, as the role intends")
	}
	for _, want := range wants {
		if !strings.Contains(string(out), want) {
			t.Errorf("the quickstart's output lacks %q", want)
		}
	}
	if fi, err := os.Stat(filepath.Join(home, ".tessera", "tokens.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("tessera login's token cache: %v", err)
	}
	// The person's own az configuration keeps its cloud: only --az
	// registers Tessera, and in a directory of its own.
	if clouds, err := os.ReadFile(filepath.Join(home, ".azure", "clouds.config")); err == nil && bytes.Contains(clouds, []byte("Tessera")) {
		t.Errorf("the quickstart changed the person's own az clouds:\n%s", clouds)
	}
}

// quickstartBlock is a fenced ```sh block: its tag (the word after sh) and
// the line it starts on.
type quickstartBlock struct {
	tag, body string
	line      int
}

func shellBlocks(t *testing.T, path string) []quickstartBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks []quickstartBlock
		cur    *quickstartBlock
		body   []string
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```sh"):
			fields := strings.Fields(strings.TrimPrefix(line, "```sh"))
			cur = &quickstartBlock{line: n}
			if len(fields) > 0 {
				cur.tag = fields[0]
			}
			body = nil
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.body = strings.Join(body, "\n")
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			body = append(body, line)
		}
	}
	if cur != nil {
		t.Fatalf("%s: the block at line %d is not closed", path, cur.line)
	}
	if len(blocks) < 5 {
		t.Fatalf("%s: only %d sh blocks", path, len(blocks))
	}
	return blocks
}

// copyWorkingTree copies the tracked and untracked, not ignored, files of
// the repository at root: what a clone of this tree holds.
func copyWorkingTree(t *testing.T, root, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("the quickstart test copies a git working tree: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		fi, err := os.Lstat(src)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the working tree, or not a plain file
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		in, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		w, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
		if err == nil {
			_, err = io.Copy(w, in)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		in.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// quickstartPython is an interpreter that imports azure-identity and
// azure-ai-ml (with contrib/python's pydash stand-in on the path, as the
// quickstart puts it where pydash is missing), or "" and why not.
func quickstartPython(t *testing.T, root string) (py, why string) {
	py = os.Getenv("TESSERA_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	shim := filepath.Join(root, "contrib", "python")
	cmd := exec.Command(py, "-c", "import azure.identity, azure.ai.ml")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PYTHONPATH=" + shim, "PYTHONNOUSERSITE=1"}
	if out, err := cmd.CombinedOutput(); err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return "", fmt.Sprintf("%s: %v: %s", py, err, lines[len(lines)-1])
	}
	return py, ""
}

func waitForQuickstartServer(t *testing.T, dataDir string, log *bytes.Buffer) app.Bootstrap {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if b, err := app.ReadBootstrap(dataDir); err == nil {
			c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, b.CAFile)}}}
			if resp, err := c.Get(b.URL + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return b
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the quickstart's server did not come up:\n%s", log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func caPool(t *testing.T, file string) *x509.CertPool {
	pem, err := os.ReadFile(file)
	pool := x509.NewCertPool()
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("CA %s: %v", file, err)
	}
	return pool
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// goToolEnv is the Go toolchain's own settings (caches, module proxy) for a
// command run with an otherwise clean environment, so that a doc's `go`
// commands reuse what the test's build downloaded.
func goToolEnv() []string {
	var env []string
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY", "GONOSUMDB", "GOPRIVATE"} {
		out, _ := exec.Command("go", "env", k).Output()
		if v := strings.TrimSpace(string(out)); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}
