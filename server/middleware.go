package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/scimgate/scimgate/auth"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-ID"

const requestIDKey = "scimgate.request_id"

// RequestID accepts a well-formed incoming X-Request-ID or generates one,
// stores it on the context and echoes it in the response.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		c.Set(requestIDKey, id)
		c.Header(RequestIDHeader, id)
		c.Next()
	}
}

// RequestIDFrom returns the request id set by RequestID.
func RequestIDFrom(c *gin.Context) string { return c.GetString(requestIDKey) }

// validRequestID accepts 1..128 visible ASCII characters without quotes, so
// a client cannot inject log syntax.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch <= ' ' || ch > '~' || ch == '"' || ch == '\\' {
			return false
		}
	}
	return true
}

// AccessLog writes one line per request: method, route (the pattern, never
// the raw query, which may hold filters with personal data), status, latency,
// request id and, when authenticated, the client. Headers are never logged.
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		level := slog.LevelInfo
		if probeRoute(route) && status < 400 {
			// Orchestrators probe every few seconds; successful probes
			// would drown the log.
			level = slog.LevelDebug
		}
		ctx := c.Request.Context()
		if !log.Enabled(ctx, level) {
			return // the line's fields cost allocations on every request
		}
		attrs := []any{
			"method", c.Request.Method,
			"route", route,
			"status", status,
			"latency_ms", float64(time.Since(start).Microseconds()) / 1000,
			"request_id", RequestIDFrom(c),
			"remote_ip", c.ClientIP(),
		}
		if p, ok := auth.PrincipalFromGin(c); ok {
			attrs = append(attrs, "client_id", p.ClientID, "auth_method", string(p.Method))
		}
		log.Log(ctx, level, "request", attrs...)
	}
}

// probeRoute reports whether route is a health probe.
func probeRoute(route string) bool { return route == "/healthz" || route == "/readyz" }

// Deadline gives every request below it an overall deadline of d: Redis
// calls carry it (the client honours context deadlines), so a stalled Redis
// costs a request at most d and answers 503 with Retry-After, not a hang.
// d <= 0 sets none.
func Deadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		if d <= 0 {
			c.Next()
			return
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}
