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

// DirectorySource reads a directory's own rate limit (nil: none, the
// configured directory default applies; an unknown directory is nil, nil).
// directory.Registry satisfies it.
type DirectorySource interface {
	DirectoryRateLimit(ctx context.Context, id string) (*tokenstore.RateLimit, error)
}

// overrideCache remembers each client's (or directory's) rate-limit
// override for ttl (≤ 1s), so reading it costs one store round trip per
// client per ttl per replica, not one per request. Failed reads are cached
// too, as "no override".
type overrideCache struct {
	// read returns id's override (nil, nil: none or unknown).
	read func(ctx context.Context, id string) (*tokenstore.RateLimit, error)
	// idAttr names the id in log lines ("client_id", "directory").
	idAttr string
	ttl    time.Duration
	max    int
	log    *slog.Logger

	mu      sync.Mutex
	entries map[string]overrideEntry
}

type overrideEntry struct {
	rl      *tokenstore.RateLimit
	expires time.Time
}

func newOverrideCache(src ClientSource, ttl time.Duration, log *slog.Logger) *overrideCache {
	read := func(ctx context.Context, id string) (*tokenstore.RateLimit, error) {
		c, err := src.GetClient(ctx, id)
		if errors.Is(err, tokenstore.ErrNotFound) {
			return nil, nil
		}
		return c.RateLimit, err
	}
	return &overrideCache{read: read, idAttr: "client_id", ttl: ttl, max: 10000, log: log, entries: map[string]overrideEntry{}}
}

// newDirectoryCache is the override cache of directories' own limits.
func newDirectoryCache(src DirectorySource, ttl time.Duration, log *slog.Logger) *overrideCache {
	return &overrideCache{read: src.DirectoryRateLimit, idAttr: "directory", ttl: ttl, max: 10000, log: log, entries: map[string]overrideEntry{}}
}

// get returns clientID's (or a directory's) override (nil: none or unknown) as of now.
func (o *overrideCache) get(ctx context.Context, clientID string, now time.Time) *tokenstore.RateLimit {
	if o == nil || o.read == nil {
		return nil
	}
	o.mu.Lock()
	e, ok := o.entries[clientID]
	o.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.rl
	}
	rl, err := o.read(ctx, clientID)
	if err != nil {
		rl = nil
		o.log.WarnContext(ctx, "rate limit override unreadable; using the default", o.idAttr, clientID, "err", err.Error())
	}
	o.mu.Lock()
	if len(o.entries) >= o.max {
		clear(o.entries) // a burst of distinct clients: start over rather than grow
	}
	o.entries[clientID] = overrideEntry{rl: rl, expires: now.Add(o.ttl)}
	o.mu.Unlock()
	return rl
}
