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
	if p.RateLimit != nil && !clearsRateLimit(*p.RateLimit) {
		if _, _, err := ratelimit.ParseRate(*p.RateLimit); err != nil {
			return fieldErr("rate_limit", "%v", err)
		}
	}
	if p.Burst != nil && (*p.Burst < 1 || *p.Burst > 1_000_000) {
		return fieldErr("burst", "must be from 1 to 1000000")
	}
	if p.Burst != nil && p.RateLimit != nil && clearsRateLimit(*p.RateLimit) {
		return fieldErr("burst", "cannot be set while returning the rate limit to the default")
	}
	return nil
}

// applyRateLimit sets or clears c's override as p says. A burst alone
// changes the burst of an existing override.
func (p ClientPatch) applyRateLimit(c *tokenstore.Client) error {
	switch {
	case p.RateLimit != nil && clearsRateLimit(*p.RateLimit):
		c.RateLimit = nil
	case p.RateLimit != nil:
		rate, per, err := ratelimit.ParseRate(*p.RateLimit)
		if err != nil {
			return fieldErr("rate_limit", "%v", err)
		}
		burst := rate
		if p.Burst != nil {
			burst = *p.Burst
		}
		c.RateLimit = &tokenstore.RateLimit{Rate: rate, Period: per, Burst: burst}
	case p.Burst != nil:
		if c.RateLimit == nil {
			return fieldErr("burst", "the client has no rate limit of its own; set rate_limit too")
		}
		rl := *c.RateLimit
		rl.Burst = *p.Burst
		c.RateLimit = &rl
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
