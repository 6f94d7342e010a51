package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/scimapi/store/storetest"
)

// newReadCache returns a read cache on r's server, closed when the test
// ends, once it serves (on real Redis; miniredis refuses CLIENT TRACKING,
// so there it never does).
func newReadCache(t testing.TB, r *redistest.Redis, cfg store.ReadCacheConfig) *store.ReadCache {
	t.Helper()
	c, ok := r.Client.(*redis.Client)
	if !ok {
		t.Fatalf("read cache needs a single-server client, have %T", r.Client)
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 16 << 20
	}
	o := c.Options()
	rc := store.NewReadCache(&redis.Options{Addr: o.Addr, Username: o.Username, Password: o.Password, DB: o.DB}, cfg)
	t.Cleanup(func() { _ = rc.Close() })
	if r.Mini == nil {
		waitServing(t, rc, true)
	}
	return rc
}

// waitServing waits up to 3 s for rc.Serving() to be want.
func waitServing(t testing.TB, rc *store.ReadCache, want bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); rc.Serving() != want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("read cache serving %v after 3 s, want %v", !want, want)
		}
	}
}

// TestReadCacheConformance runs the conformance suite on a store reading
// through a read cache: on real Redis the cache serves reads by id; on
// miniredis, which refuses CLIENT TRACKING, go-redis reads from Redis every
// time and the store behaves the same.
func TestReadCacheConformance(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		rc := newReadCache(t, r, store.ReadCacheConfig{})
		storetest.Run(t, func(t *testing.T) store.Store {
			return store.NewRedis(r.Client, r.Prefix+t.Name()+":").ReadCache(rc)
		})
		if r.Mini == nil && rc.Stats().Entries == 0 {
			t.Fatal("the read cache never kept a reply on real Redis")
		}
		if r.Mini != nil && rc.Serving() {
			t.Fatal("the read cache serves on miniredis, which refuses CLIENT TRACKING")
		}
	})
}

