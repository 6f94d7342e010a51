package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/scimgate/scimgate/adminapi"
)

// cmdAdminToken generates an admin API token and the hex SHA-256 to put in
// admin.token_hash; the token is printed once and stored nowhere.
func cmdAdminToken(_ context.Context, args []string, cio cliIO) error {
	fs := newFlagSet("admin-token", cio.stderr)
	out := fs.String("o", "text", "output: text or json")
	fs.StringVar(out, "output", "text", "output: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("admin-token: unexpected argument %q", fs.Arg(0))
	}
	tok, err := adminapi.NewAdminToken()
	if err != nil {
		return fmt.Errorf("generate admin token: %w", err)
	}
	sum := sha256.Sum256([]byte(tok))
	hash := hex.EncodeToString(sum[:])
	switch *out {
	case "json":
		return json.NewEncoder(cio.stdout).Encode(map[string]string{"token": tok, "token_hash": hash})
	case "text":
		fmt.Fprintf(cio.stdout, "admin token (shown once; give it to administrators):\n  %s\n", tok)
		fmt.Fprintf(cio.stdout, "configure the gateway with its hash:\n  SCIMGATE_ADMIN_TOKEN_HASH=%s\n", hash)
		return nil
	default:
		return usagef("admin-token: -o must be text or json")
	}
}
