package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// inKeyMark is a hash's "doc" when the document is in its key.
const inKeyMark = "\x01\x00"

// storedDoc returns resource id's stored document as it is in Redis: the
// hash's "doc" field, else (none, or inKeyMark) the JSON of its document
// key ("<dv> <JSON>").
func storedDoc(t *testing.T, r *redistest.Redis, st *store.Redis, id string) string {
	t.Helper()
	ctx := context.Background()
	if doc, err := r.Client.HGet(ctx, st.KeyBase()+"r:"+id, "doc").Result(); err == nil && doc != inKeyMark {
		return doc
	}
	v, err := r.Client.Get(ctx, st.KeyBase()+"d:"+id).Result()
	if err != nil {
		t.Fatalf("no document stored for %s: %v", id, err)
	}
	_, doc, _ := strings.Cut(v, " ")
	return doc
}

// TestDocumentKeys: with document keys (the default) a resource's hash
// holds no document and its key d:<id> holds "<dv> <JSON>", rewritten by
// each change of attributes and not by a membership change; a deletion
// removes it, a soft deletion keeps the document in the deleted record.
func TestDocumentKeys(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix).SoftDelete()
		p := st.KeyBase()
		u, err := st.Create(ctx, store.TypeUser, entraUser(1), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		docKey := func(id string) string {
			t.Helper()
			if doc, _ := r.Client.HGet(ctx, p+"r:"+id, "doc").Result(); doc != inKeyMark {
				t.Fatalf("%s: the hash's doc is %q, not the in-key mark", id, doc)
			}
			v, _ := r.Client.Get(ctx, p+"d:"+id).Result()
			return v
		}
		if v := docKey(u.ID); !strings.HasPrefix(v, "1 {") {
			t.Fatalf("document key after creation: %q", v)
		}
		attrs := entraUser(1)
		attrs["title"] = "Staff Engineer"
		if _, _, err := st.Update(ctx, store.TypeUser, u.ID, store.Condition{}, attrs, nil, nil); err != nil {
			t.Fatal(err)
		}
		if v := docKey(u.ID); !strings.HasPrefix(v, "2 {") || !strings.Contains(v, "Staff Engineer") {
			t.Fatalf("document key after update: %q", v)
		}
		got, err := st.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{})
		if err != nil || got.Attrs["title"] != "Staff Engineer" || got.AttrVersion != 2 {
			t.Fatalf("read after update: %+v %v", got, err)
		}
		g, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "group " + strings.Repeat("g", 24),
			"externalId": strings.Repeat("e", 30)}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, nil, &store.MemberChange{Add: []store.Member{{Value: u.ID}}}, nil); err != nil {
			t.Fatal(err)
		}
		if v := docKey(g.ID); !strings.HasPrefix(v, "1 {") {
			t.Fatalf("group's document key after a membership change: %q", v)
		}
		if err := st.Delete(ctx, store.TypeGroup, g.ID, 0, nil); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, store.TypeUser, u.ID, 0, nil); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{u.ID, g.ID} {
			if n, _ := r.Client.Exists(ctx, p+"d:"+id).Result(); n != 0 {
				t.Fatalf("document key of deleted %s kept", id)
			}
		}
		if doc, _ := r.Client.HGet(ctx, p+"deleted:"+u.ID, "doc").Result(); !strings.Contains(doc, "Staff Engineer") {
			t.Fatalf("soft-deleted record without its document: %q", doc)
		}
	})
}

