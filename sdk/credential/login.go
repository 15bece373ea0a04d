package credential

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// AzureCLIClientID is the public client `tessera login` signs in as: the
// Azure CLI's, a first-party client every Tessera tenant accepts, so that
// the refresh token is a family (FOCI) token like az's.
const AzureCLIClientID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"

// ClientSKU names this SDK in the x-client-SKU parameter of its sign-in
// requests, as MSAL names itself ("MSAL.Python"). Tessera's sign-in page
// uses it to name Tessera's CLI rather than the Azure CLI, whose client id
// the login shares.
const ClientSKU = "Tessera.Go"

// LoginOptions say where and as what to sign in.
type LoginOptions struct {
	// URL is Tessera's base URL (required).
	URL string
	// Tenant is the tenant segment (default "organizations").
	Tenant string
	// ClientID defaults to AzureCLIClientID.
	ClientID string
	// CAFile is a PEM bundle to trust besides the system roots.
	CAFile string
	// Scope is what the first token is for (default the resource manager).
	Scope string
	// HTTPClient overrides the client built from CAFile.
	HTTPClient *http.Client
}

func (o *LoginOptions) resolve() error {
	o.URL = strings.TrimRight(o.URL, "/")
	if o.URL == "" {
		return errors.New("no Tessera URL: pass --url or set TESSERA_URL")
	}
	if o.Tenant == "" {
		o.Tenant = "organizations"
	}
	if o.ClientID == "" {
		o.ClientID = AzureCLIClientID
	}
	if o.Scope == "" {
		o.Scope = ManagementAudience + ".default"
	}
	if o.HTTPClient == nil {
		c, err := httpClient(o.CAFile)
		if err != nil {
			return err
		}
		o.HTTPClient = c
	}
	return nil
}

func (o *LoginOptions) endpoint(name string) string {
	return o.URL + "/" + o.Tenant + "/oauth2/v2.0/" + name
}

func httpClient(caFile string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no certificate", caFile)
		}
	}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Proxy: http.ProxyFromEnvironment,
	}}, nil
}

// userScope is what a user sign-in asks for: the resource plus the OpenID
// scopes that bring the id_token and the refresh token.
func userScope(scope string) string { return scope + " openid profile offline_access" }

// cacheFor builds the cache of a user sign-in from its token response.
func (o *LoginOptions) cacheFor(tr *tokenResponse) (*Cache, error) {
	c := &Cache{Version: 1, URL: o.URL, Authority: o.Tenant, ClientID: o.ClientID, CAFile: o.CAFile, RefreshToken: tr.RefreshToken}
	id := jwtClaims(tr.IDToken)
	if id == nil {
		return nil, errors.New("the token response has no id_token")
	}
	name, _ := id["preferred_username"].(string)
	if name == "" {
		name, _ = id["upn"].(string)
	}
	oid, _ := id["oid"].(string)
	tid, _ := id["tid"].(string)
	c.Account = Account{Type: "user", Name: name, ObjectID: oid, TenantID: tid}
	// Later requests name the tenant by GUID: "organizations" resolves to
	// the same directory, but a GUID keeps working if the host serves more.
	if tid != "" && o.Tenant != "adfs" {
		c.Authority = tid
	}
	now := time.Now()
	c.put(CachedToken{Resource: ResourceOfScope(o.Scope), Token: tr.AccessToken, ExpiresOn: now.Add(time.Duration(tr.ExpiresIn) * time.Second)}, now)
	return c, nil
}

// LoginPassword signs a user in with the password grant (allowed only
// where the tenant enables it).
func LoginPassword(ctx context.Context, o LoginOptions, username, password string) (*Cache, error) {
	if err := o.resolve(); err != nil {
		return nil, err
	}
	tr, err := postToken(ctx, o.HTTPClient, o.endpoint("token"), url.Values{"grant_type": {"password"}, "client_id": {o.ClientID},
		"username": {username}, "password": {password}, "scope": {userScope(o.Scope)}, "client_info": {"1"}})
	if err != nil {
		return nil, err
	}
	return o.cacheFor(tr)
}

