package config

import "errors"

// Metrics configures the Prometheus endpoint (package metrics).
type Metrics struct {
	// Listen is a separate address for GET /metrics; empty serves it on
	// the main listener.
	Listen string `yaml:"listen" doc:"separate host:port for GET /metrics (e.g. 0.0.0.0:9090); empty serves /metrics on the main listener"`
	// TokenHash, when set, makes /metrics require a bearer token whose
	// SHA-256 it is.
	TokenHash string `yaml:"token_hash" doc:"hex SHA-256 of a bearer token /metrics then requires (Prometheus: authorization.credentials_file); empty: /metrics is open"`
}

// validate checks the metrics settings.
func (m Metrics) validate(mainListen string) error {
	if err := checkHexHash(m.TokenHash); err != nil {
		return &KeyError{Key: "metrics.token_hash", Err: err}
	}
	if m.Listen == "" {
		return nil
	}
	if err := checkHostPort(m.Listen); err != nil {
		return &KeyError{Key: "metrics.listen", Err: err}
	}
	if m.Listen == mainListen {
		return &KeyError{Key: "metrics.listen", Err: errors.New("is the same address as listen; leave it empty to serve /metrics on the main listener")}
	}
	return nil
}
