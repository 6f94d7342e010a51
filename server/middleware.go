package server

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/server/reqscope"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-ID"

// requestIDCanonical is RequestIDHeader as http.Header keys it: indexing
// the map with it spares the canonicalisation (an allocation) that Get and
// Set make for a key outside net/textproto's common headers.
const requestIDCanonical = "X-Request-Id"

const requestIDKey = "scimgate.request_id"

// RequestID accepts a well-formed incoming X-Request-ID or generates one,
// stores it on the context and echoes it in the response.
func RequestID() gin.HandlerFunc {
	ids := newRequestIDs()
	return func(c *gin.Context) {
		id := ""
		if v := c.Request.Header[requestIDCanonical]; len(v) > 0 {
			id = v[0]
		}
		if !validRequestID(id) {
			id = ids.next()
		}
		c.Set(requestIDKey, id)
		c.Writer.Header()[requestIDCanonical] = []string{id}
		c.Next()
	}
}

// requestIDs makes random (version 4) UUIDs from a ChaCha8 stream seeded
// from crypto/rand: as unpredictable as reading crypto/rand for each, without
// a system call and an allocation per request.
type requestIDs struct {
	mu  sync.Mutex
	rng *rand.ChaCha8
}

func newRequestIDs() *requestIDs {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails (Go 1.24: it crashes the program instead)
	return &requestIDs{rng: rand.NewChaCha8(seed)}
}

// next returns a new id in the canonical UUID form.
func (g *requestIDs) next() string {
	var u [16]byte
	g.mu.Lock()
	_, _ = g.rng.Read(u[:]) // ChaCha8.Read always fills u
	g.mu.Unlock()
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
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
// d <= 0 sets none. In the same copy of the request it opens a
// reqscope.Scope, into which the middleware below (authentication, the
// directory's store) put their values without copying the request again.
func Deadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		var ctx context.Context = reqscope.New(c.Request.Context())
		if d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}
