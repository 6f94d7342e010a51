package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// readPaths reads user id of st every way the store reads a document (the
// plain-command read, the read script, the unique-index lookup, the raw
// scan, Doc) and fails unless each gives the document want (JSON) and the
// times created and modified.
func readPaths(t *testing.T, st *store.Redis, id, userName string, want map[string]any, created, modified time.Time) {
	t.Helper()
	ctx := context.Background()
	wantDoc, _ := json.Marshal(want)
	check := func(how string, r *store.Resource) {
		t.Helper()
		if r == nil || r.ID != id || !reflect.DeepEqual(r.Attrs, want) || r.Doc != string(wantDoc) ||
			!r.Created.Equal(created) || !r.Modified.Equal(modified) {
			t.Fatalf("%s: %+v, want attrs %v created %v modified %v", how, r, want, created, modified)
		}
	}
	got, err := st.Get(ctx, store.TypeUser, id, store.ReadOptions{Groups: true})
	if err != nil {
		t.Fatal(err)
	}
	check("Get", got)
	other, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "other-" + uuid.NewString()}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	many, err := st.GetMany(ctx, store.TypeUser, []string{id, other.ID}, store.ReadOptions{})
	if err != nil || len(many) != 2 {
		t.Fatalf("GetMany: %v %v", many, err)
	}
	check("GetMany", many[0])
	looked, ok, err := st.LookupGet(ctx, store.TypeUser, "userName", userName, store.ReadOptions{})
	if err != nil || !ok || len(looked) != 1 {
		t.Fatalf("LookupGet: %v %v %v", looked, ok, err)
	}
	check("LookupGet", looked[0])
	// every document, then judged in Redis: by a text outside the aliases,
	// by one only inside an alias (the enterprise extension's URN)
	for _, needles := range [][]store.Needle{nil, {{Text: strings.ToLower(userName), Fold: true}}, {{Text: "extension:enterprise:2.0"}}} {
		found := false
		err = st.ScanDocs(ctx, store.TypeUser, 10, needles, func(_ int, rs []*store.Resource) (bool, error) {
			for _, r := range rs {
				if r.ID == id {
					found = r.Doc == string(wantDoc)
				}
			}
			return true, nil
		})
		if err != nil || !found {
			t.Fatalf("ScanDocs %+v: document of %s not found as %s (%v)", needles, id, wantDoc, err)
		}
	}
	doc, _, err := st.Doc(ctx, store.TypeUser, id)
	if err != nil || string(doc) != string(wantDoc) {
		t.Fatalf("Doc = %s %v, want %s", doc, err, wantDoc)
	}
	if err := st.Delete(ctx, store.TypeUser, other.ID, 0, nil); err != nil {
		t.Fatal(err)
	}
}

// TestCompactResourceHash: a created user's hash holds the compact
// document, "c" as unix nanoseconds and no "m"; it reads back whole with
// lastModified equal to created, and a change stores "m".
func TestCompactResourceHash(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		attrs := entraUser(7)
		u, err := st.Create(ctx, store.TypeUser, attrs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !u.Modified.Equal(u.Created) || u.Created.IsZero() {
			t.Fatalf("created %v modified %v", u.Created, u.Modified)
		}
		key := st.KeyBase() + "r:" + u.ID
		h, err := r.Client.HGetAll(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		full, _ := json.Marshal(attrs)
		doc := storedDoc(t, r, st, u.ID)
		if _, ok := h["m"]; ok || h["c"] != itoa(u.Created.UnixNano()) || !strings.Contains(doc, "\x01") ||
			len(doc) >= len(full)-150 || strings.Contains(doc, "urn:") {
			t.Fatalf("stored hash %q, document %q", h, doc)
		}
		readPaths(t, st, u.ID, "USER000007@contoso.com", attrs, u.Created, u.Created)

		// unchanged attributes: nothing written, no "m"
		if _, changed, err := st.Update(ctx, store.TypeUser, u.ID, store.Condition{}, entraUser(7), nil, nil); err != nil || changed {
			t.Fatalf("update with the same attributes: changed %v %v", changed, err)
		}
		if n, _ := r.Client.HExists(ctx, key, "m").Result(); n {
			t.Fatal("unchanged update stored m")
		}
		time.Sleep(2 * time.Millisecond)
		attrs["title"] = "Staff Engineer"
		upd, changed, err := st.Update(ctx, store.TypeUser, u.ID, store.Condition{}, attrs, nil, nil)
		if err != nil || !changed || !upd.Modified.After(u.Created) || !upd.Created.Equal(u.Created) {
			t.Fatalf("update: %+v %v %v", upd, changed, err)
		}
		if m, _ := r.Client.HGet(ctx, key, "m").Result(); m != itoa(upd.Modified.UnixNano()) {
			t.Fatalf("m = %q after update, want %d", m, upd.Modified.UnixNano())
		}
		readPaths(t, st, u.ID, "user000007@contoso.com", attrs, u.Created, upd.Modified)
	})
}

