package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/metrics"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/sealbox"
	"github.com/scimgate/scimgate/server"
	"github.com/scimgate/scimgate/upstream"
)

// upstreamFactory builds a directory's gateway-mode forwarder from its
// client: every forwarder shares scimgate's limits, compatibility rules
// and metrics; its audit and change events go to its directory's streams.
type upstreamFactory func(dir string, client *upstream.Client, maxConcurrency int) (*upstream.Forwarder, error)

func newUpstreamFactory(conn *redisconn.Conn, limiter *ratelimit.ClientLimiter, mx *metrics.Metrics, cfg config.Config, log *slog.Logger) upstreamFactory {
	rec := upstream.NewRedisRecorder(conn.Client, cfg.Redis.Prefix, cfg.Audit.MaxLen)
	return func(dir string, client *upstream.Client, maxConcurrency int) (*upstream.Forwarder, error) {
		observe, err := mx.UpstreamLatency(dir)
		if err != nil {
			return nil, err
		}
		return upstream.New(client, upstream.Options{
			PublicURL:         cfg.PublicURL,
			MaxConcurrency:    maxConcurrency,
			MaxBodyBytes:      cfg.SCIM.MaxBodyBytes,
			MaxResults:        cfg.SCIM.MaxResults,
			BulkMaxOperations: bulkMaxOperations(cfg),
			BulkMaxPayload:    cfg.SCIM.Limits.BulkMaxPayloadBytes,
			ChargeExtra:       limiter.Charge,
			Strict:            cfg.SCIM.Strict,
			OnCompat: func(rule string) {
				log.Debug("scim compatibility rule applied", "rule", rule)
				mx.CompatRule(rule)
			},
			Recorder: rec.ForTag(directory.Tag(dir)),
			Observe:  observe,
			Log:      log,
		}), nil
	}
}

// setupUpstream builds the gateway-mode forwarder of the default directory
// when upstream.url is set (nil otherwise); its reachability is checked by
// upstreamHealth.
func setupUpstream(build upstreamFactory, cfg config.Config, log *slog.Logger) (*upstream.Forwarder, error) {
	u := cfg.Upstream
	if !u.Enabled() {
		return nil, nil
	}
	client, err := upstream.NewClient(upstream.Config{
		URL: u.URL, TokenFile: u.TokenFile, TokenURL: u.OAuthTokenURL, ClientID: u.OAuthClientID,
		ClientSecret: u.OAuthClientSecret, Scopes: strings.Fields(u.OAuthScopes), CAFile: u.CAFile, Timeout: u.Timeout.Std(),
		TokenReload: u.TokenReloadInterval.Std(),
	})
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "upstream.url", Err: err}}
	}
	fwd, err := build(directory.DefaultID, client, u.MaxConcurrency)
	if err != nil {
		return nil, err
	}
	log.Info("gateway mode: SCIM requests are forwarded upstream", "upstream", u.URL)
	return fwd, nil
}

// forwarderEngine mounts fwd on the SCIM prefixes of an internal engine.
func forwarderEngine(fwd *upstream.Forwarder) *gin.Engine {
	up := gin.New()
	up.ContextWithFallback = true
	up.RedirectTrailingSlash = false
	up.RemoveExtraSlash = true
	for _, prefix := range scimPrefixes {
		fwd.Register(up.Group(prefix))
	}
	return up
}

// maxUpstreamDirs bounds the dispatcher's cache; when full it starts over.
const maxUpstreamDirs = 1000

// upstreamDispatcher is SCIM middleware (after authentication and the
// rate limit) that serves the requests of directories whose backend is
// "upstream" through their forwarders and lets the others go on to the
// stored backend. The default directory's forwarder comes from the
// configuration file; the others' from their records, read at most once
// per TTL (directory.DefaultCacheTTL, like directory.Backends), each
// forwarder built once per version of the settings.
type upstreamDispatcher struct {
	def   *gin.Engine // nil: the default directory is stored
	reg   *directory.Registry
	box   *sealbox.Box
	build upstreamFactory
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu sync.Mutex
	m  map[string]dirForwarder
}

