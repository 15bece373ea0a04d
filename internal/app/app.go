// Package app is Tessera's composition root: it opens the store, builds the
// services and protocol handlers, mounts the routes and runs the HTTPS
// server. It is the only package that imports everything.
package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/tessera-id/tessera/internal/token/assertion"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/arm"
	"github.com/tessera-id/tessera/internal/audit"
	"github.com/tessera-id/tessera/internal/config"
	"github.com/tessera-id/tessera/internal/console"
	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/graph"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/metrics"
	"github.com/tessera-id/tessera/internal/rbac"
	"github.com/tessera-id/tessera/internal/resources"
	"github.com/tessera-id/tessera/internal/rsasign"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/postgres"
	"github.com/tessera-id/tessera/internal/store/sqlite"
	"github.com/tessera-id/tessera/internal/sts"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/token/signing"
	"github.com/tessera-id/tessera/internal/web"
	"github.com/tessera-id/tessera/internal/wire"
)

// Server is a running Tessera.
type Server struct {
	cfg   config.Config
	log   *slog.Logger
	store store.Store
	keys  *signing.Keys
	// passwords bounds the argon2 password checks of every surface.
	passwords *directory.Passwords
	rbac      *rbac.Service
	feed      *feed.Follower
	audit     *audit.Log
	http      *http.Server
	tls       tls.Certificate
	caFile    string
	tenant    domain.Tenant
	// FirstStart is true when this start bootstrapped the directory.
	FirstStart bool
}

// OpenStore opens the configured store backend; log receives the store's
// own reports (nil discards them).
func OpenStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	if cfg.Store == "sqlite" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		return sqlite.OpenWith(ctx, filepath.Join(cfg.DataDir, "tessera.db"), sqlite.Options{Synchronous: cfg.SQLiteSynchronous})
	}
	return postgres.OpenWith(ctx, cfg.Store, postgres.Options{Logger: log})
}

// NewSigningKeys builds the token-signing keys over st.
func NewSigningKeys(st store.Store, cfg config.Config) *signing.Keys {
	// Validate has checked the name.
	backend, _ := rsasign.ParseBackend(cfg.SigningBackend)
	return signing.NewKeys(st, func(ctx context.Context, fn func(store.Keys) error) error {
		return st.InTx(ctx, func(tx store.Tx) error { return fn(tx) })
	}, signing.Options{SigningBackend: backend})
}

