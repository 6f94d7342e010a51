// Package upstream is scimgate's gateway mode: it forwards SCIM requests,
// already authenticated, authorised and rate-limited by scimgate, to an
// application's own SCIM server, with scimgate's credential for that
// server, and relays the answers with their locations rewritten to
// scimgate's public URL. Writes the upstream accepts are recorded in
// scimgate's audit trail and change-event stream after the upstream's 2xx
// (an upstream write and a Redis append cannot be one atomic step).
//
// Mount it with Forwarder.Register on each SCIM prefix in place of
// scimapi.Handler.Register.
package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Config is how scimgate reaches and authenticates to the upstream.
type Config struct {
	// URL is the upstream's SCIM base URL (e.g. https://op.example.com/scim_v2).
	URL string
	// Token is a static bearer token; or TokenFile holds one; or OAuth
	// client credentials (TokenURL, ClientID, ClientSecret, Scopes) fetch
	// one.
	Token        string
	TokenFile    string
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scopes       []string
	// CAFile is a PEM bundle trusted for TLS ("" = system roots); or CAPEM
	// holds one.
	CAFile string
	CAPEM  []byte
	// Timeout bounds one upstream request (and one token request).
	Timeout time.Duration
	// TokenReload is how often TokenFile is re-read, and the least time
	// between two re-reads forced by a 401 from the upstream (0:
	// DefaultTokenReload).
	TokenReload time.Duration
}

// DefaultTokenReload is the default of Config.TokenReload.
const DefaultTokenReload = 5 * time.Second

// Client sends requests to the upstream with scimgate's credential.
type Client struct {
	base   *url.URL
	http   *http.Client
	tokens oauth2.TokenSource
	// renew, when set, gets another token after a 401 (a re-read token
	// file, a new client-credentials token).
	renew renewer
}

// renewer is a token source that can be asked, after the upstream refused
// used, for another token: at most once per interval it reloads; fresh is
// the token to use and changed tells whether it differs from used.
type renewer interface {
	reread(used string) (fresh string, changed bool)
}

// NewClient builds the upstream client: reads the token file or prepares
// the client-credentials token source (which caches the token and fetches
// a new one shortly before it expires).
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(cfg.URL, "/"))
	if err != nil || u.Host == "" {
		return nil, errors.New("upstream: url is not an absolute URL")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	pem := cfg.CAPEM
	if cfg.CAFile != "" {
		raw, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("upstream: ca_file: %w", err)
		}
		pem = raw
	}
	if len(pem) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("upstream: the CA bundle holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	tr.MaxIdleConnsPerHost = 64
	hc := &http.Client{Transport: tr, Timeout: cfg.Timeout,
		// A SCIM server does not redirect; following one could carry the
		// credential elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c := &Client{base: u, http: hc}
	switch {
	case cfg.TokenFile != "":
		ft, err := newFileToken(cfg.TokenFile, cfg.TokenReload, time.Now)
		if err != nil {
			return nil, err
		}
		c.tokens, c.renew = ft, ft
	case cfg.Token != "":
		tok, err := checkToken(cfg.Token)
		if err != nil {
			return nil, err
		}
		c.tokens = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok, TokenType: "Bearer"})
	case cfg.TokenURL != "":
		cc := clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: cfg.TokenURL, Scopes: cfg.Scopes}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
		ct := newCCToken(ctx, cc, cfg.TokenReload, time.Now)
		c.tokens, c.renew = ct, ct
	default:
		return nil, errors.New("upstream: no credential (token file or client credentials)")
	}
	return c, nil
}

// Base is the upstream's base URL, without a trailing slash.
func (c *Client) Base() string { return c.base.String() }

// errCredential marks a failure to obtain scimgate's upstream token.
var errCredential = errors.New("upstream credential unavailable")

// Do sends req (whose URL is relative to the base: path and query) with
// the upstream credential.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	tok, err := c.tokens.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCredential, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := c.http.Do(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || c.renew == nil {
		return resp, err
	}
	// The upstream refused the token: it may have been rotated or revoked.
	// Re-read the file, or fetch a new client-credentials token (at most
	// once per reload interval), and, when that gives another token, send
	// the request once more with it (a 401 means the upstream did not act
	// on the request).
	fresh, changed := c.renew.reread(tok.AccessToken)
	if !changed || (req.Body != nil && req.GetBody == nil) {
		return resp, nil
	}
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	retry.Header.Set("Authorization", "Bearer "+fresh)
	return c.http.Do(retry)
}
