package tokenstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/tokenstore"
	"github.com/scimgate/scimgate/tokenstore/storetest"
)

func TestRedisAccessTokenState(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		var n atomic.Int64
		sleep := time.Sleep
		if r.Mini != nil {
			sleep = r.Mini.FastForward
		}
		storetest.RunAccessTokens(t, func(t *testing.T) storetest.AccessTokenStore {
			s, err := tokenstore.NewRedis(r.Client, tokenstore.Options{
				Prefix: fmt.Sprintf("%sat%d:", r.Prefix, n.Add(1)), RevocationMargin: 2 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, sleep)
	})
}
