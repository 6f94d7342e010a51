package config

import (
	"errors"
	"strings"
	"testing"
)

func TestWebhooksValidation(t *testing.T) {
	cases := []struct{ name, body, key string }{
		{"bad url", "webhooks:\n  urls: ftp://x/y\n  secret: 0123456789abcdef\n", "webhooks.urls"},
		{"duplicate url", "webhooks:\n  urls: https://a/x, https://a/x\n  secret: 0123456789abcdef\n", "webhooks.urls"},
		{"no secret", "webhooks:\n  urls: https://a/x\n", "webhooks.secret"},
		{"short secret", "webhooks:\n  urls: https://a/x\n  secret: tiny-secret\n", "webhooks.secret"},
		{"attempts", "webhooks:\n  max_attempts: 0\n", "webhooks.max_attempts"},
		{"backoff max below initial", "webhooks:\n  backoff_initial: 10s\n  backoff_max: 1s\n", "webhooks.backoff_max"},
		{"timeout", "webhooks:\n  timeout: 1ms\n", "webhooks.timeout"},
		{"directory name", "webhooks:\n  directories: acme, a{b}\n", "webhooks.directories"},
		{"duplicate directory", "webhooks:\n  directories: acme,ACME\n", "webhooks.directories"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.body), env(nil))
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Key != tc.key {
				t.Fatalf("err %v, want a KeyError for %s", err, tc.key)
			}
			if strings.Contains(err.Error(), "tiny-secret") {
				t.Fatalf("error quotes the secret: %v", err)
			}
		})
	}
	cfg, err := Load(writeFile(t, "webhooks:\n  urls: \" https://a.example/x , http://b.example:8080/y \"\n  secret: 0123456789abcdef-secret\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Webhooks.DirectoryList(); got != nil {
		t.Fatalf("DirectoryList %q, want none (every directory)", got)
	}
	if got := cfg.Webhooks.URLList(); len(got) != 2 || got[0] != "https://a.example/x" || got[1] != "http://b.example:8080/y" {
		t.Fatalf("URLList %q", got)
	}
	if red := cfg.Redacted(); strings.Contains(red, "0123456789abcdef-secret") || !strings.Contains(red, "webhooks.secret: <redacted>") {
		t.Fatalf("secret not redacted:\n%s", red)
	}
}

func TestWebhooksDirectories(t *testing.T) {
	cfg, err := Load(writeFile(t, "webhooks:\n  directories: \" acme , 0b5e3a56-52a4-4a4a-9d3c-1f0b7a3e2c11 \"\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Webhooks.DirectoryList(); len(got) != 2 || got[0] != "acme" || got[1] != "0b5e3a56-52a4-4a4a-9d3c-1f0b7a3e2c11" {
		t.Fatalf("DirectoryList %q", got)
	}
}
