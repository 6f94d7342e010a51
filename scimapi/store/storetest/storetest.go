// Package storetest is the conformance suite every store.Store must pass.
// Each backend's test calls Run with a constructor; see store's redis_test.go.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/scimgate/scimgate/scimapi/store"
)

// Run runs the whole suite; newStore returns an empty store per test.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"CRUD", testCRUD},
		{"Uniqueness", testUniqueness},
		{"IndexesFollowUpdates", testIndexesFollowUpdates},
		{"Versions", testVersions},
		{"TypeIsolation", testTypeIsolation},
		{"Members", testMembers},
		{"DeleteCleansMemberships", testDeleteCleansMemberships},
		{"ScanAndCount", testScanAndCount},
		{"GetManyInSteps", testGetManyInSteps},
		{"ConcurrentCreateSameUserName", testConcurrentCreate},
		{"Roles", testRoles},
		{"AttrVersionIgnoresMemberChanges", testAttrVersion},
		{"ConcurrentMemberAdds", testConcurrentMemberAdds},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

var ctx = context.Background()

func mustCreate(t *testing.T, s store.Store, typ string, attrs map[string]any, members ...store.Member) *store.Resource {
	t.Helper()
	r, err := s.Create(ctx, typ, attrs, members, nil)
	if err != nil {
		t.Fatalf("create %v: %v", attrs, err)
	}
	return r
}

func user(name string) map[string]any { return map[string]any{"userName": name} }

func testCRUD(t *testing.T, s store.Store) {
	u := mustCreate(t, s, store.TypeUser, map[string]any{"userName": "bjensen", "name": map[string]any{"givenName": "Barbara"}})
	if u.ID == "" || u.Version != 1 || u.Created.IsZero() || !u.Created.Equal(u.Modified) {
		t.Fatalf("created %+v", u)
	}
	got, err := s.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{})
	if err != nil || got.Attrs["userName"] != "bjensen" {
		t.Fatalf("get: %+v %v", got, err)
	}
	upd, changed, err := s.Update(ctx, store.TypeUser, u.ID, store.Condition{Version: 1}, map[string]any{"userName": "bjensen", "title": "CEO"}, nil, nil)
	if err != nil || !changed || upd.Version != 2 || upd.Attrs["title"] != "CEO" || upd.Attrs["name"] != nil {
		t.Fatalf("update: %+v %v %v", upd, changed, err)
	}
	if !upd.Modified.After(upd.Created) && !upd.Modified.Equal(upd.Created) {
		t.Fatalf("modified before created")
	}
	if err := s.Delete(ctx, store.TypeUser, u.ID, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := s.Delete(ctx, store.TypeUser, u.ID, 0, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, _, err := s.Update(ctx, store.TypeUser, u.ID, store.Condition{}, user("x"), nil, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
}

func wantUniqueness(t *testing.T, err error, attr string) {
	t.Helper()
	var ue *store.UniquenessError
	if !errors.As(err, &ue) || ue.Attr != attr {
		t.Fatalf("want uniqueness on %s, got %v", attr, err)
	}
}

func testUniqueness(t *testing.T, s store.Store) {
	mustCreate(t, s, store.TypeUser, map[string]any{"userName": "Alice", "externalId": "ext-1"})
	_, err := s.Create(ctx, store.TypeUser, user("aLICE"), nil, nil)
	wantUniqueness(t, err, "userName") // RFC 7643 §4.1.1: userName caseExact false
	// externalId is indexed but not unique (RFC 7643 §3.1: uniqueness
	// "none"; Entra maps mailNickname to it, which repeats).
	bob := mustCreate(t, s, store.TypeUser, map[string]any{"userName": "bob", "externalId": "ext-1"})
	ids, err := s.Lookup(ctx, store.TypeUser, "externalId", "ext-1")
	if err != nil || len(ids) != 2 || !slices.Contains(ids, bob.ID) {
		t.Fatalf("externalId lookup: %v %v", ids, err)
	}
	// externalId is caseExact: a different case is a different value.
	mustCreate(t, s, store.TypeUser, map[string]any{"userName": "carol", "externalId": "EXT-1"})
	if ids, _ := s.Lookup(ctx, store.TypeUser, "externalId", "EXT-1"); len(ids) != 1 {
		t.Fatalf("caseExact externalId lookup: %v", ids)
	}
	// Group externalIds are a separate namespace; displayNames need not be unique.
	mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "Admins", "externalId": "ext-1"})
	mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "admins", "externalId": "ext-1"})
	if ids, _ := s.Lookup(ctx, store.TypeGroup, "externalId", "ext-1"); len(ids) != 2 {
		t.Fatalf("group externalId lookup: %v", ids)
	}
	ids, err = s.Lookup(ctx, store.TypeGroup, "displayName", "ADMINS")
	if err != nil || len(ids) != 2 {
		t.Fatalf("displayName lookup: %v %v", ids, err)
	}
	ids, err = s.Lookup(ctx, store.TypeUser, "userName", "ALICE")
	if err != nil || len(ids) != 1 {
		t.Fatalf("userName lookup: %v %v", ids, err)
	}
}