// LoginServicePrincipal signs a service principal in with its secret.
func LoginServicePrincipal(ctx context.Context, o LoginOptions, appID, secret string) (*Cache, error) {
	if o.ClientID == "" {
		o.ClientID = appID
	}
	if err := o.resolve(); err != nil {
		return nil, err
	}
	tr, err := postToken(ctx, o.HTTPClient, o.endpoint("token"), url.Values{"grant_type": {"client_credentials"},
		"client_id": {appID}, "client_secret": {secret}, "scope": {o.Scope}})
	if err != nil {
		return nil, err
	}
	at := jwtClaims(tr.AccessToken)
	oid, _ := at["oid"].(string)
	tid, _ := at["tid"].(string)
	now := time.Now()
	c := &Cache{Version: 1, URL: o.URL, Authority: o.Tenant, ClientID: appID, CAFile: o.CAFile, ClientSecret: secret,
		Account: Account{Type: "servicePrincipal", Name: appID, ObjectID: oid, TenantID: tid}}
	if tid != "" && o.Tenant != "adfs" {
		c.Authority = tid
	}
	c.put(CachedToken{Resource: ResourceOfScope(o.Scope), Token: tr.AccessToken, ExpiresOn: now.Add(time.Duration(tr.ExpiresIn) * time.Second)}, now)
	return c, nil
}

// LoginDeviceCode signs a user in with the device code flow; prompt is
// given the message to show (the URL and the code).
func LoginDeviceCode(ctx context.Context, o LoginOptions, prompt func(message string)) (*Cache, error) {
	if err := o.resolve(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.endpoint("devicecode"),
		strings.NewReader(url.Values{"client_id": {o.ClientID}, "scope": {userScope(o.Scope)}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var da struct {
		DeviceCode string `json:"device_code"`
		Message    string `json:"message"`
		Interval   int    `json:"interval"`
		ExpiresIn  int    `json:"expires_in"`
	}
	if resp.StatusCode != http.StatusOK {
		te := &TokenError{Status: resp.StatusCode}
		_ = json.NewDecoder(resp.Body).Decode(te)
		return nil, te
	}
	if err := json.NewDecoder(resp.Body).Decode(&da); err != nil {
		return nil, err
	}
	prompt(da.Message)
	interval := time.Duration(max(da.Interval, 1)) * time.Second
	deadline := time.Now().Add(time.Duration(da.ExpiresIn) * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(interval):
		}
		tr, err := postToken(ctx, o.HTTPClient, o.endpoint("token"), url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {o.ClientID},
			"device_code": {da.DeviceCode}, "client_info": {"1"}})
		var te *TokenError
		switch {
		case err == nil:
			return o.cacheFor(tr)
		case errors.As(err, &te) && te.Code == "authorization_pending":
		case errors.As(err, &te) && te.Code == "slow_down":
			interval += 5 * time.Second // RFC 8628 §3.5
		default:
			return nil, err
		}
	}
	return nil, errors.New("the device code expired before the sign-in was approved")
}

// LoginBrowser signs a user in through the browser: the authorization code
// flow with PKCE and a loopback redirect (RFC 8252) on a free port. open
// shows the URL to the person (opens a browser, or prints it).
func LoginBrowser(ctx context.Context, o LoginOptions, open func(authURL string) error) (*Cache, error) {
	if err := o.resolve(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	redirect := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	verifier, challenge := pkcePair()
	state, nonce := randomString(), randomString()
	q := url.Values{"client_id": {o.ClientID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {userScope(o.Scope)}, "state": {state}, "nonce": {nonce}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}, "prompt": {"select_account"}, "client_info": {"1"},
		"x-client-SKU": {ClientSKU}}
	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		p := r.URL.Query()
		var res result
		switch {
		case subtle.ConstantTimeCompare([]byte(p.Get("state")), []byte(state)) != 1:
			res.err = errors.New("the sign-in response does not match this login (state mismatch)")
		case p.Get("error") != "":
			res.err = &TokenError{Code: p.Get("error"), Description: p.Get("error_description")}
		default:
			res.code = p.Get("code")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "<!DOCTYPE html><title>Tessera</title><p>Sign-in failed. Return to the terminal for details.</p>")
		} else {
			fmt.Fprint(w, "<!DOCTYPE html><title>Tessera</title><p>Signed in. You can close this window and return to the terminal.</p>")
		}
		select {
		case done <- res:
		default:
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if err := open(o.endpoint("authorize") + "?" + q.Encode()); err != nil {
		return nil, err
	}
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if res.err != nil {
		return nil, res.err
	}
	tr, err := postToken(ctx, o.HTTPClient, o.endpoint("token"), url.Values{"grant_type": {"authorization_code"},
		"client_id": {o.ClientID}, "code": {res.code}, "redirect_uri": {redirect}, "code_verifier": {verifier},
		"scope": {userScope(o.Scope)}, "client_info": {"1"}})
	if err != nil {
		return nil, err
	}
	if id := jwtClaims(tr.IDToken); id == nil || id["nonce"] != nonce {
		return nil, errors.New("the id_token does not carry this login's nonce")
	}
	return o.cacheFor(tr)
}

func pkcePair() (verifier, challenge string) {
	verifier = randomString() + randomString()
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
