package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-oauth2/oauth2/v4"
	oautherrors "github.com/go-oauth2/oauth2/v4/errors"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// requestError is a client mistake with its RFC 6749 §5.2 code.
type requestError struct {
	code, description string
	// reason is the precise cause of a failed client authentication, for
	// the log and the audit trail only: the answer says no more than
	// description ("" = description).
	reason string
	// known: the presented client id names a stored client.
	known bool
}

// authFailure is a failed client authentication: code and description
// for the answer, reason for the audit trail.
func authFailure(description, reason string, known bool) *requestError {
	return &requestError{code: codeInvalidClient, description: description, reason: reason, known: known}
}

// auditReason is the reason recorded for e.
func (e *requestError) auditReason() string {
	if e.reason != "" {
		return e.reason
	}
	return e.description
}

func (e *requestError) Error() string { return e.code + ": " + e.description }

func badRequest(format string, args ...any) *requestError {
	return &requestError{code: codeInvalidRequest, description: fmt.Sprintf(format, args...)}
}

// clientCreds are the client credentials a request presents.
type clientCreds struct {
	id, secret string
	basic      bool // presented in the Authorization header
}

// readClientCreds reads client_secret_basic or client_secret_post
// credentials (RFC 6749 §2.3.1), never both, and never from the query
// string. The Basic user and password are form-urlencoded before base64
// (§2.3.1), so they are decoded here. r.ParseForm must have run.
func readClientCreds(r *http.Request) (clientCreds, error) {
	postID, postSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	h := r.Header.Get("Authorization")
	if h == "" {
		switch {
		case postID == "" && postSecret == "":
			return clientCreds{}, authFailure("client authentication required", "no client credentials", false)
		case postSecret == "":
			return clientCreds{id: postID}, authFailure("client authentication required", "client_secret missing", false)
		case postID == "":
			return clientCreds{}, authFailure("client authentication required", "client_id missing", false)
		}
		return clientCreds{id: postID, secret: postSecret}, nil
	}
	scheme, b64, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Basic") {
		return clientCreds{}, authFailure("unsupported client authentication scheme", "malformed credentials: unsupported Authorization scheme", false)
	}
	if postSecret != "" {
		e := badRequest("more than one client authentication method (RFC 6749 §2.3)")
		e.reason = "both client_secret_basic and client_secret_post"
		return clientCreds{}, e
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return clientCreds{}, authFailure("malformed Basic credentials", "malformed credentials: Basic value is not base64", false)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return clientCreds{}, authFailure("malformed Basic credentials", "malformed credentials: Basic value has no colon", false)
	}
	id, err1 := url.QueryUnescape(user)
	secret, err2 := url.QueryUnescape(pass)
	if err1 != nil || err2 != nil || id == "" {
		return clientCreds{}, authFailure("malformed Basic credentials", "malformed credentials: Basic user or password not form-encoded, or empty user", false)
	}
	if postID != "" && postID != id {
		e := badRequest("client_id differs from the authenticated client")
		e.reason = "client_id in the body differs from the Basic user"
		return clientCreds{id: id}, e
	}
	return clientCreds{id: id, secret: secret, basic: true}, nil
}

// clientInfoHandler is the library's ClientInfoHandler.
func clientInfoHandler(r *http.Request) (string, string, error) {
	c, err := readClientCreds(r)
	return c.id, c.secret, err
}

// requestClients memoises the client record for one request: the scope
// handler and the library's client lookup share one store read, and the
// secret the scope handler verified is not hashed a second time.
type requestClients struct {
	id     string
	client tokenstore.Client
	err    error
	done   bool
	// verified is the secret that passed the check for id ("" if none).
	verified string
	// failed is why authenticateClient refused the client (nil if not).
	failed *requestError
}

type requestClientsKey struct{}

// loadClient reads client id once per request (memoised in ctx when the
// token handler put a memo there).
func (s *Server) loadClient(ctx context.Context, id string) (tokenstore.Client, error) {
	m, _ := ctx.Value(requestClientsKey{}).(*requestClients)
	if m != nil && m.done && m.id == id {
		return m.client, m.err
	}
	c, err := s.opts.Clients.GetClient(ctx, id)
	if m != nil {
		*m = requestClients{id: id, client: c, err: err, done: true}
	}
	return c, err
}

// usable reports whether c may obtain and use access tokens.
func usable(c tokenstore.Client) bool {
	return c.Enabled && c.Method == string(auth.MethodClientCredentials) && c.SecretHash != ""
}

// clientStore is the library's oauth2.ClientStore over tokenstore.
type clientStore struct{ s *Server }

// GetByID implements oauth2.ClientStore. Unknown, disabled and
// non-client_credentials clients give errors.ErrInvalidClient (after the
// time of one secret check, so client ids cannot be probed by timing);
// store failures are passed on and answered with server_error.
func (cs clientStore) GetByID(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	c, err := cs.s.loadClient(ctx, id)
	if errors.Is(err, tokenstore.ErrNotFound) || (err == nil && !usable(c)) {
		auth.BurnClientSecretCheck("")
		return nil, oautherrors.ErrInvalidClient
	}
	if err != nil {
		return nil, fmt.Errorf("load client: %w", err)
	}
	ci := clientInfo{c: c}
	if m, _ := ctx.Value(requestClientsKey{}).(*requestClients); m != nil && m.done && m.id == id {
		ci.verified = m.verified
	}
	return ci, nil
}