func testIndexesFollowUpdates(t *testing.T, s store.Store) {
	u := mustCreate(t, s, store.TypeUser, map[string]any{"userName": "old", "externalId": "e1"})
	if _, _, err := s.Update(ctx, store.TypeUser, u.ID, store.Condition{}, map[string]any{"userName": "new"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for attr, want := range map[string]int{"old": 0, "new": 1} {
		ids, _ := s.Lookup(ctx, store.TypeUser, "userName", attr)
		if len(ids) != want {
			t.Fatalf("lookup %s = %v", attr, ids)
		}
	}
	if ids, _ := s.Lookup(ctx, store.TypeUser, "externalId", "e1"); len(ids) != 0 {
		t.Fatalf("removed externalId still indexed: %v", ids)
	}
	// The freed names are reusable; the taken one is not.
	mustCreate(t, s, store.TypeUser, map[string]any{"userName": "old", "externalId": "e1"})
	_, _, err := s.Update(ctx, store.TypeUser, u.ID, store.Condition{}, user("OLD"), nil, nil)
	wantUniqueness(t, err, "userName")
	// A failed update changes nothing.
	got, _ := s.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{})
	if got.Attrs["userName"] != "new" || got.Version != 2 {
		t.Fatalf("failed update changed state: %+v", got)
	}
	g := mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "Eng"})
	if _, _, err := s.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, map[string]any{"displayName": "Sales"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.Lookup(ctx, store.TypeGroup, "displayName", "eng"); len(ids) != 0 {
		t.Fatalf("old displayName still indexed: %v", ids)
	}
}

func testVersions(t *testing.T, s store.Store) {
	u := mustCreate(t, s, store.TypeUser, user("v"))
	if _, _, err := s.Update(ctx, store.TypeUser, u.ID, store.Condition{Version: 7}, user("v2"), nil, nil); !errors.Is(err, store.ErrVersionMismatch) {
		t.Fatalf("stale version: %v", err)
	}
	r, changed, err := s.Update(ctx, store.TypeUser, u.ID, store.Condition{Version: 1}, user("v"), nil, nil)
	if err != nil || changed || r.Version != 1 || !r.Modified.Equal(u.Modified) {
		t.Fatalf("no-op update: %+v changed=%v %v", r, changed, err)
	}
	if err := s.Delete(ctx, store.TypeUser, u.ID, 9, nil); !errors.Is(err, store.ErrVersionMismatch) {
		t.Fatalf("delete stale: %v", err)
	}
	if err := s.Delete(ctx, store.TypeUser, u.ID, 1, nil); err != nil {
		t.Fatal(err)
	}
}

