package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/idpkeys"
	"github.com/scimgate/scimgate/tokenstore"
)

// idpJWT is the wiring of authentication method idp_jwt: the authenticator
// and the per-issuer key cache behind it.
type idpJWT struct {
	authn *auth.IdPJWT
	keys  *idpkeys.Cache
}

// setupIdPJWT builds the IdP JWT authenticator and starts the key cache's
// background refresh, which ends with ctx. The keys of every configured
// issuer are fetched in the background: an IdP that is down at start-up
// only shows as degraded in /readyz.
func setupIdPJWT(ctx context.Context, store tokenstore.Store, cfg config.Config, log *slog.Logger) (*idpJWT, error) {
	keys := idpkeys.New(idpkeys.Options{
		HTTPClient: &http.Client{Timeout: cfg.IdP.HTTPTimeout.Std()},
		Refresh:    cfg.IdP.JWKSRefresh.Std(),
		Cooldown:   cfg.IdP.UnknownKidCooldown.Std(),
		Log:        log,
		// Issuers of deleted clients are dropped on the next refresh.
		Sources: func(ctx context.Context) ([]idpkeys.Source, error) {
			clients, err := store.ListClients(ctx)
			if err != nil {
				return nil, err
			}
			var out []idpkeys.Source
			for _, c := range clients {
				if c.Method == string(auth.MethodIdPJWT) && c.Issuer != "" {
					out = append(out, idpkeys.Source{Issuer: c.Issuer, JWKSURL: c.JWKSURL})
				}
			}
			return out, nil
		},
	})
	var own []string
	for _, iss := range []string{cfg.OAuth.Issuer, cfg.PublicURL} {
		if iss != "" {
			own = append(own, iss)
		}
	}
	tokenTTL := cfg.IdP.TokenCacheTTL.Std()
	if tokenTTL == 0 {
		tokenTTL = -1 // configured 0: no token cache
	}
	a, err := auth.NewIdPJWT(store, keys, auth.IdPJWTOptions{
		Algorithms:     cfg.IdP.AlgorithmList(),
		Leeway:         max(cfg.IdP.Leeway.Std(), 1), // 0 configured means no leeway
		ClientCacheTTL: cfg.Tokens.CacheTTL.Std(),
		TokenCacheTTL:  tokenTTL,
		OwnIssuers:     own,
		MaxTokenBytes:  cfg.IdP.MaxTokenBytes,
		MaxLifetime:    cfg.IdP.MaxTokenLifetime.Std(),
	})
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "idp.algorithms", Err: err}}
	}
	go keys.Run(ctx)
	go func() {
		clients, err := store.ListClients(ctx)
		if err != nil {
			log.Warn("idp keys: cannot list clients to prefetch issuer keys", "err", err.Error())
			return
		}
		for _, c := range clients {
			if c.Method != string(auth.MethodIdPJWT) || c.Issuer == "" {
				continue
			}
			if err := keys.Prefetch(ctx, idpkeys.Source{Issuer: c.Issuer, JWKSURL: c.JWKSURL}); err != nil {
				log.Warn("idp keys: prefetch failed; retried in the background", "issuer", c.Issuer, "err", err.Error())
			}
		}
	}()
	return &idpJWT{authn: a, keys: keys}, nil
}

// readyChecks reports issuers whose keys cannot be fetched as degraded.
func (i *idpJWT) readyChecks() map[string]func(context.Context) error {
	return map[string]func(context.Context) error{"idp_jwks": i.keys.Check}
}
