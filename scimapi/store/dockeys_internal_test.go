package store

import (
	"encoding/json"
	"testing"
)

// TestDocInKeyMarkIsNoDocument: the mark a hash's "doc" holds while the
// document is in its key is neither JSON (what releases before compact
// resources read) nor a compact document (an unknown alias): a release
// before document keys fails on it rather than reading a resource without
// attributes.
func TestDocInKeyMarkIsNoDocument(t *testing.T) {
	if json.Valid([]byte(docInKeyMark)) {
		t.Fatal("the mark is JSON")
	}
	if _, err := expandDoc(docInKeyMark); err == nil {
		t.Fatal("the mark expands")
	}
	if dv, doc := docValue(docInKeyMark); dv != "" || doc != docInKeyMark {
		t.Fatalf("docValue of the mark: %q %q", dv, doc)
	}
}
