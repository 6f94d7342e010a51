package adminapi

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// ClientCredentialsSpec holds the settings of a client_credentials client.
type ClientCredentialsSpec struct {
	// Scopes the client may request at the token endpoint (default scim_v2).
	Scopes []string `json:"scopes,omitempty"`

	// secretHash and rotatedAt are set by CreateClientWithSecret.
	secretHash string
	rotatedAt  time.Time
}

func (s ClientCredentialsSpec) validate(m auth.Method) error {
	if len(s.Scopes) > 0 && m != auth.MethodClientCredentials {
		return fieldErr("scopes", "allowed scopes are a setting of client_credentials clients")
	}
	if len(s.Scopes) > 0 {
		if _, err := checkScopes(s.Scopes); err != nil {
			return err
		}
	}
	return nil
}

func (s ClientCredentialsSpec) apply(c *tokenstore.Client) {
	if c.Method != string(auth.MethodClientCredentials) {
		return
	}
	c.AllowedScopes, _ = checkScopes(s.Scopes)
	c.SecretHash, c.SecretRotatedAt = s.secretHash, s.rotatedAt
}

// ErrNotClientCredentials refuses a secret operation on a client of
// another method.
var ErrNotClientCredentials = fmt.Errorf("client does not use client_credentials: %w", ErrWrongMethod)

// SetSecretCost sets the bcrypt cost of new client secrets (tests lower it;
// 0 means bcrypt's default).
func (s *Service) SetSecretCost(cost int) { s.secretCost = cost }

// CreateClientWithSecret creates a client like CreateClient; for a
// client_credentials client it also returns the client secret, which is
// stored only as a bcrypt hash and shown here once.
func (s *Service) CreateClientWithSecret(ctx context.Context, spec ClientSpec) (tokenstore.Client, string, error) {
	if spec.Method != string(auth.MethodClientCredentials) {
		c, err := s.CreateClient(ctx, spec)
		return c, "", err
	}
	if err := spec.ClientCredentialsSpec.validate(auth.MethodClientCredentials); err != nil {
		return tokenstore.Client{}, "", err
	}
	secret, hash, err := s.newSecret()
	if err != nil {
		return tokenstore.Client{}, "", err
	}
	spec.ClientCredentialsSpec.secretHash, spec.ClientCredentialsSpec.rotatedAt = hash, s.now().UTC()
	c, err := s.CreateClient(ctx, spec)
	if err != nil {
		return tokenstore.Client{}, "", err
	}
	return c, secret, nil
}

// RotateSecret gives the client_credentials client named by ref a new
// secret and returns it (once). The old secret stops working at once;
// access tokens already issued stay valid until they expire or are revoked.
func (s *Service) RotateSecret(ctx context.Context, ref string) (tokenstore.Client, string, error) {
	c, err := s.Client(ctx, ref)
	if err != nil {
		return tokenstore.Client{}, "", err
	}
	if c.Method != string(auth.MethodClientCredentials) {
		return tokenstore.Client{}, "", fmt.Errorf("client %s uses %s: %w", c.Name, c.Method, ErrNotClientCredentials)
	}
	secret, hash, err := s.newSecret()
	if err != nil {
		return tokenstore.Client{}, "", err
	}
	now := s.now().UTC()
	c, err = s.store.UpdateClient(ctx, c.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
		if c.Method != string(auth.MethodClientCredentials) {
			return c, fmt.Errorf("client %s uses %s: %w", c.Name, c.Method, ErrNotClientCredentials)
		}
		c.SecretHash, c.SecretRotatedAt, c.UpdatedAt = hash, now, now
		return c, nil
	})
	if err != nil {
		return tokenstore.Client{}, "", err
	}
	s.record(ctx, audit.SecretRotated, clientTarget(c), []string{"secret"})
	return c, secret, nil
}

func (s *Service) newSecret() (secret, hash string, err error) {
	secret, err = auth.NewClientSecret()
	if err != nil {
		return "", "", err
	}
	hash, err = auth.HashClientSecret(secret, s.secretCost)
	if err != nil {
		return "", "", err
	}
	return secret, hash, nil
}

// ClientSecretJSON is the answer to creating a client_credentials client
// or rotating its secret: the client and, once, its credentials.
type ClientSecretJSON struct {
	ClientJSON
	AllowedScopes []string `json:"allowed_scopes,omitempty"`
	ClientID      string   `json:"client_id"`
	ClientSecret  string   `json:"client_secret"`
}

// ToClientSecretJSON builds the one-time credentials answer.
func ToClientSecretJSON(c tokenstore.Client, secret string) ClientSecretJSON {
	return ClientSecretJSON{ClientJSON: ToClientJSON(c), AllowedScopes: slices.Clone(c.AllowedScopes), ClientID: c.ID, ClientSecret: secret}
}
