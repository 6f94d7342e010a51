package store_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// BenchmarkGetManyPage reads pages of 100 typical Entra users by id (with
// their groups, as a list page does) from 10,000 on the real Redis, the
// documents placed as the gateway places them under the server's
// hash-max-listpack-value: Redis CPU per page (redis-cpu-µs/op) and the
// gateway's allocations.
//
//	./scripts/test.sh -run '^$' -bench GetManyPage -benchmem ./scimapi/store/
func BenchmarkGetManyPage(b *testing.B) {
	r := redistest.Real(b)
	ctx := context.Background()
	var lv store.ListpackValue
	if _, err := lv.Read(ctx, r.Client); err != nil {
		b.Fatal(err)
	}
	st := store.NewRedis(r.Client, r.Prefix).Listpack(&lv)
	const n = 10000
	ids := createEntraUsers(b, st, n)
	rng := rand.New(rand.NewPCG(1, 2))
	page := make([]string, store.ReadBatch)
	ro := store.ReadOptions{Groups: true, RawOnly: true}
	b.ReportAllocs()
	cpu0 := redistest.CPU(b, r.Client)
	for b.Loop() {
		for i := range page {
			page[i] = ids[rng.IntN(n)]
		}
		rs, err := st.GetMany(ctx, store.TypeUser, page, ro)
		if err != nil || len(rs) != len(page) {
			b.Fatalf("%d of %d read: %v", len(rs), len(page), err)
		}
	}
	b.ReportMetric(float64((redistest.CPU(b, r.Client)-cpu0).Microseconds())/float64(b.N), "redis-cpu-µs/op")
}
