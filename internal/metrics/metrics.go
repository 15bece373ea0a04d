// Package metrics exposes Tessera's Prometheus metrics: requests by route and
// status, request latency, and tokens issued by grant and result. A Metrics
// owns its registry; nothing is registered globally.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
}

// New registers Tessera's collectors on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tessera_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_tokens_issued_total", Help: "Token requests by grant type and result (success or OAuth error code).",
		}, []string{"grant", "result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.tokens,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest records one finished request.
func (m *Metrics) ObserveRequest(r *http.Request, status int, elapsed time.Duration) {
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(elapsed.Seconds())
}

// ObserveToken records one token request outcome.
func (m *Metrics) ObserveToken(grant, result string) {
	m.tokens.WithLabelValues(grant, result).Inc()
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// FeedStatus is a change feed follower's progress.
type FeedStatus struct {
	Applied        int64
	LagRevisions   int64
	LagSeconds     float64
	ChangesApplied uint64
	FullReloads    uint64
}

// WatchFeed exports the progress of this replica's change feed follower,
// read from status at each scrape.
func (m *Metrics) WatchFeed(status func() FeedStatus) {
	gauge := func(name, help string, v func(FeedStatus) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return v(status()) })
	}
	counter := func(name, help string, v func(FeedStatus) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return v(status()) })
	}
	m.reg.MustRegister(
		gauge("tessera_feed_applied_revision", "Newest change feed revision this replica has applied.",
			func(s FeedStatus) float64 { return float64(s.Applied) }),
		gauge("tessera_feed_lag_revisions", "Committed change feed revisions this replica has not applied yet.",
			func(s FeedStatus) float64 { return float64(s.LagRevisions) }),
		gauge("tessera_feed_lag_seconds", "How long this replica has not been caught up with the change feed.",
			func(s FeedStatus) float64 { return s.LagSeconds }),
		counter("tessera_feed_changes_applied_total", "Change feed entries applied to this replica's in-memory views.",
			func(s FeedStatus) float64 { return float64(s.ChangesApplied) }),
		counter("tessera_feed_full_reloads_total", "Full reloads of the in-memory views (start-up, or after falling behind the feed's retention).",
			func(s FeedStatus) float64 { return float64(s.FullReloads) }),
	)
}
