package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/tokenstore"
)

// clientRotateSecret is `gateway client rotate-secret NAME|ID`.
func clientRotateSecret(ctx context.Context, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("client rotate-secret", cio, true)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	ref, err := oneRef(pos, "client rotate-secret")
	if err != nil {
		return err
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	c, secret, err := s.svc.RotateSecret(ctx, ref)
	if err != nil {
		return cliErr(err)
	}
	return s.printClientSecret(c, secret)
}

// printClientSecret shows a client_credentials client with its secret,
// which is shown this once and never again.
func (s *adminSession) printClientSecret(c tokenstore.Client, secret string) error {
	if s.jsonO {
		return writeJSON(s.cio.stdout, adminapi.ToClientSecretJSON(c, secret))
	}
	tw := newTable(s.cio.stdout)
	for _, row := range [][2]string{
		{"client_id", c.ID}, {"client_secret", secret}, {"name", c.Name}, {"method", c.Method},
		{"allowed scopes", strings.Join(c.AllowedScopes, " ")}, {"enabled", fmt.Sprint(c.Enabled)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(s.cio.stderr, "store the client_secret now: it is shown only once (rotate it with `gateway client rotate-secret`)")
	return nil
}
