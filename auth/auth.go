// Package auth authenticates SCIM requests. Each authentication mode (static
// system tokens, scimgate-issued client-credentials JWTs, IdP-issued JWTs) is
// one Authenticator; a Chain picks the mode from the credential and fails
// closed. The Middleware is the single seam every SCIM route passes through;
// handlers read the resulting Principal from the request context and never
// parse headers themselves.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Method is an authentication method of a SCIM client.
type Method string

// The authentication methods.
const (
	MethodStaticToken       Method = "static_token"
	MethodClientCredentials Method = "client_credentials"
	MethodIdPJWT            Method = "idp_jwt"
)

// Valid reports whether m is a known method.
func (m Method) Valid() bool {
	switch m {
	case MethodStaticToken, MethodClientCredentials, MethodIdPJWT:
		return true
	}
	return false
}

// Principal is who an authenticated request acts for.
type Principal struct {
	ClientID   string
	ClientName string
	Method     Method
	Scopes     []string
	// CredentialID identifies the credential used: a token id or a JWT's jti.
	CredentialID string
	// DirectoryID is the directory the client provisions into; its SCIM
	// requests read and write that directory only ("" means the default
	// directory, tokenstore.DefaultDirectory).
	DirectoryID string
}

// Request is what an Authenticator sees of an HTTP request.
type Request struct {
	// Token is the bearer credential from the Authorization header.
	Token    string
	RemoteIP netip.Addr
	Now      time.Time
}

// Authenticator verifies one kind of credential.
type Authenticator interface {
	// Authenticate returns the principal for a credential of its kind,
	// ErrNotMine when the credential is of another kind, or a *Rejection.
	Authenticate(ctx context.Context, req Request) (*Principal, error)
}

// ErrNotMine tells the Chain to offer the credential to the next
// Authenticator.
var ErrNotMine = errors.New("auth: credential not handled by this authenticator")

// Rejection is a refused credential. Reason is for logs and never contains
// the credential; clients only ever see invalid_token.
type Rejection struct {
	Method Method
	Reason string
	// ClientID is set when the client is known (for audit), else empty.
	ClientID string
}

func (r *Rejection) Error() string { return fmt.Sprintf("auth %s: %s", r.Method, r.Reason) }

// Reject builds a *Rejection. Unverified token content among args must be
// clip()ped by the caller; the whole reason is also stripped of control
// characters and bounded here, as a second line of defence for the logs
// and the audit trail.
func Reject(m Method, clientID, format string, args ...any) *Rejection {
	return &Rejection{Method: m, ClientID: clientID, Reason: sanitize(fmt.Sprintf(format, args...), maxReason)}
}

// Chain tries each Authenticator in turn. The first one that claims the
// credential decides; a credential nobody claims is rejected.
type Chain []Authenticator

// Authenticate implements Authenticator for the whole chain.
func (c Chain) Authenticate(ctx context.Context, req Request) (*Principal, error) {
	for _, a := range c {
		p, err := a.Authenticate(ctx, req)
		if errors.Is(err, ErrNotMine) {
			continue
		}
		return p, err
	}
	return nil, &Rejection{Reason: "credential not recognised by any authentication method"}
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, if authenticated.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok
}
