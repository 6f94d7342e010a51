package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	cases := []struct{ name, body, key string }{
		{"unknown top-level key", "lisen: 1.2.3.4:80\n", "lisen"},
		{"unknown nested key", "redis:\n  urll: redis://x\n", "redis.urll"},
		{"malformed url", "redis:\n  url: \"http//nohost\"\n", "redis.url"},
		{"wrong url scheme", "redis:\n  url: http://h:1\n", "redis.url"},
		{"bad duration", "shutdown_timeout: 10 parsecs\n", "shutdown_timeout"},
		{"out of range", "scim:\n  max_results: 0\n", "scim.max_results"},
		{"wrong type", "scim:\n  max_body_bytes: lots\n", "scim.max_body_bytes"},
		{"bad enum", "log:\n  format: xml\n", "log.format"},
		{"bad listen", "listen: nope\n", "listen"},
		{"section not mapping", "redis: 5\n", "redis"},
		{"bad token hash", "admin:\n  token_hash: abc\n", "admin.token_hash"},
		{"guessable admin token", "admin:\n  token: short\n", "admin.token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.body), env(nil))
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("want KeyError, got %v", err)
			}
			if ke.Key != tc.key {
				t.Fatalf("key = %q, want %q (err %v)", ke.Key, tc.key, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("message is not one line: %q", err)
			}
		})
	}
}

func TestPrecedenceFileThenEnv(t *testing.T) {
	p := writeFile(t, "listen: 0.0.0.0:9000\nlog:\n  format: json\nshutdown_timeout: 3s\n")
	cfg, err := Load(p, env(map[string]string{"SCIMGATE_LISTEN": "127.0.0.1:9100", "SCIMGATE_SCIM_STRICT": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9100" || cfg.Log.Format != "json" || !cfg.SCIM.Strict || cfg.ShutdownTimeout.Std() != 3*time.Second {
		t.Fatalf("unexpected config %+v", cfg)
	}
	if cfg.Redis.Prefix != "scimgate:" {
		t.Fatalf("default lost: %q", cfg.Redis.Prefix)
	}
}

func TestEnvErrorNamesKey(t *testing.T) {
	_, err := Load("", env(map[string]string{"SCIMGATE_SCIM_MAX_RESULTS": "many"}))
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Key != "scim.max_results" {
		t.Fatalf("got %v", err)
	}
}

func TestKeysHaveEnvNames(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		if !strings.HasPrefix(k.Env, EnvPrefix) || k.Doc == "" {
			t.Errorf("key %s: env %q doc %q", k.Name, k.Env, k.Doc)
		}
		seen[k.Env] = true
	}
	for _, want := range []string{"SCIMGATE_LISTEN", "SCIMGATE_REDIS_URL", "SCIMGATE_LOG_FORMAT", "SCIMGATE_ADMIN_TOKEN"} {
		if !seen[want] {
			t.Errorf("missing %s", want)
		}
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	c := Default()
	c.Admin.Token = "super-secret-admin"
	c.Redis.URL = "redis://:pw@h:6379"
	out := c.Redacted()
	if strings.Contains(out, "super-secret-admin") || strings.Contains(out, "pw@") {
		t.Fatalf("secret in %s", out)
	}
}

// TestSCIMIndexes: scim.indexes names optional indexes only, each once;
// another name is a KeyError naming the valid ones.
func TestSCIMIndexes(t *testing.T) {
	if l := Default().SCIM.IndexList(); len(l) != 0 {
		t.Fatalf("default scim.indexes = %v, want none", l)
	}
	cfg, err := Load("", env(map[string]string{"SCIMGATE_SCIM_INDEXES": "emails.value, name.familyName"}))
	if err != nil || !slices.Equal(cfg.SCIM.IndexList(), []string{"emails.value", "name.familyName"}) {
		t.Fatalf("got %v %v", cfg.SCIM.IndexList(), err)
	}
	for _, bad := range []string{"emails", "userName", "displayName,displayName"} {
		_, err := Load("", env(map[string]string{"SCIMGATE_SCIM_INDEXES": bad}))
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Key != "scim.indexes" {
			t.Fatalf("%q: got %v", bad, err)
		}
		if !strings.Contains(bad, ",") && !strings.Contains(err.Error(), "emails.value, displayName, name.familyName") {
			t.Errorf("%q: the error does not name the valid indexes: %v", bad, err)
		}
	}
}

// TestSCIMDocumentKeys: scim.document_keys is on by default and
// SCIMGATE_SCIM_DOCUMENT_KEYS=false turns it off (a rolling upgrade).
func TestSCIMDocumentKeys(t *testing.T) {
	if !Default().SCIM.DocumentKeys {
		t.Fatal("scim.document_keys off by default")
	}
	cfg, err := Load("", env(map[string]string{"SCIMGATE_SCIM_DOCUMENT_KEYS": "false"}))
	if err != nil || cfg.SCIM.DocumentKeys {
		t.Fatalf("SCIMGATE_SCIM_DOCUMENT_KEYS=false: %v %v", cfg.SCIM.DocumentKeys, err)
	}
}

// TestSCIMReadCacheDrain: scim.read_cache_drain is 5 ms by default (the
// staleness the README states), set from the environment, and refused
// outside 1 ms–1 s.
func TestSCIMReadCacheDrain(t *testing.T) {
	if got := Default().SCIM.ReadCacheDrain.Std(); got != 5*time.Millisecond {
		t.Fatalf("default scim.read_cache_drain %v", got)
	}
	cfg, err := Load("", env(map[string]string{"SCIMGATE_SCIM_READ_CACHE_DRAIN": "50ms"}))
	if err != nil || cfg.SCIM.ReadCacheDrain.Std() != 50*time.Millisecond {
		t.Fatalf("SCIMGATE_SCIM_READ_CACHE_DRAIN=50ms: %v %v", cfg.SCIM.ReadCacheDrain, err)
	}
	for _, v := range []string{"0s", "500us", "2s"} {
		if _, err := Load("", env(map[string]string{"SCIMGATE_SCIM_READ_CACHE_DRAIN": v})); err == nil || !strings.Contains(err.Error(), "scim.read_cache_drain") {
			t.Errorf("SCIMGATE_SCIM_READ_CACHE_DRAIN=%s: %v", v, err)
		}
	}
}

// TestSCIMCompactResources: scim.compact_resources is on by default and
// SCIMGATE_SCIM_COMPACT_RESOURCES=false turns it off (a rolling upgrade).
func TestSCIMCompactResources(t *testing.T) {
	if !Default().SCIM.CompactResources {
		t.Fatal("scim.compact_resources off by default")
	}
	cfg, err := Load("", env(map[string]string{"SCIMGATE_SCIM_COMPACT_RESOURCES": "false"}))
	if err != nil || cfg.SCIM.CompactResources {
		t.Fatalf("SCIMGATE_SCIM_COMPACT_RESOURCES=false: %v %v", cfg.SCIM.CompactResources, err)
	}
}
