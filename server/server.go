// Package server assembles scimgate's HTTP pipeline on gin and runs it with
// graceful shutdown. The order of the pipeline is fixed here: request id
// first (so every later log line carries it), then the access log (so it sees
// the final status of everything below), then the body drain (so a refusal
// reaches clients still sending), then panic recovery, then the route
// groups with their own authentication.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Pinger reports whether the data store answers. An error with a
// Degraded() bool method that reports true means the store answers but
// refuses writes (e.g. Redis full): readiness is then "degraded".
type Pinger interface {
	Ping(ctx context.Context, timeout time.Duration) error
}

// Options configures the engine.
type Options struct {
	Log          *slog.Logger
	Redis        Pinger
	ReadyTimeout time.Duration
	// DegradedStatus is the /readyz status while the store is degraded
	// (default 200: reads are still served).
	DegradedStatus int
	// ReadyChecks are extra readiness checks (e.g. degraded IdP issuers);
	// each returns nil or a reason. A failing extra check degrades, it is
	// reported but does not fail readiness.
	ReadyChecks map[string]func(context.Context) error
	// DrainBytes is how much of an unread request body is read and
	// discarded after the handler (see DrainBody); 0 leaves it to net/http.
	DrainBytes int64
}

// New returns a gin engine with the shared middleware and the health routes.
// Callers mount their route groups on it.
func New(o Options) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.ContextWithFallback = true
	e.RedirectTrailingSlash = false
	e.RemoveExtraSlash = true
	e.Use(RequestID(), AccessLog(o.Log), DrainBody(o.DrainBytes), Recovery(o.Log))
	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", readyz(o))
	return e
}

func readyz(o Options) gin.HandlerFunc {
	degradedStatus := o.DegradedStatus
	if degradedStatus == 0 {
		degradedStatus = http.StatusOK
	}
	return func(c *gin.Context) {
		status := http.StatusOK
		degraded := gin.H{}
		if err := o.Redis.Ping(c.Request.Context(), o.ReadyTimeout); err != nil {
			var d interface{ Degraded() bool }
			if !errors.As(err, &d) || !d.Degraded() {
				o.Log.WarnContext(c.Request.Context(), "readiness: redis unavailable", "err", err.Error())
				c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "redis did not answer within " + o.ReadyTimeout.String() + " or refused the check"})
				return
			}
			status = degradedStatus
			degraded["redis"] = err.Error()
		}
		for name, check := range o.ReadyChecks {
			if err := check(c.Request.Context()); err != nil {
				degraded[name] = err.Error()
			}
		}
		if len(degraded) > 0 {
			c.JSON(status, gin.H{"status": "degraded", "degraded": degraded})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	}
}

// Recovery turns a panic into a SCIM 500 without leaking details.
func Recovery(log *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, rec any) {
		log.ErrorContext(c.Request.Context(), "panic in handler", "panic", rec, "route", c.FullPath())
		status, body := scimerr.ToBody(errors.New("panic"))
		c.AbortWithStatusJSON(status, body)
	})
}

// Listen configures the listener Run opens.
type Listen struct {
	// Addr is the host:port to listen on.
	Addr string
	// Grace is how long in-flight requests may run after ctx ends.
	Grace time.Duration
	// ReadHeaderTimeout bounds reading a request's line and headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading the whole request, body included. net/http
	// clears the deadline once the body has been read to its end, so it
	// does not cut a handler that runs longer (net/http connReader.
	// startBackgroundRead); a body trickled past it fails with a timeout
	// that package bodyerr answers with 408.
	ReadTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection.
	IdleTimeout time.Duration
	// TLS, when not nil, makes Run serve HTTPS (see CertReloader).
	TLS *tls.Config
}

// Run serves h on l.Addr until ctx is cancelled, then stops accepting,
// waits up to l.Grace for in-flight requests and returns. ready, if not
// nil, receives the bound address once listening.
func Run(ctx context.Context, l Listen, h http.Handler, log *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", l.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		IdleTimeout:       l.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         l.TLS,
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() {
		if l.TLS != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "grace", l.Grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), l.Grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return errors.Join(errors.New("graceful shutdown did not finish in time"), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
