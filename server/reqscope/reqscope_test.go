package reqscope

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

type keyA struct{}
type keyB struct{}
type keyN int

func TestSetWithoutCopy(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/", nil)
	ctx, cancel := context.WithTimeout(New(c.Request.Context()), time.Minute)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	req := c.Request
	Set(c, keyA{}, "a")
	Set(c, keyB{}, 2)
	if c.Request != req {
		t.Error("the request was copied although it has a Scope")
	}
	if got := c.Request.Context().Value(keyA{}); got != "a" {
		t.Errorf("keyA = %v", got)
	}
	if got := c.Request.Context().Value(keyB{}); got != 2 {
		t.Errorf("keyB = %v", got)
	}
	if got := c.Request.Context().Value(keyN(1)); got != nil {
		t.Errorf("unset key = %v", got)
	}
}

func TestFallsBackLikeWithValue(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/", nil)
	Set(c, keyA{}, "no scope") // no Scope: a plain WithValue
	if got := c.Request.Context().Value(keyA{}); got != "no scope" {
		t.Fatalf("without a Scope: %v", got)
	}

	// A key some context below the Scope already carries is shadowed by
	// a context above it, as WithValue would: never put into the Scope,
	// where the older value would hide it.
	s := New(context.Background())
	inner := context.WithValue(s, keyA{}, "old")
	c.Request = c.Request.WithContext(inner)
	req := c.Request
	Set(c, keyA{}, "new")
	if c.Request == req {
		t.Error("a key already in the chain went into the Scope")
	}
	if got := c.Request.Context().Value(keyA{}); got != "new" {
		t.Errorf("keyA = %v, want new", got)
	}

	// A full Scope falls back too; every value stays readable.
	c.Request = c.Request.WithContext(New(context.Background()))
	for i := range capacity + 2 {
		Set(c, keyN(i), i)
	}
	for i := range capacity + 2 {
		if got := c.Request.Context().Value(keyN(i)); got != i {
			t.Errorf("key %d = %v", i, got)
		}
	}
}

// TestScopeIsTransparent checks that a Scope changes nothing of its
// parent's cancellation, deadline and cause.
func TestScopeIsTransparent(t *testing.T) {
	parent, cancel := context.WithCancelCause(context.Background())
	ctx, stop := context.WithTimeout(New(parent), time.Hour)
	defer stop()
	if _, ok := ctx.Deadline(); !ok {
		t.Error("no deadline")
	}
	boom := errors.New("boom")
	cancel(boom)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the parent did not reach below the Scope")
	}
	if !errors.Is(context.Cause(ctx), boom) {
		t.Errorf("cause %v", context.Cause(ctx))
	}

	short, stop2 := context.WithTimeout(New(context.Background()), time.Millisecond)
	defer stop2()
	<-short.Done()
	if !errors.Is(short.Err(), context.DeadlineExceeded) {
		t.Errorf("err %v", short.Err())
	}
}

// TestConcurrentReaders reads a Scope from other goroutines while values
// are added (run with -race).
func TestConcurrentReaders(t *testing.T) {
	s := New(context.Background())
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if v := s.Value(keyN(0)); v != nil && v != 0 {
					t.Errorf("key 0 = %v", v)
					return
				}
			}
		})
	}
	for i := range capacity {
		if ctx, added := WithValue(s, keyN(i), i); !added || ctx != s {
			t.Errorf("value %d not added to the Scope", i)
		}
	}
	close(stop)
	wg.Wait()
}
