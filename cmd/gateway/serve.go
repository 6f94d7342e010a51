package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/server"
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
	conn, err := redisconn.Open(cfg.Redis.URL, cfg.Redis.DialTimeout.Std(), log)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	defer conn.Close()

	engine := server.New(server.Options{Log: log, Redis: conn, ReadyTimeout: cfg.Redis.ReadyTimeout.Std()})
	authn := auth.Chain{} // authenticators are added by their issues; empty refuses all
	if err := mountSCIM(engine, auth.Middleware(authn, log, nil), conn, cfg, log); err != nil {
		return err
	}
	engine.NoRoute(func(c *gin.Context) { c.JSON(http.StatusNotFound, gin.H{"error": "not found"}) })

	return server.Run(ctx, cfg.Listen, engine, cfg.ShutdownTimeout.Std(), log, func(a net.Addr) {
		log.Info("scimgate listening", "addr", a.String(), "scim_base", "http://"+a.String()+"/scim/v2", "embedded_redis", conn.Embedded())
		if ready != nil {
			ready(a)
		}
	})
}
