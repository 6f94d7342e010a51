package webhook

import (
	"math/rand/v2"
	"time"
)

// backoff returns the wait after the n-th failed attempt (n >= 1):
// initial·2^(n-1), capped at most, drawn uniformly from [d/2, d] so that
// replicas retrying after a shared outage spread out.
func backoff(n int, initial, most time.Duration) time.Duration {
	d := initial
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	half := d / 2
	return half + rand.N(d-half+1)
}
