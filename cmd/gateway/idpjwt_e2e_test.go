package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scimgate/scimgate/config"
)

// TestIdPJWTEndToEndZitadelOP runs scimgate's idp_jwt mode against a real
// OpenID provider written by someone else: the example OP of
// github.com/zitadel/oidc/v3 (exampleop.SetupServer with its in-memory
// storage), served on loopback in this process. Two service accounts get
// client-credentials JWTs from it; scimgate (the whole serve wiring, keys
// found through the OP's discovery document) trusts the first one's
// subject only. There is nothing to install, so this never skips.
func TestIdPJWTEndToEndZitadelOP(t *testing.T) {
	const audience = "scimgate"
	idp := startZitadelOP(t, audience, map[string]string{
		"scim-provisioner": "secret-a",
		"other-service":    "secret-b",
	})

	m := miniredis.RunT(t)
	c := cli{t: t, url: "redis://" + m.Addr()}
	c.ok("client", "create", "--name", "zitadel-sa", "--auth", "idp_jwt", "--issuer", idp.issuer,
		"--subject", "scim-provisioner", "--audience", audience) // no --jwks-url: discovery
	cfg := config.Default()
	cfg.Redis.URL = c.url
	base, logs := startGateway(t, cfg)

	tokA := idp.token(t, "scim-provisioner", "secret-a", "openid", "scim_v2")
	claims := jwtClaims(t, tokA)
	if claims["iss"] != idp.issuer || claims["sub"] != "scim-provisioner" || claims["scope"] != "openid scim_v2" ||
		!strings.Contains(string(mustJSON(t, claims["aud"])), `"`+audience+`"`) {
		t.Fatalf("OP issued unexpected claims: %v", claims)
	}
	if code, _, body := scimGet(t, base, tokA); code != http.StatusOK || !strings.Contains(body, "ListResponse") {
		t.Fatalf("client A's JWT: %d %s\n%s", code, body, logs)
	}

	// Another subject of the same issuer, same aud and scope: refused.
	tokB := idp.token(t, "other-service", "secret-b", "scim_v2")
	if sub := jwtClaims(t, tokB)["sub"]; sub != "other-service" {
		t.Fatalf("client B's sub %v", sub)
	}
	code, challenge, body := scimGet(t, base, tokB)
	if code != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer ") ||
		!strings.Contains(challenge, `error="invalid_token"`) {
		t.Fatalf("client B's JWT: %d %q %s", code, challenge, body)
	}
	if !strings.Contains(logs.String(), `sub \"other-service\" is not the subject of any client`) {
		t.Fatalf("refusal reason not logged:\n%s", logs)
	}
	if strings.Contains(logs.String(), tokB) || strings.Contains(logs.String(), tokA) {
		t.Fatal("a token was logged")
	}

	// Client A without scim_v2 in its token: authenticated, not authorized.
	noScope := idp.token(t, "scim-provisioner", "secret-a", "openid")
	if code, challenge, _ := scimGet(t, base, noScope); code != http.StatusForbidden || !strings.Contains(challenge, "insufficient_scope") {
		t.Fatalf("client A's JWT without scim_v2: %d %q", code, challenge)
	}
	if got := status(t, base+"/readyz"); got != http.StatusOK {
		t.Fatalf("readyz %d with the OP up", got)
	}
}

// zitadelOP is a running zitadel example OP.
type zitadelOP struct {
	issuer   string
	tokenURL string
}

// startZitadelOP serves zitadel's example OP on 127.0.0.1 with the given
// service accounts (client id → secret). It fails the test when the OP
// cannot be started.
func startZitadelOP(t *testing.T, audience string, accounts map[string]string) zitadelOP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("OP listener: %v", err)
	}
	issuer := "http://" + ln.Addr().String()
	st := &serviceAccountStorage{
		Storage:  storage.NewStorage(storage.NewUserStore(issuer)),
		accounts: accounts,
		audience: audience,
	}
	// A nil logger keeps the process-wide slog default as it is.
	srv := &http.Server{Handler: exampleop.SetupServer(issuer, st, nil, false), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("OP: %v", err)
		}
	})
	// The discovery document must name the issuer and a token endpoint.
	resp, err := http.Get(issuer + oidc.DiscoveryEndpoint)
	if err != nil {
		t.Fatalf("OP discovery: %v", err)
	}
	defer resp.Body.Close()
	var doc oidc.DiscoveryConfiguration
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("OP discovery: HTTP %d, %v", resp.StatusCode, err)
	}
	if doc.Issuer != issuer || doc.TokenEndpoint == "" || doc.JwksURI == "" {
		t.Fatalf("OP discovery document: %+v", doc)
	}
	return zitadelOP{issuer: issuer, tokenURL: doc.TokenEndpoint}
}

// token gets an access token by the client-credentials grant.
func (o zitadelOP) token(t *testing.T, id, secret string, scopes ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: o.tokenURL, Scopes: scopes}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials for %s: %v", id, err)
	}
	return tok.AccessToken
}

// serviceAccountStorage is the example OP's storage with service accounts
// configured the way scimgate expects an IdP to be (as Keycloak does with
// an audience mapper): client-credentials access tokens are JWTs, their
// sub is the account's client id, their aud includes scimgate's audience
// and their scope claim lists the granted scopes.
type serviceAccountStorage struct {
	*storage.Storage
	accounts map[string]string // client id → secret
	audience string
}

func (s *serviceAccountStorage) ClientCredentials(_ context.Context, id, secret string) (op.Client, error) {
	if want, ok := s.accounts[id]; !ok || want != secret {
		return nil, errors.New("wrong service account or secret")
	}
	return serviceAccount{storage.WebClient(id, secret)}, nil
}

func (s *serviceAccountStorage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	if _, ok := s.accounts[id]; !ok {
		return nil, errors.New("wrong service account")
	}
	return &oidc.JWTTokenRequest{Subject: id, Audience: []string{id, s.audience}, Scopes: scopes}, nil
}

// GetPrivateClaimsFromScopes adds the scope claim to JWT access tokens
// (the library leaves it out).
func (s *serviceAccountStorage) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	claims, err := s.Storage.GetPrivateClaimsFromScopes(ctx, userID, clientID, scopes)
	if err != nil {
		return nil, err
	}
	if claims == nil {
		claims = map[string]any{}
	}
	claims["scope"] = strings.Join(scopes, " ")
	return claims, nil
}

// serviceAccount is a confidential client of the example storage allowed
// the client-credentials grant, with JWT access tokens.
type serviceAccount struct{ op.Client }

func (serviceAccount) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}
func (serviceAccount) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

// scimGet calls GET /scim/v2/Users with token and returns the status, the
// WWW-Authenticate header and the body.
func scimGet(t *testing.T, base, token string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)
}

// jwtClaims decodes a JWT's payload without verifying it.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
