package adminapi

import (
	"net/url"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// IdPJWTSpec holds the settings of an idp_jwt client: tokens from Issuer
// (its exact iss) whose sub is Subject and whose aud includes Audience
// (scimgate's client id at that IdP). JWKSURL overrides the JWKS URL of
// the issuer's OIDC discovery document.
type IdPJWTSpec struct {
	Issuer   string `json:"issuer"`
	Subject  string `json:"subject"`
	Audience string `json:"audience"`
	JWKSURL  string `json:"jwks_url"`
}

func (s IdPJWTSpec) empty() bool { return s == IdPJWTSpec{} }

// validate checks the settings of a client of method m: required and
// well-formed for idp_jwt, absent otherwise.
func (s IdPJWTSpec) validate(m auth.Method) error {
	if m != auth.MethodIdPJWT {
		if !s.empty() {
			return fieldErr("issuer", "issuer, subject, audience and jwks_url apply only to method idp_jwt")
		}
		return nil
	}
	if err := checkIdPURL("issuer", s.Issuer, true); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"subject", s.Subject}, {"audience", s.Audience}} {
		if f.v == "" {
			return fieldErr(f.name, "required for method idp_jwt")
		}
		if err := validText(f.name, f.v, 255); err != nil {
			return err
		}
	}
	return checkIdPURL("jwks_url", s.JWKSURL, false)
}

// checkIdPURL accepts https URLs, and http ones only on loopback
// (127.0.0.1, ::1, localhost) for local IdPs and tests. An issuer is kept
// exactly as given: it is compared byte for byte with a token's iss.
func checkIdPURL(field, s string, required bool) error {
	if s == "" {
		if required {
			return fieldErr(field, "required for method idp_jwt")
		}
		return nil
	}
	if err := validText(field, s, 500); err != nil {
		return err
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return fieldErr(field, "%q is not an absolute URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fieldErr(field, "must not have a query, fragment or user info")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		switch u.Hostname() {
		case "127.0.0.1", "::1", "localhost":
			return nil
		}
		return fieldErr(field, "http is allowed only on loopback (127.0.0.1, ::1, localhost); use https")
	}
	return fieldErr(field, "scheme %q is not https", u.Scheme)
}

// apply copies the settings into c.
func (s IdPJWTSpec) apply(c *tokenstore.Client) {
	c.Issuer, c.Subject, c.Audience, c.JWKSURL = s.Issuer, s.Subject, s.Audience, s.JWKSURL
}
