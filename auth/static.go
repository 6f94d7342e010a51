package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimgate/scimgate/tokenstore"
)

// StaticTokens authenticates static system tokens (opst-…). A token's
// format and checksum are checked before any I/O; a well-formed token costs
// one store round trip (tokenstore.Store.LookupToken), or none while its
// verified principal is cached. The cache lives at most cacheTTL (≤ 1s in
// configuration), so a revocation, disable or delete reaches every replica
// within that time.
type StaticTokens struct {
	store  tokenstore.Store
	hasher TokenHasher
	cache  *principalCache
}

// NewStaticTokens returns the static-token Authenticator. cacheTTL 0
// disables the cache.
func NewStaticTokens(store tokenstore.Store, hasher TokenHasher, cacheTTL time.Duration) *StaticTokens {
	return &StaticTokens{store: store, hasher: hasher, cache: newPrincipalCache(cacheTTL)}
}

// staticTokenLen is the length of every token NewStaticToken makes.
const staticTokenLen = len(StaticTokenPrefix) + secretBodyLen + checksumLen

// Authenticate implements Authenticator.
func (s *StaticTokens) Authenticate(ctx context.Context, req Request) (*Principal, error) {
	if !strings.HasPrefix(req.Token, StaticTokenPrefix) {
		return nil, ErrNotMine
	}
	// A token of the right length is looked up in the cache first: only
	// tokens that passed CheckSecret are ever cached, under their hash, so
	// a hit needs no second check. Any other length is refused before it
	// is hashed.
	if len(req.Token) != staticTokenLen {
		return nil, Reject(MethodStaticToken, "", "%v", ErrSecretMalformed)
	}
	// The cache key is the token's hash and the source address, built on
	// the stack: a cached principal costs no allocation for it.
	var buf [hashHexLen + 1 + 64]byte
	kb := append(s.hasher.appendHash(buf[:0], req.Token), '|')
	kb = req.RemoteIP.AppendTo(kb)
	if p, ok := s.cache.getBytes(kb, req.Now); ok {
		return p, nil
	}
	if err := CheckSecret(StaticTokenPrefix, req.Token); err != nil {
		return nil, Reject(MethodStaticToken, "", "%v", err)
	}
	key := string(kb)
	hash := key[:hashHexLen]
	tok, client, err := s.store.LookupToken(ctx, hash, req.RemoteIP, req.Now)
	if err != nil {
		return nil, s.refusal(tok, req, err)
	}
	p := &Principal{
		ClientID:     client.ID,
		DirectoryID:  client.Directory(),
		ClientName:   client.Name,
		Method:       MethodStaticToken,
		Scopes:       tok.Scopes,
		CredentialID: tok.ID,
	}
	s.cache.put(key, p, req.Now, tok.ExpiresAt)
	return p, nil
}

// refusal maps a store refusal to a *Rejection with a precise log reason;
// any other error (store unavailable) is returned as is, giving 503.
func (s *StaticTokens) refusal(tok tokenstore.Token, req Request, err error) error {
	reason := ""
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
		return Reject(MethodStaticToken, "", "unknown token")
	case errors.Is(err, tokenstore.ErrTokenRevoked):
		reason = "token revoked"
	case errors.Is(err, tokenstore.ErrTokenExpired):
		reason = "token expired"
	case errors.Is(err, tokenstore.ErrClientDisabled):
		reason = "client disabled"
	case errors.Is(err, tokenstore.ErrAddressNotAllowed):
		reason = fmt.Sprintf("source address %s outside the token's allow-list", req.RemoteIP)
	default:
		return fmt.Errorf("static token lookup: %w", err)
	}
	return Reject(MethodStaticToken, tok.ClientID, "%s (token id %s)", reason, tok.ID)
}
