// Package testserver starts a real Tessera server on a loopback port for
// integration and compatibility tests, and offers the small client helpers
// those tests share.
package testserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/app"
	"github.com/tessera-id/tessera/internal/config"
)

// Server is a running Tessera under test.
type Server struct {
	URL       string
	DataDir   string
	Bootstrap app.Bootstrap
	// Client trusts the server's CA.
	Client *http.Client
	CAPool *x509.CertPool
	// App is the in-process server, for tests that drive operator actions.
	App  *app.Server
	stop func()
}

// Options tune Start.
type Options struct {
	// Listen is the address to bind (default 127.0.0.1:0).
	Listen string
	// Store is a postgres DSN; empty means SQLite in the data directory.
	Store string
	// DataDir reuses a directory (default t.TempDir()).
	DataDir string
	// Replica of another server on the same PostgreSQL store: this one did
	// not bootstrap, so it takes that server's bootstrap (with its own CA).
	Replica *Server
	// Config adjusts the configuration before the server starts.
	Config func(*config.Config)
}

// Start runs a server until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Listen = ln.Addr().String()
	if opts.Store != "" {
		cfg.Store = opts.Store
	}
	if opts.Config != nil {
		opts.Config(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	level := slog.LevelWarn
	if os.Getenv("TESSERA_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := app.New(ctx, cfg, log)
	if err != nil {
		cancel()
		ln.Close()
		t.Fatalf("start tessera: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var b app.Bootstrap
	if opts.Replica != nil {
		b = opts.Replica.Bootstrap
		b.URL, b.CAFile = cfg.PublicURL, srv.CAFile()
	} else if b, err = app.ReadBootstrap(dataDir); err != nil {
		cancel()
		t.Fatalf("read bootstrap: %v", err)
	}
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(b.CAFile)
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		cancel()
		t.Fatalf("read CA %s: %v", b.CAFile, err)
	}
	s := &Server{
		URL: cfg.PublicURL, DataDir: dataDir, Bootstrap: b, CAPool: pool, App: srv,
		Client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 16,
		}},
	}
	var stopped bool
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server exited: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("server did not shut down")
		}
	}
	t.Cleanup(s.stop)
	return s
}

// Stop shuts the server down now (it is also stopped at test end).
func (s *Server) Stop() { s.stop() }

// TokenResponse is a decoded token endpoint answer (success or error).
type TokenResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// PostForm posts a form to path (relative to the server URL).
func (s *Server) PostForm(t testing.TB, path string, form url.Values) TokenResponse {
	t.Helper()
	resp, err := s.Client.PostForm(s.URL+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return decode(t, resp)
}

func decode(t testing.TB, resp *http.Response) TokenResponse {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := TokenResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
	}
	return out
}

// AppToken gets an app-only token for scope with a client secret.
func (s *Server) AppToken(t testing.TB, clientID, secret, scope string) string {
	t.Helper()
	r := s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope},
	})
	tok, _ := r.Body["access_token"].(string)
	if r.Status != 200 || tok == "" {
		t.Fatalf("token for %s: %d %s", scope, r.Status, r.Raw)
	}
	return tok
}

// GraphToken is a Graph token of the bootstrap administrator service principal.
func (s *Server) GraphToken(t testing.TB) string {
	return s.AppToken(t, s.Bootstrap.AdminServicePrincipal.AppID, s.Bootstrap.AdminServicePrincipal.Secret, s.URL+"/graph/.default")
}

// Graph calls the Graph API with a bearer token and decodes the JSON answer into out (if not nil).
func (s *Server) Graph(t testing.TB, bearer, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+"/graph/v1.0"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	if resp.StatusCode >= 400 && out == nil {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

// App is an application registered for a test.
type App struct {
	ObjectID, AppID, Secret, SPID string
}

// CreateApp registers an application with a service principal and a secret.
func (s *Server) CreateApp(t testing.TB, name string, extra map[string]any) App {
	t.Helper()
	gt := s.GraphToken(t)
	body := map[string]any{"displayName": name}
	for k, v := range extra {
		body[k] = v
	}
	var app struct{ ID, AppID string }
	if st := s.Graph(t, gt, "POST", "/applications", body, &app); st != 201 {
		t.Fatalf("create application: %d", st)
	}
	var pw struct{ SecretText string }
	if st := s.Graph(t, gt, "POST", "/applications/"+app.ID+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "test"}}, &pw); st != 200 {
		t.Fatalf("addPassword: %d", st)
	}
	var sp struct{ ID string }
	if st := s.Graph(t, gt, "POST", "/servicePrincipals", map[string]any{"appId": app.AppID}, &sp); st != 201 {
		t.Fatalf("create service principal: %d", st)
	}
	return App{ObjectID: app.ID, AppID: app.AppID, Secret: pw.SecretText, SPID: sp.ID}
}

// Errorf formats a short description of a token response for failures.
func (r TokenResponse) String() string {
	return fmt.Sprintf("%d %s", r.Status, strings.TrimSpace(string(r.Raw)))
}

// StartBare prepares a server on store without serving, for bootstrap races,
// and returns the tenant it would serve.
func StartBare(t testing.TB, store string) (string, error) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	cfg.Store = store
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := app.New(context.Background(), cfg, log)
	if err != nil {
		return "", err
	}
	defer srv.Close()
	return srv.TenantID(), nil
}
