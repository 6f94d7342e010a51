package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// OnRedisError is the direction a limiter fails in when Redis is unreachable.
type OnRedisError string

// The failure directions.
const (
	// Allow admits the request and logs (at most once per logEvery).
	Allow OnRedisError = "allow"
	// Deny answers 503 with Retry-After: 1.
	Deny OnRedisError = "deny"
)

// redisTimeout bounds the limiter's Redis call, so a hung server slows a
// request by at most this much before the failure direction applies.
const redisTimeout = 500 * time.Millisecond

// logEvery spaces the "Redis unreachable" log lines of an allowing limiter.
const logEvery = 10 * time.Second

// ClientOptions configure a ClientLimiter.
type ClientOptions struct {
	// Redis is where the limiter state lives (every replica uses the same).
	Redis redis.UniversalClient
	// Prefix starts every key (the configured redis.prefix).
	Prefix string
	// Rate requests per second, in bursts of up to Burst, for clients
	// without an override. Rate 0 leaves such clients unlimited.
	Rate, Burst int
	// Clients supplies per-client overrides (tokenstore.Client.RateLimit),
	// cached for OverrideTTL (default and at most 1s); nil: no overrides.
	Clients     ClientSource
	OverrideTTL time.Duration
	// DirectoryRate requests per second, in bursts of up to
	// DirectoryBurst, limit all the clients of one directory together, in
	// addition to each client's own limit, for directories without a limit
	// of their own. DirectoryRate 0 leaves such directories unlimited.
	DirectoryRate, DirectoryBurst int
	// Directories supplies directories' own limits (directory.Registry),
	// cached like client overrides; nil: DirectoryRate for every directory.
	Directories DirectorySource
	// OnRedisError is the failure direction (default Allow).
	OnRedisError OnRedisError
	Log          *slog.Logger
	// Now is the clock of the override cache (time.Now when nil).
	Now func() time.Time
}

// ClientLimiter limits each authenticated SCIM client's request rate.
type ClientLimiter struct {
	rl        *redis_rate.Limiter
	rdb       redis.UniversalClient
	prefix    string
	def       redis_rate.Limit
	overrides *overrideCache
	dirDef    redis_rate.Limit // directory default (directory.go)
	dirs      *overrideCache   // directories' own limits; nil: none
	onErr     OnRedisError
	log       *slog.Logger
	now       func() time.Time
	lastLog   atomic.Int64 // unix nanos of the last "Redis unreachable" line
	leases    leases       // tokens leased from Redis, per client (lease.go)
}

// NewClientLimiter checks o and returns the limiter.
func NewClientLimiter(o ClientOptions) (*ClientLimiter, error) {
	if o.Redis == nil {
		return nil, errors.New("ratelimit: no Redis client")
	}
	if o.Rate < 0 || o.Burst < 0 {
		return nil, fmt.Errorf("ratelimit: rate %d and burst %d must not be negative", o.Rate, o.Burst)
	}
	if o.DirectoryRate < 0 || o.DirectoryBurst < 0 {
		return nil, fmt.Errorf("ratelimit: directory rate %d and burst %d must not be negative", o.DirectoryRate, o.DirectoryBurst)
	}
	switch o.OnRedisError {
	case "":
		o.OnRedisError = Allow
	case Allow, Deny:
	default:
		return nil, fmt.Errorf("ratelimit: on_redis_error %q is not allow or deny", o.OnRedisError)
	}
	if o.OverrideTTL <= 0 || o.OverrideTTL > time.Second {
		o.OverrideTTL = time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	def := redis_rate.Limit{Rate: o.Rate, Period: time.Second, Burst: max(o.Burst, o.Rate)}
	l := &ClientLimiter{
		rl: NewGCRA(o.Redis), rdb: o.Redis, prefix: o.Prefix, def: def,
		onErr: o.OnRedisError, log: o.Log, now: o.Now,
		leases: leases{m: map[string]*lease{}},
	}
	if o.Clients != nil {
		l.overrides = newOverrideCache(o.Clients, o.OverrideTTL, o.Log)
	}
	l.dirDef = redis_rate.Limit{Rate: o.DirectoryRate, Period: time.Second, Burst: max(o.DirectoryBurst, o.DirectoryRate)}
	if o.Directories != nil {
		l.dirs = newDirectoryCache(o.Directories, o.OverrideTTL, o.Log)
	}
	return l, nil
}

// Key returns the limiter key of clientID (without redis_rate's "rate:").
// The client id is the hash tag, spreading clients over Cluster slots.
func (l *ClientLimiter) Key(clientID string) string {
	return l.prefix + "rl:client:{" + clientID + "}"
}

// LimitFor returns the limit applying to clientID: its override, else the
// default. A zero Rate means unlimited.
func (l *ClientLimiter) LimitFor(ctx context.Context, clientID string) redis_rate.Limit {
	if lim, ok := toLimit(l.overrides.get(ctx, clientID, l.now())); ok {
		return lim
	}
	return l.def
}

// Middleware limits the principal set by auth.Middleware, which must run
// first: its client's limit, then its directory's (directory.go). It
// admits requests from tokens leased from the shared GCRA in batches
// (lease.go): a Redis round trip per batch, not per request (plus, once
// per second per client and per directory, the override read).
func (l *ClientLimiter) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := auth.FromContext(c.Request.Context())
		if !ok {
			// Only reachable if mounted without authentication in front.
			c.Next()
			return
		}
		var (
			shown *redis_rate.Result
			buf   [2]bucket
		)
		for _, b := range l.buckets(c.Request.Context(), p, buf[:0]) {
			// allow bounds its own round trip (and so any wait for it) by redisTimeout.
			res, err := l.allow(c.Request.Context(), b.key, b.lim)
			if err != nil {
				l.redisFailed(c, err)
				if c.IsAborted() {
					return
				}
				continue
			}
			if res.Allowed == 0 {
				setHeaders(c, res)
				tooMany(c, res.RetryAfter, "rate limit exceeded for "+b.whose+": "+limitText(b.lim))
				return
			}
			shown = tighter(shown, res)
		}
		if shown != nil {
			setHeaders(c, shown)
		}
		c.Next()
	}
}

