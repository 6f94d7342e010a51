package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/auth"
)

const tokenUsage = `usage:
  gateway token create --client NAME|ID [--name NAME] [--scopes scim_v2,api_v3] [--expires 1d|7d|30d|90d|1mo|3mo|6mo|1y] [--allow-ip CIDR,...]
  gateway token list [--client NAME|ID] [-o json]
  gateway token revoke ID
every command also takes --config FILE`

// cmdToken administers static system tokens on the configured Redis.
func cmdToken(ctx context.Context, args []string, cio cliIO) error {
	if len(args) == 0 {
		return usagef("token: want a subcommand\n%s", tokenUsage)
	}
	switch args[0] {
	case "create":
		return tokenCreate(ctx, args[1:], cio)
	case "list":
		return tokenList(ctx, args[1:], cio)
	case "revoke":
		return tokenRevoke(ctx, args[1:], cio)
	}
	return usagef("token: unknown subcommand %q\n%s", args[0], tokenUsage)
}

// tokenCreate prints the new token alone on stdout (details go to stderr),
// so `TOKEN=$(gateway token create ...)` works.
func tokenCreate(ctx context.Context, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("token create", cio, false)
	client := fs.String("client", "", "client NAME or ID")
	name := fs.String("name", "", "token name (free text)")
	scopes := fs.String("scopes", auth.ScopeSCIM, "comma-separated scopes: "+strings.Join(auth.KnownScopes, ", "))
	expires := fs.String("expires", "", "validity: "+strings.Join(adminapi.Validities, ", ")+" (default 1y)")
	allow := fs.String("allow-ip", "", "comma-separated source CIDRs or addresses (default: any)")
	if err := noPositional(fs, args, "token create"); err != nil {
		return err
	}
	if *client == "" {
		return usagef("--client: required")
	}
	spec := adminapi.TokenSpec{Name: *name, Scopes: splitList(*scopes), Expires: *expires, AllowIPs: splitList(*allow)}
	if len(spec.Scopes) == 0 {
		return usagef("--scopes: must name at least one scope")
	}
	if _, err := adminapi.ExpiryAfter(time.Now(), spec.Expires); err != nil {
		return cliErr(err) // before connecting: bad values never need Redis
	}
	validityNote := ""
	switch n, old := adminapi.DeprecatedValidity(spec.Expires); {
	case spec.Expires == "":
		validityNote = " (no --expires given: the default validity, 1y)"
	case old:
		fmt.Fprintf(cio.stderr, "note: --expires %s is deprecated (m is a minute elsewhere); use %s\n", spec.Expires, n)
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	plain, t, err := s.svc.CreateToken(ctx, *client, spec)
	if err != nil {
		return cliErr(err)
	}
	fmt.Fprintln(cio.stdout, plain)
	fmt.Fprintf(cio.stderr, "token id %s, scopes %s, expires %s%s; it is shown only this once\n",
		t.ID, strings.Join(t.Scopes, ","), fmtTime(t.ExpiresAt), validityNote)
	return nil
}

func tokenList(ctx context.Context, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("token list", cio, true)
	client := fs.String("client", "", "only the tokens of this client NAME or ID")
	if err := noPositional(fs, args, "token list"); err != nil {
		return err
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	ts, err := s.svc.ListTokens(ctx, *client)
	if err != nil {
		return cliErr(err)
	}
	now := time.Now()
	if s.jsonO {
		out := make([]adminapi.TokenJSON, len(ts))
		for i, t := range ts {
			out[i] = adminapi.ToTokenJSON(t, now)
		}
		return writeJSON(cio.stdout, out)
	}
	clients, err := s.svc.ListClients(ctx)
	if err != nil {
		return cliErr(err)
	}
	names := map[string]string{}
	for _, c := range clients {
		names[c.ID] = c.Name
	}
	tw := newTable(cio.stdout)
	fmt.Fprintln(tw, "ID\tCLIENT\tNAME\tTOKEN\tSCOPES\tSTATUS\tEXPIRES\tLAST USED\tLAST IP\tALLOW")
	for _, t := range ts {
		allow := make([]string, len(t.AllowIPs))
		for i, p := range t.AllowIPs {
			allow[i] = p.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, dash(names[t.ClientID]), dash(t.Name), dash(t.Hint),
			strings.Join(t.Scopes, ","), t.Status(now), fmtTime(t.ExpiresAt), fmtTime(t.LastUsedAt),
			dash(t.LastUsedIP), dash(strings.Join(allow, ",")))
	}
	return tw.Flush()
}

func tokenRevoke(ctx context.Context, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("token revoke", cio, false)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("token revoke: want one token ID")
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	t, err := s.svc.RevokeToken(ctx, "", pos[0])
	if err != nil {
		return cliErr(err)
	}
	fmt.Fprintf(cio.stdout, "revoked token %s (revoked at %s)\n", t.ID, fmtTime(t.RevokedAt))
	return nil
}
