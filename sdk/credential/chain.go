package credential

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// The chain of NewDefault, in DefaultAzureCredential's order with Tessera's
// own sign-in inserted before the Azure CLI's:
//
//	EnvironmentCredential         AZURE_TENANT_ID + AZURE_CLIENT_ID with AZURE_CLIENT_SECRET,
//	                              AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_USERNAME/AZURE_PASSWORD
//	WorkloadIdentityCredential    AZURE_FEDERATED_TOKEN_FILE (+ AZURE_CLIENT_ID, AZURE_TENANT_ID)
//	ManagedIdentityCredential     MSI_ENDPOINT or IDENTITY_ENDPOINT (tessera compute run sets them)
//	TesseraLoginCacheCredential   the token cache of `tessera login`
//	AzureCLICredential            `az account get-access-token` of a signed-in az
//	[InteractiveBrowserCredential only with Options.InteractiveFallback, when all of the above fail]
//
// Every link is always in the chain: one that is not configured answers
// "unavailable" with the reason, so that a failed chain's error names each
// link and what it lacked. azidentity's semantics decide the walk: an
// unavailable link passes to the next; a link that is configured but fails
// (a wrong secret, a refused identity) stops the chain with that error.

// Link names, as they appear in errors.
const (
	LinkEnvironment      = "EnvironmentCredential"
	LinkWorkloadIdentity = "WorkloadIdentityCredential"
	LinkManagedIdentity  = "ManagedIdentityCredential"
	LinkLoginCache       = "TesseraLoginCacheCredential"
	LinkAzureCLI         = "AzureCLICredential"
	LinkBrowser          = "InteractiveBrowserCredential"
)

// unavailable is a link that is not configured: it always answers with
// azidentity's "credential unavailable" error, naming itself and why.
type unavailable struct{ name, reason string }

func (u unavailable) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, unavailableErr(u.name, u.reason)
}

func unavailableErr(name, reason string) error {
	return azidentity.NewCredentialUnavailableError(name + ": " + reason)
}

// named prefixes a link's errors with the link's name when the credential
// inside does not (EnvironmentCredential reports as the
// ClientSecretCredential it built), wrapping them so that the chain still
// tells "unavailable" from "failed".
type named struct {
	name string
	cred azcore.TokenCredential
}

func (n named) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := n.cred.GetToken(ctx, opts)
	if err != nil && !strings.HasPrefix(err.Error(), n.name) {
		err = fmt.Errorf("%s: %w", n.name, err)
	}
	return tok, err
}

// NewDefault returns Tessera's DefaultAzureCredential: the chain above,
// configured for the server Resolve finds (TESSERA_URL, AZURE_AUTHORITY_HOST,
// or the `tessera login` cache; the tenant from AZURE_TENANT_ID, default the
// adfs alias). Links that talk to the token service skip instance
// discovery, which cannot reach Microsoft from a private network. o may be
// nil.
func NewDefault(o *Options) (azcore.TokenCredential, Config, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	cfg, err := Resolve(&opts)
	if err != nil {
		return nil, cfg, err
	}
	chain := []azcore.TokenCredential{
		environmentLink(cfg),
		workloadIdentityLink(cfg),
		managedIdentityLink(cfg),
		newCacheLink(cfg, opts.CacheFile),
		azureCLILink(cfg),
	}
	chained, err := azidentity.NewChainedTokenCredential(chain, nil)
	if err != nil {
		return nil, cfg, err
	}
	d := &defaultCredential{chain: chained, cfg: cfg}
	if opts.InteractiveFallback {
		b, err := browserLink(cfg, opts.Interactive)
		if err != nil {
			return nil, cfg, fmt.Errorf("%s: %w", LinkBrowser, err)
		}
		d.fallback = b
	}
	return d, cfg, nil
}

func environmentLink(cfg Config) azcore.TokenCredential {
	env, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{
		ClientOptions: cfg.ClientOptions, DisableInstanceDiscovery: true,
	})
	if err != nil {
		return unavailable{LinkEnvironment, err.Error()}
	}
	return named{LinkEnvironment, env}
}

func workloadIdentityLink(cfg Config) azcore.TokenCredential {
	if os.Getenv("AZURE_FEDERATED_TOKEN_FILE") == "" {
		return unavailable{LinkWorkloadIdentity, "AZURE_FEDERATED_TOKEN_FILE is not set"}
	}
	wi, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: cfg.ClientOptions, DisableInstanceDiscovery: true, TenantID: cfg.TenantID,
	})
	if err != nil {
		return unavailable{LinkWorkloadIdentity, err.Error()}
	}
	return named{LinkWorkloadIdentity, wi}
}

// managedIdentityLink: only the endpoints a Tessera node serves. Without
// them azidentity would probe Azure's IMDS address, which a Tessera
// deployment does not serve, and spend a timeout finding that out.
func managedIdentityLink(cfg Config) azcore.TokenCredential {
	if firstEnv("MSI_ENDPOINT", "IDENTITY_ENDPOINT") == "" {
		return unavailable{LinkManagedIdentity, "no managed-identity endpoint: MSI_ENDPOINT and IDENTITY_ENDPOINT are not set (`tessera compute run` sets them; Azure's IMDS address is not probed)"}
	}
	mi, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: cfg.ClientOptions})
	if err != nil {
		return unavailable{LinkManagedIdentity, err.Error()}
	}
	return named{LinkManagedIdentity, mi}
}

func azureCLILink(cfg Config) azcore.TokenCredential {
	cli, err := azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: tenantForCLI(cfg.TenantID)})
	if err != nil {
		return unavailable{LinkAzureCLI, err.Error()}
	}
	return named{LinkAzureCLI, cli}
}

