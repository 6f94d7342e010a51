package config

import (
	"errors"
	"time"
)

// Upstream puts the default directory's SCIM API in front of another SCIM
// server (gateway mode, package upstream): with URL set, scimgate
// authenticates, authorises, limits and normalises each SCIM request, then
// forwards it there with its own credential instead of serving it from
// Redis.
type Upstream struct {
	URL string `yaml:"url" doc:"base URL of an application's own SCIM API (e.g. https://op.example.com/scim_v2) that SCIM requests are forwarded to instead of being stored in Redis; https (http only on a loopback host); empty: stored backend"`
	// TokenFile holds the static bearer token scimgate presents upstream.
	TokenFile string `yaml:"token_file" doc:"file holding the static bearer token scimgate presents to the upstream (one of upstream.token_file or upstream.oauth_token_url is required with upstream.url)"`
	// OAuth client credentials (RFC 6749 §4.4) against the upstream's
	// token endpoint; tokens are cached until shortly before expiry.
	OAuthTokenURL     string   `yaml:"oauth_token_url" doc:"token endpoint for OAuth 2.0 client credentials to the upstream (tokens cached and refreshed before expiry); https (http only on a loopback host)"`
	OAuthClientID     string   `yaml:"oauth_client_id" doc:"client id at upstream.oauth_token_url (required with it)"`
	OAuthClientSecret string   `yaml:"oauth_client_secret" secret:"true" doc:"client secret at upstream.oauth_token_url (required with it)"`
	OAuthScopes       string   `yaml:"oauth_scopes" doc:"space-separated scopes requested at upstream.oauth_token_url; empty: none"`
	Timeout           Duration `yaml:"timeout" doc:"time limit of one upstream request (answer 504 past it)"`
	CAFile            string   `yaml:"ca_file" doc:"PEM bundle of CAs trusted for the upstream's TLS certificate (and its token endpoint); empty: the system roots"`
	MaxConcurrency    int      `yaml:"max_concurrency" doc:"most upstream requests in flight at once; beyond it 503 with Retry-After"`
	// TokenReloadInterval is how often token_file is re-read (and the
	// least time between re-reads forced by the upstream's 401).
	TokenReloadInterval Duration `yaml:"token_reload_interval" doc:"how often upstream.token_file is re-read, so a rotated token is used without a restart; a 401 from the upstream also re-reads it (or, with client credentials, fetches a new token), at most once per interval"`
	// HealthInterval and HealthTimeout pace the background reachability
	// checks of every upstream (each directory's) that /readyz reports.
	HealthInterval Duration `yaml:"health_interval" doc:"how often every upstream (the config's and each upstream directory's) is checked in the background for /readyz"`
	HealthTimeout  Duration `yaml:"health_timeout" doc:"time limit of one upstream reachability check"`
}

func defaultUpstream() Upstream {
	return Upstream{Timeout: Duration(10 * time.Second), MaxConcurrency: 64, TokenReloadInterval: Duration(5 * time.Second),
		HealthInterval: Duration(15 * time.Second), HealthTimeout: Duration(2 * time.Second)}
}

// Enabled reports whether SCIM requests are forwarded upstream.
func (u Upstream) Enabled() bool { return u.URL != "" }

func (u Upstream) validate() error {
	checks := []struct {
		key string
		err error
	}{
		{"upstream.url", u.checkURL()},
		{"upstream.token_file", u.checkCredential()},
		{"upstream.oauth_token_url", u.checkTokenURL()},
		{"upstream.oauth_client_id", requiredWith(u.OAuthClientID, u.OAuthTokenURL != "", "upstream.oauth_token_url")},
		{"upstream.oauth_client_secret", requiredWith(u.OAuthClientSecret, u.OAuthTokenURL != "", "upstream.oauth_token_url")},
		{"upstream.timeout", checkRange(time.Duration(u.Timeout), 100*time.Millisecond, 5*time.Minute)},
		{"upstream.max_concurrency", checkIntRange(int64(u.MaxConcurrency), 1, 100_000)},
		{"upstream.token_reload_interval", checkRange(time.Duration(u.TokenReloadInterval), time.Second, time.Hour)},
		{"upstream.health_interval", checkRange(time.Duration(u.HealthInterval), time.Second, time.Hour)},
		{"upstream.health_timeout", checkRange(time.Duration(u.HealthTimeout), 100*time.Millisecond, time.Minute)},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return &KeyError{Key: ch.key, Err: ch.err}
		}
	}
	return nil
}

func (u Upstream) checkURL() error {
	if u.URL == "" {
		if u.TokenFile != "" || u.OAuthTokenURL != "" {
			return errors.New("required when an upstream credential is configured")
		}
		return nil
	}
	return checkIssuerURL(u.URL)
}

func (u Upstream) checkCredential() error {
	switch {
	case u.URL == "":
		return nil
	case u.TokenFile != "" && u.OAuthTokenURL != "":
		return errors.New("set either upstream.token_file or upstream.oauth_token_url, not both")
	case u.TokenFile == "" && u.OAuthTokenURL == "":
		return errors.New("upstream.url needs a credential: upstream.token_file or upstream.oauth_token_url")
	}
	return nil
}

func (u Upstream) checkTokenURL() error {
	if u.OAuthTokenURL == "" {
		return nil
	}
	return checkIssuerURL(u.OAuthTokenURL)
}

// requiredWith wants v set when cond holds; it never quotes v.
func requiredWith(v string, cond bool, other string) error {
	if cond && v == "" {
		return errors.New("required with " + other)
	}
	return nil
}

// CheckUpstreamURL checks an upstream SCIM base URL as upstream.url is
// checked: absolute, https (http only on a loopback host).
func CheckUpstreamURL(s string) error { return checkIssuerURL(s) }
