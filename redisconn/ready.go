package redisconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redisfault"
)

// HashTags are the hash tags of the keys scimgate's scripts change
// together; on a cluster, readiness checks the master serving each one.
var HashTags = []string{"{scim}", "{auth}", "{oauth}"}

// DegradedError is a readiness result that still serves reads: Redis
// answers, but writes are refused (full with noeviction, or the node is a
// replica). Degraded reports true so the HTTP layer can tell it apart.
type DegradedError struct{ Reason string }

func (e *DegradedError) Error() string { return e.Reason }

// Degraded marks the error as a degraded, not a failed, readiness.
func (e *DegradedError) Degraded() bool { return true }

// Ping tells whether Redis can serve the gateway, within timeout whatever
// Redis does (a stalled server included): nil when every master scimgate
// writes to answers and accepts writes; a *DegradedError when they answer
// but refuse writes; another error when one does not answer.
func (c *Conn) Ping(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.check(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("redis did not answer within %s", timeout)
	}
}

func (c *Conn) check(ctx context.Context) error {
	if c.embedded != nil {
		return c.Client.Ping(ctx).Err()
	}
	cc, ok := c.Client.(*redis.ClusterClient)
	if !ok {
		return checkMaster(ctx, c.Client, "redis")
	}
	var degraded error
	for _, tag := range HashTags {
		node, err := cc.MasterForKey(ctx, tag)
		if err != nil {
			return fmt.Errorf("redis cluster: no master for the slot of %s: %w", tag, err)
		}
		err = checkMaster(ctx, node, "redis cluster master of "+tag)
		var de *DegradedError
		if errors.As(err, &de) {
			degraded = err
		} else if err != nil {
			return err
		}
	}
	return degraded
}

// server is what checkMaster needs of a client.
type server interface {
	Do(ctx context.Context, args ...any) *redis.Cmd
	Info(ctx context.Context, section ...string) *redis.StringCmd
}

// checkMaster checks that the server behind c answers, is a master and is
// not full.
func checkMaster(ctx context.Context, c server, name string) error {
	role, err := c.Do(ctx, "ROLE").Slice()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(role) == 0 || role[0] != "master" {
		return &DegradedError{Reason: name + " is a replica: writes are refused until a master is reachable"}
	}
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if full(info) {
		return &DegradedError{Reason: name + " is full (maxmemory reached, noeviction): reads are served, writes are refused"}
	}
	return nil
}

// full reads INFO memory: maxmemory set, the policy noeviction and used
// memory within 1% of it (Redis refuses writes at the limit, less its
// replication and AOF buffers).
func full(info string) bool {
	var used, limit int64
	var policy string
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "used_memory":
			used, _ = strconv.ParseInt(v, 10, 64)
		case "maxmemory":
			limit, _ = strconv.ParseInt(v, 10, 64)
		case "maxmemory_policy":
			policy = v
		}
	}
	return limit > 0 && policy == "noeviction" && used >= limit-limit/100
}

// reloadOnFault returns a hook that asks cc to refresh its slot map when a
// command meets a node that refuses connections or times out, or a
// CLUSTERDOWN / TRYAGAIN / MASTERDOWN / READONLY reply, at most once per
// every: go-redis reloads early only on MOVED, ASK and READONLY, so without
// it commands for a dead master's slots keep going to the dead address
// until the periodic reload.
func reloadOnFault(cc *redis.ClusterClient, every time.Duration) redis.Hook {
	return &reloadHook{cc: cc, every: every}
}

type reloadHook struct {
	cc    *redis.ClusterClient
	every time.Duration
	last  atomic.Int64 // unix nanos of the last reload request
}

func (h *reloadHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		h.maybeReload(err)
		return conn, err
	}
}

func (h *reloadHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.maybeReload(err)
		return err
	}
}

func (h *reloadHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.maybeReload(err)
		return err
	}
}

func (h *reloadHook) maybeReload(err error) {
	switch redisfault.Classify(err) {
	case redisfault.Connection, redisfault.Timeout, redisfault.ClusterDown, redisfault.TryAgain,
		redisfault.MasterDown, redisfault.ReadOnly, redisfault.Pool:
	default:
		return
	}
	now := time.Now().UnixNano()
	last := h.last.Load()
	if now-last < int64(h.every) || !h.last.CompareAndSwap(last, now) {
		return
	}
	// ReloadState only marks the state for a lazy reload in the
	// background; it does not block the caller.
	h.cc.ReloadState(context.Background())
}
