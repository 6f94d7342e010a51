package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/directory"
)

const directoryUsage = `usage:
  gateway directory create --name NAME [--max-users N] [--rate-limit N [--burst N]] [UPSTREAM] [-o json]
  gateway directory list [-o json]
  gateway directory show NAME|ID [-o json]
  gateway directory update NAME|ID [--name NEW] [--max-users N] [--rate-limit N|N/s|N/m|N/h|default] [--burst N] [--backend stored|upstream] [UPSTREAM]
    (--max-users 0: no cap; --rate-limit: SCIM requests per second of all the directory's clients together,
     in addition to each client's limit; default returns to ratelimit.directory_rate)
  gateway directory delete NAME|ID [--force]   (--force also deletes its clients, users and groups)
UPSTREAM (backend "upstream": the directory's SCIM requests are forwarded to an application's own SCIM API):
  --upstream-url URL  --upstream-token-file FILE  [--upstream-timeout 10s]  [--upstream-max-concurrency 64]
  or, OAuth 2.0 client credentials in place of the token: --upstream-token-url URL --upstream-client-id ID
    --upstream-client-secret-file FILE [--upstream-scopes "a b"]
  [--upstream-ca-file PEM]  CA bundle trusted for the upstream's TLS certificate ("" file content: system roots)
  the token and client secret are sealed with oauth.key_encryption_key when one is configured, else stored in
  plain text; they are never shown
every command also takes --config FILE`

// cmdDirectory administers directories on the configured Redis.
func cmdDirectory(ctx context.Context, args []string, cio cliIO) error {
	if len(args) == 0 {
		return usagef("directory: want a subcommand\n%s", directoryUsage)
	}
	switch args[0] {
	case "create":
		return directoryCreate(ctx, args[1:], cio)
	case "list":
		return directoryList(ctx, args[1:], cio)
	case "show", "update", "delete":
		return directoryOne(ctx, args[0], args[1:], cio)
	}
	return usagef("directory: unknown subcommand %q\n%s", args[0], directoryUsage)
}

