// Command scoring-api is a small model-scoring API protected by Tessera.
// It accepts only access tokens Tessera issued for it, checked the way any
// resource server checks Entra tokens: the signature against the keys the
// discovery document publishes, the issuer, the audience (its app id or
// identifier URI) and the validity window. POST /score needs the delegated
// scope Scores.Read; the API then reads the workspace the request names
// from the resource manager on the caller's behalf (the on-behalf-of
// grant), so the caller's own role decides what it may score against.
//
//	export TESSERA_URL=https://localhost:8443 SSL_CERT_FILE=ca.pem
//	export AZURE_CLIENT_ID=<the API's app id> AZURE_CLIENT_SECRET=<its secret>
//	go run ./examples/scoring-api -listen 127.0.0.1:8080 -identifier-uri api://scoring
//
// See README.md for registering the API and calling it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tessera-id/tessera/sdk/credential"
)

// requiredScope is the delegated permission POST /score needs.
const requiredScope = "Scores.Read"

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on (port 0: any free port)")
	identifierURI := flag.String("identifier-uri", "", "the API's identifier URI, accepted as an audience besides its app id (e.g. api://scoring)")
	flag.Parse()
	if err := run(*listen, *identifierURI); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(listen, identifierURI string) error {
	cfg, err := credential.Resolve(nil) // TESSERA_URL or AZURE_AUTHORITY_HOST; AZURE_TENANT_ID (default adfs)
	if err != nil {
		return err
	}
	clientID, secret := os.Getenv("AZURE_CLIENT_ID"), os.Getenv("AZURE_CLIENT_SECRET")
	if clientID == "" || secret == "" {
		return errors.New("set AZURE_CLIENT_ID and AZURE_CLIENT_SECRET to the API's app id and secret")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	audiences := jwt.Audience{clientID}
	if identifierURI != "" {
		audiences = append(audiences, identifierURI)
	}
	v, err := newValidator(ctx, httpClient(cfg), cfg.URL+"/"+cfg.TenantID+"/v2.0/.well-known/openid-configuration", audiences)
	if err != nil {
		return err
	}
	api := &scoringAPI{cfg: cfg, clientID: clientID, secret: secret, tokens: v}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Printf("scoring-api listening on http://%s (issuer %s)\n", ln.Addr(), v.issuer)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// httpClient is the client that trusts Tessera's CA (TESSERA_CA_FILE), or
// the default one (SSL_CERT_FILE and the system roots).
func httpClient(cfg credential.Config) *http.Client {
	if c, ok := cfg.ClientOptions.Transport.(*http.Client); ok {
		return c
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// validator checks bearer tokens against the issuer's published keys.
type validator struct {
	client    *http.Client
	issuer    string
	jwksURI   string
	audiences jwt.Audience

	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	fetched time.Time
}

func newValidator(ctx context.Context, client *http.Client, discoveryURL string, audiences jwt.Audience) (*validator, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(ctx, client, discoveryURL, &doc); err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	if doc.Issuer == "" || doc.JWKSURI == "" {
		return nil, fmt.Errorf("discovery document %s names no issuer or jwks_uri", discoveryURL)
	}
	v := &validator{client: client, issuer: doc.Issuer, jwksURI: doc.JWKSURI, audiences: audiences}
	if err := v.refresh(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

func getJSON(ctx context.Context, client *http.Client, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (v *validator) refresh(ctx context.Context) error {
	var set jose.JSONWebKeySet
	if err := getJSON(ctx, v.client, v.jwksURI, &set); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	v.keys, v.fetched = set, time.Now()
	return nil
}

// key finds the signing key a token names. An unknown key id may be a
// rotation: the keys are fetched again, at most once a minute, so that
// tokens naming made-up keys cannot make the API hammer the issuer.
func (v *validator) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if ks := v.keys.Key(kid); len(ks) > 0 {
		return &ks[0], nil
	}
	if time.Since(v.fetched) > time.Minute {
		if err := v.refresh(ctx); err != nil {
			return nil, err
		}
		if ks := v.keys.Key(kid); len(ks) > 0 {
			return &ks[0], nil
		}
	}
	return nil, fmt.Errorf("no signing key %q", kid)
}

// claims are what the API reads from a validated token.
type claims struct {
	jwt.Claims
	TenantID string   `json:"tid"`
	ObjectID string   `json:"oid"`
	Name     string   `json:"preferred_username"`
	AppID    string   `json:"azp"`
	Scope    string   `json:"scp"`
	Roles    []string `json:"roles"`
	Groups   []string `json:"groups"`
}

func (c claims) scopes() []string { return strings.Fields(c.Scope) }

func (v *validator) validate(ctx context.Context, raw string) (*claims, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("not a single-signature token")
	}
	key, err := v.key(ctx, tok.Headers[0].KeyID)
	if err != nil {
		return nil, err
	}
	var c claims
	if err := tok.Claims(key.Key, &c); err != nil {
		return nil, err
	}
	// exp and nbf with a small allowance for clock skew between hosts.
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, AnyAudience: v.audiences, Time: time.Now()}, 2*time.Minute); err != nil {
		return nil, err
	}
	if c.TenantID == "" {
		return nil, errors.New("no tid claim")
	}
	return &c, nil
}

// scoringAPI serves POST /score.
type scoringAPI struct {
	cfg              credential.Config
	clientID, secret string
	tokens           *validator
}

func (a *scoringAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /score", a.score)
	return mux
}

// scoreRequest names the workspace whose model scores the features.
type scoreRequest struct {
	Workspace string    `json:"workspace"` // the workspace's resource id
	Features  []float64 `json:"features"`
}

type scoreResponse struct {
	Workspace string    `json:"workspace"`
	Location  string    `json:"location"`
	Score     float64   `json:"score"`
	Caller    callerDoc `json:"caller"`
}

type callerDoc struct {
	ObjectID string   `json:"oid"`
	Name     string   `json:"name,omitempty"`
	Client   string   `json:"client"`
	Scopes   []string `json:"scopes"`
	Roles    []string `json:"roles,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

func (a *scoringAPI) score(w http.ResponseWriter, r *http.Request) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scoring-api"`)
		writeError(w, http.StatusUnauthorized, "invalid_token", "a bearer token is required")
		return
	}
	c, err := a.tokens.validate(r.Context(), raw)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scoring-api", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid_token", err.Error())
		return
	}
	// An application's own token carries roles but no scp: this route acts
	// for a person, so it needs the delegated scope.
	if !slices.Contains(c.scopes(), requiredScope) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scoring-api", error="insufficient_scope", scope="`+requiredScope+`"`)
		writeError(w, http.StatusForbidden, "insufficient_scope", "the token lacks the scope "+requiredScope)
		return
	}
	var req scoreRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "the body is not a score request: "+err.Error())
		return
	}
	id, err := arm.ParseResourceID(req.Workspace)
	if err != nil || !strings.EqualFold(id.ResourceType.String(), "Microsoft.MachineLearningServices/workspaces") {
		writeError(w, http.StatusBadRequest, "bad_request", "workspace must be a workspace's resource id")
		return
	}

	ws, err := a.readWorkspace(r.Context(), c, raw, id)
	var re *azcore.ResponseError
	switch {
	case errors.As(err, &re) && (re.StatusCode == http.StatusForbidden || re.StatusCode == http.StatusNotFound):
		// The resource manager's refusal, in the API's own words: the
		// caller's role on the workspace is what is missing.
		writeError(w, re.StatusCode, "workspace_not_readable",
			fmt.Sprintf("%s may not read workspace %s (%s)", c.ObjectID, id.Name, re.ErrorCode))
		return
	case err != nil:
		writeError(w, http.StatusBadGateway, "upstream_error", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, scoreResponse{
		Workspace: *ws.ID,
		Location:  deref(ws.Location),
		Score:     model(req.Features),
		Caller: callerDoc{ObjectID: c.ObjectID, Name: c.Name, Client: c.AppID, Scopes: c.scopes(),
			Roles: c.Roles, Groups: c.Groups},
	})
}

