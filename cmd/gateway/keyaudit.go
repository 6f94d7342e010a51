package main

import (
	"context"
	"fmt"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/oauth"
	"github.com/scimgate/scimgate/redisconn"
)

// recordKeyRotated appends KEY_ROTATED for k. The rotation already took
// effect, so a failed append is reported as a warning, not an error.
func recordKeyRotated(ctx context.Context, conn *redisconn.Conn, cfg config.Config, k oauth.SigningKey, cio cliIO) {
	events := audit.NewLog(conn.Client, cfg.Redis.Prefix, cfg.Audit.MaxLen)
	err := events.Append(context.WithoutCancel(ctx), audit.Event{
		Action:  audit.KeyRotated,
		Actor:   audit.Actor{AuthMethod: adminapi.AdminMethod, CredentialID: "cli"},
		Target:  audit.Target{Type: "Key", ID: k.ID, Name: k.Alg.String()},
		Outcome: audit.OutcomeSuccess,
		Changed: []string{"current_key"},
	})
	if err != nil {
		fmt.Fprintf(cio.stderr, "warning: the key was rotated but not recorded in the audit trail: %v\n", err)
	}
}
