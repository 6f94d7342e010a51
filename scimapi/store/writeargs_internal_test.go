package store

import (
	"encoding/json"
	"testing"
)

// TestAppendIxEntriesIsJSON: the hand-rendered "ix" fields are exactly what
// encoding/json renders for the same entries, escapes included.
func TestAppendIxEntriesIsJSON(t *testing.T) {
	for _, es := range [][]ixEntry{
		{},
		{{key: 3, value: "alice@example.com", unique: true}},
		{{key: 4, value: `a"b\<c>&` + "\x01\u2028é\xff", unique: false}, {key: 12, value: "", unique: true}},
	} {
		want := []any{}
		for _, e := range es {
			want = append(want, []any{e.key, e.value, flagInt(e.unique)})
		}
		w, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendIxEntries(nil, es)
		if err != nil || string(got) != string(w) {
			t.Fatalf("got %s %v, want %s", got, err, w)
		}
	}
}
