package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// FailureLimiter counts failed client authentications per client id and
// per source address in fixed windows in Redis, shared by every replica.
// A client id or address with Max failures in the current window is
// refused (429) until the window ends, whatever its credentials.
type FailureLimiter struct {
	rdb    redis.UniversalClient
	base   string
	max    int64
	window time.Duration
}

// NewFailureLimiter returns a limiter allowing max failures per window.
func NewFailureLimiter(rdb redis.UniversalClient, prefix string, max int, window time.Duration) (*FailureLimiter, error) {
	if strings.ContainsAny(prefix, "{}") {
		return nil, fmt.Errorf("oauth: key prefix %q must not contain braces", prefix)
	}
	if max < 1 || window <= 0 {
		return nil, fmt.Errorf("oauth: failure limit %d per %s is not positive", max, window)
	}
	return &FailureLimiter{rdb: rdb, base: prefix + "{oauth}:authfail:", max: int64(max), window: window}, nil
}

// keys returns the counter keys for the window containing now and the
// window's remaining time. The client id is hashed: it is caller-chosen
// text of any length.
func (l *FailureLimiter) keys(clientID, ip string, now time.Time) ([]string, time.Duration) {
	w := now.UnixMilli() / l.window.Milliseconds()
	suffix := ":" + strconv.FormatInt(w, 10)
	var keys []string
	if clientID != "" {
		sum := sha256.Sum256([]byte(clientID))
		keys = append(keys, l.base+"c:"+hex.EncodeToString(sum[:16])+suffix)
	}
	if ip != "" {
		keys = append(keys, l.base+"i:"+ip+suffix)
	}
	end := time.UnixMilli((w + 1) * l.window.Milliseconds())
	return keys, end.Sub(now)
}

// Check reports whether clientID or ip is over the limit at now, and if so
// how long until the window ends.
func (l *FailureLimiter) Check(ctx context.Context, clientID, ip string, now time.Time) (time.Duration, bool, error) {
	keys, left := l.keys(clientID, ip, now)
	if len(keys) == 0 {
		return 0, false, nil
	}
	vals, err := l.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return 0, false, fmt.Errorf("read authentication failures: %w", err)
	}
	for _, v := range vals {
		s, _ := v.(string)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= l.max {
			return left, true, nil
		}
	}
	return 0, false, nil
}

// Fail records one failed authentication of clientID from ip at now.
func (l *FailureLimiter) Fail(ctx context.Context, clientID, ip string, now time.Time) error {
	keys, left := l.keys(clientID, ip, now)
	if len(keys) == 0 {
		return nil
	}
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Incr(ctx, k)
			p.PExpire(ctx, k, left+time.Second)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count authentication failure: %w", err)
	}
	return nil
}
