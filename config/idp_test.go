package config

import (
	"errors"
	"testing"
)

func TestIdPKeys(t *testing.T) {
	cfg, err := Load("", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.IdP.AlgorithmList(); len(got) != 5 || got[0] != "RS256" || got[3] != "EdDSA" || got[4] != "Ed25519" {
		t.Fatalf("default algorithms %v", got)
	}
	for _, tc := range []struct{ key, val string }{
		{"idp.algorithms", "RS256,HS256"},
		{"idp.algorithms", "none"},
		{"idp.algorithms", " , "},
		{"idp.leeway", "1h"},
		{"idp.unknown_kid_cooldown", "0s"},
		{"idp.jwks_refresh", "1s"},
		{"idp.http_timeout", "0s"},
		{"idp.max_token_bytes", "1000"},
		{"idp.max_token_bytes", "2000000"},
		{"idp.max_token_lifetime", "1s"},
		{"idp.max_token_lifetime", "720h"},
	} {
		env := map[string]string{envName(tc.key): tc.val}
		_, err := Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Key != tc.key {
			t.Errorf("%s=%q: got %v, want an error naming the key", tc.key, tc.val, err)
		}
	}
}
