package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/scimgate/scimgate/adminapi"
)

// firstRun holds the embedded-mode credentials printed once at start.
type firstRun struct {
	adminToken string // empty when the admin credential comes from configuration
	scimToken  string
}

// bootstrapEmbedded prepares embedded mode: an admin token when none is
// configured, and a "default" client with one scim_v2 token.
func bootstrapEmbedded(ctx context.Context, svc *adminapi.Service, cred *adminapi.Credential) (*firstRun, error) {
	fr := &firstRun{}
	if !cred.Configured() {
		tok, err := adminapi.NewAdminToken()
		if err != nil {
			return nil, err
		}
		c, err := adminapi.NewCredential(tok, "")
		if err != nil {
			return nil, err
		}
		*cred, fr.adminToken = c, tok
	}
	tok, err := svc.Bootstrap(ctx)
	if err != nil {
		return nil, err
	}
	fr.scimToken = tok
	return fr, nil
}

// print writes the credentials to w (stderr), never to the structured log:
// this and the creation responses are the only places a token is shown.
// scheme ("http://" or "https://") prefixes the listen address when
// publicURL is empty.
func (fr *firstRun) print(w io.Writer, publicURL, scheme string, addr net.Addr) {
	base := strings.TrimRight(publicURL, "/")
	if base == "" {
		base = scheme + loopbackFor(addr)
	}
	admin := fr.adminToken
	if admin == "" {
		admin = "(from admin.token / admin.token_hash)"
	}
	fmt.Fprintf(w, `
==================== scimgate embedded mode: first-run credentials ====================
These exist only in this process's in-memory Redis and are printed only now.
  admin API token:  %s
  SCIM token:       %s   (client "default", scope scim_v2)
  SCIM base URL:    %s/scim/v2
  admin console:    %s/admin   (sign in with the admin API token)
Try:
  curl -H 'Authorization: Bearer %s' %s/scim/v2/Users
========================================================================================

`, admin, fr.scimToken, base, base, fr.scimToken, base)
}

// loopbackFor turns an unspecified listen address into one curl can reach.
func loopbackFor(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