func testTypeIsolation(t *testing.T, s store.Store) {
	u := mustCreate(t, s, store.TypeUser, user("iso"))
	if _, err := s.Get(ctx, store.TypeGroup, u.ID, store.ReadOptions{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user read as group: %v", err)
	}
	if err := s.Delete(ctx, store.TypeGroup, u.ID, 0, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user deleted as group: %v", err)
	}
	if _, _, err := s.Update(ctx, store.TypeGroup, u.ID, store.Condition{}, map[string]any{"displayName": "x"}, nil, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user updated as group: %v", err)
	}
}

func memberIDs(r *store.Resource) []string {
	var ids []string
	for _, m := range r.Members {
		ids = append(ids, m.Value)
	}
	slices.Sort(ids)
	return ids
}

func testMembers(t *testing.T, s store.Store) {
	a := mustCreate(t, s, store.TypeUser, user("a"))
	b := mustCreate(t, s, store.TypeUser, user("b"))
	_, err := s.Create(ctx, store.TypeGroup, map[string]any{"displayName": "G"}, []store.Member{{Value: "nope"}}, nil)
	var ime *store.InvalidMemberError
	if !errors.As(err, &ime) || ime.ID != "nope" {
		t.Fatalf("missing member: %v", err)
	}
	g := mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "G"}, store.Member{Value: a.ID, Display: "A"})
	if len(g.Members) != 1 || g.Members[0].Type != store.TypeUser || g.Members[0].Display != "A" {
		t.Fatalf("members %+v", g.Members)
	}
	inner := mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "Inner"})
	r, changed, err := s.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, nil, &store.MemberChange{Add: []store.Member{{Value: b.ID}, {Value: inner.ID}}}, nil)
	if err != nil || !changed || r.Version != 2 || r.Members != nil {
		t.Fatalf("add (members are not read back): %+v %v %v", r, changed, err)
	}
	r, _ = s.Get(ctx, store.TypeGroup, g.ID, store.ReadOptions{Members: true})
	if len(r.Members) != 3 {
		t.Fatalf("after add: %v", memberIDs(r))
	}
	for _, m := range r.Members {
		if m.Value == inner.ID && m.Type != store.TypeGroup {
			t.Fatalf("nested group typed %q", m.Type)
		}
	}
	// Re-adding and removing absent members changes nothing.
	r, changed, err = s.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, nil, &store.MemberChange{Add: []store.Member{{Value: b.ID}}, Remove: []string{"absent"}}, nil)
	if err != nil || changed || r.Version != 2 {
		t.Fatalf("no-op member change: v=%d changed=%v %v", r.Version, changed, err)
	}
	ua, _ := s.Get(ctx, store.TypeUser, a.ID, store.ReadOptions{Groups: true})
	if len(ua.Groups) != 1 || ua.Groups[0].Value != g.ID || ua.Groups[0].Display != "G" {
		t.Fatalf("user groups %+v", ua.Groups)
	}
	_, _, err = s.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, nil, &store.MemberChange{Remove: []string{a.ID}}, nil)
	r, _ = s.Get(ctx, store.TypeGroup, g.ID, store.ReadOptions{Members: true})
	if err != nil || !slices.Equal(memberIDs(r), sortedIDs(b.ID, inner.ID)) {
		t.Fatalf("remove: %v %v", memberIDs(r), err)
	}
	if ua, _ = s.Get(ctx, store.TypeUser, a.ID, store.ReadOptions{Groups: true}); len(ua.Groups) != 0 {
		t.Fatalf("removed user still lists group: %+v", ua.Groups)
	}
	// Removing a non-member with RemovePresent fails and changes nothing.
	_, _, err = s.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, nil, &store.MemberChange{Remove: []string{"absent"}, RemoveExisting: []string{b.ID, a.ID}}, nil)
	var nte *store.NoTargetError
	if !errors.As(err, &nte) || nte.ID != a.ID {
		t.Fatalf("remove non-member: %v", err)
	}
	if r, _ = s.Get(ctx, store.TypeGroup, g.ID, store.ReadOptions{Members: true}); len(r.Members) != 2 {
		t.Fatalf("failed remove changed members: %v", memberIDs(r))
	}
	// Replace with an empty list empties the group (Okta).
	_, changed, err = s.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, nil, &store.MemberChange{Replace: true}, nil)
	r, _ = s.Get(ctx, store.TypeGroup, g.ID, store.ReadOptions{Members: true})
	if err != nil || !changed || len(r.Members) != 0 {
		t.Fatalf("replace empty: %+v %v", r, err)
	}
	// Renaming the group renames it in its members' groups attribute.
	if _, _, err := s.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, map[string]any{"displayName": "Renamed"}, &store.MemberChange{Add: []store.Member{{Value: a.ID}}}, nil); err != nil {
		t.Fatal(err)
	}
	if ua, _ = s.Get(ctx, store.TypeUser, a.ID, store.ReadOptions{Groups: true}); len(ua.Groups) != 1 || ua.Groups[0].Display != "Renamed" {
		t.Fatalf("groups after rename %+v", ua.Groups)
	}
	// A failed member change is atomic with the attribute change.
	_, _, err = s.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, map[string]any{"displayName": "Other"}, &store.MemberChange{Add: []store.Member{{Value: "ghost"}}}, nil)
	if !errors.As(err, &ime) {
		t.Fatalf("ghost member: %v", err)
	}
	if gr, _ := s.Get(ctx, store.TypeGroup, g.ID, store.ReadOptions{}); gr.Attrs["displayName"] != "Renamed" {
		t.Fatalf("failed update partly applied: %+v", gr.Attrs)
	}
}

