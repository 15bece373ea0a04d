package credential

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// The token cache of `tessera login`: one signed-in account per file,
// written with mode 0600 in a 0700 directory ($TESSERA_CONFIG_DIR, default
// ~/.tessera/tokens.json). It keeps the refresh token (or, for a service
// principal, its secret, as az keeps service_principal_entries.json) and the
// access tokens issued so far. CacheCredential reads it, so Go programs and
// every later `tessera` verb act as whoever signed in.

// CacheFileName is the cache's file name inside the config directory.
const CacheFileName = "tokens.json"

// ConfigDir is where the CLI keeps its files.
func ConfigDir() (string, error) {
	if d := os.Getenv("TESSERA_CONFIG_DIR"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home directory (set TESSERA_CONFIG_DIR): %w", err)
	}
	return filepath.Join(home, ".tessera"), nil
}

// CachePath is the token cache file.
func CachePath() (string, error) {
	d, err := ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, CacheFileName), nil
}

// Account is who signed in.
type Account struct {
	// Type is "user" or "servicePrincipal".
	Type string `json:"type"`
	// Name is the user principal name, or the service principal's app id.
	Name     string `json:"name"`
	ObjectID string `json:"objectId,omitempty"`
	TenantID string `json:"tenantId"`
}

// CachedToken is an access token for one resource.
type CachedToken struct {
	Resource  string    `json:"resource"`
	Token     string    `json:"accessToken"`
	ExpiresOn time.Time `json:"expiresOn"`
}

// Cache is the content of the cache file.
type Cache struct {
	Version int `json:"version"`
	// URL is Tessera's base URL; Authority the tenant segment signed in
	// through (a GUID, "organizations" or "adfs").
	URL          string        `json:"url"`
	Authority    string        `json:"authority"`
	ClientID     string        `json:"clientId"`
	CAFile       string        `json:"caFile,omitempty"`
	Account      Account       `json:"account"`
	RefreshToken string        `json:"refreshToken,omitempty"`
	ClientSecret string        `json:"clientSecret,omitempty"`
	AccessTokens []CachedToken `json:"accessTokens"`
	// Subscription is the default subscription `tessera account set` chose.
	Subscription string `json:"subscription,omitempty"`
}

// ErrNotLoggedIn: there is no cache file.
var ErrNotLoggedIn = errors.New("not logged in: run `tessera login`")

// LoadCache reads the cache file at path.
func LoadCache(path string) (*Cache, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotLoggedIn
	}
	if err != nil {
		return nil, err
	}
	var c Cache
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read token cache %s: %w", path, err)
	}
	return &c, nil
}

// Save writes the cache atomically (a reader never sees half a file) with
// mode 0600, creating its directory with 0700.
func (c *Cache) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tokens-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// token returns a cached access token for resource valid for 5 more minutes.
func (c *Cache) token(resource string, now time.Time) (CachedToken, bool) {
	for _, t := range c.AccessTokens {
		if sameResource(t.Resource, resource) && now.Add(5*time.Minute).Before(t.ExpiresOn) {
			return t, true
		}
	}
	return CachedToken{}, false
}

func (c *Cache) put(t CachedToken, now time.Time) {
	out := c.AccessTokens[:0]
	for _, old := range c.AccessTokens {
		if !sameResource(old.Resource, t.Resource) && now.Before(old.ExpiresOn) {
			out = append(out, old)
		}
	}
	c.AccessTokens = append(out, t)
}

func sameResource(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}

// ResourceOfScope turns "<resource>/.default" into the resource.
func ResourceOfScope(scope string) string {
	if r, ok := strings.CutSuffix(scope, "/.default"); ok {
		return r
	}
	return scope
}

// CacheCredential is an azcore.TokenCredential that answers from the token
// cache of `tessera login`, refreshing through the token endpoint when the
// cached access token is missing or about to expire.
type CacheCredential struct {
	path string
	http *http.Client
	now  func() time.Time
	mu   sync.Mutex
}

// NewCacheCredential returns a credential over the cache at path ("" for
// CachePath). client reaches Tessera (nil: one trusting the cache's CA file).
func NewCacheCredential(path string, client *http.Client) (*CacheCredential, error) {
	if path == "" {
		var err error
		if path, err = CachePath(); err != nil {
			return nil, err
		}
	}
	c, err := LoadCache(path)
	if err != nil {
		return nil, err
	}
	if client == nil {
		if client, err = httpClient(c.CAFile); err != nil {
			return nil, err
		}
	}
	return &CacheCredential{path: path, http: client, now: time.Now}, nil
}

