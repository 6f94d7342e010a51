package store

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
// A cache hit does not reach Redis, so it cannot tell that Redis went out
// of reach (a partition, a stalled server) while other replicas may still
// write to it: a watcher pings Redis through the cache's client every
// HealthInterval, and while a ping fails the cache is emptied and not used
// (reads go to Redis, and fail there). The cache is used only once a probe
// found that the server accepts CLIENT TRACKING.
type ReadCache struct {
	client *redis.Client
	cache  *redis.LocalCache
	// ns is the namespace go-redis puts before a key in the cache
	// (database and ACL user); forget needs it to find the key's entries.
	ns string
	// serving is whether reads may use the cache (see watch).
	serving atomic.Bool
	// probeHits and probeMisses count the lookups of cached, which Stats
	// takes off go-redis's counts: they are not reads.
	probeHits, probeMisses atomic.Uint64
	stop                   context.CancelFunc
	done                   sync.WaitGroup
}

// ReadCacheConfig sizes a ReadCache.
type ReadCacheConfig struct {
	// MaxBytes bounds the cached replies' estimated size.
	MaxBytes int64
	// DrainInterval is how often idle connections are read for pushed
	// invalidations (0: go-redis's default, 5 ms).
	DrainInterval time.Duration
	// HealthInterval is how often Redis is pinged (0: 250 ms); a failed
	// ping stops the cache's use within about twice this.
	HealthInterval time.Duration
	// Log gets the cache's state changes (nil: none).
	Log *slog.Logger
}

// maxStaleness is how long a cached reply is served at most, whatever the
// invalidations: the bound on staleness should a push be lost.
const maxStaleness = 10 * time.Second

// NewReadCache returns a ReadCache reading through a new client to the
// Redis server of opts (copied), database 0 (go-redis caches no other:
// with another it is never used). Close it after the stores using it.
func NewReadCache(opts *redis.Options, cfg ReadCacheConfig) *ReadCache {
	o := *opts
	o.Protocol = 3
	// A client's own Options() carry the processor its init chose (one
	// that ignores pushes, on RESP2): the cache needs go-redis's default.
	o.PushNotificationProcessor = nil
	o.ContextTimeoutEnabled = true
	cache := redis.NewLocalCache(redis.CacheConfig{MaxMemoryBytes: cfg.MaxBytes, MaxStaleness: maxStaleness})
	o.ClientSideCache = cache
	// go-redis takes the drain interval from the config even when the
	// cache itself is given.
	o.ClientSideCacheConfig = &redis.ClientSideCacheConfig{DrainInterval: cfg.DrainInterval}
	user := o.Username
	rc := &ReadCache{
		client: redis.NewClient(&o),
		cache:  cache,
		ns:     strconv.Itoa(o.DB) + "\x00" + strconv.Itoa(len(user)) + ":" + user + "\x00",
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = 250 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rc.stop = cancel
	if o.DB == 0 {
		rc.done.Add(1)
		go rc.watch(ctx, &o, cfg.HealthInterval, cfg.Log)
	}
	return rc
}

// watch decides serving until ctx ends: first it probes, until Redis
// answers, whether the server accepts CLIENT TRACKING (never serving if it
// refuses); then it pings every interval, serving after each ping that
// succeeds and emptying the cache after each that fails.
func (rc *ReadCache) watch(ctx context.Context, o *redis.Options, interval time.Duration, log *slog.Logger) {
	defer rc.done.Done()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	wait := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
			return true
		}
	}
	for {
		ok, err := probeTracking(ctx, o, interval)
		if err == nil && !ok {
			log.Warn("read cache off: the Redis server refuses CLIENT TRACKING")
			return
		}
		if err == nil {
			break
		}
		if !wait() {
			return
		}
	}
	for {
		pctx, cancel := context.WithTimeout(ctx, interval)
		err := rc.client.Ping(pctx).Err()
		cancel()
		switch {
		case err == nil && !rc.serving.Swap(true):
			log.Info("read cache serving")
		case err != nil && ctx.Err() == nil && rc.serving.Swap(false):
			rc.cache.Flush()
			log.Warn("read cache emptied and bypassed: Redis does not answer its ping", "err", err)
		}
		if !wait() {
			return
		}
	}
}