// clientInfo is a stored client as the library sees it. It implements
// oauth2.ClientPasswordVerifier, so the library never compares secrets
// itself (it would compare with != against GetSecret).
type clientInfo struct {
	c tokenstore.Client
	// verified is a secret already checked against c in this request.
	verified string
}

func (ci clientInfo) GetID() string     { return ci.c.ID }
func (ci clientInfo) GetSecret() string { return "" }
func (ci clientInfo) GetDomain() string { return "" }
func (ci clientInfo) IsPublic() bool    { return false }
func (ci clientInfo) GetUserID() string { return "" }

// VerifyPassword implements oauth2.ClientPasswordVerifier with bcrypt.
// A secret the scope handler already verified in this request is accepted
// without a second bcrypt run.
func (ci clientInfo) VerifyPassword(secret string) bool {
	if ci.verified != "" && subtle.ConstantTimeCompare([]byte(ci.verified), []byte(secret)) == 1 {
		return true
	}
	return auth.VerifyClientSecret(ci.c.SecretHash, secret) == nil
}

// allowedScopes are the scopes client c may request.
func allowedScopes(c tokenstore.Client) []string {
	if len(c.AllowedScopes) == 0 {
		return []string{auth.ScopeSCIM}
	}
	return c.AllowedScopes
}

// scopeHandler is the library's ClientScopeHandler: no scope means scim_v2
// (or, for a client not allowed scim_v2, all its scopes); any scope the
// client may not have gives invalid_scope. The library calls it BEFORE its
// own secret check, so it authenticates the client first (unknown,
// unusable client or wrong secret: invalid_client, counted as a failure):
// otherwise invalid_scope would tell anyone without the secret that a
// client id exists and which scopes it has.
func (s *Server) scopeHandler(tgr *oauth2.TokenGenerateRequest) (bool, error) {
	c, err := s.authenticateClient(tgr.Request.Context(), clientCreds{id: tgr.ClientID, secret: tgr.ClientSecret})
	var re *requestError
	if errors.As(err, &re) {
		return false, oautherrors.ErrInvalidClient
	}
	if err != nil {
		return false, err
	}
	allowed := allowedScopes(c)
	requested := strings.Fields(tgr.Scope)
	if len(requested) == 0 {
		if slices.Contains(allowed, auth.ScopeSCIM) {
			requested = []string{auth.ScopeSCIM}
		} else {
			requested = allowed
		}
	}
	var out []string
	for _, sc := range requested {
		if !slices.Contains(allowed, sc) {
			return false, nil
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	tgr.Scope = strings.Join(out, " ")
	// The client is authenticated and its request valid: it spends one
	// issuance of its token rate.
	retry, ok, err := s.opts.TokenRate.Allow(tgr.Request.Context(), c.ID)
	if err != nil {
		s.opts.Log.WarnContext(tgr.Request.Context(), "token rate limiter unavailable", "admitted", ok, "err", err.Error())
		if !ok {
			return false, err
		}
	}
	if !ok {
		s.opts.Log.InfoContext(tgr.Request.Context(), "token request over the client's token rate",
			"client_id", c.ID, "retry_after", retry.String())
		return false, &tooManyTokens{retry: retry}
	}
	return true, nil
}

// authenticateClient authenticates the client of an introspection or
// revocation request: the same credentials and secret check as the token
// endpoint. It returns invalid_client as a *requestError.
func (s *Server) authenticateClient(ctx context.Context, creds clientCreds) (tokenstore.Client, error) {
	m, _ := ctx.Value(requestClientsKey{}).(*requestClients)
	refuse := func(reason string, known bool) (tokenstore.Client, error) {
		e := authFailure("client authentication failed", reason, known)
		if m != nil && m.done && m.id == creds.id {
			m.failed = e
		}
		return tokenstore.Client{}, e
	}
	c, err := s.loadClient(ctx, creds.id)
	if errors.Is(err, tokenstore.ErrNotFound) || (err == nil && !usable(c)) {
		auth.BurnClientSecretCheck(creds.secret)
		switch {
		case err != nil:
			return refuse("unknown client", false)
		case !c.Enabled:
			return refuse("client disabled", true)
		case c.Method != string(auth.MethodClientCredentials):
			return refuse("client authenticates with "+c.Method+", not client_credentials", true)
		default:
			return refuse("client has no secret", true)
		}
	}
	if err != nil {
		return tokenstore.Client{}, fmt.Errorf("load client: %w", err)
	}
	if auth.VerifyClientSecret(c.SecretHash, creds.secret) != nil {
		return refuse("wrong client secret", true)
	}
	if m != nil && m.done && m.id == creds.id {
		m.verified = creds.secret
	}
	return c, nil
}
