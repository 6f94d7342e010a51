package store

import (
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ReadCache keeps the replies of reads by id (Get, GetMany of one
// resource) in the gateway's memory, with go-redis's client-side caching:
// its client speaks RESP3 with CLIENT TRACKING on, so Redis remembers which
// keys each of its connections read and pushes an invalidation when one
// changes, whoever changed it; go-redis drops the entry when the push is
// read (at the connection's next command, or by its drainer every few
// milliseconds). A store's own writes drop what they change at once, so a
// read after a write acknowledged on this gateway never sees the old
// version. Entries also expire after maxStaleness, a backstop for a lost
// push, and every entry read over a connection that closes is dropped with
// it (a restarted or failed-over Redis).
//
// It needs one Redis server that accepts CLIENT TRACKING; when the server
// refuses tracking, go-redis serves every read from Redis.
type ReadCache struct {
	client *redis.Client
	cache  *redis.LocalCache
	// ns is the namespace go-redis puts before a key in the cache
	// (database and ACL user); forget needs it to find the key's entries.
	ns string
}

// ReadCacheConfig sizes a ReadCache.
type ReadCacheConfig struct {
	// MaxBytes bounds the cached replies' estimated size.
	MaxBytes int64
	// DrainInterval is how often idle connections are read for pushed
	// invalidations (0: go-redis's default, 5 ms).
	DrainInterval time.Duration
}

// maxStaleness is how long a cached reply is served at most, whatever the
// invalidations: the bound on staleness should a push be lost.
const maxStaleness = 10 * time.Second

// NewReadCache returns a ReadCache reading through a new client to the
// Redis server of opts (copied; only database 0 is cached, as go-redis
// allows). Close it after the stores using it.
func NewReadCache(opts *redis.Options, cfg ReadCacheConfig) *ReadCache {
	o := *opts
	o.Protocol = 3
	// A client's own Options() carry the processor its init chose (one
	// that ignores pushes, on RESP2): the cache needs go-redis's default.
	o.PushNotificationProcessor = nil
	o.ContextTimeoutEnabled = true
	cache := redis.NewLocalCache(redis.CacheConfig{
		MaxMemoryBytes: cfg.MaxBytes,
		MaxStaleness:   maxStaleness,
		DrainInterval:  cfg.DrainInterval,
	})
	o.ClientSideCache = cache
	user := o.Username
	return &ReadCache{
		client: redis.NewClient(&o),
		cache:  cache,
		ns:     strconv.Itoa(o.DB) + "\x00" + strconv.Itoa(len(user)) + ":" + user + "\x00",
	}
}

// Close closes the cache's client.
func (rc *ReadCache) Close() error { return rc.client.Close() }

// Len returns how many replies the cache holds.
func (rc *ReadCache) Len() int { return rc.cache.Len() }

// forget drops the cached replies that read any of keys.
func (rc *ReadCache) forget(keys ...string) {
	for _, k := range keys {
		rc.cache.DeleteByRedisKey(rc.ns + k)
	}
}

// flush drops every cached reply.
func (rc *ReadCache) flush() { rc.cache.Flush() }
