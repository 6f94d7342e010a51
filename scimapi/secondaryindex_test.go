package scimapi_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"

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
// one per pool value, plus one matching nothing and an upper-cased value;
// then `co`, `sw` and `ew` of parts of each pool value on them (served by
// scanning their indexes: store.IndexScanner) and on userName.
func indexedFilters() []string {
	var out []string
	for _, q := range []struct{ attr, pool string }{{"emails.value", "email"}, {"displayName", "dn"}, {"name.familyName", "family"}} {
		for _, v := range append(slices.Clone(indexedPools[q.pool]), "nobody", strings.ToUpper(indexedPools[q.pool][0])) {
			out = append(out, fmt.Sprintf(`%s eq %q`, q.attr, v))
		}
	}
	return append(out, substringFilters()...)
}

// substringFilters are `co`, `sw` and `ew` filters on the attributes of
// the indexes scanned for them: parts of each pool value, as they are and
// upper-cased, and parts of the generated userNames.
func substringFilters() []string {
	var out []string
	for _, q := range []struct{ attr, pool string }{{"emails.value", "email"}, {"displayName", "dn"}, {"name.familyName", "family"}} {
		for _, v := range indexedPools[q.pool] {
			r := []rune(v)
			if len(r) < 3 {
				continue
			}
			mid := string(r[1 : len(r)-1])
			for _, part := range []string{mid, strings.ToUpper(mid)} {
				out = append(out, fmt.Sprintf(`%s co "%s"`, q.attr, part))
			}
			out = append(out, fmt.Sprintf(`%s sw "%s"`, q.attr, string(r[:2])), fmt.Sprintf(`%s ew "%s"`, q.attr, string(r[len(r)-2:])))
		}
	}
	return append(out, `userName co "1"`, `userName sw "U2"`, `userName ew "7"`, `emails.value co "i"`, `name.familyName co "S"`)
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

// TestSubstringFiltersScanIndexes: with the optional indexes on and built,
// `co`, `sw` and `ew` on their attributes, on userName and on Groups'
// displayName read the index
// (HSCAN, ZRANGEBYLEX or a script of the index key) and never walk the id set
// as a document scan does (a literal that is not ASCII scans documents), and find what the document scan finds (the same
// filter inside not(not(…)), which no index serves).
func TestSubstringFiltersScanIndexes(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := withAllIndexes(t, store.NewRedis(r.Client, r.Prefix))
		e := newEnvStore(t, r, st, func(o *scimapi.Options) { o.MaxResults = 1000 })
		createIndexed(e, rand.New(rand.NewPCG(14, 5)), 150)
		if err := st.Backfill(ctx, store.TypeUser); err != nil {
			t.Fatal(err)
		}
		var rec keyRecorder
		r.Client.AddHook(&rec)
		check := func(typ, f string, ids func(string) []string) {
			t.Helper()
			rec.reset()
			got := ids(f)
			scans, all := rec.counts(r.Prefix+"{scim}:", typ)
			if ascii := !strings.ContainsFunc(f, func(r rune) bool { return r > unicode.MaxASCII }); ascii && (scans == 0 || all != 0) {
				t.Errorf("%s: %d index scan commands, %d reads of the id set", f, scans, all)
			}
			if want := ids("not (not (" + f + "))"); !slices.Equal(got, want) {
				t.Errorf("%s: index scan %d ids, document scan %d", f, len(got), len(want))
			}
		}
		for _, f := range substringFilters() {
			check("User", f, func(f string) []string { return filterIDs(t, e, f) })
		}
		// Groups' displayName (a sorted set of strings.ToLower values)
		for i, dn := range indexedPools["dn"] {
			if dn != "" {
				e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": fmt.Sprintf("%s %d", dn, i)}), 201)
			}
		}
		groupIDs := func(f string) []string {
			l := e.must(e.do("GET", "/scim/v2/Groups?count=1000&attributes=id&filter="+urlq(f), nil), 200)
			var ids []string
			rs, _ := l.body["Resources"].([]any)
			for _, x := range rs {
				ids = append(ids, str(x.(map[string]any)["id"]))
			}
			slices.Sort(ids)
			return ids
		}
		for _, f := range []string{`displayName co "nn s"`, `displayName co "KIM"`, `displayName sw "ann"`, `displayName ew " 1"`, `displayName co "zz"`} {
			check("Group", f, groupIDs)
		}
		if len(groupIDs(`displayName co "nn s"`)) != 2 {
			t.Errorf("displayName co \"nn s\" found %v", groupIDs(`displayName co "nn s"`))
		}
	})
}

// keyRecorder records the commands a client runs.
type keyRecorder struct {
	mu   sync.Mutex
	cmds [][]any
}

func (k *keyRecorder) reset() {
	k.mu.Lock()
	k.cmds = nil
	k.mu.Unlock()
}

// counts returns how many recorded commands scanned an index of type typ
// in the store with key prefix p (HSCAN, ZRANGEBYLEX or a script of an
// index key) and how many read its id set.
func (k *keyRecorder) counts(p, typ string) (scans, all int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.cmds {
		for _, a := range c[1:] {
			s, _ := a.(string)
			switch {
			case s == p+"all:"+typ:
				if c[0] != "zcard" { // Count, which the scan budget checks first
					all++
				}
			case strings.HasPrefix(s, p+"u:"+typ+":") || strings.HasPrefix(s, p+"x:"+typ+":"):
				if name := fmt.Sprint(c[0]); name == "hscan" || name == "evalsha" || name == "zrangebylex" {
					scans++
				}
			}
		}
	}
	return scans, all
}

func (k *keyRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (k *keyRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		k.mu.Lock()
		k.cmds = append(k.cmds, cmd.Args())
		k.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (k *keyRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		k.mu.Lock()
		for _, c := range cmds {
			k.cmds = append(k.cmds, c.Args())
		}
		k.mu.Unlock()
		return next(ctx, cmds)
	}
}
