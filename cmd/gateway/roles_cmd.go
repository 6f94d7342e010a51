package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/store"
)

// cmdRoles implements `gateway roles preview --config NEW.yaml`: a dry run
// of a role-mapping change over the stored directory.
func cmdRoles(ctx context.Context, args []string, cio cliIO) error {
	if len(args) == 0 || args[0] != "preview" {
		return usagef("roles: want the subcommand preview")
	}
	fs := newFlagSet("roles preview", cio.stderr)
	path := fs.String("config", "", "the configuration to preview (its roles.* settings are compared with the stored roles)")
	output := fs.String("o", "table", "output: table or json")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *output != "table" && *output != "json" {
		return usagef("-o: %q is not one of table, json", *output)
	}
	cfg, err := loadConfig(*path, cio.env)
	if err != nil {
		return err
	}
	if cfg.Redis.URL == "" {
		return usagef("no redis.url configured (SCIMGATE_REDIS_URL): the embedded Redis lives inside the `gateway serve` process")
	}
	mapper, err := cfg.Roles.Mapper()
	if err != nil {
		return usageError{&config.KeyError{Key: "roles.mapping", Err: err}}
	}
	conn, err := redisconn.Open(cfg.Redis.URL, cfg.Redis.DialTimeout.Std(), nil)
	if err != nil {
		return usageError{&config.KeyError{Key: "redis.url", Err: err}}
	}
	defer conn.Close()
	var changes []scimapi.RoleChange
	if err := scimapi.PreviewRoles(ctx, store.NewRedis(conn.Client, cfg.Redis.Prefix), mapper, func(c scimapi.RoleChange) {
		changes = append(changes, c)
	}); err != nil {
		return fmt.Errorf("roles preview: %w", err)
	}
	if *output == "json" {
		enc := json.NewEncoder(cio.stdout)
		enc.SetIndent("", "  ")
		if changes == nil {
			changes = []scimapi.RoleChange{}
		}
		return enc.Encode(changes)
	}
	tw := tabwriter.NewWriter(cio.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tID\tCURRENT ROLE\tNEW ROLE")
	for _, c := range changes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.UserName, c.ID, orDash(c.Current), orDash(c.New))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(cio.stderr, "%d user(s) would change role\n", len(changes))
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
