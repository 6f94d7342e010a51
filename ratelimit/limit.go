package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/scimgate/scimgate/tokenstore"
)

// ParseRate parses a rate written "N/s", "N/m" or "N/h" (N ≥ 1).
func ParseRate(s string) (int, time.Duration, error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, fmt.Errorf("rate %q: want N/s, N/m or N/h", s)
	}
	rate, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || rate < 1 || rate > 1_000_000 {
		return 0, 0, fmt.Errorf("rate %q: N must be a whole number from 1 to 1000000", s)
	}
	var per time.Duration
	switch strings.TrimSpace(unit) {
	case "s":
		per = time.Second
	case "m":
		per = time.Minute
	case "h":
		per = time.Hour
	default:
		return 0, 0, fmt.Errorf("rate %q: unit must be s, m or h", s)
	}
	return rate, per, nil
}

// toLimit converts a stored override; ok is false for an unusable one.
func toLimit(r *tokenstore.RateLimit) (redis_rate.Limit, bool) {
	if r == nil || r.Rate < 1 || r.Period <= 0 {
		return redis_rate.Limit{}, false
	}
	burst := r.Burst
	if burst < 1 {
		burst = r.Rate
	}
	return redis_rate.Limit{Rate: r.Rate, Period: r.Period, Burst: burst}, true
}
