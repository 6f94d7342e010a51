package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/metrics"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/tokenstore"
)

// metricsPath is where Prometheus scrapes, on either listener.
const metricsPath = "/metrics"

// setupMetrics builds the registry and hooks it into Redis and the token
// store. Request metrics are added by serve (engine.Use), SCIM
// compatibility rules by mountSCIM, authentication by wrapping the chain.
func setupMetrics(conn *redisconn.Conn, store tokenstore.Store, log *slog.Logger) (*metrics.Metrics, error) {
	mx := metrics.New()
	conn.Client.AddHook(mx.RedisHook())
	if err := mx.WatchExpiringCredentials(store, time.Now, log); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return mx, nil
}

// serveMetrics exposes GET /metrics: on the main engine when
// metrics.listen is empty, else on its own listener, which it opens now
// (so a taken port fails start-up) and closes when ctx ends or stop is
// called; stop returns once the listener has shut down.
func serveMetrics(ctx context.Context, e *gin.Engine, mx *metrics.Metrics, cfg config.Config, log *slog.Logger) (stop func(), err error) {
	handler, err := metrics.RequireBearer(mx.Handler(), cfg.Metrics.TokenHash)
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "metrics.token_hash", Err: err}}
	}
	if cfg.Metrics.Listen == "" {
		e.GET(metricsPath, gin.WrapH(handler))
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Listen)
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "metrics.listen", Err: err}}
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, handler)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout.Std(),
		ReadTimeout:       cfg.HTTP.ReadTimeout.Std(),
		IdleTimeout:       cfg.HTTP.IdleTimeout.Std(),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "addr", ln.Addr().String(), "err", err.Error())
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("metrics listening", "addr", ln.Addr().String(), "path", metricsPath)
	return func() { cancel(); <-done }, nil
}
