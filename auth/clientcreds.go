package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/scimgate/scimgate/tokenstore"
)

// AccessTokenType is the JOSE typ of scimgate's access tokens (RFC 9068 §2.1).
const AccessTokenType = "at+jwt"

// SigningAlgs are the only algorithms scimgate signs access tokens with;
// a token naming any other (none, HS256, …) is refused before any key is
// looked at, which rules out algorithm confusion.
var SigningAlgs = []jwa.SignatureAlgorithm{jwa.ES256, jwa.RS256}

// ErrUnknownKey is returned by a KeySource for a kid it does not know.
var ErrUnknownKey = errors.New("auth: unknown signing key")

// KeySource gives the public key of one of scimgate's signing keys.
type KeySource interface {
	// VerificationKey returns the public key with kid and the algorithm it
	// signs with, ErrUnknownKey, or another error when the keys cannot be
	// loaded.
	VerificationKey(ctx context.Context, kid string) (jwa.SignatureAlgorithm, jwk.Key, error)
}

// ClientCredentialsOptions configures ClientCredentials.
type ClientCredentialsOptions struct {
	// Issuer is our iss; tokens with another iss are not ours (ErrNotMine).
	Issuer string
	// Audience must be among the token's aud.
	Audience string
	Keys     KeySource
	State    tokenstore.AccessTokenState
	// CacheTTL bounds how long a verified token is remembered (≤ 1s in
	// configuration); 0 disables the cache.
	CacheTTL time.Duration
	// Leeway is the clock skew accepted on exp and iat.
	Leeway time.Duration
	// MaxLifetime is the token endpoint's access-token TTL: a token whose
	// exp - iat exceeds MaxLifetime + Leeway is refused, whatever its
	// signature (a key that leaked or a bug cannot mint long-lived tokens).
	MaxLifetime time.Duration
}

// ClientCredentials authenticates the RFC 9068 access tokens scimgate's
// token endpoint issues. It claims only JWTs whose header typ is at+jwt
// and whose iss is ours (other JWTs are left to the IdP-JWT
// authenticator), verifies them locally against our key set, and checks
// revocation and the client's state in one store round trip, or none while
// the verified principal is cached (at most CacheTTL, so a revocation,
// disable or delete reaches every replica within that time).
type ClientCredentials struct {
	opts  ClientCredentialsOptions
	cache *principalCache
}

// NewClientCredentials returns the client-credentials Authenticator.
func NewClientCredentials(o ClientCredentialsOptions) (*ClientCredentials, error) {
	if o.Issuer == "" || o.Audience == "" || o.Keys == nil || o.State == nil || o.MaxLifetime <= 0 {
		return nil, errors.New("auth: client credentials need an issuer, an audience, keys, a state store and a token lifetime")
	}
	return &ClientCredentials{opts: o, cache: newPrincipalCache(o.CacheTTL)}, nil
}

// AccessClaims are the verified claims of one of our access tokens.
type AccessClaims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ClientID  string
	Scopes    []string
	JTI       string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Authenticate implements Authenticator.
func (a *ClientCredentials) Authenticate(ctx context.Context, req Request) (*Principal, error) {
	if !a.mine(req.Token) {
		return nil, ErrNotMine
	}
	sum := sha256.Sum256([]byte(req.Token))
	key := hex.EncodeToString(sum[:])
	if p, ok := a.cache.get(key, req.Now); ok {
		return p, nil
	}
	cl, err := a.verify(ctx, req.Token, req.Now)
	if err != nil {
		return nil, err
	}
	c, err := a.opts.State.CheckAccessToken(ctx, cl.ClientID, cl.JTI)
	if err != nil {
		return nil, a.refusal(cl, err)
	}
	if c.Method != string(MethodClientCredentials) {
		return nil, Reject(MethodClientCredentials, c.ID, "client no longer uses client_credentials (jti %s)", cl.JTI)
	}
	p := &Principal{
		ClientID:     c.ID,
		DirectoryID:  c.Directory(),
		ClientName:   c.Name,
		Method:       MethodClientCredentials,
		Scopes:       cl.Scopes,
		CredentialID: cl.JTI,
	}
	a.cache.put(key, p, req.Now, cl.ExpiresAt)
	return p, nil
}

// Inspect verifies token (signature, iss, aud, exp) and checks its
// revocation and client state, like Authenticate but returning the claims
// and without the cache; introspection uses it. Foreign tokens give
// ErrNotMine, refused ones a *Rejection.
func (a *ClientCredentials) Inspect(ctx context.Context, token string, now time.Time) (*AccessClaims, error) {
	if !a.mine(token) {
		return nil, ErrNotMine
	}
	cl, err := a.verify(ctx, token, now)
	if err != nil {
		return nil, err
	}
	if _, err := a.opts.State.CheckAccessToken(ctx, cl.ClientID, cl.JTI); err != nil {
		return nil, a.refusal(cl, err)
	}
	return cl, nil
}

// Verify checks token's signature and claims only (no revocation or client
// state): revocation uses it to learn a token's jti, client and expiry.
func (a *ClientCredentials) Verify(ctx context.Context, token string, now time.Time) (*AccessClaims, error) {
	if !a.mine(token) {
		return nil, ErrNotMine
	}
	return a.verify(ctx, token, now)
}

