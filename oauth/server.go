package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-oauth2/oauth2/v4"
	oautherrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redisfault"
	gwserver "github.com/scimgate/scimgate/server"
	"github.com/scimgate/scimgate/tokenstore"
)

// Endpoint paths, relative to the issuer.
const (
	PathToken      = "/oauth/token"
	PathIntrospect = "/oauth/introspect"
	PathRevoke     = "/oauth/revoke"
	PathJWKS       = "/.well-known/jwks.json"
	PathMetadata   = "/.well-known/oauth-authorization-server"
)

// maxFormBytes bounds the body of the form endpoints.
const maxFormBytes = 16 << 10

// Options configures a Server.
type Options struct {
	// Issuer is the iss of our tokens and the base of the endpoint URLs.
	Issuer string
	// Audience is the aud of our tokens (the SCIM base URL).
	Audience string
	// TokenTTL is the access-token lifetime.
	TokenTTL time.Duration
	Clients  tokenstore.Store
	State    tokenstore.AccessTokenState
	Keys     *KeyStore
	// Verifier checks tokens for introspection and revocation.
	Verifier *auth.ClientCredentials
	Limiter  *FailureLimiter
	// TokenRate limits successful token requests per client (nil: no limit).
	TokenRate *TokenRateLimiter
	// Failures, when set, aggregates every failed client authentication
	// into AUTH_FAILED (method client_credentials, reason, client when
	// known, source network, route family oauth; see audit.Failures).
	Failures *audit.Failures
	// Grouping maps source addresses to the networks failures are charged
	// to (IPv6 by prefix).
	Grouping ratelimit.Grouping
	// DenyOnRedisError refuses (503, Retry-After) a request whose failure
	// limits cannot be read from Redis; false admits it (and logs).
	DenyOnRedisError bool
	Log              *slog.Logger
	// Now is the clock (time.Now in production).
	Now func() time.Time
}

// Server is the authorization server's HTTP side.
type Server struct {
	opts Options
	srv  *server.Server
}

// NewServer builds the token endpoint on go-oauth2 with only the client
// credentials grant, and the other endpoints beside it.
func NewServer(o Options) (*Server, error) {
	if o.Issuer == "" || o.Audience == "" || o.TokenTTL <= 0 || o.Clients == nil || o.State == nil ||
		o.Keys == nil || o.Verifier == nil || o.Limiter == nil || o.Log == nil || o.Now == nil {
		return nil, errors.New("oauth: incomplete server options")
	}
	s := &Server{opts: o}

	m := manage.NewDefaultManager()
	m.SetClientTokenCfg(&manage.Config{AccessTokenExp: o.TokenTTL})
	m.MapClientStorage(clientStore{s: s})
	m.MapTokenStorage(selfContained{})
	m.MapAccessGenerate(accessGenerate{issuer: o.Issuer, audience: o.Audience, keys: o.Keys})

	cfg := server.NewConfig()
	// The default configuration also allows authorization_code, password
	// and refresh_token.
	cfg.AllowedGrantTypes = []oauth2.GrantType{oauth2.ClientCredentials}
	cfg.AllowGetAccessRequest = false
	cfg.TokenType = "Bearer"
	srv := server.NewServer(cfg, m)
	srv.ClientInfoHandler = clientInfoHandler
	srv.ClientScopeHandler = s.scopeHandler
	srv.InternalErrorHandler = s.internalError
	srv.ResponseErrorHandler = responseError
	s.srv = srv
	return s, nil
}

// Mount registers the endpoints on r (the engine root: outside /scim and
// /admin, and outside the SCIM authentication middleware).
func (s *Server) Mount(r gin.IRoutes) {
	r.POST(PathToken, s.token)
	r.POST(PathIntrospect, s.introspect)
	r.POST(PathRevoke, s.revoke)
	r.GET(PathJWKS, s.jwks)
	r.GET(PathMetadata, s.metadata)
}

// responseError fixes the library's statuses to RFC 6749 §5.2: 400 for
// every error but invalid_client (401 with a Basic challenge) and the
// server errors. The library answers invalid_grant, unauthorized_client
// and unsupported_grant_type with 401 and never challenges.
func responseError(re *oautherrors.Response) {
	if re.StatusCode == http.StatusTooManyRequests {
		// A client over its token rate (see internalError).
		return
	}
	switch re.Error {
	case oautherrors.ErrInvalidClient:
		re.StatusCode = http.StatusUnauthorized
		re.SetHeader("WWW-Authenticate", basicChallenge)
	case oautherrors.ErrServerError:
		re.StatusCode = http.StatusInternalServerError
	case oautherrors.ErrTemporarilyUnavailable:
		re.StatusCode = http.StatusServiceUnavailable
		if re.Header.Get("Retry-After") == "" {
			re.SetHeader("Retry-After", "1")
		}
	default:
		re.StatusCode = http.StatusBadRequest
	}
}

