package config

import (
	"errors"
	"strings"
	"testing"
)

// TestConsoleOIDCValidation: OIDC sign-in needs a client id, an
// allow-list and public_url; the issuer must be https except on loopback.
func TestConsoleOIDCValidation(t *testing.T) {
	env := map[string]string{
		"SCIMGATE_PUBLIC_URL":                 "https://scim.example.com",
		"SCIMGATE_CONSOLE_OIDC_ISSUER":        "https://login.example.com/realms/ops",
		"SCIMGATE_CONSOLE_OIDC_CLIENT_ID":     "scimgate-console",
		"SCIMGATE_CONSOLE_OIDC_CLIENT_SECRET": "s3cret",
		"SCIMGATE_CONSOLE_OIDC_ADMINS":        " alice@example.com, 0b8f-sub ,",
	}
	load := func(change map[string]string) (Config, error) {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range change {
			e[k] = v
		}
		return Load("", func(k string) (string, bool) { v, ok := e[k]; return v, ok })
	}
	cfg, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Console.OIDCAdminList(); strings.Join(got, "|") != "alice@example.com|0b8f-sub" {
		t.Fatalf("admins %q", got)
	}
	for _, k := range Keys() {
		if k.Name == "console.oidc_client_secret" && !k.Secret {
			t.Fatal("console.oidc_client_secret is not marked secret")
		}
	}
	if _, err := load(map[string]string{"SCIMGATE_CONSOLE_OIDC_ISSUER": "http://127.0.0.1:9000"}); err != nil {
		t.Fatalf("loopback http issuer: %v", err)
	}
	for _, tc := range []struct {
		change map[string]string
		key    string
		msg    string
	}{
		{map[string]string{"SCIMGATE_CONSOLE_OIDC_ADMINS": ""}, "console.oidc_admins", "allow-list"},
		{map[string]string{"SCIMGATE_CONSOLE_OIDC_ADMINS": " , "}, "console.oidc_admins", "allow-list"},
		{map[string]string{"SCIMGATE_CONSOLE_OIDC_CLIENT_ID": ""}, "console.oidc_client_id", "required"},
		{map[string]string{"SCIMGATE_PUBLIC_URL": ""}, "public_url", "/admin/oidc/callback"},
		{map[string]string{"SCIMGATE_CONSOLE_OIDC_ISSUER": "http://login.example.com"}, "console.oidc_issuer", "https"},
		{map[string]string{"SCIMGATE_CONSOLE_OIDC_ISSUER": "login.example.com"}, "console.oidc_issuer", "absolute"},
		{map[string]string{"SCIMGATE_CONSOLE_OIDC_ISSUER": ""}, "console.oidc_client_id", "without console.oidc_issuer"},
	} {
		_, err := load(tc.change)
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Key != tc.key || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: got %v, want key %s (%s)", tc.change, err, tc.key, tc.msg)
		}
	}
}