// readWorkspace reads the workspace as the caller: the caller's token is
// exchanged for a resource manager token for the same user.
func (a *scoringAPI) readWorkspace(ctx context.Context, c *claims, assertion string, id *arm.ResourceID) (*armmachinelearning.Workspace, error) {
	// The token's own tenant: with AZURE_TENANT_ID=adfs (the home tenant's
	// alias) the exchange still names the tenant the user signed in to. A
	// credential holds one user's assertion, so each request builds its own;
	// a busy service would keep them per caller to reuse the tokens they cache.
	cred, err := azidentity.NewOnBehalfOfCredentialWithSecret(c.TenantID, a.clientID, assertion, a.secret,
		&azidentity.OnBehalfOfCredentialOptions{ClientOptions: a.cfg.ClientOptions, DisableInstanceDiscovery: true})
	if err != nil {
		return nil, err
	}
	client, err := armmachinelearning.NewWorkspacesClient(id.SubscriptionID, cred, &arm.ClientOptions{ClientOptions: a.cfg.ClientOptions})
	if err != nil {
		return nil, err
	}
	resp, err := client.Get(ctx, id.ResourceGroupName, id.Name, nil)
	if err != nil {
		return nil, err
	}
	return &resp.Workspace, nil
}

// model stands in for the workspace's deployed model: a logistic score of
// the features' sum.
func model(features []float64) float64 {
	var sum float64
	for _, f := range features {
		sum += f
	}
	return math.Round(1/(1+math.Exp(-sum))*1e4) / 1e4
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": code, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