// internalError maps errors the library does not know: our request
// errors keep their code; anything else is logged and is server_error.
func (s *Server) internalError(err error) *oautherrors.Response {
	var re *requestError
	if errors.As(err, &re) {
		return &oautherrors.Response{Error: errors.New(re.code), Description: re.description}
	}
	var tm *tooManyTokens
	if errors.As(err, &tm) {
		h := http.Header{}
		h.Set("Retry-After", strconv.FormatInt(retrySeconds(tm.retry), 10))
		return &oautherrors.Response{Error: errors.New(codeInvalidRequest), Description: "too many token requests",
			StatusCode: http.StatusTooManyRequests, Header: h}
	}
	if errors.Is(err, errTokenRate) {
		return &oautherrors.Response{Error: oautherrors.ErrTemporarilyUnavailable, Description: "try again later"}
	}
	if k := redisfault.Classify(err); k != redisfault.None {
		s.opts.Log.Warn("token endpoint: storage unavailable", "kind", string(k), "err", err.Error())
		h := http.Header{}
		h.Set("Retry-After", strconv.FormatInt(retrySeconds(redisfault.RetryAfter(k)), 10))
		return &oautherrors.Response{Error: oautherrors.ErrTemporarilyUnavailable, Description: "try again later", Header: h}
	}
	s.opts.Log.Error("token endpoint failure", "err", err.Error())
	return &oautherrors.Response{Error: oautherrors.ErrServerError, Description: "internal error"}
}

// readForm parses a form POST body (never the query string) and refuses
// repeated parameters (RFC 6749 §3.2). It writes the error itself.
func readForm(c *gin.Context) bool {
	r := c.Request
	if ct := r.Header.Get("Content-Type"); !hasMediaType(ct, "application/x-www-form-urlencoded") {
		writeError(c.Writer, codeInvalidRequest, "the body must be application/x-www-form-urlencoded")
		return false
	}
	r.Body = http.MaxBytesReader(c.Writer, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeError(c.Writer, codeInvalidRequest, "malformed form body")
		return false
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			writeError(c.Writer, codeInvalidRequest, "parameter "+k+" repeated")
			return false
		}
	}
	// The library reads parameters with FormValue, which also looks at the
	// query string; give it the body only.
	r.Form = r.PostForm
	return true
}

// clientPrelude reads the client credentials of a form request and
// refuses requests over the failure limits (per client id and address, per
// address; never per client id alone: see FailureLimiter). Malformed or
// missing credentials are failures too, charged to the address alone, and
// checked against its limit first, so an address over its budget is
// answered 429 without being recorded again. It writes errors itself.
func (s *Server) clientPrelude(c *gin.Context) (clientCreds, bool) {
	if !readForm(c) {
		return clientCreds{}, false
	}
	creds, credsErr := readClientCreds(c.Request)
	var re *requestError
	malformed := errors.As(credsErr, &re)
	checkID := creds.id
	if malformed {
		checkID = ""
	}
	retry, limited, err := s.opts.Limiter.Check(c.Request.Context(), checkID, s.opts.Grouping.Network(c.ClientIP()), s.opts.Now())
	if err != nil {
		s.opts.Log.ErrorContext(c.Request.Context(), "failure limiter unavailable", "deny", s.opts.DenyOnRedisError, "err", err.Error())
		if s.opts.DenyOnRedisError {
			writeError(c.Writer, codeTemporarily, "try again later")
			return clientCreds{}, false
		}
	}
	if limited {
		s.opts.Log.WarnContext(c.Request.Context(), "client authentication rate limited",
			"client_id", auth.LogSafeClientID(checkID), "ip", c.ClientIP(), "retry_after", retry.String())
		writeTooMany(c.Writer, retry)
		return clientCreds{}, false
	}
	if malformed {
		if s.fail(c, "", creds.id, re) {
			writeError(c.Writer, codeTemporarily, "try again later")
		} else {
			writeError(c.Writer, re.code, re.description)
		}
		return clientCreds{}, false
	}
	return creds, true
}

