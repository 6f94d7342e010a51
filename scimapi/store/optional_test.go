package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestOptionalIndexesOff: a store with the optional indexes off (the
// default) writes no entries of them, records no "ix3", does not list them
// in Indexed nor serve them, and its writes clear their ready markers.
func TestOptionalIndexesOff(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		if got := st.Indexed(store.TypeUser); !slices.Equal(got, []string{"id", "userName", "externalId"}) {
			t.Errorf("Indexed(User) = %v", got)
		}
		if got := st.Indexed(store.TypeGroup); !slices.Equal(got, []string{"id", "displayName", "externalId"}) {
			t.Errorf("Indexed(Group) = %v", got)
		}
		ready := r.Prefix + "{scim}:ixready"
		r.Client.HSet(ctx, ready, "User:emails.value", "1", "User:displayName", "1", "User:name.familyName", "1")
		u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "ann", "displayName": "Ann S",
			"name": map[string]any{"familyName": "S"}, "emails": []any{map[string]any{"value": "a@x"}}}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := r.Client.HLen(ctx, ready).Result(); n != 0 {
			t.Errorf("a write with the indexes off left %d ready markers", n)
		}
		if ok, _ := r.Client.HExists(ctx, r.Prefix+"{scim}:r:"+u.ID, "ix3").Result(); ok {
			t.Error("ix3 recorded with the indexes off")
		}
		for _, attr := range store.OptionalIndexes() {
			if n, _ := r.Client.Exists(ctx, r.Prefix+"{scim}:x:User:"+attr).Result(); n != 0 {
				t.Errorf("%s index written while off", attr)
			}
			if _, err := st.Lookup(ctx, store.TypeUser, attr, "a@x"); err == nil {
				t.Errorf("Lookup served %s while off", attr)
			}
		}
		if err := st.Backfill(ctx, store.TypeUser); err != nil {
			t.Fatal(err)
		}
		if n, _ := r.Client.HLen(ctx, ready).Result(); n != 0 {
			t.Error("Backfill marked indexes that are off")
		}
	})
}

// TestEnableIndexesNames: only the optional indexes may be named, once.
func TestEnableIndexesNames(t *testing.T) {
	st := store.NewRedis(redistest.Mini(t).Client, "p:")
	for _, bad := range [][]string{{"userName"}, {"emails"}, {"displayName", "displayName"}} {
		err := st.EnableIndexes(bad...)
		if err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("EnableIndexes(%v) = %v", bad, err)
		}
		if !strings.Contains(fmt.Sprint(err), "emails.value, displayName, name.familyName") && len(bad) == 1 {
			t.Errorf("EnableIndexes(%v) does not name the valid indexes: %v", bad, err)
		}
	}
	if err := st.EnableIndexes("name.familyName"); err != nil {
		t.Fatal(err)
	}
	if got := st.Indexed(store.TypeUser); !slices.Equal(got, []string{"id", "userName", "externalId", "name.familyName"}) {
		t.Errorf("Indexed(User) = %v", got)
	}
}

// optPools are the values generated users draw from: few, so they repeat,
// in mixed case and with characters whose case folding differs from
// lower-casing.
var optPools = map[string][]string{
	"emails.value":    {"ann@example.com", "ANN@example.com", "bob@Example.org", "zoë@example.com", "ZOË@EXAMPLE.COM", "x@y"},
	"displayName":     {"Ann Smith", "ann smith", "Bob", "\u212aim", "kim", "ſam", "Sam", ""},
	"name.familyName": {"Smith", "SMITH", "Straße", "ΟΔΥΣΣΕΥΣ", "οδυσσευς", "Odyſſeus", ""},
}

func optUser(rng *rand.Rand, i int) map[string]any {
	pick := func(attr string) string { p := optPools[attr]; return p[rng.IntN(len(p))] }
	u := map[string]any{"userName": fmt.Sprintf("u%d", i)}
	var emails []any
	for range rng.IntN(3) {
		emails = append(emails, map[string]any{"value": pick("emails.value")})
	}
	if emails != nil {
		u["emails"] = emails
	}
	if d := pick("displayName"); d != "" {
		u["displayName"] = d
	}
	if f := pick("name.familyName"); f != "" {
		u["name"] = map[string]any{"familyName": f}
	}
	return u
}

// optValues returns the values attrs holds for one optional index.
func optValues(attrs map[string]any, attr string) []string {
	var out []string
	switch attr {
	case "emails.value":
		es, _ := attrs["emails"].([]any)
		for _, e := range es {
			out = append(out, e.(map[string]any)["value"].(string))
		}
	case "displayName":
		if v, ok := attrs["displayName"].(string); ok {
			out = append(out, v)
		}
	case "name.familyName":
		if n, ok := attrs["name"].(map[string]any); ok {
			out = append(out, n["familyName"].(string))
		}
	}
	return out
}

