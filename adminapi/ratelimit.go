package adminapi

import (
	"strings"

	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/tokenstore"
)

// clearsRateLimit reports whether a rate_limit value returns the client to
// the configured default.
func clearsRateLimit(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.EqualFold(s, "default")
}

// checkRateLimit validates the rate-limit fields of p.
func (p ClientPatch) checkRateLimit() error {
	return checkRateLimitFields(p.RateLimit, p.Burst)
}

// checkRateLimitFields validates a rate_limit and a burst field.
func checkRateLimitFields(rateLimit *string, burst *int) error {
	if rateLimit != nil && !clearsRateLimit(*rateLimit) {
		if _, _, err := ratelimit.ParseRate(*rateLimit); err != nil {
			return fieldErr("rate_limit", "%v", err)
		}
	}
	if burst != nil && (*burst < 1 || *burst > 1_000_000) {
		return fieldErr("burst", "must be from 1 to 1000000")
	}
	if burst != nil && rateLimit != nil && clearsRateLimit(*rateLimit) {
		return fieldErr("burst", "cannot be set while returning the rate limit to the default")
	}
	return nil
}

// applyRateLimit sets or clears c's override as p says. A burst alone
// changes the burst of an existing override.
func (p ClientPatch) applyRateLimit(c *tokenstore.Client) error {
	return applyRateLimitFields(p.RateLimit, p.Burst, &c.RateLimit, "client")
}

// applyRateLimitFields sets or clears the override *cur of a client or
// directory (owner) as rateLimit and burst say.
func applyRateLimitFields(rateLimit *string, burst *int, cur **tokenstore.RateLimit, owner string) error {
	switch {
	case rateLimit != nil && clearsRateLimit(*rateLimit):
		*cur = nil
	case rateLimit != nil:
		rate, per, err := ratelimit.ParseRate(*rateLimit)
		if err != nil {
			return fieldErr("rate_limit", "%v", err)
		}
		b := rate
		if burst != nil {
			b = *burst
		}
		*cur = &tokenstore.RateLimit{Rate: rate, Period: per, Burst: b}
	case burst != nil:
		if *cur == nil {
			return fieldErr("burst", "the %s has no rate limit of its own; set rate_limit too", owner)
		}
		rl := **cur
		rl.Burst = *burst
		*cur = &rl
	}
	return nil
}

// RateLimitJSON is a client's own rate limit as the API shows it.
type RateLimitJSON struct {
	Rate  string `json:"rate"` // "50/s"
	Burst int    `json:"burst"`
}

// ToRateLimitJSON converts an override; nil stays nil.
func ToRateLimitJSON(r *tokenstore.RateLimit) *RateLimitJSON {
	if r == nil {
		return nil
	}
	rate, _, _ := strings.Cut(r.String(), " ")
	return &RateLimitJSON{Rate: rate, Burst: r.Burst}
}
