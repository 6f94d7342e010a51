package store_test

import (
	"context"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// allIndexes enables every optional index of st.
func allIndexes(t testing.TB, st *store.Redis) *store.Redis {
	t.Helper()
	if err := st.EnableIndexes(store.OptionalIndexes()...); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestBackfilledIndexesInIx3: the entries of the backfilled indexes
// (emails.value, displayName, name.familyName) live in "ix3", which the
// versions before them never read: "ix" and "ix2" keep naming only the
// KEYS positions those versions have (see TestIndexFieldsReadableByPreviousVersion).
func TestBackfilledIndexesInIx3(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := allIndexes(t, store.NewRedis(r.Client, r.Prefix))
		u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "Ann", "externalId": "e", "displayName": "Ann S",
			"name":   map[string]any{"familyName": "S"},
			"emails": []any{map[string]any{"value": "A@x"}, map[string]any{"value": "a@X"}, map[string]any{"value": "b@x"}}}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Client.HMGet(ctx, r.Prefix+"{scim}:r:"+u.ID, "ix", "ix2", "ix3").Result()
		if err != nil {
			t.Fatal(err)
		}
		want := []any{`[[3,"ann",1]]`, `[[5,"e",0]]`, `[[6,"a@x",0],[6,"b@x",0],[7,"ann s",0],[8,"s",0]]`}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("ix, ix2, ix3 = %v, want %v", got, want)
				break
			}
		}
		// Dropping the attributes drops the entries and the field.
		if _, _, err := st.Update(ctx, store.TypeUser, u.ID, store.Condition{}, map[string]any{"userName": "Ann"}, nil, nil); err != nil {
			t.Fatal(err)
		}
		if ok, _ := r.Client.HExists(ctx, r.Prefix+"{scim}:r:"+u.ID, "ix3").Result(); ok {
			t.Error("ix3 kept after the attributes were removed")
		}
		if err := st.Backfill(ctx, store.TypeUser); err != nil {
			t.Fatal(err)
		}
		if ids, err := st.Lookup(ctx, store.TypeUser, "emails.value", "A@X"); err != nil || len(ids) != 0 {
			t.Errorf("removed email still found: %v %v", ids, err)
		}
	})
}
