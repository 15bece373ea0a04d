package assertion

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"github.com/tessera-id/tessera/internal/token/tokenerr"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/domain"
)

// Helpers of this file are prefixed "tf".

const (
	tfSubject  = "repo:contoso/app:environment:production"
	tfAudience = "api://AzureADTokenExchange"
)

// tfClock is a settable clock.
type tfClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tfClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *tfClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// tfKey is a signing key of the test issuer.
type tfKey struct {
	kid string
	alg jose.SignatureAlgorithm
	key any // private key
}

func (k tfKey) public() jose.JSONWebKey {
	var pub any
	switch p := k.key.(type) {
	case *rsa.PrivateKey:
		pub = &p.PublicKey
	case *ecdsa.PrivateKey:
		pub = &p.PublicKey
	}
	return jose.JSONWebKey{Key: pub, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

var (
	tfKeysOnce sync.Once
	tfKeysVal  [3]tfKey
)

// tfKeys returns three issuer keys: RSA k1, EC k2, RSA k3 (for rotation).
func tfKeys(t testing.TB) [3]tfKey {
	t.Helper()
	tfKeysOnce.Do(func() {
		r1, err1 := rsa.GenerateKey(rand.Reader, 2048)
		e2, err2 := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		r3, err3 := rsa.GenerateKey(rand.Reader, 2048)
		if err := errors.Join(err1, err2, err3); err != nil {
			panic(err)
		}
		tfKeysVal = [3]tfKey{
			{kid: "k1", alg: jose.RS256, key: r1},
			{kid: "k2", alg: jose.ES256, key: e2},
			{kid: "k3", alg: jose.PS256, key: r3},
		}
	})
	return tfKeysVal
}

// tfIssuer is an OpenID issuer served by httptest.
type tfIssuer struct {
	srv            *httptest.Server
	discoveryHits  atomic.Int32
	jwksHits       atomic.Int32
	mu             sync.Mutex
	published      []jose.JSONWebKey
	extraJWKS      []json.RawMessage // appended raw to the key set
	docIssuer      *string           // overrides the discovery issuer
	jwksURI        *string           // overrides jwks_uri
	discoveryCode  int               // non-zero: answer discovery with this status
	bigBody        bool              // answer JWKS with more than 1 MiB
	delay          time.Duration     // before answering discovery
	block          chan struct{}     // if set, discovery waits on it
	lastJWKSAccept string
}

func tfNewIssuer(t *testing.T, tls bool, keys ...tfKey) *tfIssuer {
	t.Helper()
	is := &tfIssuer{}
	for _, k := range keys {
		is.published = append(is.published, k.public())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		is.discoveryHits.Add(1)
		is.mu.Lock()
		code, delay, block := is.discoveryCode, is.delay, is.block
		iss, jwks := is.srv.URL, is.srv.URL+"/keys"
		if is.docIssuer != nil {
			iss = *is.docIssuer
		}
		if is.jwksURI != nil {
			jwks = *is.jwksURI
		}
		is.mu.Unlock()
		if block != nil {
			<-block
		}
		time.Sleep(delay)
		if code != 0 {
			http.Error(w, "nope", code)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "jwks_uri": jwks,
			"response_types_supported": []string{"id_token"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		is.jwksHits.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		is.lastJWKSAccept = r.Header.Get("Accept")
		if is.bigBody {
			_, _ = w.Write([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`))
			return
		}
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		for _, k := range is.published {
			b, err := k.MarshalJSON()
			if err != nil {
				panic(err)
			}
			set.Keys = append(set.Keys, b)
		}
		set.Keys = append(set.Keys, is.extraJWKS...)
		_ = json.NewEncoder(w).Encode(set)
	})
	if tls {
		is.srv = httptest.NewTLSServer(mux)
	} else {
		is.srv = httptest.NewServer(mux)
	}
	t.Cleanup(is.srv.Close)
	return is
}

func (is *tfIssuer) publish(keys ...tfKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.published = nil
	for _, k := range keys {
		is.published = append(is.published, k.public())
	}
}

func (is *tfIssuer) set(fn func(is *tfIssuer)) {
	is.mu.Lock()
	defer is.mu.Unlock()
	fn(is)
}

func (is *tfIssuer) hits() (int32, int32) { return is.discoveryHits.Load(), is.jwksHits.Load() }

// tfToken signs a federated token from iss with k at now.
func tfToken(t testing.TB, k tfKey, iss string, now time.Time, mod func(c map[string]any)) string {
	t.Helper()
	c := map[string]any{
		"iss": iss,
		"sub": tfSubject,
		"aud": tfAudience,
		"jti": "4f1d6c4e-0000-4000-8000-000000000001",
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	}
	if mod != nil {
		mod(c)
	}
	h := map[jose.HeaderKey]any{}
	if k.kid != "" {
		h["kid"] = k.kid
	}
	return taSign(t, k.key, k.alg, h, taJSON(t, c))
}

func tfCreds(iss string) []domain.FederatedIdentityCredential {
	return []domain.FederatedIdentityCredential{
		{ID: "fic-other", Name: "other", Issuer: "https://token.actions.githubusercontent.com", Subject: tfSubject, Audiences: []string{tfAudience}},
		{ID: "fic-1", Name: "prod", Issuer: iss, Subject: tfSubject, Audiences: []string{tfAudience}},
	}
}

func tfVerifier(is *tfIssuer, clock *tfClock) *FederatedVerifier {
	return NewFederatedVerifier(is.srv.Client(), FederatedOptions{Now: clock.Now})
}

func tfStart() *tfClock { return &tfClock{t: time.Now().Truncate(time.Second)} }

func TestFederatedVerify(t *testing.T) {
	keys := tfKeys(t)
	k1, k2, k3 := keys[0], keys[1], keys[2]
	is := tfNewIssuer(t, true, k1, k2)
	iss := is.srv.URL
	clock := tfStart()
	now := clock.Now()
	other := tfKey{kid: "k1", alg: jose.RS256, key: k3.key} // k3's key under k1's kid

	cases := []struct {
		name    string
		token   string
		creds   []domain.FederatedIdentityCredential
		code    int
		oauth   string
		inDescr string
		credID  string
	}{
		{name: "RS256", token: tfToken(t, k1, iss, now, nil), credID: "fic-1"},
		{name: "ES256", token: tfToken(t, k2, iss, now, nil), credID: "fic-1"},
		{name: "no kid", token: tfToken(t, tfKey{alg: jose.ES256, key: k2.key}, iss, now, nil), credID: "fic-1"},
		{name: "token issuer with trailing slash", token: tfToken(t, k1, iss+"/", now, nil), credID: "fic-1"},
		{name: "credential issuer with trailing slash", token: tfToken(t, k1, iss, now, nil), creds: tfCreds(iss + "/"), credID: "fic-1"},
		{name: "audience array", token: tfToken(t, k1, iss, now, func(c map[string]any) { c["aud"] = []string{"x", tfAudience} }), credID: "fic-1"},
		{
			name:   "second credential of the issuer matches",
			token:  tfToken(t, k1, iss, now, func(c map[string]any) { c["sub"] = "repo:contoso/app:ref:refs/heads/main" }),
			creds:  append(tfCreds(iss), domain.FederatedIdentityCredential{ID: "fic-main", Issuer: iss, Subject: "repo:contoso/app:ref:refs/heads/main", Audiences: []string{tfAudience}}),
			credID: "fic-main",
		},
		{name: "fractional dates", token: tfToken(t, k1, iss, now, func(c map[string]any) {
			c["exp"] = float64(now.Unix()+600) + 0.25
			c["iat"] = float64(now.Unix()) + 0.25
		}), credID: "fic-1"},
		{name: "issuer not federated", token: tfToken(t, k1, "https://evil.example", now, nil), code: 700211, oauth: tokenerr.ErrInvalidClient, inDescr: "'https://evil.example'"},
		{name: "issuer differs in case", token: tfToken(t, k1, strings.ToUpper(iss), now, nil), code: 700211, oauth: tokenerr.ErrInvalidClient},
		{name: "issuer missing", token: tfToken(t, k1, iss, now, func(c map[string]any) { delete(c, "iss") }), code: 700211, oauth: tokenerr.ErrInvalidClient},
		{name: "no credentials", token: tfToken(t, k1, iss, now, nil), creds: []domain.FederatedIdentityCredential{}, code: 700211, oauth: tokenerr.ErrInvalidClient},
		{name: "subject mismatch", token: tfToken(t, k1, iss, now, func(c map[string]any) { c["sub"] = "repo:contoso/app:pull_request" }), code: 700213, oauth: tokenerr.ErrInvalidClient, inDescr: "'repo:contoso/app:pull_request'"},
		{name: "subject differs in case", token: tfToken(t, k1, iss, now, func(c map[string]any) { c["sub"] = strings.ToUpper(tfSubject) }), code: 700213, oauth: tokenerr.ErrInvalidClient},
		{name: "audience mismatch", token: tfToken(t, k1, iss, now, func(c map[string]any) { c["aud"] = "api://other" }), code: 700212, oauth: tokenerr.ErrInvalidClient, inDescr: "'api://other'"},
		{name: "no audience", token: tfToken(t, k1, iss, now, func(c map[string]any) { delete(c, "aud") }), code: 700212, oauth: tokenerr.ErrInvalidClient},
		{name: "expired", token: tfToken(t, k1, iss, now, func(c map[string]any) {
			c["nbf"], c["iat"] = now.Add(-time.Hour).Unix(), now.Add(-time.Hour).Unix()
			c["exp"] = now.Add(-10 * time.Minute).Unix()
		}), code: 700024, oauth: tokenerr.ErrInvalidClient},
		{name: "expired within skew", token: tfToken(t, k1, iss, now, func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix(); c["nbf"] = now.Add(-time.Hour).Unix() }), credID: "fic-1"},
		{name: "not yet valid", token: tfToken(t, k1, iss, now, func(c map[string]any) {
			c["nbf"] = now.Add(10 * time.Minute).Unix()
			c["exp"] = now.Add(time.Hour).Unix()
		}), code: 700024, oauth: tokenerr.ErrInvalidClient},
		{name: "no exp", token: tfToken(t, k1, iss, now, func(c map[string]any) { delete(c, "exp") }), code: 700024, oauth: tokenerr.ErrInvalidClient},
		{name: "long-lived token is the issuer's business", token: tfToken(t, k1, iss, now, func(c map[string]any) { c["exp"] = now.Add(12 * time.Hour).Unix() }), credID: "fic-1"},
		{name: "bad signature under a known kid", token: tfToken(t, other, iss, now, nil), code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "invalid signature"},
		{name: "ES256 header under an RSA kid", token: tfToken(t, tfKey{kid: "k1", alg: jose.ES256, key: k2.key}, iss, now, nil), code: 700027, oauth: tokenerr.ErrInvalidClient, inDescr: "not found"},
		{name: "alg none", token: taUnsigned(`{"alg":"none","kid":"k1"}`, `{"iss":"`+iss+`"}`, ""), code: 50027, oauth: tokenerr.ErrInvalidRequest},
		{name: "garbage", token: "garbage", code: 50027, oauth: tokenerr.ErrInvalidRequest},
	}
	v := tfVerifier(is, clock)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			creds := c.creds
			if creds == nil {
				creds = tfCreds(iss)
			}
			res, err := v.Verify(context.Background(), c.token, creds)
			if c.code != 0 {
				te := taWantError(t, err, c.code, c.oauth)
				if c.inDescr != "" && !strings.Contains(te.Message, c.inDescr) {
					t.Errorf("description %q lacks %q", te.Message, c.inDescr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if res.Credential.ID != c.credID || res.Subject == "" || res.Issuer == "" ||
				res.JTI != "4f1d6c4e-0000-4000-8000-000000000001" || res.Expiry.Before(now.Add(-5*time.Minute)) {
				t.Errorf("unexpected result %+v", res)
			}
		})
	}
	if d, j := is.hits(); d != 1 || j != 1 {
		t.Errorf("fetches: discovery %d, jwks %d; want one each (keys cached)", d, j)
	}
	is.mu.Lock()
	accept := is.lastJWKSAccept
	is.mu.Unlock()
	if accept != "application/json" {
		t.Errorf("Accept %q", accept)
	}
}

func TestFederatedIssuerNotFetchedUnlessTrusted(t *testing.T) {
	keys := tfKeys(t)
	is := tfNewIssuer(t, true, keys[0])
	clock := tfStart()
	v := tfVerifier(is, clock)
	// The token names the test server as issuer, but no credential trusts it.
	_, err := v.Verify(context.Background(), tfToken(t, keys[0], is.srv.URL, clock.Now(), nil),
		[]domain.FederatedIdentityCredential{{Issuer: "https://token.actions.githubusercontent.com", Subject: tfSubject, Audiences: []string{tfAudience}}})
	taWantError(t, err, 700211, tokenerr.ErrInvalidClient)
	if d, j := is.hits(); d != 0 || j != 0 {
		t.Errorf("untrusted issuer contacted: %d %d", d, j)
	}
}

func TestFederatedCache(t *testing.T) {
	keys := tfKeys(t)
	is := tfNewIssuer(t, true, keys[0])
	clock := tfStart()
	v := NewFederatedVerifier(is.srv.Client(), FederatedOptions{Now: clock.Now, CacheTTL: 30 * time.Minute})
	verify := func() {
		t.Helper()
		if _, err := v.Verify(context.Background(), tfToken(t, keys[0], is.srv.URL, clock.Now(), nil), tfCreds(is.srv.URL)); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		verify()
	}
	if d, j := is.hits(); d != 1 || j != 1 {
		t.Fatalf("fetches %d/%d, want 1/1", d, j)
	}
	clock.Advance(29 * time.Minute)
	verify()
	if d, j := is.hits(); d != 1 || j != 1 {
		t.Fatalf("fetches %d/%d before TTL, want 1/1", d, j)
	}
	clock.Advance(2 * time.Minute)
	verify()
	verify()
	if d, j := is.hits(); d != 2 || j != 2 {
		t.Fatalf("fetches %d/%d after TTL, want 2/2", d, j)
	}
}

func TestFederatedKeyRotation(t *testing.T) {
	keys := tfKeys(t)
	k1, k3 := keys[0], keys[2]
	is := tfNewIssuer(t, true, k1)
	clock := tfStart()
	v := tfVerifier(is, clock)
	ctx := context.Background()
	if _, err := v.Verify(ctx, tfToken(t, k1, is.srv.URL, clock.Now(), nil), tfCreds(is.srv.URL)); err != nil {
		t.Fatal(err)
	}
	// The issuer rotates to k3; a token with the new kid arrives well within
	// the cache TTL but after MinRefreshInterval.
	is.publish(k3)
	clock.Advance(2 * time.Minute)
	if _, err := v.Verify(ctx, tfToken(t, k3, is.srv.URL, clock.Now(), nil), tfCreds(is.srv.URL)); err != nil {
		t.Fatalf("rotated key not picked up: %v", err)
	}
	if d, j := is.hits(); d != 2 || j != 2 {
		t.Fatalf("fetches %d/%d, want 2/2", d, j)
	}
	// k1 is gone from the issuer: its tokens now fail (known-kid lookups do
	// not refetch, unknown ones are throttled).
	_, err := v.Verify(ctx, tfToken(t, k1, is.srv.URL, clock.Now(), nil), tfCreds(is.srv.URL))
	taWantError(t, err, 700027, tokenerr.ErrInvalidClient)
	if d, j := is.hits(); d != 2 || j != 2 {
		t.Fatalf("fetches %d/%d, want 2/2 (throttled)", d, j)
	}
}

func TestFederatedRefetchRateLimit(t *testing.T) {
	keys := tfKeys(t)
	k1, k3 := keys[0], keys[2]
	is := tfNewIssuer(t, true, k1)
	clock := tfStart()
	v := NewFederatedVerifier(is.srv.Client(), FederatedOptions{Now: clock.Now, MinRefreshInterval: time.Minute})
	ctx := context.Background()
	creds := tfCreds(is.srv.URL)
	unknown := func(kid string) {
		t.Helper()
		_, err := v.Verify(ctx, tfToken(t, tfKey{kid: kid, alg: jose.PS256, key: k3.key}, is.srv.URL, clock.Now(), nil), creds)
		te := taWantError(t, err, 700027, tokenerr.ErrInvalidClient)
		if !strings.Contains(te.Message, "not found") {
			t.Errorf("description %q", te.Message)
		}
	}
	want := func(d, j int32) {
		t.Helper()
		if gd, gj := is.hits(); gd != d || gj != j {
			t.Fatalf("fetches %d/%d, want %d/%d", gd, gj, d, j)
		}
	}

	if _, err := v.Verify(ctx, tfToken(t, k1, is.srv.URL, clock.Now(), nil), creds); err != nil {
		t.Fatal(err)
	}
	want(1, 1)
	// Right after a fetch, an unknown kid does not refetch.
	unknown("kx")
	want(1, 1)
	clock.Advance(61 * time.Second)
	unknown("kx") // one refetch
	want(2, 2)
	for _, kid := range []string{"kx", "ky", "kz", "k1000"} {
		unknown(kid) // throttled
	}
	want(2, 2)
	clock.Advance(30 * time.Second)
	unknown("ky")
	want(2, 2)
	clock.Advance(31 * time.Second)
	unknown("ky")
	want(3, 3)
	// Known keys keep working throughout.
	if _, err := v.Verify(ctx, tfToken(t, k1, is.srv.URL, clock.Now(), nil), creds); err != nil {
		t.Fatal(err)
	}
	want(3, 3)
}

func TestFederatedConcurrentFetchShared(t *testing.T) {
	keys := tfKeys(t)
	is := tfNewIssuer(t, true, keys[0], keys[1])
	is.set(func(is *tfIssuer) { is.delay = 100 * time.Millisecond })
	clock := tfStart()
	v := tfVerifier(is, clock)
	tok := tfToken(t, keys[1], is.srv.URL, clock.Now(), nil)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			_, err := v.Verify(context.Background(), tok, tfCreds(is.srv.URL))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if d, j := is.hits(); d != 1 || j != 1 {
		t.Fatalf("fetches %d/%d, want 1/1", d, j)
	}
}

func TestFederatedCallerContext(t *testing.T) {
	keys := tfKeys(t)
	is := tfNewIssuer(t, true, keys[0])
	block := make(chan struct{})
	is.set(func(is *tfIssuer) { is.block = block })
	t.Cleanup(func() { close(block) }) // runs before srv.Close
	clock := tfStart()
	v := tfVerifier(is, clock)
	tok := tfToken(t, keys[0], is.srv.URL, clock.Now(), nil)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := v.Verify(ctx, tok, tfCreds(is.srv.URL))
	taWantError(t, err, 50166, tokenerr.ErrInvalidClient)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cause %v", err)
	}

	// The shared fetch outlives the caller that started it: once the issuer
	// answers, a new caller joins it instead of fetching again.
	is.set(func(is *tfIssuer) { is.block = nil })
	go func() { time.Sleep(20 * time.Millisecond); block <- struct{}{} }()
	if _, err := v.Verify(context.Background(), tok, tfCreds(is.srv.URL)); err != nil {
		t.Fatal(err)
	}
	if d, j := is.hits(); d != 1 || j != 1 {
		t.Fatalf("fetches %d/%d, want 1/1", d, j)
	}
}

func TestFederatedFetchFailures(t *testing.T) {
	keys := tfKeys(t)
	ctx := context.Background()
	type setup func(is *tfIssuer)
	cases := []struct {
		name  string
		tls   bool
		setup setup
		code  int
	}{
		{name: "discovery 404", tls: true, setup: func(is *tfIssuer) { is.discoveryCode = http.StatusNotFound }, code: 50166},
		{name: "discovery 500", tls: true, setup: func(is *tfIssuer) { is.discoveryCode = http.StatusInternalServerError }, code: 50166},
		{name: "discovery issuer differs", tls: true, setup: func(is *tfIssuer) { s := "https://elsewhere.example"; is.docIssuer = &s }, code: 50166},
		{name: "discovery issuer empty", tls: true, setup: func(is *tfIssuer) { s := ""; is.docIssuer = &s }, code: 50166},
		{name: "no jwks_uri", tls: true, setup: func(is *tfIssuer) { s := ""; is.jwksURI = &s }, code: 50166},
		{name: "jwks_uri plain http elsewhere", tls: true, setup: func(is *tfIssuer) { s := "http://keys.example/keys"; is.jwksURI = &s }, code: 50166},
		{name: "jwks_uri not a URL", tls: true, setup: func(is *tfIssuer) { s := "::::"; is.jwksURI = &s }, code: 50166},
		{name: "jwks too large", tls: true, setup: func(is *tfIssuer) { is.bigBody = true }, code: 50166},
		{name: "jwks without usable keys", tls: true, setup: func(is *tfIssuer) {
			is.published = nil
			is.extraJWKS = []json.RawMessage{json.RawMessage(`{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","kid":"k1"}`)}
		}, code: 50166},
		{name: "jwks with an unreadable key next to a good one", tls: true, setup: func(is *tfIssuer) {
			is.extraJWKS = []json.RawMessage{json.RawMessage(`{"kty":"XYZ","kid":"weird"}`), json.RawMessage(`{"kty":"RSA","kid":"broken","n":"!!"}`)}
		}, code: 0},
		{name: "encryption key with the kid is skipped", tls: true, setup: func(is *tfIssuer) {
			k := is.published[0]
			k.Use = "enc"
			is.published = []jose.JSONWebKey{k}
		}, code: 50166},
		{name: "plain http loopback issuer allowed", tls: false, code: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			is := tfNewIssuer(t, c.tls, keys[0])
			if c.setup != nil {
				is.set(c.setup)
			}
			clock := tfStart()
			v := tfVerifier(is, clock)
			_, err := v.Verify(ctx, tfToken(t, keys[0], is.srv.URL, clock.Now(), nil), tfCreds(is.srv.URL))
			if c.code == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			te := taWantError(t, err, c.code, tokenerr.ErrInvalidClient)
			if te.Message != "Request to External OIDC endpoint failed." || te.Err == nil {
				t.Errorf("got %q cause %v", te.Message, te.Err)
			}
		})
	}
}

func TestFederatedFailureRemembered(t *testing.T) {
	keys := tfKeys(t)
	is := tfNewIssuer(t, true, keys[0])
	is.set(func(is *tfIssuer) { is.discoveryCode = http.StatusServiceUnavailable })
	clock := tfStart()
	v := tfVerifier(is, clock)
	ctx := context.Background()
	verify := func() error {
		_, err := v.Verify(ctx, tfToken(t, keys[0], is.srv.URL, clock.Now(), nil), tfCreds(is.srv.URL))
		return err
	}
	taWantError(t, verify(), 50166, tokenerr.ErrInvalidClient)
	taWantError(t, verify(), 50166, tokenerr.ErrInvalidClient)
	if d, _ := is.hits(); d != 1 {
		t.Fatalf("discovery hit %d times, want 1 (failure remembered)", d)
	}
	is.set(func(is *tfIssuer) { is.discoveryCode = 0 })
	clock.Advance(time.Minute)
	if err := verify(); err != nil {
		t.Fatalf("recovery: %v", err)
	}
	if d, j := is.hits(); d != 2 || j != 1 {
		t.Fatalf("fetches %d/%d, want 2/1", d, j)
	}
}

func TestFederatedRefusesInsecureIssuers(t *testing.T) {
	keys := tfKeys(t)
	clock := tfStart()
	for _, iss := range []string{
		"http://issuer.example",        // plain http, not loopback
		"ftp://issuer.example",         // not http at all
		"https://issuer.example?x=1",   // query
		"https://user@issuer.example",  // user info
		"https://issuer.example#frag",  // fragment
		"issuer.example",               // not absolute
		"https://",                     // no host
		"http://127.0.0.1.example.com", // not loopback despite the name
	} {
		t.Run(iss, func(t *testing.T) {
			var hits atomic.Int32
			client := &http.Client{Transport: tfRoundTripFunc(func(*http.Request) (*http.Response, error) {
				hits.Add(1)
				return nil, errors.New("must not be called")
			})}
			v := NewFederatedVerifier(client, FederatedOptions{Now: clock.Now})
			_, err := v.Verify(context.Background(), tfToken(t, keys[0], iss, clock.Now(), nil),
				[]domain.FederatedIdentityCredential{{Issuer: iss, Subject: tfSubject, Audiences: []string{tfAudience}}})
			taWantError(t, err, 50166, tokenerr.ErrInvalidClient)
			if hits.Load() != 0 {
				t.Errorf("request sent")
			}
		})
	}
}

func TestFederatedRedirectToHTTPRefused(t *testing.T) {
	keys := tfKeys(t)
	// A TLS issuer whose discovery redirects to plain http on a non-loopback host.
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://issuer.example/.well-known/openid-configuration", http.StatusFound)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	clock := tfStart()
	v := NewFederatedVerifier(srv.Client(), FederatedOptions{Now: clock.Now})
	_, err := v.Verify(context.Background(), tfToken(t, keys[0], srv.URL, clock.Now(), nil), tfCreds(srv.URL))
	te := taWantError(t, err, 50166, tokenerr.ErrInvalidClient)
	if !strings.Contains(te.Error(), "redirect refused") {
		t.Errorf("cause: %v", te)
	}
}

type tfRoundTripFunc func(*http.Request) (*http.Response, error)

func (f tfRoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
