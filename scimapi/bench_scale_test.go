package scimapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// seedUsersPipelined writes n Entra-shaped users straight into the
// default directory's key layout (store package doc: r:<id>, all:User,
// the userName index), 1,000 per pipeline, so a large store is seeded in
// seconds. User i has userName "u<i>@example.com" and familyName "F<i>".
// It checks the result through the store.
func seedUsersPipelined(b *testing.B, r *redistest.Redis, n int) []string {
	b.Helper()
	ctx := context.Background()
	p := r.Prefix + "{" + store.DefaultTag + "}:"
	now := time.Now().UTC().Format(time.RFC3339Nano)
	ids := make([]string, n)
	for start := 0; start < n; start += 1000 {
		pipe := r.Client.Pipeline()
		for i := start; i < min(start+1000, n); i++ {
			id, _ := uuid.NewV7()
			ids[i] = id.String()
			userName := fmt.Sprintf("u%d@example.com", i)
			doc, _ := json.Marshal(map[string]any{
				"schemas": []any{schema.UserSchemaURN, schema.EnterpriseUserURN}, "userName": userName,
				"externalId": fmt.Sprintf("x%d", i), "active": true, "displayName": fmt.Sprintf("G%d F%d", i, i),
				"name":                   map[string]any{"givenName": fmt.Sprintf("G%d", i), "familyName": fmt.Sprintf("F%d", i), "formatted": fmt.Sprintf("G%d F%d", i, i)},
				"emails":                 []any{map[string]any{"value": userName, "type": "work", "primary": true}},
				schema.EnterpriseUserURN: map[string]any{"department": "D" + fmt.Sprint(i%50)},
			})
			ix := fmt.Sprintf(`[[3,%q,1,"userName",0]]`, userName)
			pipe.HSet(ctx, p+"r:"+ids[i], "t", store.TypeUser, "doc", string(doc), "v", 1, "dv", 1, "c", now, "m", now, "ix", ix)
			pipe.ZAdd(ctx, p+"all:User", redis.Z{Member: ids[i]})
			pipe.HSet(ctx, p+"u:User:userName", userName, ids[i])
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	st := store.NewRedis(r.Client, r.Prefix)
	got, err := st.Lookup(ctx, store.TypeUser, "userName", fmt.Sprintf("u%d@example.com", n-1))
	if err != nil || len(got) != 1 || got[0] != ids[n-1] {
		b.Fatalf("seeded store does not answer: %v %v", got, err)
	}
	return ids
}

// realBench returns the real Redis of SCIMGATE_TEST_REDIS_URL, or skips:
// the scale benchmarks seed many users and mean nothing on miniredis.
func realBench(b *testing.B) *redistest.Redis {
	if os.Getenv(redistest.EnvURL) == "" || testing.Short() {
		b.Skip("needs a real Redis (SCIMGATE_TEST_REDIS_URL) and no -short")
	}
	return redistest.Real(b)
}

// slowlogMonitor lowers Redis's slowlog threshold to 500 µs for a run and
// returns a function reporting the longest single command or script
// Redis ran meanwhile, in µs (0: none took 500 µs): how long the load held
// Redis at a time, measured by Redis itself. It restores the threshold.
func slowlogMonitor(b *testing.B, c redis.UniversalClient) func() int64 {
	ctx := context.Background()
	old, err := c.ConfigGet(ctx, "slowlog-log-slower-than").Result()
	if err != nil {
		b.Fatal(err)
	}
	c.ConfigSet(ctx, "slowlog-log-slower-than", "500")
	c.SlowLogReset(ctx)
	return func() int64 {
		defer c.ConfigSet(ctx, "slowlog-log-slower-than", old["slowlog-log-slower-than"])
		logs, err := c.SlowLogGet(ctx, 1000).Result()
		if err != nil {
			b.Fatal(err)
		}
		var worst redis.SlowLog
		for _, l := range logs {
			if l.Duration > worst.Duration {
				worst = l
			}
		}
		if len(worst.Args) > 0 {
			b.Logf("slowest Redis command: %v µs %.40q", worst.Duration.Microseconds(), worst.Args)
		}
		return worst.Duration.Microseconds()
	}
}

// redisCPU returns the CPU time the Redis server has used so far (INFO
// cpu): unlike latencies, it does not grow when the machine is busy.
func redisCPU(b *testing.B, c redis.UniversalClient) time.Duration {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// BenchmarkUnindexedFilter100k runs unindexed filters (each matching one
// user) over 100,000 users on real Redis. It reports the longest single
// command or script Redis ran during the runs (max-redis-µs, see
// slowlogMonitor; on a busy machine it includes time Redis was not
// scheduled) and the CPU time Redis spent per request (redis-cpu-ms/op).
//
//	SCIMGATE_TEST_REDIS_URL=redis://… go test -run '^$' -bench Unindexed -benchtime 5x ./scimapi/
func BenchmarkUnindexedFilter100k(b *testing.B) {
	r := realBench(b)
	e := newEnv(&testing.T{}, r, false)
	const n = 100_000
	seedUsersPipelined(b, r, n)
	for _, f := range []string{`name.familyName eq "F77777"`, `emails.value co "u77777@"`} {
		b.Run(strings.Fields(f)[0], func(b *testing.B) {
			path := "/scim/v2/Users?filter=" + url.QueryEscape(f)
			be := &benchEnv{env: e}
			slowest := slowlogMonitor(b, r.Client)
			cpu0 := redisCPU(b, r.Client)
			b.ReportAllocs()
			for b.Loop() {
				be.serve(b, "GET", path, "", 200)
			}
			b.ReportMetric(float64((redisCPU(b, r.Client)-cpu0).Milliseconds())/float64(b.N), "redis-cpu-ms/op")
			b.ReportMetric(float64(slowest()), "max-redis-µs")
		})
	}
}

// BenchmarkReadScale compares GET by id and userName eq at 1,000 and
// 1,000,000 stored users (real Redis, seeded by pipeline), each measured
// twice, sizes alternating: the ratio of the ns/op of the two sizes shows
// how flat the reads are.
func BenchmarkReadScale(b *testing.B) {
	r := realBench(b)
	sizes := []int{1000, 1_000_000}
	envs := make([]*benchEnv, len(sizes))
	ids := make([][]string, len(sizes))
	for k, n := range sizes {
		sub := *r
		sub.Prefix = fmt.Sprintf("%sscale%d:", r.Prefix, n)
		envs[k] = &benchEnv{env: newEnv(&testing.T{}, &sub, false)}
		ids[k] = seedUsersPipelined(b, &sub, n)
	}
	// Sizes alternate, so that both see the same machine load.
	for _, op := range []string{"get", "userNameEq", "get2", "userNameEq2"} {
		for k, n := range sizes {
			e := envs[k]
			b.Run(fmt.Sprintf("%s/users=%d", op, n), func(b *testing.B) {
				i := 0
				for b.Loop() {
					if strings.HasPrefix(op, "get") {
						i = (i + 7919) % n
						e.serve(b, "GET", "/scim/v2/Users/"+ids[k][i], "", 200)
					} else {
						i = (i + 7919) % (2 * n) // half of them absent
						e.serve(b, "GET", fmt.Sprintf("/scim/v2/Users?filter=userName+eq+%%22u%d@example.com%%22", i), "", 200)
					}
				}
			})
		}
	}
}
