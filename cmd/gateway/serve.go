package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"time"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/metrics"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/sealbox"
	"github.com/scimgate/scimgate/server"
	"github.com/scimgate/scimgate/tokenstore"
)

func newLogger(cfg config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serveFlags parses serve's flags onto the loaded configuration.
func serveConfig(args []string, cio cliIO) (config.Config, error) {
	fs := newFlagSet("serve", cio.stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	listen := fs.String("listen", "", "listen address (overrides listen / SCIMGATE_LISTEN)")
	if err := parseFlags(fs, args); err != nil {
		return config.Config{}, err
	}
	cfg, err := loadConfig(*path, cio.env)
	if err != nil {
		return cfg, err
	}
	if *listen != "" {
		if err := cfg.Set("listen", *listen); err != nil {
			return cfg, usageError{err}
		}
		if err := cfg.Validate(); err != nil {
			return cfg, usageError{err}
		}
	}
	return cfg, nil
}

func cmdServe(ctx context.Context, args []string, cio cliIO) error {
	cfg, err := serveConfig(args, cio)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, cio, nil)
}

// serve wires the gateway and runs it until ctx ends. ready, if set, gets
// the bound address (tests listen on port 0).
func serve(ctx context.Context, cfg config.Config, cio cliIO, ready func(net.Addr)) error {
	log := newLogger(cfg.Log, cio.stderr)
	routeRedisLog(log, cfg.Log)
	conn, err := redisconn.Open(cfg.Redis.URL, cfg.Redis.DialTimeout.Std(), log)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	defer conn.Close()

	store, err := tokenstore.NewRedis(conn.Client, tokenstore.Options{Prefix: cfg.Redis.Prefix})
	if err != nil {
		return usageError{&config.KeyError{Key: "redis.prefix", Err: err}}
	}
	mx, err := setupMetrics(conn, store, log)
	if err != nil {
		return err
	}
	hasher := auth.NewTokenHasher(cfg.Tokens.Pepper)
	admin := adminapi.NewService(store, hasher, time.Now)
	admin.SetOfferedScopes(cfg.Scopes.OfferedList())
	lv := readListpack(ctx, conn, log)
	rc := openReadCache(conn, cfg, log)
	if rc != nil {
		defer rc.Close()
		if err := mx.WatchReadCache(func() metrics.ReadCacheStats { return metrics.ReadCacheStats(rc.Stats()) }); err != nil {
			return err
		}
	}
	dirs, backends, err := openDirectories(conn, cfg, rc, lv)
	if err != nil {
		return err
	}
	sec, err := setupSecurity(conn, store, dirs, cfg, log)
	if err != nil {
		return err
	}
	admin.SetAudit(sec.events, log)
	box, err := sealbox.New(cfg.OAuth.KeyEncryptionKey())
	if err != nil {
		return usageError{&config.KeyError{Key: "oauth.key_encryption_key", Err: err}}
	}
	admin.SetUpstreamSealer(box)
	cred, err := adminapi.NewCredential(cfg.Admin.Token, cfg.Admin.TokenHash)
	if err != nil {
		return usageError{err}
	}
	var first *firstRun
	if conn.Embedded() {
		if first, err = bootstrapEmbedded(ctx, admin, &cred); err != nil {
			return fmt.Errorf("embedded first run: %w", err)
		}
	} else if !cred.Configured() {
		log.Warn("no admin.token or admin.token_hash configured: the admin API answers 401 to every request")
	}

	idp, err := setupIdPJWT(ctx, store, cfg, log)
	if err != nil {
		return err
	}
	buildForwarder := newUpstreamFactory(conn, sec.limiter, mx, cfg, log)
	fwd, err := setupUpstream(buildForwarder, cfg, log)
	if err != nil {
		return err
	}
	// Gateway mode: the default directory's upstream is the configuration
	// file's; the others' are set through the admin API.
	upstreams := newUpstreamDispatcher(fwd, dirs, box, buildForwarder, log)
	admin.SetDirectories(dirs, conn.Client, cfg.Redis.Prefix, func(id string) { backends.Forget(id); upstreams.Forget(id) })
	upstreamChecks, stopUpstreamHealth, err := startUpstreamHealth(ctx, fwd, dirs, upstreams, mx, cfg, log)
	if err != nil {
		return err
	}
	defer stopUpstreamHealth()
	readyChecks := idp.readyChecks()
	maps.Copy(readyChecks, upstreamChecks)
	engine := server.New(server.Options{Log: log, Redis: conn, ReadyTimeout: cfg.Redis.ReadyTimeout.Std(),
		DegradedStatus: cfg.Redis.DegradedStatus, ReadyChecks: readyChecks, DrainBytes: cfg.HTTP.DrainBytes})
	// gin believes X-Forwarded-For and X-Real-IP from anyone by default,
	// which would let a client pick the address token allow-lists check.
	// Trust only the configured proxies, and only the configured header.
	engine.RemoteIPHeaders = []string{cfg.TrustedProxyHeader}
	if err := engine.SetTrustedProxies(cfg.TrustedProxyList()); err != nil {
		return usageError{&config.KeyError{Key: "trusted_proxies", Err: err}}
	}
	// Request metrics see every route mounted from here on (not the health
	// routes server.New mounted), after recovery has set a panic's 500.
	engine.Use(mx.HTTPMiddleware())
	// Each authentication mode is one authenticator; a credential none of
	// them claims is refused.
	oa, err := setupOAuth(ctx, conn.Client, store, sec.failures, cfg, log)
	if err != nil {
		return err
	}
	authn := auth.Chain{auth.NewStaticTokens(store, hasher, cfg.Tokens.CacheTTL.Std()), oa.authn, idp.authn}
	// The OAuth endpoints sit at the root, outside /scim and /admin and
	// their middleware: clients authenticate to them with their secret.
	oa.server.Mount(engine)
	if err := adminapi.MountOpenAPI(engine); err != nil {
		return err
	}
	// Failed admin credentials (API and console sign-in) are charged to the
	// source address like failed SCIM credentials, so guessing is throttled.
	adminGroup := engine.Group(adminapi.Prefix, sec.adminGuard.Guard(adminapi.AuthFailedKey, audit.RouteAdmin))
	adminapi.Mount(adminGroup, admin, cred, log)
	adminapi.MountAuditIn(adminGroup, sec.events, admin.DirectoryAudit, time.Now, log)
	adminapi.MountReports(adminGroup, admin)
	// SCIM: brute-force guard and authentication first, then the
	// per-client rate limit, which needs to know the client.
	// In gateway mode (upstream.url) the default directory's requests go
	// to the forwarder behind the same middleware; other directories keep
	// their stored backends.
	scimHandler, err := mountSCIM(engine, sec.authMiddleware(mx.Authenticator(authn), log), sec.limiter, backends, cfg, mx.CompatRule, log, upstreams.Handler())
	if err != nil {
		return err
	}
	// The browser console at /admin drives the same Service as the API,
	// and browses provisioned data through the SCIM handler's reads
	// (the default directory's data lives upstream in gateway mode).
	var upstream []string
	if fwd != nil {
		upstream = []string{directory.DefaultID}
	}
	consoleNotFound, err := mountConsole(engine, sec.adminGuard.Guard(adminapi.AuthFailedKey, audit.RouteConsole), admin, cred, sec.events, conn, cfg, scimHandler, upstream, log)
	if err != nil {
		return err
	}
	defer startSoftDeletePurge(ctx, conn, dirs, cfg, log)()
	// Audit retention by age runs until the gateway stops.
	trimCtx, stopTrim := context.WithCancel(ctx)
	trimDone := make(chan struct{})
	trim := newAuditTrim(sec.events, cfg.Redis.Prefix, dirs.IDs)
	go func() { defer close(trimDone); trimAudit(trimCtx, trim, cfg.Audit.MaxAge.Std(), log) }()
	// AUTH_FAILED aggregates of a closed minute reach the stream even when
	// no further failure closes it.
	flushDone := make(chan struct{})
	go func() { defer close(flushDone); sec.failures.RunFlusher(trimCtx, log) }()
	defer func() { stopTrim(); <-trimDone; <-flushDone }()
	// Change events go to the configured webhooks until shutdown; the
	// deferred stop runs before the Redis connection closes.
	stopWebhooks, err := startWebhooks(ctx, conn, dirs, cfg, log)
	if err != nil {
		return err
	}
	defer stopWebhooks()
	stopMetrics, err := serveMetrics(ctx, engine, mx, cfg, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	// Unknown paths get 404 and known paths with another method 405 (with
	// Allow); under the SCIM prefixes both are SCIM error bodies.
	engine.HandleMethodNotAllowed = true
	engine.NoRoute(notFound(consoleNotFound, unmatched(http.StatusNotFound, "no such endpoint")))
	engine.NoMethod(unmatched(http.StatusMethodNotAllowed, "method not allowed on this endpoint"))
	reportRoutes(engine, cio)
	if cio.onHandler != nil {
		cio.onHandler(engine)
	}

	listen := server.Listen{Addr: cfg.Listen, Grace: cfg.ShutdownTimeout.Std(), ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout.Std(),
		ReadTimeout: cfg.HTTP.ReadTimeout.Std(), IdleTimeout: cfg.HTTP.IdleTimeout.Std()}
	scheme := "http://"
	if cfg.TLS.Enabled() {
		certs, err := server.NewCertReloader(cfg.TLS.CertFile, cfg.TLS.KeyFile, cfg.TLS.ReloadInterval.Std(), log)
		if err != nil {
			return fmt.Errorf("tls.cert_file / tls.key_file: %w", err)
		}
		listen.TLS, scheme = certs.TLSConfig(), "https://"
	}
	return server.Run(ctx, listen, engine, log, func(a net.Addr) {
		log.Info("scimgate listening", "addr", a.String(), "scim_base", scheme+a.String()+"/scim/v2", "embedded_redis", conn.Embedded(), "tls", cfg.TLS.Enabled())
		if first != nil {
			first.print(cio.stderr, cfg.PublicURL, scheme, a)
		}
		if ready != nil {
			ready(a)
		}
	})
}
