package assertion

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tessera-id/tessera/internal/token/tokenerr"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/domain"
)

// Defaults of FederatedOptions.
const (
	DefaultFederatedCacheTTL           = time.Hour
	DefaultFederatedMinRefreshInterval = time.Minute
	DefaultFederatedFetchTimeout       = 10 * time.Second
)

// maxFederatedResponseBytes bounds a discovery document or JWKS body.
const maxFederatedResponseBytes = 1 << 20

// FederatedOptions tune a FederatedVerifier. Zero values select the defaults.
type FederatedOptions struct {
	// CacheTTL is how long an issuer's keys are used before they are fetched
	// again (default 1h).
	CacheTTL time.Duration
	// MinRefreshInterval is the least time between two fetches for the same
	// issuer (default 1m). It throttles the refetch an unknown kid triggers and
	// the retry after a failed fetch, so forged tokens cannot make this server
	// hammer an issuer.
	MinRefreshInterval time.Duration
	// FetchTimeout bounds one discovery + JWKS fetch (default 10s). The fetch
	// is shared by concurrent callers and outlives a caller that gives up; each
	// caller stops waiting when its own context ends.
	FetchTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ClockSkew is tolerated on exp and nbf (default DefaultAssertionClockSkew).
	ClockSkew time.Duration
	// LocalKeys, when set, answers for issuers this server is itself (its
	// compute workload issuer, see LocalWorkloadKeys): their keys are taken
	// from it instead of being fetched.
	LocalKeys func(iss string) ([]jose.JSONWebKey, bool)
}

// FederatedResult is a verified federated assertion and the credential that
// trusts it.
type FederatedResult struct {
	Credential domain.FederatedIdentityCredential
	Issuer     string
	Subject    string
	// JTI is the assertion's jti, empty when the issuer sets none (external
	// issuers need not). Expiry is its exp. A caller keeping a replay store
	// records them as for certificate assertions.
	JTI    string
	Expiry time.Time
}

// FederatedVerifier verifies workload identity federation assertions against
// the signing keys their issuer publishes through OpenID Connect discovery.
// It caches keys per issuer and is safe for concurrent use. Build it with
// NewFederatedVerifier.
type FederatedVerifier struct {
	client *http.Client
	opts   FederatedOptions

	mu      sync.Mutex
	issuers map[string]*federatedIssuer
}

// federatedIssuer is the key cache of one issuer; guarded by FederatedVerifier.mu.
type federatedIssuer struct {
	keys      []jose.JSONWebKey // nil until a fetch succeeded
	fetchedAt time.Time         // last successful fetch
	attempted time.Time         // start of the last fetch
	err       error             // error of the last fetch, nil if it succeeded
	inflight  *federatedFetch
}

// federatedFetch is one fetch that concurrent callers share.
type federatedFetch struct {
	done chan struct{}
	keys []jose.JSONWebKey
	err  error
}

// NewFederatedVerifier returns a verifier that fetches issuer metadata with
// client (http.DefaultClient when nil). The client is copied and its redirect
// policy wrapped so a redirect cannot leave https (see Verify).
func NewFederatedVerifier(client *http.Client, opts FederatedOptions) *FederatedVerifier {
	if client == nil {
		client = http.DefaultClient
	}
	c := *client
	userCheck := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		if len(via) > 0 {
			if err := federatedURLAllowed(req.URL, federatedIsLoopback(via[0].URL)); err != nil {
				return fmt.Errorf("redirect refused: %w", err)
			}
		}
		if userCheck != nil {
			return userCheck(req, via)
		}
		return nil
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = DefaultFederatedCacheTTL
	}
	if opts.MinRefreshInterval <= 0 {
		opts.MinRefreshInterval = DefaultFederatedMinRefreshInterval
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFederatedFetchTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ClockSkew <= 0 {
		opts.ClockSkew = DefaultAssertionClockSkew
	}
	return &FederatedVerifier{client: &c, opts: opts, issuers: map[string]*federatedIssuer{}}
}

