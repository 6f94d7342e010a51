package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/sealbox"
	"github.com/scimgate/scimgate/tokenstore"
)

// adminSession is an administration command's connection to the
// configured Redis and the service over it.
type adminSession struct {
	svc   *adminapi.Service
	conn  *redisconn.Conn
	cio   cliIO
	jsonO bool
	// events is the audit trail on the same Redis.
	events *audit.Log
}

func (s *adminSession) close() { _ = s.conn.Close() }

// adminFlags are the flags every administration command takes.
type adminFlags struct {
	config *string
	output *string
}

func newAdminFlagSet(name string, cio cliIO, withOutput bool) (*flag.FlagSet, adminFlags) {
	fs := newFlagSet(name, cio.stderr)
	af := adminFlags{config: fs.String("config", "", "configuration file (YAML), as for serve")}
	if withOutput {
		af.output = fs.String("o", "table", "output format: table or json")
		fs.StringVar(af.output, "output", "table", "output format: table or json (same as -o)")
	}
	return fs, af
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// openAdmin loads the configuration like serve does and connects to its
// Redis. The embedded Redis lives inside a serve process, so without
// redis.url there is nothing to administer from here.
func openAdmin(af adminFlags, cio cliIO) (*adminSession, error) {
	jsonOut := false
	if af.output != nil {
		switch *af.output {
		case "table":
		case "json":
			jsonOut = true
		default:
			return nil, usagef("-o: %q is not one of table, json", *af.output)
		}
	}
	cfg, err := loadConfig(*af.config, cio.env)
	if err != nil {
		return nil, err
	}
	if cfg.Redis.URL == "" {
		return nil, usagef("no redis.url configured (SCIMGATE_REDIS_URL): the embedded Redis lives inside the " +
			"`gateway serve` process; administer it through its admin API at " + adminapi.Prefix + " instead")
	}
	routeRedisLog(slog.New(slog.NewTextHandler(cio.stderr, nil)), cfg.Log)
	conn, err := redisconn.Open(cfg.Redis.URL, cfg.Redis.DialTimeout.Std(), nil)
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "redis.url", Err: err}}
	}
	store, err := tokenstore.NewRedis(conn.Client, tokenstore.Options{Prefix: cfg.Redis.Prefix})
	if err != nil {
		_ = conn.Close()
		return nil, usageError{&config.KeyError{Key: "redis.prefix", Err: err}}
	}
	svc := adminapi.NewService(store, auth.NewTokenHasher(cfg.Tokens.Pepper), time.Now)
	svc.SetOfferedScopes(cfg.Scopes.OfferedList())
	events := audit.NewLog(conn.Client, cfg.Redis.Prefix, cfg.Audit.MaxLen)
	svc.SetAudit(events, slog.New(slog.NewTextHandler(cio.stderr, nil)))
	dirs, _, err := openDirectories(conn, cfg, nil, nil)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	svc.SetDirectories(dirs, conn.Client, cfg.Redis.Prefix, nil)
	box, err := sealbox.New(cfg.OAuth.KeyEncryptionKey())
	if err != nil {
		_ = conn.Close()
		return nil, usageError{&config.KeyError{Key: "oauth.key_encryption_key", Err: err}}
	}
	svc.SetUpstreamSealer(box)
	return &adminSession{svc: svc, conn: conn, cio: cio, jsonO: jsonOut, events: events}, nil
}

// flagOf names the command-line flag behind a service field.
var flagOf = map[string]string{
	"name": "--name", "provider": "--provider", "method": "--auth", "enabled": "--enabled",
	"scopes": "--scopes", "allowed_scopes": "--scopes", "expires": "--expires", "allow_ips": "--allow-ip",
	"rate_limit": "--rate-limit", "burst": "--burst", "directory": "--directory", "max_users": "--max-users",
	"issuer": "--issuer", "subject": "--subject", "audience": "--audience", "jwks_url": "--jwks-url",
	"backend": "--backend", "upstream": "--upstream-url", "upstream.url": "--upstream-url", "upstream.token": "--upstream-token-file",
	"upstream.timeout": "--upstream-timeout", "upstream.max_concurrency": "--upstream-max-concurrency",
	"upstream.token_url": "--upstream-token-url", "upstream.client_id": "--upstream-client-id",
	"upstream.client_secret": "--upstream-client-secret-file", "upstream.scopes": "--upstream-scopes", "upstream.ca": "--upstream-ca-file",
}

// cliErr turns service errors into command errors: bad values are usage
// errors naming the flag; the rest keep their message.
func cliErr(err error) error {
	var fe *adminapi.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		f := flagOf[fe.Field]
		if f == "" {
			f = fe.Field
		}
		return usagef("%s: %s", f, fe.Msg)
	case errors.Is(err, tokenstore.ErrNotFound):
		return errors.New("not found (check the NAME or ID; `list` shows what exists)")
	case errors.Is(err, tokenstore.ErrAlreadyExists):
		return errors.New("already exists: the name is taken (names are unique; `list` shows what exists)")
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return strings.Split(s, ",")
}
