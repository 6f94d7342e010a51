package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace starts every metric name.
const namespace = "scimgate"

// Metrics owns the registry and the gateway's collectors.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	rateLimited  *prometheus.CounterVec
	authOutcomes *prometheus.CounterVec
	redisLatency *prometheus.HistogramVec
	redisErrors  *prometheus.CounterVec
	redisFaults  *prometheus.CounterVec
	compatRules  *prometheus.CounterVec

	// The children the hot path uses, by label values (series.go).
	httpRequestsOf *series[httpLabels, prometheus.Counter]
	httpDurationOf *series[routeMethod, prometheus.Observer]
	authSuccessOf  *series[string, prometheus.Counter]  // by mode
	redisLatencyOf *series[string, prometheus.Observer] // by command
}

// routeMethod are the labels of httpDuration.
type routeMethod struct{ route, method string }

// httpLabels are the labels of httpRequests, the status as a number.
type httpLabels struct {
	route, method string
	status        int
	client        string
}

// New returns Metrics on a fresh registry that also carries the Go runtime
// and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests by route pattern, method, status and authenticated SCIM client id (empty when none).",
		}, []string{"route", "method", "status", "client"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ratelimit", Name: "rejections_total",
			Help: "Requests refused with 429 by route pattern and limiter (client: per-client rate after authentication; unauthenticated: failed-authentication guard or OAuth endpoint failure limit).",
		}, []string{"route", "limiter"}),
		authOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "auth", Name: "outcomes_total",
			Help: "SCIM authentication outcomes by mode (static_token, client_credentials, idp_jwt, unknown), outcome (success, rejected) and reason class.",
		}, []string{"mode", "outcome", "reason"}),
		redisLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "redis", Name: "command_duration_seconds",
			Help:    "Redis command latency by command name (pipeline for pipelines and transactions).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"command"}),
		redisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "redis", Name: "command_errors_total",
			Help: "Redis commands that failed (redis.Nil, an empty answer, is not a failure) by command name.",
		}, []string{"command"}),
		redisFaults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "redis", Name: "faults_total",
			Help: "Failed Redis commands that are Redis trouble (answered 503 with Retry-After, never 500), by kind (see package redisfault).",
		}, []string{"kind"}),
		compatRules: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "scim", Name: "compat_rules_applied_total",
			Help: "IdP compatibility rules applied to SCIM requests, by rule.",
		}, []string{"rule"}),
	}
	m.httpRequestsOf = newSeries(func(k httpLabels) prometheus.Counter {
		return m.httpRequests.WithLabelValues(k.route, k.method, statusLabel(k.status), k.client)
	})
	m.httpDurationOf = newSeries(func(k routeMethod) prometheus.Observer {
		return m.httpDuration.WithLabelValues(k.route, k.method)
	})
	m.authSuccessOf = newSeries(func(mode string) prometheus.Counter {
		return m.authOutcomes.WithLabelValues(mode, "success", string(ReasonNone))
	})
	m.redisLatencyOf = newSeries(func(command string) prometheus.Observer {
		return m.redisLatency.WithLabelValues(command)
	})
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.rateLimited, m.authOutcomes,
		m.redisLatency, m.redisErrors, m.redisFaults, m.compatRules,
	)
	return m
}

// Registry returns the registry, e.g. to register further collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// CompatRule counts one application of a SCIM compatibility rule; it fits
// scimapi.Options.OnCompat.
func (m *Metrics) CompatRule(rule string) {
	m.compatRules.WithLabelValues(rule).Inc()
}
