package oauth

import (
	"context"
	"fmt"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/scimgate/scimgate/auth"
)

// accessGenerate is the oauth2.AccessGenerate behind the token endpoint: an
// RFC 9068 JWT (typ at+jwt; iss, sub = client_id, aud, client_id, scope,
// iat, exp, jti) signed with the current key. The library's own JWT
// generator omits iss, iat, jti, client_id, scope and typ.
type accessGenerate struct {
	issuer   string
	audience string
	keys     *KeyStore
}

var _ oauth2.AccessGenerate = accessGenerate{}

// Token implements oauth2.AccessGenerate. No refresh token is ever made.
func (g accessGenerate) Token(ctx context.Context, data *oauth2.GenerateBasic, _ bool) (string, string, error) {
	key, err := g.keys.Current(ctx)
	if err != nil {
		return "", "", err
	}
	ti := data.TokenInfo
	iat := ti.GetAccessCreateAt().UTC()
	tok, err := jwt.NewBuilder().
		Issuer(g.issuer).
		Subject(ti.GetClientID()).
		Audience([]string{g.audience}).
		IssuedAt(iat).
		Expiration(iat.Add(ti.GetAccessExpiresIn())).
		JwtID(uuid.NewString()).
		Claim("client_id", ti.GetClientID()).
		Claim("scope", ti.GetScope()).
		Build()
	if err != nil {
		return "", "", fmt.Errorf("build access token: %w", err)
	}
	hdr := jws.NewHeaders()
	for name, v := range map[string]any{jws.TypeKey: auth.AccessTokenType, jws.KeyIDKey: key.ID} {
		if err := hdr.Set(name, v); err != nil {
			return "", "", fmt.Errorf("set header %s: %w", name, err)
		}
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(key.Alg, key.Private, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", "", fmt.Errorf("sign access token: %w", err)
	}
	return string(signed), "", nil
}
