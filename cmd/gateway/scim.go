package main

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// scimPrefixes are the mount points of the SCIM API: the RFC form and the
// form OpenProject and Keycloak plugin set-ups use.
var scimPrefixes = []string{"/scim/v2", "/scim_v2"}

// mountSCIM wires the SCIM resource layer under each SCIM prefix, behind the
// authentication middleware authMW and then the per-client rate limit
// limitMW (which needs the authenticated client).
func mountSCIM(e *gin.Engine, authMW, limitMW gin.HandlerFunc, conn *redisconn.Conn, cfg config.Config, log *slog.Logger) error {
	mapper, err := cfg.Roles.Mapper()
	if err != nil {
		return usageError{&config.KeyError{Key: "roles.mapping", Err: err}}
	}
	reg := schema.NewRegistry()
	if mapper.Enabled() {
		reg.AddUserExtension(schema.RoleExtension(), false)
	} else {
		mapper = nil
	}
	h := scimapi.New(reg, store.NewRedis(conn.Client, cfg.Redis.Prefix), scimapi.Options{
		PublicURL:    cfg.PublicURL,
		MaxBodyBytes: cfg.SCIM.MaxBodyBytes,
		MaxResults:   cfg.SCIM.MaxResults,
		Strict:       cfg.SCIM.Strict,
		OnCompat: func(rule string) {
			log.Debug("scim compatibility rule applied", "rule", rule)
		},
		AuditMaxLen: cfg.Audit.MaxLen,
		Roles:       mapper,
		Log:         log,
	})
	for _, prefix := range scimPrefixes {
		h.Register(e.Group(prefix, authMW, limitMW))
	}
	return nil
}
