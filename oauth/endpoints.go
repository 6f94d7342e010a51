package oauth

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
)

func hasMediaType(header, want string) bool {
	mt, _, err := mime.ParseMediaType(header)
	return err == nil && strings.EqualFold(mt, want)
}

// clientFromRequest runs the prelude and authenticates the client of an
// introspection or revocation request; it writes errors itself.
func (s *Server) clientFromRequest(c *gin.Context) (string, bool) {
	creds, ok := s.clientPrelude(c)
	if !ok {
		return "", false
	}
	cl, err := s.authenticateClient(c.Request.Context(), creds)
	var re *requestError
	switch {
	case errors.As(err, &re):
		if s.fail(c, creds.id, creds.id, re) {
			writeError(c.Writer, codeTemporarily, "try again later")
		} else {
			writeError(c.Writer, re.code, re.description)
		}
		return "", false
	case err != nil:
		s.opts.Log.ErrorContext(c.Request.Context(), "client authentication unavailable", "err", err.Error())
		writeError(c.Writer, codeTemporarily, "try again later")
		return "", false
	}
	return cl.ID, true
}

// tokenRequest reads what introspection and revocation share: the
// authenticated client and the "token" parameter. It has answered the
// request when ok is false.
func (s *Server) tokenRequest(c *gin.Context) (clientID, token string, ok bool) {
	noStore(c.Writer)
	if clientID, ok = s.clientFromRequest(c); !ok {
		return "", "", false
	}
	if token = c.Request.PostForm.Get("token"); token == "" {
		writeError(c.Writer, codeInvalidRequest, "token is required")
		return "", "", false
	}
	return clientID, token, true
}

// introspect is POST /oauth/introspect (RFC 7662). The client
// authenticates; only its own valid tokens are active to it, so it learns
// nothing about other clients' tokens.
func (s *Server) introspect(c *gin.Context) {
	clientID, token, ok := s.tokenRequest(c)
	if !ok {
		return
	}
	cl, err := s.opts.Verifier.Inspect(c.Request.Context(), token, s.opts.Now())
	var rej *auth.Rejection
	switch {
	case err == nil && cl.ClientID == clientID:
		writeJSON(c.Writer, http.StatusOK, gin.H{
			"active": true, "scope": strings.Join(cl.Scopes, " "), "client_id": cl.ClientID,
			"sub": cl.Subject, "aud": cl.Audience, "iss": cl.Issuer, "jti": cl.JTI,
			"exp": cl.ExpiresAt.Unix(), "iat": cl.IssuedAt.Unix(), "token_type": "Bearer",
		})
	case err == nil, errors.Is(err, auth.ErrNotMine), errors.As(err, &rej):
		writeJSON(c.Writer, http.StatusOK, gin.H{"active": false})
	default:
		s.opts.Log.ErrorContext(c.Request.Context(), "introspection unavailable", "err", err.Error())
		writeError(c.Writer, codeTemporarily, "try again later")
	}
}

// revoke is POST /oauth/revoke (RFC 7009). The client authenticates and
// may revoke its own access tokens; any other token (unknown, expired,
// malformed, another client's) is answered 200 like a successful
// revocation (§2.2), without effect. The revocation reaches every replica
// within the authenticator cache's TTL.
func (s *Server) revoke(c *gin.Context) {
	clientID, token, ok := s.tokenRequest(c)
	if !ok {
		return
	}
	now := s.opts.Now()
	cl, err := s.opts.Verifier.Verify(c.Request.Context(), token, now)
	var rej *auth.Rejection
	switch {
	case err == nil && cl.ClientID == clientID:
		if err := s.opts.State.RevokeAccessToken(c.Request.Context(), cl.JTI, cl.ClientID, s.opts.Verifier.AcceptedUntil(cl), now); err != nil {
			s.opts.Log.ErrorContext(c.Request.Context(), "revocation failed", "err", err.Error())
			writeError(c.Writer, codeTemporarily, "try again later")
			return
		}
		s.opts.Log.InfoContext(c.Request.Context(), "access token revoked", "client_id", clientID, "jti", cl.JTI)
	case err == nil, errors.Is(err, auth.ErrNotMine), errors.As(err, &rej):
		// Nothing of this client's to revoke.
	default:
		s.opts.Log.ErrorContext(c.Request.Context(), "revocation unavailable", "err", err.Error())
		writeError(c.Writer, codeTemporarily, "try again later")
		return
	}
	c.Status(http.StatusOK)
}

// jwks is GET /.well-known/jwks.json: the current and still-retained
// previous public keys.
func (s *Server) jwks(c *gin.Context) {
	set, err := s.opts.Keys.JWKS(c.Request.Context(), s.opts.Now())
	if err != nil {
		s.opts.Log.ErrorContext(c.Request.Context(), "jwks unavailable", "err", err.Error())
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "key set temporarily unavailable"})
		return
	}
	if set.Len() == 0 {
		// No token was ever issued; publish the key the first one will use.
		if _, err := s.opts.Keys.Current(c.Request.Context()); err == nil {
			set, err = s.opts.Keys.JWKS(c.Request.Context(), s.opts.Now())
		}
		if err != nil {
			s.opts.Log.ErrorContext(c.Request.Context(), "jwks unavailable", "err", err.Error())
			c.JSON(http.StatusServiceUnavailable, gin.H{"error": "key set temporarily unavailable"})
			return
		}
	}
	c.Header("Content-Type", "application/jwk-set+json")
	c.JSON(http.StatusOK, set)
}

// metadata is GET /.well-known/oauth-authorization-server (RFC 8414).
func (s *Server) metadata(c *gin.Context) {
	iss := s.opts.Issuer
	methods := []string{"client_secret_basic", "client_secret_post"}
	c.JSON(http.StatusOK, gin.H{
		"issuer":                                iss,
		"token_endpoint":                        iss + PathToken,
		"jwks_uri":                              iss + PathJWKS,
		"introspection_endpoint":                iss + PathIntrospect,
		"revocation_endpoint":                   iss + PathRevoke,
		"grant_types_supported":                 []string{"client_credentials"},
		"response_types_supported":              []string{},
		"token_endpoint_auth_methods_supported": methods,
		"introspection_endpoint_auth_methods_supported": methods,
		"revocation_endpoint_auth_methods_supported":    methods,
		"scopes_supported":                          auth.KnownScopes,
		"access_token_signing_alg_values_supported": []string{AlgES256, AlgRS256},
	})
}
