package adminapi

import (
	"crypto/x509"
	"encoding/pem"
	"strings"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/directory"
)

// Bounds of an upstream's credential settings.
const (
	maxUpstreamSecret = 4096
	maxUpstreamScopes = 32
	maxUpstreamCA     = 64 << 10
)

// applyCredential applies spec's credential and CA to u and returns the
// names of the changed fields. A static token and client credentials
// exclude each other: setting one drops the other.
func (s *Service) applyCredential(u *directory.Upstream, spec *UpstreamSpec) ([]string, error) {
	var changed []string
	cc := spec.TokenURL != nil || spec.ClientID != nil || spec.ClientSecret != nil || spec.Scopes != nil
	if spec.Token != nil && cc {
		return nil, fieldErr("upstream.token", "a static token and client credentials (token_url, client_id, client_secret, scopes) exclude each other")
	}
	if spec.Token != nil {
		if !printable(*spec.Token, maxUpstreamSecret) {
			return nil, fieldErr("upstream.token", "must be 1 to 4096 printable characters")
		}
		u.ClearCredential()
		u.SetToken(s.box, *spec.Token)
		changed = append(changed, "upstream.token")
	}
	if cc {
		if u.AuthMethod() != directory.AuthClientCredentials {
			u.ClearCredential() // from a static token to client credentials
		}
		if spec.TokenURL != nil {
			if err := config.CheckUpstreamURL(*spec.TokenURL); err != nil {
				return nil, fieldErr("upstream.token_url", "%v", err)
			}
			u.TokenURL = *spec.TokenURL
			changed = append(changed, "upstream.token_url")
		}
		if spec.ClientID != nil {
			if !printable(*spec.ClientID, 256) {
				return nil, fieldErr("upstream.client_id", "must be 1 to 256 printable characters")
			}
			u.ClientID = *spec.ClientID
			changed = append(changed, "upstream.client_id")
		}
		if spec.ClientSecret != nil {
			if !printable(*spec.ClientSecret, maxUpstreamSecret) {
				return nil, fieldErr("upstream.client_secret", "must be 1 to 4096 printable characters")
			}
			u.SetClientSecret(s.box, *spec.ClientSecret)
			changed = append(changed, "upstream.client_secret")
		}
		if spec.Scopes != nil {
			if len(spec.Scopes) > maxUpstreamScopes {
				return nil, fieldErr("upstream.scopes", "at most %d scopes", maxUpstreamScopes)
			}
			for _, sc := range spec.Scopes {
				if !printable(sc, 256) || strings.ContainsAny(sc, `"\`) {
					return nil, fieldErr("upstream.scopes", "each scope must be 1 to 256 printable characters without quotes or backslashes (RFC 6749 §3.3)")
				}
			}
			u.Scopes = strings.Join(spec.Scopes, " ")
			changed = append(changed, "upstream.scopes")
		}
		switch {
		case u.TokenURL == "":
			return nil, fieldErr("upstream.token_url", "required with client credentials")
		case u.ClientID == "":
			return nil, fieldErr("upstream.client_id", "required with upstream.token_url")
		case !u.HasClientSecret():
			return nil, fieldErr("upstream.client_secret", "required with upstream.token_url")
		}
	}
	if spec.CA != nil {
		if len(*spec.CA) > maxUpstreamCA {
			return nil, fieldErr("upstream.ca", "at most %d bytes", maxUpstreamCA)
		}
		if *spec.CA != "" && len(pemCertificates(*spec.CA)) == 0 {
			return nil, fieldErr("upstream.ca", "must be a PEM bundle of one or more X.509 certificates")
		}
		u.CA = *spec.CA
		changed = append(changed, "upstream.ca")
	}
	return changed, nil
}

// pemCertificates returns the X.509 certificates of a PEM bundle; nil when
// any CERTIFICATE block does not parse.
func pemCertificates(bundle string) []*x509.Certificate {
	var certs []*x509.Certificate
	rest := []byte(bundle)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return certs
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil
		}
		certs = append(certs, c)
	}
}

// printable wants 1 to max characters, none a control or a space.
func printable(v string, max int) bool {
	return v != "" && len(v) <= max && !containsControl(v)
}
