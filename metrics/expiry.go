package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimgate/scimgate/tokenstore"
)

// ExpiryWindow is how far ahead scimgate_credentials_expiring_soon looks.
const ExpiryWindow = 30 * 24 * time.Hour

// expiryCacheTTL bounds how often the token list is read from Redis:
// scrapes within a minute of the last read get the cached count.
const expiryCacheTTL = time.Minute

// expiryListTimeout bounds one read of the token list.
const expiryListTimeout = 5 * time.Second

// kindStaticToken is the kind label of static system tokens.
const kindStaticToken = "static_token"

// TokenLister lists static tokens; tokenstore.Store satisfies it.
type TokenLister interface {
	ListTokens(ctx context.Context, clientID string) ([]tokenstore.Token, error)
}

// WatchExpiringCredentials registers the gauge
// scimgate_credentials_expiring_soon{kind="static_token"}: active (not
// revoked, not expired) static tokens whose expiry is within ExpiryWindow.
// It is computed on scrape from one ListTokens call, at most once per
// minute (later scrapes reuse the count); a failed read keeps the last
// count, counts scimgate_credentials_expiry_scrape_errors_total and is
// logged. Every replica reports the same value: aggregate with max().
func (m *Metrics) WatchExpiringCredentials(tokens TokenLister, now func() time.Time, log *slog.Logger) error {
	c := &expiryCollector{
		tokens: tokens, now: now, log: log,
		desc: prometheus.NewDesc(prometheus.BuildFQName(namespace, "credentials", "expiring_soon"),
			"Active credentials expiring within 30 days, by kind (computed at most once a minute).",
			[]string{"kind"}, nil),
		errs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "credentials", Name: "expiry_scrape_errors_total",
			Help: "Failed reads of the token list behind scimgate_credentials_expiring_soon.",
		}),
	}
	// The error counter is collected by the same collector, after the
	// read: registered on its own, the registry could gather it
	// concurrently, before a failure of this very scrape was counted.
	if err := m.reg.Register(c); err != nil {
		return fmt.Errorf("register expiring-credentials collector: %w", err)
	}
	return nil
}

// expiryCollector is a prometheus.Collector with a one-minute cache.
type expiryCollector struct {
	tokens TokenLister
	now    func() time.Time
	log    *slog.Logger
	desc   *prometheus.Desc
	errs   prometheus.Counter

	mu     sync.Mutex // serialises refreshes, so concurrent scrapes read once
	readAt time.Time
	count  int
	ok     bool // a read has succeeded at least once
}

// Describe implements prometheus.Collector.
func (e *expiryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- e.desc
	e.errs.Describe(ch)
}

// Collect implements prometheus.Collector.
func (e *expiryCollector) Collect(ch chan<- prometheus.Metric) {
	n, ok := e.current()
	e.errs.Collect(ch)
	if !ok {
		return // never read successfully: no sample rather than a false 0
	}
	ch <- prometheus.MustNewConstMetric(e.desc, prometheus.GaugeValue, float64(n), kindStaticToken)
}

func (e *expiryCollector) current() (int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	if !e.readAt.IsZero() && now.Sub(e.readAt) < expiryCacheTTL {
		return e.count, e.ok
	}
	e.readAt = now // also after a failure: retry at most once a minute
	ctx, cancel := context.WithTimeout(context.Background(), expiryListTimeout)
	defer cancel()
	toks, err := e.tokens.ListTokens(ctx, "")
	if err != nil {
		e.errs.Inc()
		e.log.Warn("metrics: listing tokens for scimgate_credentials_expiring_soon failed", "err", err.Error())
		return e.count, e.ok
	}
	e.count, e.ok = countExpiring(toks, now, ExpiryWindow), true
	return e.count, true
}

// countExpiring counts the active tokens of toks expiring within window
// of now.
func countExpiring(toks []tokenstore.Token, now time.Time, window time.Duration) int {
	n := 0
	for _, t := range toks {
		if t.Status(now) == tokenstore.StatusActive && t.ExpiresAt.Before(now.Add(window)) {
			n++
		}
	}
	return n
}
