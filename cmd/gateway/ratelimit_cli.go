package main

import (
	"flag"
	"fmt"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/tokenstore"
)

// rateLimitText shows a client's own rate limit; "" (row omitted) when the
// client uses the configured default.
func rateLimitText(r *tokenstore.RateLimit) string {
	if r == nil {
		return ""
	}
	return r.String()
}

// dirRateFlags are a directory's --rate-limit and --burst.
type dirRateFlags struct {
	rate  *string
	burst *int
}

func addDirRateFlags(fs *flag.FlagSet) dirRateFlags {
	return dirRateFlags{
		rate:  fs.String("rate-limit", "", `SCIM requests per second of all the directory's clients together (N, or N/s, N/m, N/h); "default" returns to ratelimit.directory_rate`),
		burst: fs.Int("burst", 0, "burst of the directory's own rate (default: the rate)"),
	}
}

// values returns the flags given (nil: not given).
func (f dirRateFlags) values() (*adminapi.RateSpec, *int) {
	var rate *adminapi.RateSpec
	if *f.rate != "" {
		r := adminapi.RateSpec(*f.rate)
		rate = &r
	}
	if *f.burst == 0 {
		return rate, nil
	}
	return rate, f.burst
}

// dirRateText shows a directory's own limit, or "default"
// (ratelimit.directory_rate).
func dirRateText(r *adminapi.RateLimitJSON) string {
	if r == nil {
		return "default"
	}
	return fmt.Sprintf("%s burst %d", r.Rate, r.Burst)
}
