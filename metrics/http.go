package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
)

// unmatchedRoute labels requests no route matched, so arbitrary paths
// cannot create series.
const unmatchedRoute = "unmatched"

// Rate-limit rejection kinds (label limiter).
const (
	// LimiterClient is the per-client rate limit, applied after
	// authentication: the request carries a principal.
	LimiterClient = "client"
	// LimiterUnauthenticated is any 429 without a principal: the
	// failed-authentication guard in front of SCIM authentication, or the
	// OAuth token endpoint's failure limit.
	LimiterUnauthenticated = "unauthenticated"
)

// HTTPMiddleware counts and times every request that passes it. Mount it
// after the request-id, access-log and recovery middleware (engine.Use
// after server.New): a panic below it is counted as 500, which is what
// Recovery answers.
//
// The ratelimit package has no hook of its own, so rate-limit rejections
// are the 429 answers seen here, split by whether the request had
// authenticated (see LimiterClient and LimiterUnauthenticated).
func (m *Metrics) HTTPMiddleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		completed := false
		defer func() {
			status := c.Writer.Status()
			if !completed {
				status = http.StatusInternalServerError
			}
			m.observeHTTP(c, status, time.Since(start))
		}()
		c.Next()
		completed = true
	}
}

func (m *Metrics) observeHTTP(c *gin.Context, status int, took time.Duration) {
	route := c.FullPath()
	if route == "" {
		route = unmatchedRoute
	}
	method := normMethod(c.Request.Method)
	client := ""
	p, authenticated := auth.PrincipalFromGin(c)
	if authenticated {
		client = p.ClientID
	}
	m.httpRequestsOf.get(httpLabels{route: route, method: method, status: status, client: client}).Inc()
	m.httpDurationOf.get(routeMethod{route, method}).Observe(took.Seconds())
	if status == http.StatusTooManyRequests {
		limiter := LimiterUnauthenticated
		if authenticated {
			limiter = LimiterClient
		}
		m.rateLimited.WithLabelValues(route, limiter).Inc()
	}
}

// statusLabels are the status labels of the usual statuses, so labelling
// a request allocates nothing.
var statusLabels = func() (l [600]string) {
	for i := 100; i < len(l); i++ {
		l[i] = strconv.Itoa(i)
	}
	return l
}()

// statusLabel is strconv.Itoa(status), without allocating for 100-599.
func statusLabel(status int) string {
	if status >= 100 && status < len(statusLabels) {
		return statusLabels[status]
	}
	return strconv.Itoa(status)
}

// normMethod keeps the method label to the standard verbs.
func normMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}
