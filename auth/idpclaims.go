package auth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// jwtParts splits a compact JWS into header, payload and signature without
// verifying anything. ok is false for anything not shaped like a JWT: three
// base64url parts whose first two are JSON objects.
type jwtParts struct {
	header  jwtHeader
	claims  idpClaims
	payload []byte
}

type jwtHeader struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Typ  string   `json:"typ"`
	Crit []string `json:"crit"`
}

// idpClaims are the claims scimgate reads from an IdP token.
type idpClaims struct {
	Iss   string       `json:"iss"`
	Sub   string       `json:"sub"`
	Aud   stringOrList `json:"aud"`
	Exp   *float64     `json:"exp"`
	Nbf   *float64     `json:"nbf"`
	Iat   *float64     `json:"iat"`
	Jti   string       `json:"jti"`
	Scope stringOrList `json:"scope"`
	Scp   stringOrList `json:"scp"`
	// Typ (Keycloak: "Bearer", "ID", "Refresh") and Nonce mark ID tokens;
	// kept raw: only their presence and one value matter.
	Typ   json.RawMessage `json:"typ"`
	Nonce json.RawMessage `json:"nonce"`
}

// stringOrList is a claim that IdPs send either as one string or as an
// array of strings (aud per RFC 7519; scope vs scp across IdPs). A string
// is split on spaces only when split is asked for.
type stringOrList struct {
	present bool
	one     string
	list    []string
}

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	s.present = true
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &s.one)
	}
	if string(b) == "null" {
		s.present = false
		return nil
	}
	return json.Unmarshal(b, &s.list)
}

// values returns the claim's strings; a single string is split on spaces
// when split is set (scope, scp) and kept whole otherwise (aud).
func (s stringOrList) values(split bool) []string {
	if !s.present {
		return nil
	}
	if s.list != nil {
		return s.list
	}
	if split {
		return strings.Fields(s.one)
	}
	if s.one == "" {
		return nil
	}
	return []string{s.one}
}

func splitJWT(token string) (jwtParts, bool) {
	var p jwtParts
	h, rest, ok := strings.Cut(token, ".")
	if !ok {
		return p, false
	}
	pl, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") || h == "" || pl == "" {
		return p, false
	}
	hb, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil || len(hb) == 0 || hb[0] != '{' || json.Unmarshal(hb, &p.header) != nil {
		return p, false
	}
	if _, err := base64.RawURLEncoding.DecodeString(sig); err != nil {
		return p, false
	}
	p.payload, err = base64.RawURLEncoding.DecodeString(pl)
	if err != nil || len(p.payload) == 0 || p.payload[0] != '{' || json.Unmarshal(p.payload, &p.claims) != nil {
		return p, false
	}
	return p, true
}

// checkSizes refuses an unverified token whose iss, sub or kid is longer
// than its limit, before any lookup is made with them.
func (p jwtParts) checkSizes() error {
	for _, f := range []struct {
		name string
		v    string
		max  int
	}{{"iss", p.claims.Iss, MaxIdPIssuerBytes}, {"sub", p.claims.Sub, MaxIdPSubjectBytes}, {"kid", p.header.Kid, MaxIdPKidBytes}} {
		if len(f.v) > f.max {
			return claimErr("%s of %d bytes exceeds the %d-byte limit (%s %q)", f.name, len(f.v), f.max, f.name, clip(f.v))
		}
	}
	return nil
}

// scopes returns the union of scope and scp, in order, without repeats.
func (c idpClaims) scopes() []string {
	var out []string
	for _, s := range append(c.Scope.values(true), c.Scp.values(true)...) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func numericDate(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// errClaim is a claim check failure; its text is the log reason.
type errClaim struct{ reason string }

func (e errClaim) Error() string { return e.reason }

func claimErr(format string, args ...any) error { return errClaim{fmt.Sprintf(format, args...)} }

// checkTimes validates exp (required), nbf and iat at now with leeway.
func (c idpClaims) checkTimes(now time.Time, leeway time.Duration) error {
	if c.Exp == nil {
		return claimErr("token has no exp claim")
	}
	if exp := numericDate(*c.Exp); !now.Before(exp.Add(leeway)) {
		return claimErr("token expired at %s", exp.Format(time.RFC3339))
	}
	if c.Nbf != nil {
		if nbf := numericDate(*c.Nbf); now.Add(leeway).Before(nbf) {
			return claimErr("token not valid before %s", nbf.Format(time.RFC3339))
		}
	}
	if c.Iat != nil {
		if iat := numericDate(*c.Iat); now.Add(leeway).Before(iat) {
			return claimErr("token issued in the future (iat %s)", iat.Format(time.RFC3339))
		}
	}
	return nil
}

// checkLifetime refuses a token living longer than max (plus leeway):
// exp - iat, or exp - now when the token has no iat. checkTimes has
// already required exp.
func (c idpClaims) checkLifetime(now time.Time, max, leeway time.Duration) error {
	exp := numericDate(*c.Exp)
	from := now
	if c.Iat != nil {
		from = numericDate(*c.Iat)
	}
	if life := exp.Sub(from); life > max+leeway {
		return claimErr("token lifetime %s exceeds the %s limit", life.Round(time.Second), max)
	}
	return nil
}

// checkNotIDToken refuses an ID token presented as a bearer token: one
// with a nonce claim (OpenID Connect Core §2, §3.1.2.1) or whose typ claim
// is "ID" (Keycloak).
func (c idpClaims) checkNotIDToken() error {
	if len(c.Nonce) > 0 && string(c.Nonce) != "null" {
		return claimErr("token has a nonce claim: an ID token is not an access token")
	}
	var typ string
	if json.Unmarshal(c.Typ, &typ) == nil && strings.EqualFold(typ, "ID") {
		return claimErr("token typ claim is %q: an ID token is not an access token", "ID")
	}
	return nil
}

// size estimates v's bytes for the token cache's byte bound.
func (v verifiedToken) size() int {
	c := v.claims
	n := 256 + len(c.Iss) + len(c.Sub) + len(c.Jti) + len(c.Typ) + len(c.Nonce) + len(v.jwksURL)
	for _, l := range [][]string{c.Aud.values(false), c.Scope.list, c.Scp.list, v.scopes} {
		for _, s := range l {
			n += 16 + len(s)
		}
	}
	return n + len(c.Scope.one) + len(c.Scp.one)
}

// checkParty validates iss, sub and aud against a client's settings.
func (c idpClaims) checkParty(issuer, subject, audience string) error {
	switch {
	case c.Iss != issuer:
		return claimErr("iss %q is not the client's issuer", clip(c.Iss))
	case c.Sub == "":
		return claimErr("token has no sub claim")
	case c.Sub != subject:
		return claimErr("sub %q is not the client's subject %q", clip(c.Sub), subject)
	}
	aud := c.Aud.values(false)
	if len(aud) == 0 {
		return claimErr("token has no aud claim")
	}
	if !slices.Contains(aud, audience) {
		return claimErr("aud %q does not include %q", clipAll(aud), audience)
	}
	return nil
}
