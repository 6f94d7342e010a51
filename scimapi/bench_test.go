package scimapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// Benchmarks run through the whole HTTP handler (routing, auth middleware,
// JSON, store) on the real Redis at SCIMGATE_TEST_REDIS_URL when set, else
// on miniredis. Run them with:
//
//	SCIMGATE_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench . -benchtime 2s ./scimapi/
func benchBackend(b *testing.B) *redistest.Redis {
	if os.Getenv(redistest.EnvURL) != "" {
		return redistest.Real(b)
	}
	return redistest.Mini(b)
}

type benchEnv struct {
	*env
	st store.Store
}

func newBenchEnv(b *testing.B) *benchEnv {
	r := benchBackend(b)
	t := &testing.T{}
	e := newEnv(t, r, false)
	return &benchEnv{env: e, st: store.NewRedis(r.Client, r.Prefix)}
}

func (e *benchEnv) serve(b *testing.B, method, path, body string, want int) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer scim_v2")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, req)
	if w.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body.String())
	}
}

// seedUsers creates n users named u<i> directly in the store, in parallel.
func seedUsers(b *testing.B, st store.Store, n int) []string {
	ids := make([]string, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r, err := st.Create(context.Background(), store.TypeUser, map[string]any{
					"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprintf("u%d@example.com", i), "active": true,
				}, nil, nil)

				if err != nil {
					b.Error(err)
					return
				}
				ids[i] = r.ID
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	return ids
}

func BenchmarkGetUserByID(b *testing.B) {
	e := newBenchEnv(b)
	id := seedUsers(b, e.st, 1)[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.serve(b, "GET", "/scim/v2/Users/"+id, "", 200)
	}
}

func BenchmarkListUserNameEq(b *testing.B) {
	e := newBenchEnv(b)
	seedUsers(b, e.st, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.serve(b, "GET", "/scim/v2/Users?filter=userName+eq+%22u500@example.com%22", "", 200)
	}
}

// BenchmarkListUserNameEqDistinct is the IdP lookup pattern of an initial
// sync on a 10,000-user store: every request filters on a different
// userName (half of them absent), so a cache keyed by the filter text
// never hits. Run with -benchmem to see allocations per request.
func BenchmarkListUserNameEqDistinct(b *testing.B) {
	e := newBenchEnv(b)
	const n = 10000
	seedUsers(b, e.st, n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		e.serve(b, "GET", fmt.Sprintf("/scim/v2/Users?filter=userName+eq+%%22u%d@example.com%%22", i%(2*n)), "", 200)
	}
}

// BenchmarkUserNameEqScale compares the indexed lookup at 1,000 and
// 100,000 stored users: the ratio should stay near 1.
func BenchmarkUserNameEqScale(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			e := newBenchEnv(b)
			seedUsers(b, e.st, n)
			path := fmt.Sprintf("/scim/v2/Users?filter=userName+eq+%%22u%d@example.com%%22", n/2)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.serve(b, "GET", path, "", 200)
			}
		})
	}
}

func BenchmarkCreateUser(b *testing.B) {
	e := newBenchEnv(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.serve(b, "POST", "/scim/v2/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"n%d","active":true,"emails":[{"value":"n%d@example.com","type":"work","primary":true}]}`, i, i), 201)
	}
}

func BenchmarkPatchReplace(b *testing.B) {
	e := newBenchEnv(b)
	id := seedUsers(b, e.st, 1)[0]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.serve(b, "PATCH", "/scim/v2/Users/"+id, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"t%d"}]}`, i), 200)
	}
}

// BenchmarkPatchAddMemberLargeGroup adds (and, every other iteration,
// removes) one member of a group that already has 1,000, 10,000 or 50,000
// members: the cost must not grow with the group.
func BenchmarkPatchAddMemberLargeGroup(b *testing.B) {
	for _, size := range []int{1000, 10000, 50000} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) { benchMemberPatch(b, size) })
	}
}

func benchMemberPatch(b *testing.B, size int) {
	e := newBenchEnv(b)
	ids := seedUsers(b, e.st, size+1)
	g, err := e.st.Create(context.Background(), store.TypeGroup, map[string]any{"displayName": "big"}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < size; i += 1000 {
		var ms []store.Member
		for _, id := range ids[i:min(i+1000, size)] {
			ms = append(ms, store.Member{Value: id})
		}
		if _, _, err := e.st.Update(context.Background(), store.TypeGroup, g.ID, store.Condition{}, nil, &store.MemberChange{Add: ms}, nil); err != nil {
			b.Fatal(err)
		}
	}
	extra := ids[size]
	add := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + extra + `"}]}]}`
	remove := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"` + extra + `\"]"}]}`
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := add
		if i%2 == 1 {
			body = remove
		}
		e.serve(b, "PATCH", "/scim/v2/Groups/"+g.ID, body, 204)
	}
}
