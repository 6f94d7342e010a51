package adminapi

import (
	"strings"
	"time"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/sealbox"
)

// SetUpstreamSealer has directories' upstream tokens sealed with box (the
// key-encryption key's); without it (or with nil) they are stored in plain
// text, since scimgate must present them.
func (s *Service) SetUpstreamSealer(box *sealbox.Box) { s.box = box }

// UpstreamSpec sets a directory's upstream (backend "upstream"); in a
// PATCH only the fields present change.
type UpstreamSpec struct {
	// URL is the upstream's SCIM base URL: https (http only on loopback).
	URL *string `json:"url"`
	// Token is the static bearer token scimgate presents upstream. It is
	// never shown again.
	Token *string `json:"token"`
	// Timeout bounds one upstream request ("10s"; 100ms to 5m).
	Timeout *string `json:"timeout"`
	// MaxConcurrency bounds upstream requests in flight (1 to 100000).
	MaxConcurrency *int `json:"max_concurrency"`
	// OAuth 2.0 client credentials at the upstream's token endpoint, in
	// place of a static token (setting one kind of credential drops the
	// other). The client secret is never shown again.
	TokenURL     *string  `json:"token_url"`
	ClientID     *string  `json:"client_id"`
	ClientSecret *string  `json:"client_secret"`
	Scopes       []string `json:"scopes"`
	// CA is a PEM bundle trusted for the upstream's TLS certificate (and
	// its token endpoint's); "" goes back to the system roots.
	CA *string `json:"ca"`
}

// UpstreamJSON is a directory's upstream as shown: never its token.
type UpstreamJSON struct {
	URL            string `json:"url"`
	Timeout        string `json:"timeout"`
	MaxConcurrency int    `json:"max_concurrency"`
	// TokenSet tells that a token is stored (it is never returned).
	TokenSet bool `json:"token_set"`
	// TokenSealed tells that it is sealed with the key-encryption key.
	TokenSealed bool `json:"token_sealed"`
	// Auth is "bearer" (static token) or "client_credentials".
	Auth string `json:"auth"`
	// TokenURL, ClientID and Scopes are the client credentials' settings;
	// ClientSecretSet and ClientSecretSealed tell of the secret (never
	// returned).
	TokenURL           string   `json:"token_url,omitempty"`
	ClientID           string   `json:"client_id,omitempty"`
	Scopes             []string `json:"scopes,omitempty"`
	ClientSecretSet    bool     `json:"client_secret_set"`
	ClientSecretSealed bool     `json:"client_secret_sealed"`
	// CACertificates counts the certificates of the CA bundle (0: the
	// system roots are trusted).
	CACertificates int `json:"ca_certificates"`
}

func toUpstreamJSON(u *directory.Upstream) *UpstreamJSON {
	if u == nil {
		return nil
	}
	w := u.WithDefaults()
	return &UpstreamJSON{URL: w.URL, Timeout: w.Timeout.String(), MaxConcurrency: w.MaxConcurrency,
		TokenSet: w.HasToken(), TokenSealed: w.SealedToken != "", Auth: w.AuthMethod(),
		TokenURL: w.TokenURL, ClientID: w.ClientID, Scopes: strings.Fields(w.Scopes),
		ClientSecretSet: w.HasClientSecret(), ClientSecretSealed: w.SealedClientSecret != "",
		CACertificates: len(pemCertificates(w.CA))}
}

// applyBackend sets d's backend and upstream from a request (backend ""
// and spec nil: unchanged; spec alone implies backend "upstream") and
// returns the names of the changed fields.
func (s *Service) applyBackend(d *directory.Directory, backend string, spec *UpstreamSpec) ([]string, error) {
	var changed []string
	if backend == "" && spec != nil {
		backend = directory.BackendUpstream // upstream settings imply it
	}
	switch backend {
	case "":
	case directory.BackendStored:
		if spec != nil {
			return nil, fieldErr("upstream", "only with backend %q", directory.BackendUpstream)
		}
		if d.Backend != backend {
			changed = append(changed, "backend")
		}
		d.Backend, d.Upstream = backend, nil
		return changed, nil
	case directory.BackendUpstream:
		if d.ID == directory.DefaultID {
			return nil, fieldErr("backend", "the default directory's upstream is set in the configuration file (upstream.url)")
		}
		if d.Backend != backend {
			changed = append(changed, "backend")
		}
		d.Backend = backend
	default:
		return nil, fieldErr("backend", "must be %q or %q", directory.BackendStored, directory.BackendUpstream)
	}
	if d.Backend != directory.BackendUpstream {
		return changed, nil
	}
	u := directory.Upstream{}
	if d.Upstream != nil {
		u = *d.Upstream
	}
	if spec == nil {
		spec = &UpstreamSpec{}
	}
	if spec.URL != nil && *spec.URL != u.URL {
		if err := config.CheckUpstreamURL(*spec.URL); err != nil {
			return nil, fieldErr("upstream.url", "%v", err)
		}
		u.URL = *spec.URL
		changed = append(changed, "upstream.url")
	}
	more, err := s.applyCredential(&u, spec)
	if err != nil {
		return nil, err
	}
	changed = append(changed, more...)
	if spec.Timeout != nil {
		t, err := time.ParseDuration(*spec.Timeout)
		if err != nil || t < 100*time.Millisecond || t > 5*time.Minute {
			return nil, fieldErr("upstream.timeout", "must be a duration from 100ms to 5m")
		}
		u.Timeout = t
		changed = append(changed, "upstream.timeout")
	}
	if spec.MaxConcurrency != nil {
		if n := *spec.MaxConcurrency; n < 1 || n > 100_000 {
			return nil, fieldErr("upstream.max_concurrency", "must be from 1 to 100000")
		}
		u.MaxConcurrency = *spec.MaxConcurrency
		changed = append(changed, "upstream.max_concurrency")
	}
	if u.URL == "" {
		return nil, fieldErr("upstream.url", "required with backend %q", directory.BackendUpstream)
	}
	if u.AuthMethod() == directory.AuthBearer && !u.HasToken() {
		return nil, fieldErr("upstream.token", "required with backend %q (or upstream.token_url with client credentials)", directory.BackendUpstream)
	}
	d.Upstream = &u
	return changed, nil
}

func containsControl(s string) bool {
	for _, r := range s {
		if r < 0x21 || r == 0x7f {
			return true
		}
	}
	return false
}
