package console

import (
	"context"
	"testing"
	"time"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/redistest"
)

// TestRotatedAdminCredentialEndsSessions: a session opened with one admin
// credential is dead once the gateway runs with another (review finding L4).
func TestRotatedAdminCredentialEndsSessions(t *testing.T) {
	r := redistest.Mini(t)
	oldCred, _ := adminapi.NewCredential("opadm-old-credential-123", "")
	newCred, _ := adminapi.NewCredential("opadm-new-credential-456", "")
	mk := func(c adminapi.Credential) *sessionStore {
		return &sessionStore{rdb: r.Client, prefix: r.Prefix, ttl: time.Hour, now: time.Now, credential: c.Fingerprint()}
	}
	ctx := context.Background()
	id, _, err := mk(oldCred).create(ctx, "admin_token")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := mk(oldCred).get(ctx, id); !ok || err != nil {
		t.Fatalf("session under the same credential: %v %v", ok, err)
	}
	if _, ok, err := mk(newCred).get(ctx, id); ok || err != nil {
		t.Fatalf("session survived the credential rotation: %v %v", ok, err)
	}
	if oldCred.Fingerprint() == newCred.Fingerprint() {
		t.Fatal("fingerprints collide")
	}
}
