package ratelimit

import (
	"fmt"
	"log/slog"
	"math"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/server"
)

// Observer is the auth.Middleware observer that charges every rejected
// credential to its source address and records it as AUTH_FAILED.
//
// The audit stream cannot be flooded without bound: requests from an
// address over its failure budget are refused by Wrap before they are
// authenticated, so they are neither charged nor recorded; only failures
// that reached an authenticator are, i.e. at most the budget per address
// and window plus one per replica and retry period. The failure that
// exhausts the budget is recorded with a note saying so.
func (g *FailureGuard) Observer(events *audit.Log, log *slog.Logger) auth.Observer {
	return func(c *gin.Context, _ *auth.Principal, rej *auth.Rejection) {
		if rej == nil {
			return
		}
		ctx := c.Request.Context()
		ip := c.ClientIP()
		reason := rej.Reason
		over, retry, err := g.Fail(ctx, ip)
		if err != nil {
			log.WarnContext(ctx, "failed authentication not charged", "ip", ip, "err", err.Error())
		}
		if over {
			reason += fmt.Sprintf("; source address over its failure budget, refused with 429 for %ds", int64(math.Ceil(retry.Seconds())))
		}
		if events == nil {
			return
		}
		ev := audit.Event{
			Action:    audit.AuthFailed,
			Actor:     audit.Actor{ClientID: rej.ClientID, AuthMethod: string(rej.Method)},
			RequestID: server.RequestIDFrom(c),
			Outcome:   audit.OutcomeFailure,
			Reason:    reason,
			SourceIP:  ip,
		}
		if rej.ClientID != "" {
			ev.Target = audit.Target{Type: "Client", ID: rej.ClientID}
		}
		if err := events.Append(ctx, ev); err != nil {
			log.ErrorContext(ctx, "AUTH_FAILED not recorded", "ip", ip, "err", err.Error())
		}
	}
}
