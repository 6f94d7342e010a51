package ratelimit

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Response headers (draft-ietf-httpapi-ratelimit-headers).
const (
	HeaderLimit     = "RateLimit-Limit"
	HeaderRemaining = "RateLimit-Remaining"
	HeaderReset     = "RateLimit-Reset"
)

// seconds rounds d up to whole seconds, at least 1.
func seconds(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	return strconv.FormatInt(max(s, 1), 10)
}

// setHeaders writes the RateLimit-* headers of res: the burst is the
// quota, Reset the seconds until the quota is whole again.
func setHeaders(c *gin.Context, res *redis_rate.Result) {
	c.Header(HeaderLimit, strconv.Itoa(res.Limit.Burst))
	c.Header(HeaderRemaining, strconv.Itoa(max(res.Remaining, 0)))
	reset := "0"
	if res.ResetAfter > 0 {
		reset = seconds(res.ResetAfter)
	}
	c.Header(HeaderReset, reset)
}

// tooMany answers 429 with a SCIM error body and Retry-After.
func tooMany(c *gin.Context, retryAfter time.Duration, detail string) {
	c.Header("Retry-After", seconds(retryAfter))
	status, body := scimerr.ToBody(scimerr.New(http.StatusTooManyRequests, "", "%s", detail))
	c.Header("Content-Type", "application/scim+json")
	c.AbortWithStatusJSON(status, body)
}

// unavailable answers 503 with a SCIM error body and Retry-After: 1.
func unavailable(c *gin.Context) {
	c.Header("Retry-After", "1")
	status, body := scimerr.ToBody(scimerr.New(http.StatusServiceUnavailable, "", "rate limiting temporarily unavailable"))
	c.Header("Content-Type", "application/scim+json")
	c.AbortWithStatusJSON(status, body)
}

func limitText(l redis_rate.Limit) string {
	return fmt.Sprintf("%d requests per %s, bursts of %d", l.Rate, l.Period, l.Burst)
}
