package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// UpstreamLatency registers the gateway-mode histogram of upstream SCIM
// request latency, by directory and outcome class (2xx, 3xx, 4xx, 5xx,
// timeout, error), and returns its observer for directory.
func (m *Metrics) UpstreamLatency(directory string) (func(class string, d time.Duration), error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "upstream", Name: "request_duration_seconds",
		Help:    "Latency of SCIM requests forwarded to an upstream SCIM service (gateway mode), by directory and outcome class.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"directory", "class"})
	if err := m.reg.Register(h); err != nil {
		// One histogram serves every directory (label "directory").
		are, ok := err.(prometheus.AlreadyRegisteredError)
		if !ok {
			return nil, err
		}
		if h, ok = are.ExistingCollector.(*prometheus.HistogramVec); !ok {
			return nil, err
		}
	}
	n, err := registerOrExisting(m.reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "upstream", Name: "requests_total",
		Help: "SCIM requests forwarded to an upstream SCIM service (gateway mode), by directory and outcome class (2xx, 3xx, 4xx, 5xx, timeout, error).",
	}, []string{"directory", "class"}))
	if err != nil {
		return nil, err
	}
	return func(class string, d time.Duration) {
		h.WithLabelValues(directory, class).Observe(d.Seconds())
		n.WithLabelValues(directory, class).Inc()
	}, nil
}

// UpstreamUp registers the gauge of each upstream's last reachability
// check (1 reachable, 0 not; by directory) and returns its setter; forget
// drops a directory's series (no longer an upstream).
func (m *Metrics) UpstreamUp() (set func(directory string, up bool), forget func(directory string), err error) {
	g, err := registerOrExisting(m.reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "upstream", Name: "up",
		Help: "Whether the last background reachability check of a directory's upstream SCIM service succeeded (1) or not (0).",
	}, []string{"directory"}))
	if err != nil {
		return nil, nil, err
	}
	set = func(directory string, up bool) {
		v := 0.0
		if up {
			v = 1
		}
		g.WithLabelValues(directory).Set(v)
	}
	return set, func(directory string) { g.DeleteLabelValues(directory) }, nil
}

// registerOrExisting registers c, or returns the collector of the same
// description already registered (one vector serves every directory).
func registerOrExisting[C prometheus.Collector](reg *prometheus.Registry, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		are, ok := err.(prometheus.AlreadyRegisteredError)
		if !ok {
			return c, err
		}
		existing, ok := are.ExistingCollector.(C)
		if !ok {
			return c, err
		}
		return existing, nil
	}
	return c, nil
}
