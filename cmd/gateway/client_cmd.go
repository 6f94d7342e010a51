package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/tokenstore"
)

const clientUsage = `usage:
  gateway client create --name NAME [--auth static_token|client_credentials|idp_jwt] [--provider NAME] [--directory NAME|ID]
        (idp_jwt: --issuer URL --subject SUB --audience AUD [--jwks-url URL])
  gateway client list [--search PREFIX] [--limit N [--cursor C]] [-o json]
        (without --limit: every page; with it: one page, the next page's --cursor on stderr)
  gateway client show NAME|ID [-o json]
  gateway client update NAME|ID [--enabled=true|false] [--provider X] [--name Y] [--rate-limit N/s|N/m|N/h|default] [--burst N]
        (idp_jwt: [--issuer URL] [--subject SUB] [--audience AUD] [--jwks-url URL|""]; client_credentials: [--scopes S1,S2])
  gateway client delete NAME|ID
  gateway client rotate-secret NAME|ID [-o json]    (client_credentials: new secret, old one stops working)
every command also takes --config FILE`

// cmdClient administers SCIM clients on the configured Redis.
func cmdClient(ctx context.Context, args []string, cio cliIO) error {
	if len(args) == 0 {
		return usagef("client: want a subcommand\n%s", clientUsage)
	}
	switch args[0] {
	case "create":
		return clientCreate(ctx, args[1:], cio)
	case "list":
		return clientList(ctx, args[1:], cio)
	case "show":
		return clientOne(ctx, "show", args[1:], cio)
	case "delete":
		return clientOne(ctx, "delete", args[1:], cio)
	case "update":
		return clientUpdate(ctx, args[1:], cio)
	case "rotate-secret":
		return clientRotateSecret(ctx, args[1:], cio)
	}
	return usagef("client: unknown subcommand %q\n%s", args[0], clientUsage)
}

