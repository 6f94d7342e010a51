package main

import (
	"context"
	"fmt"
	"time"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/oauth"
	"github.com/scimgate/scimgate/redisconn"
)

const keysUsage = `usage:
  gateway keys rotate [-o json]   add a new access-token signing key (oauth.signing_alg) and sign with it;
                                  the previous keys stay published until their tokens have expired
  gateway keys list [-o json]     the signing keys and their state
every command also takes --config FILE`

// cmdKeys administers the access-token signing keys on the configured Redis.
func cmdKeys(ctx context.Context, args []string, cio cliIO) error {
	if len(args) == 0 {
		return usagef("keys: want a subcommand\n%s", keysUsage)
	}
	switch args[0] {
	case "rotate", "list":
	default:
		return usagef("keys: unknown subcommand %q\n%s", args[0], keysUsage)
	}
	verb := args[0]
	fs, af := newAdminFlagSet("keys "+verb, cio, true)
	if err := noPositional(fs, args[1:], "keys "+verb); err != nil {
		return err
	}
	cfg, err := loadConfig(*af.config, cio.env)
	if err != nil {
		return err
	}
	if *af.output != "table" && *af.output != "json" {
		return usagef("-o: %q is not one of table, json", *af.output)
	}
	if cfg.Redis.URL == "" {
		return usagef("no redis.url configured (SCIMGATE_REDIS_URL): the embedded Redis lives inside the `gateway serve` process")
	}
	conn, err := redisconn.Open(cfg.Redis.URL, cfg.Redis.DialTimeout.Std(), nil)
	if err != nil {
		return usageError{&config.KeyError{Key: "redis.url", Err: err}}
	}
	defer conn.Close()
	ks, err := newKeyStore(conn.Client, cfg)
	if err != nil {
		return err
	}
	now := time.Now()
	if verb == "rotate" {
		k, err := ks.Rotate(ctx, now)
		if err != nil {
			return err
		}
		recordKeyRotated(ctx, conn, cfg, k, cio)
		fmt.Fprintf(cio.stderr, "new signing key %s (%s); replicas sign with it at once, and the previous key stays published for %s\n",
			k.ID, k.Alg, cfg.OAuth.TokenTTL.Std()+tokenLeeway)
	}
	keys, err := ks.List(ctx)
	if err != nil {
		return err
	}
	return printKeys(cio, *af.output == "json", keys, cfg.OAuth.TokenTTL.Std()+tokenLeeway, now)
}

// keyJSON is a signing key as `keys list -o json` shows it (never the
// private part).
type keyJSON struct {
	Kid         string     `json:"kid"`
	Alg         string     `json:"alg"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	PublishedTo *time.Time `json:"published_until,omitempty"`
}

func printKeys(cio cliIO, jsonOut bool, keys []oauth.SigningKey, retention time.Duration, now time.Time) error {
	out := make([]keyJSON, len(keys))
	for i, k := range keys {
		j := keyJSON{Kid: k.ID, Alg: string(k.Alg), State: "current", CreatedAt: k.CreatedAt}
		if !k.Current() {
			ret, until := k.RetiredAt, k.RetiredAt.Add(retention)
			j.RetiredAt, j.PublishedTo = &ret, &until
			j.State = "retired"
			if !now.Before(until) {
				j.State = "expired"
			}
		}
		out[i] = j
	}
	if jsonOut {
		return writeJSON(cio.stdout, out)
	}
	tw := newTable(cio.stdout)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tRETIRED\tPUBLISHED UNTIL")
	for _, j := range out {
		ret, until := "-", "-"
		if j.RetiredAt != nil {
			ret, until = fmtTime(*j.RetiredAt), fmtTime(*j.PublishedTo)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.Kid, j.Alg, j.State, fmtTime(j.CreatedAt), ret, until)
	}
	return tw.Flush()
}
