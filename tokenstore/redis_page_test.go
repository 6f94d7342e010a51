package tokenstore_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/tokenstore"
)

// TestClientOrderRebuilt: a gateway of an earlier release keeps only
// client-names, not the client-order index paging reads. A missing index,
// and a rename that index missed, are repaired by the next page read.
func TestClientOrderRebuilt(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		s, err := tokenstore.NewRedis(r.Client, tokenstore.Options{Prefix: r.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		ids := map[string]string{}
		for _, n := range []string{"b", "a", "c"} {
			c := tokenstore.Client{ID: uuid.NewString(), Name: n, Method: "static_token", Enabled: true, CreatedAt: now, UpdatedAt: now}
			if err := s.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
			ids[n] = c.ID
		}
		list := func() []string {
			t.Helper()
			p, err := s.ListClientsPage(ctx, tokenstore.ClientQuery{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range p.Clients {
				out = append(out, c.Name)
			}
			return out
		}
		order := r.Prefix + "{auth}:client-order"
		if err := r.Client.Del(ctx, order).Err(); err != nil {
			t.Fatal(err)
		}
		if got := list(); !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Fatalf("without the index = %v, want [a b c]", got)
		}
		// An old gateway renames a to z: client-names changes, the order does not.
		names := r.Prefix + "{auth}:client-names"
		if err := r.Client.HDel(ctx, names, "a").Err(); err != nil {
			t.Fatal(err)
		}
		if err := r.Client.HSet(ctx, names, "z", ids["a"]).Err(); err != nil {
			t.Fatal(err)
		}
		a, err := s.GetClient(ctx, ids["a"])
		if err != nil {
			t.Fatal(err)
		}
		a.Name = "z"
		data, _ := json.Marshal(a)
		if err := r.Client.HSet(ctx, r.Prefix+"{auth}:client:"+a.ID, "data", data, "lname", "z").Err(); err != nil {
			t.Fatal(err)
		}
		if got := list(); !slices.Equal(got, []string{"b", "c", "z"}) {
			t.Fatalf("after an unindexed rename = %v, want [b c z]", got)
		}
	})
}
