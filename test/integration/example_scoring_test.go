package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/test/testserver"
)

// startScoringAPI runs examples/scoring-api as its README does and returns
// its base URL once it listens.
func startScoringAPI(t *testing.T, w *exampleWorld, api protectedAPI) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(w.bin, "scoring-api"), "-listen", "127.0.0.1:0", "-identifier-uri", "api://scoring")
	cmd.Env = w.env(t, "AZURE_CLIENT_ID="+api.AppID, "AZURE_CLIENT_SECRET="+api.Secret)
	cmd.Dir, cmd.WaitDelay = w.configDir, 5*time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("scoring-api stderr:\n%s", stderr.String())
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line, ok := <-lines:
		t.Logf("scoring-api: %s", line)
		_, rest, found := strings.Cut(line, "listening on ")
		if !ok || !found {
			t.Fatalf("scoring-api did not start: %q\n%s", line, stderr.String())
		}
		return strings.Fields(rest)[0]
	case <-time.After(time.Minute):
		t.Fatalf("scoring-api did not start in a minute:\n%s", stderr.String())
	}
	return ""
}

// callScore posts a score request with bearer and decodes the answer.
func callScore(t *testing.T, base, bearer, workspace string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"workspace": workspace, "features": []float64{0.5, 1.5}})
	req, err := http.NewRequest(http.MethodPost, base+"/score", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST /score: %d %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// TestExampleScoringAPI: examples/scoring-api validates Tessera's tokens
// against the published keys, needs the Scores.Read scope, and reads the
// named workspace on the caller's behalf, so the caller's role on it
// decides.
func TestExampleScoringAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	w := newExampleWorld(t)
	s := w.s
	if err := s.App.SetAllowROPC(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	api := registerProtectedAPI(t, s, "scoring", 2, map[string]any{"groupMembershipClaims": "SecurityGroup"})
	client := s.CreateApp(t, "scoring-client", map[string]any{"isFallbackPublicClient": true})
	grantConsent(t, s, client.SPID, api.SPID, "", "Scores.Read Scores.Write")
	reader := s.CreateUser(t, "scoring-reader", userPassword)
	s.Assign(t, w.ws, testserver.RoleReader, reader.ID)
	team := s.CreateGroup(t, "scoring-team")
	s.AddMember(t, team, reader.ID)
	outsider := s.CreateUser(t, "scoring-outsider", userPassword)
	base := startScoringAPI(t, w, api)

	token := func(u testserver.User, scope string) string {
		t.Helper()
		r := ropc(t, s, client.AppID, u, scope)
		if r.Status != http.StatusOK {
			t.Fatalf("token for %s: %s", scope, r)
		}
		return str(r, "access_token")
	}

	t.Run("scope and role: 200", func(t *testing.T) {
		status, out := callScore(t, base, token(reader, "api://scoring/Scores.Read"), w.ws)
		if status != http.StatusOK {
			t.Fatalf("%d %v", status, out)
		}
		caller, _ := out["caller"].(map[string]any)
		if out["workspace"] != w.ws || out["score"] != 0.8808 || caller["oid"] != reader.ID || caller["client"] != client.AppID ||
			!slices.Equal(stringsOf(caller["scopes"]), []string{"Scores.Read"}) || !slices.Equal(stringsOf(caller["groups"]), []string{team}) {
			t.Errorf("answer %v", out)
		}
	})
	t.Run("no role on the workspace: the resource manager's 403", func(t *testing.T) {
		status, out := callScore(t, base, token(outsider, "api://scoring/Scores.Read"), w.ws)
		if status != http.StatusForbidden || out["error"] != "workspace_not_readable" || !strings.Contains(fmt.Sprint(out["message"]), "AuthorizationFailed") {
			t.Errorf("%d %v", status, out)
		}
	})
	t.Run("without the scope: the API's 403", func(t *testing.T) {
		status, out := callScore(t, base, token(reader, "api://scoring/Scores.Write"), w.ws)
		if status != http.StatusForbidden || out["error"] != "insufficient_scope" {
			t.Errorf("%d %v", status, out)
		}
		// An application's own token has no delegated scope at all.
		status, out = callScore(t, base, s.AppToken(t, client.AppID, client.Secret, "api://scoring/.default"), w.ws)
		if status != http.StatusForbidden || out["error"] != "insufficient_scope" {
			t.Errorf("app token: %d %v", status, out)
		}
	})
	t.Run("another audience: 401", func(t *testing.T) {
		status, out := callScore(t, base, token(reader, "https://management.azure.com/user_impersonation"), w.ws)
		if status != http.StatusUnauthorized || out["error"] != "invalid_token" {
			t.Errorf("ARM token: %d %v", status, out)
		}
		status, out = callScore(t, base, "", w.ws)
		if status != http.StatusUnauthorized {
			t.Errorf("no token: %d %v", status, out)
		}
		// A token for another API of the same tenant.
		other := registerProtectedAPI(t, s, "other", 2, nil)
		grantConsent(t, s, client.SPID, other.SPID, "", "Scores.Read")
		status, out = callScore(t, base, token(reader, "api://other/Scores.Read"), w.ws)
		if status != http.StatusUnauthorized || out["error"] != "invalid_token" {
			t.Errorf("another API's token: %d %v", status, out)
		}
	})
}

// TestExampleScoringAPIReadme runs examples/scoring-api/README.md's
// commands, in order, in a copy of the working tree, after the quickstart's
// first steps (a server on ./tessera-data, `tessera env`, the administrator
// signed in, a workspace in $WS), so that the page's commands are the ones
// that work.
func TestExampleScoringAPIReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("copies the repository and builds it; skipped with -short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	clone := t.TempDir()
	copyWorkingTree(t, root, clone)
	s := testserver.Start(t, testserver.Options{DataDir: filepath.Join(clone, "tessera-data")})
	bin := filepath.Dir(buildTessera(t))

	home := t.TempDir()
	env := []string{"HOME=" + home, "TMPDIR=" + t.TempDir(), "LC_ALL=C.UTF-8", "GOTOOLCHAIN=local",
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	env = append(env, goToolEnv()...)
	listen := freePort(t)
	var script strings.Builder
	// The quickstart's steps 2 to 4, with the password grant standing in
	// for the person at the browser.
	fmt.Fprintf(&script, `set -euo pipefail
eval "$(tessera env)"
tessera tenant update --allow-ropc=true > /dev/null
tessera login -u %q -p %q --output none
tessera group create --name ml-rg --location eastus --output none
tessera ml workspace create --resource-group ml-rg --name ws1 --write-config config.json --output none
WS=$(tessera ml workspace show --query id -o tsv)
`, s.Bootstrap.Admin.UserPrincipalName, s.Bootstrap.Admin.Password)
	for _, b := range shellBlocks(t, filepath.Join(clone, "examples", "scoring-api", "README.md")) {
		fmt.Fprintf(&script, "echo '+ [README line %d]'\n%s\n", b.line, strings.ReplaceAll(b.body, "127.0.0.1:8080", listen))
	}
	script.WriteString("kill %1\n")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir, cmd.Env, cmd.WaitDelay = clone, env, 10*time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("README output:\n%s", out)
	if err != nil {
		t.Fatalf("the README's commands failed: %v", err)
	}
	for _, want := range []string{`"score":0.8808`, "HTTP 200\n", `"error":"workspace_not_readable"`, "(AuthorizationFailed)", "HTTP 403\n",
		`"error":"invalid_token"`, "HTTP 401\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the README's output lacks %q", want)
		}
	}
}
