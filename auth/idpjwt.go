package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/scimgate/scimgate/idpkeys"
	"github.com/scimgate/scimgate/tokenstore"
)

// DefaultIdPAlgorithms are the JWS algorithms accepted on IdP tokens by
// default.
var DefaultIdPAlgorithms = []string{"RS256", "PS256", "ES256", "EdDSA", "Ed25519"}

// IdPAlgorithms lists every algorithm IdPJWTOptions.Algorithms may name:
// asymmetric ones only. none and HMAC are never accepted: an HMAC "key"
// would be public (alg confusion with a JWKS key's bytes). Ed25519 is the
// fully specified name of EdDSA on curve Ed25519 (RFC 9864 §2.2).
var IdPAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}

// algEd25519 is RFC 9864's name, which jwx v2 does not know: such tokens
// are verified here with crypto/ed25519 against OKP Ed25519 keys.
const algEd25519 = "Ed25519"

// Defaults of IdPJWTOptions.
const (
	DefaultIdPLeeway        = 60 * time.Second
	DefaultIdPTokenCacheTTL = 5 * time.Minute
	DefaultIdPCacheSize     = 10000
	// DefaultIdPCacheBytes bounds each cache's memory.
	DefaultIdPCacheBytes = 16 << 20
	// DefaultIdPMaxTokenBytes bounds a bearer token's length: IdP access
	// tokens are 1-4 KB; anything past this is refused before parsing.
	DefaultIdPMaxTokenBytes = 16 << 10
	// DefaultIdPMaxLifetime bounds exp - iat of an IdP token.
	DefaultIdPMaxLifetime = 24 * time.Hour
)

// Limits on claims of unverified IdP tokens, checked before any lookup:
// a longer value is refused (401). Client settings are far shorter
// (issuer ≤ 500, subject ≤ 255 characters).
const (
	MaxIdPIssuerBytes  = 1024
	MaxIdPSubjectBytes = 1024
	MaxIdPKidBytes     = 256
)

// IdPKeys gives the signing keys of an issuer (an *idpkeys.Cache).
type IdPKeys interface {
	// Keys returns the keys that may have signed a token with kid, or an
	// error wrapping idpkeys.ErrUnknownKid or idpkeys.ErrUnavailable.
	Keys(ctx context.Context, src idpkeys.Source, kid string) ([]jwk.Key, error)
}

// IdPJWTOptions configures the IdP JWT authenticator.
type IdPJWTOptions struct {
	// Algorithms is the allow-list (DefaultIdPAlgorithms when empty); each
	// must be one of IdPAlgorithms.
	Algorithms []string
	// Leeway is the clock skew tolerated on exp, nbf and iat (negative: 0;
	// zero means DefaultIdPLeeway, so pass a tiny value for "none").
	Leeway time.Duration
	// ClientCacheTTL bounds how long a client's state (enabled, settings)
	// is cached per process: a disable or delete takes effect after at most
	// this long. Configuration keeps it ≤ 1s; 0 disables the cache.
	ClientCacheTTL time.Duration
	// TokenCacheTTL bounds how long a verified token skips signature
	// verification (never past its exp). 0 means DefaultIdPTokenCacheTTL;
	// negative disables the cache.
	TokenCacheTTL time.Duration
	// CacheSize caps each cache's entries (DefaultIdPCacheSize when 0).
	CacheSize int
	// CacheBytes caps each cache's memory (DefaultIdPCacheBytes when 0).
	CacheBytes int64
	// MaxTokenBytes refuses longer tokens before any parsing
	// (DefaultIdPMaxTokenBytes when 0).
	MaxTokenBytes int
	// MaxLifetime refuses a token whose exp - iat (exp - now without iat)
	// exceeds it plus Leeway (DefaultIdPMaxLifetime when 0).
	MaxLifetime time.Duration
	// OwnIssuers are issuers whose tokens belong to another authenticator
	// (scimgate's own token endpoint): they are never claimed here.
	OwnIssuers []string
}

