package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redisfault"
	"github.com/scimgate/scimgate/scimapi/store"
)

// ackTimeout bounds the XACK (or dead-letter write) that follows a
// delivery; it runs even when the worker is stopping, so an entry that
// reached the subscriber is not sent again.
const ackTimeout = 5 * time.Second

// deliver POSTs one stream entry to s until the subscriber accepts it or
// MaxAttempts attempts failed, then acknowledges it (after copying it to
// the dead-letter stream in the second case). A non-nil error means the
// entry is still pending: the worker is stopping, lost its lease, or Redis
// failed; whoever delivers to s next sends it again.
func (w *Worker) deliver(ctx context.Context, s Subscriber, m redis.XMessage) error {
	ev, err := EventFromMessage(m)
	if err != nil {
		// A trimmed or malformed entry can never be delivered.
		return w.deadLetter(ctx, s, m.ID, nil, 0, err)
	}
	ev.Directory = *w.dir.Load()
	if ev.readsDoc() {
		doc, _, err := store.NewRedisTagged(w.client, w.opts.Prefix, w.tag).Doc(ctx, ev.ResourceType, ev.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Deleted since: its delete event follows.
		case err != nil:
			return err // still pending: delivered again by whoever holds the lease next
		default:
			ev.Data = doc
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return w.deadLetter(ctx, s, m.ID, nil, 0, fmt.Errorf("encode event: %w", err))
	}
	var last error
	for attempt := 1; attempt <= w.opts.MaxAttempts; attempt++ {
		if attempt > 1 {
			if err := sleep(ctx, backoff(attempt-1, w.opts.BackoffInitial, w.opts.BackoffMax)); err != nil {
				return err
			}
		}
		start := time.Now()
		if last = w.post(ctx, s, ev, body); last == nil {
			w.opts.Log.Debug("webhook delivered", "subscriber", s.Name, "delivery", m.ID, "type", ev.Type,
				"attempt", attempt, "duration", time.Since(start))
			return w.ack(ctx, s, m.ID)
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		w.opts.Log.Warn("webhook delivery failed", "subscriber", s.Name, "delivery", m.ID, "type", ev.Type,
			"attempt", attempt, "max_attempts", w.opts.MaxAttempts, "err", last)
	}
	return w.deadLetter(ctx, s, m.ID, body, w.opts.MaxAttempts, last)
}

// post sends one attempt; any answer but 2xx is a failure. An attempt in
// flight when the worker stops runs to its end (at most Timeout), so a
// graceful restart does not send an accepted event twice.
func (w *Worker) post(ctx context.Context, s Subscriber, ev Event, body []byte) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	now := w.opts.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "scimgate-webhook/1")
	req.Header.Set(HeaderDelivery, ev.DeliveryID)
	req.Header.Set(HeaderEvent, ev.Type)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(w.opts.Secret, now, body))
	resp, err := w.opts.Client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, which may carry credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("subscriber answered %s", resp.Status)
	}
	return nil
}

// ack acknowledges a delivered entry.
func (w *Worker) ack(ctx context.Context, s Subscriber, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	if err := w.client.XAck(ctx, w.stream, GroupName(s.Name), id).Err(); err != nil {
		return fmt.Errorf("ack %s for %s: %w", id, s.Name, err)
	}
	return nil
}

// deadLetter appends the entry, its body and the last error to the
// subscriber's dead-letter stream and acknowledges it, in one MULTI.
func (w *Worker) deadLetter(ctx context.Context, s Subscriber, id string, body []byte, attempts int, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	cmds, err := w.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, &redis.XAddArgs{
			Stream: TaggedDLQKey(w.opts.Prefix, w.tag, s.Name),
			MaxLen: w.opts.DLQMaxLen,
			Approx: true,
			Values: []any{
				"delivery_id", id,
				"subscriber", s.Name,
				"directory", w.dir.Load().ID,
				"attempts", attempts,
				"error", cause.Error(),
				"failed_at", w.opts.Now().UTC().Format(time.RFC3339Nano),
				"body", string(body),
			},
		})
		p.XAck(ctx, w.stream, GroupName(s.Name), id)
		return nil
	})
	// At maxmemory Redis aborts the transaction (EXECABORT); report the
	// queued commands' OOM, which callers classify as Redis trouble.
	if err := redisfault.TxError(cmds, err); err != nil {
		return fmt.Errorf("dead-letter %s for %s: %w", id, s.Name, err)
	}
	w.opts.Log.Error("webhook delivery dead-lettered", "subscriber", s.Name, "delivery", id,
		"attempts", attempts, "err", cause)
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
