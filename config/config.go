// Package config holds scimgate's settings: their defaults, the YAML file,
// the SCIMGATE_<KEY> environment overrides and validation.
//
// Every key has a dotted name (e.g. "redis.url") that is also its YAML path;
// its environment name is SCIMGATE_ followed by the dotted name in upper case
// with dots replaced by underscores (SCIMGATE_REDIS_URL). Precedence, lowest
// first: defaults, file, environment, command-line flags.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/scimgate/scimgate/scimapi/store"
)

// Config is the whole gateway configuration.
type Config struct {
	// Listen is the HTTP listen address.
	Listen string `yaml:"listen" doc:"HTTP listen address"`
	// PublicURL is the externally visible base URL, used in SCIM meta.location.
	PublicURL string `yaml:"public_url" doc:"externally visible base URL (meta.location, token issuer); empty means derived from each request"`
	// TrustedProxies lists the proxies (comma-separated CIDRs or addresses)
	// whose X-Forwarded-For is believed; empty trusts none, so the client
	// address (token IP allow-lists, logs) is the TCP peer's.
	TrustedProxies string `yaml:"trusted_proxies" doc:"comma-separated CIDRs of reverse proxies whose trusted_proxy_header (default X-Forwarded-For) is trusted; empty: none (use the TCP peer address)"`
	// TrustedProxyHeader is the one forwarded-address header believed from
	// TrustedProxies (X-Real-IP and the others are then ignored).
	TrustedProxyHeader string `yaml:"trusted_proxy_header" doc:"the only header whose client address is believed from trusted_proxies (e.g. X-Forwarded-For or X-Real-IP); any other is ignored"`
	// ShutdownTimeout bounds how long in-flight requests may run after SIGTERM.
	ShutdownTimeout Duration  `yaml:"shutdown_timeout" doc:"grace period for in-flight requests on SIGINT/SIGTERM"`
	Log             Log       `yaml:"log"`
	Redis           Redis     `yaml:"redis"`
	SCIM            SCIM      `yaml:"scim"`
	Admin           Admin     `yaml:"admin"`
	Tokens          Tokens    `yaml:"tokens"`
	OAuth           OAuth     `yaml:"oauth"`
	RateLimit       RateLimit `yaml:"ratelimit"`
	Audit           Audit     `yaml:"audit"`
	Roles           Roles     `yaml:"roles"`
	// Console is the browser admin console at /admin.
	Console Console `yaml:"console"`
	// Webhooks delivers change events to HTTP subscribers.
	Webhooks Webhooks `yaml:"webhooks"`
	// Metrics configures the Prometheus /metrics endpoint.
	Metrics Metrics `yaml:"metrics"`
	// HTTP configures the main listener's timeouts and body draining.
	HTTP HTTP `yaml:"http"`
	// TLS makes the listener serve HTTPS.
	TLS TLS `yaml:"tls"`

	// IdP verifies JWTs of customers' identity providers (method idp_jwt).
	IdP IdP `yaml:"idp"`
	// Upstream forwards SCIM requests to another SCIM server (gateway mode).
	Upstream Upstream `yaml:"upstream"`
	// Scopes lists the scopes administrators may give credentials.
	Scopes Scopes `yaml:"scopes"`
}

// OAuth configures scimgate's own OAuth 2.0 token endpoint (client
// credentials) and the access tokens it issues.
type OAuth struct {
	Issuer          string   `yaml:"issuer" doc:"iss of issued access tokens and base URL of the OAuth endpoints (empty: public_url, else http://<listen>)"`
	TokenTTL        Duration `yaml:"token_ttl" doc:"lifetime of issued access tokens"`
	SigningAlg      string   `yaml:"signing_alg" doc:"algorithm of new token signing keys: ES256 or RS256"`
	MaxAuthFailures int      `yaml:"max_auth_failures" doc:"failed client authentications per client id and per source address in one window, then 429"`
	FailureWindow   Duration `yaml:"failure_window" doc:"window over which max_auth_failures is counted"`
	TokenRate       int      `yaml:"token_rate" doc:"access tokens issued per minute per client (after client authentication; GCRA in Redis, shared by all replicas); 0 = unlimited"`
	// KeyEncryptionKeyB64 encrypts the signing keys at rest (base64, 32 bytes).
	KeyEncryptionKeyB64 string `yaml:"key_encryption_key" secret:"true" doc:"base64 of 32 random bytes (openssl rand -base64 32): signing private keys are stored in Redis encrypted with it (AES-256-GCM); keys stored before are encrypted at start; a wrong key stops start-up. Empty: keys stored in plain text"`
}

