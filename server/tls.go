package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// CertReloader serves a certificate read from PEM files and loads them
// again when they change, so a renewed certificate (cert-manager, certbot,
// a Kubernetes Secret update) is used by new connections without a
// restart. It checks the files' modification times at most once per
// interval, during a handshake; a pair that does not load (say the
// certificate was replaced and the key not yet) keeps the previous one in
// use and is tried again at the next check.
type CertReloader struct {
	certFile, keyFile string
	every             time.Duration
	log               *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]time.Time // modification times of the loaded files
	checked time.Time
}

// NewCertReloader loads certFile and keyFile and returns the reloader; it
// checks for changes at most every interval.
func NewCertReloader(certFile, keyFile string, every time.Duration, log *slog.Logger) (*CertReloader, error) {
	r := &CertReloader{certFile: certFile, keyFile: keyFile, every: every, log: log, now: time.Now}
	stamp, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	r.cert, r.stamp, r.checked = &cert, stamp, r.now()
	return r, nil
}

func (r *CertReloader) stat() ([2]time.Time, error) {
	var out [2]time.Time
	for i, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f) // follows symlinks: a Kubernetes Secret mount swaps ..data
		if err != nil {
			return out, fmt.Errorf("TLS file: %w", err)
		}
		out[i] = fi.ModTime()
	}
	return out, nil
}

// GetCertificate implements tls.Config.GetCertificate.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.checked) >= r.every {
		r.checked = now
		r.reload()
	}
	return r.cert, nil
}

// reload loads the files again when their modification times changed.
func (r *CertReloader) reload() {
	stamp, err := r.stat()
	if err != nil {
		r.log.Warn("TLS certificate not reloaded; serving the previous one", "err", err.Error())
		return
	}
	if stamp == r.stamp {
		return
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		r.log.Warn("TLS certificate not reloaded; serving the previous one", "err", err.Error())
		return
	}
	r.cert, r.stamp = &cert, stamp
	r.log.Info("TLS certificate reloaded", "cert_file", r.certFile)
}

// TLSConfig returns the server TLS configuration: TLS 1.2 or later, with
// the certificate of r.
func (r *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}
