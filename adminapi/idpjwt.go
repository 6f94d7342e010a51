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

// IdPJWTPatch changes the settings of an idp_jwt client that are set. It
// is validated like IdPJWTSpec at creation, on the settings as they are
// after the change; an empty JWKSURL returns the client to the issuer's
// discovery document. The store keeps the (issuer, subject) index in step,
// so a token with the old subject stops selecting the client, and a taken
// (issuer, subject) is tokenstore.ErrSubjectTaken (409).
type IdPJWTPatch struct {
	Issuer   *string `json:"issuer"`
	Subject  *string `json:"subject"`
	Audience *string `json:"audience"`
	JWKSURL  *string `json:"jwks_url"`
}

func (p IdPJWTPatch) empty() bool { return p == IdPJWTPatch{} }

// field is the JSON name of the first setting p changes.
func (p IdPJWTPatch) field() string {
	switch {
	case p.Issuer != nil:
		return "issuer"
	case p.Subject != nil:
		return "subject"
	case p.Audience != nil:
		return "audience"
	}
	return "jwks_url"
}

// apply validates the changed settings of c and sets them.
func (p IdPJWTPatch) apply(c *tokenstore.Client) error {
	if p.empty() {
		return nil
	}
	if c.Method != string(auth.MethodIdPJWT) {
		return fieldErr(p.field(), "issuer, subject, audience and jwks_url apply only to method idp_jwt (client method is %s)", c.Method)
	}
	s := IdPJWTSpec{Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience, JWKSURL: c.JWKSURL}
	for _, f := range []struct {
		v   *string
		dst *string
	}{{p.Issuer, &s.Issuer}, {p.Subject, &s.Subject}, {p.Audience, &s.Audience}, {p.JWKSURL, &s.JWKSURL}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if err := s.validate(auth.MethodIdPJWT); err != nil {
		return err
	}
	s.apply(c)
	return nil
}
