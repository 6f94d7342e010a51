package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/scimgate/scimgate/oauth"
	"github.com/scimgate/scimgate/redistest"
)

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	m, err := jws.Parse([]byte(tok))
	if err != nil {
		t.Fatal(err)
	}
	return m.Signatures()[0].ProtectedHeaders().KeyID()
}

func (f *fixture) jwksKids() []string {
	f.t.Helper()
	resp, err := http.Get(f.iss + oauth.PathJWKS)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		f.t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if _, private := k["d"]; private {
			f.t.Fatal("JWKS publishes a private key")
		}
		kids = append(kids, k["kid"].(string))
	}
	return kids
}

// TestKeyRotation: tokens signed before a rotation keep working; new ones
// use the new kid; the JWKS lists both until the old key's retention ends.
func TestKeyRotation(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r, fixtureOpts{})
		id, secret := f.newClient("rot")
		before := f.token(id, secret)
		oldKid := kidOf(t, before)
		if kids := f.jwksKids(); len(kids) != 1 || kids[0] != oldKid {
			t.Fatalf("JWKS before rotation: %v, want [%s]", kids, oldKid)
		}
		now := time.Now()
		k, err := f.keys.Rotate(context.Background(), now)
		if err != nil {
			t.Fatal(err)
		}
		after := f.token(id, secret)
		if kidOf(t, after) != k.ID || k.ID == oldKid {
			t.Fatalf("new token kid %s, want the new key %s", kidOf(t, after), k.ID)
		}
		wantStatus(t, "old token after rotation", f.get("/scim/v2/Users", before), http.StatusOK)
		// The verifier learns the new kid on first sight (after its cooldown).
		eventually(t, time.Second, "new token accepted", func() bool {
			return f.get("/scim/v2/Users", after).StatusCode == http.StatusOK
		})
		kids := f.jwksKids()
		if len(kids) != 2 {
			t.Fatalf("JWKS after rotation: %v", kids)
		}
		// Once every token of the old key has expired it is unpublished and pruned.
		later := now.Add(f.ttl + 31*time.Second)
		pub, err := f.keys.Published(context.Background(), later)
		if err != nil || len(pub) != 1 || pub[0].ID != k.ID {
			t.Fatalf("published after retention: %v, %v", pub, err)
		}
		n, err := f.keys.Prune(context.Background(), later)
		if err != nil || n != 1 {
			t.Fatalf("prune: %d, %v", n, err)
		}
		all, _ := f.keys.List(context.Background())
		if len(all) != 1 || !all[0].Current() {
			t.Fatalf("keys after prune: %+v", all)
		}
	})
}

// TestFirstKeyCreatedOnce: concurrent first uses on many "replicas" agree
// on one signing key.
func TestFirstKeyCreatedOnce(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		var wg sync.WaitGroup
		kids := make([]string, 8)
		for i := range kids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ks, err := oauth.NewKeyStore(r.Client, oauth.KeyStoreOptions{Prefix: r.Prefix, Retention: time.Hour})
				if err != nil {
					t.Error(err)
					return
				}
				k, err := ks.Current(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				kids[i] = k.ID
			}()
		}
		wg.Wait()
		for _, k := range kids {
			if k != kids[0] || k == "" {
				t.Fatalf("replicas disagree on the first key: %v", kids)
			}
		}
		ks, _ := oauth.NewKeyStore(r.Client, oauth.KeyStoreOptions{Prefix: r.Prefix, Retention: time.Hour})
		if all, _ := ks.List(context.Background()); len(all) != 1 {
			t.Fatalf("%d keys stored, want 1", len(all))
		}
	})
}

// TestRS256 signs with RS256 when configured.
func TestRS256(t *testing.T) {
	f := newFixture(t, redistest.Mini(t), fixtureOpts{alg: oauth.AlgRS256})
	id, secret := f.newClient("rsa")
	tok := f.token(id, secret)
	m, _ := jws.Parse([]byte(tok))
	if alg := m.Signatures()[0].ProtectedHeaders().Algorithm().String(); alg != "RS256" {
		t.Fatalf("alg %s", alg)
	}
	wantStatus(t, "RS256 token", f.get("/scim/v2/Users", tok), http.StatusOK)
}
