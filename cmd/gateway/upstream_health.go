package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/metrics"
	"github.com/scimgate/scimgate/upstream"
)

// upstreamHealthWorkers bounds the reachability checks run at once.
const upstreamHealthWorkers = 8

// upstreamHealthShown bounds the directories named on /readyz.
const upstreamHealthShown = 10

// upstreamHealth checks every upstream (the configuration's, for the
// default directory, and each upstream directory's) in the background,
// every interval, each within timeout and a few at a time, and keeps the
// results: /readyz reads them, so it stays fast whatever the number of
// directories, and an unreachable upstream degrades readiness without
// failing it.
type upstreamHealth struct {
	def      *upstream.Forwarder // nil: the default directory is stored
	reg      *directory.Registry
	disp     *upstreamDispatcher
	interval time.Duration
	timeout  time.Duration
	setUp    func(dir string, up bool)
	forget   func(dir string)
	log      *slog.Logger

	mu      sync.Mutex
	checked bool
	results map[string]upstreamResult // by directory id
}

// upstreamResult is one directory's last check: err "" when reachable.
type upstreamResult struct {
	name string
	err  string
}

// run checks at once, then every interval until ctx ends.
func (h *upstreamHealth) run(ctx context.Context) {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		h.checkAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type upstreamTarget struct {
	id, name string
	check    func(context.Context) error
}

// targets lists what to check; ok is false when the directories could
// not be listed (the last results are kept then).
func (h *upstreamHealth) targets(ctx context.Context) ([]upstreamTarget, bool) {
	var ts []upstreamTarget
	if h.def != nil {
		ts = append(ts, upstreamTarget{directory.DefaultID, directory.DefaultID, h.forwarderCheck(h.def)})
	}
	if h.reg == nil {
		return ts, true
	}
	dirs, err := h.reg.List(ctx)
	if err != nil {
		h.log.Warn("upstream health: cannot list directories", "err", err.Error())
		return nil, false
	}
	for _, d := range dirs {
		if d.Backend != directory.BackendUpstream || d.Upstream == nil || d.Deleting || d.ID == directory.DefaultID {
			continue
		}
		ts = append(ts, upstreamTarget{d.ID, d.Name, func(ctx context.Context) error {
			e, err := h.disp.lookup(ctx, d.ID)
			if err == nil {
				err = e.err
			}
			if err != nil {
				h.log.Warn("upstream health: directory's upstream settings unusable", "directory", d.ID, "err", err.Error())
				return errors.New("its upstream settings cannot be used (see the log)")
			}
			if e.fwd == nil {
				return nil // no longer an upstream directory
			}
			return h.forwarderCheck(e.fwd)(ctx)
		}})
	}
	return ts, true
}

func (h *upstreamHealth) forwarderCheck(f *upstream.Forwarder) func(context.Context) error {
	return func(ctx context.Context) error { return f.Check(ctx, h.timeout) }
}

// checkAll runs one round of checks and replaces the results.
func (h *upstreamHealth) checkAll(ctx context.Context) {
	ts, ok := h.targets(ctx)
	if !ok {
		return
	}
	results := make(map[string]upstreamResult, len(ts))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, upstreamHealthWorkers)
	for _, t := range ts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := upstreamResult{name: t.name}
			if err := t.check(ctx); err != nil {
				r.err = err.Error()
			}
			mu.Lock()
			results[t.id] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	h.mu.Lock()
	old := h.results
	h.results, h.checked = results, true
	h.mu.Unlock()
	for id, r := range results {
		h.setUp(id, r.err == "")
	}
	for id := range old {
		if _, ok := results[id]; !ok {
			h.forget(id)
		}
	}
}

// readyChecks are /readyz's checks over the last results: "upstream" for
// the configuration's upstream, "upstreams" for the directories'.
func (h *upstreamHealth) readyChecks() map[string]func(context.Context) error {
	checks := map[string]func(context.Context) error{
		"upstreams": func(context.Context) error { return h.directoriesErr() },
	}
	if h.def != nil {
		checks["upstream"] = func(context.Context) error {
			h.mu.Lock()
			r, ok := h.results[directory.DefaultID]
			h.mu.Unlock()
			if ok && r.err != "" {
				return errors.New(r.err)
			}
			return nil
		}
	}
	return checks
}

// directoriesErr sums up the unreachable upstream directories (nil: none,
// or not checked yet).
func (h *upstreamHealth) directoriesErr() error {
	h.mu.Lock()
	var bad []string
	total := 0
	for id, r := range h.results {
		if id == directory.DefaultID {
			continue
		}
		total++
		if r.err != "" {
			bad = append(bad, id+": "+r.err) // ids, not names: /readyz is unauthenticated
		}
	}
	h.mu.Unlock()
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	n, more := len(bad), ""
	if n > upstreamHealthShown {
		more = fmt.Sprintf("; and %d more", n-upstreamHealthShown)
		bad = bad[:upstreamHealthShown]
	}
	return fmt.Errorf("%d of %d upstream directories unreachable: %s%s", n, total, strings.Join(bad, "; "), more)
}

// startUpstreamHealth starts the background checks (until ctx ends or
// stop is called; stop returns once they have ended) and returns /readyz's
// checks over their results.
func startUpstreamHealth(ctx context.Context, def *upstream.Forwarder, reg *directory.Registry, disp *upstreamDispatcher,
	mx *metrics.Metrics, cfg config.Config, log *slog.Logger) (map[string]func(context.Context) error, func(), error) {
	setUp, forget, err := mx.UpstreamUp()
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	h := &upstreamHealth{def: def, reg: reg, disp: disp, interval: cfg.Upstream.HealthInterval.Std(), timeout: cfg.Upstream.HealthTimeout.Std(),
		setUp: setUp, forget: forget, log: log}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); h.run(ctx) }()
	return h.readyChecks(), func() { cancel(); <-done }, nil
}
