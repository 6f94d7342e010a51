package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/scimgate/scimgate/config"
)

// cmdHealthcheck is `gateway healthcheck [--url URL] [--timeout D]`: GET
// the URL (default /healthz of the configured listen address) and succeed
// only on 200. Distroless images have no shell or curl, so container
// HEALTHCHECKs call the binary itself.
func cmdHealthcheck(ctx context.Context, args []string, cio cliIO) error {
	fs := newFlagSet("healthcheck", cio.stderr)
	url := fs.String("url", "", "URL to GET (default: http://<listen>/healthz, https when SCIMGATE_TLS_CERT_FILE is set, with a wildcard host replaced by 127.0.0.1)")
	timeout := fs.Duration("timeout", 3*time.Second, "request timeout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	client := http.DefaultClient
	if *url == "" {
		listen := config.Default().Listen
		if v, ok := cio.env(config.EnvPrefix + "LISTEN"); ok && v != "" {
			listen = v
		}
		u, err := healthURL(listen)
		if err != nil {
			return usageError{err}
		}
		*url = u
		if v, ok := cio.env(config.EnvPrefix + "TLS_CERT_FILE"); ok && v != "" {
			// The gateway serves HTTPS (tls.cert_file); its certificate
			// names the public host, not the loopback address probed here,
			// and the probe sends no credential: skip verification for this
			// default URL only (an explicit --url is verified).
			*url = "https://" + strings.TrimPrefix(u, "http://")
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // loopback liveness probe, see above
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usagef("healthcheck: bad --url: %v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d", *url, resp.StatusCode)
	}
	fmt.Fprintln(cio.stdout, "ok")
	return nil
}

// healthURL is the /healthz URL of a listen address; a wildcard or empty
// host becomes the loopback address.
func healthURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("healthcheck: listen address %q: %w", listen, err)
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
