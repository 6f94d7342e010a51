package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// ReadCacheStats is what the read cache reports (store.ReadCache.Stats).
type ReadCacheStats struct {
	Hits, Misses uint64
	Entries      int
	Bytes        int64
	Serving      bool
}

// WatchReadCache registers the read cache's hits, misses, size and state,
// read from stats at each scrape.
func (m *Metrics) WatchReadCache(stats func() ReadCacheStats) error {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: namespace, Subsystem: "read_cache", Name: name, Help: help}
	}
	cs := []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts(opts("hits_total", "Reads by id answered from the gateway's read cache.")),
			func() float64 { return float64(stats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts(opts("misses_total", "Reads by id through the read cache that went to Redis.")),
			func() float64 { return float64(stats().Misses) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("entries", "Replies the read cache holds.")),
			func() float64 { return float64(stats().Entries) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("bytes", "Estimated size of the replies the read cache holds.")),
			func() float64 { return float64(stats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("serving", "Whether reads by id use the read cache (1) or go to Redis (0: tracking refused, or Redis not answering its ping).")),
			func() float64 {
				if stats().Serving {
					return 1
				}
				return 0
			}),
	}
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return fmt.Errorf("register read cache metrics: %w", err)
		}
	}
	return nil
}
