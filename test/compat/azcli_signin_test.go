package compat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/test/testserver"
)

// start runs az in the background, handing its stderr to the test line by
// line; wait returns its result.
// loginWithDeviceCode runs `az login --use-device-code`, hands the page
// and code az prints to approve (the person at a browser), and returns az's
// successful result.
func (a *azSession) loginWithDeviceCode(t *testing.T, approve func(page, code string) error) azResult {
	t.Helper()
	lines, wait := a.start(t, nil, "login", "--use-device-code")
	re := regexp.MustCompile(`open the page (\S+) and enter the code (\S+) `)
	deadline := time.After(azTimeout)
read:
	for {
		select {
		case line := <-lines:
			if m := re.FindStringSubmatch(line); m != nil {
				if err := approve(m[1], m[2]); err != nil {
					t.Fatal(err)
				}
				break read
			}
		case <-deadline:
			t.Fatal("az printed no device code message")
		}
	}
	res := wait()
	if res.code != 0 {
		t.Fatalf("%s", res)
	}
	return res
}

func (a *azSession) start(t *testing.T, extraEnv []string, args ...string) (lines <-chan string, wait func() azResult) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), azTimeout)
	full := append(append([]string(nil), args...), "--output", "json")
	argv := append(append(append([]string(nil), a.wrap...), a.az.bin), full...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(a.env(), extraEnv...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(io.TeeReader(pipe, &stderr))
		for sc.Scan() {
			select {
			case ch <- sc.Text():
			default:
			}
		}
	}()
	return ch, func() azResult {
		defer cancel()
		<-done
		err := cmd.Wait()
		res := azResult{args: args, stdout: stdout.Bytes(), stderr: stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			res.code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("az %s: %v", strings.Join(args, " "), err)
		}
		return res
	}
}

// userChecks are the ARM calls RBAC allows for a user holding Reader on a
// workspace (reading it) and refuses (creating a resource group).
func (a *azSession) userChecks(t *testing.T, ws string) {
	t.Helper()
	var w map[string]any
	a.json(t, &w, "resource", "show", "--ids", ws)
	if !strings.EqualFold(str(w, "id"), ws) {
		t.Fatalf("resource show printed %v", w)
	}
	a.fails(t, 1, []string{"AuthorizationFailed"}, "group", "create", "-n", "not-allowed", "-l", "eastus")
}

// TestAzCLIInteractiveLogin signs a person in with the real az 2.45 on the
// ADFS-style route (AZURE_CLI.md §2 route A): `az login --use-device-code`
// and `az login` (browser, redirect http://localhost:8400), the test
// playing the person's browser. Each session then reads the workspace the
// user may read and is refused a resource group it may not create.
func TestAzCLIInteractiveLogin(t *testing.T) {
	az := findAz(t)
	s := testserver.Start(t, testserver.Options{})
	u, ws := signinUser(t, s, "azuser")

	t.Run("login --use-device-code", func(t *testing.T) {
		a := newAzSession(t, az, s)
		res := a.loginWithDeviceCode(t, func(page, code string) error {
			return s.NewBrowser(t).ApproveDeviceCode(page, code, u.UPN, u.Password)
		})
		var subs []azSubscription
		if err := json.Unmarshal(res.stdout, &subs); err != nil || len(subs) != 1 || subs[0].User.Name != u.UPN ||
			subs[0].User.Type != "user" || subs[0].ID != s.Bootstrap.SubscriptionID || subs[0].TenantID != s.Bootstrap.TenantID {
			t.Fatalf("az login printed %s (%v)", res.stdout, err)
		}
		a.userChecks(t, ws)
		var tok map[string]any
		a.json(t, &tok, "account", "get-access-token")
		if c := (&jwks{s: s}).verify(t, str(tok, "accessToken")); c["upn"] != u.UPN || c["appid"] != azureCLIClientID {
			t.Fatalf("get-access-token claims %v", c)
		}
	})

	t.Run("login (browser)", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:8400")
		if err != nil {
			t.Skipf("az's browser login listens on localhost:8400, which is taken: %v", err)
		}
		ln.Close()
		a := newAzSession(t, az, s)
		script, urls := testserver.OpenerScript(t, "browser")
		errc := make(chan error, 1)
		go func() {
			select {
			case authURL := <-urls:
				b := s.NewBrowser(t)
				p := b.SignIn(authURL, u.UPN, u.Password)
				if !strings.HasPrefix(p.Location(), "http://localhost:8400") {
					t.Errorf("redirect to %q, want az's http://localhost:8400", p.Location())
				}
				// az may still be binding its listener: retry briefly.
				var resp *http.Response
				for i := 0; i < 50; i++ {
					if r, err := (&http.Client{Timeout: 10 * time.Second}).Get(p.Location()); err == nil {
						resp = r
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if resp == nil {
					errc <- io.ErrUnexpectedEOF
					return
				}
				resp.Body.Close()
				errc <- nil
			case <-time.After(azTimeout):
				errc <- context.DeadlineExceeded
			}
		}()
		_, wait := a.start(t, []string{"BROWSER=" + script}, "login")
		res := wait()
		if err := <-errc; err != nil {
			t.Fatalf("browser: %v", err)
		}
		if res.code != 0 {
			t.Fatalf("%s", res)
		}
		var subs []azSubscription
		if err := json.Unmarshal(res.stdout, &subs); err != nil || len(subs) != 1 || subs[0].User.Name != u.UPN {
			t.Fatalf("az login printed %s (%v)", res.stdout, err)
		}
		a.userChecks(t, ws)
	})
}
