package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/redisfault"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/server/bodyerr"
	"github.com/scimgate/scimgate/server/reqscope"
)

// Realm is the realm in WWW-Authenticate challenges.
const Realm = "scimgate"

// Observer is told of every authentication outcome (metrics, audit).
// Either principal or rejection is set. An observer that aborts the
// request on a rejection answers it in place of the 401.
type Observer func(c *gin.Context, p *Principal, rej *Rejection)

// Middleware authenticates every request with a, using only the
// Authorization header (never the query string or body). An empty chain
// refuses everything, so no SCIM route is ever open.
func Middleware(a Authenticator, log *slog.Logger, observe Observer) gin.HandlerFunc {
	return func(c *gin.Context) {
		token, ok := bearer(c.GetHeader("Authorization"))
		if !ok {
			// RFC 6750 §3.1: no error code when the request has no credentials.
			challenge(c, http.StatusUnauthorized, fmt.Sprintf("Bearer realm=%q", Realm), "authentication required")
			return
		}
		ip, _ := netip.ParseAddr(c.ClientIP())
		p, err := a.Authenticate(c.Request.Context(), Request{Token: token, RemoteIP: ip.Unmap(), Now: time.Now()})
		if err != nil {
			var rej *Rejection
			if !errors.As(err, &rej) {
				if bodyerr.ClientGone(c.Request, err) {
					// The client went away while its credential was being
					// looked up: nobody is left to answer.
					log.InfoContext(c.Request.Context(), "request abandoned by the client during authentication")
					c.AbortWithStatus(bodyerr.StatusClientClosedRequest)
					return
				}
				// Infrastructure failure (e.g. Redis down): not the client's fault.
				e := scimerr.New(http.StatusServiceUnavailable, "", "authentication temporarily unavailable")
				e.RetryAfter = time.Second
				if k := redisfault.Classify(err); k != redisfault.None {
					e.RetryAfter = redisfault.RetryAfter(k)
					log.WarnContext(c.Request.Context(), "authentication unavailable: storage trouble", "kind", string(k), "err", err.Error())
				} else {
					log.ErrorContext(c.Request.Context(), "authentication unavailable", "err", err.Error())
				}
				status, body := scimerr.ToBody(e)
				e.Header(c.Writer.Header())
				c.Header("Content-Type", "application/scim+json")
				c.AbortWithStatusJSON(status, body)
				return
			}
			log.InfoContext(c.Request.Context(), "authentication failed",
				"method", string(rej.Method), "reason", rej.Reason, "client_id", rej.ClientID, "ip", c.ClientIP())
			if observe != nil {
				observe(c, nil, rej)
				if c.IsAborted() {
					// The observer answered (a failure guard failing closed).
					return
				}
			}
			challenge(c, http.StatusUnauthorized, fmt.Sprintf("Bearer realm=%q, error=\"invalid_token\"", Realm), "invalid or expired credential")
			return
		}
		if observe != nil {
			observe(c, p, nil)
		}
		c.Set(ginPrincipalKey, p)
		reqscope.Set(c, principalKey{}, p) // WithPrincipal, without a copy of the request when it can
		c.Next()
	}
}

// ginPrincipalKey stores the principal in the gin context for access logs.
const ginPrincipalKey = "scimgate.principal"

// PrincipalFromGin returns the principal set by Middleware.
func PrincipalFromGin(c *gin.Context) (*Principal, bool) {
	v, ok := c.Get(ginPrincipalKey)
	if !ok {
		return nil, false
	}
	p, ok := v.(*Principal)
	return p, ok
}

// Require refuses, with 403 insufficient_scope (RFC 6750 §3.1), a principal
// whose scopes do not cover op.
func Require(op Operation) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := FromContext(c.Request.Context())
		if !ok {
			challenge(c, http.StatusUnauthorized, fmt.Sprintf("Bearer realm=%q", Realm), "authentication required")
			return
		}
		if ok, needed := Allows(p.Scopes, op); !ok {
			challenge(c, http.StatusForbidden,
				fmt.Sprintf("Bearer realm=%q, error=\"insufficient_scope\", scope=%q", Realm, needed),
				"the credential's scopes do not allow this operation; it needs "+needed)
			return
		}
		c.Next()
	}
}

func challenge(c *gin.Context, status int, wwwAuth, detail string) {
	c.Header("WWW-Authenticate", wwwAuth)
	code, body := scimerr.ToBody(scimerr.New(status, "", "%s", detail))
	c.Header("Content-Type", "application/scim+json")
	c.AbortWithStatusJSON(code, body)
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
