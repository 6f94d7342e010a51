package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/tokenstore"
)

// trimEvery is how often the audit stream is trimmed by age.
const trimEvery = time.Minute

// security is the gateway's rate limiting and audit trail.
type security struct {
	events *audit.Log
	// failures aggregates failed authentications into AUTH_FAILED events
	// (SCIM, admin API, console, token endpoint).
	failures *audit.Failures
	limiter  *ratelimit.ClientLimiter
	guard    *ratelimit.FailureGuard
	// adminGuard is the same budget for the admin credential (admin API
	// and console sign-in), kept apart so SCIM failures from an address
	// do not lock its administrators out.
	adminGuard *ratelimit.FailureGuard
}

// setupSecurity builds the limiters (the per-directory limit reading
// directories' own limits from dirs) and the audit log from cfg.
func setupSecurity(conn *redisconn.Conn, clients tokenstore.Store, dirs ratelimit.DirectorySource, cfg config.Config, log *slog.Logger) (*security, error) {
	rl := cfg.RateLimit
	limiter, err := ratelimit.NewClientLimiter(ratelimit.ClientOptions{
		Redis: conn.Client, Prefix: cfg.Redis.Prefix, Rate: rl.Rate, Burst: rl.Burst,
		DirectoryRate: rl.DirectoryRate, DirectoryBurst: rl.DirectoryBurst, Directories: dirs,
		Clients: clients, OnRedisError: ratelimit.OnRedisError(rl.OnRedisError), Log: log,
	})
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "ratelimit.rate", Err: err}}
	}
	events := audit.NewLog(conn.Client, cfg.Redis.Prefix, cfg.Audit.MaxLen)
	failures := audit.NewFailures(conn.Client, cfg.Redis.Prefix, events, cfg.Audit.AuthFailureKeys)
	guardOpts := func(prefix, route string, jsonErrors bool) ratelimit.FailureOptions {
		return ratelimit.FailureOptions{
			Redis: conn.Client, Prefix: prefix, Max: rl.MaxAuthFailures, Window: rl.AuthFailureWindow.Std(), Log: log,
			Grouping:     ratelimit.Grouping{IPv6Bits: rl.IPv6Prefix},
			OnRedisError: ratelimit.OnRedisError(rl.OnRedisError),
			Failures:     failures, Route: route, JSONErrors: jsonErrors,
		}
	}
	guard, err := ratelimit.NewFailureGuard(guardOpts(cfg.Redis.Prefix, audit.RouteSCIM, false))
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "ratelimit.max_auth_failures", Err: err}}
	}
	adminGuard, err := ratelimit.NewFailureGuard(guardOpts(cfg.Redis.Prefix+"admin:", audit.RouteAdmin, true))
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "ratelimit.max_auth_failures", Err: err}}
	}
	return &security{events: events, failures: failures, limiter: limiter, guard: guard, adminGuard: adminGuard}, nil
}

// authMiddleware is SCIM authentication behind the failed-authentication
// guard: a source address over its failure budget gets 429 before its
// credential is looked at, and every rejected credential is charged to
// its network and aggregated into AUTH_FAILED.
func (s *security) authMiddleware(authn auth.Authenticator, log *slog.Logger) gin.HandlerFunc {
	return s.guard.Wrap(auth.Middleware(authn, log, s.guard.Observer()))
}

// trimAudit drops audit events older than maxAge every trimEvery until
// ctx ends, from every directory's stream in bounded steps (audittrim.go).
// maxAge 0 keeps events until audit.max_len pushes them out.
func trimAudit(ctx context.Context, trim *auditTrim, maxAge time.Duration, log *slog.Logger) {
	if maxAge <= 0 {
		return
	}
	t := time.NewTicker(trimEvery)
	defer t.Stop()
	for {
		if err := trim.run(ctx, maxAge, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("audit retention: trim failed", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
