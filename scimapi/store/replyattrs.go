package store

import "unicode/utf8"

// jsonNative reports whether v is made only of what encoding/json decodes
// a document into (map[string]any, []any, string, float64, bool, nil),
// with valid UTF-8 strings and keys: such a value encoded and decoded again
// is deeply equal to itself, so a write can answer with it instead of
// decoding the document it just stored.
func jsonNative(v any) bool {
	switch t := v.(type) {
	case nil, bool, float64:
		return true
	case string:
		return utf8.ValidString(t)
	case []any:
		for _, e := range t {
			if !jsonNative(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for k, e := range t {
			if !utf8.ValidString(k) || !jsonNative(e) {
				return false
			}
		}
		return true
	}
	return false
}
