package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestUserQuotaHoldsUnderConcurrency: 40 concurrent creations into a
// directory capped at 10 Users that already holds 7: exactly 3 succeed,
// the rest get *QuotaError, and the directory never holds more than 10.
// The cap is checked inside the create script (ZCARD of all:User), so no
// two creations can both see the last free place. Groups are not capped.
func TestUserQuotaHoldsUnderConcurrency(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		const max, before, tries = 10, 7, 40
		raw := store.NewRedisTagged(r.Client, r.Prefix, "d:"+uuid.NewString())
		st := store.WithUserQuota(raw, max)
		for i := range before {
			if _, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": fmt.Sprintf("pre%d", i)}, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		start := make(chan struct{})
		for i := range tries {
			wg.Go(func() {
				<-start
				_, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": fmt.Sprintf("u%d", i)}, nil, nil)
				var qe *store.QuotaError
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.As(err, &qe) && qe.Max == max:
					refused++
				default:
					t.Errorf("create %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		n, err := raw.Count(ctx, store.TypeUser)
		if err != nil {
			t.Fatal(err)
		}
		if n != max || ok != max-before || refused != tries-(max-before) {
			t.Fatalf("%d users after %d concurrent creates (%d created, %d refused), want %d (%d created)", n, tries, ok, refused, max, max-before)
		}
		if _, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "g"}, nil, nil); err != nil {
			t.Errorf("a group in a full directory: %v", err)
		}
	})
}
