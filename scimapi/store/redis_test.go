package store_test

import (
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/scimapi/store/storetest"
)

// TestRedisConformance runs the conformance suite on miniredis and on the
// real Redis at SCIMGATE_TEST_REDIS_URL.
func TestRedisConformance(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		storetest.Run(t, func(t *testing.T) store.Store {
			sub := *r
			sub.Prefix = r.Prefix + t.Name() + ":"
			return store.NewRedis(sub.Client, sub.Prefix)
		})
	})
}
