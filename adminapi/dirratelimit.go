package adminapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/scimgate/scimgate/directory"
)

// RateSpec is a directory's rate_limit as the API takes it: a number of
// requests per second (100), or text: "100", "100/s", "N/m", "N/h", or
// "default" ("" too) for the configured ratelimit.directory_rate.
type RateSpec string

// UnmarshalJSON takes a JSON number or string.
func (r *RateSpec) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = RateSpec(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("rate_limit: want requests per second (a number) or text like \"100/s\": %w", err)
	}
	*r = RateSpec(n.String())
	return nil
}

// text returns r as ratelimit.ParseRate reads it: a bare number is per
// second.
func (r RateSpec) text() string {
	s := strings.TrimSpace(string(r))
	if _, err := strconv.Atoi(s); err == nil {
		return s + "/s"
	}
	return s
}

// dirRateFields returns the rate_limit text of r (nil stays nil).
func dirRateFields(r *RateSpec) *string {
	if r == nil {
		return nil
	}
	s := r.text()
	return &s
}

// applyDirectoryRateLimit validates and applies a rate_limit and burst to
// d; it reports whether d's limit changed.
func applyDirectoryRateLimit(d *directory.Directory, rate *RateSpec, burst *int) (bool, error) {
	rl := dirRateFields(rate)
	if err := checkRateLimitFields(rl, burst); err != nil {
		return false, err
	}
	old := d.RateLimit
	if err := applyRateLimitFields(rl, burst, &d.RateLimit, "directory"); err != nil {
		return false, err
	}
	changed := (old == nil) != (d.RateLimit == nil) || (old != nil && *old != *d.RateLimit)
	return changed, nil
}
