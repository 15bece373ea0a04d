package credential

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// cleanEnv unsets everything the chain reads and points the Azure CLI and
// the token cache at empty directories.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH",
		"AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_ENDPOINT",
		"IDENTITY_HEADER", "TESSERA_URL", "AZURE_AUTHORITY_HOST", "TESSERA_CA_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("TESSERA_CONFIG_DIR", t.TempDir())
	t.Setenv("AZURE_CONFIG_DIR", t.TempDir())
	t.Setenv("PATH", t.TempDir()) // no az: the CLI link is unavailable at once
}

func TestNewDefaultNeedsAURL(t *testing.T) {
	cleanEnv(t)
	_, _, err := NewDefault(nil)
	if err == nil || !strings.Contains(err.Error(), "TESSERA_URL") {
		t.Fatalf("NewDefault without a URL: %v", err)
	}
}

func TestNewDefaultResolvesFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name, env, value, tenant, wantURL, wantTenant string
	}{
		{"TESSERA_URL", "TESSERA_URL", "https://tessera.example:8443/", "", "https://tessera.example:8443", "adfs"},
		{"AZURE_AUTHORITY_HOST", "AZURE_AUTHORITY_HOST", "https://tessera.example", "", "https://tessera.example", "adfs"},
		{"tenant GUID", "TESSERA_URL", "https://t.example", "00000000-0000-0000-0000-000000000001", "https://t.example", "00000000-0000-0000-0000-000000000001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			t.Setenv(tc.env, tc.value)
			t.Setenv("AZURE_TENANT_ID", tc.tenant)
			_, cfg, err := NewDefault(nil)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.URL != tc.wantURL || cfg.TenantID != tc.wantTenant {
				t.Fatalf("config %+v, want %s %s", cfg, tc.wantURL, tc.wantTenant)
			}
			if got := cfg.ClientOptions.Cloud.ActiveDirectoryAuthorityHost; got != tc.wantURL+"/" {
				t.Errorf("authority host %q", got)
			}
		})
	}
}

// TestChainErrorNamesEveryLink: with nothing configured, the error is
// azidentity's "unavailable" (not an authentication failure) and says, for
// every link in order, why it could not answer.
func TestChainErrorNamesEveryLink(t *testing.T) {
	cleanEnv(t)
	t.Setenv("TESSERA_URL", "https://127.0.0.1:1")
	cred, _, err := NewDefault(&Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{ManagementAudience + ".default"}})
	if err == nil {
		t.Fatal("a token from an unconfigured chain")
	}
	var failed *azidentity.AuthenticationFailedError
	if errors.As(err, &failed) {
		t.Fatalf("an unconfigured chain reported an authentication failure: %v", err)
	}
	msg := err.Error()
	last := -1
	for _, want := range []string{
		LinkEnvironment + ": missing environment variable AZURE_TENANT_ID",
		LinkWorkloadIdentity + ": AZURE_FEDERATED_TOKEN_FILE is not set",
		LinkManagedIdentity + ": no managed-identity endpoint",
		LinkLoginCache + ": not logged in",
		LinkAzureCLI + ":",
	} {
		i := strings.Index(msg, want)
		if i < 0 {
			t.Fatalf("the error does not say %q:\n%s", want, msg)
		}
		if i < last {
			t.Errorf("%q is out of order in:\n%s", want, msg)
		}
		last = i
	}
	if !strings.Contains(msg, "https://127.0.0.1:1") {
		t.Errorf("the error does not name the server:\n%s", msg)
	}
}

// TestCacheOfAnotherServer: a `tessera login` cache for a different server
// is passed over, saying so.
func TestCacheOfAnotherServer(t *testing.T) {
	cleanEnv(t)
	t.Setenv("TESSERA_URL", "https://127.0.0.1:1")
	path := filepath.Join(t.TempDir(), CacheFileName)
	c := &Cache{Version: 1, URL: "https://other.example", Authority: "adfs", ClientID: AzureCLIClientID, RefreshToken: "r"}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	cred, _, err := NewDefault(&Options{CacheFile: path})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{ManagementAudience + ".default"}})
	if err == nil || !strings.Contains(err.Error(), "is a sign-in to https://other.example, not to https://127.0.0.1:1") {
		t.Fatalf("got %v", err)
	}
}

// TestFallbackOptionBuildsABrowserLink: the option is explicit; a bad
// browser option is reported at construction, naming the link.
func TestFallbackOptionBuildsABrowserLink(t *testing.T) {
	cleanEnv(t)
	t.Setenv("TESSERA_URL", "https://127.0.0.1:1")
	cred, _, err := NewDefault(&Options{InteractiveFallback: true})
	if err != nil {
		t.Fatal(err)
	}
	if cred.(*defaultCredential).fallback == nil {
		t.Fatal("no fallback")
	}
	cred, _, err = NewDefault(nil)
	if err != nil || cred.(*defaultCredential).fallback != nil {
		t.Fatalf("fallback without the option (%v)", err)
	}
	_, _, err = NewDefault(&Options{InteractiveFallback: true, Interactive: &azidentity.InteractiveBrowserCredentialOptions{TenantID: "bad tenant!"}})
	if err == nil || !strings.Contains(err.Error(), LinkBrowser) {
		t.Fatalf("bad tenant: %v", err)
	}
}