// IdPJWT authenticates JWTs issued by a customer's IdP (method idp_jwt).
//
// It claims a JWT-shaped bearer token only when its (unverified) iss is
// trusted by some idp_jwt client; the client is selected by (iss, sub).
// The token must then be signed by a key of the issuer's JWKS with an
// allowed algorithm, have the client's subject as sub, include the
// client's audience in aud, be within exp/nbf/iat (with leeway) and live
// at most MaxLifetime. Its scope (space-separated) or scp (array or
// string) become the principal's scopes; Require checks them. The JOSE typ
// is not checked: IdPs send JWT. A token the IdP marks as an ID token (a
// nonce claim, Keycloak's typ claim "ID") is refused: it is not a bearer
// credential (OpenID Connect Core §2).
//
// Nothing unverified is cached by its content: a token longer than
// MaxTokenBytes, or whose iss, sub or kid is over its limit, is refused
// before any parsing or lookup; the client lookup is cached under the
// SHA-256 of iss NUL sub (a store answer, negative ones included), and
// only verified tokens are cached, under the SHA-256 of the token. Both
// caches are bounded in entries and bytes and drop entries at their
// deadline.
//
// A verified token is remembered until the earlier of its exp and
// TokenCacheTTL, so a warm request costs a hash and two map look-ups; the
// client's state is re-read through the store at most every
// ClientCacheTTL, so disabling or deleting a client takes effect within it.
type IdPJWT struct {
	store  tokenstore.Store
	keys   IdPKeys
	o      IdPJWTOptions
	algs   map[string]jwa.SignatureAlgorithm
	own    map[string]bool
	tokens *ttlCache[verifiedToken]
	client *ttlCache[clientLookup]
}

// verifiedToken is a token whose signature has been verified.
type verifiedToken struct {
	claims idpClaims
	scopes []string
	// jwksURL is the client's JWKS URL when the signature was verified: a
	// changed URL (client update) verifies the token again.
	jwksURL string
}

type clientLookup struct {
	c   tokenstore.Client
	err error // nil, ErrUnknownIssuer or ErrUnknownSubject
}

// NewIdPJWT returns the IdP JWT authenticator.
func NewIdPJWT(store tokenstore.Store, keys IdPKeys, o IdPJWTOptions) (*IdPJWT, error) {
	if len(o.Algorithms) == 0 {
		o.Algorithms = DefaultIdPAlgorithms
	}
	if o.Leeway == 0 {
		o.Leeway = DefaultIdPLeeway
	}
	o.Leeway = max(o.Leeway, 0)
	if o.TokenCacheTTL == 0 {
		o.TokenCacheTTL = DefaultIdPTokenCacheTTL
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultIdPCacheSize
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = DefaultIdPCacheBytes
	}
	if o.MaxTokenBytes <= 0 {
		o.MaxTokenBytes = DefaultIdPMaxTokenBytes
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = DefaultIdPMaxLifetime
	}
	a := &IdPJWT{store: store, keys: keys, o: o, algs: map[string]jwa.SignatureAlgorithm{}, own: map[string]bool{}}
	for _, name := range o.Algorithms {
		if !slices.Contains(IdPAlgorithms, name) {
			return nil, fmt.Errorf("idp jwt: algorithm %q is not one of %s", name, strings.Join(IdPAlgorithms, ", "))
		}
		a.algs[name] = jwa.SignatureAlgorithm(name)
		if name == algEd25519 {
			a.algs[name] = jwa.EdDSA
		}
	}
	for _, iss := range o.OwnIssuers {
		a.own[iss] = true
	}
	tokenCap, clientCap := o.CacheSize, o.CacheSize
	if o.TokenCacheTTL < 0 {
		tokenCap = 0
	}
	if o.ClientCacheTTL <= 0 {
		clientCap = 0
	}
	a.tokens = newTTLCache[verifiedToken](tokenCap, o.CacheBytes)
	a.client = newTTLCache[clientLookup](clientCap, o.CacheBytes)
	return a, nil
}