// TestMemberDeletionStamp: deleting a user changes the groups that held
// it, and each such group's "m" is stored in the form its writes use:
// unix nanoseconds for compact resources, RFC 3339 text for plain ones.
// Either way the group reads back with lastModified at the deletion.
func TestMemberDeletionStamp(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		for _, plain := range []bool{false, true} {
			st := store.NewRedis(r.Client, r.Prefix).CompactResources(!plain)
			u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "member-" + uuid.NewString()}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			g, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "g-" + uuid.NewString()},
				[]store.Member{{Value: u.ID}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond)
			before := time.Now()
			if err := st.Delete(ctx, store.TypeUser, u.ID, 0, nil); err != nil {
				t.Fatal(err)
			}
			got, err := st.Get(ctx, store.TypeGroup, g.ID, store.ReadOptions{Members: true})
			if err != nil || len(got.Members) != 0 || got.Version != g.Version+1 ||
				got.Modified.Before(before) || got.Modified.After(time.Now()) {
				t.Fatalf("plain=%v: group after its member's deletion: %+v %v", plain, got, err)
			}
			want := itoa(got.Modified.UnixNano())
			if plain {
				want = got.Modified.Format(time.RFC3339Nano)
			}
			if m, _ := r.Client.HGet(ctx, st.KeyBase()+"r:"+g.ID, "m").Result(); m != want {
				t.Fatalf("plain=%v: m = %q, want %q", plain, m, want)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func redisZ(member string) redis.Z { return redis.Z{Member: member} }

// TestPreviousFormatReads: a user stored by the release before compact
// resources (plain JSON document, RFC 3339 "c" and "m", written here by
// hand) reads unchanged every way, an update with the same attributes
// changes nothing, a real one stores it compactly in its document key (the
// hash rebuilt as a listpack), and delete removes its index entries.
func TestPreviousFormatReads(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		p := st.KeyBase()
		id := uuid.Must(uuid.NewV7()).String()
		attrs := entraUser(3)
		doc, _ := json.Marshal(attrs)
		created := time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.UTC)
		modified := created.Add(time.Hour)
		if err := r.Client.HSet(ctx, p+"r:"+id, "t", "User", "v", "4", "dv", "3", "doc", string(doc),
			"c", created.Format(time.RFC3339Nano), "m", modified.Format(time.RFC3339Nano),
			"ix", `[[3,"user000003@contoso.com",1]]`, "ix2", `[[5,"user000003",0]]`).Err(); err != nil {
			t.Fatal(err)
		}
		r.Client.ZAdd(ctx, p+"all:User", redisZ(id))
		r.Client.HSet(ctx, p+"u:User:userName", "user000003@contoso.com", id)
		r.Client.ZAdd(ctx, p+"x:User:externalId", redisZ("user000003\x00"+id))

		if enc, _ := r.Client.ObjectEncoding(ctx, p+"r:"+id).Result(); r.Mini == nil && enc != "hashtable" {
			t.Fatalf("hash of the previous format: %s, want hashtable", enc)
		}
		readPaths(t, st, id, "user000003@contoso.com", attrs, created, modified)
		if ids, err := st.Lookup(ctx, store.TypeUser, "externalId", "user000003"); err != nil || len(ids) != 1 || ids[0] != id {
			t.Fatalf("Lookup externalId = %v %v", ids, err)
		}
		same, changed, err := st.Update(ctx, store.TypeUser, id, store.Condition{}, entraUser(3), nil, nil)
		if err != nil || changed || same.Version != 4 || same.AttrVersion != 3 {
			t.Fatalf("same attributes over a plain document: %+v changed %v %v", same, changed, err)
		}
		if got, _ := r.Client.HGet(ctx, p+"r:"+id, "doc").Result(); got != string(doc) {
			t.Fatalf("unchanged plain document rewritten: %q", got)
		}
		attrs["active"] = false
		upd, changed, err := st.Update(ctx, store.TypeUser, id, store.Condition{AttrVersion: 3}, attrs, nil, nil)
		if err != nil || !changed || upd.Version != 5 {
			t.Fatalf("update of a plain document: %+v %v %v", upd, changed, err)
		}
		if got := storedDoc(t, r, st, id); !strings.Contains(got, "\x01") {
			t.Fatalf("changed document not stored compactly: %q", got)
		}
		// and moved to its document key (DocumentKeys), at the new attribute version
		if doc, _ := r.Client.HGet(ctx, p+"r:"+id, "doc").Result(); doc != inKeyMark {
			t.Fatalf("changed document still in the hash: %q", doc)
		}
		if got, _ := r.Client.Get(ctx, p+"d:"+id).Result(); !strings.HasPrefix(got, "4 {") {
			t.Fatalf("document key %q, want attribute version 4", got)
		}
		// The hash, a hash table while it held the document (longer than
		// Redis's default hash-max-listpack-value), is rebuilt as a listpack.
		if enc, _ := r.Client.ObjectEncoding(ctx, p+"r:"+id).Result(); r.Mini == nil && enc != "listpack" {
			t.Fatalf("hash encoding after the document moved out: %s", enc)
		}
		readPaths(t, st, id, "user000003@contoso.com", attrs, created, upd.Modified)
		if err := st.Delete(ctx, store.TypeUser, id, 0, nil); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{p + "u:User:userName", p + "x:User:externalId", p + "all:User"} {
			if typ, _ := r.Client.Type(ctx, k).Result(); typ == "hash" {
				if n, _ := r.Client.HLen(ctx, k).Result(); n != 0 {
					t.Errorf("%s keeps %d entries after delete", k, n)
				}
			} else if n, _ := r.Client.ZCard(ctx, k).Result(); n != 0 {
				t.Errorf("%s keeps %d entries after delete", k, n)
			}
		}
	})
}

