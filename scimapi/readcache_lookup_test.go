package scimapi_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestFilterLookupAfterRenameElsewhere: a replica reading through a read
// cache that has not yet received the invalidation of a rename made
// through another replica still finds the user by its new name (the index
// entry is read fresh, the cached copy holds the old name and does not
// match, so the lookup is read again in one step), and not by its old one.
// The cache here drains pushed invalidations only once an hour, so it
// stays stale for the whole test.
func TestFilterLookupAfterRenameElsewhere(t *testing.T) {
	r := redistest.Real(t)
	o := r.Client.(*redis.Client).Options()
	rc := store.NewReadCache(&redis.Options{Addr: o.Addr, Username: o.Username, Password: o.Password, DB: o.DB},
		store.ReadCacheConfig{DrainInterval: time.Hour, HealthInterval: time.Hour})
	t.Cleanup(func() { _ = rc.Close() })
	for start := time.Now(); !rc.Serving(); time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("read cache not serving")
		}
	}
	cached := store.NewRedis(r.Client, r.Prefix).ReadCache(rc)
	reader := newEnvStore(t, r, cached, func(*scimapi.Options) {})
	other := redis.NewClient(o)
	t.Cleanup(func() { _ = other.Close() })
	writer := newEnvStore(t, r, store.NewRedis(other, r.Prefix), func(*scimapi.Options) {})

	id := str(writer.must(writer.do("POST", "/scim/v2/Users", entraUser("alice@example.com", "e-1")), 201).body["id"])
	lookup := func(name string) []any {
		t.Helper()
		res := reader.must(reader.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "`+name+`"`), nil), 200)
		rs, _ := res.body["Resources"].([]any)
		return rs
	}
	for range 2 { // the second lookup is served from the cache
		if rs := lookup("alice@example.com"); len(rs) != 1 {
			t.Fatalf("lookup before the rename: %v", rs)
		}
	}
	writer.must(writer.do("PATCH", "/scim/v2/Users/"+id, map[string]any{
		"schemas":    []any{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": "userName", "value": "bob@example.com"}},
	}), 200)
	if u, err := cached.Get(context.Background(), store.TypeUser, id, store.ReadOptions{Groups: true}); err != nil || u.Attrs["userName"] != "alice@example.com" {
		t.Fatalf("the cache was meant to be stale here: %v %v", u, err)
	}
	rs := lookup("bob@example.com")
	if len(rs) != 1 || get(rs[0].(map[string]any), "userName") != "bob@example.com" {
		t.Fatalf("lookup of the new name: %v", rs)
	}
	if rs := lookup("alice@example.com"); len(rs) != 0 {
		t.Fatalf("lookup of the old name: %v", rs)
	}
}
