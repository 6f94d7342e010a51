package tokenstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// AccessTokenState is the request-path state of the OAuth access tokens
// scimgate issues. The tokens are self-contained JWTs, so the store holds
// only what a signature cannot express: revocations (by jti) and the state
// of the client they were issued to.
//
// Redis keys (same {auth} slot as the clients):
//
//	<prefix>{auth}:jti-revoked:<jti>   STRING client id; expires a margin after
//	                                   the last instant the token is accepted
type AccessTokenState interface {
	// RevokeAccessToken records jti (issued to clientID) as revoked until
	// acceptedUntil, the last instant any verifier accepts the token: its
	// exp PLUS the clock-skew leeway verification allows (not exp alone, or
	// a revoked token would work again between exp and exp + leeway). The
	// record is kept a margin longer (Options.RevocationMargin) for clock
	// differences between replicas, then disappears by itself. Revoking a
	// token past acceptedUntil is a no-op. Revoking twice is harmless.
	RevokeAccessToken(ctx context.Context, jti, clientID string, acceptedUntil, now time.Time) error
	// CheckAccessToken is the request path: in ONE round trip it checks
	// that jti is not revoked and that client clientID exists and is
	// enabled, and returns the client. It returns ErrTokenRevoked,
	// ErrNotFound (client deleted) or ErrClientDisabled; other errors mean
	// the store is unavailable.
	CheckAccessToken(ctx context.Context, clientID, jti string) (Client, error)
}

var _ AccessTokenState = (*Redis)(nil)

func (r *Redis) revokedJTIKey(jti string) string { return r.base + "jti-revoked:" + jti }

// checkAccessTokenScript: KEYS[1] jti-revoked:<jti>, KEYS[2] client:<id>.
// Returns {code[, client data]}; code is ok, revoked, unknown or disabled.
var checkAccessTokenScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return {'revoked'} end
local c = redis.call('HMGET', KEYS[2], 'data', 'enabled')
if not c[1] then return {'unknown'} end
if c[2] ~= '1' then return {'disabled', c[1]} end
return {'ok', c[1]}
`)

// RevokeAccessToken implements AccessTokenState.
func (r *Redis) RevokeAccessToken(ctx context.Context, jti, clientID string, acceptedUntil, now time.Time) error {
	if jti == "" {
		return errors.New("tokenstore: jti is required")
	}
	if now.After(acceptedUntil) {
		return nil // no verifier accepts the token any more
	}
	ttl := acceptedUntil.Sub(now) + r.revokeMargin
	if err := r.rdb.Set(ctx, r.revokedJTIKey(jti), clientID, ttl).Err(); err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	return nil
}

// CheckAccessToken implements AccessTokenState.
func (r *Redis) CheckAccessToken(ctx context.Context, clientID, jti string) (Client, error) {
	if !validClientID(clientID) || jti == "" {
		return Client{}, ErrNotFound
	}
	res, err := checkAccessTokenScript.Run(ctx, r.rdb, []string{r.revokedJTIKey(jti), r.clientKey(clientID)}).StringSlice()
	if err != nil {
		return Client{}, fmt.Errorf("check access token: %w", err)
	}
	if len(res) == 0 {
		return Client{}, errors.New("check access token: empty script reply")
	}
	switch res[0] {
	case "revoked":
		return Client{}, ErrTokenRevoked
	case "unknown":
		return Client{}, fmt.Errorf("client %s: %w", clientID, ErrNotFound)
	}
	if len(res) != 2 {
		return Client{}, fmt.Errorf("check access token: unexpected reply of %d values", len(res))
	}
	var c Client
	if err := json.Unmarshal([]byte(res[1]), &c); err != nil {
		return Client{}, fmt.Errorf("decode client: %w", err)
	}
	if res[0] == "disabled" {
		return c, ErrClientDisabled
	}
	return c, nil
}
