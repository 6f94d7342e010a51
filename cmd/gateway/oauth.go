package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/oauth"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/tokenstore"
)

// tokenLeeway is the clock skew accepted on access-token exp and iat, and
// the extra time retired signing keys stay published.
const tokenLeeway = 30 * time.Second

// newKeyStore opens the signing keys as configured.
func newKeyStore(rdb redis.UniversalClient, cfg config.Config) (*oauth.KeyStore, error) {
	ks, err := oauth.NewKeyStore(rdb, oauth.KeyStoreOptions{
		Prefix:        cfg.Redis.Prefix,
		Alg:           cfg.OAuth.SigningAlg,
		Retention:     cfg.OAuth.TokenTTL.Std() + tokenLeeway,
		EncryptionKey: cfg.OAuth.KeyEncryptionKey(),
	})
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "oauth.signing_alg", Err: err}}
	}
	return ks, nil
}

// checkKeys opens every stored signing key, so a wrong
// oauth.key_encryption_key stops start-up, and encrypts keys stored in
// plain text when one is set. Redis being unreachable does not stop
// start-up (the gateway starts unready and recovers); the keys are then
// checked when first used.
func checkKeys(ctx context.Context, keys *oauth.KeyStore, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := keys.Check(ctx)
	switch {
	case errors.Is(err, oauth.ErrKeyDecrypt):
		return usageError{&config.KeyError{Key: "oauth.key_encryption_key", Err: err}}
	case err != nil:
		log.Warn("signing keys not checked at start", "err", err.Error())
	case n > 0:
		log.Info("signing keys stored in plain text are now encrypted with oauth.key_encryption_key", "keys", n)
	}
	return nil
}

// oauthSetup is the client-credentials mode: the SCIM authenticator and
// the authorization server's endpoints.
type oauthSetup struct {
	authn  *auth.ClientCredentials
	server *oauth.Server
}

// setupOAuth wires the authorization server on rdb. Tokens carry
// iss = cfg.Issuer() and aud = iss + "/scim/v2". Failed client
// authentications are aggregated into failures.
func setupOAuth(ctx context.Context, rdb redis.UniversalClient, store *tokenstore.Redis, failures *audit.Failures, cfg config.Config, log *slog.Logger) (*oauthSetup, error) {
	keys, err := newKeyStore(rdb, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkKeys(ctx, keys, log); err != nil {
		return nil, err
	}
	iss := cfg.Issuer()
	authn, err := auth.NewClientCredentials(auth.ClientCredentialsOptions{
		Issuer:   iss,
		Audience: iss + "/scim/v2",
		Keys:     oauth.NewPublicKeys(keys, 0, time.Now),
		State:    store,
		CacheTTL: cfg.Tokens.CacheTTL.Std(),
		Leeway:   tokenLeeway,
		// Tokens living longer than the configured TTL are refused.
		MaxLifetime: cfg.OAuth.TokenTTL.Std(),
	})
	if err != nil {
		return nil, fmt.Errorf("client credentials: %w", err)
	}
	limiter, err := oauth.NewFailureLimiter(rdb, cfg.Redis.Prefix, cfg.OAuth.MaxAuthFailures, cfg.OAuth.FailureWindow.Std())
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "oauth.max_auth_failures", Err: err}}
	}
	tokenRate, err := oauth.NewTokenRateLimiter(rdb, cfg.Redis.Prefix, cfg.OAuth.TokenRate, cfg.RateLimit.OnRedisError == "deny")
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "oauth.token_rate", Err: err}}
	}
	srv, err := oauth.NewServer(oauth.Options{
		Issuer:   iss,
		Audience: iss + "/scim/v2",
		TokenTTL: cfg.OAuth.TokenTTL.Std(),
		Clients:  store,
		State:    store,
		Keys:     keys,
		Verifier: authn,
		Limiter:  limiter,
		// Successful token requests per client (after authentication).
		TokenRate: tokenRate,
		// Failed client authentications go to the AUTH_FAILED aggregates,
		// with the SCIM and admin ones, and are charged per source network.
		Failures:         failures,
		Grouping:         ratelimit.Grouping{IPv6Bits: cfg.RateLimit.IPv6Prefix},
		DenyOnRedisError: cfg.RateLimit.OnRedisError == "deny",
		Log:              log,
		Now:              time.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("oauth server: %w", err)
	}
	if cfg.OAuth.Issuer == "" && cfg.PublicURL == "" {
		log.Warn("no oauth.issuer or public_url configured: access tokens name the issuer " + iss)
	}
	return &oauthSetup{authn: authn, server: srv}, nil
}