// Log configures logging.
type Log struct {
	Format string `yaml:"format" doc:"log format: text or json"`
	Level  string `yaml:"level" doc:"log level: debug, info, warn or error"`
	// RedisInterval spaces the Redis client library's own lines (see
	// package redislog).
	RedisInterval Duration `yaml:"redis_interval" doc:"least time between two log lines of one kind from the Redis client library (dial and pool failures, logged at WARN); the repeats in between are counted on the next line; 0 logs every one (0..1h)"`
}

// Redis configures the data store.
type Redis struct {
	// URL selects the server; empty starts an embedded in-memory Redis.
	URL          string   `yaml:"url" doc:"redis://, rediss://, redis+sentinel:// or redis+cluster:// URL; empty starts an embedded in-memory Redis"`
	Prefix       string   `yaml:"prefix" doc:"prefix for every key scimgate writes"`
	DialTimeout  Duration `yaml:"dial_timeout" doc:"timeout for establishing a connection"`
	ReadyTimeout Duration `yaml:"ready_timeout" doc:"deadline for the PING behind /readyz"`
	// DegradedStatus is the /readyz status while Redis serves reads but not writes.
	DegradedStatus int `yaml:"degraded_status" doc:"HTTP status of /readyz while Redis is degraded (full, or no writable master: reads served, writes 503): 200 keeps serving reads, 503 leaves the load balancer"`
}

// SCIM configures the SCIM resource layer.
type SCIM struct {
	MaxBodyBytes int64 `yaml:"max_body_bytes" doc:"largest accepted request body in bytes (larger gives 413)"`
	MaxResults   int   `yaml:"max_results" doc:"largest page size (filter.maxResults)"`
	Strict       bool  `yaml:"strict" doc:"refuse IdP request shapes that bend RFC 7644 (compatibility rules off)"`
	// DeleteMode is "hard" (gone at once) or "soft" (kept, invisible, until
	// SoftDeleteRetention has passed).
	DeleteMode          string   `yaml:"delete_mode" doc:"DELETE behaviour: hard (removed at once, 404 afterwards) or soft (invisible to SCIM, userName freed, record kept for soft_delete_retention, then purged)"`
	SoftDeleteRetention Duration `yaml:"soft_delete_retention" doc:"how long soft-deleted resources are kept before the purge job removes them"`
	Budgets             Budgets  `yaml:"budgets"`
	// Limits bounds the work of one request (filters, PATCH, /Bulk).
	Limits         SCIMLimits `yaml:"limits"`
	RequestTimeout Duration   `yaml:"request_timeout" doc:"overall deadline of one SCIM request, Redis calls included (503 with Retry-After when it passes)"`
	// Indexes names the optional User indexes to keep (store.OptionalIndexes).
	Indexes string `yaml:"indexes" doc:"comma-separated optional User indexes to keep, any of emails.value, displayName, name.familyName (empty: none; eq filters on them then scan)"`
	// CompactResources stores resources compactly (store.Redis.CompactResources).
	CompactResources bool `yaml:"compact_resources" doc:"store resources compactly (well-known SCIM strings aliased in the stored document, times as integers, lastModified stored from the first change); releases before it cannot read them: false during a rolling upgrade from one"`
	// DocumentKeys stores documents in keys of their own (store.Redis.DocumentKeys).
	DocumentKeys bool `yaml:"document_keys" doc:"store a resource's JSON in a Redis key of its own when that keeps its hash a compact listpack (about 300 B less per user with Redis's default hash-max-listpack-value); releases before it cannot read such resources: false during a rolling upgrade from one"`
	// ReadCacheMB sizes the read cache (store.ReadCache); 0 turns it off.
	ReadCacheMB int `yaml:"read_cache_mb" doc:"MiB of resources read by id kept in the gateway's memory, invalidated by Redis (CLIENT TRACKING) and at once by the gateway's own writes; single Redis server only (not Sentinel, Cluster or the embedded one); 0 turns it off"`
	// ReadCacheDrain is how often the read cache reads the invalidations
	// Redis pushed to its idle connections (store.ReadCacheConfig).
	ReadCacheDrain Duration `yaml:"read_cache_drain" doc:"how often the read cache reads the invalidations Redis pushed to its idle connections: about the longest a change made through another replica is served stale from this one's cache; each run wakes the gateway, so a longer interval costs an idle gateway less CPU"`
}

