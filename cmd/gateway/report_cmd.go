package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/scimgate/scimgate/adminapi"
)

const reportUsage = `usage:
  gateway report credentials [--directory NAME|ID] [-o table|json|csv]
      every client with its auth method and status, and every credential (static tokens,
      client secrets, trusted IdP subjects) with scopes, created, expires, last use and flags
      (expired, revoked, never_used, unused_90d, expiring_30d, client_disabled), each with its
      directory; --directory limits the report to one directory's clients
every command also takes --config FILE`

// cmdReport prints security reports from the configured Redis.
func cmdReport(ctx context.Context, args []string, cio cliIO) error {
	if len(args) == 0 || args[0] != "credentials" {
		return usagef("report: want the subcommand credentials\n%s", reportUsage)
	}
	fs, af := newAdminFlagSet("report credentials", cio, false)
	out := fs.String("o", "table", "output format: table, json or csv")
	dir := fs.String("directory", "", "only the clients of this directory (name or id)")
	if err := noPositional(fs, args[1:], "report credentials"); err != nil {
		return err
	}
	switch *out {
	case "table", "json", "csv":
	default:
		return usagef("-o: %q is not one of table, json, csv", *out)
	}
	s, err := openAdmin(af, cio)
	if err != nil {
		return err
	}
	defer s.close()
	r, err := s.svc.CredentialReportFor(ctx, *dir)
	if err != nil {
		return cliErr(err)
	}
	switch *out {
	case "json":
		return writeJSON(cio.stdout, r)
	case "csv":
		return r.WriteCSV(cio.stdout)
	}
	return printReport(cio, r)
}

func printReport(cio cliIO, r adminapi.CredentialReport) error {
	tw := newTable(cio.stdout)
	fmt.Fprintln(tw, "CLIENT\tDIRECTORY\tMETHOD\tSTATUS\tCREDENTIALS")
	for _, c := range r.Clients {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", c.Name, dash(c.DirectoryName), c.Method, c.Status, c.Credentials)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "CLIENT\tDIRECTORY\tKIND\tID\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATUS\tFLAGS")
	for _, c := range r.Credentials {
		last := "-"
		switch {
		case !c.UsageTracked:
			last = "(not tracked)"
		case c.LastUsedAt != nil:
			last = fmtTime(*c.LastUsedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ClientName, dash(c.DirectoryName), c.Kind, c.ID, dash(c.Name),
			dash(strings.Join(c.Scopes, ",")), optTimeText(c.CreatedAt), optTimeText(c.ExpiresAt), last, c.Status,
			dash(strings.Join(c.Flags, ",")))
	}
	return tw.Flush()
}

// optTimeText formats an optional time for tables.
func optTimeText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return fmtTime(*t)
}
