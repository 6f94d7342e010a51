package main

import (
	"encoding/base64"
	"encoding/json"
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
// every iss: about 200 MB). It runs with the default token length cap
// (refused before parsing) and with the cap at its 1 MiB maximum, where
// the 1 KiB iss limit refuses them before any lookup.
func TestIdPJWTFloodOfOversizedTokensLeavesNoHeap(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxBytes int
		reason   string
	}{
		{"token length cap", 16 << 10, "-byte limit"},
		{"iss cap", 1 << 20, "iss of 675000 bytes exceeds the 1024-byte limit"},
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
			const sources, perSource = 30, 10
			var wg sync.WaitGroup
			errs := make(chan error, sources*perSource)
			for s := range sources {
				wg.Go(func() {
					client := &http.Client{Transport: &http.Transport{}}
					defer client.CloseIdleConnections()
					for i := range perSource {
						req, _ := http.NewRequest(http.MethodGet, base+"/scim/v2/Users", nil)
						req.Header.Set("Authorization", "Bearer "+oversizedJWT(s*perSource+i, 675_000))
						req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", s+1))
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
			t.Logf("heap after GC: %d MB before, %d MB after %d tokens", start>>20, end>>20, sources*perSource)
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

// oversizedJWT is a JWT-shaped token (never valid, forged signature)
// whose iss is issLen bytes and unique to n.
func oversizedJWT(n, issLen int) string {
	prefix := fmt.Sprintf("https://%d.", n)
	iss := prefix + strings.Repeat("x", issLen-len(prefix))
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	p, _ := json.Marshal(map[string]any{"iss": iss, "sub": "attacker", "aud": "scimgate", "exp": 4102444800})
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "." +
		base64.RawURLEncoding.EncodeToString(make([]byte, 256))
}

// heapAfterGC is the live heap after two collections.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