// IndexList splits Indexes into its entries.
func (s SCIM) IndexList() []string { return splitList(s.Indexes) }

// Admin configures the admin API credential.
type Admin struct {
	// Token is the admin bearer token in plain text (prefer TokenHash).
	Token string `yaml:"token" secret:"true" doc:"admin bearer token (plain; prefer token_hash)"`
	// TokenHash is the hex SHA-256 of the admin bearer token.
	TokenHash string `yaml:"token_hash" doc:"hex SHA-256 of the admin bearer token"`
}

// Tokens configures the request-path token cache.
type Tokens struct {
	CacheTTL Duration `yaml:"cache_ttl" doc:"how long a verified credential may be cached per process (at most 1s so revocation spreads within 1s)"`
	// Pepper keys the HMAC used to hash stored tokens; empty means plain SHA-256.
	Pepper string `yaml:"pepper" secret:"true" doc:"secret key for HMAC-SHA256 token hashes, at least 32 bytes (openssl rand -hex 32); placeholders containing CHANGE-ME are refused (empty: SHA-256)"`
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Listen:             "127.0.0.1:8080",
		TrustedProxyHeader: "X-Forwarded-For",
		ShutdownTimeout:    Duration(15 * time.Second),
		Log:                Log{Format: "text", Level: "info", RedisInterval: Duration(30 * time.Second)},
		Redis: Redis{
			Prefix:         "scimgate:",
			DialTimeout:    Duration(5 * time.Second),
			ReadyTimeout:   Duration(time.Second),
			DegradedStatus: 200,
		},
		SCIM: SCIM{
			MaxBodyBytes:        1 << 20,
			MaxResults:          1000,
			DeleteMode:          "hard",
			SoftDeleteRetention: Duration(30 * 24 * time.Hour),
			Budgets:             defaultBudgets(),
			Limits:              defaultSCIMLimits(),
			RequestTimeout:      Duration(10 * time.Second),
			CompactResources:    true,
			DocumentKeys:        true,
			ReadCacheMB:         64,
			ReadCacheDrain:      Duration(5 * time.Millisecond),
		},
		// 750ms leaves room for the polling and request time within the
		// promise that a revocation reaches every replica within 1s.
		Tokens: Tokens{CacheTTL: Duration(750 * time.Millisecond)},
		OAuth: OAuth{
			TokenTTL:        Duration(time.Hour),
			SigningAlg:      "ES256",
			MaxAuthFailures: 10,
			FailureWindow:   Duration(5 * time.Minute),
			TokenRate:       60,
		},
		RateLimit: RateLimit{
			Rate:              50,
			Burst:             100,
			OnRedisError:      "allow",
			MaxAuthFailures:   20,
			AuthFailureWindow: Duration(5 * time.Minute),
			IPv6Prefix:        64,
		},
		Audit: Audit{MaxLen: 1_000_000, MaxAge: Duration(2160 * time.Hour), AuthFailureKeys: 100},

		IdP:      defaultIdP(),
		Console:  defaultConsole(),
		Webhooks: defaultWebhooks(),
		HTTP:     defaultHTTP(),
		Upstream: defaultUpstream(),
		TLS:      defaultTLS(),
		Scopes:   defaultScopes(),
	}
}