// fail counts, logs and audits a failed client authentication (never the
// secret). charged is the client id counted with the source network (""
// the network alone); presented is the client id the request named,
// recorded as the event's client when such a client exists (re.known),
// else quoted in the reason, clipped and sanitised, or as a fingerprint
// when it looks like a secret (auth.LogSafeClientID). The audit stream
// stays bounded: failures are aggregated per network, reason, client and
// minute (audit.Failures), and requests over the failure limits are
// answered 429 by clientPrelude before they get here. It reports whether
// the failure could not be charged and the server fails closed; the caller
// then answers 503 instead of its error.
func (s *Server) fail(c *gin.Context, charged, presented string, re *requestError) (closed bool) {
	ctx := c.Request.Context()
	ip := c.ClientIP()
	network := s.opts.Grouping.Network(ip)
	safeID := auth.LogSafeClientID(presented)
	reason := re.auditReason()
	if !re.known && presented != "" {
		reason += fmt.Sprintf(" (client_id %q)", safeID)
	}
	reason += " at " + c.Request.URL.Path
	s.opts.Log.InfoContext(ctx, "client authentication failed",
		"route", c.FullPath(), "client_id", safeID, "ip", ip, "reason", reason)
	if err := s.opts.Limiter.Fail(ctx, charged, network, s.opts.Now()); err != nil {
		s.opts.Log.ErrorContext(ctx, "failure limiter unavailable", "deny", s.opts.DenyOnRedisError, "err", err.Error())
		closed = s.opts.DenyOnRedisError
	}
	if s.opts.Failures == nil {
		return closed
	}
	f := audit.Failure{
		Network: network, Reason: reason, Route: audit.RouteOAuth, Method: string(auth.MethodClientCredentials),
		RequestID: gwserver.RequestIDFrom(c), Time: s.opts.Now(),
	}
	if re.known {
		f.ClientID = presented
	}
	if err := s.opts.Failures.Record(ctx, f); err != nil {
		s.opts.Log.ErrorContext(ctx, "AUTH_FAILED not recorded", "ip", ip, "err", err.Error())
	}
	return closed
}

// token is POST /oauth/token.
func (s *Server) token(c *gin.Context) {
	noStore(c.Writer)
	creds, ok := s.clientPrelude(c)
	if !ok {
		return
	}
	switch gt := c.Request.PostForm.Get("grant_type"); gt {
	case "":
		writeError(c.Writer, codeInvalidRequest, "grant_type is required")
		return
	case string(oauth2.ClientCredentials):
	default:
		writeError(c.Writer, codeUnsupportedGrantType, "only client_credentials is supported")
		return
	}
	memo := &requestClients{}
	ctx := context.WithValue(c.Request.Context(), requestClientsKey{}, memo)
	if err := s.srv.HandleTokenRequest(c.Writer, c.Request.WithContext(ctx)); err != nil {
		s.opts.Log.ErrorContext(ctx, "token response", "err", err.Error())
	}
	if c.Writer.Status() == http.StatusUnauthorized {
		re := memo.failed
		if re == nil {
			re = authFailure("client authentication failed", "client authentication failed", false)
		}
		// The 401 is written; a failure that cannot be charged refuses the
		// next request instead (Check reads the same counters).
		_ = s.fail(c, creds.id, creds.id, re)
		return
	}
	if c.Writer.Status() == http.StatusOK {
		s.opts.Log.InfoContext(ctx, "access token issued", "client_id", creds.id)
	}
}

// selfContained is the library's oauth2.TokenStore. Access tokens are
// self-contained JWTs, so there is nothing to store at issuance: the state
// that matters later (revocations) is kept by tokenstore.AccessTokenState,
// and no refresh tokens or codes exist.
type selfContained struct{}

func (selfContained) Create(context.Context, oauth2.TokenInfo) error { return nil }
func (selfContained) RemoveByCode(context.Context, string) error     { return nil }
func (selfContained) RemoveByAccess(context.Context, string) error   { return nil }
func (selfContained) RemoveByRefresh(context.Context, string) error  { return nil }
func (selfContained) GetByCode(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, oautherrors.ErrInvalidAuthorizeCode
}
func (selfContained) GetByAccess(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, fmt.Errorf("access tokens are verified by auth.ClientCredentials: %w", oautherrors.ErrInvalidAccessToken)
}
func (selfContained) GetByRefresh(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, oautherrors.ErrInvalidRefreshToken
}
