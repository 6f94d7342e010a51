package main

import (
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

// parseFlags parses and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
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
