package oauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/ratelimit"
)

// tokenRateTimeout bounds the token-rate limiter's Redis call.
const tokenRateTimeout = 500 * time.Millisecond

// TokenRateLimiter limits how many access tokens each client obtains:
// GCRA in Redis (go-redis/redis_rate), shared by every replica, keyed by
// the authenticated client id. It runs after client authentication, so
// only a client's own (successful) requests spend its budget; failed
// authentications are FailureLimiter's business.
type TokenRateLimiter struct {
	rl     *redis_rate.Limiter
	prefix string
	limit  redis_rate.Limit
	// denyOnError refuses (503) instead of admitting when Redis fails.
	denyOnError bool
}

// NewTokenRateLimiter allows perMinute tokens per minute per client, in
// bursts of up to perMinute. perMinute 0 returns nil: no limit (a nil
// limiter admits everything). denyOnError picks the direction when Redis
// is unreachable: refuse with 503 (true) or admit (false).
func NewTokenRateLimiter(rdb redis.UniversalClient, prefix string, perMinute int, denyOnError bool) (*TokenRateLimiter, error) {
	if strings.ContainsAny(prefix, "{}") {
		return nil, fmt.Errorf("oauth: key prefix %q must not contain braces", prefix)
	}
	if perMinute < 0 {
		return nil, fmt.Errorf("oauth: token rate %d per minute is negative", perMinute)
	}
	if perMinute == 0 {
		return nil, nil
	}
	return &TokenRateLimiter{rl: ratelimit.NewGCRA(rdb), prefix: prefix, limit: redis_rate.PerMinute(perMinute), denyOnError: denyOnError}, nil
}

// key is the limiter key of an authenticated client id (a UUID); the id is
// the hash tag, spreading clients over Cluster slots.
func (l *TokenRateLimiter) key(clientID string) string {
	return l.prefix + "rl:token:{" + clientID + "}"
}

// errTokenRate is returned by Allow when Redis fails and the limiter
// admits anyway; callers log it.
var errTokenRate = errors.New("token rate limiter: Redis unreachable")

// Allow spends one token issuance of clientID. It returns the time to
// wait when the client is over its rate.
func (l *TokenRateLimiter) Allow(ctx context.Context, clientID string) (retry time.Duration, ok bool, err error) {
	if l == nil {
		return 0, true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, tokenRateTimeout)
	defer cancel()
	res, err := l.rl.Allow(ctx, l.key(clientID), l.limit)
	if err != nil {
		return 0, !l.denyOnError, fmt.Errorf("%w: %w", errTokenRate, err)
	}
	if res.Allowed == 0 {
		return res.RetryAfter, false, nil
	}
	return 0, true, nil
}

// tooManyTokens is a client over its token rate; internalError answers it
// with 429, Retry-After and an RFC 6749 §5.2 body.
type tooManyTokens struct{ retry time.Duration }

func (e *tooManyTokens) Error() string { return "too many token requests" }
