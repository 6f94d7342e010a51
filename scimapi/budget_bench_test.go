package scimapi_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/store"
)

// seedEntraUsers creates n Entra-shaped users (name, emails, enterprise
// extension) directly in the store, in parallel.
func seedEntraUsers(tb testing.TB, st store.Store, n int) {
	tb.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				u := entraUser(fmt.Sprintf("user%06d@example.com", i), fmt.Sprintf("ext-%06d", i))
				delete(u, "password")
				delete(u, "meta")
				u["name"] = map[string]any{"givenName": "Ada", "familyName": fmt.Sprintf("Family%06d", (i*7919)%n), "formatted": "Ada L"}
				if _, err := st.Create(context.Background(), store.TypeUser, u, nil, nil); err != nil {
					tb.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// peakHeap samples the live heap while fn runs and returns how far it rose
// above the heap measured (after a GC) before fn.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(done)
	<-stopped
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// BenchmarkLargeStore runs the per-request budgets' worst cases over a
// store of SCIMGATE_BENCH_USERS users (default 100,000) on the real Redis
// at SCIMGATE_TEST_REDIS_URL (miniredis otherwise; seed fewer users then):
// an unindexed filter and a sortBy over every user. peak-heap-B is the
// live heap's rise during one request (sampled every millisecond).
//
//	SCIMGATE_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench LargeStore -benchmem ./scimapi/
//
// SCIMGATE_BENCH_PREFIX=bench: keeps the seeded users under that key
// prefix and reuses them in later runs.
func BenchmarkLargeStore(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SCIMGATE_BENCH_USERS")); err == nil && v > 0 {
		n = v
	}
	r := benchBackend(b)
	if keep := os.Getenv("SCIMGATE_BENCH_PREFIX"); keep != "" && r.Mini == nil {
		// Reuse (and keep) a store seeded by an earlier run: seeding
		// 100,000 users takes a minute or more on a shared machine.
		kept := *r // a copy: the original's prefix is deleted at cleanup
		kept.Prefix = keep
		r = &kept
	}
	// The time budget is lifted to measure a whole scan on a busy machine.
	e := &benchEnv{
		env: newEnvWith(&testing.T{}, r, func(o *scimapi.Options) { o.ScanTime = time.Minute }),
		st:  store.NewRedis(r.Client, r.Prefix),
	}
	if have, _ := e.st.Count(context.Background(), store.TypeUser); have < int64(n) {
		start := time.Now()
		seedEntraUsers(b, e.st, n-int(have))
		b.Logf("seeded %d users in %s", n-int(have), time.Since(start).Round(time.Millisecond))
	}
	for _, q := range []struct{ name, path string }{
		{"unindexed-familyName", "/scim/v2/Users?filter=name.familyName+eq+%22x%22"},
		{"sortBy-familyName", "/scim/v2/Users?sortBy=name.familyName&count=10"},
	} {
		b.Run(q.name, func(b *testing.B) {
			var peak uint64
			for i := 0; i < b.N; i++ {
				peak = max(peak, peakHeap(func() { e.serve(b, "GET", q.path, "", 200) }))
			}
			b.ReportMetric(float64(peak), "peak-heap-B")
		})
	}
}
