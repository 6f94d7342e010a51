package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/scimgate/scimgate/tokenstore"
)

// ClientSource reads a client's record (tokenstore.Store satisfies it).
type ClientSource interface {
	GetClient(ctx context.Context, id string) (tokenstore.Client, error)
}

// overrideCache remembers each client's rate-limit override for ttl (≤ 1s),
// so reading it costs one store round trip per client per ttl per replica,
// not one per request. Failed reads are cached too, as "no override".
type overrideCache struct {
	src ClientSource
	ttl time.Duration
	max int
	log *slog.Logger

	mu      sync.Mutex
	entries map[string]overrideEntry
}

type overrideEntry struct {
	rl      *tokenstore.RateLimit
	expires time.Time
}

func newOverrideCache(src ClientSource, ttl time.Duration, log *slog.Logger) *overrideCache {
	return &overrideCache{src: src, ttl: ttl, max: 10000, log: log, entries: map[string]overrideEntry{}}
}

// get returns clientID's override (nil: none or unknown) as of now.
func (o *overrideCache) get(ctx context.Context, clientID string, now time.Time) *tokenstore.RateLimit {
	if o == nil || o.src == nil {
		return nil
	}
	o.mu.Lock()
	e, ok := o.entries[clientID]
	o.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.rl
	}
	c, err := o.src.GetClient(ctx, clientID)
	var rl *tokenstore.RateLimit
	switch {
	case err == nil:
		rl = c.RateLimit
	case !errors.Is(err, tokenstore.ErrNotFound):
		o.log.WarnContext(ctx, "rate limit override unreadable; using the default", "client_id", clientID, "err", err.Error())
	}
	o.mu.Lock()
	if len(o.entries) >= o.max {
		clear(o.entries) // a burst of distinct clients: start over rather than grow
	}
	o.entries[clientID] = overrideEntry{rl: rl, expires: now.Add(o.ttl)}
	o.mu.Unlock()
	return rl
}