// Verify checks a federated client assertion against the application's
// federated identity credentials creds and returns the credential it matched.
//
// The unverified iss picks the candidate credentials (exact comparison after
// trimming one trailing '/' on both sides); only an issuer some credential
// names is ever contacted. Its keys come from <iss>/.well-known/openid-configuration
// (whose issuer must equal iss, same '/' rule, and which must give a jwks_uri)
// and then the JWKS. Both URLs must be https, except that plain http is
// allowed when the host is a loopback address (for local development and
// tests); redirects obey the same rule; bodies are capped at 1 MiB. Keys are
// cached per issuer for CacheTTL. A kid absent from the cache (or, without a
// kid, a signature no cached key verifies) triggers one refetch, at most once
// per MinRefreshInterval per issuer; concurrent callers share a fetch. A
// failed fetch is remembered for MinRefreshInterval too, and keys older than
// CacheTTL are not used when their refresh fails. Keys offered by the token
// header (jwk, jku, x5c, x5u) are never used. After the signature
// (RS/PS/ES 256/384/512; the JWK's use and alg, if set, must allow it), exp
// (required) and nbf are checked with ClockSkew, then the subject and the
// audience are matched, both exactly.
//
// Every error is a *tokenerr.Error. Malformed input fails as Inspect does
// (AADSTS50027, invalid_request); all other failures are invalid_client:
//
//	700211  no credential has the assertion's issuer
//	50166   discovery or JWKS fetch failed, or is refused (not https, issuer
//	        mismatch, no jwks_uri, no usable key, body too large, ctx ended)
//	700027  no key with the assertion's kid, or the signature is invalid
//	700024  exp missing or passed, nbf ahead
//	700213  no credential of that issuer has the assertion's subject
//	700212  none of those credentials lists one of the assertion's audiences
func (v *FederatedVerifier) Verify(ctx context.Context, raw string, creds []domain.FederatedIdentityCredential) (FederatedResult, error) {
	pa, perr := parseAssertion(raw)
	if perr != nil {
		return FederatedResult{}, perr
	}
	iss := pa.info.Issuer
	want := federatedTrimIssuer(iss)
	var candidates []domain.FederatedIdentityCredential
	if want != "" {
		for _, c := range creds {
			if federatedTrimIssuer(c.Issuer) == want {
				candidates = append(candidates, c)
			}
		}
	}
	if len(candidates) == 0 {
		return FederatedResult{}, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700211,
			"No matching federated identity record found for presented assertion issuer '%s'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.",
			assertionPrintable(iss))
	}

	payload, err := v.verifySignature(ctx, pa, iss)
	if err != nil {
		return FederatedResult{}, err
	}
	claims, cerr := decodeAssertionClaims(payload)
	if cerr != nil {
		return FederatedResult{}, errAssertionMalformed(cerr)
	}
	if terr := checkAssertionTimes(claims, v.opts.Now(), v.opts.ClockSkew, 0); terr != nil {
		return FederatedResult{}, terr
	}

	var bySubject []domain.FederatedIdentityCredential
	for _, c := range candidates {
		if c.Subject != "" && c.Subject == claims.Subject {
			bySubject = append(bySubject, c)
		}
	}
	if len(bySubject) == 0 {
		return FederatedResult{}, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700213,
			"No matching federated identity record found for presented assertion subject '%s'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.",
			assertionPrintable(claims.Subject))
	}
	for _, c := range bySubject {
		for _, want := range c.Audiences {
			for _, got := range claims.Audience {
				if want != "" && got == want {
					return FederatedResult{
						Credential: c,
						Issuer:     claims.Issuer,
						Subject:    claims.Subject,
						JTI:        claims.JTI,
						Expiry:     claims.Expiry.Time,
					}, nil
				}
			}
		}
	}
	return FederatedResult{}, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700212,
		"No matching federated identity record found for presented assertion audience '%s'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.",
		assertionPrintable(strings.Join(claims.Audience, ", ")))
}

