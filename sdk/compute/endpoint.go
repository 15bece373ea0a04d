package compute

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Doer sends HTTP requests (an *http.Client, or azcore's Transporter).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Node is a registered node: its identity and secret, and how to reach the
// Tessera that issued it. It is safe for concurrent use.
type Node struct {
	ID        string
	ComputeID string
	TenantID  string
	base      string
	http      Doer

	mu     sync.RWMutex
	secret string
}

// NewNode returns the node reg describes, talking to Tessera at base
// through client (http.DefaultClient when nil).
func NewNode(base string, client Doer, reg Registration) *Node {
	if client == nil {
		client = http.DefaultClient
	}
	return &Node{ID: reg.NodeID, ComputeID: reg.ComputeID, TenantID: reg.TenantID, base: strings.TrimRight(base, "/"),
		http: client, secret: reg.Secret}
}

// Secret is the node's current secret.
func (n *Node) Secret() string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.secret
}

// SetSecret replaces the secret after a rotation.
func (n *Node) SetSecret(s string) {
	n.mu.Lock()
	n.secret = s
	n.mu.Unlock()
}

// WorkloadToken is a signed token for the node's compute, for workload
// identity federation.
type WorkloadToken struct {
	Token     string
	Issuer    string
	Subject   string
	ExpiresOn time.Time
}

