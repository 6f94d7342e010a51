package main

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// mountSCIM wires the SCIM resource layer under /scim/v2 and /scim_v2, each
// behind the authentication middleware authMW.
func mountSCIM(e *gin.Engine, authMW gin.HandlerFunc, conn *redisconn.Conn, cfg config.Config, log *slog.Logger) error {
	for _, prefix := range []string{"/scim/v2", "/scim_v2"} {
		g := e.Group(prefix, authMW)
		g.Any("/*path", func(c *gin.Context) {
			status, body := scimerr.ToBody(scimerr.NotFound("no such SCIM endpoint"))
			c.JSON(status, body)
		})
	}
	return nil
}