// GetToken implements azcore.TokenCredential.
func (cc *CacheCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if len(opts.Scopes) != 1 {
		return azcore.AccessToken{}, fmt.Errorf("tessera token cache: want exactly one scope, got %v", opts.Scopes)
	}
	resource := ResourceOfScope(opts.Scopes[0])
	cc.mu.Lock()
	defer cc.mu.Unlock()
	// Another process (a second tessera verb, a Go program) may refresh at
	// the same time: refresh tokens rotate, and presenting a spent one
	// revokes the sign-in, so refreshes are serialised by a file lock and
	// the cache is re-read under it.
	unlock, err := lockFile(cc.path + ".lock")
	if err != nil {
		return azcore.AccessToken{}, err
	}
	defer unlock()
	c, err := LoadCache(cc.path)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	now := cc.now()
	if t, ok := c.token(resource, now); ok {
		return azcore.AccessToken{Token: t.Token, ExpiresOn: t.ExpiresOn}, nil
	}
	tr, err := c.redeem(ctx, cc.http, resource, opts.Scopes[0])
	if err != nil {
		return azcore.AccessToken{}, err
	}
	t := CachedToken{Resource: resource, Token: tr.AccessToken, ExpiresOn: now.Add(time.Duration(tr.ExpiresIn) * time.Second)}
	c.put(t, now)
	if tr.RefreshToken != "" {
		c.RefreshToken = tr.RefreshToken
	}
	if err := c.Save(cc.path); err != nil {
		return azcore.AccessToken{}, fmt.Errorf("save token cache: %w", err)
	}
	return azcore.AccessToken{Token: t.Token, ExpiresOn: t.ExpiresOn}, nil
}

// redeem gets a new access token for scope: the refresh token grant for a
// user, client credentials for a service principal.
func (c *Cache) redeem(ctx context.Context, client *http.Client, resource, scope string) (*tokenResponse, error) {
	form := url.Values{"client_id": {c.ClientID}, "scope": {scope}}
	switch {
	case c.RefreshToken != "":
		form.Set("grant_type", "refresh_token")
		form.Set("refresh_token", c.RefreshToken)
		form.Set("scope", scope+" openid profile offline_access")
		form.Set("client_info", "1")
	case c.ClientSecret != "":
		form.Set("grant_type", "client_credentials")
		form.Set("client_secret", c.ClientSecret)
	default:
		return nil, errors.New("the token cache holds no refresh token or secret: run `tessera login`")
	}
	return postToken(ctx, client, c.URL+"/"+c.Authority+"/oauth2/v2.0/token", form)
}

// tokenResponse is the part of a token response the CLI reads.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	ClientInfo   string `json:"client_info"`
}

// TokenError is an error answer of the token endpoint.
type TokenError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
	ErrorCodes  []int  `json:"error_codes"`
}

func (e *TokenError) Error() string {
	d := e.Description
	if i := strings.Index(d, "\r\n"); i >= 0 {
		d = d[:i] // drop the trace lines
	}
	return fmt.Sprintf("%s: %s", e.Code, d)
}

func postToken(ctx context.Context, client *http.Client, endpoint string, form url.Values) (*tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		te := &TokenError{Status: resp.StatusCode}
		if err := json.NewDecoder(resp.Body).Decode(te); err != nil || te.Code == "" {
			return nil, fmt.Errorf("token endpoint answered %s", resp.Status)
		}
		return nil, te
	}
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		return nil, fmt.Errorf("decode token response: %w", err)
	}
	if tr.AccessToken == "" {
		return nil, errors.New("the token response has no access_token")
	}
	return &tr, nil
}

// jwtClaims decodes a JWT's payload without verifying it: the CLI reads
// its own id_token (received over TLS from the server it trusts).
func jwtClaims(jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// loggedInURL is the URL (and CA file, unless one is given) of the
// `tessera login` cache, so that a signed-in shell needs no variables.
func loggedInURL(caFile string) (string, string) {
	path, err := CachePath()
	if err != nil {
		return "", caFile
	}
	c, err := LoadCache(path)
	if err != nil {
		return "", caFile
	}
	if caFile == "" {
		caFile = c.CAFile
	}
	return c.URL, caFile
}
