package scimapi_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/store"
)

// indexedPools are the values the generated users draw from: few, so
// values repeat; mixed case and non-ASCII, so the case-insensitive
// comparison (RFC 7643 §2.4, caseExact false) is exercised.
var indexedPools = map[string][]string{
	"email":  {"ann@example.com", "ANN@example.com", "bob@Example.org", "zoë@example.com", "İrem@example.com", "shared@example.com", "x@y"},
	"family": {"Smith", "smith", "Müller", "MÜLLER", "O'Brien", "Straße", "Odysseus", "ΟΔΥΣΣΕΥΣ", "οδυσσευς", "ſmith", ""},
	"dn":     {"Ann Smith", "ann smith", "Bob", "Zoë Müller", "Dr. No", "\u212aim", "kim", ""},
}

func pick(r *rand.Rand, pool string) string {
	p := indexedPools[pool]
	return p[r.IntN(len(p))]
}

func indexedUser(r *rand.Rand, i int) map[string]any {
	u := map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprintf("u%d", i)}
	var emails []any
	for range r.IntN(4) {
		emails = append(emails, map[string]any{"value": pick(r, "email"), "type": "work"})
	}
	if emails != nil {
		u["emails"] = emails
	}
	if f := pick(r, "family"); f != "" {
		u["name"] = map[string]any{"familyName": f, "givenName": "G"}
	}
	if d := pick(r, "dn"); d != "" {
		u["displayName"] = d
	}
	return u
}

// createIndexed creates n generated users through e and returns their ids.
func createIndexed(e *env, rng *rand.Rand, n int) []string {
	var ids []string
	for i := range n {
		ids = append(ids, str(e.must(e.do("POST", "/scim/v2/Users", indexedUser(rng, i)), 201).body["id"]))
	}
	return ids
}

// indexedFilters are `eq` filters on the optional indexes' attributes,
// one per pool value, plus one matching nothing and an upper-cased value.
func indexedFilters() []string {
	var out []string
	for _, q := range []struct{ attr, pool string }{{"emails.value", "email"}, {"displayName", "dn"}, {"name.familyName", "family"}} {
		for _, v := range append(slices.Clone(indexedPools[q.pool]), "nobody", strings.ToUpper(indexedPools[q.pool][0])) {
			out = append(out, fmt.Sprintf(`%s eq %q`, q.attr, v))
		}
	}
	return out
}

// filterIDs returns the ids GET /Users?filter=f finds, sorted.
func filterIDs(t *testing.T, e *env, f string) []string {
	t.Helper()
	l := list(t, e, "count=1000&attributes=id&filter="+urlq(f))
	var ids []string
	rs, _ := l.body["Resources"].([]any)
	for _, x := range rs {
		ids = append(ids, str(x.(map[string]any)["id"]))
	}
	if int(l.body["totalResults"].(float64)) != len(ids) {
		t.Fatalf("%s: totalResults %v, %d resources", f, l.body["totalResults"], len(ids))
	}
	slices.Sort(ids)
	return ids
}

