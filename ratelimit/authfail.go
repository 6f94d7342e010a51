package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// FailureOptions configure a FailureGuard.
type FailureOptions struct {
	Redis  redis.UniversalClient
	Prefix string
	// Max failed authentications per source address are allowed per
	// Window (as a GCRA budget: a burst of Max, then one per Window/Max).
	Max    int
	Window time.Duration
	Log    *slog.Logger
	// Now is the clock of the in-memory block list (time.Now when nil).
	Now func() time.Time
}

// FailureGuard throttles failed authentications per source address.
//
// Failures are charged in Redis, so the budget is shared by every replica.
// The request path never reads Redis: when a charge finds the address over
// its budget, the address is blocked in this process until the budget has
// room again, and Wrap answers its requests 429 before authenticating them.
// Each replica therefore lets at most one failure past the exhausted budget
// per retry period; requests already in flight when the budget runs out
// still finish their authentication.
type FailureGuard struct {
	rl     *redis_rate.Limiter
	prefix string
	limit  redis_rate.Limit
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	blocked map[string]time.Time // address -> end of its block
	maxSize int
}

// NewFailureGuard checks o and returns the guard.
func NewFailureGuard(o FailureOptions) (*FailureGuard, error) {
	if o.Redis == nil {
		return nil, errors.New("ratelimit: no Redis client")
	}
	if o.Max < 1 || o.Window <= 0 {
		return nil, fmt.Errorf("ratelimit: failure budget %d per %s is not positive", o.Max, o.Window)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &FailureGuard{
		rl: redis_rate.NewLimiter(o.Redis), prefix: o.Prefix,
		limit: redis_rate.Limit{Rate: o.Max, Period: o.Window, Burst: o.Max},
		log:   o.Log, now: o.Now, blocked: map[string]time.Time{}, maxSize: 100_000,
	}, nil
}

// Key returns the failure-budget key of address ip (without "rate:").
func (g *FailureGuard) Key(ip string) string { return g.prefix + "rl:authfail:{" + ip + "}" }

// Blocked reports whether ip is blocked at now, and for how long still.
func (g *FailureGuard) Blocked(ip string, now time.Time) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.blocked[ip]
	if !ok {
		return 0, false
	}
	if !now.Before(until) {
		delete(g.blocked, ip)
		return 0, false
	}
	return until.Sub(now), true
}

// Fail charges one failed authentication to ip. When the budget is
// exhausted it blocks ip locally and reports over with the time until the
// budget has room again.
func (g *FailureGuard) Fail(ctx context.Context, ip string) (over bool, retry time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	res, err := g.rl.Allow(ctx, g.Key(ip), g.limit)
	if err != nil {
		return false, 0, fmt.Errorf("charge authentication failure: %w", err)
	}
	if res.Allowed > 0 {
		return false, 0, nil
	}
	g.block(ip, g.now().Add(res.RetryAfter))
	return true, res.RetryAfter, nil
}

func (g *FailureGuard) block(ip string, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.blocked) >= g.maxSize {
		now := g.now()
		for k, v := range g.blocked {
			if !now.Before(v) {
				delete(g.blocked, k)
			}
		}
		if len(g.blocked) >= g.maxSize {
			return // the Redis budget still throttles; only the shortcut is lost
		}
	}
	g.blocked[ip] = until
}

// Guard throttles a credential check done further down the chain (the
// admin API, the console sign-in): a blocked address gets 429 at once, and
// a request the handlers mark with failedKey (c.Set(failedKey, true)) is
// charged as one failure.
func (g *FailureGuard) Guard(failedKey string, log *slog.Logger) gin.HandlerFunc {
	return g.Wrap(func(c *gin.Context) {
		c.Next()
		if !c.GetBool(failedKey) {
			return
		}
		if _, _, err := g.Fail(c.Request.Context(), c.ClientIP()); err != nil {
			log.WarnContext(c.Request.Context(), "could not charge an authentication failure", "err", err.Error())
		}
	})
}

// Wrap guards the authentication middleware next: a request from a
// blocked address gets 429 without being authenticated.
func (g *FailureGuard) Wrap(next gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if left, ok := g.Blocked(c.ClientIP(), g.now()); ok {
			c.Header(HeaderLimit, strconv.Itoa(g.limit.Burst))
			c.Header(HeaderRemaining, "0")
			c.Header(HeaderReset, seconds(left))
			tooMany(c, left, "too many failed authentications from this address")
			return
		}
		next(c)
	}
}
