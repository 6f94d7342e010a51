package tokenstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/tokenstore"
	"github.com/scimgate/scimgate/tokenstore/storetest"
)

func TestRedisStore(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		var n atomic.Int64
		storetest.Run(t, func(t *testing.T) tokenstore.Store {
			// One prefix per subtest, under the backend's unique prefix.
			s, err := tokenstore.NewRedis(r.Client, tokenstore.Options{Prefix: fmt.Sprintf("%s%d:", r.Prefix, n.Add(1))})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

func TestNewRedisRefusesBracesInPrefix(t *testing.T) {
	if _, err := tokenstore.NewRedis(redistest.Mini(t).Client, tokenstore.Options{Prefix: "a{b}:"}); err == nil {
		t.Fatal("prefix with braces accepted")
	}
}
