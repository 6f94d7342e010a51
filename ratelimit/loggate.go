package ratelimit

import (
	"sync/atomic"
	"time"
)

// logGate admits one log line per logEvery, so a failure that repeats on
// every request (Redis unreachable) is logged every few seconds, not per
// request.
type logGate struct{ last atomic.Int64 }

// open reports whether a line may be logged at now.
func (g *logGate) open(now time.Time) bool {
	n, last := now.UnixNano(), g.last.Load()
	return n-last >= int64(logEvery) && g.last.CompareAndSwap(last, n)
}
