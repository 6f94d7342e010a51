package metrics

import (
	"context"
	"errors"
	"strings"

	"github.com/scimgate/scimgate/auth"
)

// Reason is the bounded class of an authentication outcome. The
// authenticators' rejection reasons are free text with ids and claim
// values in them; Classify maps them onto this small set so they can be a
// label.
type Reason string

// The reason classes.
const (
	ReasonNone         Reason = ""             // success
	ReasonUnrecognised Reason = "unrecognised" // no authentication method claims the credential
	ReasonMalformed    Reason = "malformed"    // not a well-formed token of its kind
	ReasonUnknown      Reason = "unknown"      // well formed, but no such token, key or subject
	ReasonExpired      Reason = "expired"      // past exp / expires_at (or not yet valid)
	ReasonRevoked      Reason = "revoked"      // token revoked
	ReasonClient       Reason = "client"       // client disabled, deleted or on another method
	ReasonAddress      Reason = "address"      // source address outside the token's allow-list
	ReasonSignature    Reason = "signature"    // alg, kid, crit or signature refused
	ReasonClaims       Reason = "claims"       // iss, sub, aud or client_id claim mismatch
	ReasonOther        Reason = "other"        // anything not listed above
)

// classes are tried in order; the first whose fragment occurs in the
// rejection reason wins. The fragments are the fixed parts of the
// auth.Reject calls in auth/static.go, auth/clientcreds.go,
// auth/idpjwt.go, auth/idpclaims.go and auth/secret.go (a test pins them).
var classes = []struct {
	fragment string
	reason   Reason
}{
	{"not recognised by any authentication method", ReasonUnrecognised},
	{"revoked", ReasonRevoked},
	{"expired", ReasonExpired},
	{"not valid before", ReasonExpired},
	{"issued in the future", ReasonExpired},
	{`"exp" not satisfied`, ReasonExpired},
	{`"nbf" not satisfied`, ReasonExpired},
	{`"iat" not satisfied`, ReasonExpired},
	{"not satisfied", ReasonClaims},
	{"not found", ReasonClaims},
	{"has no exp claim", ReasonClaims},
	{"outside the token's allow-list", ReasonAddress},
	{"client disabled", ReasonClient},
	{"client deleted", ReasonClient},
	{"client method is", ReasonClient},
	{"no longer uses", ReasonClient},
	{"malformed", ReasonMalformed},
	{"checksum", ReasonMalformed},
	{"invalid access token", ReasonMalformed},
	{"unknown token", ReasonUnknown},
	{"unknown signing key", ReasonUnknown},
	{"is not the subject of any client", ReasonUnknown},
	{"unknown kid", ReasonSignature},
	{"signature", ReasonSignature},
	{"alg", ReasonSignature},
	{"kid", ReasonSignature},
	{"critical header", ReasonSignature},
	{"iss ", ReasonClaims},
	{"sub", ReasonClaims},
	{"aud", ReasonClaims},
	{"client_id claim", ReasonClaims},
}

// Classify maps a rejection's free-text reason to its Reason class.
func Classify(reason string) Reason {
	for _, c := range classes {
		if strings.Contains(reason, c.fragment) {
			return c.reason
		}
	}
	return ReasonOther
}

// Authenticator wraps a (normally the whole auth.Chain) and counts every
// outcome as scimgate_auth_outcomes_total{mode, outcome, reason}: mode is
// the authentication method (unknown when no method claimed the
// credential), outcome success, rejected (a 401) or error (the store was
// unavailable: a 503), reason a Reason class on rejections, empty
// otherwise.
//
// It wraps the authenticator rather than using auth.Observer because the
// gateway's observer slot is taken by the failed-authentication guard
// (ratelimit.FailureGuard.Observer), and because an Observer never hears
// of infrastructure errors. Requests without any credential never reach an
// authenticator: they are the 401s of scimgate_http_requests_total with an
// empty client; requests the guard refuses are the unauthenticated 429s.
func (m *Metrics) Authenticator(a auth.Authenticator) auth.Authenticator {
	return observedAuthn{next: a, m: m}
}

type observedAuthn struct {
	next auth.Authenticator
	m    *Metrics
}

// Authenticate implements auth.Authenticator.
func (o observedAuthn) Authenticate(ctx context.Context, req auth.Request) (*auth.Principal, error) {
	p, err := o.next.Authenticate(ctx, req)
	if err == nil {
		if p != nil {
			o.m.authSuccessOf.get(mode(p.Method)).Inc()
		}
		return p, nil
	}
	// rej is declared here, not above: errors.As makes it escape, an
	// allocation the successful requests need not pay.
	var rej *auth.Rejection
	if errors.As(err, &rej) {
		o.m.authOutcomes.WithLabelValues(mode(rej.Method), "rejected", string(Classify(rej.Reason))).Inc()
	} else {
		o.m.authOutcomes.WithLabelValues("unknown", "error", string(ReasonNone)).Inc()
	}
	return p, err
}

func mode(m auth.Method) string {
	switch m {
	case auth.MethodStaticToken, auth.MethodClientCredentials, auth.MethodIdPJWT:
		return string(m)
	}
	return "unknown"
}
