package directory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/tokenstore"
)

// TestRegistry: names are unique case-insensitively, "default" is
// reserved and always resolvable, renames move the name, a directory being
// deleted takes no client (checked by the client store's create script)
// and serves no request, and removal frees the name.
func TestRegistry(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		reg, err := directory.NewRegistry(r.Client, r.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := directory.NewRegistry(r.Client, "a{b}:"); err == nil {
			t.Fatal("prefix with braces accepted")
		}
		d, err := reg.Create(ctx, directory.Directory{Name: "Acme", MaxUsers: 5})
		if err != nil || !directory.ValidID(d.ID) || d.ID == directory.DefaultID || d.Backend != directory.BackendStored {
			t.Fatalf("create: %+v %v", d, err)
		}
		for _, name := range []string{"ACME", "default", "Default"} {
			if _, err := reg.Create(ctx, directory.Directory{Name: name}); !errors.Is(err, directory.ErrAlreadyExists) {
				t.Fatalf("create %q: %v", name, err)
			}
		}
		if _, err := reg.Create(ctx, directory.Directory{Name: uuid.NewString()}); err == nil {
			t.Fatal("a UUID as name accepted")
		}
		if got, err := reg.Resolve(ctx, "acme"); err != nil || got.ID != d.ID || got.MaxUsers != 5 {
			t.Fatalf("resolve by name: %+v %v", got, err)
		}
		if got, err := reg.Resolve(ctx, "default"); err != nil || got.ID != directory.DefaultID {
			t.Fatalf("resolve default: %+v %v", got, err)
		}
		if _, err := reg.Update(ctx, directory.DefaultID, func(d directory.Directory) (directory.Directory, error) {
			d.Name = "other"
			return d, nil
		}); !errors.Is(err, directory.ErrDefault) {
			t.Fatalf("rename default: %v", err)
		}
		if def, err := reg.Update(ctx, directory.DefaultID, func(d directory.Directory) (directory.Directory, error) {
			d.MaxUsers = 7
			return d, nil
		}); err != nil || def.MaxUsers != 7 {
			t.Fatalf("cap the default directory: %+v %v", def, err)
		}
		if _, err := reg.Update(ctx, d.ID, func(d directory.Directory) (directory.Directory, error) {
			d.Name = "acme-corp"
			return d, nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Resolve(ctx, "acme"); !errors.Is(err, directory.ErrNotFound) {
			t.Fatalf("old name still resolves: %v", err)
		}
		if ds, err := reg.List(ctx); err != nil || len(ds) != 2 || ds[0].ID != directory.DefaultID || ds[1].Name != "acme-corp" {
			t.Fatalf("list: %+v %v", ds, err)
		}

		// Clients: only in an existing directory that is not being deleted.
		ts, err := tokenstore.NewRedis(r.Client, tokenstore.Options{Prefix: r.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		client := func(name, dir string) error {
			return ts.CreateClient(ctx, tokenstore.Client{ID: uuid.NewString(), Name: name, DirectoryID: dir, CreatedAt: time.Now()})
		}
		if err := client("c1", d.ID); err != nil {
			t.Fatal(err)
		}
		if err := client("c2", uuid.NewString()); !errors.Is(err, tokenstore.ErrNoDirectory) {
			t.Fatalf("client in an unknown directory: %v", err)
		}
		backends := directory.NewBackends(reg, func(d directory.Directory) store.Store {
			return store.NewRedisTagged(r.Client, r.Prefix, directory.Tag(d.ID))
		}, time.Nanosecond)
		if _, err := backends.For(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Update(ctx, d.ID, func(d directory.Directory) (directory.Directory, error) {
			d.Deleting = true
			return d, nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := client("c3", d.ID); !errors.Is(err, tokenstore.ErrNoDirectory) {
			t.Fatalf("client in a directory being deleted: %v", err)
		}
		if _, err := backends.For(ctx, d.ID); !errors.Is(err, store.ErrNoDirectory) {
			t.Fatalf("a directory being deleted serves: %v", err)
		}
		if err := reg.Remove(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if err := reg.Remove(ctx, directory.DefaultID); !errors.Is(err, directory.ErrDefault) {
			t.Fatalf("remove default: %v", err)
		}
		if _, err := reg.Create(ctx, directory.Directory{Name: "acme-corp"}); err != nil {
			t.Fatalf("name not freed: %v", err)
		}
		if _, err := backends.For(ctx, uuid.NewString()); !errors.Is(err, store.ErrNoDirectory) {
			t.Fatalf("unknown directory: %v", err)
		}
	})
}

// TestUserQuota: past max_users a User create is refused with
// *store.QuotaError; Groups are not capped.
func TestUserQuota(t *testing.T) {
	ctx := context.Background()
	r := redistest.Mini(t)
	st := store.WithUserQuota(store.NewRedisTagged(r.Client, r.Prefix, directory.Tag(uuid.NewString())), 1)
	if _, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "a"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	var qe *store.QuotaError
	if _, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "b"}, nil, nil); !errors.As(err, &qe) || qe.Max != 1 {
		t.Fatalf("second user: %v", err)
	}
	if _, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "g"}, nil, nil); err != nil {
		t.Fatal(err)
	}
}