// probeTracking reports whether the server of o accepts CLIENT TRACKING on
// a RESP3 connection of its own; err is set when it could not tell.
func probeTracking(ctx context.Context, o *redis.Options, timeout time.Duration) (bool, error) {
	po := *o
	po.ClientSideCache, po.ClientSideCacheConfig = nil, nil
	po.PoolSize, po.MinIdleConns = 1, 0
	c := redis.NewClient(&po)
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 4*timeout)
	defer cancel()
	conn := c.Conn()
	defer conn.Close()
	if err := conn.Ping(ctx).Err(); err != nil {
		return false, err
	}
	err := conn.Do(ctx, "client", "tracking", "on").Err()
	var refused redis.Error
	if err != nil && !errors.As(err, &refused) {
		return false, err
	}
	return err == nil, nil
}

// Close stops the watcher and closes the cache's client.
func (rc *ReadCache) Close() error {
	rc.stop()
	rc.done.Wait()
	return rc.client.Close()
}

// ReadCacheStats counts a ReadCache's work.
type ReadCacheStats struct {
	Hits, Misses uint64 // reads answered from memory, and sent to Redis
	Entries      int    // replies held
	Bytes        int64  // their estimated size
	Serving      bool   // see Serving
}

// Stats returns the cache's counts so far.
func (rc *ReadCache) Stats() ReadCacheStats {
	// the probes first: each is in go-redis's counts before it is in ours
	ph, pm := rc.probeHits.Load(), rc.probeMisses.Load()
	st := rc.cache.Stats()
	return ReadCacheStats{Hits: st.Hits - ph, Misses: st.Misses - pm, Entries: st.Entries, Bytes: st.MemoryUsageBytes, Serving: rc.Serving()}
}

// Serving reports whether reads use the cache now (never for a nil
// ReadCache, a store without one).
func (rc *ReadCache) Serving() bool { return rc != nil && rc.serving.Load() }

// forget drops the cached replies that read any of keys (nothing for a
// nil ReadCache).
func (rc *ReadCache) forget(keys ...string) {
	if rc == nil {
		return
	}
	for _, k := range keys {
		rc.cache.DeleteByRedisKey(rc.ns + k)
	}
}

// flush drops every cached reply (nothing for a nil ReadCache).
func (rc *ReadCache) flush() {
	if rc != nil {
		rc.cache.Flush()
	}
}

// cached reports whether the cache holds a reply to the command args
// (strings only), looking it up as go-redis's read path does: its cache
// key is the namespace, then the command's RESP encoding
// (TestReadCacheProbe holds the two together; were they to drift apart,
// every probe would miss, which costs a read its shortcut, not its
// correctness). A hit costs a copy of the reply.
func (rc *ReadCache) cached(ctx context.Context, args []any) bool {
	n := len(rc.ns) + 16
	for _, a := range args {
		s, ok := a.(string)
		if !ok {
			return false
		}
		n += len(s) + 16
	}
	var b strings.Builder // one allocation: the key
	b.Grow(n)
	var num [20]byte
	b.WriteString(rc.ns)
	b.WriteByte('*')
	b.Write(strconv.AppendInt(num[:0], int64(len(args)), 10))
	b.WriteString("\r\n")
	for _, a := range args {
		s := a.(string)
		b.WriteByte('$')
		b.Write(strconv.AppendInt(num[:0], int64(len(s)), 10))
		b.WriteString("\r\n")
		b.WriteString(s)
		b.WriteString("\r\n")
	}
	if _, ok := rc.cache.Get(ctx, b.String()); ok {
		rc.probeHits.Add(1)
		return true
	}
	rc.probeMisses.Add(1)
	return false
}

// processAll runs cmds through the cache's client at once, each on a
// connection of its own when it misses, so reads that all miss cost one
// round trip rather than one each. Each command keeps its own error. A
// read that misses thus holds up to three of the client's connections
// (its pool is sized as the store's client's) for one round trip, where it
// held one for three.
func (rc *ReadCache) processAll(ctx context.Context, cmds ...redis.Cmder) {
	var wg sync.WaitGroup
	for _, c := range cmds[1:] {
		wg.Go(func() { _ = rc.client.Process(ctx, c) })
	}
	_ = rc.client.Process(ctx, cmds[0])
	wg.Wait()
}