func sortedIDs(ids ...string) []string { slices.Sort(ids); return ids }

func testDeleteCleansMemberships(t *testing.T, s store.Store) {
	u := mustCreate(t, s, store.TypeUser, user("gone"))
	keep := mustCreate(t, s, store.TypeUser, user("keep"))
	g1 := mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "g1"}, store.Member{Value: u.ID}, store.Member{Value: keep.ID})
	g2 := mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "g2"}, store.Member{Value: u.ID})
	if err := s.Delete(ctx, store.TypeUser, u.ID, 0, nil); err != nil {
		t.Fatal(err)
	}
	r1, _ := s.Get(ctx, store.TypeGroup, g1.ID, store.ReadOptions{Members: true})
	r2, _ := s.Get(ctx, store.TypeGroup, g2.ID, store.ReadOptions{Members: true})
	if !slices.Equal(memberIDs(r1), []string{keep.ID}) || len(r2.Members) != 0 {
		t.Fatalf("memberships left: %v %v", memberIDs(r1), memberIDs(r2))
	}
	if r1.Version != 2 || r2.Version != 2 {
		t.Fatalf("groups that lost a member keep their version: %d %d", r1.Version, r2.Version)
	}
	if err := s.Delete(ctx, store.TypeGroup, g1.ID, 0, nil); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.Get(ctx, store.TypeUser, keep.ID, store.ReadOptions{Groups: true}); len(k.Groups) != 0 {
		t.Fatalf("deleted group still listed on member: %+v", k.Groups)
	}
}

func testScanAndCount(t *testing.T, s store.Store) {
	var ids []string
	for i := 0; i < 25; i++ {
		ids = append(ids, mustCreate(t, s, store.TypeUser, user(fmt.Sprintf("u%02d", i))).ID)
	}
	mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "not a user"})
	if n, err := s.Count(ctx, store.TypeUser); err != nil || n != 25 {
		t.Fatalf("count %d %v", n, err)
	}
	var seen []string
	err := s.Scan(ctx, store.TypeUser, "", 7, store.ReadOptions{}, func(rs []*store.Resource) (bool, error) {
		if len(rs) > 7 {
			t.Fatalf("batch of %d", len(rs))
		}
		for _, r := range rs {
			seen = append(seen, r.ID)
		}
		return true, nil
	})
	if err != nil || !slices.Equal(seen, ids) {
		t.Fatalf("scan order differs from creation order: %v", err)
	}
	seen = nil
	_ = s.Scan(ctx, store.TypeUser, ids[19], 100, store.ReadOptions{}, func(rs []*store.Resource) (bool, error) {
		for _, r := range rs {
			seen = append(seen, r.ID)
		}
		return true, nil
	})
	if !slices.Equal(seen, ids[20:]) {
		t.Fatalf("scan after cursor: %d ids", len(seen))
	}
	page, err := s.IDs(ctx, store.TypeUser, "", 10, 5)
	if err != nil || !slices.Equal(page, ids[10:15]) {
		t.Fatalf("IDs offset page: %v %v", page, err)
	}
	page, _ = s.IDs(ctx, store.TypeUser, ids[22], 0, 10)
	if !slices.Equal(page, ids[23:]) {
		t.Fatalf("IDs after: %v", page)
	}
}

// testGetManyInSteps: a read of more than store.ReadBatch ids (which the
// Redis store splits into steps) keeps the order asked for, skips missing
// ids and other types, and loads derived data in every step.
func testGetManyInSteps(t *testing.T, s store.Store) {
	n := 2*store.ReadBatch + 17
	var ids []string
	for i := 0; i < n; i++ {
		ids = append(ids, mustCreate(t, s, store.TypeUser, user(fmt.Sprintf("m%03d", i))).ID)
	}
	last := ids[n-1]
	g := mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "steps"}, store.Member{Value: last})
	var ask, want []string
	for i := n - 1; i >= 0; i-- { // reverse order, with gaps
		ask = append(ask, ids[i])
		want = append(want, ids[i])
		if i%40 == 0 {
			ask = append(ask, "00000000-0000-0000-0000-000000000000", g.ID)
		}
	}
	rs, err := s.GetMany(ctx, store.TypeUser, ask, store.ReadOptions{Groups: true})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(rs))
	for i, r := range rs {
		got[i] = r.ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("GetMany of %d ids returned %d, or out of order", len(ask), len(got))
	}
	if len(rs[0].Groups) != 1 || rs[0].Groups[0].Value != g.ID || rs[0].Groups[0].Display != "steps" {
		t.Fatalf("groups of %s: %+v", last, rs[0].Groups)
	}
}

