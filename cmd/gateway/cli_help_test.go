package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestHelpExitsZero: -h, --help and `COMMAND --help` print usage and end
// with errHelpShown (exit 0), never a usage error (exit 2).
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"help"},
		{"serve", "--help"}, {"config", "check", "-h"},
		{"client", "create", "--help"}, {"token", "create", "--help"},
		{"audit", "query", "--help"}, {"healthcheck", "-h"}, {"admin-token", "--help"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, &out, &errb, noEnv)
		if err != nil && !errors.Is(err, errHelpShown) {
			t.Errorf("%v: %v", args, err)
			continue
		}
		if out.Len()+errb.Len() == 0 {
			t.Errorf("%v printed no usage", args)
		}
	}
}

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &out, noEnv); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "scimgate ") || len(strings.TrimSpace(out.String())) <= len("scimgate ") {
		t.Fatalf("version output %q", out.String())
	}
}

// TestAdminTokenCommand: the printed hash is the SHA-256 of the printed
// token, so it works as admin.token_hash.
func TestAdminTokenCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin-token", "-o", "json"}, &out, &out, noEnv); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Token     string `json:"token"`
		TokenHash string `json:"token_hash"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(got.Token))
	if !strings.HasPrefix(got.Token, "opadm-") || hex.EncodeToString(sum[:]) != got.TokenHash {
		t.Fatalf("token %q hash %q", got.Token, got.TokenHash)
	}
	if err := run(context.Background(), []string{"admin-token", "stray"}, &out, &out, noEnv); err == nil {
		t.Fatal("stray argument accepted")
	}
}

func TestConfigKeysJSON(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"config", "keys", "-o", "json"}, &out, &out, noEnv); err != nil {
		t.Fatal(err)
	}
	var keys []struct{ Name, Env string }
	if err := json.Unmarshal(out.Bytes(), &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys) < 10 || keys[0].Name == "" || !strings.HasPrefix(keys[0].Env, "SCIMGATE_") {
		t.Fatalf("keys: %+v", keys)
	}
	if err := run(context.Background(), []string{"config", "keys", "stray"}, &out, &out, noEnv); err == nil {
		t.Fatal("stray argument accepted")
	}
}