// tenantForCLI: az keeps tenant GUIDs; the adfs alias is not one.
func tenantForCLI(t string) string {
	if t == "adfs" {
		return ""
	}
	return t
}

// browserLink is the guide's fallback: InteractiveBrowserCredential
// against Tessera's sign-in page, with instance discovery off.
func browserLink(cfg Config, o *azidentity.InteractiveBrowserCredentialOptions) (azcore.TokenCredential, error) {
	var bo azidentity.InteractiveBrowserCredentialOptions
	if o != nil {
		bo = *o
	}
	bo.ClientOptions = cfg.ClientOptions
	bo.DisableInstanceDiscovery = true
	if bo.TenantID == "" {
		bo.TenantID = cfg.TenantID
		if bo.TenantID == "adfs" {
			// A user signs in to their home tenant; "organizations" finds it
			// from the account, as it does for Python's default.
			bo.TenantID = "organizations"
		}
	}
	return azidentity.NewInteractiveBrowserCredential(&bo)
}

// cacheLink reads the `tessera login` token cache. It looks for the cache
// at each request, so a program started before `tessera login` sees it.
// Missing or stale sign-ins are "unavailable" (the next link is tried);
// other failures (the server unreachable) stop the chain.
type cacheLink struct {
	path, url string
	mu        sync.Mutex
	cred      *CacheCredential
}

func newCacheLink(cfg Config, path string) azcore.TokenCredential {
	if path == "" {
		p, err := CachePath()
		if err != nil {
			return unavailable{LinkLoginCache, err.Error()}
		}
		path = p
	}
	return &cacheLink{path: path, url: cfg.URL}
}

func (l *cacheLink) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	l.mu.Lock()
	cred := l.cred
	if cred == nil {
		c, err := LoadCache(l.path)
		switch {
		case errors.Is(err, ErrNotLoggedIn):
			l.mu.Unlock()
			return azcore.AccessToken{}, unavailableErr(LinkLoginCache, "not logged in: no token cache at "+l.path+" (run `tessera login`)")
		case err != nil:
			l.mu.Unlock()
			return azcore.AccessToken{}, unavailableErr(LinkLoginCache, err.Error())
		case !sameResource(c.URL, l.url):
			l.mu.Unlock()
			return azcore.AccessToken{}, unavailableErr(LinkLoginCache, fmt.Sprintf("the token cache at %s is a sign-in to %s, not to %s", l.path, c.URL, l.url))
		}
		if cred, err = NewCacheCredential(l.path, nil); err != nil {
			l.mu.Unlock()
			return azcore.AccessToken{}, unavailableErr(LinkLoginCache, err.Error())
		}
		l.cred = cred
	}
	l.mu.Unlock()
	tok, err := cred.GetToken(ctx, opts)
	if err == nil {
		return tok, nil
	}
	var te *TokenError
	switch {
	case errors.Is(err, ErrNotLoggedIn):
		return tok, unavailableErr(LinkLoginCache, "not logged in: the token cache "+l.path+" was removed (run `tessera login`)")
	case errors.As(err, &te) && (te.Code == "invalid_grant" || te.Code == "interaction_required" || te.Code == "invalid_client"):
		return tok, unavailableErr(LinkLoginCache, "the cached sign-in is no longer valid ("+te.Error()+"): run `tessera login` again")
	}
	return tok, fmt.Errorf("%s: %w", LinkLoginCache, err)
}

// defaultCredential is the chain plus the optional browser fallback.
type defaultCredential struct {
	chain    *azidentity.ChainedTokenCredential
	fallback azcore.TokenCredential
	cfg      Config

	mu          sync.Mutex
	useFallback bool
}

// GetToken implements azcore.TokenCredential.
func (d *defaultCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	d.mu.Lock()
	useFallback := d.useFallback
	d.mu.Unlock()
	if !useFallback {
		tok, err := d.chain.GetToken(ctx, opts)
		if err == nil {
			return tok, nil
		}
		if d.fallback == nil || ctx.Err() != nil {
			return tok, d.wrap(err)
		}
		// The guide's pattern: whatever made the chain fail, sign in
		// interactively from now on.
		d.mu.Lock()
		d.useFallback = true
		d.mu.Unlock()
		tok, ferr := d.fallback.GetToken(ctx, opts)
		if ferr != nil {
			return tok, d.wrap(fmt.Errorf("%w\nthen the fallback: %s: %w", err, LinkBrowser, ferr))
		}
		return tok, nil
	}
	tok, err := d.fallback.GetToken(ctx, opts)
	if err != nil {
		return tok, d.wrap(fmt.Errorf("%s: %w", LinkBrowser, err))
	}
	return tok, nil
}

func (d *defaultCredential) wrap(err error) error {
	return fmt.Errorf("tessera credential (server %s, tenant %s): %w", d.cfg.URL, d.cfg.TenantID, err)
}

// ManagementToken asks cred for a resource manager token exactly as the
// Azure SDK's resource manager clients will (Tessera's management audience,
// continuous access evaluation on), so that a sign-in it needs happens
// here, once: azidentity keeps separate token caches for CAE and non-CAE
// requests, and an interactive credential asked the other way first would
// prompt again at the first client call. It is the guide's
// credential.get_token("https://management.azure.com/.default") step.
func ManagementToken(ctx context.Context, cred azcore.TokenCredential) (azcore.AccessToken, error) {
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{ManagementAudience + "/.default"}, EnableCAE: true})
}