// TestReadCacheOwnWrites: a read right after the store's own acknowledged
// write returns what it wrote, although the cache drains Redis's pushed
// invalidations, and pings Redis, only once an hour here: the writes drop
// what they change from the cache themselves (user and group writes, membership changes,
// renames, roles, deletions).
func TestReadCacheOwnWrites(t *testing.T) {
	r := redistest.Real(t)
	ctx := context.Background()
	rc := newReadCache(t, r, store.ReadCacheConfig{DrainInterval: time.Hour, HealthInterval: time.Hour})
	st := store.NewRedis(r.Client, r.Prefix).ReadCache(rc)
	ro := store.ReadOptions{Groups: true}
	// get reads a resource twice: the first read is the one right after
	// a write, which it returns; the second, served by the cache, must
	// agree with it.
	get := func(typ, id string) *store.Resource {
		t.Helper()
		var reads [2]*store.Resource
		for i := range reads {
			var err error
			if reads[i], err = st.Get(ctx, typ, id, ro); err != nil {
				t.Fatalf("get %s %s: %v", typ, id, err)
			}
		}
		if a, b := reads[0], reads[1]; a.Version != b.Version || a.Role != b.Role || fmt.Sprint(a.Groups) != fmt.Sprint(b.Groups) || fmt.Sprint(a.Attrs) != fmt.Sprint(b.Attrs) {
			t.Fatalf("get %s %s: a second read gave %+v after %+v", typ, id, b, a)
		}
		return reads[0]
	}
	u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "cached", "title": "one"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	get(store.TypeUser, u.ID)
	if rc.Stats().Entries == 0 {
		t.Fatal("nothing cached after two reads")
	}
	// A user's own change.
	if _, _, err := st.Update(ctx, store.TypeUser, u.ID, store.Condition{}, map[string]any{"userName": "cached", "title": "two"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := get(store.TypeUser, u.ID); got.Attrs["title"] != "two" || got.Version != 2 {
		t.Fatalf("read after update: title %v version %d", got.Attrs["title"], got.Version)
	}
	// A group created with the user: the user's groups.
	g, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "g1"}, []store.Member{{Value: u.ID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	groups := func() []string {
		var out []string
		for _, m := range get(store.TypeUser, u.ID).Groups {
			out = append(out, m.Value+"="+m.Display)
		}
		return out
	}
	if got := groups(); !slices.Equal(got, []string{g.ID + "=g1"}) {
		t.Fatalf("groups after the group's creation: %v", got)
	}
	// The group renamed: the user's group display name.
	if _, _, err := st.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, map[string]any{"displayName": "g2"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := groups(); !slices.Equal(got, []string{g.ID + "=g2"}) {
		t.Fatalf("groups after the rename: %v", got)
	}
	if got := get(store.TypeGroup, g.ID); got.Attrs["displayName"] != "g2" {
		t.Fatalf("group after the rename: %v", got.Attrs)
	}
	// The user removed from the group, added back, then the members replaced.
	for _, c := range []struct {
		mc   *store.MemberChange
		want []string
	}{
		{&store.MemberChange{Remove: []string{u.ID}}, nil},
		{&store.MemberChange{Add: []store.Member{{Value: u.ID}}}, []string{g.ID + "=g2"}},
		{&store.MemberChange{Replace: true}, nil},
	} {
		if _, _, err := st.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, nil, c.mc, nil); err != nil {
			t.Fatal(err)
		}
		if got := groups(); !slices.Equal(got, c.want) {
			t.Fatalf("groups after %+v: %v, want %v", c.mc, got, c.want)
		}
	}
	// Roles.
	if _, err := st.SetRoles(ctx, map[string]string{u.ID: "admin"}, "", 0); err != nil {
		t.Fatal(err)
	}
	if got := get(store.TypeUser, u.ID); got.Role != "admin" {
		t.Fatalf("role after SetRoles: %q", got.Role)
	}
	// Deletions.
	if err := st.Delete(ctx, store.TypeGroup, g.ID, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, store.TypeGroup, g.ID, ro); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("group read after its deletion: %v", err)
	}
	if err := st.Delete(ctx, store.TypeUser, u.ID, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, store.TypeUser, u.ID, ro); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user read after its deletion: %v", err)
	}
}

// TestReadCacheLookupGet: while the read cache serves, LookupGet reads the
// index entry from Redis and the resource through the cache (a second
// lookup of one user is a cache hit), answers as a store without the cache
// does, and after the store's own rename finds the user by its new name
// only, at its new version.
func TestReadCacheLookupGet(t *testing.T) {
	r := redistest.Real(t)
	ctx := context.Background()
	rc := newReadCache(t, r, store.ReadCacheConfig{DrainInterval: time.Hour, HealthInterval: time.Hour})
	st := store.NewRedis(r.Client, r.Prefix).ReadCache(rc)
	plain := store.NewRedis(r.Client, r.Prefix)
	u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "Looked", "title": "one"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "lg"}, []store.Member{{Value: u.ID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ro := store.ReadOptions{Groups: true}
	lookup := func(s *store.Redis, name string) []*store.Resource {
		t.Helper()
		rs, ok, err := s.LookupGet(ctx, store.TypeUser, "userName", name, ro)
		if err != nil || !ok {
			t.Fatalf("LookupGet %q: %v %v", name, ok, err)
		}
		return rs
	}
	want := lookup(plain, "LOOKED")
	if len(want) != 1 || len(want[0].Groups) != 1 || want[0].Groups[0].Value != g.ID {
		t.Fatalf("plain lookup: %+v", want)
	}
	for i := range 2 {
		hits := rc.Stats().Hits
		got := lookup(st, "looked")
		if len(got) != 1 || !reflect.DeepEqual(got[0], want[0]) {
			t.Fatalf("cached lookup %d = %+v, want %+v", i, got, want)
		}
		if i == 1 && rc.Stats().Hits <= hits {
			t.Fatal("the second lookup of one user did not read through the cache")
		}
	}
	if got := lookup(st, "absent"); len(got) != 0 {
		t.Fatalf("lookup of an absent name: %+v", got)
	}
	w, _, err := st.Update(ctx, store.TypeUser, u.ID, store.Condition{}, map[string]any{"userName": "Renamed", "title": "two"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := lookup(st, "looked"); len(got) != 0 {
		t.Fatalf("lookup of the old name after the rename: %+v", got)
	}
	if got := lookup(st, "renamed"); len(got) != 1 || got[0].Version != w.Version || got[0].Attrs["title"] != "two" {
		t.Fatalf("lookup of the new name after the rename: %+v", got)
	}
}

// TestReadCacheOtherWriter: a change written through another client (as
// by another gateway replica) reaches a read through the cache once Redis's
// invalidation is drained: within maxWait every time.
func TestReadCacheOtherWriter(t *testing.T) {
	reader, writer := readerAndWriter(t, store.ReadCacheConfig{})
	delays := staleness(t, context.Background(), reader, writer, 50)
	const maxWait = 500 * time.Millisecond
	if worst := delays[len(delays)-1]; worst > maxWait {
		t.Fatalf("a change took %v to reach the cached reader (delays %v)", worst, delays)
	}
	t.Logf("staleness after another client's write: p50 %v, max %v", delays[len(delays)/2], delays[len(delays)-1])
}

// readerAndWriter returns two stores of one directory on the real Redis,
// as two gateway replicas have: reader reads through a read cache (default
// drain interval), writer writes through a client of its own.
func readerAndWriter(t testing.TB, cfg store.ReadCacheConfig) (reader, writer *store.Redis) {
	r := redistest.Real(t)
	reader = store.NewRedis(r.Client, r.Prefix).ReadCache(newReadCache(t, r, cfg))
	other := redis.NewClient(r.Client.(*redis.Client).Options())
	t.Cleanup(func() { _ = other.Close() })
	return reader, store.NewRedis(other, r.Prefix)
}

// staleness writes n changes to one user through writer, each after reader
// has cached the user, and returns, sorted, how long after each write's
// acknowledgement reader first returned the new version.
func staleness(t testing.TB, ctx context.Context, reader, writer *store.Redis, n int) []time.Duration {
	t.Helper()
	u, err := writer.Create(ctx, store.TypeUser, map[string]any{"userName": fmt.Sprintf("stale%d", time.Now().UnixNano())}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var delays []time.Duration
	for i := range n {
		for range 2 {
			if _, err := reader.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		w, _, err := writer.Update(ctx, store.TypeUser, u.ID, store.Condition{}, map[string]any{"userName": u.Attrs["userName"], "title": fmt.Sprint(i)}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		acked := time.Now()
		for {
			got, err := reader.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Version == w.Version {
				delays = append(delays, time.Since(acked))
				break
			}
			if time.Since(acked) > maxStalenessWait {
				t.Fatalf("version %d still read %v after version %d was written", got.Version, time.Since(acked), w.Version)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	slices.Sort(delays)
	return delays
}

// maxStalenessWait bounds staleness's wait for one change.
const maxStalenessWait = 15 * time.Second

// BenchmarkReadCacheStaleness measures how long after another client's
// acknowledged write a reader through the read cache still returns the
// old version, over b.N writes: p50 and p99, with go-redis's default drain
// interval (5 ms, the gateway's default scim.read_cache_drain) and longer
// ones.
//
//	./scripts/test.sh -run '^$' -bench ReadCacheStaleness -benchtime 500x ./scimapi/store/
func BenchmarkReadCacheStaleness(b *testing.B) {
	for _, drain := range []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond} {
		name := "drain=default"
		if drain > 0 {
			name = "drain=" + drain.String()
		}
		b.Run(name, func(b *testing.B) {
			reader, writer := readerAndWriter(b, store.ReadCacheConfig{DrainInterval: drain})
			b.ResetTimer()
			delays := staleness(b, context.Background(), reader, writer, b.N)
			b.ReportMetric(float64(delays[len(delays)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// TestReadCacheRedisRestart: when Redis restarts empty, what the cache
// held is dropped with the connections it was read on: reads a moment
// later find nothing instead of the cached user.
func TestReadCacheRedisRestart(t *testing.T) {
	srv := redistest.StartServer(t)
	r := &redistest.Redis{Client: srv.Client(), Prefix: "restart:"}
	ctx := context.Background()
	rc := newReadCache(t, r, store.ReadCacheConfig{})
	st := store.NewRedis(r.Client, r.Prefix).ReadCache(rc)
	u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "before"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := st.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if rc.Stats().Entries == 0 {
		t.Fatal("nothing cached")
	}
	srv.Kill()
	srv.Start()
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := st.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{})
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("2 s after Redis restarted empty, the user is still read (%v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReadCacheStalledRedis: while Redis does not answer (SIGSTOP, as in
// a partition, where other replicas may still write to it), the cache is
// emptied and bypassed within a second: reads fail instead of answering
// from memory; once Redis answers again the cache serves again.
func TestReadCacheStalledRedis(t *testing.T) {
	srv := redistest.StartServer(t)
	r := &redistest.Redis{Client: srv.Client(), Prefix: "stalled:"}
	ctx := context.Background()
	rc := newReadCache(t, r, store.ReadCacheConfig{HealthInterval: 100 * time.Millisecond})
	st := store.NewRedis(r.Client, r.Prefix).ReadCache(rc)
	u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "stalled"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	read := func() error {
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := st.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{})
		return err
	}
	for range 2 {
		if err := read(); err != nil {
			t.Fatal(err)
		}
	}
	srv.Stop()
	defer srv.Cont()
	stopped := time.Now()
	waitServing(t, rc, false)
	t.Logf("cache bypassed %v after Redis stopped answering", time.Since(stopped))
	if rc.Stats().Entries != 0 {
		t.Fatalf("%d replies still cached while Redis does not answer", rc.Stats().Entries)
	}
	// (The read waits out the test client's read timeout: it is not one
	// with ContextTimeoutEnabled, as the gateway's are.)
	if err := read(); err == nil {
		t.Fatal("a read answered from memory while Redis does not answer")
	}
	srv.Cont()
	waitServing(t, rc, true)
	if err := read(); err != nil {
		t.Fatalf("read after Redis came back: %v", err)
	}
}

// TestReadCacheProbe: the store's probe of the cache (is a read's reply
// held?) finds what go-redis's read path cached, under the key go-redis
// uses, and does not count as a hit or a miss; a read by id whose hash is
// not cached sends its commands at once (one round trip), one that is
// cached reads them one after the other from memory.
func TestReadCacheProbe(t *testing.T) {
	r := redistest.Real(t)
	ctx := context.Background()
	rc := newReadCache(t, r, store.ReadCacheConfig{DrainInterval: time.Hour, HealthInterval: time.Hour})
	st := store.NewRedis(r.Client, r.Prefix).ReadCache(rc)
	u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "probed"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "pg"}, []store.Member{{Value: u.ID}}, nil); err != nil {
		t.Fatal(err)
	}
	var fl inFlight
	rc.AddHook(&fl)
	ro := store.ReadOptions{Groups: true}
	read := func(stage string, wantInFlight int) {
		t.Helper()
		fl.reset()
		got, err := st.Get(ctx, store.TypeUser, u.ID, ro)
		if err != nil || got.Attrs["userName"] != "probed" || len(got.Groups) != 1 {
			t.Fatalf("%s: %+v %v", stage, got, err)
		}
		if m := fl.most(); m != wantInFlight {
			t.Errorf("%s: %d commands in flight at once, want %d", stage, m, wantInFlight)
		}
	}
	if rc.Cached(ctx, st.ReadArgs(u.ID)...) {
		t.Fatal("probe found a reply never read")
	}
	read("cold", 3) // the hash, the document key, the groups
	before := rc.Stats()
	if !rc.Cached(ctx, st.ReadArgs(u.ID)...) {
		t.Fatal("probe did not find the reply the read cached")
	}
	if rc.Cached(ctx, st.ReadArgs("other")...) || rc.Cached(ctx, "get", "x", 1) {
		t.Fatal("probe found a reply never read")
	}
	if after := rc.Stats(); after.Hits != before.Hits || after.Misses != before.Misses {
		t.Errorf("probes counted: %+v, then %+v", before, after)
	}
	before = rc.Stats()
	read("warm", 1)
	if after := rc.Stats(); after.Misses != before.Misses || after.Hits < before.Hits+3 {
		t.Errorf("a warm read counted %d hits and %d misses, want its reads' hits", after.Hits-before.Hits, after.Misses-before.Misses)
	}
	if _, _, err := st.Update(ctx, store.TypeUser, u.ID, store.Condition{}, map[string]any{"userName": "probed", "title": "t"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	read("after a write", 3)
}

// inFlight is a hook recording how many reads (HMGET, GET, SMEMBERS) were
// in flight at once (each held 20 ms, so reads sent together overlap).
type inFlight struct {
	mu        sync.Mutex
	now, peak int
}

func (f *inFlight) reset() { f.mu.Lock(); f.now, f.peak = 0, 0; f.mu.Unlock() }

func (f *inFlight) most() int { f.mu.Lock(); defer f.mu.Unlock(); return f.peak }

func (f *inFlight) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f *inFlight) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		switch cmd.Name() {
		case "hmget", "get", "smembers":
		default: // a new connection's set-up
			return next(ctx, cmd)
		}
		f.mu.Lock()
		f.now++
		f.peak = max(f.peak, f.now)
		f.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		err := next(ctx, cmd)
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
		return err
	}
}

func (f *inFlight) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
