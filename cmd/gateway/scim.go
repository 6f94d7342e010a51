package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/patch"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/server"
)

// scimPrefixes are the mount points of the SCIM API: the RFC form and the
// form OpenProject and Keycloak plugin set-ups use.
var scimPrefixes = []string{"/scim/v2", "/scim_v2"}

// mountSCIM wires the SCIM resource layer under each SCIM prefix, behind the
// authentication middleware authMW and then the per-client rate limit of
// limiter (which needs the authenticated client; /Bulk charges it once per
// operation), all under the overall request deadline scim.request_timeout.
// onCompat is told of every
// compatibility rule applied (metrics); it may be nil. It returns the SCIM
// handler, whose read-only List and Get the console's browser uses.
func mountSCIM(e *gin.Engine, authMW gin.HandlerFunc, limiter *ratelimit.ClientLimiter, backends scimapi.Backends, cfg config.Config, onCompat func(rule string), log *slog.Logger, dispatch ...gin.HandlerFunc) (*scimapi.Handler, error) {
	mapper, err := cfg.Roles.Mapper()
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "roles.mapping", Err: err}}
	}
	reg := schema.NewRegistry()
	if mapper.Enabled() {
		reg.AddUserExtension(schema.RoleExtension(), false)
	} else {
		mapper = nil
	}
	h := scimapi.New(reg, backends, scimapi.Options{
		PublicURL:    cfg.PublicURL,
		MaxBodyBytes: cfg.SCIM.MaxBodyBytes,
		MaxResults:   cfg.SCIM.MaxResults,
		Strict:       cfg.SCIM.Strict,
		OnCompat: func(rule string) {
			log.Debug("scim compatibility rule applied", "rule", rule)
			if onCompat != nil {
				onCompat(rule)
			}
		},
		ScanRows:          cfg.SCIM.Budgets.ScanRows,
		ScanTime:          cfg.SCIM.Budgets.ScanTime.Std(),
		SortWindow:        cfg.SCIM.Budgets.SortWindow,
		ChargeExtra:       limiter.Charge,
		AuditMaxLen:       cfg.Audit.MaxLen,
		BulkMaxOperations: bulkMaxOperations(cfg),
		BulkMaxPayload:    cfg.SCIM.Limits.BulkMaxPayloadBytes,
		Limits:            scimLimits(cfg.SCIM.Limits),
		Roles:             mapper,
		Log:               log,
	})
	// The request deadline comes first so authentication's and the rate
	// limit's Redis calls are bounded by it too.
	deadline := server.Deadline(cfg.SCIM.RequestTimeout.Std())
	for _, prefix := range scimPrefixes {
		mw := append([]gin.HandlerFunc{deadline, authMW, limiter.Middleware()}, dispatch...)
		h.Register(e.Group(prefix, mw...))
	}
	return h, nil
}

// scimLimits maps the scim.limits settings onto the SCIM layer's limits.
func scimLimits(l config.SCIMLimits) scimapi.Limits {
	return scimapi.Limits{
		Filter:             filter.Limits{MaxLength: l.FilterMaxLength, MaxDepth: l.FilterMaxDepth, MaxTerms: l.FilterMaxTerms},
		Patch:              patch.Limits{MaxOperations: l.PatchMaxOperations, MaxPathLength: l.PatchMaxPathLength},
		MaxAttributes:      l.AttributesMaxCount,
		MaxAttributeLength: l.AttributeMaxLength,
	}
}

// newDirectoryStore opens directory id's SCIM resource store in the
// configured delete mode, with the configured optional indexes, compact
// resources and document keys settings (the same for every directory),
// reading through rc (nil: no read cache), placing documents by lv (nil:
// Redis's default hash-max-listpack-value).
func newDirectoryStore(conn *redisconn.Conn, cfg config.Config, id string, rc *store.ReadCache, lv *store.ListpackValue) *store.Redis {
	st := store.NewRedisTagged(conn.Client, cfg.Redis.Prefix, directory.Tag(id)).CompactResources(cfg.SCIM.CompactResources).
		DocumentKeys(cfg.SCIM.DocumentKeys).Listpack(lv).ReadCache(rc)
	if cfg.SCIM.DeleteMode == "soft" {
		st.SoftDelete()
	}
	if err := st.EnableIndexes(cfg.SCIM.IndexList()...); err != nil {
		panic(err) // config.Validate checked scim.indexes
	}
	return st
}

// openReadCache returns the read cache scim.read_cache_mb asks for, or nil
// when it is off or the Redis is not one server (logged).
func openReadCache(conn *redisconn.Conn, cfg config.Config, log *slog.Logger) *store.ReadCache {
	if cfg.SCIM.ReadCacheMB == 0 {
		return nil
	}
	opts, ok := conn.Single()
	if !ok || opts.DB != 0 {
		log.Info("read cache off: it needs a single Redis server (not Sentinel, Cluster or the embedded one), database 0")
		return nil
	}
	log.Info("read cache on", "max_mb", cfg.SCIM.ReadCacheMB, "drain", cfg.SCIM.ReadCacheDrain.Std())
	return store.NewReadCache(opts, readCacheConfig(cfg, log))
}