// New prepares a server: data directory, TLS, store, bootstrap, keys and
// routes. It does not listen yet.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	s := &Server{cfg: cfg, log: log}
	var err error
	if cfg.TLSCert != "" {
		s.tls, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate: %w", err)
		}
	} else {
		s.tls, s.caFile, err = ensureLocalTLS(cfg.DataDir, cfg.Hostnames, cfg.PublicCloudNames, time.Now())
		if err != nil {
			return nil, err
		}
		if abs, err := filepath.Abs(s.caFile); err == nil {
			s.caFile = abs
		}
	}
	s.store, err = OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			s.store.Close()
		}
	}()
	s.tenant, s.FirstStart, err = bootstrap(ctx, s.store, cfg.DataDir, cfg.PublicURL, s.caFile, cfg.TenantName, time.Now)
	if err != nil {
		return nil, err
	}
	s.rbac = rbac.NewService(s.store, rbac.New(), time.Now)
	passwords := directory.NewPasswords(directory.PasswordsOptions{
		Concurrency: cfg.PasswordHashConcurrency, MemoryBudget: cfg.PasswordHashMemory.Bytes})
	log.Info("passwords are checked", "at_once", passwords.Concurrency(), "memory_budget", cfg.PasswordHashMemory.String())
	s.passwords = passwords
	dir := directory.NewService(s.store, time.Now, directory.WithPasswords(passwords))
	if err := dir.EnsureFirstParty(ctx, s.tenant.ID, cfg.PublicURL+"/graph/"); err != nil {
		return nil, fmt.Errorf("register first-party objects: %w", err)
	}
	s.keys = NewSigningKeys(s.store, cfg)
	if err := s.keys.Load(ctx); err != nil {
		return nil, err
	}
	log.Info("tokens are signed", "kid", s.keys.CurrentKeyID(), "rsa", s.keys.SigningBackend())
	s.audit = audit.New(s.store, log)
	m := metrics.New()
	var cloudNames []string
	if cfg.PublicCloudNames {
		cloudNames = PublicCloudHosts()
		log.Info("answering for the public cloud's host names", "names", cloudNames)
		if missing := namesNotCovered(s.tls, cloudNames); len(missing) > 0 {
			log.Warn("the TLS certificate does not name some of the public cloud's host names: clients refuse them", "names", missing)
		}
	}
	base := httpx.NewBaseURLsWith(cfg.PublicURL, s.hostNames(), cloudNames)
	// Managed identities are service principals: the directory creates and
	// deletes them, with its cascades, inside the resource manager's writes.
	res := resources.NewService(s.store, dir, time.Now)
	ix := newInteractive(dir, s.store, s.audit, cfg, log)
	tokens := token.NewService(dir, s.keys, s.store,
		assertion.NewFederatedVerifier(s.outboundClient(), assertion.FederatedOptions{LocalKeys: token.LocalWorkloadKeys(s.keys, cfg.PublicURL)}),
		s.audit, token.Options{AccessTokenLifetime: cfg.AccessTokenLifetime.Duration, Logger: log, ManagedIdentities: res,
			ClientThrottle: ix.SignIns(), PortalRedirectURIs: s.portalRedirectURIs()},
		token.ClientCredentials{}, ix.Password(), ix.AuthorizationCode(), ix.RefreshToken(), ix.DeviceCode(),
		ix.OnBehalfOf(token.NewVerifier(s.keys)))

	tenants := directory.NewTenants(s.store, s.tenant.ID)

	// Every in-memory view follows the change feed: loaded in full here,
	// then kept current by each replica's writes, this one's included.
	s.feed, err = feed.StartFollowing(ctx, s.store, feed.Options{Logger: log}, s.rbac, dir, tokens, s.keys, tenants)
	if err != nil {
		return nil, err
	}
	m.WatchFeed(func() metrics.FeedStatus { return metrics.FeedStatus(s.feed.Status()) })

	mux := http.NewServeMux()
	stsHandler := sts.New(tokens, sts.NewTenants(tenants), base, sts.Options{Logger: log, Observe: m.ObserveToken})
	stsHandler.Register(mux)
	sts.NewInteractive(stsHandler, ix, web.MustNew()).Register(mux)
	sts.NewManagedIdentity(tokens, res, sts.NewTenants(tenants), base, sts.Options{Logger: log}).Register(mux)
	graphHandler := graph.New(dir, s.store, tokens.Verifier(), base, s.audit, graph.Options{Logger: log})
	graphHandler.Register(mux)
	graph.NewConditionalAccess(graphHandler, ix.SignIns()).Register(mux)
	graph.NewAuthenticationMethods(graphHandler, ix.SignIns()).Register(mux)
	graph.NewSigningKeys(graphHandler, s.keys).Register(mux)
	arm.NewMetadata(base, "Tessera").Register(mux)
	var caPEM []byte
	if s.caFile != "" {
		if caPEM, err = os.ReadFile(s.caFile); err != nil {
			return nil, fmt.Errorf("read the CA certificate: %w", err)
		}
	}
	consoleHandler, err := console.New(console.Info{TenantID: s.tenant.ID, TenantDomain: s.tenant.DefaultDomain(),
		ClientID: directory.AppIDTesseraPortal, Ready: s.ready, BaseURL: base.For, CACertPEM: caPEM})
	if err != nil {
		return nil, fmt.Errorf("load the console: %w", err)
	}
	consoleHandler.Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		wire.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.ready(r.Context()); err != nil {
			wire.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": err.Error()})
			return
		}
		wire.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", m.Handler())

	armHandler := arm.New(tokens.Verifier(), s.rbac, res, base, s.audit, arm.Options{Logger: log})
	root := &root{arm: armHandler, mux: mux, graph: graphHandler, sts: stsHandler,
		hosts: hostSurfaces(cfg.PublicCloudNames), cloudMetadata: arm.NewPublicCloudMetadata()}
	handler := httpx.WithRequestIDs(httpx.Observe(httpx.WithRevisions(root, s.feed, maxRevisionWait), log, m.ObserveRequest))
	s.http = &http.Server{
		Addr:              cfg.Listen,
		Handler:           handler,
		ConnContext:       httpx.ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		// Long enough that MSAL's reuse of one client assertion stays on one
		// connection (see token.Service.rememberAssertion).
		IdleTimeout:    15 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{s.tls},
		},
	}
	ok = true
	return s, nil
}

// namesNotCovered lists the names cert is not valid for.
func namesNotCovered(cert tls.Certificate, names []string) []string {
	if len(cert.Certificate) == 0 {
		return names
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return names
	}
	var out []string
	for _, n := range names {
		if leaf.VerifyHostname(n) != nil {
			out = append(out, n)
		}
	}
	return out
}

// ready reports why the server cannot serve requests, or nil: the store
// must answer and the change feed must be current.
func (s *Server) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return errors.New("store unavailable")
	}
	if lag := s.feed.Status().LagSeconds; lag > maxFeedLag.Seconds() {
		return fmt.Errorf("behind the change feed by %.0f s", lag)
	}
	return nil
}

