package ratelimit

import (
	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
)

// Observer is the auth.Middleware observer that charges every rejected
// credential to its source network and aggregates it into AUTH_FAILED
// (see audit.Failures: at most audit.auth_failure_keys + 1 events per
// minute, whatever is sent). Networks over their failure budget are
// refused by Wrap before they are authenticated, so they are neither
// charged nor counted; the failure that exhausts the budget is counted
// under a reason saying so.
//
// When the failure cannot be charged and the guard denies on Redis errors,
// the request is answered 503 with Retry-After instead of 401 (the
// middleware stops at an aborted request).
func (g *FailureGuard) Observer() auth.Observer {
	return func(c *gin.Context, _ *auth.Principal, rej *auth.Rejection) {
		if rej == nil {
			return
		}
		err := g.record(c, audit.Failure{Reason: rej.Reason, ClientID: rej.ClientID, Method: string(rej.Method)})
		if err != nil && g.onErr == Deny {
			g.unavailable(c)
		}
	}
}
