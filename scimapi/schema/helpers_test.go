package schema

import (
	"encoding/json"
	"testing"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

func mustJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func wantScimErr(t *testing.T, err error, scimType string) {
	t.Helper()
	e, ok := scimerr.As(err)
	if !ok {
		t.Fatalf("want *scimerr.Error %s, got %v", scimType, err)
	}
	if e.ScimType != scimType || e.Status != 400 {
		t.Fatalf("want 400 %s, got %d %s (%s)", scimType, e.Status, e.ScimType, e.Detail)
	}
}
