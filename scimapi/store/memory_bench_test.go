package store_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// entraUser is a typical user as Microsoft Entra ID provisions it: the
// core attributes its default mapping sends plus the enterprise extension.
func entraUser(i int) map[string]any {
	user := fmt.Sprintf("user%06d@contoso.com", i)
	return map[string]any{
		"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"userName":    user,
		"externalId":  fmt.Sprintf("user%06d", i),
		"active":      true,
		"displayName": fmt.Sprintf("Given%d Family%d", i, i%997),
		"title":       "Software Engineer",
		"emails":      []any{map[string]any{"primary": true, "type": "work", "value": user}},
		"name": map[string]any{"formatted": fmt.Sprintf("Given%d Family%d", i, i%997),
			"familyName": fmt.Sprintf("Family%d", i%997), "givenName": fmt.Sprintf("Given%d", i)},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{
			"department": "Sales", "employeeNumber": strconv.Itoa(100000 + i), "costCenter": "CC-42"},
	}
}

// entraJournal is the journal the SCIM handler records for a create by a
// static-token client.
func entraJournal(attrs map[string]any) *store.Journal {
	changed := make([]string, 0, len(attrs))
	for k := range attrs {
		if k != "schemas" {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	return &store.Journal{
		Audit: audit.Event{
			Actor:     audit.Actor{ClientID: "entra-prod", AuthMethod: "static_token", CredentialID: uuid.NewString()[:12]},
			Target:    audit.Target{Type: store.TypeUser, Name: attrs["userName"].(string)},
			RequestID: uuid.NewString(), SourceIP: "203.0.113.7", Changed: changed,
		},
		DocAction: audit.UserProvisioned, Event: "user.created",
	}
}

// BenchmarkMemoryPerUser creates 10,000 typical Entra users (with their
// audit and change events) through the store on a redis-server of its own
// and reports Redis memory per user: total (used_memory delta once the
// write tokens, which expire after 2 minutes, are gone), and the part of
// it held by the audit and change-event streams. It needs redis-server.
//
// The sub-benchmark default has the optional indexes off (the default),
// all-indexes has every one on (scim.indexes). listpack-1024 runs
// redis-server with hash-max-listpack-value 1024: a resource hash, whose
// document is longer than the default 64 bytes, is then kept as a compact
// listpack instead of a hash table. With -v it also logs the memory of
// each key family. The store places documents by the server's
// hash-max-listpack-value (DocumentKeys), as the gateway does.
//
//	go test -run '^$' -bench MemoryPerUser -benchtime 1x ./scimapi/store/
func BenchmarkMemoryPerUser(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchMemory(b, nil) })
	b.Run("all-indexes", func(b *testing.B) { benchMemory(b, store.OptionalIndexes()) })
	b.Run("listpack-1024", func(b *testing.B) { benchMemory(b, nil, "--hash-max-listpack-value", "1024") })
}

func benchMemory(b *testing.B, indexes []string, serverArgs ...string) {
	const n = 10000
	for b.Loop() {
		srv := redistest.StartServer(b, serverArgs...)
		c := srv.Client()
		ctx := context.Background()
		// documents placed by the server's hash-max-listpack-value, as the gateway does
		var lv store.ListpackValue
		if _, err := lv.Read(ctx, c); err != nil {
			b.Fatal(err)
		}
		st := store.NewRedis(c, "scimgate:").Listpack(&lv)
		if err := st.EnableIndexes(indexes...); err != nil {
			b.Fatal(err)
		}
		// One create first, so the scripts are loaded and the streams exist.
		if _, err := st.Create(ctx, store.TypeUser, entraUser(-1), nil, entraJournal(entraUser(-1))); err != nil {
			b.Fatal(err)
		}
		dropWriteTokens(b, c)
		if err := c.ConfigResetStat(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		before := redistest.UsedMemory(b, c)
		streams := streamMemory(b, c)
		var wg sync.WaitGroup
		work := make(chan int)
		for range 8 {
			wg.Go(func() {
				for i := range work {
					u := entraUser(i)
					if _, err := st.Create(ctx, store.TypeUser, u, nil, entraJournal(u)); err != nil {
						b.Error(err)
					}
				}
			})
		}
		for i := range n {
			work <- i
		}
		close(work)
		wg.Wait()
		b.ReportMetric(scriptMicros(b, c), "evalsha-µs/call")
		tokens := redistest.UsedMemory(b, c)
		dropWriteTokens(b, c)
		after := redistest.UsedMemory(b, c)
		b.ReportMetric(float64(after-before)/n, "B/user")
		b.ReportMetric(float64(streamMemory(b, c)-streams)/n, "streams-B/user")
		b.ReportMetric(float64(tokens-after)/n, "wtoken-B/user")
		if testing.Verbose() {
			for _, pat := range []string{"scimgate:{scim}:r:*", "scimgate:{scim}:d:*", "scimgate:{scim}:u:*", "scimgate:{scim}:x:User:externalId",
				"scimgate:{scim}:x:User:emails.value", "scimgate:{scim}:x:User:displayName", "scimgate:{scim}:x:User:name.familyName",
				"scimgate:{scim}:all:*", "scimgate:{scim}:audit", "scimgate:{scim}:events"} {
				keys, _ := c.Keys(ctx, pat).Result()
				if len(keys) == 0 {
					continue
				}
				var tot int64
				for _, k := range keys {
					m, _ := c.MemoryUsage(ctx, k, 0).Result()
					tot += m
				}
				enc, _ := c.ObjectEncoding(ctx, keys[0]).Result()
				b.Logf("%s: %d keys, %d B/user, %s", pat, len(keys), tot/n, enc)
			}
		}
		srv.Kill()
	}
}

// scriptMicros is the average time Redis spent in one EVALSHA since the
// last CONFIG RESETSTAT (INFO commandstats usec_per_call).
func scriptMicros(b *testing.B, c *redis.Client) float64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_evalsha:"); ok {
			for kv := range strings.SplitSeq(rest, ",") {
				if v, ok := strings.CutPrefix(kv, "usec_per_call="); ok {
					f, err := strconv.ParseFloat(v, 64)
					if err != nil {
						b.Fatal(err)
					}
					return f
				}
			}
		}
	}
	b.Fatal("no evalsha in INFO commandstats")
	return 0
}

// streamMemory is MEMORY USAGE (all samples) of the audit and event streams.
func streamMemory(b *testing.B, c *redis.Client) int64 {
	var total int64
	for _, k := range []string{audit.TaggedKey("scimgate:", store.DefaultTag), store.TaggedEventsKey("scimgate:", store.DefaultTag)} {
		n, err := c.MemoryUsage(context.Background(), k, 0).Result()
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	return total
}

func dropWriteTokens(b *testing.B, c *redis.Client) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, "scimgate:{scim}:w:*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		b.Fatal(err)
	}
}
