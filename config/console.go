package config

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"time"
)

// Console configures the browser admin console served at /admin.
type Console struct {
	// SessionTTL is how long a console sign-in lasts (absolute, not sliding).
	SessionTTL Duration `yaml:"session_ttl" doc:"lifetime of an admin console session from sign-in (5m..168h)"`
	// OIDCIssuer turns on OpenID Connect sign-in for administrators.
	OIDCIssuer string `yaml:"oidc_issuer" doc:"OpenID provider issuer URL for administrator sign-in at /admin (authorization code + PKCE); empty: admin credential only. Needs public_url; https unless the host is loopback"`
	// OIDCClientID is the console's client id at the provider.
	OIDCClientID string `yaml:"oidc_client_id" doc:"client id of the console at the OpenID provider (required with oidc_issuer); redirect URI: <public_url>/admin/oidc/callback"`
	// OIDCClientSecret is the client secret; empty for a public client.
	OIDCClientSecret string `yaml:"oidc_client_secret" secret:"true" doc:"client secret of the console at the OpenID provider (empty: public client, PKCE only)"`
	// OIDCAdmins is the comma-separated allow-list of sub values and email
	// addresses (matched only when email_verified is true).
	OIDCAdmins string `yaml:"oidc_admins" doc:"comma-separated sub values or email addresses (verified emails only) of the administrators who may sign in through OIDC; required with oidc_issuer"`
}

func defaultConsole() Console { return Console{SessionTTL: Duration(8 * time.Hour)} }

// OIDCAdminList splits OIDCAdmins into its entries.
func (c Console) OIDCAdminList() []string {
	var out []string
	for _, a := range strings.Split(c.OIDCAdmins, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// validate checks the console settings; OIDC sign-in needs publicURL for
// its redirect URI.
func (c Console) validate(publicURL string) error {
	if err := checkRange(time.Duration(c.SessionTTL), 5*time.Minute, 7*24*time.Hour); err != nil {
		return &KeyError{Key: "console.session_ttl", Err: err}
	}
	if c.OIDCIssuer == "" {
		for _, kv := range [][2]string{{"console.oidc_client_id", c.OIDCClientID}, {"console.oidc_client_secret", c.OIDCClientSecret}, {"console.oidc_admins", c.OIDCAdmins}} {
			if kv[1] != "" {
				return &KeyError{Key: kv[0], Err: errors.New("has no effect without console.oidc_issuer")}
			}
		}
		return nil
	}
	if err := checkIssuerURL(c.OIDCIssuer); err != nil {
		return &KeyError{Key: "console.oidc_issuer", Err: err}
	}
	if c.OIDCClientID == "" {
		return &KeyError{Key: "console.oidc_client_id", Err: errors.New("required when console.oidc_issuer is set")}
	}
	if len(c.OIDCAdminList()) == 0 {
		return &KeyError{Key: "console.oidc_admins", Err: errors.New("required when console.oidc_issuer is set: without an allow-list every account at the provider would be an administrator")}
	}
	if publicURL == "" {
		return &KeyError{Key: "public_url", Err: errors.New("required when console.oidc_issuer is set (the redirect URI is <public_url>/admin/oidc/callback)")}
	}
	return nil
}

// checkIssuerURL wants an https URL, or http on a loopback host (tests,
// a provider beside the gateway).
func checkIssuerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return errors.New("must be https (http only on a loopback host)")
	}
	return errors.New("must be an https URL")
}