// testConcurrentCreate: 50 writers race for one userName; exactly one wins.
func testConcurrentCreate(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := s.Create(ctx, store.TypeUser, map[string]any{"userName": fmt.Sprintf("RACE%c", "rR"[i%2])}, nil, nil)
			var ue *store.UniquenessError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.As(err, &ue):
				conflicts++
			default:
				t.Errorf("unexpected: %v", err)
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 || conflicts != 49 {
		t.Fatalf("wins=%d conflicts=%d", wins, conflicts)
	}
	if n, _ := s.Count(ctx, store.TypeUser); n != 1 {
		t.Fatalf("%d users stored", n)
	}
}

func testConcurrentMemberAdds(t *testing.T, s store.Store) {
	g := mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "busy"})
	var users []string
	for i := 0; i < 40; i++ {
		users = append(users, mustCreate(t, s, store.TypeUser, user(fmt.Sprintf("m%d", i))).ID)
	}
	var wg sync.WaitGroup
	for _, id := range users {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if _, _, err := s.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, nil, &store.MemberChange{Add: []store.Member{{Value: id}}}, nil); err != nil {
				t.Error(err)
			}
		}(id)
	}
	wg.Wait()
	r, _ := s.Get(ctx, store.TypeGroup, g.ID, store.ReadOptions{Members: true})
	if len(r.Members) != len(users) || r.Version != int64(1+len(users)) {
		t.Fatalf("members=%d version=%d", len(r.Members), r.Version)
	}
}

func testRoles(t *testing.T, s store.Store) {
	u := mustCreate(t, s, store.TypeUser, user("role"))
	g := mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "not a user"})
	ch, err := s.SetRoles(ctx, map[string]string{u.ID: "ADMIN", "ghost": "ADMIN", g.ID: "ADMIN"}, "", 0)
	if err != nil || len(ch) != 1 || ch[0] != (store.RoleChange{ID: u.ID, Old: "", New: "ADMIN"}) {
		t.Fatalf("first set: %+v %v", ch, err)
	}
	if ch, _ = s.SetRoles(ctx, map[string]string{u.ID: "ADMIN"}, "", 0); len(ch) != 0 {
		t.Fatalf("unchanged role reported: %+v", ch)
	}
	got, _ := s.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{})
	if got.Role != "ADMIN" {
		t.Fatalf("stored role %q", got.Role)
	}
	// A role survives attribute updates.
	if _, _, err := s.Update(ctx, store.TypeUser, u.ID, store.Condition{}, map[string]any{"userName": "role", "title": "x"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{}); got.Role != "ADMIN" {
		t.Fatalf("role lost on update: %q", got.Role)
	}
}

// testAttrVersion: an attribute rewrite conditioned on the attribute
// version succeeds across concurrent member changes, and fails after a
// concurrent attribute change.
func testAttrVersion(t *testing.T, s store.Store) {
	u := mustCreate(t, s, store.TypeUser, user("av"))
	g := mustCreate(t, s, store.TypeGroup, map[string]any{"displayName": "av"})
	if g.AttrVersion != 1 {
		t.Fatalf("new attribute version %d", g.AttrVersion)
	}
	if _, _, err := s.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, nil, &store.MemberChange{Add: []store.Member{{Value: u.ID}}}, nil); err != nil {
		t.Fatal(err)
	}
	r, _, err := s.Update(ctx, store.TypeGroup, g.ID, store.Condition{AttrVersion: g.AttrVersion}, map[string]any{"displayName": "av2"}, nil, nil)
	if err != nil || r.AttrVersion != 2 || r.Version != 3 {
		t.Fatalf("attribute write after a member change: %+v %v", r, err)
	}
	if _, _, err := s.Update(ctx, store.TypeGroup, g.ID, store.Condition{AttrVersion: g.AttrVersion}, map[string]any{"displayName": "av3"}, nil, nil); !errors.Is(err, store.ErrVersionMismatch) {
		t.Fatalf("stale attribute version: %v", err)
	}
	if _, _, err := s.Update(ctx, store.TypeGroup, g.ID, store.Condition{Version: 2}, map[string]any{"displayName": "av3"}, nil, nil); !errors.Is(err, store.ErrVersionMismatch) {
		t.Fatalf("stale version: %v", err)
	}
}
