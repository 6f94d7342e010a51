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
// has no CONFIG GET, gives an error (the gateway then says nothing).
func TestListpackAdvice(t *testing.T) {
	ctx := context.Background()
	def := redistest.StartServer(t)
	advice, err := store.ListpackAdvice(ctx, def.Client())
	if err != nil || !strings.Contains(advice, "hash-max-listpack-value 64") {
		t.Fatalf("default server: %q %v", advice, err)
	}
	tuned := redistest.StartServer(t, "--hash-max-listpack-value", "1024")
	if advice, err := store.ListpackAdvice(ctx, tuned.Client()); err != nil || advice != "" {
		t.Fatalf("server with 1024: %q %v", advice, err)
	}
	if advice, err := store.ListpackAdvice(ctx, redistest.Mini(t).Client); err == nil || advice != "" {
		t.Fatalf("miniredis: %q %v", advice, err)
	}
}
