package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestUpstreamHealthSummaryBounded: with many unreachable upstream
// directories /readyz names the first ten by id (sorted; not by name: the
// probe is unauthenticated) and counts the rest;
// the default directory's upstream has its own entry.
func TestUpstreamHealthSummaryBounded(t *testing.T) {
	h := &upstreamHealth{results: map[string]upstreamResult{"default": {name: "default", err: "down"}}}
	if err := h.directoriesErr(); err != nil {
		t.Fatalf("no directories, yet: %v", err)
	}
	for i := range 100 {
		r := upstreamResult{name: fmt.Sprintf("name%03d", i)}
		if i%4 == 0 {
			r.err = "the upstream SCIM service is unreachable"
		}
		h.results[fmt.Sprintf("id%03d", i)] = r
	}
	s := h.directoriesErr().Error()
	if !strings.HasPrefix(s, "25 of 100 upstream directories unreachable: id000: ") || !strings.HasSuffix(s, "; and 15 more") ||
		strings.Count(s, ": the upstream") != 10 || strings.Contains(s, "id001") || strings.Contains(s, "id040") || strings.Contains(s, "name") {
		t.Fatalf("summary: %q", s)
	}
	if err := h.readyChecks()["upstreams"](t.Context()); err == nil || err.Error() != s {
		t.Fatalf("readyz check: %v", err)
	}
}
