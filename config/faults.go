package config

import (
	"fmt"
	"net/http"
	"time"
)

// validateFaults checks the settings for Redis trouble: the degraded
// readiness status and the SCIM request deadline.
func (c *Config) validateFaults() error {
	checks := []struct {
		key string
		err error
	}{
		{"redis.degraded_status", checkDegradedStatus(c.Redis.DegradedStatus)},
		{"scim.request_timeout", checkRange(time.Duration(c.SCIM.RequestTimeout), 100*time.Millisecond, 10*time.Minute)},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return &KeyError{Key: ch.key, Err: ch.err}
		}
	}
	return nil
}

func checkDegradedStatus(n int) error {
	if n != http.StatusOK && n != http.StatusServiceUnavailable {
		return fmt.Errorf("must be 200 or 503, got %d", n)
	}
	return nil
}
