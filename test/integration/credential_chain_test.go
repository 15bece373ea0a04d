package integration

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/tessera-id/tessera/sdk/credential"
	"github.com/tessera-id/tessera/test/testserver"
)

// chainEnv is sdkEnv with no client credentials at all.
func chainEnv(t *testing.T, s *testserver.Server) {
	t.Helper()
	sdkEnv(t, s, "adfs", "", "")
	t.Setenv("PATH", t.TempDir()) // no az: the CLI link is unavailable at once
}

func chainToken(t *testing.T, o *credential.Options) (string, error) {
	t.Helper()
	cred, _, err := credential.NewDefault(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := credential.ManagementToken(ctx, cred)
	return tok.Token, err
}

// TestChainEnvironmentUsernamePassword: the environment link's third form,
// a user's password (where the tenant allows the password grant).
func TestChainEnvironmentUsernamePassword(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	if err := s.App.SetAllowROPC(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	u := s.CreateUser(t, "chainuser", userPassword)
	chainEnv(t, s)
	t.Setenv("AZURE_TENANT_ID", s.Bootstrap.TenantID)
	t.Setenv("AZURE_CLIENT_ID", azCLI)
	t.Setenv("AZURE_USERNAME", u.UPN)
	t.Setenv("AZURE_PASSWORD", u.Password)
	tok, err := chainToken(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := verifyWithJWKS(t, s, tok); c["upn"] != u.UPN || c["aud"] != credential.ManagementAudience {
		t.Fatalf("claims %v", c)
	}
}

// TestChainFailedStops: a configured link that fails (a wrong secret)
// stops the chain with an authentication failure naming it, even though
// a later link (the `tessera login` cache) could sign in.
func TestChainFailedStops(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	admin := s.Bootstrap.AdminServicePrincipal
	chainEnv(t, s)
	cache := filepath.Join(t.TempDir(), credential.CacheFileName)
	c, err := credential.LoginServicePrincipal(context.Background(), credential.LoginOptions{URL: s.URL, Tenant: s.Bootstrap.TenantID,
		CAFile: s.Bootstrap.CAFile}, admin.AppID, admin.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(cache); err != nil {
		t.Fatal(err)
	}
	if _, err := chainToken(t, &credential.Options{CacheFile: cache}); err != nil {
		t.Fatalf("the cache link alone: %v", err)
	}

	t.Setenv("AZURE_CLIENT_ID", admin.AppID)
	t.Setenv("AZURE_CLIENT_SECRET", "wrong")
	_, err = chainToken(t, &credential.Options{CacheFile: cache})
	var failed *azidentity.AuthenticationFailedError
	if !errors.As(err, &failed) || failed.RawResponse == nil || failed.RawResponse.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "EnvironmentCredential") || !strings.Contains(msg, "AADSTS7000215") || strings.Contains(msg, credential.LinkLoginCache) {
		t.Fatalf("the error should name the environment link's failure and stop there:\n%s", msg)
	}
}

// TestChainStaleCache: a cached sign-in the server no longer honours is
// "unavailable" (run `tessera login` again), so the chain goes on.
func TestChainStaleCache(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	chainEnv(t, s)
	cache := filepath.Join(t.TempDir(), credential.CacheFileName)
	c := &credential.Cache{Version: 1, URL: s.URL, Authority: s.Bootstrap.TenantID, ClientID: azCLI, CAFile: s.Bootstrap.CAFile,
		RefreshToken: "not-a-refresh-token", Account: credential.Account{Type: "user", Name: "gone@" + s.Bootstrap.Domain}}
	if err := c.Save(cache); err != nil {
		t.Fatal(err)
	}
	_, err := chainToken(t, &credential.Options{CacheFile: cache})
	var failed *azidentity.AuthenticationFailedError
	if err == nil || errors.As(err, &failed) {
		t.Fatalf("stale cache: %v", err)
	}
	for _, want := range []string{credential.LinkLoginCache + ": the cached sign-in is no longer valid (invalid_grant", credential.LinkAzureCLI + ":"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%s", want, err)
		}
	}
}

// TestChainBrowserFallback: with InteractiveFallback, whatever made the
// chain fail — here a wrong secret, a failure that stops the chain — the
// person signs in through the browser, once, and the credential keeps
// using that sign-in.
func TestChainBrowserFallback(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "chainbrowser", userPassword)
	chainEnv(t, s)
	opened := fakeOpener(t) // prepends its directory to PATH
	t.Setenv("AZURE_CLIENT_ID", s.Bootstrap.AdminServicePrincipal.AppID)
	t.Setenv("AZURE_CLIENT_SECRET", "wrong")
	cred, _, err := credential.NewDefault(&credential.Options{InteractiveFallback: true,
		Interactive: &azidentity.InteractiveBrowserCredentialOptions{LoginHint: u.UPN}})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		select {
		case authURL := <-opened:
			b := s.NewBrowser(t)
			resp := b.Deliver(b.SignIn(authURL, u.UPN, u.Password))
			resp.Body.Close()
		case <-time.After(time.Minute):
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tok, err := credential.ManagementToken(ctx, cred)
	if err != nil {
		t.Fatalf("fallback sign-in: %v", err)
	}
	if c := verifyWithJWKS(t, s, tok.Token); c["upn"] != u.UPN {
		t.Fatalf("claims %v", c)
	}
	again, err := credential.ManagementToken(ctx, cred)
	if err != nil || again.Token != tok.Token {
		t.Fatalf("second call: %v (same token: %v)", err, again.Token == tok.Token)
	}
	select {
	case u := <-opened:
		t.Fatalf("the browser opened again: %s", u)
	default:
	}
}
