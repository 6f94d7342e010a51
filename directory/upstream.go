package directory

import (
	"errors"
	"fmt"
	"time"

	"github.com/scimgate/scimgate/sealbox"
)

// BackendUpstream forwards the directory's SCIM requests to an
// application's own SCIM API (gateway mode, package upstream).
const BackendUpstream = "upstream"

// tokenAD binds a sealed upstream token to its use; secretAD a sealed
// OAuth client secret to its own.
var (
	tokenAD  = []byte("scimgate directory upstream token")
	secretAD = []byte("scimgate directory upstream oauth client secret")
)

// Upstream is where an upstream directory's requests go and how scimgate
// authenticates there. The token is kept reversibly (it must be
// presented): sealed with the key-encryption key when one is configured
// (SealedToken), else in plain text (Token). It is comparable: a changed
// value is a new version of the settings.
type Upstream struct {
	// URL is the upstream's SCIM base URL.
	URL string `json:"url"`
	// Token is the static bearer token in plain text (no key-encryption
	// key configured); SealedToken its sealed form.
	Token       string `json:"token,omitempty"`
	SealedToken string `json:"sealed_token,omitempty"`
	// Timeout bounds one upstream request (0: DefaultUpstreamTimeout).
	Timeout time.Duration `json:"timeout,omitempty"`
	// MaxConcurrency bounds upstream requests in flight (0:
	// DefaultUpstreamConcurrency).
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// OAuth 2.0 client credentials (RFC 6749 §4.4) at the upstream's token
	// endpoint, in place of a static token: TokenURL, ClientID, the client
	// secret (ClientSecret in plain text, or SealedClientSecret, as the
	// token), and Scopes (space-separated).
	TokenURL           string `json:"token_url,omitempty"`
	ClientID           string `json:"client_id,omitempty"`
	ClientSecret       string `json:"client_secret,omitempty"`
	SealedClientSecret string `json:"sealed_client_secret,omitempty"`
	Scopes             string `json:"scopes,omitempty"`
	// CA is a PEM bundle trusted for the upstream's (and its token
	// endpoint's) TLS certificate; "": the system roots.
	CA string `json:"ca,omitempty"`
}

// AuthMethod names how scimgate authenticates upstream.
const (
	AuthBearer            = "bearer"
	AuthClientCredentials = "client_credentials"
)

// AuthMethod returns AuthClientCredentials when a token endpoint is set,
// else AuthBearer.
func (u Upstream) AuthMethod() string {
	if u.TokenURL != "" {
		return AuthClientCredentials
	}
	return AuthBearer
}

// SetClientSecret stores the OAuth client secret, sealed with box when box
// is not nil.
func (u *Upstream) SetClientSecret(box *sealbox.Box, secret string) {
	u.ClientSecret, u.SealedClientSecret = "", ""
	if box == nil {
		u.ClientSecret = secret
		return
	}
	u.SealedClientSecret = box.Seal([]byte(secret), secretAD)
}

// HasClientSecret reports whether a client secret is set.
func (u Upstream) HasClientSecret() bool { return u.ClientSecret != "" || u.SealedClientSecret != "" }

// OpenClientSecret returns the client secret in plain text.
func (u Upstream) OpenClientSecret(box *sealbox.Box) (string, error) {
	return open(box, u.ClientSecret, u.SealedClientSecret, secretAD)
}

// ClearCredential drops the token and the client credentials (before
// another credential is set).
func (u *Upstream) ClearCredential() {
	u.Token, u.SealedToken = "", ""
	u.TokenURL, u.ClientID, u.ClientSecret, u.SealedClientSecret, u.Scopes = "", "", "", "", ""
}

// Defaults of the upstream settings (those of the config file's upstream.*).
const (
	DefaultUpstreamTimeout     = 10 * time.Second
	DefaultUpstreamConcurrency = 64
)

// ErrTokenSealed means a sealed upstream token
// (or client secret) cannot be opened: no or a different key-encryption
// key is configured.
var ErrTokenSealed = errors.New("directory: the upstream credential is sealed with another key-encryption key (or none is configured)")

// SetToken stores tok, sealed with box when box is not nil.
func (u *Upstream) SetToken(box *sealbox.Box, tok string) {
	u.Token, u.SealedToken = "", ""
	if box == nil {
		u.Token = tok
		return
	}
	u.SealedToken = box.Seal([]byte(tok), tokenAD)
}

// HasToken reports whether a token is set.
func (u Upstream) HasToken() bool { return u.Token != "" || u.SealedToken != "" }

// OpenToken returns the token in plain text.
func (u Upstream) OpenToken(box *sealbox.Box) (string, error) {
	return open(box, u.Token, u.SealedToken, tokenAD)
}

// open returns plain, or sealed opened with box.
func open(box *sealbox.Box, plain, sealed string, ad []byte) (string, error) {
	if sealed == "" {
		return plain, nil
	}
	if box == nil {
		return "", ErrTokenSealed
	}
	p, err := box.Open(sealed, ad)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTokenSealed, err)
	}
	return string(p), nil
}

// WithDefaults returns u with its zero settings at their defaults.
func (u Upstream) WithDefaults() Upstream {
	if u.Timeout <= 0 {
		u.Timeout = DefaultUpstreamTimeout
	}
	if u.MaxConcurrency <= 0 {
		u.MaxConcurrency = DefaultUpstreamConcurrency
	}
	return u
}
