package store_test

import (
	"context"
	"strings"
	"testing"

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
