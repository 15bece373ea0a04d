package integration

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/internal/config"
	"github.com/tessera-id/tessera/test/testserver"
)

// TestThrottling: repeated failures from one address are refused before
// their credentials are checked, in each surface's own shape: the token
// endpoint answers 429 with Retry-After and an AADSTS error, the login page
// a 429 "try again in N s" page.
func TestThrottling(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Config: func(c *config.Config) { c.FailedSignInsPerAddress = 15 }})
	if err := s.App.SetAllowROPC(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	tokenPath := "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"
	app := s.CreateApp(t, "throttled-app", nil)
	secret := func(sec string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "client_secret": {sec}, "scope": {armScope}}
	}
	n := 0
	ropc := func() url.Values {
		n++
		return url.Values{"grant_type": {"password"}, "client_id": {azCLI}, "username": {fmt.Sprintf("random%d@nowhere.example", n)},
			"password": {"Wrong-Password-1"}, "scope": {armScope}}
	}
	for _, tc := range []struct {
		name     string
		form     func() url.Values
		attempts int // failures before the one checked
		status   int
		oauth    string
		code     float64
	}{
		// A client's wrong secrets lock it for this address at the 10th.
		{"wrong client secrets", func() url.Values { return secret("wrong-secret") }, 9, http.StatusTooManyRequests, "invalid_client", 50053},
		// ... and then its right secret is refused from here too.
		{"right secret while locked", func() url.Values { return secret(app.Secret) }, 0, http.StatusTooManyRequests, "invalid_client", 50053},
		// Passwords for random names reach the address's limit (15 with
		// the 10 above) however many names there are.
		{"random user names", ropc, 4, http.StatusTooManyRequests, "invalid_grant", 50053},
		// Anything else from the address now waits, an unknown client too.
		{"unknown client", func() url.Values {
			return url.Values{"grant_type": {"client_credentials"}, "client_id": {"00000000-0000-0000-0000-00000000abcd"},
				"client_secret": {"x"}, "scope": {armScope}}
		}, 0, http.StatusTooManyRequests, "invalid_client", 50053},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < tc.attempts; i++ {
				if r := s.PostForm(t, tokenPath, tc.form()); r.Status == http.StatusTooManyRequests {
					t.Fatalf("attempt %d throttled early: %s", i+1, r.Raw)
				}
			}
			r := s.PostForm(t, tokenPath, tc.form())
			if r.Status != tc.status || r.Body["error"] != tc.oauth {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tc.status, tc.oauth)
			}
			if codes, _ := r.Body["error_codes"].([]any); len(codes) != 1 || codes[0] != tc.code {
				t.Fatalf("error_codes %v, want [%v]", r.Body["error_codes"], tc.code)
			}
			if sec, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || sec < 1 {
				t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
			}
		})
	}

	t.Run("login page", func(t *testing.T) {
		b := s.NewBrowser(t)
		a := newAuthReq(s)
		p := b.SignIn(a.url(s), "someone@nowhere.example", "Wrong-Password-1")
		if p.Status != http.StatusTooManyRequests || !p.Has("Too many sign-in attempts. Try again in ") {
			t.Fatalf("login page from a throttled address: %d\n%s", p.Status, p.Body)
		}
		if p.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After on the 429 page")
		}
	})
}

// TestThrottleLeavesOthersAlone: failures of one client do not lock another
// client, and a client that authenticates fine is never throttled.
func TestThrottleLeavesOthersAlone(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	tokenPath := "/" + s.Bootstrap.TenantID + "/oauth2/v2.0/token"
	bad := s.CreateApp(t, "guessed-app", nil)
	good := s.CreateApp(t, "busy-app", nil)
	for i := 0; i < 12; i++ {
		s.PostForm(t, tokenPath, url.Values{"grant_type": {"client_credentials"}, "client_id": {bad.AppID}, "client_secret": {"wrong"}, "scope": {armScope}})
	}
	for i := 0; i < 30; i++ {
		r := s.PostForm(t, tokenPath, url.Values{"grant_type": {"client_credentials"}, "client_id": {good.AppID}, "client_secret": {good.Secret}, "scope": {armScope}})
		if r.Status != http.StatusOK {
			t.Fatalf("token %d of the other client: %d %s", i+1, r.Status, r.Raw)
		}
	}
	if r := s.PostForm(t, tokenPath, url.Values{"grant_type": {"client_credentials"}, "client_id": {bad.AppID}, "client_secret": {bad.Secret}, "scope": {armScope}}); r.Status != http.StatusTooManyRequests ||
		!strings.Contains(string(r.Raw), "AADSTS50053") {
		t.Fatalf("the guessed client from the guessing address: %d %s", r.Status, r.Raw)
	}
}
