package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/scimgate/scimgate/config"
)

// TestIdPJWTFloodOfOversizedTokensLeavesNoHeap is issue 12's attack on the
// real HTTP stack: 300 unauthenticated JWTs whose iss is 675 KB, sent from
// 30 source addresses (X-Forwarded-For through a trusted proxy), each iss
// different. Every one gets 401, and after a GC the heap is back within
// 20 MB of where it started (before the fix the IdP client cache kept
// every iss: 197 MB measured). It runs with the default token length cap
// (refused before parsing) and, with 60 tokens, with the cap at its 1 MiB
// maximum, where the 1 KiB iss limit refuses them before any lookup.
// Under -race the first sends 100 tokens (see raceEnabled).
func TestIdPJWTFloodOfOversizedTokensLeavesNoHeap(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxBytes int
		total    int
		// raceTotal replaces total under -race (see raceEnabled): still
		// more than 20 MB of iss values for a cache to keep.
		raceTotal int
		reason    string
	}{
		{"token length cap", 16 << 10, 300, 100, "-byte limit"},
		// Each token is parsed here: fewer of them keep the test fast
		// (60 × 675 KB would still be 40 MB in a cache of iss values).
		{"iss cap", 1 << 20, 60, 60, "bytes exceeds the 1024-byte limit (iss"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := miniredis.RunT(t)
			cfg := config.Default()
			cfg.Redis.URL = "redis://" + m.Addr()
			cfg.TrustedProxies = "127.0.0.1/32"
			cfg.RateLimit.MaxAuthFailures = 1_000_000 // every token must reach the authenticator
			cfg.IdP.MaxTokenBytes = tc.maxBytes
			base, logs := startGateway(t, cfg)

			start := heapAfterGC()
			// A few connections at a time: each carries a 900 KB header,
			// which must arrive within the server's ReadHeaderTimeout even
			// on a loaded CI machine under -race.
			const sources, workers = 30, 3
			total := tc.total
			if raceEnabled {
				total = tc.raceTotal
			}
			tokens := newOversizedJWTs(675_000)
			var wg sync.WaitGroup
			errs := make(chan error, total)
			for w := range workers {
				wg.Go(func() {
					client := &http.Client{Transport: &http.Transport{}}
					defer client.CloseIdleConnections()
					for i := w; i < total; i += workers {
						req, _ := http.NewRequest(http.MethodGet, base+"/scim/v2/Users", nil)
						req.Header.Set("Authorization", "Bearer "+tokens(i))
						req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i%sources+1))
						resp, err := client.Do(req)
						if err != nil {
							errs <- err
							return
						}
						resp.Body.Close()
						if resp.StatusCode != http.StatusUnauthorized {
							errs <- fmt.Errorf("status %d, want 401", resp.StatusCode)
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			end := heapAfterGC()
			t.Logf("heap after GC: %d MB before, %d MB after %d tokens", start>>20, end>>20, total)
			if end > start+20<<20 {
				t.Fatalf("heap grew from %d MB to %d MB and stayed after GC", start>>20, end>>20)
			}
			if !strings.Contains(logs.String(), tc.reason) {
				t.Fatalf("no refusal %q logged", tc.reason)
			}
			if !strings.Contains(logs.String(), "203.0.113.30") {
				t.Fatal("refusals not logged with their forwarded source addresses")
			}
		})
	}
}

// newOversizedJWTs returns a maker of JWT-shaped tokens (never valid,
// forged signature) whose iss is about issLen bytes and unique to n. The
// base64 of the long middle of iss is computed once: only the short,
// 3-byte-aligned prefix differs between tokens.
func newOversizedJWTs(issLen int) func(n int) string {
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","typ":"JWT"}`))
	sig := base64.RawURLEncoding.EncodeToString(make([]byte, 256))
	middle := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", issLen/3*3)))
	tail := base64.RawURLEncoding.EncodeToString([]byte(`","sub":"attacker"}`))
	return func(n int) string {
		prefix := fmt.Sprintf(`{"aud":"scimgate","exp":4102444800,"iss":"https://%06d.`, n)
		prefix += strings.Repeat("x", (3-len(prefix)%3)%3)
		return head + "." + base64.RawURLEncoding.EncodeToString([]byte(prefix)) + middle + tail + "." + sig
	}
}

// heapAfterGC is the live heap after two collections.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
