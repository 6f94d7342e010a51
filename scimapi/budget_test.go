package scimapi_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestSortedPages: sortBy pages, read one window at a time, add up to the
// whole collection in RFC 7644 §3.4.2.3 order (caseExact=false strings
// compared case-insensitively, missing values last ascending and first
// descending), ties broken by id, although the sort keeps only
// startIndex+count-1 keys.
func TestSortedPages(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		e := newEnv(t, r, false)
		type row struct{ id, family string }
		var rows []row
		for i := 0; i < 40; i++ {
			u := map[string]any{"userName": fmt.Sprintf("s%02d", i)}
			family := ""
			if i%9 != 0 { // every ninth has no familyName
				family = []string{"Bravo", "alpha", "Charlie", "ALPHA", "delta"}[(i*7)%5]
				u["name"] = map[string]any{"familyName": family}
			}
			id := str(e.must(e.do("POST", "/scim/v2/Users", u), 201).body["id"])
			rows = append(rows, row{id, family})
		}
		for _, desc := range []bool{false, true} {
			want := slices.Clone(rows)
			slices.SortFunc(want, func(a, b row) int {
				var c int
				switch {
				case a.family == "" && b.family != "":
					c = 1
				case b.family == "" && a.family != "":
					c = -1
				default:
					c = strings.Compare(strings.ToLower(a.family), strings.ToLower(b.family))
				}
				if desc {
					c = -c
				}
				if c == 0 {
					c = strings.Compare(a.id, b.id)
				}
				return c
			})
			order := "ascending"
			if desc {
				order = "descending"
			}
			var got []string
			for start := 1; start <= len(rows); start += 7 {
				r := list(t, e, fmt.Sprintf("sortBy=name.familyName&sortOrder=%s&startIndex=%d&count=7", order, start))
				if r.body["totalResults"] != float64(len(rows)) {
					t.Fatalf("totalResults %v", r.body["totalResults"])
				}
				for _, x := range r.body["Resources"].([]any) {
					got = append(got, str(x.(map[string]any)["id"]))
				}
			}
			for i := range want {
				if i >= len(got) || got[i] != want[i].id {
					t.Fatalf("%s: position %d: got %v, want %v", order, i+1, got, want)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d results, want %d", order, len(got), len(want))
			}
		}
	})
}

// TestQueryBudgets: a list or search over its budget is refused with 400
// tooMany (RFC 7644 §3.4.2.2, §3.12), before reading when the collection
// is already too large; indexed lookups and id paging are unaffected.
func TestQueryBudgets(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		st := store.NewRedis(r.Client, r.Prefix)
		for i := 0; i < 30; i++ {
			if _, err := st.Create(context.Background(), store.TypeUser, map[string]any{"userName": fmt.Sprintf("b%02d", i), "title": "eng"}, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		e := newEnvWith(t, r, func(o *scimapi.Options) { o.ScanRows = 29; o.SortWindow = 20 })
		tooMany := func(query string) {
			t.Helper()
			wantError(t, e.do("GET", "/scim/v2/Users?"+query, nil), 400, "tooMany")
		}
		tooMany("filter=" + urlq(`title eq "eng"`))      // unindexed: 30 > 29 rows
		tooMany("sortBy=userName")                       // a sort examines every user
		tooMany("sortBy=userName&startIndex=20&count=2") // window 21 > 20
		wantError(t, e.do("POST", "/scim/v2/.search", map[string]any{"filter": `title eq "eng"`}), 400, "tooMany")
		if r := list(t, e, "filter="+urlq(`userName eq "b07"`)); userNames(r)[0] != "b07" {
			t.Fatalf("indexed lookup: %s", r.raw)
		}
		if r := list(t, e, "startIndex=25&count=10"); r.body["totalResults"] != float64(30) || len(userNames(r)) != 6 {
			t.Fatalf("unfiltered paging: %s", r.raw)
		}

		roomy := newEnvWith(t, r, func(o *scimapi.Options) { o.ScanRows = 30; o.SortWindow = 20 })
		if r := roomy.must(roomy.do("GET", "/scim/v2/Users?sortBy=userName&sortOrder=descending&startIndex=19&count=2", nil), 200); strings.Join(userNames(r), ",") != "b11,b10" {
			t.Fatalf("sorted window at the limit: %s", r.raw)
		}
		roomy.must(roomy.do("GET", "/scim/v2/Users?filter="+urlq(`title eq "eng"`), nil), 200)

		slow := newEnvWith(t, r, func(o *scimapi.Options) { o.ScanTime = time.Nanosecond })
		wantError(t, slow.do("GET", "/scim/v2/Users?filter="+urlq(`title eq "eng"`), nil), 400, "tooMany")
		// an index scan (userName co) is held to the time budget too, also
		// when it finds no candidate to read
		wantError(t, slow.do("GET", "/scim/v2/Users?filter="+urlq(`userName co "zz9"`), nil), 400, "tooMany")
		slow.must(slow.do("GET", "/scim/v2/Users?filter="+urlq(`userName eq "b01"`), nil), 200)
	})
}
