package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestListpackAdvice: a redis-server with its default hash-max-listpack-value
// (64) gets advice, one with the recommended value none; miniredis, which
// has no CONFIG GET, gives an error (the gateway then says nothing) and the
// value known stays Redis's default.
func TestListpackAdvice(t *testing.T) {
	ctx := context.Background()
	var lv store.ListpackValue
	n, err := lv.Read(ctx, redistest.StartServer(t).Client())
	if advice := store.ListpackAdvice(n); err != nil || n != 64 || lv.Get() != 64 || !strings.Contains(advice, "hash-max-listpack-value 64") {
		t.Fatalf("default server: %d %q %v", n, advice, err)
	}
	n, err = lv.Read(ctx, redistest.StartServer(t, "--hash-max-listpack-value", "1024").Client())
	if advice := store.ListpackAdvice(n); err != nil || n != 1024 || lv.Get() != 1024 || advice != "" {
		t.Fatalf("server with 1024: %d %q %v", n, advice, err)
	}
	var mini store.ListpackValue
	if _, err := mini.Read(ctx, redistest.Mini(t).Client); err == nil || mini.Get() != store.DefaultListpackValue {
		t.Fatalf("miniredis: %d %v", mini.Get(), err)
	}
	if (*store.ListpackValue)(nil).Get() != store.DefaultListpackValue {
		t.Fatal("nil ListpackValue")
	}
}

// TestListpackLearn: Learn keeps asking while Redis is out of reach and
// learns the value once it answers; it gives up at once on a server that
// will not tell (miniredis has no CONFIG GET).
func TestListpackLearn(t *testing.T) {
	ctx := context.Background()
	srv := redistest.StartServer(t, "--hash-max-listpack-value", "512")
	c := srv.Client()
	srv.Kill()
	var lv store.ListpackValue
	got := make(chan error, 1)
	go func() {
		_, err := lv.Learn(ctx, c, time.Second, 20*time.Millisecond)
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if lv.Get() != store.DefaultListpackValue {
		t.Fatalf("value known with Redis down: %d", lv.Get())
	}
	srv.Start()
	select {
	case err := <-got:
		if err != nil || lv.Get() != 512 {
			t.Fatalf("after Redis came up: %d %v", lv.Get(), err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Learn did not return 10 s after Redis came up")
	}
	var mini store.ListpackValue
	if _, err := mini.Learn(ctx, redistest.Mini(t).Client, time.Second, time.Hour); !errors.Is(err, store.ErrListpackUnknown) {
		t.Fatalf("miniredis: %v", err)
	}
}

// TestListpackLearnBusy: a server busy with a long script answers BUSY,
// a passing state, not a refusal: Learn asks again and learns the value
// once the script ends.
func TestListpackLearnBusy(t *testing.T) {
	ctx := context.Background()
	srv := redistest.StartServer(t, "--busy-reply-threshold", "20")
	c := srv.Client()
	busy := make(chan error, 1)
	go func() {
		// holds the server for about 600 ms
		busy <- srv.Client().Eval(ctx, `local t = redis.call('TIME')
local stop = tonumber(t[1]) * 1000000 + tonumber(t[2]) + 600000
repeat t = redis.call('TIME') until tonumber(t[1]) * 1000000 + tonumber(t[2]) > stop
return 1`, nil).Err()
	}()
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if err := c.Ping(ctx).Err(); err != nil && strings.HasPrefix(err.Error(), "BUSY") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never answered BUSY")
		}
	}
	var lv store.ListpackValue
	n, err := lv.Learn(ctx, c, time.Second, 20*time.Millisecond)
	if err != nil || n != 64 {
		t.Fatalf("Learn while the server was busy: %d %v", n, err)
	}
	if err := <-busy; err != nil {
		t.Fatal(err)
	}
}
