package store

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Forget drops the cached replies that read any of keys, as the store's
// own writes do (for tests that need the cache to hold some keys of a
// resource and not others).
func (rc *ReadCache) Forget(keys ...string) { rc.forget(keys...) }

// Cached is cached, for the probe's test.
func (rc *ReadCache) Cached(ctx context.Context, args ...any) bool { return rc.cached(ctx, args) }

// AddHook adds h to the cache's client.
func (rc *ReadCache) AddHook(h redis.Hook) { rc.client.AddHook(h) }

// ReadArgs is the command line of getOne's read of id's hash.
func (s *Redis) ReadArgs(id string) []any { return hmgetArgs(s.resKey(id)) }
