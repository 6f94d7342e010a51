package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/store"
)

func TestRolesPreview(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer rdb.Close()
	st := store.NewRedis(rdb, "scimgate:")
	ctx := context.Background()
	mk := func(name string) string {
		r, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": name}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	alice, bob, carol := mk("alice"), mk("bob"), mk("carol")
	if _, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "Eng-Admins"}, []store.Member{{Value: alice}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "PMs"}, []store.Member{{Value: bob}}, nil); err != nil {
		t.Fatal(err)
	}
	// Roles as stored under the deployed mapping (Eng-Admins=ADMIN, default USER).
	if _, err := st.SetRoles(ctx, map[string]string{alice: "ADMIN", bob: "USER", carol: "USER"}, "", 0); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "new.yaml")
	if err := os.WriteFile(cfg, []byte("roles:\n  mapping: Eng-Admins=ADMIN,PMs=PROJECTADMIN\n  precedence: ADMIN,PROJECTADMIN,USER\n  default: USER\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) {
		if k == "SCIMGATE_REDIS_URL" {
			return "redis://" + m.Addr(), true
		}
		return "", false
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"roles", "preview", "--config", cfg, "-o", "json"}, &out, &errOut, env); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	var changes []scimapi.RoleChange
	if err := json.Unmarshal(out.Bytes(), &changes); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(changes) != 1 || changes[0].UserName != "bob" || changes[0].Current != "USER" || changes[0].New != "PROJECTADMIN" {
		t.Fatalf("changes %+v", changes)
	}
	// A dry run writes nothing.
	if r, _ := st.Get(ctx, store.TypeUser, bob, store.ReadOptions{}); r.Role != "USER" {
		t.Fatalf("preview changed the stored role: %q", r.Role)
	}
	// A bad mapping is a usage error naming the key.
	_ = os.WriteFile(cfg, []byte("roles:\n  mapping: nonsense\n"), 0o600)
	var u usageError
	if err := run(ctx, []string{"roles", "preview", "--config", cfg}, &out, &errOut, env); err == nil || !asUsage(err, &u) {
		t.Fatalf("bad mapping: %v", err)
	}
}

func asUsage(err error, u *usageError) bool {
	e, ok := err.(usageError)
	if ok {
		*u = e
	}
	return ok
}