// checkOptional compares Lookup on each enabled optional index with what
// a scan of the stored users finds (strings.EqualFold, the filter's
// comparison), for every pool value and its upper-cased form.
func checkOptional(t *testing.T, st *store.Redis, stage string) {
	t.Helper()
	ctx := context.Background()
	var users []*store.Resource
	if err := st.Scan(ctx, store.TypeUser, "", 100, store.ReadOptions{}, func(rs []*store.Resource) (bool, error) {
		users = append(users, rs...)
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, attr := range store.OptionalIndexes() {
		if !slices.Contains(st.Indexed(store.TypeUser), attr) {
			continue
		}
		for _, v := range optPools[attr] {
			for _, v := range []string{v, strings.ToUpper(v), "nobody"} {
				var want []string
				for _, u := range users {
					if slices.ContainsFunc(optValues(u.Attrs, attr), func(x string) bool { return strings.EqualFold(x, v) }) {
						want = append(want, u.ID)
					}
				}
				got, err := st.Lookup(ctx, store.TypeUser, attr, v)
				if err != nil {
					t.Fatalf("%s: lookup %s %q: %v", stage, attr, v, err)
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s: %s eq %q: index %d ids, scan %d", stage, attr, v, len(got), len(want))
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatalf("%s: nothing checked", stage)
	}
}

// TestOptionalIndexTransitions: turning the optional indexes off, on,
// partly on, off and on again (new store values on one Redis, as gateways
// restarted with another setting) never lets Lookup answer from an
// incomplete index: a store with an index on finds exactly what a scan
// finds once Backfill ran, and ErrIndexBuilding before, after writes made
// with the index off.
func TestOptionalIndexTransitions(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(14, 2))
		var ids []string
		next := 0
		// mutate creates, rewrites and deletes users through st.
		mutate := func(st *store.Redis, creates int) {
			t.Helper()
			for range creates {
				u, err := st.Create(ctx, store.TypeUser, optUser(rng, next), nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				next++
				ids = append(ids, u.ID)
			}
			for i := 0; i < len(ids); i++ {
				switch rng.IntN(5) {
				case 0:
					if _, _, err := st.Update(ctx, store.TypeUser, ids[i], store.Condition{}, optUser(rng, next), nil, nil); err != nil {
						t.Fatal(err)
					}
					next++
				case 1:
					if err := st.Delete(ctx, store.TypeUser, ids[i], 0, nil); err != nil {
						t.Fatal(err)
					}
					ids = slices.Delete(ids, i, i+1)
					i--
				}
			}
		}
		withIndexes := func(attrs ...string) *store.Redis {
			st := store.NewRedis(r.Client, r.Prefix)
			if err := st.EnableIndexes(attrs...); err != nil {
				t.Fatal(err)
			}
			return st
		}
		building := func(st *store.Redis, attr, stage string) {
			t.Helper()
			if _, err := st.Lookup(ctx, store.TypeUser, attr, "x"); !errors.Is(err, store.ErrIndexBuilding) {
				t.Fatalf("%s: lookup %s: %v, want ErrIndexBuilding", stage, attr, err)
			}
		}
		backfill := func(st *store.Redis) { t.Helper(); waitBackfill(t, r, st) }
		all := store.OptionalIndexes()

		on := withIndexes(all...)
		mutate(on, 80)
		backfill(on)
		checkOptional(t, on, "on")

		mutate(withIndexes(), 20)
		building(on, "displayName", "off, seen by the earlier store") // the marker is not cached
		// That lookup started a backfill of all three in the background: let
		// it end, then clear the markers again, so the next store's lookup
		// does not race with it.
		backfill(on)
		mutate(withIndexes(), 5)

		emails := withIndexes("emails.value")
		building(emails, "emails.value", "emails only")
		backfill(emails)
		checkOptional(t, emails, "emails only")
		mutate(emails, 10)
		checkOptional(t, emails, "emails only, changed")

		on = withIndexes(all...)
		building(on, "name.familyName", "on again")
		backfill(on)
		checkOptional(t, on, "on again")
		mutate(on, 10)
		checkOptional(t, on, "on again, changed")

		mutate(withIndexes(), 10)
		on = withIndexes(all...)
		building(on, "emails.value", "on a third time")
		backfill(on)
		checkOptional(t, on, "on a third time")
	})
}

// waitBackfill runs Backfill until st's enabled optional indexes are
// marked complete (a Backfill started in the background by a Lookup may
// hold the lock: this one then returns at once).
func waitBackfill(t *testing.T, r *redistest.Redis, st *store.Redis) {
	t.Helper()
	ctx := context.Background()
	var fields []string
	for _, attr := range st.Indexed(store.TypeUser) {
		if slices.Contains(store.OptionalIndexes(), attr) {
			fields = append(fields, store.TypeUser+":"+attr)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err := st.Backfill(ctx, store.TypeUser); err != nil {
			t.Fatal(err)
		}
		v, err := r.Client.HMGet(ctx, r.Prefix+"{scim}:ixready", fields...).Result()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(v, func(x any) bool { return x != "2" }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backfill did not complete: %v", v)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// onceHook runs fn once, before the first command for which match is true.
type onceHook struct {
	match func(redis.Cmder) bool
	fn    func()
	done  atomic.Bool
}

func (h *onceHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *onceHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.match(cmd) && h.done.CompareAndSwap(false, true) {
			h.fn()
		}
		return next(ctx, cmd)
	}
}
func (h *onceHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if h.match(cmd) && h.done.CompareAndSwap(false, true) {
				h.fn() // before the pipeline that holds the command
				break
			}
		}
		return next(ctx, cmds)
	}
}

// TestBackfillInterruptedByDisabledWriter: a user rewritten by a gateway
// with the index off while Backfill runs, after Backfill indexed it (so
// the rewrite drops its entry), keeps the index from being marked
// complete; the next Backfill completes it, with that user.
func TestBackfillInterruptedByDisabledWriter(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		on := allIndexes(t, store.NewRedis(r.Client, r.Prefix))
		var first string
		for i := range 150 {
			u, err := on.Create(ctx, store.TypeUser, map[string]any{"userName": fmt.Sprintf("u%d", i), "displayName": "Same"}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = u.ID
			}
		}
		r.Client.Del(ctx, r.Prefix+"{scim}:ixready")
		off := store.NewRedis(r.Client, r.Prefix)
		rewritten := false
		r.Client.AddHook(&onceHook{
			// Backfill's second listing of the users: the first step is done
			match: func(c redis.Cmder) bool {
				a := c.Args()
				return c.Name() == "zrangebylex" && len(a) > 2 && a[1] == r.Prefix+"{scim}:all:User" && a[2] != "-"
			},
			fn: func() {
				_, _, err := off.Update(ctx, store.TypeUser, first, store.Condition{}, map[string]any{"userName": "u0", "displayName": "same"}, nil, nil)
				if err != nil {
					t.Error(err)
				}
				rewritten = err == nil
			},
		})
		if err := on.Backfill(ctx, store.TypeUser); err == nil {
			t.Fatal("Backfill marked complete despite a write with the index off")
		}
		if !rewritten {
			t.Fatal("the write with the index off did not happen")
		}
		if _, err := on.Lookup(ctx, store.TypeUser, "displayName", "same"); !errors.Is(err, store.ErrIndexBuilding) {
			t.Fatalf("lookup after the interrupted backfill: %v", err)
		}
		waitBackfill(t, r, on)
		ids, err := on.Lookup(ctx, store.TypeUser, "displayName", "SAME")
		if err != nil || len(ids) != 150 || !slices.Contains(ids, first) {
			t.Fatalf("after the second backfill: %d ids (the rewritten one: %v), %v", len(ids), slices.Contains(ids, first), err)
		}
	})
}

// TestOldReadyMarkerNotTrusted: a gateway before the optional indexes marks
// a backfill complete with "1" even when a newer gateway with the index
// disabled wrote a user after the backfill passed it. Such a marker must
// not make a newer gateway serve the index: it backfills first.
func TestOldReadyMarkerNotTrusted(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		off := store.NewRedis(r.Client, r.Prefix)
		if _, err := off.Create(ctx, store.TypeUser, map[string]any{"userName": "ann",
			"emails": []any{map[string]any{"value": "ann@example.com"}}}, nil, nil); err != nil {
			t.Fatal(err)
		}
		// The old replica's backfill ends after that write.
		r.Client.HSet(ctx, r.Prefix+"{scim}:ixready", "User:emails.value", "1")
		on := store.NewRedis(r.Client, r.Prefix)
		if err := on.EnableIndexes("emails.value"); err != nil {
			t.Fatal(err)
		}
		if ids, err := on.Lookup(ctx, store.TypeUser, "emails.value", "ann@example.com"); !errors.Is(err, store.ErrIndexBuilding) {
			t.Fatalf("Lookup on an old marker: %v %v, want ErrIndexBuilding", ids, err)
		}
		waitBackfill(t, r, on)
		ids, err := on.Lookup(ctx, store.TypeUser, "emails.value", "ann@example.com")
		if err != nil || len(ids) != 1 {
			t.Fatalf("after the backfill: %v %v, want ann", ids, err)
		}
	})
}