// TestSecondaryIndexesEqualScan: `eq` on emails.value, displayName and
// name.familyName answered from the indexes finds exactly what a full
// scan finds (the same filter wrapped in not(not(…)), which no index
// serves), over generated users that are created, changed and deleted;
// also for indexes built by Backfill over users written before them.
func TestSecondaryIndexesEqualScan(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := withAllIndexes(t, store.NewRedis(r.Client, r.Prefix))
		e := newEnvStore(t, r, st, func(o *scimapi.Options) { o.MaxResults = 1000 })
		rng := rand.New(rand.NewPCG(14, 3))
		ids := createIndexed(e, rng, 150)
		check := func(stage string) {
			t.Helper()
			for _, attr := range []string{"emails.value", "displayName", "name.familyName"} {
				if _, err := st.Lookup(ctx, store.TypeUser, attr, "x"); err != nil {
					t.Fatalf("%s: %s not served by its index: %v", stage, attr, err)
				}
			}
			for _, f := range indexedFilters() {
				got, want := filterIDs(t, e, f), filterIDs(t, e, "not (not ("+f+"))")
				if !slices.Equal(got, want) {
					t.Errorf("%s: %s: indexed %d ids, scan %d", stage, f, len(got), len(want))
				}
			}
		}
		// The first lookup finds the store without the ready marker and
		// backfills it in the background; wait for it here.
		if err := st.Backfill(ctx, store.TypeUser); err != nil {
			t.Fatal(err)
		}
		check("created")
		for i, id := range ids {
			switch i % 3 {
			case 0:
				e.must(e.do("PUT", "/scim/v2/Users/"+id, indexedUser(rng, i)), 200)
			case 1:
				e.must(e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "replace", "path": "emails", "value": []any{map[string]any{"value": pick(rng, "email")}}})), 200)
			default:
				if i%2 == 0 {
					e.must(e.do("DELETE", "/scim/v2/Users/"+id, nil), 204)
				}
			}
		}
		check("changed")

		// Users written before the indexes existed: drop the indexes, their
		// ready marker and the users' "ix3" entries of them.
		keys, err := r.Client.Keys(ctx, r.Prefix+"{scim}:x:User:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range append(keys, r.Prefix+"{scim}:ixready") {
			if !strings.HasSuffix(k, ":externalId") {
				r.Client.Del(ctx, k)
			}
		}
		for _, id := range ids {
			r.Client.HDel(ctx, r.Prefix+"{scim}:r:"+id, "ix3")
		}
		// A new gateway.
		fresh := withAllIndexes(t, store.NewRedis(r.Client, r.Prefix))
		e = newEnvStore(t, r, fresh, func(o *scimapi.Options) { o.MaxResults = 1000 })
		if _, err := fresh.Lookup(ctx, store.TypeUser, "emails.value", "x"); !errors.Is(err, store.ErrIndexBuilding) {
			t.Fatalf("lookup on an incomplete index: %v, want ErrIndexBuilding", err)
		}
		// Meanwhile filters scan, with the same results (the lookup also
		// started a backfill in the background, running alongside).
		for _, v := range indexedPools["email"] {
			f := fmt.Sprintf(`emails.value eq %q`, v)
			if got, want := filterIDs(t, e, f), filterIDs(t, e, "not (not ("+f+"))"); !slices.Equal(got, want) {
				t.Errorf("while building: %s: %d ids, scan %d", f, len(got), len(want))
			}
		}
		// Backfill returns at once while the background run holds the
		// lock: wait for the marker.
		for deadline := time.Now().Add(10 * time.Second); ; {
			if err := fresh.Backfill(ctx, store.TypeUser); err != nil {
				t.Fatal(err)
			}
			if n, _ := r.Client.HLen(ctx, r.Prefix+"{scim}:ixready").Result(); n == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("backfill did not complete")
			}
			time.Sleep(10 * time.Millisecond)
		}
		st = fresh
		check("backfilled")
	})
}

// withAllIndexes enables every optional index of st.
func withAllIndexes(t *testing.T, st *store.Redis) *store.Redis {
	t.Helper()
	if err := st.EnableIndexes(store.OptionalIndexes()...); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestOptionalIndexesSameResults: `eq` filters on emails.value,
// displayName and name.familyName find the same users whether a gateway
// has their indexes on (index lookups) or off (the default: scans), over
// generated users with case-folding variants, before and after a gateway
// with them off changes users (the one with them on then scans until its
// backfill completes).
func TestOptionalIndexesSameResults(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		onStore := withAllIndexes(t, store.NewRedis(r.Client, r.Prefix))
		on := newEnvStore(t, r, onStore, func(o *scimapi.Options) { o.MaxResults = 1000 })
		off := newEnvWith(t, r, func(o *scimapi.Options) { o.MaxResults = 1000 })
		rng := rand.New(rand.NewPCG(14, 4))
		ids := createIndexed(on, rng, 120)
		compare := func(stage string) {
			t.Helper()
			for _, f := range indexedFilters() {
				if got, want := filterIDs(t, on, f), filterIDs(t, off, f); !slices.Equal(got, want) {
					t.Errorf("%s: %s: indexes on %d ids, off %d", stage, f, len(got), len(want))
				}
			}
		}
		if err := onStore.Backfill(ctx, store.TypeUser); err != nil {
			t.Fatal(err)
		}
		if _, err := onStore.Lookup(ctx, store.TypeUser, "emails.value", "x"); err != nil {
			t.Fatalf("the index is not served: %v", err)
		}
		compare("created with indexes on")
		for i, id := range ids {
			switch i % 4 {
			case 0:
				off.must(off.do("PUT", "/scim/v2/Users/"+id, indexedUser(rng, i)), 200)
			case 1:
				off.must(off.do("DELETE", "/scim/v2/Users/"+id, nil), 204)
			}
		}
		for i := range 30 {
			off.must(off.do("POST", "/scim/v2/Users", indexedUser(rng, 1000+i)), 201)
		}
		compare("changed with indexes off")
		for deadline := time.Now().Add(10 * time.Second); ; {
			if err := onStore.Backfill(ctx, store.TypeUser); err != nil {
				t.Fatal(err)
			}
			if _, err := onStore.Lookup(ctx, store.TypeUser, "emails.value", "x"); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("backfill did not complete")
			}
			time.Sleep(10 * time.Millisecond)
		}
		compare("backfilled")
	})
}
