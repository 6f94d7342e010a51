package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/scimapi/store/storetest"
)

// TestRedisConformanceOtherDirectory runs the conformance suite on the
// store of a directory other than the default one (hash tag {d:<id>}), on
// miniredis and on the real Redis.
func TestRedisConformanceOtherDirectory(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		storetest.Run(t, func(t *testing.T) store.Store {
			return store.NewRedisTagged(r.Client, r.Prefix+t.Name()+":", "d:"+uuid.NewString())
		})
	})
}

// TestTaggedStoreKeys: every key a directory's writes touch — resources,
// indexes, members, audit and change-event streams — carries that
// directory's tag, and two directories share no key.
func TestTaggedStoreKeys(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		tags := []string{"d:" + uuid.NewString(), "d:" + uuid.NewString()}
		for _, tag := range tags {
			st := store.NewRedisTagged(r.Client, r.Prefix, tag)
			j := func() *store.Journal {
				return &store.Journal{Audit: audit.Event{Action: audit.UserProvisioned}, DocAction: audit.UserProvisioned, Event: "user.created"}
			}
			u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "same", "externalId": "x"}, nil, j())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "g"}, []store.Member{{Value: u.ID}}, j()); err != nil {
				t.Fatal(err)
			}
		}
		keys, err := r.Client.Keys(ctx, r.Prefix+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		per := map[string]int{}
		for _, k := range keys {
			rest := strings.TrimPrefix(k, r.Prefix)
			tag, _, ok := strings.Cut(strings.TrimPrefix(rest, "{"), "}:")
			if !ok || !strings.HasPrefix(rest, "{") || (tag != tags[0] && tag != tags[1]) {
				t.Fatalf("key %s is outside both directories' tags", k)
			}
			per[tag]++
		}
		for _, tag := range tags {
			for _, k := range []string{audit.TaggedKey(r.Prefix, tag), store.TaggedEventsKey(r.Prefix, tag)} {
				if n := r.Client.XLen(ctx, k).Val(); n < 2 {
					t.Fatalf("%s holds %d entries, want at least 2 (one per write)", k, n)
				}
			}
		}
		if per[tags[0]] != per[tags[1]] || per[tags[0]] < 8 {
			t.Fatalf("keys per directory: %v", per)
		}
	})
}