// KeyError names the configuration key a problem was found in.
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return fmt.Sprintf("config key %q: %v", e.Key, e.Err) }
func (e *KeyError) Unwrap() error { return e.Err }

// Validate checks every setting and reports the first offending key.
func (c *Config) Validate() error {
	checks := []struct {
		key string
		err error
	}{
		{"listen", checkHostPort(c.Listen)},
		{"public_url", checkOptionalURL(c.PublicURL, "http", "https")},
		{"trusted_proxies", checkCIDRList(c.TrustedProxies)},
		{"trusted_proxy_header", checkHeaderName(c.TrustedProxyHeader)},
		{"shutdown_timeout", checkRange(time.Duration(c.ShutdownTimeout), 0, time.Hour)},
		{"log.format", checkOneOf(c.Log.Format, "text", "json")},
		{"log.level", checkOneOf(c.Log.Level, "debug", "info", "warn", "error")},
		{"log.redis_interval", checkRange(time.Duration(c.Log.RedisInterval), 0, time.Hour)},
		{"redis.url", checkOptionalURL(c.Redis.URL, "redis", "rediss", "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster")},
		{"redis.dial_timeout", checkRange(time.Duration(c.Redis.DialTimeout), time.Millisecond, time.Minute)},
		{"redis.ready_timeout", checkRange(time.Duration(c.Redis.ReadyTimeout), time.Millisecond, time.Minute)},
		{"scim.max_body_bytes", checkIntRange(c.SCIM.MaxBodyBytes, 1024, 1<<30)},
		{"scim.max_results", checkIntRange(int64(c.SCIM.MaxResults), 1, 100000)},
		{"scim.read_cache_mb", checkIntRange(int64(c.SCIM.ReadCacheMB), 0, 65536)},
		{"scim.read_cache_drain", checkRange(time.Duration(c.SCIM.ReadCacheDrain), time.Millisecond, time.Second)},
		{"scim.delete_mode", checkOneOf(c.SCIM.DeleteMode, "hard", "soft")},
		{"scim.soft_delete_retention", checkRange(time.Duration(c.SCIM.SoftDeleteRetention), time.Minute, 10*365*24*time.Hour)},
		{"scim.indexes", store.CheckOptionalIndexes(c.SCIM.IndexList())},
		{"admin.token", checkMinLen(c.Admin.Token, 16)},
		{"admin.token_hash", checkHexHash(c.Admin.TokenHash)},
		{"tokens.pepper", checkPepper(c.Tokens.Pepper)},
		{"tokens.cache_ttl", checkRange(time.Duration(c.Tokens.CacheTTL), 0, time.Second)},
		{"oauth.issuer", checkOptionalURL(c.OAuth.Issuer, "http", "https")},
		{"oauth.token_ttl", checkRange(time.Duration(c.OAuth.TokenTTL), time.Minute, 24*time.Hour)},
		{"oauth.signing_alg", checkOneOf(c.OAuth.SigningAlg, "ES256", "RS256")},
		{"oauth.max_auth_failures", checkIntRange(int64(c.OAuth.MaxAuthFailures), 1, 1_000_000)},
		{"oauth.failure_window", checkRange(time.Duration(c.OAuth.FailureWindow), time.Second, 24*time.Hour)},
		{"oauth.token_rate", checkIntRange(int64(c.OAuth.TokenRate), 0, 1_000_000)},
		{"oauth.key_encryption_key", checkKeyEncryptionKey(c.OAuth.KeyEncryptionKeyB64)},
		{"ratelimit.rate", checkIntRange(int64(c.RateLimit.Rate), 0, 1_000_000)},
		{"ratelimit.burst", checkIntRange(int64(c.RateLimit.Burst), 0, 1_000_000)},
		{"ratelimit.directory_rate", checkIntRange(int64(c.RateLimit.DirectoryRate), 0, 1_000_000)},
		{"ratelimit.directory_burst", checkIntRange(int64(c.RateLimit.DirectoryBurst), 0, 1_000_000)},
		{"ratelimit.on_redis_error", checkOneOf(c.RateLimit.OnRedisError, "allow", "deny")},
		{"ratelimit.max_auth_failures", checkIntRange(int64(c.RateLimit.MaxAuthFailures), 1, 1_000_000)},
		{"ratelimit.auth_failure_window", checkRange(time.Duration(c.RateLimit.AuthFailureWindow), time.Second, 24*time.Hour)},
		{"audit.max_len", checkIntRange(c.Audit.MaxLen, 1000, 1<<40)},
		{"audit.max_age", checkRange(time.Duration(c.Audit.MaxAge), 0, 100*365*24*time.Hour)},
		{"ratelimit.ipv6_prefix", checkIntRange(int64(c.RateLimit.IPv6Prefix), 32, 128)},
		{"audit.auth_failure_keys", checkIntRange(int64(c.Audit.AuthFailureKeys), 1, 10_000)},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return &KeyError{Key: ch.key, Err: ch.err}
		}
	}
	if err := c.SCIM.Limits.validate(); err != nil {
		return err
	}
	if err := c.IdP.validate(); err != nil {
		return err
	}
	if err := c.Console.validate(c.PublicURL); err != nil {
		return err
	}
	if err := c.SCIM.Budgets.validate(); err != nil {
		return err
	}
	if err := c.Webhooks.validate(); err != nil {
		return err
	}
	if err := c.Metrics.validate(c.Listen); err != nil {
		return err
	}
	if err := c.HTTP.validate(); err != nil {
		return err
	}
	if err := c.Upstream.validate(); err != nil {
		return err
	}
	if err := c.TLS.validate(); err != nil {
		return err
	}
	if err := c.validateFaults(); err != nil {
		return err
	}
	if err := c.Scopes.validate(); err != nil {
		return err
	}
	return c.Roles.validate()
}

