package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestLookupGetAndScanDocs: LookupGet answers like Lookup then GetMany (in
// one round trip, for unique indexes only), RawOnly reads leave Attrs to
// DecodeAttrs, and ScanDocs visits every document in id order in steps.
func TestLookupGetAndScanDocs(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		var ids []string
		for i := range 5 {
			u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": fmt.Sprintf("Raw%d", i), "externalId": "x", "title": fmt.Sprint(i)}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		g, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "g"}, []store.Member{{Value: ids[2]}}, nil)
		if err != nil {
			t.Fatal(err)
		}

		want, err := st.Get(ctx, store.TypeUser, ids[2], store.ReadOptions{Groups: true})
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := st.LookupGet(ctx, store.TypeUser, "userName", "RAW2", store.ReadOptions{Groups: true})
		if err != nil || !ok || len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("LookupGet = %+v %v %v, want %+v", got, ok, err, want)
		}
		if len(want.Groups) != 1 || want.Groups[0].Value != g.ID || want.Doc == "" {
			t.Fatalf("read: %+v", want)
		}
		// Redis without the script (restarted, SCRIPT FLUSH): EVAL instead.
		if err := r.Client.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := st.LookupGet(ctx, store.TypeUser, "userName", "RAW2", store.ReadOptions{Groups: true}); err != nil || !ok || len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("LookupGet after SCRIPT FLUSH = %+v %v %v, want %+v", got, ok, err, want)
		}
		if got, ok, err := st.LookupGet(ctx, store.TypeUser, "userName", "absent", store.ReadOptions{}); err != nil || !ok || len(got) != 0 {
			t.Fatalf("LookupGet absent = %v %v %v", got, ok, err)
		}
		if _, ok, _ := st.LookupGet(ctx, store.TypeUser, "externalId", "x", store.ReadOptions{}); ok {
			t.Fatal("LookupGet served a non-unique index")
		}
		if _, ok, _ := st.LookupGet(ctx, store.TypeGroup, "displayName", "g", store.ReadOptions{}); ok {
			t.Fatal("LookupGet served Group displayName, a non-unique index")
		}

		raw, err := st.Get(ctx, store.TypeUser, ids[2], store.ReadOptions{Groups: true, RawOnly: true})
		if err != nil || raw.Attrs != nil || raw.Doc != want.Doc {
			t.Fatalf("RawOnly read: %+v %v", raw, err)
		}
		if err := raw.DecodeAttrs(); err != nil || !reflect.DeepEqual(raw, want) {
			t.Fatalf("DecodeAttrs: %+v %v, want %+v", raw, err, want)
		}

		var seen []string
		steps, scanned := 0, 0
		err = st.ScanDocs(ctx, store.TypeUser, 2, nil, func(n int, rs []*store.Resource) (bool, error) {
			steps++
			scanned += n
			for _, res := range rs {
				if res.Type != store.TypeUser || res.Attrs != nil {
					t.Fatalf("ScanDocs gave %+v", res)
				}
				seen = append(seen, res.ID)
			}
			return true, nil
		})
		if err != nil || !reflect.DeepEqual(seen, ids) || steps != 3 || scanned != 5 {
			t.Fatalf("ScanDocs visited %v in %d steps, %d scanned (%v), want %v in 3", seen, steps, scanned, err, ids)
		}
		seen = nil
		err = st.ScanDocs(ctx, store.TypeUser, 2, nil, func(_ int, rs []*store.Resource) (bool, error) {
			for _, res := range rs {
				seen = append(seen, res.ID)
			}
			return false, nil
		})
		if err != nil || len(seen) != 2 {
			t.Fatalf("ScanDocs did not stop: %v %v", seen, err)
		}
		// Needles: only documents holding every one are visited, all are counted.
		seen, scanned = nil, 0
		err = st.ScanDocs(ctx, store.TypeUser, 2, []store.Needle{{Text: "Raw3"}, {Text: "raw", Fold: true}}, func(n int, rs []*store.Resource) (bool, error) {
			scanned += n
			for _, res := range rs {
				seen = append(seen, res.ID)
			}
			return true, nil
		})
		if err != nil || !reflect.DeepEqual(seen, ids[3:4]) || scanned != 5 {
			t.Fatalf("ScanDocs with needles visited %v, %d scanned (%v), want %v", seen, scanned, err, ids[3:4])
		}

		// A directory with a user quota keeps both.
		q := store.WithUserQuota(st, 100)
		lg, isLG := q.(store.LookupGetter)
		ds, isDS := q.(store.DocScanner)
		if !isLG || !isDS {
			t.Fatal("the quota store hides LookupGet or ScanDocs")
		}
		if got, ok, err := lg.LookupGet(ctx, store.TypeUser, "userName", "raw2", store.ReadOptions{Groups: true}); err != nil || !ok || !reflect.DeepEqual(got, []*store.Resource{want}) {
			t.Fatalf("quota LookupGet = %v %v %v", got, ok, err)
		}
		n := 0
		if err := ds.ScanDocs(ctx, store.TypeUser, 10, nil, func(_ int, rs []*store.Resource) (bool, error) { n += len(rs); return true, nil }); err != nil || n != 5 {
			t.Fatalf("quota ScanDocs saw %d (%v)", n, err)
		}
	})
}
