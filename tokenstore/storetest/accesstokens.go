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
	// The store must be built with a RevocationMargin of 2s.
	t.Run("RevocationLastsUntilAcceptedUntilPlusMargin", func(t *testing.T) {
		s := newStore(t)
		c := mustCreateClient(t, s, "cc")
		now := time.Now()
		if err := s.RevokeAccessToken(ctx, "jti-r", c.ID, now.Add(time.Second), now); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAccessToken(ctx, "jti-r", c.ID, now.Add(time.Second), now); err != nil {
			t.Fatalf("second revocation: %v", err)
		}
		_, err := s.CheckAccessToken(ctx, c.ID, "jti-r")
		wantErr(t, "revoked token", err, tokenstore.ErrTokenRevoked)
		if _, err := s.CheckAccessToken(ctx, c.ID, "jti-other"); err != nil {
			t.Fatalf("other token of the client: %v", err)
		}
		// Past acceptedUntil but within the margin: still revoked.
		sleep(1500 * time.Millisecond)
		_, err = s.CheckAccessToken(ctx, c.ID, "jti-r")
		wantErr(t, "revoked token within the margin", err, tokenstore.ErrTokenRevoked)
		// After acceptedUntil + margin the record goes.
		sleep(2500 * time.Millisecond)
		if _, err := s.CheckAccessToken(ctx, c.ID, "jti-r"); err != nil {
			t.Fatalf("revocation record outlived acceptedUntil + margin: %v", err)
		}
		now = time.Now()
		if err := s.RevokeAccessToken(ctx, "jti-old", c.ID, now.Add(-time.Second), now); err != nil {
			t.Fatalf("revoking a token no longer accepted: %v", err)
		}
	})
	// A token past exp is still accepted within the leeway; acceptedUntil is
	// exp + leeway, and revoking it then must take effect.
	t.Run("RevokeWithinLeewayAfterExpiry", func(t *testing.T) {
		s := newStore(t)
		c := mustCreateClient(t, s, "cc")
		now := time.Now()
		exp := now.Add(-5 * time.Second)
		if err := s.RevokeAccessToken(ctx, "jti-late", c.ID, exp.Add(30*time.Second), now); err != nil {
			t.Fatal(err)
		}
		_, err := s.CheckAccessToken(ctx, c.ID, "jti-late")
		wantErr(t, "token revoked after exp within leeway", err, tokenstore.ErrTokenRevoked)
	})
}