func directoryCreate(ctx context.Context, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("directory create", cio, true)
	name := fs.String("name", "", "directory name (unique)")
	maxUsers := fs.Int64("max-users", 0, "most Users the directory may hold (0: no cap)")
	rf := addDirRateFlags(fs)
	uf := addUpstreamFlags(fs)
	if err := noPositional(fs, args, "directory create"); err != nil {
		return err
	}
	if *name == "" {
		return usagef("--name: required")
	}
	up, err := uf.spec()
	if err != nil {
		return err
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	rate, burst := rf.values()
	d, err := s.svc.CreateDirectory(ctx, adminapi.DirectorySpec{Name: *name, MaxUsers: *maxUsers, RateLimit: rate, Burst: burst, Upstream: up})
	if err != nil {
		return directoryErr(err)
	}
	warnPlainToken(cio, up, d)
	return s.printDirectories([]adminapi.DirectoryJSON{d}, true)
}

func directoryList(ctx context.Context, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("directory list", cio, true)
	if err := noPositional(fs, args, "directory list"); err != nil {
		return err
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	ds, err := s.svc.ListDirectories(ctx)
	if err != nil {
		return directoryErr(err)
	}
	return s.printDirectories(ds, false)
}

func directoryOne(ctx context.Context, verb string, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("directory "+verb, cio, verb != "delete")
	force := fs.Bool("force", false, "delete: also delete the directory's clients, users and groups")
	var p adminapi.DirectoryPatch
	name := fs.String("name", "", "update: new name")
	maxUsers := fs.Int64("max-users", -1, "update: most Users the directory may hold (0: no cap)")
	backend := fs.String("backend", "", "update: stored or upstream")
	rf := addDirRateFlags(fs)
	uf := addUpstreamFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("directory %s: want one directory NAME or ID", verb)
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	switch verb {
	case "delete":
		rep, err := s.svc.DeleteDirectory(ctx, pos[0], *force)
		if err != nil {
			return directoryErr(err)
		}
		fmt.Fprintf(cio.stdout, "deleted directory %s (%s): %d clients, %d users, %d groups, %d Redis keys\n",
			rep.Directory.Name, rep.Directory.ID, rep.Clients, rep.Users, rep.Groups, rep.Keys)
		return nil
	case "update":
		if *name != "" {
			p.Name = name
		}
		if *maxUsers >= 0 {
			p.MaxUsers = maxUsers
		}
		if *backend != "" {
			p.Backend = backend
		}
		p.RateLimit, p.Burst = rf.values()
		if p.Upstream, err = uf.spec(); err != nil {
			return err
		}
		d, err := s.svc.UpdateDirectory(ctx, pos[0], p)
		if err != nil {
			return directoryErr(err)
		}
		warnPlainToken(cio, p.Upstream, d)
		return s.printDirectories([]adminapi.DirectoryJSON{d}, true)
	}
	d, err := s.svc.Directory(ctx, pos[0])
	if err != nil {
		return directoryErr(err)
	}
	return s.printDirectories([]adminapi.DirectoryJSON{d}, true)
}

// directoryErr words the directory refusals for the command line.
func directoryErr(err error) error {
	var ne *adminapi.NotEmptyError
	switch {
	case errors.As(err, &ne):
		return fmt.Errorf("%s (--force)", ne.Error())
	case errors.Is(err, directory.ErrDefault):
		return errors.New("the default directory cannot be deleted or renamed")
	case errors.Is(err, directory.ErrNotFound):
		return errors.New("not found (check the NAME or ID; `gateway directory list` shows what exists)")
	case errors.Is(err, directory.ErrAlreadyExists):
		return errors.New("already exists: the directory name is taken")
	}
	return cliErr(err)
}

// printDirectories prints ds as a table or JSON (one object when one).
func (s *adminSession) printDirectories(ds []adminapi.DirectoryJSON, one bool) error {
	if s.jsonO {
		if one {
			return writeJSON(s.cio.stdout, ds[0])
		}
		return writeJSON(s.cio.stdout, ds)
	}
	tw := newTable(s.cio.stdout)
	fmt.Fprintln(tw, "ID\tNAME\tBACKEND\tUSERS\tGROUPS\tCLIENTS\tMAX USERS\tRATE LIMIT\tCREATED")
	for _, d := range ds {
		max := "-"
		if d.MaxUsers > 0 {
			max = fmt.Sprint(d.MaxUsers)
		}
		name := d.Name
		if d.Deleting {
			name += " (deleting)"
		}
		backend := d.Backend
		if d.Upstream != nil {
			backend += " " + d.Upstream.URL
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", d.ID, name, backend, d.Users, d.Groups, d.Clients, max, dirRateText(d.RateLimit), fmtTime(d.CreatedAt))
	}
	return tw.Flush()
}

// upstreamFlags are a directory's upstream settings on the command line.
type upstreamFlags struct {
	url, tokenFile, timeout                    *string
	maxConcurrency                             *int
	tokenURL, clientID, secretFile, scopes, ca *string
}

func addUpstreamFlags(fs *flag.FlagSet) upstreamFlags {
	return upstreamFlags{
		url:            fs.String("upstream-url", "", "backend upstream: the application's SCIM base URL (https; http only on loopback)"),
		tokenFile:      fs.String("upstream-token-file", "", "backend upstream: file holding the bearer token scimgate presents upstream"),
		timeout:        fs.String("upstream-timeout", "", "backend upstream: time limit of one upstream request (default 10s)"),
		maxConcurrency: fs.Int("upstream-max-concurrency", 0, "backend upstream: most upstream requests in flight (default 64)"),
		tokenURL:       fs.String("upstream-token-url", "", "backend upstream: the upstream's OAuth 2.0 token endpoint (client credentials instead of a token)"),
		clientID:       fs.String("upstream-client-id", "", "backend upstream: client id at --upstream-token-url"),
		secretFile:     fs.String("upstream-client-secret-file", "", "backend upstream: file holding the client secret at --upstream-token-url"),
		scopes:         fs.String("upstream-scopes", "", "backend upstream: space-separated scopes requested at --upstream-token-url"),
		ca:             fs.String("upstream-ca-file", "", "backend upstream: PEM bundle of CAs trusted for the upstream's TLS certificate (an empty file: the system roots)"),
	}
}

// spec returns the settings given (nil: none), the token read from its
// file.
func (f upstreamFlags) spec() (*adminapi.UpstreamSpec, error) {
	var u adminapi.UpstreamSpec
	set := false
	if *f.url != "" {
		u.URL, set = f.url, true
	}
	if *f.timeout != "" {
		u.Timeout, set = f.timeout, true
	}
	if *f.tokenURL != "" {
		u.TokenURL, set = f.tokenURL, true
	}
	if *f.clientID != "" {
		u.ClientID, set = f.clientID, true
	}
	if *f.scopes != "" {
		u.Scopes, set = strings.Fields(*f.scopes), true
	}
	// Secrets and the CA bundle come from files (never the command line).
	for _, ff := range []struct {
		flag, path string
		dst        **string
	}{
		{"--upstream-token-file", *f.tokenFile, &u.Token},
		{"--upstream-client-secret-file", *f.secretFile, &u.ClientSecret},
		{"--upstream-ca-file", *f.ca, &u.CA},
	} {
		if ff.path == "" {
			continue
		}
		raw, err := os.ReadFile(ff.path)
		if err != nil {
			return nil, usagef("%s: %v", ff.flag, err)
		}
		v := strings.TrimSpace(string(raw))
		*ff.dst, set = &v, true
	}
	if *f.maxConcurrency != 0 {
		u.MaxConcurrency, set = f.maxConcurrency, true
	}
	if !set {
		return nil, nil
	}
	return &u, nil
}

// warnPlainToken says when an upstream token given was stored unsealed.
func warnPlainToken(cio cliIO, up *adminapi.UpstreamSpec, d adminapi.DirectoryJSON) {
	if up != nil && up.Token != nil && d.Upstream != nil && !d.Upstream.TokenSealed {
		fmt.Fprintln(cio.stderr, "note: the upstream token is stored in Redis in plain text; set oauth.key_encryption_key to store it encrypted")
	}
	if up != nil && up.ClientSecret != nil && d.Upstream != nil && !d.Upstream.ClientSecretSealed {
		fmt.Fprintln(cio.stderr, "note: the upstream client secret is stored in Redis in plain text; set oauth.key_encryption_key to store it encrypted")
	}
}
