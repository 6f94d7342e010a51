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

// tokenAD binds a sealed upstream token to its use.
var tokenAD = []byte("scimgate directory upstream token")

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
}

// Defaults of the upstream settings (those of the config file's upstream.*).
const (
	DefaultUpstreamTimeout     = 10 * time.Second
	DefaultUpstreamConcurrency = 64
)

// ErrTokenSealed means a sealed upstream token cannot be opened: no or a
// different key-encryption key is configured.
var ErrTokenSealed = errors.New("directory: the upstream token is sealed with another key-encryption key (or none is configured)")

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
	if u.SealedToken == "" {
		return u.Token, nil
	}
	if box == nil {
		return "", ErrTokenSealed
	}
	plain, err := box.Open(u.SealedToken, tokenAD)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTokenSealed, err)
	}
	return string(plain), nil
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
