package config

import (
	"errors"
	"net/textproto"
	"strings"
	"time"
)

// HTTP configures the main listener's connection limits (package server).
type HTTP struct {
	// ReadHeaderTimeout bounds reading a request's line and headers.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout" doc:"time allowed to read a request's line and headers (slow-header clients are cut off)"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout Duration `yaml:"read_timeout" doc:"time allowed to read a whole request, headers and body; a body trickled slower is cut off with 408 (it does not limit how long a handler runs)"`
	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request.
	IdleTimeout Duration `yaml:"idle_timeout" doc:"how long an idle keep-alive connection is kept open"`
	// DrainBytes is how much of a request body the gateway reads and
	// discards after refusing a request (413, 401 ...), so a client that
	// sends its whole body before reading the answer sees it.
	DrainBytes int64 `yaml:"drain_bytes" doc:"largest unread request body (bytes) read and discarded after a refusal, so clients that send the whole body before reading (no Expect: 100-continue) get the 413/401 instead of a reset; larger bodies close the connection"`
}

func defaultHTTP() HTTP {
	return HTTP{
		ReadHeaderTimeout: Duration(10 * time.Second),
		ReadTimeout:       Duration(30 * time.Second),
		IdleTimeout:       Duration(120 * time.Second),
		DrainBytes:        4 << 20,
	}
}

// validate checks the listener settings; the whole-request read timeout
// must leave room for the headers.
func (h HTTP) validate() error {
	checks := []struct {
		key string
		err error
	}{
		{"http.read_header_timeout", checkRange(time.Duration(h.ReadHeaderTimeout), 100*time.Millisecond, 10*time.Minute)},
		{"http.read_timeout", checkRange(time.Duration(h.ReadTimeout), time.Duration(h.ReadHeaderTimeout), time.Hour)},
		{"http.idle_timeout", checkRange(time.Duration(h.IdleTimeout), time.Second, time.Hour)},
		{"http.drain_bytes", checkIntRange(h.DrainBytes, 0, 1<<30)},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return &KeyError{Key: ch.key, Err: ch.err}
		}
	}
	return nil
}

// checkHeaderName wants one HTTP header field name (RFC 9110 §5.1 token).
func checkHeaderName(s string) error {
	if s == "" {
		return errors.New("must name a header")
	}
	for _, r := range s {
		if r > '~' || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return errors.New("is not a header name")
		}
	}
	if textproto.CanonicalMIMEHeaderKey(s) == "" {
		return errors.New("is not a header name")
	}
	return nil
}