// Authenticate implements Authenticator.
func (a *IdPJWT) Authenticate(ctx context.Context, req Request) (*Principal, error) {
	if len(req.Token) > a.o.MaxTokenBytes {
		return nil, Reject(MethodIdPJWT, "", "bearer token of %d bytes exceeds the %d-byte limit", len(req.Token), a.o.MaxTokenBytes)
	}
	sum := sha256.Sum256([]byte(req.Token))
	key := string(sum[:])
	v, cached := a.tokens.get(key, req.Now)
	if !cached {
		parts, ok := splitJWT(req.Token)
		if !ok || parts.claims.Iss == "" {
			return nil, ErrNotMine
		}
		if err := parts.checkSizes(); err != nil {
			return nil, Reject(MethodIdPJWT, "", "%v", err)
		}
		if a.own[parts.claims.Iss] {
			return nil, ErrNotMine
		}
		v = verifiedToken{claims: parts.claims}
		// Select the client before verifying: an untrusted issuer is
		// another authenticator's business, and costs no key fetch.
		c, err := a.lookupClient(ctx, v.claims, req.Now)
		if err != nil {
			return nil, err
		}
		if err := a.verifySignature(ctx, c, parts.header, req.Token); err != nil {
			return nil, err
		}
		v.scopes = v.claims.scopes()
		v.jwksURL = c.JWKSURL
		return a.admit(c, v, key, req.Now, true)
	}
	c, err := a.lookupClient(ctx, v.claims, req.Now)
	if err != nil {
		return nil, err
	}
	if c.JWKSURL != v.jwksURL {
		// The client's key source changed since this token was verified.
		parts, ok := splitJWT(req.Token)
		if !ok {
			return nil, ErrNotMine
		}
		if err := a.verifySignature(ctx, c, parts.header, req.Token); err != nil {
			return nil, err
		}
		v.jwksURL = c.JWKSURL
		return a.admit(c, v, key, req.Now, true)
	}
	return a.admit(c, v, key, req.Now, false)
}

// lookupClient finds the client of (iss, sub), through the ≤1s cache
// keyed by a fixed-size hash of the pair (iss and sub are unverified).
func (a *IdPJWT) lookupClient(ctx context.Context, cl idpClaims, now time.Time) (tokenstore.Client, error) {
	ck := clientKey(cl.Iss, cl.Sub)
	l, ok := a.client.get(ck, now)
	if !ok {
		c, err := a.store.LookupIdPClient(ctx, cl.Iss, cl.Sub)
		if err != nil && !errors.Is(err, tokenstore.ErrNotFound) {
			return tokenstore.Client{}, fmt.Errorf("idp client lookup: %w", err)
		}
		l = clientLookup{c: c, err: err}
		a.client.put(ck, l, clientSize(c), now, now.Add(a.o.ClientCacheTTL))
	}
	switch {
	case errors.Is(l.err, tokenstore.ErrUnknownIssuer):
		return tokenstore.Client{}, ErrNotMine
	case l.err != nil && cl.Sub == "":
		return tokenstore.Client{}, Reject(MethodIdPJWT, "", "token of issuer %s has no sub claim", clip(cl.Iss))
	case l.err != nil:
		return tokenstore.Client{}, Reject(MethodIdPJWT, "", "sub %q is not the subject of any client trusting issuer %s", clip(cl.Sub), clip(cl.Iss))
	case !l.c.Enabled:
		return tokenstore.Client{}, Reject(MethodIdPJWT, l.c.ID, "client disabled")
	case l.c.Method != string(MethodIdPJWT):
		return tokenstore.Client{}, Reject(MethodIdPJWT, l.c.ID, "client method is %s", l.c.Method)
	}
	return l.c, nil
}

// verifySignature checks the JOSE header and the signature against the
// issuer's keys.
func (a *IdPJWT) verifySignature(ctx context.Context, c tokenstore.Client, h jwtHeader, token string) error {
	alg, ok := a.algs[h.Alg]
	if !ok {
		return Reject(MethodIdPJWT, c.ID, "alg %q not allowed", clip(h.Alg))
	}
	if len(h.Crit) > 0 {
		return Reject(MethodIdPJWT, c.ID, "unsupported critical header parameters %q", clipAll(h.Crit))
	}
	keys, err := a.keys.Keys(ctx, idpkeys.Source{Issuer: c.Issuer, JWKSURL: c.JWKSURL}, h.Kid)
	name := h.Alg
	switch {
	case errors.Is(err, idpkeys.ErrUnknownKid):
		return Reject(MethodIdPJWT, c.ID, "unknown kid %q", clip(h.Kid))
	case err != nil:
		// No keys could ever be fetched: not the client's fault (503).
		return fmt.Errorf("idp keys of client %s: %w", c.ID, err)
	}
	fits := 0
	for _, k := range keys {
		if !keyFits(k, name) {
			continue
		}
		fits++
		if verifyWith(name, alg, k, token) {
			return nil
		}
	}
	if fits == 0 {
		return Reject(MethodIdPJWT, c.ID, "no key with kid %q fits alg %s", clip(h.Kid), clip(h.Alg))
	}
	return Reject(MethodIdPJWT, c.ID, "bad signature (alg %s, kid %q)", clip(h.Alg), clip(h.Kid))
}

