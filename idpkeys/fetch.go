package idpkeys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// maxJWKSBytes bounds a key set document.
const maxJWKSBytes = 1 << 20

// fetch returns src's key set and the JWKS URL it came from. The URL is
// src.JWKSURL, else discovered (from an earlier discovery), else the
// jwks_uri of the issuer's discovery document.
func (c *Cache) fetch(ctx context.Context, src Source, discovered string) (jwk.Set, string, error) {
	url := src.JWKSURL
	if url == "" {
		url = discovered
	}
	if url == "" {
		var err error
		if url, err = c.discover(ctx, src.Issuer); err != nil {
			return nil, "", err
		}
	}
	set, err := c.fetchJWKS(ctx, url)
	if err != nil {
		return nil, "", err
	}
	return set, url, nil
}

// discover reads <issuer>/.well-known/openid-configuration with go-oidc,
// which refuses a document naming another issuer, and returns its jwks_uri.
func (c *Cache) discover(ctx context.Context, issuer string) (string, error) {
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.o.HTTPClient), issuer)
	if err != nil {
		return "", fmt.Errorf("oidc discovery: %w", err)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil {
		return "", fmt.Errorf("oidc discovery document: %w", err)
	}
	if doc.JWKSURI == "" {
		return "", errors.New("oidc discovery document has no jwks_uri")
	}
	if err := CheckURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("oidc discovery document's jwks_uri: %w", err)
	}
	return doc.JWKSURI, nil
}

// CheckURL accepts an absolute https URL, or an http one on loopback
// (127.0.0.1, ::1, localhost: local IdPs and tests), as IdP URLs must be.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		switch u.Hostname() {
		case "127.0.0.1", "::1", "localhost":
			return nil
		}
		return fmt.Errorf("%q: http is allowed only on loopback; https required", s)
	}
	return fmt.Errorf("%q: scheme %q is not https", s, u.Scheme)
}

// maxRedirects bounds the redirects followed by one IdP fetch.
const maxRedirects = 5

// SameOriginRedirects is an http.Client CheckRedirect for requests to an
// IdP: it follows at most 5 redirects, each to the scheme and host (with
// port) of the original request, so a discovery or JWKS fetch cannot be
// sent to another server or downgraded from https.
func SameOriginRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	from := via[0].URL
	if req.URL.Scheme != from.Scheme || req.URL.Host != from.Host {
		return fmt.Errorf("redirect from %s://%s to %s://%s refused: IdP fetches stay on one scheme and host",
			from.Scheme, from.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// fetchJWKS downloads and parses a key set.
func (c *Cache) fetchJWKS(ctx context.Context, url string) (jwk.Set, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks fetch %s: HTTP %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks read %s: %w", url, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("jwks %s larger than %d bytes", url, maxJWKSBytes)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("jwks parse %s: %w", url, err)
	}
	return set, nil
}

// match returns the keys of set with kid (every key when kid is empty)
// that may verify signatures: public keys whose use, if set, is sig.
func match(set jwk.Set, kid string) []jwk.Key {
	var out []jwk.Key
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		if kid != "" && k.KeyID() != kid {
			continue
		}
		if u := k.KeyUsage(); u != "" && u != string(jwk.ForSignature) {
			continue
		}
		out = append(out, k)
	}
	return out
}