// TestDocumentPlacement: with document keys on, a write keeps the
// document in the hash when the hash then stays a listpack (a short
// document, or a server whose hash-max-listpack-value holds it) or is a
// hash table anyway (an index field too long for a listpack), and in its
// own key otherwise; the hash is a listpack in every case but the last.
func TestDocumentPlacement(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		server []string
		attrs  map[string]any
		inKey  bool
		enc    string
	}{
		{nil, entraUser(1), true, "listpack"},
		{nil, map[string]any{"userName": "short"}, false, "listpack"},
		{nil, map[string]any{"userName": strings.Repeat("long", 20) + "@example.com", "title": "t"}, false, "hashtable"},
		{[]string{"--hash-max-listpack-value", "1024"}, entraUser(1), false, "listpack"},
		{[]string{"--hash-max-listpack-value", "1024"}, map[string]any{"userName": "big", "title": strings.Repeat("x", 1100)}, true, "listpack"},
	} {
		srv := redistest.StartServer(t, c.server...)
		var lv store.ListpackValue
		if _, err := lv.Read(ctx, srv.Client()); err != nil {
			t.Fatal(err)
		}
		st := store.NewRedis(srv.Client(), "p:").Listpack(&lv)
		u, err := st.Create(ctx, store.TypeUser, c.attrs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		inKey, _ := srv.Client().Exists(ctx, st.KeyBase()+"d:"+u.ID).Result()
		enc, _ := srv.Client().ObjectEncoding(ctx, st.KeyBase()+"r:"+u.ID).Result()
		if (inKey == 1) != c.inKey || enc != c.enc {
			t.Errorf("server %v, user %v: document in its key %v, hash %s; want %v, %s", c.server, c.attrs["userName"], inKey == 1, enc, c.inKey, c.enc)
		}
		got, err := st.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{})
		if err != nil || !reflect.DeepEqual(got.Attrs, c.attrs) {
			t.Errorf("read back %v %v", got, err)
		}
		srv.Kill()
	}
}

// TestDocumentKeysRollingUpgrade: gateways with document keys off (as
// during a rolling upgrade, and as releases before them) and on share a
// Redis: each reads what the other wrote, every way, and a write of
// attributes moves the document to where its writer keeps it. A document
// in the hash wins over a document key, which a release before them
// leaves behind when it changes such a resource.
func TestDocumentKeysRollingUpgrade(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		on := store.NewRedis(r.Client, r.Prefix)
		off := store.NewRedis(r.Client, r.Prefix).DocumentKeys(false)
		p := on.KeyBase()
		attrs := entraUser(4)
		u, err := off.Create(ctx, store.TypeUser, attrs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := r.Client.Exists(ctx, p+"d:"+u.ID).Result(); n != 0 {
			t.Fatal("document key written with document keys off")
		}
		readPaths(t, on, u.ID, "user000004@contoso.com", attrs, u.Created, u.Created)
		attrs["title"] = "moved to its key"
		upd, _, err := on.Update(ctx, store.TypeUser, u.ID, store.Condition{}, attrs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if doc, _ := r.Client.HGet(ctx, p+"r:"+u.ID, "doc").Result(); doc != inKeyMark {
			t.Fatalf("document left in the hash by a write with document keys on: %q", doc)
		}
		readPaths(t, off, u.ID, "user000004@contoso.com", attrs, u.Created, upd.Modified)
		attrs["title"] = "back in the hash"
		upd, _, err = off.Update(ctx, store.TypeUser, u.ID, store.Condition{}, attrs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := r.Client.Exists(ctx, p+"d:"+u.ID).Result(); n != 0 {
			t.Fatal("document key left by a write with document keys off")
		}
		readPaths(t, on, u.ID, "user000004@contoso.com", attrs, u.Created, upd.Modified)

		// A release before document keys rewrites only the hash's "doc"
		// of a resource that has a document key: the hash's is newer.
		attrs["title"] = "in its key again"
		if _, _, err := on.Update(ctx, store.TypeUser, u.ID, store.Condition{}, attrs, nil, nil); err != nil {
			t.Fatal(err)
		}
		attrs["title"] = "written by an older release"
		older, _ := json.Marshal(attrs)
		if err := r.Client.HSet(ctx, p+"r:"+u.ID, "doc", string(older)).Err(); err != nil {
			t.Fatal(err)
		}
		for _, st := range []*store.Redis{on, off} {
			if got, err := st.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{}); err != nil || got.Attrs["title"] != attrs["title"] {
				t.Fatalf("hash document not preferred over the document key: %+v %v", got, err)
			}
			if doc, _, err := st.Doc(ctx, store.TypeUser, u.ID); err != nil || !strings.Contains(string(doc), "older release") {
				t.Fatalf("Doc: %s %v", doc, err)
			}
		}
		if _, changed, err := on.Update(ctx, store.TypeUser, u.ID, store.Condition{}, attrs, nil, nil); err != nil || changed {
			t.Fatalf("update with the hash document's attributes: changed %v %v", changed, err)
		}
	})
}

