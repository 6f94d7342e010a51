package directory_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/scimapi/store/storetest"
)

// startCluster starts a Redis Cluster of n masters (no replicas) on
// loopback and returns their addresses; skipped without redis-server.
func startCluster(t *testing.T, n int) []string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	var addrs []string
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		dir := filepath.Join(t.TempDir(), strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(port))
	}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		deadline := time.Now().Add(5 * time.Second)
		for c.Ping(context.Background()).Err() != nil {
			if time.Now().After(deadline) {
				t.Fatalf("redis-server at %s did not start", a)
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.Close()
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	if out, err := exec.Command("redis-cli", append(args, "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(c.ClusterInfo(context.Background()).Val(), "cluster_state:ok") {
			if time.Now().After(deadline) {
				t.Fatalf("cluster not ok at %s", a)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	return addrs
}

// TestDirectoriesOnRedisCluster, on a real 3-master Redis Cluster: the
// store conformance suite passes on a directory's store (its scripts are
// single-slot under the {d:<id>} tag); 30 directories spread over all
// three masters (the distribution is logged); force-purging one directory
// removes its keys and no other's.
func TestDirectoriesOnRedisCluster(t *testing.T) {
	addrs := startCluster(t, 3)
	ctx := context.Background()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = cc.Close() })

	storetest.Run(t, func(t *testing.T) store.Store {
		return store.NewRedisTagged(cc, "conf:"+t.Name()+":", directory.Tag(uuid.NewString()))
	})

	// The raw scans (the Redis-judged script and the pipelined one) and
	// the index backfill read a step's document keys with one MGET: its
	// keys share the directory's hash tag, so Cluster takes it. The index
	// scans read one key each.
	t.Run("scans and backfill", func(t *testing.T) {
		st := store.NewRedisTagged(cc, "scan:", directory.Tag(uuid.NewString())).DocumentKeys(true)
		for i := range 5 {
			attrs := map[string]any{"userName": fmt.Sprintf("scan%d", i), "title": fmt.Sprintf("Engineer %04d with a title long enough for its own key", i),
				"emails": []any{map[string]any{"value": fmt.Sprintf("scan%d@example.com", i)}}}
			u, err := st.Create(ctx, store.TypeUser, attrs, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := cc.Exists(ctx, st.KeyBase()+"d:"+u.ID).Result(); err != nil || n != 1 {
				t.Fatalf("user %d's document is not in a key of its own: %d %v", i, n, err)
			}
		}
		for _, needle := range []store.Needle{{Text: "0003"}, {Text: "engineer", Fold: true}} {
			found := 0
			err := st.ScanDocs(ctx, store.TypeUser, 2, []store.Needle{needle}, func(_ int, rs []*store.Resource) (bool, error) {
				found += len(rs)
				return true, nil
			})
			want := 1
			if needle.Fold {
				want = 5
			}
			if err != nil || found != want {
				t.Fatalf("scan for %+v: %d documents, %v", needle, found, err)
			}
		}
		// a page read by id with groups: one pipeline, then the names
		var ids []string
		err := st.Scan(ctx, store.TypeUser, "", 100, store.ReadOptions{}, func(rs []*store.Resource) (bool, error) {
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			return true, nil
		})
		if err != nil || len(ids) != 5 {
			t.Fatalf("scan: %d users, %v", len(ids), err)
		}
		if _, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "Readers"}, []store.Member{{Value: ids[1], Type: store.TypeUser}}, nil); err != nil {
			t.Fatal(err)
		}
		page, err := st.GetMany(ctx, store.TypeUser, ids, store.ReadOptions{Groups: true})
		if err != nil || len(page) != 5 || len(page[1].Groups) != 1 || page[1].Groups[0].Display != "Readers" {
			t.Fatalf("page with groups: %d users, %v", len(page), err)
		}
		if err := st.EnableIndexes("emails.value"); err != nil {
			t.Fatal(err)
		}
		if err := st.Backfill(ctx, store.TypeUser); err != nil {
			t.Fatalf("backfill: %v", err)
		}
		if ids, err := st.Lookup(ctx, store.TypeUser, "emails.value", "scan2@example.com"); err != nil || len(ids) != 1 {
			t.Fatalf("lookup after the backfill: %v %v", ids, err)
		}
		// index scans (store.IndexScanner): HSCAN of the userName hash, the
		// script over a sorted index, a ZRANGEBYLEX range; steps of 2
		for _, m := range []filter.TextMatch{{Attr: "userName", Op: fp.CO, Text: "can3"}, {Attr: "emails.value", Op: fp.CO, Text: "4@example"},
			{Attr: "emails.value", Op: fp.SW, Text: "scan1"}, {Attr: "emails.value", Op: fp.EW, Text: "example.com"}} {
			want := 1
			if m.Op == fp.EW {
				want = 5
			}
			if ids, ok, err := st.ScanIndex(ctx, store.TypeUser, m, 2); err != nil || !ok || len(ids) != want {
				t.Fatalf("index scan %+v: %v %v %v", m, ids, ok, err)
			}
		}
	})

	reg, err := directory.NewRegistry(cc, "scimgate:")
	if err != nil {
		t.Fatal(err)
	}
	slots, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	masterOf := func(slot int64) string {
		for _, s := range slots {
			if int64(s.Start) <= slot && slot <= int64(s.End) {
				return s.Nodes[0].Addr
			}
		}
		return "?"
	}
	perMaster := map[string]int{}
	var ids []string
	for i := range 30 {
		d, err := reg.Create(ctx, directory.Directory{Name: fmt.Sprintf("customer-%02d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
		st := store.NewRedisTagged(cc, "scimgate:", directory.Tag(d.ID))
		if _, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "u"}, nil, &store.Journal{DocAction: "x", Event: "user.created"}); err != nil {
			t.Fatalf("write in directory %d: %v", i, err)
		}
		slot, err := cc.ClusterKeySlot(ctx, st.KeyBase()+"r:x").Result()
		if err != nil {
			t.Fatal(err)
		}
		perMaster[masterOf(slot)]++
	}
	var dist []string
	for _, a := range addrs {
		dist = append(dist, fmt.Sprintf("%s=%d", a, perMaster[a]))
	}
	sort.Strings(dist)
	t.Logf("30 directories over 3 masters: %s", strings.Join(dist, " "))
	for _, a := range addrs {
		if perMaster[a] == 0 {
			t.Fatalf("master %s holds no directory: %v", a, dist)
		}
	}
	if ds, err := reg.List(ctx); err != nil || len(ds) != 31 {
		t.Fatalf("list: %d directories, %v", len(ds), err)
	}

	n, err := directory.Purge(ctx, cc, "scimgate:", ids[0])
	if err != nil || n < 5 {
		t.Fatalf("purge: %d keys, %v", n, err)
	}
	for i, id := range ids {
		want := int64(1)
		if i == 0 {
			want = 0
		}
		if got := store.NewRedisTagged(cc, "scimgate:", directory.Tag(id)); mustCount(t, got) != want {
			t.Fatalf("directory %d holds %d users after purging directory 0", i, mustCount(t, got))
		}
	}
}

func mustCount(t *testing.T, st store.Store) int64 {
	n, err := st.Count(context.Background(), store.TypeUser)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
