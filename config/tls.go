package config

import (
	"errors"
	"time"
)

// TLS makes the gateway serve HTTPS itself (IdPs require https), so a
// small deployment needs no TLS-terminating proxy. Empty files: plain HTTP.
type TLS struct {
	// CertFile is the PEM certificate chain (leaf first).
	CertFile string `yaml:"cert_file" doc:"PEM certificate chain (leaf first) to serve HTTPS with; set with tls.key_file (empty: plain HTTP, e.g. behind a TLS-terminating proxy)"`
	// KeyFile is the PEM private key of the certificate.
	KeyFile string `yaml:"key_file" doc:"PEM private key of tls.cert_file"`
	// ReloadInterval is how often, at most, the files' modification times
	// are checked; changed files are loaded for new handshakes.
	ReloadInterval Duration `yaml:"reload_interval" doc:"how often, at most, a TLS handshake checks whether tls.cert_file or tls.key_file changed (modification time); changed files are loaded for new connections without a restart, a pair that does not load keeps the previous certificate"`
}

func defaultTLS() TLS { return TLS{ReloadInterval: Duration(5 * time.Second)} }

// Enabled reports whether the gateway serves HTTPS.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// validate wants both files or neither and a sane reload interval. Whether
// the files load is checked when the server starts.
func (t TLS) validate() error {
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		return &KeyError{Key: "tls.key_file", Err: errors.New("must be set with tls.cert_file")}
	case t.CertFile == "" && t.KeyFile != "":
		return &KeyError{Key: "tls.cert_file", Err: errors.New("must be set with tls.key_file")}
	}
	if err := checkRange(time.Duration(t.ReloadInterval), time.Second, time.Hour); err != nil {
		return &KeyError{Key: "tls.reload_interval", Err: err}
	}
	return nil
}
