package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/server"
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
	// Grouping maps source addresses to the networks budgets are kept
	// for (IPv6 by /64 unless configured otherwise).
	Grouping Grouping
	// OnRedisError is the failure direction when a failure cannot be
	// charged (default Allow). Deny refuses, with 503 and Retry-After,
	// every request the guard sees for denyFor after such an error.
	OnRedisError OnRedisError
	// Failures, when set, aggregates every charged failure into AUTH_FAILED
	// audit events, under route family Route.
	Failures *audit.Failures
	Route    string
	// JSONErrors answers 429 and 503 with {"error": "..."} (the admin API
	// and console) instead of a SCIM error body.
	JSONErrors bool
}

// denyFor is how long a guard with OnRedisError Deny refuses every request
// after Redis failed to charge a failure; it is also the Retry-After.
const denyFor = time.Second

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
	rl       *redis_rate.Limiter
	prefix   string
	limit    redis_rate.Limit
	log      *slog.Logger
	now      func() time.Time
	group    Grouping
	onErr    OnRedisError
	failures *audit.Failures
	route    string
	json     bool
	// downUntil (unix nanos) ends the refusal after a failed charge (Deny).
	downUntil atomic.Int64
	// chargeLog and recordLog space the lines of failed charges and
	// AUTH_FAILED records (one per logEvery).
	chargeLog, recordLog logGate

	mu      sync.Mutex
	blocked map[string]time.Time // address -> end of its block
	maxSize int
	// nblocked is len(blocked), readable without mu: while no network is
	// blocked (the usual case), Wrap neither takes mu nor works out the
	// client's address.
	nblocked atomic.Int64
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
	switch o.OnRedisError {
	case "":
		o.OnRedisError = Allow
	case Allow, Deny:
	default:
		return nil, fmt.Errorf("ratelimit: on_redis_error %q is not allow or deny", o.OnRedisError)
	}
	return &FailureGuard{
		rl: NewGCRA(o.Redis), prefix: o.Prefix,
		limit: redis_rate.Limit{Rate: o.Max, Period: o.Window, Burst: o.Max},
		log:   o.Log, now: o.Now, group: o.Grouping, onErr: o.OnRedisError,
		failures: o.Failures, route: o.Route, json: o.JSONErrors,
		blocked: map[string]time.Time{}, maxSize: 100_000,
	}, nil
}

// Key returns the failure-budget key of source network n (Network).
func (g *FailureGuard) Key(n string) string { return g.prefix + "rl:authfail:{" + n + "}" }

// Network is the source network address ip is charged to.
func (g *FailureGuard) Network(ip string) string { return g.group.Network(ip) }

// Blocked reports whether the network of address ip is blocked at now,
// and for how long still.
func (g *FailureGuard) Blocked(ip string, now time.Time) (time.Duration, bool) {
	n := g.Network(ip)
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.blocked[n]
	if !ok {
		return 0, false
	}
	if !now.Before(until) {
		delete(g.blocked, n)
		g.nblocked.Store(int64(len(g.blocked)))
		return 0, false
	}
	return until.Sub(now), true
}

// Fail charges one failed authentication to the network of address ip.
// When the budget is exhausted it blocks the network locally and reports
// over with the time until the budget has room again. When Redis fails and
// the guard denies on Redis errors, the guard refuses every request for
// the next second.
func (g *FailureGuard) Fail(ctx context.Context, ip string) (over bool, retry time.Duration, err error) {
	n := g.Network(ip)
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	res, err := g.rl.Allow(ctx, g.Key(n), g.limit)
	if err != nil {
		if g.onErr == Deny {
			g.downUntil.Store(g.now().Add(denyFor).UnixNano())
		}
		return false, 0, fmt.Errorf("charge authentication failure: %w", err)
	}
	if res.Allowed > 0 {
		return false, 0, nil
	}
	g.block(n, g.now().Add(res.RetryAfter))
	return true, res.RetryAfter, nil
}

// down reports whether the guard refuses everything after a failed charge.
func (g *FailureGuard) down() bool {
	return g.onErr == Deny && g.now().UnixNano() < g.downUntil.Load()
}

// record charges a failure and adds it to the AUTH_FAILED aggregates. It
// returns the charge's error (already logged) so callers can fail closed.
func (g *FailureGuard) record(c *gin.Context, f audit.Failure) error {
	ctx := c.Request.Context()
	ip := c.ClientIP()
	over, _, err := g.Fail(ctx, ip)
	if err != nil && g.chargeLog.open(g.now()) {
		g.log.WarnContext(ctx, "failed authentication not charged", "ip", ip, "on_redis_error", string(g.onErr), "err", err.Error())
	}
	if over {
		f.Reason += "; source over its failure budget, now refused with 429"
	}
	if g.failures == nil {
		return err
	}
	if f.Route == "" {
		f.Route = g.route
	}
	f.Network, f.RequestID, f.Time = g.Network(ip), server.RequestIDFrom(c), g.now()
	if aerr := g.failures.Record(ctx, f); aerr != nil && g.recordLog.open(g.now()) {
		g.log.ErrorContext(ctx, "AUTH_FAILED not recorded", "ip", ip, "err", aerr.Error())
	}
	return err
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
		g.nblocked.Store(int64(len(g.blocked)))
		if len(g.blocked) >= g.maxSize {
			return // the Redis budget still throttles; only the shortcut is lost
		}
	}
	g.blocked[ip] = until
	g.nblocked.Store(int64(len(g.blocked)))
}

// Guard throttles a credential check done further down the chain (the
// admin API, the console sign-in): a blocked network gets 429 at once, and
// a request the handlers mark with failedKey (c.Set(failedKey, true)) is
// charged as one failure and aggregated into AUTH_FAILED (method admin)
// under route family route ("" = the guard's). Its answer is written by
// then: with Deny, a failed charge refuses the requests that follow, not
// this one.
func (g *FailureGuard) Guard(failedKey, route string) gin.HandlerFunc {
	return g.Wrap(func(c *gin.Context) {
		c.Next()
		if !c.GetBool(failedKey) {
			return
		}
		_ = g.record(c, audit.Failure{Reason: "wrong admin credential", Method: "admin", Route: route})
	})
}

// Wrap guards the authentication middleware next: a request from a
// blocked network gets 429 without being authenticated, and while the
// guard fails closed after a Redis error (Deny) every request gets 503.
func (g *FailureGuard) Wrap(next gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if g.down() {
			g.unavailable(c)
			return
		}
		if g.nblocked.Load() == 0 {
			next(c)
			return
		}
		if left, ok := g.Blocked(c.ClientIP(), g.now()); ok {
			c.Header(HeaderLimit, strconv.Itoa(g.limit.Burst))
			c.Header(HeaderRemaining, "0")
			c.Header(HeaderReset, seconds(left))
			const detail = "too many failed authentications from this address"
			if g.json {
				c.Header("Retry-After", seconds(left))
				c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": detail})
				return
			}
			tooMany(c, left, detail)
			return
		}
		next(c)
	}
}

// unavailable answers 503 with Retry-After: failed authentications cannot
// be counted, and the guard fails closed.
func (g *FailureGuard) unavailable(c *gin.Context) {
	const detail = "authentication temporarily unavailable"
	c.Header("Retry-After", seconds(denyFor))
	if g.json {
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": detail})
		return
	}
	status, body := scimerr.ToBody(scimerr.New(http.StatusServiceUnavailable, "", detail))
	c.Header("Content-Type", "application/scim+json")
	c.AbortWithStatusJSON(status, body)
}
