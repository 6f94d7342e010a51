package store_test

import (
	"context"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// BenchmarkCachedGet reads typical Entra users by id (with their groups,
// as GET /Users/{id} does) through a warm read cache on the real Redis,
// rotating over 10,000 of them: the cost of a cache hit in the gateway.
//
//	./scripts/test.sh -run '^$' -bench CachedGet -benchmem ./scimapi/store/
func BenchmarkCachedGet(b *testing.B) {
	r := redistest.Real(b)
	ctx := context.Background()
	st := store.NewRedis(r.Client, r.Prefix).ReadCache(newReadCache(b, r, store.ReadCacheConfig{}))
	const n = 10000
	ids := createEntraUsers(b, st, n)
	ro := store.ReadOptions{Groups: true, RawOnly: true}
	for _, id := range ids {
		if _, err := st.Get(ctx, store.TypeUser, id, ro); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := st.Get(ctx, store.TypeUser, ids[i%n], ro); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// createEntraUsers creates n typical Entra users (entraUser) through st
// and returns their ids.
func createEntraUsers(b *testing.B, st *store.Redis, n int) []string {
	b.Helper()
	ids := make([]string, n)
	for i := range ids {
		u, err := st.Create(context.Background(), store.TypeUser, entraUser(i), nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = u.ID
	}
	return ids
}
