package upstream

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzNormalize: the compatibility rules never panic on any JSON object,
// deep nesting included, and are idempotent (a request they cleaned needs
// no further cleaning); member-change derivation never panics either.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		`{"Operations":[{"op":"Replace","value":{"name.givenName":"G","active":"False","members":["a"]}}]}`,
		`{"Operations":[{"op":"Remove","path":"members","value":[{"value":"a"},"b"]},{"op":"add","path":"members","value":"c"}]}`,
		`{"Operations":[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value":"m"}}]}`,
		`{"displayName":"G","members":"a","active":"true"}`,
		`{"Operations":[{"op":"remove","path":"members[value eq \"a\"]"}],"members":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`,
	} {
		f.Add(s)
	}
	fw := New(nil, Options{})
	f.Fuzz(func(t *testing.T, s string) {
		for _, rt := range []string{"User", "Group", ""} {
			for _, isPatch := range []bool{true, false} {
				doc, err := decodeObject([]byte(s))
				if err != nil {
					return
				}
				fw.normalize(doc, rt, isPatch)
				again, _ := decodeObject(mustEncode(t, doc))
				if fw.normalize(again, rt, isPatch) {
					t.Fatalf("%s %v: not idempotent on %s", rt, isPatch, mustEncode(t, doc))
				}
				if !reflect.DeepEqual(again, mustDecode(t, mustEncode(t, doc))) {
					t.Fatal("second pass reported no change but changed the document")
				}
				memberChanges(kindPatch, doc, doc)
				memberChanges(kindCreate, doc, doc)
			}
		}
	})
}

func mustEncode(t *testing.T, v any) []byte {
	b, err := encodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustDecode(t *testing.T, b []byte) map[string]any {
	m, err := decodeObject(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