// readCacheConfig is the read cache's configuration from the scim
// section: its size and drain interval.
func readCacheConfig(cfg config.Config, log *slog.Logger) store.ReadCacheConfig {
	return store.ReadCacheConfig{MaxBytes: int64(cfg.SCIM.ReadCacheMB) << 20, DrainInterval: cfg.SCIM.ReadCacheDrain.Std(), Log: log}
}

// readListpack returns the hash-max-listpack-value by which the stores
// place documents, read from the Redis server in the background (again
// every 10 s while Redis is out of reach, until ctx ends), with a warning
// logged when it is below the recommended value (store.ListpackAdvice).
// Until then, with the embedded Redis, and when the server will not tell
// (logged at debug), it is Redis's default.
func readListpack(ctx context.Context, conn *redisconn.Conn, log *slog.Logger) *store.ListpackValue {
	lv := &store.ListpackValue{}
	if conn.Embedded() {
		return lv
	}
	go func() {
		n, err := lv.Learn(ctx, conn.Client, 5*time.Second, 10*time.Second)
		if err != nil {
			log.Debug("hash-max-listpack-value not read", "err", err)
			return
		}
		if advice := store.ListpackAdvice(n); advice != "" {
			log.Warn(advice)
		}
	}()
	return lv
}

// openDirectories returns the directory registry and the resolver giving
// each SCIM request its directory's store, reading through rc and placing
// documents by lv.
func openDirectories(conn *redisconn.Conn, cfg config.Config, rc *store.ReadCache, lv *store.ListpackValue) (*directory.Registry, *directory.Backends, error) {
	reg, err := directory.NewRegistry(conn.Client, cfg.Redis.Prefix)
	if err != nil {
		return nil, nil, usageError{&config.KeyError{Key: "redis.prefix", Err: err}}
	}
	return reg, directory.NewBackends(reg, func(d directory.Directory) store.Store {
		return newDirectoryStore(conn, cfg, d.ID, rc, lv)
	}, 0), nil
}

// startSoftDeletePurge runs the job that removes soft-deleted resources of
// every directory in dirs once scim.soft_delete_retention has passed, every minute until ctx ends
// (many replicas may run it: each purge is one atomic script). It returns a
// function that stops the job and waits for it.
func startSoftDeletePurge(ctx context.Context, conn *redisconn.Conn, dirs *directory.Registry, cfg config.Config, log *slog.Logger) func() {
	if cfg.SCIM.DeleteMode != "soft" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			// Every directory's store, each purge one atomic script in its slot.
			ids := []string{directory.DefaultID}
			if ds, err := dirs.List(ctx); err == nil {
				ids = ids[:0]
				for _, d := range ds {
					ids = append(ids, d.ID)
				}
			} else if ctx.Err() == nil {
				log.Warn("soft-delete purge: listing directories failed", "err", err.Error())
			}
			for _, id := range ids {
				n, err := newDirectoryStore(conn, cfg, id, nil, nil).PurgeDeleted(ctx, time.Now().Add(-cfg.SCIM.SoftDeleteRetention.Std()))
				if err != nil && ctx.Err() == nil {
					log.Warn("soft-delete purge failed", "directory", id, "err", err.Error())
				} else if n > 0 {
					log.Info("purged soft-deleted resources", "directory", id, "count", n)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// unmatched answers a request no route takes: with the SCIM error schema
// (RFC 7644 §3.12) under the SCIM prefixes, with a small JSON body elsewhere.
func unmatched(status int, detail string) gin.HandlerFunc {
	return func(c *gin.Context) {
		for _, prefix := range scimPrefixes {
			if p := c.Request.URL.Path; p == prefix || strings.HasPrefix(p, prefix+"/") {
				code, body := scimerr.ToBody(scimerr.New(status, "", "%s", detail))
				c.Header("Content-Type", scimapi.MediaType)
				c.AbortWithStatusJSON(code, body)
				return
			}
		}
		c.AbortWithStatusJSON(status, gin.H{"error": detail})
	}
}

// bulkMaxOperations is the advertised and enforced /Bulk operation limit:
// scim.limits.bulk_max_operations, but no more than the default rate
// limit's burst nor the default directory limit's, since /Bulk charges one
// request per operation and a larger bulk could never be admitted (a
// client or directory override with a smaller burst still gets the
// limiter's 413).
func bulkMaxOperations(cfg config.Config) int {
	n := cfg.SCIM.Limits.BulkMaxOperations
	if r := cfg.RateLimit; r.Rate > 0 {
		n = min(n, max(r.Burst, r.Rate))
	}
	if r := cfg.RateLimit; r.DirectoryRate > 0 {
		n = min(n, max(r.DirectoryBurst, r.DirectoryRate))
	}
	return n
}
