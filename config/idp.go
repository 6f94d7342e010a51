package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// IdP configures the verification of JWTs issued by customers' identity
// providers (SCIM clients of method idp_jwt).
type IdP struct {
	Algorithms         string   `yaml:"algorithms" doc:"comma-separated JWS algorithms accepted on IdP tokens (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519; never none or HMAC)"`
	Leeway             Duration `yaml:"leeway" doc:"clock skew tolerated on exp, nbf and iat of IdP tokens"`
	JWKSRefresh        Duration `yaml:"jwks_refresh" doc:"background refresh interval of each issuer's JWKS"`
	UnknownKidCooldown Duration `yaml:"unknown_kid_cooldown" doc:"after a JWKS fetch of one issuer that failed or lacked the kid asked for, least time before an unknown kid causes another fetch (a new kid at the IdP is fetched at once otherwise)"`
	HTTPTimeout        Duration `yaml:"http_timeout" doc:"timeout of OIDC discovery and JWKS requests to an IdP"`
	TokenCacheTTL      Duration `yaml:"token_cache_ttl" doc:"longest time a verified IdP token skips signature verification (never past its exp; client state is re-read every tokens.cache_ttl)"`
	MaxTokenBytes      int      `yaml:"max_token_bytes" doc:"longest IdP bearer token accepted; a longer one is refused (401) before any parsing"`
	MaxTokenLifetime   Duration `yaml:"max_token_lifetime" doc:"longest lifetime (exp - iat, or exp - now without iat) of an IdP token; a longer-lived one is refused"`
}

// idpAlgorithms are the algorithms idp.algorithms may name (asymmetric only).
// Ed25519 is EdDSA on curve Ed25519 by its RFC 9864 name.
var idpAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}

func defaultIdP() IdP {
	return IdP{
		Algorithms:         "RS256,PS256,ES256,EdDSA,Ed25519",
		Leeway:             Duration(time.Minute),
		JWKSRefresh:        Duration(15 * time.Minute),
		UnknownKidCooldown: Duration(5 * time.Second),
		HTTPTimeout:        Duration(10 * time.Second),
		TokenCacheTTL:      Duration(5 * time.Minute),
		MaxTokenBytes:      16 << 10,
		MaxTokenLifetime:   Duration(24 * time.Hour),
	}
}

// AlgorithmList splits Algorithms into its entries.
func (p IdP) AlgorithmList() []string {
	var out []string
	for _, a := range strings.Split(p.Algorithms, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (p IdP) validate() error {
	algs := p.AlgorithmList()
	if len(algs) == 0 {
		return &KeyError{Key: "idp.algorithms", Err: fmt.Errorf("name at least one of %s", strings.Join(idpAlgorithms, ", "))}
	}
	for _, a := range algs {
		if !slices.Contains(idpAlgorithms, a) {
			return &KeyError{Key: "idp.algorithms", Err: fmt.Errorf("%q is not one of %s", a, strings.Join(idpAlgorithms, ", "))}
		}
	}
	checks := []struct {
		key string
		err error
	}{
		{"idp.leeway", checkRange(time.Duration(p.Leeway), 0, 10*time.Minute)},
		{"idp.jwks_refresh", checkRange(time.Duration(p.JWKSRefresh), time.Minute, 24*time.Hour)},
		{"idp.unknown_kid_cooldown", checkRange(time.Duration(p.UnknownKidCooldown), time.Second, time.Hour)},
		{"idp.http_timeout", checkRange(time.Duration(p.HTTPTimeout), 100*time.Millisecond, time.Minute)},
		{"idp.token_cache_ttl", checkRange(time.Duration(p.TokenCacheTTL), 0, time.Hour)},
		{"idp.max_token_bytes", checkIntRange(int64(p.MaxTokenBytes), 4<<10, 1<<20)},
		{"idp.max_token_lifetime", checkRange(time.Duration(p.MaxTokenLifetime), time.Minute, 7*24*time.Hour)},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return &KeyError{Key: ch.key, Err: ch.err}
		}
	}
	return nil
}
