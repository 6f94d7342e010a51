package schema

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

func TestNormalize(t *testing.T) {
	reg := NewRegistry()
	tests := []struct {
		name    string
		group   bool
		strict  bool
		in      string
		want    string // expected JSON (compared structurally)
		errType string
		compat  int
	}{
		{name: "RFC7643 §8.1 minimal user",
			in:   `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen@example.com"}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen@example.com"}`},
		{name: "canonical case and readOnly dropped",
			in:   `{"UserName":"a","DisplayName":"A","name":{"FamilyName":"F","givenname":"G"},"id":"x","meta":{"version":"W/1"},"groups":[{"value":"g"}]}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","displayName":"A","name":{"familyName":"F","givenName":"G"}}`},
		{name: "enterprise extension under URN, unknown URNs dropped (Entra)",
			in: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","urn:microsoft:x"],
			"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"Department":"D","manager":{"value":"m","displayName":"ro"},"bogus":1},
			"urn:microsoft:x":{"foo":"bar"},"unknownAttr":5}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m"}}}`},
		{name: "URN-qualified attribute keys",
			in:   `{"urn:ietf:params:scim:schemas:core:2.0:User:userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42","urn:ietf:params:scim:schemas:core:2.0:User:name.givenName":"G"}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"a","name":{"givenName":"G"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"42"}}`},
		{name: "single value wrapped into array",
			in:   `{"userName":"a","emails":{"value":"a@b.c","primary":true}}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","emails":[{"value":"a@b.c","primary":true}]}`},
		{name: "null and empty values dropped",
			in:   `{"userName":"a","title":null,"emails":[],"name":{}}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a"}`},
		{name: "string boolean coerced (Entra)", in: `{"userName":"a","active":"False","emails":[{"value":"x","primary":"TRUE"}]}`,
			want:   `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","active":false,"emails":[{"value":"x","primary":true}]}`,
			compat: 2},
		{name: "string boolean strict", strict: true, in: `{"userName":"a","active":"False"}`, errType: scimerr.InvalidValue},
		{name: "bad boolean string", in: `{"userName":"a","active":"yes"}`, errType: scimerr.InvalidValue},
		{name: "missing userName", in: `{"displayName":"a"}`, errType: scimerr.InvalidValue},
		{name: "empty userName", in: `{"userName":""}`, errType: scimerr.InvalidValue},
		{name: "userName wrong type", in: `{"userName":5}`, errType: scimerr.InvalidValue},
		{name: "array for single-valued", in: `{"userName":"a","title":["x"]}`, errType: scimerr.InvalidValue},
		{name: "complex wrong type", in: `{"userName":"a","name":"x"}`, errType: scimerr.InvalidValue},
		{name: "two primaries", in: `{"userName":"a","emails":[{"value":"x","primary":true},{"value":"y","primary":true}]}`, errType: scimerr.InvalidValue},
		{name: "extension not an object", in: `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}`, errType: scimerr.InvalidValue},
		{name: "RFC7643 §8.4 group", group: true,
			in:   `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Tour Guides","members":[{"value":"2819c223","$ref":"https://example.com/v2/Users/2819c223","display":"Babs Jensen"}]}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Tour Guides","members":[{"value":"2819c223","$ref":"https://example.com/v2/Users/2819c223","display":"Babs Jensen"}]}`},
		{name: "group displayName required", group: true, in: `{"members":[]}`, errType: scimerr.InvalidValue},
		{name: "group member value wrong type", group: true, in: `{"displayName":"g","members":[{"value":1}]}`, errType: scimerr.InvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := reg.Users()
			if tt.group {
				rt = reg.Groups()
			}
			in := mustJSON(t, tt.in)
			before := toJSON(in)
			compat := 0
			got, err := Normalize(rt, in, Options{Strict: tt.strict, OnCompat: func(r string) {
				if r != CompatStringBoolean {
					t.Errorf("unexpected rule %s", r)
				}
				compat++
			}})
			if toJSON(in) != before {
				t.Fatal("input mutated")
			}
			if tt.errType != "" {
				wantScimErr(t, err, tt.errType)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var gotN map[string]any
			_ = json.Unmarshal([]byte(toJSON(got)), &gotN)
			if !reflect.DeepEqual(gotN, mustJSON(t, tt.want)) {
				t.Fatalf("got  %s\nwant %s", toJSON(got), tt.want)
			}
			if compat != tt.compat {
				t.Fatalf("compat calls = %d, want %d", compat, tt.compat)
			}
		})
	}
}

