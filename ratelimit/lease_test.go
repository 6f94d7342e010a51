package ratelimit_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redistest"
)

// scriptCounter counts the scripts a client runs (the limiter's round trips).
type scriptCounter struct{ n atomic.Int64 }

func (s *scriptCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (s *scriptCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (s *scriptCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); n == "evalsha" || n == "eval" {
			s.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

// TestLeaseBatchesRoundTrips: a client far under a high limit is admitted
// from leased tokens, many requests per Redis round trip.
func TestLeaseBatchesRoundTrips(t *testing.T) {
	r := redistest.Mini(t)
	var sc scriptCounter
	r.Client.AddHook(&sc)
	e := engine(newLimiter(t, r, ratelimit.ClientOptions{Rate: 100_000, Burst: 100_000}).Middleware())
	const n = 2000
	for i := range n {
		if w := get(e, "c1"); w.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, w.Code)
		}
	}
	if got := sc.n.Load(); got > n/10 {
		t.Errorf("%d Redis round trips for %d requests, want at most %d", got, n, n/10)
	}
	t.Logf("%d requests, %d round trips", n, sc.n.Load())
}

// TestLeasesNeverOverAdmit: two replicas alternating on a frozen Redis clock
// admit exactly the burst between them, though each leases batches.
func TestLeasesNeverOverAdmit(t *testing.T) {
	r := redistest.Mini(t)
	r.Mini.SetTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	var sc scriptCounter
	r.Client.AddHook(&sc)
	o := ratelimit.ClientOptions{Rate: 40, Burst: 40} // leases of up to 4 (rate × 100 ms)
	a, b := engine(newLimiter(t, r, o).Middleware()), engine(newLimiter(t, r, o).Middleware())
	admitted := 0
	for range 100 {
		for _, e := range []http.Handler{a, b} {
			switch w := get(e, "c1"); w.Code {
			case http.StatusOK:
				admitted++
			case http.StatusTooManyRequests:
			default:
				t.Fatalf("status %d", w.Code)
			}
		}
	}
	if admitted != 40 {
		t.Errorf("admitted %d of a burst of 40 across two replicas", admitted)
	}
	if sc.n.Load() >= 40+160 {
		t.Errorf("%d round trips: the 40 admitted were not leased in batches", sc.n.Load())
	}
}