// WorkloadToken asks Tessera for a workload token with the given audience.
func (n *Node) WorkloadToken(ctx context.Context, audience string) (WorkloadToken, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.base+"/msi/workload-token?audience="+url.QueryEscape(audience), nil)
	if err != nil {
		return WorkloadToken{}, err
	}
	req.Header.Set("X-IDENTITY-HEADER", n.Secret())
	resp, err := n.http.Do(req)
	if err != nil {
		return WorkloadToken{}, fmt.Errorf("workload token: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return WorkloadToken{}, fmt.Errorf("workload token: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var out struct {
		Token, Issuer, Subject string
		ExpiresOn              string `json:"expires_on"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return WorkloadToken{}, fmt.Errorf("workload token: decode: %w", err)
	}
	exp, _ := strconv.ParseInt(out.ExpiresOn, 10, 64)
	return WorkloadToken{Token: out.Token, Issuer: out.Issuer, Subject: out.Subject, ExpiresOn: time.Unix(exp, 0)}, nil
}

// WriteWorkloadToken fetches a workload token and writes it to path, by
// rename so that a reader never sees half a token; the file is readable by
// its owner only.
func (n *Node) WriteWorkloadToken(ctx context.Context, path, audience string) (WorkloadToken, error) {
	wt, err := n.WorkloadToken(ctx, audience)
	if err != nil {
		return wt, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".token-*")
	if err != nil {
		return wt, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(wt.Token); err != nil {
		tmp.Close()
		return wt, err
	}
	if err := tmp.Close(); err != nil {
		return wt, err
	}
	return wt, os.Rename(tmp.Name(), path)
}

// WorkloadTokenRefresh is how often KeepWorkloadToken rewrites the file:
// well within the token's 20-minute lifetime, and more often than the SDKs
// re-read the file (Go caches it 10 minutes, Python 5).
const WorkloadTokenRefresh = 5 * time.Minute

// KeepWorkloadToken rewrites the token file every WorkloadTokenRefresh until
// ctx ends, reporting failures to onError (a failed refresh is retried at
// the next tick; the previous token stays valid meanwhile).
func (n *Node) KeepWorkloadToken(ctx context.Context, path, audience string, onError func(error)) {
	tick := time.NewTicker(WorkloadTokenRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := n.WriteWorkloadToken(ctx, path, audience); err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
	}
}

// EndpointOptions configure Serve.
type EndpointOptions struct {
	// Listen is the address to bind; default 127.0.0.1:0. It should stay a
	// loopback address: the Cloud Shell and IMDS request shapes carry no
	// secret, so whoever reaches the listener gets the node's tokens.
	Listen string
	// DefaultClientID is the identity a request that names none gets (the
	// user-assigned identity `--identity` chose); empty leaves the choice to
	// Tessera (the compute's system-assigned identity).
	DefaultClientID string
}

// Endpoint is the managed-identity endpoint of one node, served on loopback
// for the node's workloads. Each request is checked locally (the local
// secret, or Metadata: true for the secretless shapes) and forwarded to
// Tessera with the node secret, which the workloads never see.
type Endpoint struct {
	// URL is the base URL, e.g. http://127.0.0.1:40342.
	URL string
	// Secret is what workloads put in MSI_SECRET / IDENTITY_HEADER. It is
	// good only against this listener, for its lifetime.
	Secret string

	node   *Node
	opts   EndpointOptions
	srv    *http.Server
	ln     net.Listener
	closed chan struct{}
}

// Paths the endpoint serves, as Tessera does.
const (
	msiPath  = "/msi/token"
	imdsPath = "/metadata/identity/oauth2/token"
)

// Serve starts the node's loopback endpoint.
func (n *Node) Serve(opts EndpointOptions) (*Endpoint, error) {
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		ln.Close()
		return nil, err
	}
	e := &Endpoint{URL: "http://" + ln.Addr().String(), Secret: base64.RawURLEncoding.EncodeToString(b[:]), node: n, opts: opts,
		ln: ln, closed: make(chan struct{})}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second}
	go func() {
		defer close(e.closed)
		_ = e.srv.Serve(ln)
	}()
	return e, nil
}

// Close stops the endpoint.
func (e *Endpoint) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.srv.Shutdown(ctx)
	<-e.closed
	return err
}

// Env is the environment that makes the official SDKs inside a workload
// use this endpoint: Azure ML's MSI_ENDPOINT + MSI_SECRET (azure-ai-ml's
// compute jobs; az login --identity POSTs to MSI_ENDPOINT), App Service's
// IDENTITY_ENDPOINT + IDENTITY_HEADER (what Python and Go pick first), the
// IMDS authority Python can be pointed at, and DEFAULT_IDENTITY_CLIENT_ID
// when a user-assigned identity is the default.
func (e *Endpoint) Env() []string {
	env := []string{
		"MSI_ENDPOINT=" + e.URL + msiPath,
		"MSI_SECRET=" + e.Secret,
		"IDENTITY_ENDPOINT=" + e.URL + msiPath,
		"IDENTITY_HEADER=" + e.Secret,
		"AZURE_POD_IDENTITY_AUTHORITY_HOST=" + e.URL,
	}
	if e.opts.DefaultClientID != "" {
		env = append(env, "DEFAULT_IDENTITY_CLIENT_ID="+e.opts.DefaultClientID)
	}
	return env
}

var selectorParams = []string{"client_id", "clientid", "object_id", "principal_id", "mi_res_id", "msi_res_id"}

// maxForwardBytes bounds what the endpoint reads from a workload or Tessera.
const maxForwardBytes = 1 << 20

func writeError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// ServeHTTP checks a workload's request locally and forwards it.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != msiPath && r.URL.Path != imdsPath {
		writeError(w, http.StatusNotFound, "invalid_request", "Not a managed identity endpoint path.")
		return
	}
	local := r.Header.Get("X-IDENTITY-HEADER")
	if local == "" {
		local = r.Header.Get("secret")
	}
	secretless := r.URL.Path == imdsPath || r.Method == http.MethodPost
	switch {
	case local != "":
		if subtle.ConstantTimeCompare([]byte(local), []byte(e.Secret)) != 1 {
			writeError(w, http.StatusUnauthorized, "invalid_client", "The identity header does not match this endpoint's secret.")
			return
		}
	case secretless:
		// Tessera checks Metadata: true too; checking here keeps a forged
		// browser request from ever leaving the machine.
		if !strings.EqualFold(r.Header.Get("Metadata"), "true") {
			writeError(w, http.StatusBadRequest, "invalid_request", "Required metadata header not specified")
			return
		}
	default:
		writeError(w, http.StatusUnauthorized, "invalid_client", "The identity header is missing.")
		return
	}
	query := r.URL.Query()
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxForwardBytes))
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", "The request body could not be read or is too large.")
			return
		}
	}
	if e.opts.DefaultClientID != "" && !namesIdentity(query, body) {
		query.Set("client_id", e.opts.DefaultClientID)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	up, err := http.NewRequestWithContext(ctx, r.Method, e.node.base+r.URL.Path+"?"+query.Encode(), bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "The request cannot be forwarded.")
		return
	}
	for _, h := range []string{"Metadata", "Content-Type", "x-ms-client-request-id"} {
		if v := r.Header.Get(h); v != "" {
			up.Header.Set(h, v)
		}
	}
	up.Header.Set("X-IDENTITY-HEADER", e.node.Secret())
	resp, err := e.node.http.Do(up)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "Tessera could not be reached: "+err.Error())
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxForwardBytes))
	if err != nil {
		writeError(w, http.StatusBadGateway, "temporarily_unavailable", "Tessera's answer could not be read.")
		return
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "Pragma"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

// namesIdentity reports whether a request (query or form body) names an
// identity.
func namesIdentity(query url.Values, body []byte) bool {
	form, _ := url.ParseQuery(string(body))
	for _, p := range selectorParams {
		if query.Get(p) != "" || form.Get(p) != "" {
			return true
		}
	}
	return false
}
