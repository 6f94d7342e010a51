// Command gateway is the scimgate binary: the SCIM gateway server and its
// administration CLI. main only parses the command line and wires packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// exitUsage is the exit status for bad flags and invalid configuration.
const exitUsage = 2

// usageError marks errors that exit with status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// errHelpShown ends a command whose usage was printed on request (-h,
// --help): the process exits 0.
var errHelpShown = errors.New("help shown")

// defaultGCPercent is the garbage collector's target when GOGC is not set:
// the gateway's live heap is small (tens of MB), so letting it grow to
// three times that before a collection costs little memory and spends
// less CPU in the collector and in returning memory to the system
// (BenchmarkInitialSync, 100,000 users: 28 s at GOGC=100, 23.5 s at 200).
const defaultGCPercent = 200

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	if errors.Is(err, errHelpShown) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(exitUsage)
		}
		os.Exit(1)
	}
}

// run dispatches a command line. It is main without the process globals,
// so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) (string, bool)) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		cmd, args = "help", nil
	}
	io := cliIO{stdout: stdout, stderr: stderr, env: env}
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, io)
	case "config":
		return cmdConfig(args, io)
	case "help":
		fmt.Fprint(stdout, usageText)
		return nil
	case "version":
		fmt.Fprintln(stdout, "scimgate", version())
		return nil
	default:
		if h, ok := subcommands[cmd]; ok {
			return h(ctx, args, io)
		}
		return usagef("unknown command %q (try: gateway help)", cmd)
	}
}

// cliIO bundles a command's streams and environment.
type cliIO struct {
	stdout, stderr io.Writer
	env            func(string) (string, bool)
	// onRoute, when set, is told every route serve mounted before it
	// listens (tests check the route inventory against the OpenAPI document).
	onRoute func(method, path string)
	// onHandler, when set, gets serve's finished HTTP handler before it
	// listens (benchmarks drive it through ServeHTTP).
	onHandler func(http.Handler)
}

// subcommands holds the administration commands, each in its own file.
var subcommands = map[string]func(context.Context, []string, cliIO) error{
	"client":      cmdClient,
	"directory":   cmdDirectory,
	"token":       cmdToken,
	"audit":       cmdAudit,
	"report":      cmdReport,
	"keys":        cmdKeys,
	"roles":       cmdRoles,
	"healthcheck": cmdHealthcheck,
	"admin-token": cmdAdminToken,
}

const usageText = `scimgate gateway — SCIM 2.0 gateway with OAuth2/OIDC authentication

Usage:
  gateway [serve] [--config FILE] [--listen ADDR]   run the gateway (default)
  gateway config check --config FILE               validate a configuration file
  gateway config keys                              list every configuration key
  gateway roles preview --config NEW.yaml          dry run: users whose role a mapping change would change
  gateway client create|list|show|update|delete    SCIM clients (on the configured Redis)
  gateway directory create|list|show|update|delete directories: isolated Users and Groups per customer
  gateway token create|list|revoke                 static system tokens (opst-)
  gateway audit query|tail [-f]                    the audit trail (table, JSON, NDJSON for SIEMs)
  gateway report credentials [-o table|json|csv]   every client and credential with scopes, use and flags
  gateway client rotate-secret NAME|ID             new OAuth client secret (client_credentials)
  gateway keys rotate|list                         OAuth access-token signing keys
  gateway healthcheck [--url URL]                  GET /healthz; exit 0 on 200 (container health checks)
  gateway admin-token [-o json]                    generate an admin API token and its admin.token_hash
  gateway version                                  the build's version
  gateway help                                     this text (also -h, --help; COMMAND --help for one command)

Every setting can also come from the environment as SCIMGATE_<KEY>.
`
