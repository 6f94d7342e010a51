package main

import (
	"strings"

	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/sealbox"
	"github.com/scimgate/scimgate/upstream"
)

// upstreamClientConfig is the client configuration of a directory's
// upstream settings, its sealed secrets opened with box.
func upstreamClientConfig(u directory.Upstream, box *sealbox.Box) (upstream.Config, error) {
	w := u.WithDefaults()
	c := upstream.Config{URL: w.URL, Timeout: w.Timeout}
	if w.CA != "" {
		c.CAPEM = []byte(w.CA)
	}
	if w.AuthMethod() == directory.AuthClientCredentials {
		secret, err := w.OpenClientSecret(box)
		if err != nil {
			return c, err
		}
		c.TokenURL, c.ClientID, c.ClientSecret, c.Scopes = w.TokenURL, w.ClientID, secret, strings.Fields(w.Scopes)
		return c, nil
	}
	tok, err := w.OpenToken(box)
	if err != nil {
		return c, err
	}
	c.Token = tok
	return c, nil
}
