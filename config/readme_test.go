package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEDocumentsEveryKey keeps the README's configuration reference
// complete: every key and its environment name must appear there.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for _, k := range Keys() {
		if !strings.Contains(readme, "`"+k.Name+"`") || !strings.Contains(readme, "`"+k.Env+"`") {
			t.Errorf("README lacks key %s / %s", k.Name, k.Env)
		}
	}
}
