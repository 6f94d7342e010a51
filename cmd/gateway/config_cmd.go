package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/scimgate/scimgate/config"
)

// loadConfig reads --config and the environment; errors are usage errors.
func loadConfig(path string, env func(string) (string, bool)) (config.Config, error) {
	cfg, err := config.Load(path, env)
	if err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses and turns flag errors into usage errors; -h and --help
// (the flag package has printed the command's usage) end the command with
// status 0.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return usageError{err}
	}
	return nil
}

func cmdConfig(args []string, cio cliIO) error {
	if len(args) == 0 {
		return usagef("config: want a subcommand: check or keys")
	}
	switch args[0] {
	case "check":
		fs := newFlagSet("config check", cio.stderr)
		path := fs.String("config", "", "configuration file")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if _, err := loadConfig(*path, cio.env); err != nil {
			return err
		}
		fmt.Fprintln(cio.stdout, "configuration OK")
		return nil
	case "keys":
		fs := newFlagSet("config keys", cio.stderr)
		out := fs.String("o", "table", "output format: table or json")
		fs.StringVar(out, "output", "table", "output format: table or json (same as -o)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("config keys: unexpected argument %q", fs.Arg(0))
		}
		switch *out {
		case "json":
			enc := json.NewEncoder(cio.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(config.Keys())
		case "table":
		default:
			return usagef("config keys: -o must be table or json")
		}
		tw := tabwriter.NewWriter(cio.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tENVIRONMENT\tDEFAULT\tDESCRIPTION")
		for _, k := range config.Keys() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Name, k.Env, k.Default, k.Doc)
		}
		return tw.Flush()
	default:
		return usagef("config: unknown subcommand %q", args[0])
	}
}
