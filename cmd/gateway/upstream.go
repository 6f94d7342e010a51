package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/metrics"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/upstream"
)

// upstreamReadyTimeout bounds the upstream's readiness probe.
const upstreamReadyTimeout = 2 * time.Second

// setupUpstream builds the gateway-mode forwarder of the default directory
// when upstream.url is set (nil otherwise), and its readiness check.
func setupUpstream(conn *redisconn.Conn, limiter *ratelimit.ClientLimiter, mx *metrics.Metrics, cfg config.Config, log *slog.Logger) (*upstream.Forwarder, map[string]func(context.Context) error, error) {
	u := cfg.Upstream
	if !u.Enabled() {
		return nil, nil, nil
	}
	client, err := upstream.NewClient(upstream.Config{
		URL: u.URL, TokenFile: u.TokenFile, TokenURL: u.OAuthTokenURL, ClientID: u.OAuthClientID,
		ClientSecret: u.OAuthClientSecret, Scopes: strings.Fields(u.OAuthScopes), CAFile: u.CAFile, Timeout: u.Timeout.Std(),
	})
	if err != nil {
		return nil, nil, usageError{&config.KeyError{Key: "upstream.url", Err: err}}
	}
	observe, err := mx.UpstreamLatency("default")
	if err != nil {
		return nil, nil, err
	}
	fwd := upstream.New(client, upstream.Options{
		PublicURL:         cfg.PublicURL,
		MaxConcurrency:    u.MaxConcurrency,
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
		Recorder: upstream.NewRedisRecorder(conn.Client, cfg.Redis.Prefix, cfg.Audit.MaxLen),
		Observe:  observe,
		Log:      log,
	})
	log.Info("gateway mode: SCIM requests are forwarded upstream", "upstream", u.URL)
	checks := map[string]func(context.Context) error{
		"upstream": func(ctx context.Context) error { return fwd.Check(ctx, upstreamReadyTimeout) },
	}
	return fwd, checks, nil
}

// upstreamDispatch is SCIM middleware (after authentication and the rate
// limit) that serves the requests of directory dir's clients through fwd,
// the gateway-mode forwarder, and lets every other directory's requests go
// on to the stored backend.
func upstreamDispatch(fwd *upstream.Forwarder, dir string) gin.HandlerFunc {
	up := gin.New()
	up.ContextWithFallback = true
	up.RedirectTrailingSlash = false
	up.RemoveExtraSlash = true
	for _, prefix := range scimPrefixes {
		fwd.Register(up.Group(prefix))
	}
	return func(c *gin.Context) {
		p, ok := auth.FromContext(c.Request.Context())
		if d := p.DirectoryID; !ok || (d != dir && !(d == "" && dir == directory.DefaultID)) {
			c.Next()
			return
		}
		up.ServeHTTP(c.Writer, c.Request)
		c.Abort()
	}
}