func checkHostPort(s string) error {
	if _, _, err := net.SplitHostPort(s); err != nil {
		return fmt.Errorf("not a host:port address: %q", s)
	}
	return nil
}

func checkOptionalURL(s string, schemes ...string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("malformed URL")
	}
	if u.Host == "" {
		return errors.New("URL has no host")
	}
	for _, sc := range schemes {
		if u.Scheme == sc {
			return nil
		}
	}
	return fmt.Errorf("URL scheme %q is not one of %s", u.Scheme, strings.Join(schemes, ", "))
}

func checkOneOf(s string, allowed ...string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %s", s, strings.Join(allowed, ", "))
}

func checkRange(d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return fmt.Errorf("%s is outside %s..%s", d, lo, hi)
	}
	return nil
}

func checkIntRange(n, lo, hi int64) error {
	if n < lo || n > hi {
		return fmt.Errorf("%d is outside %d..%d", n, lo, hi)
	}
	return nil
}

// TrustedProxyList splits TrustedProxies into its entries.
func (c *Config) TrustedProxyList() []string {
	var out []string
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func checkCIDRList(s string) error {
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return fmt.Errorf("%q is not a CIDR or an IP address", p)
			}
		}
	}
	return nil
}

func checkHexHash(s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 64 || strings.Trim(strings.ToLower(s), "0123456789abcdef") != "" {
		return errors.New("must be 64 hex digits (SHA-256)")
	}
	return nil
}

// Issuer is the iss of issued access tokens and the base URL of the OAuth
// endpoints: oauth.issuer, else public_url, else http(s)://<listen>.
func (c Config) Issuer() string {
	switch {
	case c.OAuth.Issuer != "":
		return strings.TrimSuffix(c.OAuth.Issuer, "/")
	case c.PublicURL != "":
		return strings.TrimSuffix(c.PublicURL, "/")
	}
	if c.TLS.Enabled() {
		return "https://" + c.Listen
	}
	return "http://" + c.Listen
}

// checkMinLen refuses a non-empty secret shorter than n characters: an
// admin token must not be guessable online.
func checkMinLen(s string, n int) error {
	if s != "" && len(s) < n {
		return fmt.Errorf("must be at least %d characters (generate one: openssl rand -base64 32)", n)
	}
	return nil
}