// TestCompactResourcesOff: with compact resources and document keys off a
// store writes what the release before them wrote (plain JSON in the hash,
// RFC 3339 "c" and "m"), and
// an update with the same attributes as a compact document, or a compact
// store's update with those of a plain one, changes nothing.
func TestCompactResourcesOff(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		compact := store.NewRedis(r.Client, r.Prefix)
		plain := store.NewRedis(r.Client, r.Prefix).CompactResources(false).DocumentKeys(false)
		attrs := entraUser(1)
		u, err := plain.Create(ctx, store.TypeUser, attrs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := r.Client.HGetAll(ctx, plain.KeyBase()+"r:"+u.ID).Result()
		full, _ := json.Marshal(attrs)
		stamp := u.Created.Format(time.RFC3339Nano)
		if h["doc"] != string(full) || h["c"] != stamp || h["m"] != stamp {
			t.Fatalf("plain store wrote %q", h)
		}
		if _, changed, err := compact.Update(ctx, store.TypeUser, u.ID, store.Condition{}, entraUser(1), nil, nil); err != nil || changed {
			t.Fatalf("compact update, same attributes: changed %v %v", changed, err)
		}
		c, err := compact.Create(ctx, store.TypeUser, entraUser(2), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, changed, err := plain.Update(ctx, store.TypeUser, c.ID, store.Condition{}, entraUser(2), nil, nil); err != nil || changed {
			t.Fatalf("plain update, same attributes: changed %v %v", changed, err)
		}
		readPaths(t, plain, c.ID, "user000002@contoso.com", entraUser(2), c.Created, c.Created)
		attrs2 := entraUser(2)
		attrs2["title"] = "x"
		upd, changed, err := plain.Update(ctx, store.TypeUser, c.ID, store.Condition{}, attrs2, nil, nil)
		if err != nil || !changed {
			t.Fatalf("plain update: %v %v", changed, err)
		}
		if got, _ := r.Client.HGet(ctx, plain.KeyBase()+"r:"+c.ID, "m").Result(); got != upd.Modified.Format(time.RFC3339Nano) {
			t.Fatalf("plain update stored m %q", got)
		}
		readPaths(t, compact, c.ID, "user000002@contoso.com", attrs2, c.Created, upd.Modified)
	})
}

// TestUnknownAliasIsAnError: a document naming an alias this release does
// not know (written by a newer one) is an error, not a wrong document.
func TestUnknownAliasIsAnError(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "ada"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Client.HSet(ctx, st.KeyBase()+"r:"+u.ID, "doc", "{\x01\x7f:1}")
		if _, err := st.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{}); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get of an unknown alias: %v", err)
		}
		if _, _, err := st.Doc(ctx, store.TypeUser, u.ID); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Doc of an unknown alias: %v", err)
		}
	})
}
