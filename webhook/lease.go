package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// lease is a Redis key naming the one consumer that delivers to a
// subscriber. It expires unless renewed, so a crashed holder's subscriber
// is taken over after at most ttl.
type lease struct {
	client redis.UniversalClient
	key    string
	holder string
	ttl    time.Duration
}

var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// acquire takes the lease if nobody holds it.
func (l *lease) acquire(ctx context.Context) (bool, error) {
	ok, err := l.client.SetNX(ctx, l.key, l.holder, l.ttl).Result()
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", l.key, err)
	}
	return ok, nil
}

// renew extends the lease; false means it is no longer ours.
func (l *lease) renew(ctx context.Context) (bool, error) {
	n, err := renewScript.Run(ctx, l.client, []string{l.key}, l.holder, l.ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("renew lease %s: %w", l.key, err)
	}
	return n == 1, nil
}

// release gives the lease up, if still ours, so a standby takes over
// without waiting for it to expire.
func (l *lease) release(ctx context.Context) error {
	if err := releaseScript.Run(ctx, l.client, []string{l.key}, l.holder).Err(); err != nil {
		return fmt.Errorf("release lease %s: %w", l.key, err)
	}
	return nil
}

// keep renews the lease every ttl/3 until ctx ends. It calls lost (once)
// when someone else holds the lease, or when renewals failed for so long
// that the lease may have expired.
func (l *lease) keep(ctx context.Context, lost func(error)) {
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ok, err := l.renew(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case err == nil && ok:
				last = time.Now()
			case err == nil:
				lost(fmt.Errorf("lease %s taken over", l.key))
				return
			case time.Since(last) > l.ttl*2/3:
				lost(err)
				return
			}
		}
	}
}
