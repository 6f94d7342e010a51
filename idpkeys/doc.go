// Package idpkeys keeps the signing keys of the identity providers whose
// JWTs scimgate trusts (auth method idp_jwt).
//
// Each Source (an issuer and, optionally, an explicit JWKS URL) gets one
// entry, built lazily on first use so an IdP that is down at start-up
// breaks nothing. The JWKS URL comes from the issuer's OIDC discovery
// document (github.com/coreos/go-oidc/v3, which also insists that the
// document names exactly that issuer) unless given; the key set is fetched
// and parsed with github.com/lestrrat-go/jwx/v2.
//
// Keys are refreshed in the background every Options.Refresh. A token whose
// kid is not in the cached set triggers at most one fetch per Source per
// Options.Cooldown, however many such tokens arrive, so forged kids cannot
// turn into a request storm against the IdP; failed fetches are retried at
// the same pace. While an IdP is unreachable the cached keys keep working,
// and Check reports the Source as degraded for /readyz.
package idpkeys