type dirForwarder struct {
	at  time.Time
	up  directory.Upstream  // the settings eng was built from
	eng *gin.Engine         // nil: stored backend
	fwd *upstream.Forwarder // eng's forwarder
	err error               // the settings cannot be used
}

func newUpstreamDispatcher(def *upstream.Forwarder, reg *directory.Registry, box *sealbox.Box, build upstreamFactory, log *slog.Logger) *upstreamDispatcher {
	d := &upstreamDispatcher{reg: reg, box: box, build: build, ttl: directory.DefaultCacheTTL, now: time.Now, log: log, m: map[string]dirForwarder{}}
	if def != nil {
		d.def = forwarderEngine(def)
	}
	return d
}

// Forget drops what the dispatcher cached of directory id.
func (d *upstreamDispatcher) Forget(id string) {
	d.mu.Lock()
	delete(d.m, id)
	d.mu.Unlock()
}

// Handler is the middleware.
func (d *upstreamDispatcher) Handler() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := auth.FromContext(c.Request.Context())
		if !ok {
			c.Next()
			return
		}
		eng := d.def
		if id := p.DirectoryID; id != "" && id != directory.DefaultID {
			e, err := d.lookup(c.Request.Context(), id)
			if err == nil {
				err = e.err
			}
			if err != nil {
				d.fail(c, err)
				return
			}
			eng = e.eng
		}
		if eng == nil {
			c.Next()
			return
		}
		eng.ServeHTTP(c.Writer, c.Request)
		c.Abort()
	}
}

func (d *upstreamDispatcher) fail(c *gin.Context, err error) {
	se := scimerr.Resolve(err)
	if se.Status == http.StatusInternalServerError {
		se = scimerr.New(http.StatusServiceUnavailable, "", "the directory's backend is unavailable")
		se.RetryAfter = time.Second
	}
	d.log.Warn("directory backend unavailable", "err", err.Error(), "request_id", server.RequestIDFrom(c))
	se.Header(c.Writer.Header())
	code, body := scimerr.ToBody(se)
	c.Header("Content-Type", "application/scim+json")
	c.AbortWithStatusJSON(code, body)
}

// lookup returns directory id's forwarder (eng nil: stored backend).
func (d *upstreamDispatcher) lookup(ctx context.Context, id string) (dirForwarder, error) {
	now := d.now()
	d.mu.Lock()
	e, ok := d.m[id]
	d.mu.Unlock()
	if ok && now.Sub(e.at) < d.ttl {
		return e, nil
	}
	dir, err := d.reg.Get(ctx, id)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		e = dirForwarder{} // the stored backend answers for it
	case err != nil:
		return dirForwarder{}, fmt.Errorf("resolve directory: %w", err)
	case dir.Backend != directory.BackendUpstream || dir.Upstream == nil || dir.Deleting:
		e = dirForwarder{}
	case ok && e.err == nil && e.eng != nil && e.up == *dir.Upstream:
		// same settings: keep the forwarder
	default:
		e = d.forwarder(id, *dir.Upstream)
	}
	e.at = now
	d.mu.Lock()
	if len(d.m) >= maxUpstreamDirs {
		clear(d.m)
	}
	d.m[id] = e
	d.mu.Unlock()
	return e, nil
}

// forwarder builds directory id's forwarder for settings u.
func (d *upstreamDispatcher) forwarder(id string, u directory.Upstream) dirForwarder {
	e := dirForwarder{up: u}
	uc, err := upstreamClientConfig(u, d.box)
	if err != nil {
		e.err = err
		return e
	}
	client, err := upstream.NewClient(uc)
	if err != nil {
		e.err = err
		return e
	}
	fwd, err := d.build(id, client, u.WithDefaults().MaxConcurrency)
	if err != nil {
		e.err = err
		return e
	}
	e.fwd, e.eng = fwd, forwarderEngine(fwd)
	return e
}