// TestDocumentKeyTornCachedRead: the read cache drops the hash and the
// document key of a resource one at a time (a connection drops the keys
// it read when it reads Redis's pushes, at its next command), so it may
// hold one and not the other. A read that finds the hash and the document
// key at different attribute versions reads again in one script instead
// of answering one version's attributes with another's version.
func TestDocumentKeyTornCachedRead(t *testing.T) {
	r := redistest.Real(t)
	ctx := context.Background()
	// pushes read only at a connection's next command
	rc := newReadCache(t, r, store.ReadCacheConfig{DrainInterval: time.Hour, HealthInterval: time.Hour})
	reader := store.NewRedis(r.Client, r.Prefix).ReadCache(rc)
	other := redis.NewClient(r.Client.(*redis.Client).Options())
	t.Cleanup(func() { _ = other.Close() })
	writer := store.NewRedis(other, r.Prefix)
	long := strings.Repeat("x", 100) // a document longer than a listpack value: in its key
	u, err := writer.Create(ctx, store.TypeUser, map[string]any{"userName": "torn", "title": "one", "nickName": long}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := reader.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The cache keeps the hash at version 1 (a hit reaches no connection,
	// so no push is read) but not the document key, which the next read
	// fetches at version 2.
	rc.Forget(reader.KeyBase() + "d:" + u.ID)
	if _, _, err := writer.Update(ctx, store.TypeUser, u.ID, store.Condition{}, map[string]any{"userName": "torn", "title": "two", "nickName": long}, nil, nil); err != nil {
		t.Fatal(err)
	}
	got, err := reader.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.AttrVersion != 2 || got.Attrs["title"] != "two" {
		t.Fatalf("torn read: version %d attribute version %d title %v, want 2 2 two", got.Version, got.AttrVersion, got.Attrs["title"])
	}
	if _, err := reader.Get(ctx, store.TypeUser, "no-such-id", store.ReadOptions{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("read of a missing id: %v", err)
	}
}

// TestRebuiltHashTakesNewIndexFields: a user whose index record was too
// long for a listpack (a long userName) keeps its document in its hash, a
// hash table; once a change shortens that record, the document moves to
// its key and the hash is rebuilt from its new fields, a listpack again
// (not from the old ones, which would keep it a hash table).
func TestRebuiltHashTakesNewIndexFields(t *testing.T) {
	r := redistest.Real(t)
	ctx := context.Background()
	st := store.NewRedis(r.Client, r.Prefix)
	attrs := entraUser(8)
	attrs["userName"] = strings.Repeat("long", 20) + "@contoso.com"
	u, err := st.Create(ctx, store.TypeUser, attrs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := st.KeyBase() + "r:" + u.ID
	if enc, _ := r.Client.ObjectEncoding(ctx, key).Result(); enc != "hashtable" {
		t.Fatalf("hash with a long index record: %s", enc)
	}
	if doc, _ := r.Client.HGet(ctx, key, "doc").Result(); doc == inKeyMark || doc == "" {
		t.Fatalf("document not in the hash table: %q", doc)
	}
	attrs["userName"] = "short@contoso.com"
	if _, _, err := st.Update(ctx, store.TypeUser, u.ID, store.Condition{}, attrs, nil, nil); err != nil {
		t.Fatal(err)
	}
	if enc, _ := r.Client.ObjectEncoding(ctx, key).Result(); enc != "listpack" {
		t.Fatalf("hash after the record shortened: %s", enc)
	}
	if doc, _ := r.Client.HGet(ctx, key, "doc").Result(); doc != inKeyMark {
		t.Fatalf("document not moved to its key: %q", doc)
	}
	got, err := st.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{})
	if err != nil || !reflect.DeepEqual(got.Attrs, attrs) || got.Version != 2 {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if ids, _ := st.Lookup(ctx, store.TypeUser, "userName", "SHORT@contoso.com"); len(ids) != 1 {
		t.Fatalf("lookup by the new userName: %v", ids)
	}
}
