package metrics

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redisfault"
)

// pipelineCommand labels pipelines and MULTI/EXEC transactions, whose
// commands share one round trip.
const pipelineCommand = "pipeline"

// RedisHook returns a go-redis hook that times every command and counts
// failures; add it with client.AddHook. redis.Nil (an empty answer) is not
// a failure.
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m: m} }

type redisHook struct{ m *Metrics }

// DialHook implements redis.Hook; dials are not measured.
func (redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

// ProcessHook implements redis.Hook.
func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		h.observe(cmd.Name(), time.Since(start), err)
		return err
	}
}

// ProcessPipelineHook implements redis.Hook. A pipeline is one
// observation; a failed command inside it counts as an error of that
// command.
func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		h.m.redisLatencyOf.get(pipelineCommand).Observe(time.Since(start).Seconds())
		failed := false
		for _, c := range cmds {
			if cerr := c.Err(); failure(cerr) && !handshake(c.Name()) {
				h.m.redisErrors.WithLabelValues(c.Name()).Inc()
				h.fault(cerr)
				failed = true
			}
		}
		if failure(err) && !failed && (len(cmds) == 0 || !handshake(cmds[0].Name())) {
			h.m.redisErrors.WithLabelValues(pipelineCommand).Inc()
			h.fault(err)
		}
		return err
	}
}

func (h redisHook) observe(name string, took time.Duration, err error) {
	h.m.redisLatencyOf.get(name).Observe(took.Seconds())
	if failure(err) && !handshake(name) {
		h.m.redisErrors.WithLabelValues(name).Inc()
		h.fault(err)
	}
}

// fault counts err by its kind of Redis trouble, if it is any.
func (h redisHook) fault(err error) {
	if k := redisfault.Classify(err); k != redisfault.None {
		h.m.redisFaults.WithLabelValues(string(k)).Inc()
	}
}

// failure reports whether err is a real failure: not a nil answer and not
// a lost WATCH race (TxFailedErr), which callers retry by design.
func failure(err error) bool {
	return err != nil && !errors.Is(err, redis.Nil) && !errors.Is(err, redis.TxFailedErr)
}

// handshake reports the commands go-redis sends when it opens a
// connection (HELLO, CLIENT SETINFO). Servers without them refuse them and
// go-redis falls back, so their refusals are not counted as errors.
func handshake(name string) bool { return name == "hello" || name == "client" }
