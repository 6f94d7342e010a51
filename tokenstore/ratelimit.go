package tokenstore

import (
	"fmt"
	"time"
)

// RateLimit is a per-client override of the SCIM request rate: Rate
// requests per Period, with bursts of up to Burst requests.
type RateLimit struct {
	Rate   int           `json:"rate"`
	Period time.Duration `json:"period_ns"`
	Burst  int           `json:"burst"`
}

// String formats the limit like "50/s burst 100".
func (r RateLimit) String() string {
	unit := r.Period.String()
	switch r.Period {
	case time.Second:
		unit = "s"
	case time.Minute:
		unit = "m"
	case time.Hour:
		unit = "h"
	}
	return fmt.Sprintf("%d/%s burst %d", r.Rate, unit, r.Burst)
}
