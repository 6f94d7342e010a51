package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/scimgate/scimgate/tokenstore"
)

// AccessTokenStore is a Store that also keeps OAuth access-token state.
type AccessTokenStore interface {
	tokenstore.Store
	tokenstore.AccessTokenState
}

// RunAccessTokens runs the conformance tests of tokenstore.AccessTokenState.
// sleep waits d of the backend's time (real time, or miniredis FastForward).
func RunAccessTokens(t *testing.T, newStore func(t *testing.T) AccessTokenStore, sleep func(d time.Duration)) {
	ctx := context.Background()
	t.Run("CheckStates", func(t *testing.T) {
		s := newStore(t)
		c := mustCreateClient(t, s, "cc")
		got, err := s.CheckAccessToken(ctx, c.ID, "jti-1")
		if err != nil || got.ID != c.ID || got.Name != "cc" {
			t.Fatalf("active token: got %+v, %v", got, err)
		}
		_, err = s.CheckAccessToken(ctx, "no-such-client", "jti-1")
		wantErr(t, "unknown client", err, tokenstore.ErrNotFound)

		if _, err := s.UpdateClient(ctx, c.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
			c.Enabled = false
			return c, nil
		}); err != nil {
			t.Fatal(err)
		}
		_, err = s.CheckAccessToken(ctx, c.ID, "jti-1")
		wantErr(t, "disabled client", err, tokenstore.ErrClientDisabled)

		if err := s.DeleteClient(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.CheckAccessToken(ctx, c.ID, "jti-1")
		wantErr(t, "deleted client", err, tokenstore.ErrNotFound)
	})
	t.Run("RevocationLastsUntilExpiry", func(t *testing.T) {
		s := newStore(t)
		c := mustCreateClient(t, s, "cc")
		now := time.Now()
		if err := s.RevokeAccessToken(ctx, "jti-r", c.ID, now.Add(1500*time.Millisecond), now); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAccessToken(ctx, "jti-r", c.ID, now.Add(1500*time.Millisecond), now); err != nil {
			t.Fatalf("second revocation: %v", err)
		}
		_, err := s.CheckAccessToken(ctx, c.ID, "jti-r")
		wantErr(t, "revoked token", err, tokenstore.ErrTokenRevoked)
		if _, err := s.CheckAccessToken(ctx, c.ID, "jti-other"); err != nil {
			t.Fatalf("other token of the client: %v", err)
		}
		// Expired tokens are refused by their signature's exp; the record goes.
		sleep(2 * time.Second)
		if _, err := s.CheckAccessToken(ctx, c.ID, "jti-r"); err != nil {
			t.Fatalf("revocation record outlived the token: %v", err)
		}
		if err := s.RevokeAccessToken(ctx, "jti-old", c.ID, now.Add(-time.Second), now); err != nil {
			t.Fatalf("revoking an expired token: %v", err)
		}
	})
}
