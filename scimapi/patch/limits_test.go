package patch

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

func TestLimitsRefuseBeforeApplying(t *testing.T) {
	users := schema.NewRegistry().Users()
	user := decode(t, storedUser)
	title := Operation{Op: "replace", Path: "title", Value: "x"}
	for _, tt := range []struct {
		name     string
		ops      []Operation
		lim      Limits
		scimType string
		detail   string
	}{
		{"operations over the default", make([]Operation, 1001), Limits{}, scimerr.InvalidValue, "at most 1000 are allowed"},
		{"operations over a set limit", []Operation{title, title, title}, Limits{MaxOperations: 2}, scimerr.InvalidValue, "the request has 3 operations; at most 2"},
		{"path over the default length", []Operation{{Op: "replace", Path: strings.Repeat("a", 1025), Value: "x"}}, Limits{}, scimerr.InvalidPath, "path length exceeds 1024 bytes"},
		// RFC 7644 §3.12: invalidFilter is the scimType of a PATCH path filter.
		{"value filter nested too deep", []Operation{title, {Op: "remove", Path: "emails[" + strings.Repeat("(", 32) + `type eq "work"` + strings.Repeat(")", 32) + "]"}}, Limits{}, scimerr.InvalidFilter, "operation 1: path nesting depth exceeds 32"},
		{"100,000 brackets", []Operation{{Op: "remove", Path: "emails" + strings.Repeat("[", 100_000)}}, Limits{MaxPathLength: 1 << 20, Filter: filter.Limits{MaxLength: 1 << 20}}, scimerr.InvalidFilter, "path nesting depth exceeds 32"},
		{"value filter with too many terms", []Operation{{Op: "remove", Path: "emails[" + strings.Repeat(`type eq "w" or `, 5) + `type eq "w"]`}}, Limits{Filter: filter.Limits{MaxTerms: 10}}, scimerr.InvalidFilter, "path has more than 10 terms"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := deepCopy(user).(map[string]any)
			_, err := Apply(users, user, tt.ops, Options{Limits: tt.lim})
			se, ok := scimerr.As(err)
			if !ok || se.Status != 400 || se.ScimType != tt.scimType || !strings.Contains(se.Detail, tt.detail) {
				t.Fatalf("want 400 %s %q, got %v", tt.scimType, tt.detail, err)
			}
			if !reflect.DeepEqual(before, user) {
				t.Fatal("the document changed")
			}
		})
	}
	// At the limits, the same requests apply.
	if _, err := Apply(users, user, []Operation{title, title}, Options{Limits: Limits{MaxOperations: 2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(users, user, []Operation{{Op: "remove", Path: `emails[not (type eq "work")]`}}, Options{Limits: Limits{Filter: filter.Limits{MaxDepth: 2, MaxTerms: 2}}}); err != nil {
		t.Fatal(err)
	}
}