func clientCreate(ctx context.Context, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("client create", cio, true)
	name := fs.String("name", "", "client name (unique)")
	method := fs.String("auth", "static_token", "authentication method: static_token, client_credentials or idp_jwt")
	provider := fs.String("provider", "", "login provider of the provisioned users (free text)")
	var idp adminapi.IdPJWTSpec
	fs.StringVar(&idp.Issuer, "issuer", "", "idp_jwt: the IdP's issuer URL, exactly as in its tokens' iss")
	fs.StringVar(&idp.Subject, "subject", "", "idp_jwt: the sub claim of the SCIM client's tokens")
	fs.StringVar(&idp.Audience, "audience", "", "idp_jwt: a value the tokens' aud must include (scimgate's client id at the IdP)")
	fs.StringVar(&idp.JWKSURL, "jwks-url", "", "idp_jwt: JWKS URL (default: from the issuer's OIDC discovery document)")
	ccScopes := fs.String("scopes", "", "client_credentials: comma-separated scopes the client may request (default scim_v2)")
	dir := fs.String("directory", "", "directory the client provisions into, NAME or ID (default: default)")
	if err := noPositional(fs, args, "client create"); err != nil {
		return err
	}
	if *name == "" {
		return usagef("--name: required")
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	c, secret, err := s.svc.CreateClientWithSecret(ctx, adminapi.ClientSpec{Name: *name, Method: *method, Provider: *provider,
		IdPJWTSpec: idp, ClientCredentialsSpec: adminapi.ClientCredentialsSpec{Scopes: splitList(*ccScopes)}, Directory: *dir})
	if err != nil {
		return cliErr(err)
	}
	if secret != "" {
		return s.printClientSecret(c, secret)
	}
	return s.printClient(c)
}

// noPositional parses flags and refuses positional arguments.
func noPositional(fs *flag.FlagSet, args []string, cmd string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(fs.Args()) > 0 {
		return usagef("%s: unexpected argument %q", cmd, fs.Args()[0])
	}
	return nil
}

// oneRef wants exactly one NAME|ID argument.
func oneRef(pos []string, cmd string) (string, error) {
	if len(pos) != 1 {
		return "", usagef("%s: want one client NAME or ID", cmd)
	}
	return pos[0], nil
}

func clientList(ctx context.Context, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("client list", cio, true)
	search := fs.String("search", "", "only clients whose name starts with PREFIX (case-insensitive)")
	limit := fs.Int("limit", 0, fmt.Sprintf("one page of at most N clients (1 to %d; default: every page)", adminapi.MaxClientPage))
	cursor := fs.String("cursor", "", "continue after the page that printed this cursor (with --limit)")
	if err := noPositional(fs, args, "client list"); err != nil {
		return err
	}
	if *limit < 0 || *limit > adminapi.MaxClientPage || (*cursor != "" && *limit == 0) {
		return usagef("client list: --limit must be 1 to %d, and --cursor needs --limit", adminapi.MaxClientPage)
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	q := tokenstore.ClientQuery{Prefix: *search, Cursor: *cursor, Limit: *limit}
	if *limit == 0 {
		q.Limit = adminapi.MaxClientPage
	}
	var cs []tokenstore.Client
	for {
		p, err := s.svc.ListClientsPage(ctx, q)
		if err != nil {
			return cliErr(err)
		}
		cs = append(cs, p.Clients...)
		if *limit != 0 && p.Next != "" {
			fmt.Fprintf(cio.stderr, "more clients: --cursor %s\n", p.Next)
		}
		if *limit != 0 || p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if s.jsonO {
		out := make([]adminapi.ClientJSON, len(cs))
		for i, c := range cs {
			out[i] = adminapi.ToClientJSON(c)
		}
		return writeJSON(cio.stdout, out)
	}
	tw := newTable(cio.stdout)
	fmt.Fprintln(tw, "ID\tNAME\tMETHOD\tPROVIDER\tENABLED\tCREATED")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%t\t%s\n", c.ID, c.Name, c.Method, dash(c.Provider), c.Enabled, fmtTime(c.CreatedAt))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clientOne(ctx context.Context, verb string, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("client "+verb, cio, verb == "show")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	ref, err := oneRef(pos, "client "+verb)
	if err != nil {
		return err
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	if verb == "delete" {
		c, err := s.svc.DeleteClient(ctx, ref)
		if err != nil {
			return cliErr(err)
		}
		fmt.Fprintf(cio.stdout, "deleted client %s (%s) and all its tokens\n", c.Name, c.ID)
		return nil
	}
	c, err := s.svc.Client(ctx, ref)
	if err != nil {
		return cliErr(err)
	}
	return s.printClient(c)
}

func clientUpdate(ctx context.Context, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("client update", cio, true)
	enabled := fs.Bool("enabled", true, "enable (true) or disable (false) the client and all its tokens")
	provider := fs.String("provider", "", "new login provider")
	name := fs.String("name", "", "new name")
	rate := fs.String("rate-limit", "", `the client's own SCIM request rate: N/s, N/m or N/h; "default" returns to ratelimit.rate`)
	burst := fs.Int("burst", 0, "burst of the client's own rate (default: the rate)")
	issuer := fs.String("issuer", "", "idp_jwt: new issuer URL, exactly as in its tokens' iss")
	subject := fs.String("subject", "", "idp_jwt: new subject (the tokens' sub)")
	audience := fs.String("audience", "", "idp_jwt: new audience (scimgate's client id at the IdP)")
	jwksURL := fs.String("jwks-url", "", `idp_jwt: new JWKS URL; "" returns to the issuer's OIDC discovery document`)
	scopes := fs.String("scopes", "", `client_credentials: comma-separated scopes it may request; "" returns to scim_v2`)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	ref, err := oneRef(pos, "client update")
	if err != nil {
		return err
	}
	var p adminapi.ClientPatch
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "enabled":
			p.Enabled = enabled
		case "provider":
			p.Provider = provider
		case "name":
			p.Name = name
		case "rate-limit":
			p.RateLimit = rate
		case "burst":
			p.Burst = burst
		case "issuer":
			p.Issuer = issuer
		case "subject":
			p.Subject = subject
		case "audience":
			p.Audience = audience
		case "jwks-url":
			p.JWKSURL = jwksURL
		case "scopes":
			list := splitList(*scopes)
			p.AllowedScopes = &list
		}
	})
	if p == (adminapi.ClientPatch{}) {
		return usagef("client update: nothing to change (give --enabled, --provider, --name, --rate-limit, --burst, --issuer, --subject, --audience, --jwks-url or --scopes)")
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	c, err := s.svc.UpdateClient(ctx, ref, p)
	if err != nil {
		return cliErr(err)
	}
	return s.printClient(c)
}

func (s *adminSession) printClient(c tokenstore.Client) error {
	if s.jsonO {
		return writeJSON(s.cio.stdout, adminapi.ToClientJSON(c))
	}
	tw := newTable(s.cio.stdout)
	for _, row := range [][2]string{
		{"id", c.ID}, {"name", c.Name}, {"method", c.Method}, {"provider", dash(c.Provider)},
		{"enabled", fmt.Sprint(c.Enabled)}, {"created", fmtTime(c.CreatedAt)}, {"updated", fmtTime(c.UpdatedAt)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], strings.TrimSpace(row[1]))
	}
	for _, row := range [][2]string{
		{"issuer", c.Issuer}, {"subject", c.Subject}, {"audience", c.Audience}, {"jwks url", c.JWKSURL},
		{"rate limit", rateLimitText(c.RateLimit)},
	} {
		if row[1] == "" {
			continue
		}
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], strings.TrimSpace(row[1]))
	}
	return tw.Flush()
}
