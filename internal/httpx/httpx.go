// Package httpx is the HTTP plumbing shared by Tessera's protocol edges
// (sts, graph, arm): request ids, the base URL a client addressed, client
// addresses and connection identity, and the mechanics of CORS (cors.go;
// which origins a surface allows is the surface's decision). It holds no
// protocol rules.
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	correlationIDKey
	connIDKey
)

// RequestID returns the server-assigned id of the request.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// CorrelationID returns the client's correlation id (client-request-id,
// x-ms-client-request-id or x-ms-correlation-request-id), or the request id.
func CorrelationID(ctx context.Context) string {
	s, _ := ctx.Value(correlationIDKey).(string)
	return s
}

// ConnID returns an id unique to the client connection that carried the request.
func ConnID(ctx context.Context) string {
	s, _ := ctx.Value(connIDKey).(string)
	return s
}

// ConnContext is an http.Server ConnContext hook that tags each connection.
func ConnContext(ctx context.Context, _ net.Conn) context.Context {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return context.WithValue(ctx, connIDKey, hex.EncodeToString(b[:]))
}

// WithRequestIDs assigns a request id, picks up the client's correlation id,
// and echoes both in response headers as Azure services do.
func WithRequestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := uuid.NewString()
		cid := firstHeader(r, "client-request-id", "x-ms-client-request-id", "x-ms-correlation-request-id")
		if _, err := uuid.Parse(cid); err != nil {
			cid = rid
		}
		h := w.Header()
		h.Set("x-ms-request-id", rid)
		h.Set("x-ms-correlation-request-id", cid)
		if v := r.Header.Get("client-request-id"); v != "" {
			h.Set("client-request-id", cid)
		}
		if v := r.Header.Get("x-ms-client-request-id"); v != "" {
			h.Set("x-ms-client-request-id", cid)
		}
		ctx := context.WithValue(r.Context(), requestIDKey, rid)
		ctx = context.WithValue(ctx, correlationIDKey, cid)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func firstHeader(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := r.Header.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// ClientIP is the peer address of the request (proxies are not trusted).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// BaseURLs decides the base URL (scheme and authority) of a request: the
// Host the client used when it is one of the server's names, otherwise the
// configured public URL, so a forged Host header cannot change issuers.
type BaseURLs struct {
	public  string
	allowed map[string]bool
	// defaultPort are names whose base URL never names port 443: a client
	// that writes https://login.microsoftonline.com:443 means, and caches
	// and compares, https://login.microsoftonline.com.
	defaultPort map[string]bool
}

// NewBaseURLs builds a BaseURLs from the public URL and the host names
// (with or without port) the server answers to.
func NewBaseURLs(publicURL string, hosts []string) *BaseURLs {
	return NewBaseURLsWith(publicURL, hosts, nil)
}

// NewBaseURLsWith is NewBaseURLs with names that the server also answers
// to on port 443 and whose base URL is always the bare name (the public
// cloud's host names, see app.PublicCloudHosts).
func NewBaseURLsWith(publicURL string, hosts, bareNames []string) *BaseURLs {
	b := &BaseURLs{public: strings.TrimRight(publicURL, "/"), allowed: map[string]bool{}, defaultPort: map[string]bool{}}
	for _, h := range hosts {
		b.allowed[strings.ToLower(h)] = true
	}
	for _, h := range bareNames {
		b.defaultPort[strings.ToLower(h)] = true
	}
	return b
}

// Public is the configured public base URL.
func (b *BaseURLs) Public() string { return b.public }

// For returns the base URL a request addressed.
func (b *BaseURLs) For(r *http.Request) string {
	if base, ok := b.ForHost(r.Host); ok {
		return base
	}
	return b.public
}

// ForHost returns the base URL of a host (and port) the server answers
// to, and false for any other host.
func (b *BaseURLs) ForHost(hostport string) (string, bool) {
	host := strings.ToLower(hostport)
	if name, ok := strings.CutSuffix(host, ":443"); ok && b.defaultPort[name] {
		host = name
	}
	if host != "" && (b.allowed[host] || b.allowed[hostOnly(host)] || b.defaultPort[host]) {
		return "https://" + host, true
	}
	return "", false
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// statusRecorder captures the status code of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Observer is told about every finished request.
type Observer func(r *http.Request, status int, elapsed time.Duration)

// Observe wraps next so that obs sees each request's route, status and time,
// and logs it. The route is the matched ServeMux pattern, never the raw path,
// so labels stay bounded and no secret in a path reaches a log.
func Observe(next http.Handler, log *slog.Logger, obs Observer) http.Handler {
	var inflight atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		inflight.Add(1)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			inflight.Add(-1)
			if p := recover(); p != nil {
				log.ErrorContext(r.Context(), "panic serving request", "route", r.Pattern, "panic", p)
				if rec.status == 0 {
					http.Error(rec, `{"error":"server_error"}`, http.StatusInternalServerError)
				}
			}
			elapsed := time.Since(start)
			if obs != nil {
				obs(r, rec.status, elapsed)
			}
			log.DebugContext(r.Context(), "request", "method", r.Method, "route", r.Pattern, "status", rec.status,
				"ms", float64(elapsed.Microseconds())/1000, "request_id", RequestID(r.Context()))
		}()
		next.ServeHTTP(rec, r)
	})
}