func TestNormalizeKeepReadOnly(t *testing.T) {
	rt := NewRegistry().Users()
	got, err := Normalize(rt, mustJSON(t, `{"id":"1","userName":"a","meta":{"lastModified":"2026-01-01T00:00:00Z"}}`), Options{KeepReadOnly: true})
	if err != nil || got["id"] != "1" || got["meta"] == nil {
		t.Fatalf("got %v %v", got, err)
	}
	_, err = Normalize(rt, mustJSON(t, `{"id":"1","userName":"a","meta":{"lastModified":"yesterday"}}`), Options{KeepReadOnly: true})
	wantScimErr(t, err, scimerr.InvalidValue)
}

func TestImmutableViolation(t *testing.T) {
	reg := NewRegistry()
	reg.AddUserExtension(&Schema{ID: "urn:test:ext", Attributes: []*Attribute{
		newAttr("badge", TypeString, "", immutable),
	}}, false)
	rt := reg.Users()
	old := mustJSON(t, `{"userName":"a","urn:test:ext":{"badge":"1"}}`)
	if err := ImmutableViolation(rt, old, mustJSON(t, `{"userName":"b","urn:test:ext":{"badge":"1"}}`)); err != nil {
		t.Fatal(err)
	}
	if err := ImmutableViolation(rt, mustJSON(t, `{"userName":"a"}`), old); err != nil {
		t.Fatal("setting an unset immutable attribute must be allowed:", err)
	}
	err := ImmutableViolation(rt, old, mustJSON(t, `{"userName":"a","urn:test:ext":{"badge":"2"}}`))
	wantScimErr(t, err, scimerr.Mutability)
	// Group members.value is immutable per element; membership changes are fine.
	g := reg.Groups()
	if err := ImmutableViolation(g, mustJSON(t, `{"displayName":"g","members":[{"value":"1"}]}`),
		mustJSON(t, `{"displayName":"g","members":[{"value":"2"}]}`)); err != nil {
		t.Fatal(err)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		`{"userName":"a","name":{"givenName":"x"},"emails":[{"value":"a","primary":"true"}]}`,
		`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"x"}},"userName":"u"}`,
		`{"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName":"x","userName":1}`,
		`{"displayName":"g","members":[{"value":"x"},null,5]}`,
		`{"userName":"a","emails":"x","active":"True","meta":{"created":"x"}}`,
	} {
		f.Add([]byte(s))
	}
	reg := NewRegistry()
	f.Fuzz(func(t *testing.T, data []byte) {
		var in map[string]any
		if json.Unmarshal(data, &in) != nil {
			return
		}
		for _, rt := range reg.ResourceTypes() {
			for _, strict := range []bool{false, true} {
				out, err := Normalize(rt, in, Options{Strict: strict})
				if err != nil {
					if _, ok := scimerr.As(err); !ok {
						t.Fatalf("non-SCIM error %T %v", err, err)
					}
					continue
				}
				// Normalising a normalised document is the identity.
				again, err := Normalize(rt, out, Options{Strict: true})
				if err != nil || !reflect.DeepEqual(again, out) {
					t.Fatalf("not idempotent: %v\n%s\n%s", err, toJSON(out), toJSON(again))
				}
				_ = Project(rt, out, []string{"userName", "emails.value"}, nil)
			}
		}
	})
}