// verifySignature verifies pa with the issuer's keys, refreshing them once
// (subject to MinRefreshInterval) when none fits.
func (v *FederatedVerifier) verifySignature(ctx context.Context, pa *parsedAssertion, iss string) ([]byte, error) {
	keys, err := v.issuerKeys(ctx, iss, false)
	if err != nil {
		return nil, errFederatedFetch(err)
	}
	payload, found, verr := federatedTryKeys(pa, keys)
	if payload != nil {
		return payload, nil
	}
	// With a kid, refresh only when the kid is unknown (a known kid with a bad
	// signature is just a bad signature). Without a kid, any failure may be a
	// rotation.
	if !found || pa.header.KeyID == "" {
		fresh, ferr := v.issuerKeys(ctx, iss, true)
		if ferr != nil {
			return nil, errFederatedFetch(ferr)
		}
		payload, found, verr = federatedTryKeys(pa, fresh)
		if payload != nil {
			return payload, nil
		}
	}
	if !found {
		return nil, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700027,
			"Client assertion failed signature validation. [Reason - The key was not found., Key identifier of key used by issuer: '%s', Issuer: '%s']",
			assertionPrintable(pa.header.KeyID), assertionPrintable(iss))
	}
	return nil, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700027,
		"Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Key identifier of key used by issuer: '%s', Issuer: '%s']",
		assertionPrintable(pa.header.KeyID), assertionPrintable(iss)).WithCause(verr)
}

// federatedTryKeys verifies pa with the keys that may have signed it: those
// with its kid (all keys when it has none) whose type, use and alg fit. found
// reports whether there was any such key.
func federatedTryKeys(pa *parsedAssertion, keys []jose.JSONWebKey) (payload []byte, found bool, err error) {
	kid := pa.header.KeyID
	alg := pa.header.Algorithm
	for i := range keys {
		k := &keys[i]
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey:
			if !strings.HasPrefix(alg, "RS") && !strings.HasPrefix(alg, "PS") {
				continue
			}
		case *ecdsa.PublicKey:
			if !strings.HasPrefix(alg, "ES") {
				continue
			}
		default:
			continue
		}
		found = true
		p, verr := pa.jws.Verify(k.Key)
		if verr == nil {
			return p, true, nil
		}
		err = verr
	}
	return nil, found, err
}

func errFederatedFetch(cause error) *tokenerr.Error {
	return tokenerr.Errorf(tokenerr.ErrInvalidClient, 50166, "Request to External OIDC endpoint failed.").WithCause(cause)
}

