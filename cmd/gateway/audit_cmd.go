package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
)

const auditUsage = `usage:
  gateway audit query [--since T] [--until T] [--action A] [--client ID] [--target ID|NAME]
                      [--limit N] [--cursor C] [--directory NAME|ID] [-o table|json|ndjson]
  gateway audit tail [-n N] [-f] [--action A] [--client ID] [--target ID|NAME]
T is an RFC 3339 time, a date (2006-01-02) or a duration before now (24h, 7d).
query --directory reads that directory's SCIM writes (default: the default
directory's trail, which also holds admin and credential events).
tail prints the newest N events as NDJSON (one JSON event per line); with -f it
keeps printing new events until interrupted (for SIEM ingestion).
every command also takes --config FILE`

// cmdAudit reads the audit trail on the configured Redis.
func cmdAudit(ctx context.Context, args []string, cio cliIO) error {
	if len(args) == 0 {
		return usagef("audit: want a subcommand\n%s", auditUsage)
	}
	switch args[0] {
	case "query":
		return auditQuery(ctx, args[1:], cio)
	case "tail":
		return auditTail(ctx, args[1:], cio)
	}
	return usagef("audit: unknown subcommand %q\n%s", args[0], auditUsage)
}

func auditQuery(ctx context.Context, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("audit query", cio, false)
	params := map[string]*string{}
	for _, name := range []string{"since", "until", "action", "client", "target", "cursor", "limit"} {
		params[name] = fs.String(name, "", "filter: "+name)
	}
	out := fs.String("o", "table", "output format: table, json or ndjson")
	dir := fs.String("directory", "", "read this directory's SCIM writes (NAME or ID; default: the default directory)")
	if err := noPositional(fs, args, "audit query"); err != nil {
		return err
	}
	switch *out {
	case "table", "json", "ndjson":
	default:
		return usagef("-o: %q is not one of table, json, ndjson", *out)
	}
	q, err := adminapi.AuditQuery(func(k string) string { return *params[k] }, time.Now())
	var fe *adminapi.FieldError
	if errors.As(err, &fe) {
		return usagef("--%s: %s", fe.Field, fe.Msg)
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	events := s.events
	if *dir != "" {
		if events, err = s.svc.DirectoryAudit(ctx, *dir); err != nil {
			return directoryErr(err)
		}
	}
	page, err := events.Query(ctx, q)
	if err != nil {
		return err
	}
	switch *out {
	case "json":
		if page.Events == nil {
			page.Events = []audit.Event{}
		}
		return writeJSON(cio.stdout, page)
	case "ndjson":
		if err := writeNDJSON(cio, page.Events); err != nil {
			return err
		}
	default:
		tw := newTable(cio.stdout)
		fmt.Fprintln(tw, "TIME\tACTION\tOUTCOME\tACTOR\tTARGET\tCHANGED\tSOURCE\tREQUEST")
		for _, e := range page.Events {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fmtTime(e.Time), e.Action, e.Outcome, actorText(e.Actor),
				targetText(e.Target), dash(changedText(e)), dash(sourceText(e)), dash(e.RequestID))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if page.Next != "" {
		fmt.Fprintf(cio.stderr, "more events: --cursor %s\n", page.Next)
	}
	return nil
}

func auditTail(ctx context.Context, args []string, cio cliIO) error {
	fs, af := newAdminFlagSet("audit tail", cio, false)
	n := fs.Int("n", 20, "number of newest events to print first")
	follow := fs.Bool("f", false, "keep printing new events until interrupted")
	action := fs.String("action", "", "filter: action")
	client := fs.String("client", "", "filter: actor client id")
	target := fs.String("target", "", "filter: target id or name")
	if err := noPositional(fs, args, "audit tail"); err != nil {
		return err
	}
	if *n < 0 || *n > 10000 {
		return usagef("-n: %d is outside 0..10000", *n)
	}
	q := audit.Query{Action: strings.ToUpper(*action), Client: *client, Target: *target}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	recent, from, err := s.events.Last(ctx, *n, q)
	if err != nil {
		return err
	}
	if err := writeNDJSON(cio, recent); err != nil || !*follow {
		return err
	}
	enc := json.NewEncoder(cio.stdout)
	return s.events.Tail(ctx, from, q, func(e audit.Event) error { return enc.Encode(e) })
}

func writeNDJSON(cio cliIO, events []audit.Event) error {
	enc := json.NewEncoder(cio.stdout)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}

func actorText(a audit.Actor) string {
	parts := []string{}
	for _, p := range []string{a.AuthMethod, a.ClientID, a.CredentialID} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return dash(strings.Join(parts, ":"))
}

func targetText(t audit.Target) string {
	if t.Type == "" && t.ID == "" {
		return "-"
	}
	s := t.Type + " " + t.ID
	if t.Name != "" {
		s += " (" + strconv.Quote(t.Name) + ")"
	}
	return s
}

// changedText is the CHANGED column: the changed attributes, or for an
// AUTH_FAILED aggregate its count, time span and route family.
func changedText(e audit.Event) string {
	if e.Count == 0 || e.First == nil || e.Last == nil {
		return strings.Join(e.Changed, ",")
	}
	return fmt.Sprintf("%d× %s–%s %s", e.Count, e.First.Format("15:04:05"), e.Last.Format("15:04:05"), e.Route)
}

// sourceText is the SOURCE column: the address, or the network of an
// AUTH_FAILED aggregate (an IPv6 prefix, "other").
func sourceText(e audit.Event) string {
	if e.SourceIP != "" {
		return e.SourceIP
	}
	return e.Network
}