// Charge charges n more requests to the rate limits of the client that c
// acts for and of its directory, beyond the one Middleware charged, before
// the work they stand for starts: a /Bulk request costs one request per
// operation (RFC 7644 §3.7). It reports whether the request may go on;
// when not, it has answered: 429 with Retry-After when an allowance cannot
// cover n now, 413 when n exceeds a whole burst (no wait would help), or
// the failure direction when Redis is unreachable. Nothing is charged when
// refused with 413 or by the client's limit; when the directory's limit
// refuses, the n already charged to the client stay charged (the two
// budgets live in different Cluster slots, so no one script can take both).
func (l *ClientLimiter) Charge(c *gin.Context, n int) bool {
	p, ok := auth.FromContext(c.Request.Context())
	if !ok || n <= 0 {
		return true
	}
	var buf [2]bucket
	bs := l.buckets(c.Request.Context(), p, buf[:0])
	for _, b := range bs {
		if n+1 > b.lim.Burst {
			status, body := scimerr.ToBody(scimerr.New(http.StatusRequestEntityTooLarge, "", "the request stands for %d operations; %s rate limit allows at most %d at once (%s)", n+1, possessive(b.whose), b.lim.Burst, limitText(b.lim)))
			c.Header("Content-Type", "application/scim+json")
			c.AbortWithStatusJSON(status, body)
			return false
		}
	}
	var shown *redis_rate.Result
	for _, b := range bs {
		ctx, cancel := context.WithTimeout(c.Request.Context(), redisTimeout)
		res, err := l.rl.AllowN(ctx, b.key, b.lim, n)
		cancel()
		if err != nil {
			l.redisFailed(c, err)
			if c.IsAborted() {
				return false
			}
			continue
		}
		if res.Allowed == 0 {
			setHeaders(c, res)
			tooMany(c, res.RetryAfter, fmt.Sprintf("rate limit exceeded for %s: the request stands for %d operations; %s", b.whose, n+1, limitText(b.lim)))
			return false
		}
		shown = tighter(shown, res)
	}
	if shown != nil {
		setHeaders(c, shown)
	}
	return true
}

// redisFailed applies the failure direction: deny answers 503 and aborts
// c; allow logs (at most once per logEvery) and leaves c to go on.
func (l *ClientLimiter) redisFailed(c *gin.Context, err error) {
	if l.onErr == Deny {
		l.log.WarnContext(c.Request.Context(), "rate limiter: Redis unreachable; request denied", "err", err.Error())
		unavailable(c)
		return
	}
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last >= int64(logEvery) && l.lastLog.CompareAndSwap(last, now) {
		l.log.WarnContext(c.Request.Context(), "rate limiter: Redis unreachable; admitting requests unlimited (ratelimit.on_redis_error=allow)", "err", err.Error())
	}
}
