package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/oauth"
	"github.com/scimgate/scimgate/redistest"
)

// TestSigningKeysEncryptedAtRest: with a key-encryption key, new keys are
// stored sealed (no private JWK member in Redis); keys stored in plain
// text before still load and Check seals them; another or no
// key-encryption key cannot open them and says so.
func TestSigningKeysEncryptedAtRest(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		kek := bytes.Repeat([]byte{7}, 32)
		open := func(key []byte) *oauth.KeyStore {
			ks, err := oauth.NewKeyStore(r.Client, oauth.KeyStoreOptions{Prefix: r.Prefix, Retention: time.Hour, EncryptionKey: key})
			if err != nil {
				t.Fatal(err)
			}
			return ks
		}
		stored := func() map[string]string {
			m, err := r.Client.HGetAll(ctx, r.Prefix+"{oauth}:keys").Result()
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		plainKey, err := open(nil).Current(ctx) // from before encryption
		if err != nil {
			t.Fatal(err)
		}
		if rec := stored()[plainKey.ID]; !strings.Contains(rec, `"d":`) {
			t.Fatalf("plain record lacks the private member: %s", rec)
		}

		sealed := open(kek)
		k, err := sealed.Current(ctx)
		if err != nil || k.ID != plainKey.ID {
			t.Fatalf("plain key under a key-encryption key: %v %v", k.ID, err)
		}
		if n, err := sealed.Check(ctx); err != nil || n != 1 {
			t.Fatalf("Check sealed %d keys, err %v; want 1", n, err)
		}
		if n, _ := sealed.Check(ctx); n != 0 {
			t.Fatalf("second Check sealed %d again", n)
		}
		rotated, err := sealed.Rotate(ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		recs := stored()
		if len(recs) != 2 {
			t.Fatalf("%d records", len(recs))
		}
		for kid, rec := range recs {
			if strings.Contains(rec, `"d":`) || strings.Contains(rec, `"jwk"`) || !strings.Contains(rec, `"sealed":`) {
				t.Fatalf("record %s not sealed: %s", kid, rec)
			}
		}
		// A fresh store (another replica) with the same key opens both.
		all, err := open(kek).List(ctx)
		if err != nil || len(all) != 2 || all[0].ID != rotated.ID || all[1].ID != plainKey.ID {
			t.Fatalf("list: %v %v", all, err)
		}
		for name, key := range map[string][]byte{"wrong key": bytes.Repeat([]byte{8}, 32), "no key": nil} {
			ks := open(key)
			if _, err := ks.Check(ctx); !errors.Is(err, oauth.ErrKeyDecrypt) {
				t.Errorf("%s: Check = %v, want ErrKeyDecrypt", name, err)
			}
			if _, err := ks.Current(ctx); !errors.Is(err, oauth.ErrKeyDecrypt) {
				t.Errorf("%s: Current = %v, want ErrKeyDecrypt", name, err)
			}
		}
		if _, err := oauth.NewKeyStore(r.Client, oauth.KeyStoreOptions{Prefix: r.Prefix, Retention: time.Hour, EncryptionKey: []byte("short")}); err == nil {
			t.Fatal("a 5-byte key-encryption key was accepted")
		}
	})
}
