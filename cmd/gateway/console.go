package main

import (
	"log/slog"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/console"
	"github.com/scimgate/scimgate/redisconn"
)

// mountConsole serves the browser admin console at /admin over the same
// admin Service and credential as the admin API, browsing provisioned data
// through resources (the SCIM handler); upstream lists the directories
// whose data lives upstream.
// guard throttles failed sign-ins per source address. It returns the
// console's 404 page handler for notFound.
func mountConsole(engine *gin.Engine, guard gin.HandlerFunc, svc *adminapi.Service, cred adminapi.Credential, events *audit.Log,
	conn *redisconn.Conn, cfg config.Config, resources console.Resources, upstream []string, log *slog.Logger) (gin.HandlerFunc, error) {
	var oidc *console.OIDCOptions
	if cc := cfg.Console; cc.OIDCIssuer != "" {
		// Discovery happens on the first OIDC sign-in, not here, so a
		// provider that is down does not stop the gateway.
		oidc = &console.OIDCOptions{
			Issuer: cc.OIDCIssuer, ClientID: cc.OIDCClientID, ClientSecret: cc.OIDCClientSecret,
			Admins:      cc.OIDCAdminList(),
			RedirectURL: strings.TrimSuffix(cfg.PublicURL, "/") + console.Prefix + "/oidc/callback",
		}
	}
	con, err := console.New(console.Options{
		Service: svc, Credential: cred, Audit: events,
		Redis: conn.Client, RedisPrefix: cfg.Redis.Prefix, SessionTTL: cfg.Console.SessionTTL.Std(),
		PublicURL: cfg.PublicURL, OIDC: oidc, Log: log, Now: time.Now,
		Resources: resources, Upstream: upstream,
	})
	if err != nil {
		return nil, err
	}
	con.Mount(engine.Group(console.Prefix, guard))
	return con.NotFound, nil
}

// notFound answers unknown paths: the console's HTML 404 page under
// /admin (but not under the admin API, whose clients read JSON), else
// fallback.
func notFound(consolePage, fallback gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		inConsole := p == console.Prefix || strings.HasPrefix(p, console.Prefix+"/")
		inAPI := p == console.Prefix+"/api" || strings.HasPrefix(p, console.Prefix+"/api/")
		if inConsole && !inAPI {
			consolePage(c)
			return
		}
		fallback(c)
	}
}
