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
	return func(class string, d time.Duration) { h.WithLabelValues(directory, class).Observe(d.Seconds()) }, nil
}
