package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// printEvents is the example consumer of docs/events.md, verbatim: it
// reads the change-event stream in the consumer group "myapp" as consumer
// "myapp-1", prints each event and acknowledges it, until ctx ends.
func printEvents(ctx context.Context, rdb *redis.Client, stream string) error {
	// "0": on first start, read everything still in the stream; "$" would
	// read only what comes next. BUSYGROUP means the group exists already.
	err := rdb.XGroupCreateMkStream(ctx, stream, "myapp", "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	// "0" first: entries this consumer read but did not acknowledge before
	// a crash; then ">": new entries.
	for _, from := range []string{"0", ">"} {
		for ctx.Err() == nil {
			res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
				Group: "myapp", Consumer: "myapp-1",
				Streams: []string{stream, from}, Count: 100, Block: time.Second,
			}).Result()
			if errors.Is(err, redis.Nil) {
				continue // nothing new within Block
			}
			if err != nil {
				return err
			}
			if len(res[0].Messages) == 0 && from == "0" {
				break // no pending entries left
			}
			for _, m := range res[0].Messages {
				v := m.Values
				fmt.Println(v["type"], v["resource_type"], v["id"], v["member"], v["version"])
				// Acknowledge only once the event is handled: at-least-once.
				if err := rdb.XAck(ctx, stream, "myapp", m.ID).Err(); err != nil {
					return err
				}
			}
		}
	}
	return ctx.Err()
}

// Example_consumer runs the docs/events.md consumer against an in-memory
// Redis holding three change events.
func Example_consumer() {
	mr, err := miniredis.Run()
	if err != nil {
		panic(err)
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	stream := "scimgate:{scim}:events" // store.EventsKey(redis.prefix)
	for _, ev := range [][]any{
		{"type", "user.created", "resource_type", "User", "id", "u1", "audit_id", "1-0", "time", "2026-01-02T03:04:05Z", "version", "1", "changed", ""},
		{"type", "user.deactivated", "resource_type", "User", "id", "u1", "audit_id", "2-0", "time", "2026-01-02T03:05:00Z", "version", "2", "changed", "active"},
		{"type", "group.member_removed", "resource_type", "Group", "id", "g1", "audit_id", "3-0", "time", "2026-01-02T03:06:00Z", "member", "u1"},
	} {
		rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: ev})
	}
	if err := printEvents(ctx, rdb, stream); !errors.Is(err, context.DeadlineExceeded) {
		fmt.Println("error:", err)
	}
	// Output:
	// user.created User u1 <nil> 1
	// user.deactivated User u1 <nil> 2
	// group.member_removed Group g1 u1 <nil>
}
