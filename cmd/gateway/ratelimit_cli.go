package main

import "github.com/scimgate/scimgate/tokenstore"

// rateLimitText shows a client's own rate limit; "" (row omitted) when the
// client uses the configured default.
func rateLimitText(r *tokenstore.RateLimit) string {
	if r == nil {
		return ""
	}
	return r.String()
}
