// Package credential gives Go programs Tessera's equivalent of
// DefaultAzureCredential: a chain of azidentity credentials configured for a
// Tessera server, returned as an azcore.TokenCredential that every Azure SDK
// for Go client accepts.
package credential

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// ManagementAudience is the resource manager audience Tessera serves.
const ManagementAudience = "https://management.core.windows.net/"

// Options configure the credential chain. The zero value reads everything
// from the environment.
type Options struct {
	// URL is Tessera's base URL; default TESSERA_URL, then AZURE_AUTHORITY_HOST.
	URL string
	// TenantID defaults to AZURE_TENANT_ID, then "adfs" (the home tenant).
	TenantID string
	// CAFile is a PEM bundle to trust besides the system roots; default
	// TESSERA_CA_FILE (SSL_CERT_FILE is honoured by Go itself).
	CAFile string
	// CacheFile is the `tessera login` token cache NewDefault reads
	// (default CachePath()).
	CacheFile string
	// InteractiveFallback makes NewDefault's credential sign the user in
	// through a browser when the whole chain fails — the guide's pattern of
	// trying DefaultAzureCredential and falling back to
	// InteractiveBrowserCredential. Off by default: a program that may run
	// unattended must not open browsers.
	InteractiveFallback bool
	// Interactive tunes that browser sign-in (ClientID with RedirectURL,
	// LoginHint). Its ClientOptions and DisableInstanceDiscovery are set by
	// NewDefault, and an empty TenantID becomes the configured tenant
	// ("organizations" for the adfs alias). nil: the Azure CLI's public
	// client, a random loopback port.
	Interactive *azidentity.InteractiveBrowserCredentialOptions
}

// Config is a resolved client configuration: where Tessera is and how to
// reach it.
type Config struct {
	URL      string
	TenantID string
	// ClientOptions point an Azure SDK client at Tessera (cloud endpoints and
	// a transport that trusts the CA).
	ClientOptions azcore.ClientOptions
}

// Resolve fills Options from the environment and builds the client options.
func Resolve(o *Options) (Config, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.URL == "" {
		opts.URL = firstEnv("TESSERA_URL", "AZURE_AUTHORITY_HOST")
	}
	if opts.URL == "" {
		opts.URL, opts.CAFile = loggedInURL(opts.CAFile)
	}
	if opts.URL == "" {
		return Config{}, errors.New("no Tessera URL: set TESSERA_URL (eval \"$(tessera env)\" does) or run `tessera login`")
	}
	if opts.TenantID == "" {
		opts.TenantID = firstEnv("AZURE_TENANT_ID")
	}
	if opts.TenantID == "" {
		opts.TenantID = "adfs"
	}
	if opts.CAFile == "" {
		opts.CAFile = os.Getenv("TESSERA_CA_FILE")
	}
	base := strings.TrimRight(opts.URL, "/")
	c := Config{URL: base, TenantID: opts.TenantID}
	c.ClientOptions.Cloud = Cloud(base)
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return Config{}, fmt.Errorf("read CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return Config{}, fmt.Errorf("CA file %s holds no certificate", opts.CAFile)
		}
		c.ClientOptions.Transport = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Proxy: http.ProxyFromEnvironment,
		}}
	}
	return c, nil
}

// Cloud is the cloud configuration of a Tessera at base.
func Cloud(base string) cloud.Configuration {
	base = strings.TrimRight(base, "/")
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: base + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: base, Audience: ManagementAudience},
		},
	}
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
