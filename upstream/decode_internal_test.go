package upstream

import (
	"errors"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// TestDecodeObjectTrailingData: one JSON object and only whitespace after
// it; anything else is 400 invalidSyntax (RFC 7644 §3.12).
func TestDecodeObjectTrailingData(t *testing.T) {
	for body, ok := range map[string]bool{
		`{"a":1}`:             true,
		" {\"a\":1} \r\n":     true,
		`{"a":1}}`:            false,
		`{"a":1}]`:            false,
		`{"a":1} {"b":2}`:     false,
		`{"a":1} x`:           false,
		`{"a":1`:              false,
		`null`:                false,
		`{"a":1.50000000001}`: true,
	} {
		doc, err := decodeObject([]byte(body))
		if ok {
			if err != nil || doc["a"] == nil {
				t.Errorf("%q: %v %v", body, doc, err)
			}
			continue
		}
		var se *scimerr.Error
		if !errors.As(err, &se) || se.Status != 400 || se.ScimType != scimerr.InvalidSyntax {
			t.Errorf("%q: %v, want 400 invalidSyntax", body, err)
		}
	}
	if doc, _ := decodeObject([]byte(`{"a":1.50000000001}`)); !strings.HasPrefix(doc["a"].(interface{ String() string }).String(), "1.50000000001") {
		t.Errorf("number not kept exact: %v", doc["a"])
	}
}