// keyFits reports whether k may verify the algorithm named alg: the key
// type matches and the key's own alg, if any, is alg. EdDSA and Ed25519
// are one algorithm on an Ed25519 key (RFC 9864 §2.2), so a key marked
// with either fits both.
func keyFits(k jwk.Key, alg string) bool {
	ka := k.Algorithm().String()
	switch k.KeyType() {
	case jwa.RSA:
		return (ka == "" || ka == alg) && (strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS"))
	case jwa.EC:
		return (ka == "" || ka == alg) && strings.HasPrefix(alg, "ES")
	case jwa.OKP:
		crv, ok := k.(interface {
			Crv() jwa.EllipticCurveAlgorithm
		})
		edAlg := func(s string) bool { return s == jwa.EdDSA.String() || s == algEd25519 }
		if !edAlg(alg) || (ka != "" && !edAlg(ka)) {
			return false
		}
		// EdDSA may also name Ed448, which jwx v2 cannot verify anyway.
		return alg == jwa.EdDSA.String() || (ok && crv.Crv() == jwa.Ed25519)
	}
	return false
}

// verifyWith checks token's signature with k. jwx verifies every
// algorithm but RFC 9864's Ed25519, checked here with crypto/ed25519 (the
// same signature as EdDSA on an Ed25519 key).
func verifyWith(name string, alg jwa.SignatureAlgorithm, k jwk.Key, token string) bool {
	if name != algEd25519 {
		_, err := jws.Verify([]byte(token), jws.WithKey(alg, k))
		return err == nil
	}
	var pub ed25519.PublicKey
	if err := k.Raw(&pub); err != nil {
		return false
	}
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	return err == nil && ed25519.Verify(pub, []byte(token[:i]), sig)
}

// clientKey is the client cache's key of (iss, sub): a fixed-size hash,
// so unverified claims never occupy the cache.
func clientKey(iss, sub string) string {
	h := sha256.New()
	h.Write([]byte(iss))
	h.Write([]byte{0})
	h.Write([]byte(sub))
	return string(h.Sum(nil))
}

// clientSize estimates a client's bytes for the cache's byte bound.
func clientSize(c tokenstore.Client) int {
	return 256 + len(c.ID) + len(c.Name) + len(c.Method) + len(c.Issuer) + len(c.Subject) + len(c.Audience) + len(c.JWKSURL)
}

// admit checks the claims against the client's current settings, caches a
// freshly verified token and builds the principal.
func (a *IdPJWT) admit(c tokenstore.Client, v verifiedToken, key string, now time.Time, fresh bool) (*Principal, error) {
	if err := v.claims.checkParty(c.Issuer, c.Subject, c.Audience); err != nil {
		return nil, Reject(MethodIdPJWT, c.ID, "%v", err)
	}
	if err := v.claims.checkTimes(now, a.o.Leeway); err != nil {
		return nil, Reject(MethodIdPJWT, c.ID, "%v", err)
	}
	if err := v.claims.checkLifetime(now, a.o.MaxLifetime, a.o.Leeway); err != nil {
		return nil, Reject(MethodIdPJWT, c.ID, "%v", err)
	}
	if err := v.claims.checkNotIDToken(); err != nil {
		return nil, Reject(MethodIdPJWT, c.ID, "%v", err)
	}
	if fresh {
		until := numericDate(*v.claims.Exp)
		if bound := now.Add(a.o.TokenCacheTTL); bound.Before(until) {
			until = bound
		}
		a.tokens.put(key, v, v.size(), now, until)
	}
	return &Principal{
		ClientID:     c.ID,
		DirectoryID:  c.Directory(),
		ClientName:   c.Name,
		Method:       MethodIdPJWT,
		Scopes:       slices.Clone(v.scopes),
		CredentialID: v.claims.Jti,
	}, nil
}
