package config

import (
	"errors"
	"os"
	"regexp"
	"testing"
	"time"
)

// TestHardeningKeysRefuseBadValues covers the listener, proxy-header and
// pepper settings: each bad value is refused naming its key.
func TestHardeningKeysRefuseBadValues(t *testing.T) {
	for _, tc := range []struct {
		env map[string]string
		key string
	}{
		{map[string]string{"SCIMGATE_HTTP_READ_HEADER_TIMEOUT": "1ms"}, "http.read_header_timeout"},
		{map[string]string{"SCIMGATE_HTTP_READ_TIMEOUT": "5s"}, "http.read_timeout"}, // under the 10s header timeout
		{map[string]string{"SCIMGATE_HTTP_IDLE_TIMEOUT": "0s"}, "http.idle_timeout"},
		{map[string]string{"SCIMGATE_HTTP_DRAIN_BYTES": "-1"}, "http.drain_bytes"},
		{map[string]string{"SCIMGATE_TRUSTED_PROXY_HEADER": "X-Forwarded-For, X-Real-IP"}, "trusted_proxy_header"},
		{map[string]string{"SCIMGATE_TRUSTED_PROXY_HEADER": ""}, "trusted_proxy_header"},
		{map[string]string{"SCIMGATE_TOKENS_PEPPER": "short-pepper"}, "tokens.pepper"},
		{map[string]string{"SCIMGATE_TOKENS_PEPPER": "change-me-please-to-a-random-64-hex-character-value"}, "tokens.pepper"},
		{map[string]string{"SCIMGATE_TOKENS_PEPPER": "ChangeMe0123456789abcdef0123456789abcdef"}, "tokens.pepper"},
	} {
		_, err := Load("", env(tc.env))
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Key != tc.key {
			t.Errorf("%v: err %v, want a KeyError for %s", tc.env, err, tc.key)
		}
	}
	cfg, err := Load("", env(map[string]string{
		"SCIMGATE_TOKENS_PEPPER":        "3f1c0e6b9a7d2e4f5a6b7c8d9e0f1a2b", // 32 bytes
		"SCIMGATE_TRUSTED_PROXY_HEADER": "X-Real-IP",
		"SCIMGATE_HTTP_READ_TIMEOUT":    "45s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TrustedProxyHeader != "X-Real-IP" || cfg.HTTP.ReadTimeout.Std() != 45*time.Second || cfg.HTTP.IdleTimeout.Std() != 2*time.Minute {
		t.Fatalf("loaded %+v %q", cfg.HTTP, cfg.TrustedProxyHeader)
	}
}

// TestShippedPepperPlaceholdersAreRefused keeps the deploy examples honest:
// a placeholder left in by mistake must stop the gateway, not become the
// HMAC key.
func TestShippedPepperPlaceholdersAreRefused(t *testing.T) {
	re := regexp.MustCompile(`SCIMGATE_TOKENS_PEPPER[=:] *"?([^"\n]*)"?`)
	for _, f := range []string{"../.env.example", "../deploy/kubernetes/secrets.env.example", "../docker-compose.yml"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
			v := m[1]
			if v == "" || v[0] == '$' { // empty, or taken from the environment
				continue
			}
			if checkPepper(v) == nil {
				t.Errorf("%s: example pepper %q would be accepted", f, v)
			}
		}
	}
}
