package main

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/console"
	"github.com/scimgate/scimgate/redisconn"
)

// mountConsole serves the browser admin console at /admin over the same
// admin Service and credential as the admin API.
// guard throttles failed sign-ins per source address.
func mountConsole(engine *gin.Engine, guard gin.HandlerFunc, svc *adminapi.Service, cred adminapi.Credential, events *audit.Log,
	conn *redisconn.Conn, cfg config.Config, log *slog.Logger) error {
	con, err := console.New(console.Options{
		Service: svc, Credential: cred, Audit: events,
		Redis: conn.Client, RedisPrefix: cfg.Redis.Prefix, SessionTTL: cfg.Console.SessionTTL.Std(),
		PublicURL: cfg.PublicURL, Log: log, Now: time.Now,
	})
	if err != nil {
		return err
	}
	con.Mount(engine.Group(console.Prefix, guard))
	return nil
}