// outboundClient fetches external issuers' keys. It trusts the system roots
// and Tessera's own CA, so Tessera can federate with itself (compute
// workload tokens) and with issuers behind the same private CA.
func (s *Server) outboundClient() *http.Client {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if s.caFile != "" {
		if pem, err := os.ReadFile(s.caFile); err == nil {
			roots.AppendCertsFromPEM(pem)
		}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, Proxy: http.ProxyFromEnvironment,
	}}
}

// hostNames are the names clients may address this server by.
func (s *Server) hostNames() []string {
	names := []string{"localhost", "127.0.0.1", "[::1]"}
	for _, h := range s.cfg.Hostnames {
		if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
			h = "[" + h + "]"
		}
		names = append(names, h)
	}
	_, port, _ := net.SplitHostPort(s.cfg.Listen)
	out := make([]string, 0, 2*len(names)+1)
	for _, n := range names {
		out = append(out, n, n+":"+port)
	}
	pub := strings.TrimPrefix(s.cfg.PublicURL, "https://")
	return append(out, pub)
}

// portalRedirectURIs are the Tessera Portal's SPA redirect URIs: the
// portal page on each origin the server answers on, the public URL's first.
func (s *Server) portalRedirectURIs() []string {
	_, port, _ := net.SplitHostPort(s.cfg.Listen)
	seen := map[string]bool{}
	var out []string
	add := func(origin string) {
		if origin != "" && !seen[origin] {
			seen[origin] = true
			out = append(out, origin+directory.PortalPath)
		}
	}
	add(token.OriginOf(s.cfg.PublicURL))
	for _, h := range s.hostNames() {
		// A bare name is an origin only on the default port.
		if _, _, err := net.SplitHostPort(h); err != nil && port != "443" {
			continue
		}
		add(token.OriginOf("https://" + h))
	}
	return out
}

// CAFile is the path of the local CA certificate clients should trust ("" with --tls-cert).
func (s *Server) CAFile() string { return s.caFile }

// PasswordHashSlots is how many argon2 password checks may run at once.
func (s *Server) PasswordHashSlots() int { return s.passwords.Concurrency() }

// SignsNatively reports whether tokens are signed by a native library.
func (s *Server) SignsNatively() bool { return s.keys.SignsNatively() }

// BootstrapPath is where bootstrap.json lives.
func (s *Server) BootstrapPath() string { return filepath.Join(s.cfg.DataDir, BootstrapFile) }

// Run serves until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.ServeTLS(ln, "", "") }()
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	go s.maintain(bg)
	go s.feed.Run(bg)
	s.log.Info("tessera listening", "url", s.cfg.PublicURL, "listen", ln.Addr().String(), "tenant", s.tenant.ID)
	select {
	case err := <-errc:
		s.close()
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := s.http.Shutdown(shutCtx)
	stopBG()
	s.close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) close() {
	s.audit.Close()
	if err := s.store.Close(); err != nil {
		s.log.Error("close store", "err", err)
	}
}

// changeRetention is how long the change feed keeps an entry: a replica cut
// off from the database for longer reloads its views in full once it is back.
const changeRetention = time.Hour

// maxRevisionWait bounds how long a request that asks for a revision
// (x-ms-tessera-min-revision) waits for this replica to apply it.
const maxRevisionWait = 5 * time.Second

// maxFeedLag is how far behind the change feed a replica may fall before
// /readyz takes it out of service.
const maxFeedLag = 10 * time.Second

// maintain runs periodic work: scheduled key rotation, trimming the change
// feed, and purging expired sign-in state and replay records. Changes made
// by other replicas (or `tessera keys rotate`) arrive through the feed.
func (s *Server) maintain(ctx context.Context) {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if every := s.cfg.KeyRotationInterval.Duration; every > 0 {
			if at, err := s.keys.CurrentActivatedAt(ctx); err == nil && time.Since(at) >= every {
				if err := s.keys.Rotate(ctx); err != nil {
					s.log.Error("scheduled key rotation", "err", err)
				} else {
					s.log.Info("rotated signing keys", "kid", s.keys.CurrentKeyID())
				}
			}
		}
		if _, err := s.store.TrimChanges(ctx, time.Now().Add(-changeRetention)); err != nil && ctx.Err() == nil {
			s.log.Error("trim the change feed", "err", err)
		}
		s.purgeSignIn(ctx)
		if n, err := s.store.PurgeExpired(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("purge replay records", "err", err)
		} else if n > 0 {
			s.log.Debug("purged replay records", "count", n)
		}
	}
}

// RotateKeys rotates the signing keys now (what `tessera keys rotate` does,
// without waiting for the reload tick).
func (s *Server) RotateKeys(ctx context.Context) error { return s.keys.Rotate(ctx) }

// TenantID is the home tenant this server serves.
func (s *Server) TenantID() string { return s.tenant.ID }

// Close releases a server that was prepared but never served.
func (s *Server) Close() { s.close() }