// AcceptedUntil is the last instant verification accepts a token with
// claims cl: its exp plus the leeway. A revocation must last until then.
func (a *ClientCredentials) AcceptedUntil(cl *AccessClaims) time.Time {
	return cl.ExpiresAt.Add(a.opts.Leeway)
}

func (a *ClientCredentials) refusal(cl *AccessClaims, err error) error {
	switch {
	case errors.Is(err, tokenstore.ErrTokenRevoked):
		return Reject(MethodClientCredentials, cl.ClientID, "access token revoked (jti %s)", cl.JTI)
	case errors.Is(err, tokenstore.ErrNotFound):
		return Reject(MethodClientCredentials, cl.ClientID, "client deleted (jti %s)", cl.JTI)
	case errors.Is(err, tokenstore.ErrClientDisabled):
		return Reject(MethodClientCredentials, cl.ClientID, "client disabled (jti %s)", cl.JTI)
	}
	return fmt.Errorf("access token state: %w", err)
}

// joseHeader and peekClaims are read before verification, only to decide
// whether the token is ours.
type joseHeader struct {
	Typ string `json:"typ"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// maxAccessTokenBytes is far above the length of scimgate's own access
// tokens (under 2 KB): a longer token is not ours and is not decoded here.
const maxAccessTokenBytes = 8 << 10

// mine reports whether token is a JWS whose typ is at+jwt and whose iss is
// ours. Nothing read here is trusted; verify checks it all again.
func (a *ClientCredentials) mine(token string) bool {
	if len(token) > maxAccessTokenBytes {
		return false
	}
	h, ok := peekHeader(token)
	if !ok || !isAccessTokenType(h.Typ) {
		return false
	}
	_, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	return json.Unmarshal(raw, &claims) == nil && claims.Iss == a.opts.Issuer
}

func peekHeader(token string) (joseHeader, bool) {
	if strings.Count(token, ".") != 2 {
		return joseHeader{}, false
	}
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return joseHeader{}, false
	}
	var h joseHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return joseHeader{}, false
	}
	return h, true
}

// isAccessTokenType accepts "at+jwt" and "application/at+jwt" (RFC 9068 §4).
func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == AccessTokenType || typ == "application/"+AccessTokenType
}

// verify checks the signature with our key named by kid (alg allow-listed
// and equal to the key's), then iss, aud, exp and iat with leeway, and the
// claims RFC 9068 requires.
func (a *ClientCredentials) verify(ctx context.Context, token string, now time.Time) (*AccessClaims, error) {
	h, _ := peekHeader(token)
	alg := jwa.SignatureAlgorithm(h.Alg)
	if !slices.Contains(SigningAlgs, alg) {
		return nil, Reject(MethodClientCredentials, "", "signature algorithm %q not allowed", clip(h.Alg))
	}
	if h.Kid == "" {
		return nil, Reject(MethodClientCredentials, "", "token has no kid")
	}
	keyAlg, key, err := a.opts.Keys.VerificationKey(ctx, h.Kid)
	if errors.Is(err, ErrUnknownKey) {
		return nil, Reject(MethodClientCredentials, "", "unknown signing key %q", clip(h.Kid))
	}
	if err != nil {
		return nil, fmt.Errorf("verification key: %w", err)
	}
	if keyAlg != alg {
		return nil, Reject(MethodClientCredentials, "", "token alg %s differs from key %s's %s", clip(string(alg)), clip(h.Kid), keyAlg)
	}
	tok, err := jwt.ParseString(token,
		jwt.WithKey(alg, key),
		jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
		jwt.WithAcceptableSkew(a.opts.Leeway),
		jwt.WithIssuer(a.opts.Issuer),
		jwt.WithAudience(a.opts.Audience),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithRequiredClaim(jwt.IssuedAtKey),
		jwt.WithRequiredClaim(jwt.JwtIDKey),
		jwt.WithRequiredClaim(jwt.SubjectKey),
		jwt.WithRequiredClaim("client_id"),
	)
	if err != nil {
		return nil, Reject(MethodClientCredentials, "", "invalid access token: %v", err)
	}
	cl := &AccessClaims{
		Issuer: tok.Issuer(), Subject: tok.Subject(), Audience: tok.Audience(), JTI: tok.JwtID(),
		IssuedAt: tok.IssuedAt(), ExpiresAt: tok.Expiration(),
	}
	// jwx skips the exp check for a zero exp ("exp": 0 never expires).
	if cl.ExpiresAt.Unix() <= 0 || cl.IssuedAt.Unix() <= 0 {
		return nil, Reject(MethodClientCredentials, "", "token exp or iat missing or zero")
	}
	if life := cl.ExpiresAt.Sub(cl.IssuedAt); life > a.opts.MaxLifetime+a.opts.Leeway {
		return nil, Reject(MethodClientCredentials, "", "token lifetime %s exceeds %s", life, a.opts.MaxLifetime)
	}
	if v, ok := tok.Get("client_id"); ok {
		cl.ClientID, _ = v.(string)
	}
	if cl.ClientID == "" || cl.ClientID != cl.Subject {
		return nil, Reject(MethodClientCredentials, "", "client_id claim missing or different from sub")
	}
	if v, ok := tok.Get("scope"); ok {
		s, _ := v.(string)
		cl.Scopes = strings.Fields(s)
	}
	return cl, nil
}
