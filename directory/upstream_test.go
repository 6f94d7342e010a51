package directory

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/sealbox"
)

// TestUpstreamToken: with a key the token is stored sealed (not in plain
// text) and opens only with that key; without one it is kept as is.
func TestUpstreamToken(t *testing.T) {
	box, _ := sealbox.New(bytes.Repeat([]byte{7}, sealbox.KeySize))
	var u Upstream
	u.SetToken(box, "tok-123")
	if u.Token != "" || u.SealedToken == "" || strings.Contains(u.SealedToken, "tok-123") || !u.HasToken() {
		t.Fatalf("sealed: %+v", u)
	}
	if tok, err := u.OpenToken(box); err != nil || tok != "tok-123" {
		t.Fatalf("open: %q %v", tok, err)
	}
	if _, err := u.OpenToken(nil); !errors.Is(err, ErrTokenSealed) {
		t.Fatalf("no key: %v", err)
	}
	other, _ := sealbox.New(bytes.Repeat([]byte{8}, sealbox.KeySize))
	if _, err := u.OpenToken(other); !errors.Is(err, ErrTokenSealed) {
		t.Fatalf("other key: %v", err)
	}
	u.SetToken(nil, "plain")
	if tok, err := u.OpenToken(nil); err != nil || tok != "plain" || u.SealedToken != "" {
		t.Fatalf("plain: %+v %v", u, err)
	}
}

// TestBackendsUpstreamDirectory: the stored resolver refuses an upstream
// directory with a retryable 503 (its requests are forwarded before they
// reach a store) and caches nothing for it.
func TestBackendsUpstreamDirectory(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	reg, err := NewRegistry(rdb, "t:")
	if err != nil {
		t.Fatal(err)
	}
	d, err := reg.Create(context.Background(), Directory{Name: "op", Backend: BackendUpstream, Upstream: &Upstream{URL: "https://op.example.com", Token: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	b := NewBackends(reg, func(Directory) store.Store { return store.NewRedisTagged(rdb, "t:", Tag(d.ID)) }, time.Minute)
	_, err = b.For(context.Background(), d.ID)
	if se, ok := scimerr.As(err); !ok || se.Status != 503 || se.RetryAfter <= 0 {
		t.Fatalf("upstream directory: %v", err)
	}
	if _, err := reg.Update(context.Background(), d.ID, func(d Directory) (Directory, error) {
		d.Backend, d.Upstream = BackendStored, nil
		return d, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.For(context.Background(), d.ID); err != nil {
		t.Fatalf("after switching to stored: %v", err)
	}
}
