package config

import (
	"errors"
	"testing"
)

// TestUpstreamValidation: the upstream URL is https (http only on
// loopback), needs exactly one credential, and client credentials need an
// id and secret; each problem names its key.
func TestUpstreamValidation(t *testing.T) {
	load := func(env map[string]string) (Config, error) {
		return Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}
	cfg, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Upstream.Enabled() || cfg.Upstream.Timeout.Std().String() != "10s" || cfg.Upstream.MaxConcurrency != 64 {
		t.Fatalf("defaults %+v", cfg.Upstream)
	}
	ok := []map[string]string{
		{"SCIMGATE_UPSTREAM_URL": "https://op.example.com/scim_v2", "SCIMGATE_UPSTREAM_TOKEN_FILE": "/run/secrets/op"},
		{"SCIMGATE_UPSTREAM_URL": "http://127.0.0.1:8080/scim_v2", "SCIMGATE_UPSTREAM_TOKEN_FILE": "/run/secrets/op"},
		{"SCIMGATE_UPSTREAM_URL": "https://op.example.com/scim_v2", "SCIMGATE_UPSTREAM_OAUTH_TOKEN_URL": "https://op.example.com/oauth/token",
			"SCIMGATE_UPSTREAM_OAUTH_CLIENT_ID": "scimgate", "SCIMGATE_UPSTREAM_OAUTH_CLIENT_SECRET": "s3cret"},
	}
	for _, env := range ok {
		if _, err := load(env); err != nil {
			t.Errorf("%v: %v", env, err)
		}
	}
	for _, tc := range []struct {
		env map[string]string
		key string
	}{
		{map[string]string{"SCIMGATE_UPSTREAM_URL": "http://op.example.com/scim_v2", "SCIMGATE_UPSTREAM_TOKEN_FILE": "f"}, "upstream.url"},
		{map[string]string{"SCIMGATE_UPSTREAM_TOKEN_FILE": "f"}, "upstream.url"},
		{map[string]string{"SCIMGATE_UPSTREAM_URL": "https://op.example.com/scim_v2"}, "upstream.token_file"},
		{map[string]string{"SCIMGATE_UPSTREAM_URL": "https://op.example.com/scim_v2", "SCIMGATE_UPSTREAM_TOKEN_FILE": "f",
			"SCIMGATE_UPSTREAM_OAUTH_TOKEN_URL": "https://op.example.com/oauth/token"}, "upstream.token_file"},
		{map[string]string{"SCIMGATE_UPSTREAM_URL": "https://op.example.com/scim_v2", "SCIMGATE_UPSTREAM_OAUTH_TOKEN_URL": "http://op.example.com/t",
			"SCIMGATE_UPSTREAM_OAUTH_CLIENT_ID": "a", "SCIMGATE_UPSTREAM_OAUTH_CLIENT_SECRET": "b"}, "upstream.oauth_token_url"},
		{map[string]string{"SCIMGATE_UPSTREAM_URL": "https://op.example.com/scim_v2", "SCIMGATE_UPSTREAM_OAUTH_TOKEN_URL": "https://op.example.com/t",
			"SCIMGATE_UPSTREAM_OAUTH_CLIENT_SECRET": "b"}, "upstream.oauth_client_id"},
		{map[string]string{"SCIMGATE_UPSTREAM_URL": "https://op.example.com/scim_v2", "SCIMGATE_UPSTREAM_OAUTH_TOKEN_URL": "https://op.example.com/t",
			"SCIMGATE_UPSTREAM_OAUTH_CLIENT_ID": "a"}, "upstream.oauth_client_secret"},
		{map[string]string{"SCIMGATE_UPSTREAM_TIMEOUT": "10ms"}, "upstream.timeout"},
		{map[string]string{"SCIMGATE_UPSTREAM_MAX_CONCURRENCY": "0"}, "upstream.max_concurrency"},
	} {
		_, err := load(tc.env)
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Key != tc.key {
			t.Errorf("%v: got %v, want an error naming %s", tc.env, err, tc.key)
		}
	}
	for _, k := range Keys() {
		if k.Name == "upstream.oauth_client_secret" && !k.Secret {
			t.Fatal("upstream.oauth_client_secret is not marked secret")
		}
	}
}