// issuerKeys returns the issuer's keys: from the cache while it is younger
// than CacheTTL (unless refresh is asked), else from a fetch, shared with any
// fetch already running. Fetches for one issuer start at most once per
// MinRefreshInterval; in between, the cached keys (possibly stale) or the last
// fetch error are returned.
func (v *FederatedVerifier) issuerKeys(ctx context.Context, iss string, refresh bool) ([]jose.JSONWebKey, error) {
	if v.opts.LocalKeys != nil {
		if keys, ok := v.opts.LocalKeys(iss); ok {
			return keys, nil
		}
	}
	name := federatedTrimIssuer(iss)
	v.mu.Lock()
	st := v.issuers[name]
	if st == nil {
		st = &federatedIssuer{}
		v.issuers[name] = st
	}
	call := st.inflight
	if call == nil {
		now := v.opts.Now()
		fresh := st.keys != nil && now.Sub(st.fetchedAt) < v.opts.CacheTTL
		if fresh && !refresh {
			keys := st.keys
			v.mu.Unlock()
			return keys, nil
		}
		if !st.attempted.IsZero() && now.Sub(st.attempted) < v.opts.MinRefreshInterval {
			keys, err := st.keys, st.err
			v.mu.Unlock()
			if fresh || err == nil {
				return keys, nil
			}
			return nil, err
		}
		call = &federatedFetch{done: make(chan struct{})}
		st.inflight = call
		st.attempted = now
		// The fetch must not die with the caller that happened to start it:
		// others may be waiting on it. It keeps ctx's values, not its deadline.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.opts.FetchTimeout)
		go func() {
			defer cancel()
			keys, err := v.fetch(fctx, iss)
			v.mu.Lock()
			st.inflight = nil
			if err == nil {
				st.keys, st.fetchedAt, st.err = keys, v.opts.Now(), nil
			} else {
				st.err = err
			}
			call.keys, call.err = keys, err
			v.mu.Unlock()
			close(call.done)
		}()
	}
	v.mu.Unlock()

	select {
	case <-call.done:
		if call.err != nil {
			return nil, call.err
		}
		return call.keys, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// federatedDiscovery is the part of an OpenID provider configuration used here.
type federatedDiscovery struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// fetch reads the issuer's discovery document and JWKS and returns the
// public RSA and EC signing keys it can use.
func (v *FederatedVerifier) fetch(ctx context.Context, iss string) ([]jose.JSONWebKey, error) {
	issURL, err := url.Parse(iss)
	if err != nil {
		return nil, fmt.Errorf("issuer %q is not a URL: %w", iss, err)
	}
	if issURL.RawQuery != "" || issURL.Fragment != "" || issURL.User != nil {
		return nil, fmt.Errorf("issuer %q must not carry a query, fragment or user info", iss)
	}
	loopback := federatedIsLoopback(issURL)
	if err := federatedURLAllowed(issURL, loopback); err != nil {
		return nil, err
	}

	var doc federatedDiscovery
	discovery := strings.TrimSuffix(iss, "/") + "/.well-known/openid-configuration"
	if err := v.getJSON(ctx, discovery, &doc); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if federatedTrimIssuer(doc.Issuer) != federatedTrimIssuer(iss) {
		return nil, fmt.Errorf("discovery document issuer %q does not match %q", doc.Issuer, iss)
	}
	if doc.JWKSURI == "" {
		return nil, errors.New("discovery document has no jwks_uri")
	}
	jwksURL, err := url.Parse(doc.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("jwks_uri %q is not a URL: %w", doc.JWKSURI, err)
	}
	if err := federatedURLAllowed(jwksURL, loopback); err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}

	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := v.getJSON(ctx, jwksURL.String(), &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, rawKey := range set.Keys {
		// Keys go-jose cannot read (unknown kty, odd parameters) are skipped
		// rather than failing the whole set, as issuers publish such keys.
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(rawKey); err != nil {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
		default:
			continue // private, symmetric or unsupported key types
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks holds no usable RSA or EC signing key")
	}
	return keys, nil
}

// getJSON GETs u and decodes a JSON body of at most 1 MiB into out.
func (v *FederatedVerifier) getJSON(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFederatedResponseBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > maxFederatedResponseBytes {
		return fmt.Errorf("GET %s: body larger than %d bytes", u, maxFederatedResponseBytes)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// federatedURLAllowed accepts https URLs, and http ones when allowHTTP and
// the host is a loopback address.
func federatedURLAllowed(u *url.URL, allowHTTP bool) error {
	if u.Host == "" {
		return fmt.Errorf("%q has no host", u.Redacted())
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowHTTP && federatedIsLoopback(u) {
			return nil
		}
	}
	return fmt.Errorf("%q is not https", u.Redacted())
}

// federatedIsLoopback reports whether u's host is a loopback IP or localhost.
func federatedIsLoopback(u *url.URL) bool {
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// federatedTrimIssuer drops one trailing '/', the only difference tolerated
// between issuer spellings.
func federatedTrimIssuer(s string) string {
	return strings.TrimSuffix(s, "/")
}
