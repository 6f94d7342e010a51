// Package oauth is scimgate's OAuth 2.0 authorization server for the
// client credentials grant: the token endpoint (RFC 6749 §4.4, built on
// github.com/go-oauth2/oauth2/v4 with only that grant enabled), RFC 9068
// JWT access tokens signed with asymmetric keys kept in Redis (built with
// github.com/lestrrat-go/jwx/v2), the JWKS document, RFC 8414 metadata,
// RFC 7662 introspection, RFC 7009 revocation, and a Redis-backed limit on
// failed client authentications.
//
// Verification of the tokens on SCIM requests is auth.ClientCredentials;
// this package gives it the public keys (PublicKeys).
//
// # Redis key layout
//
// Signing keys carry the hash tag {oauth} (one Cluster slot, so the key
// scripts may touch several keys):
//
//	<prefix>{oauth}:keys        HASH  kid -> key record JSON (private JWK, alg, created_at)
//	<prefix>{oauth}:retired     HASH  kid -> unix ms the key stopped signing
//	<prefix>{oauth}:current     STRING kid of the signing key
//	<prefix>{oauth}:authfail:<c|i>:<id>:<window>  STRING failed client
//	                                    authentications in a window (expires with it)
//
// Revoked token ids live beside the clients in tokenstore
// (<prefix>{auth}:jti-revoked:<jti>), so the request-path check of a token
// and its client is one script on one slot.
package oauth
