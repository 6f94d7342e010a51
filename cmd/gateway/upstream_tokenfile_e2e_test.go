package main

import (
	"os"
	"sync/atomic"
	"testing"
)

// TestUpstreamTokenFileRotation: the configuration's upstream.token_file
// is rotated while the gateway runs and the upstream accepts only the new
// token from then on; the next SCIM request succeeds without a restart
// (the 401 makes the gateway re-read the file and resend).
func TestUpstreamTokenFileRotation(t *testing.T) {
	var want atomic.Value
	want.Store("Bearer first-upstream-token")
	peer, _ := startPeerWith(t, false, func(auth string) bool { return auth == want.Load().(string) }, nil)
	cfg := upstreamConfig(t, peer.URL+"/scim/v2", "first-upstream-token")
	c := newSCIMClient(t, cfg)
	if code, b := c.do("POST", "/scim/v2/Users", newUser("ada@example.com")); code != 201 {
		t.Fatalf("create: %d %v", code, b)
	}
	if err := os.WriteFile(cfg.Upstream.TokenFile, []byte("second-upstream-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want.Store("Bearer second-upstream-token")
	if code, b := c.do("GET", "/scim/v2/Users", ""); code != 200 || b["totalResults"] != float64(1) {
		t.Fatalf("after rotation: %d %v", code, b)
	}
}
