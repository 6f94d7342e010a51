package webhook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/scimapi/store"
)

// Worker delivers one directory's change-event stream to the configured
// subscribers. Run one per gateway replica and directory; they share the
// work through Redis. A Supervisor runs one per directory.
type Worker struct {
	client redis.UniversalClient
	opts   Options
	subs   []Subscriber
	tag    string // the directory's hash tag (directory.Tag)
	stream string
	// from is where a consumer group that does not exist yet starts: "$"
	// (new events only) or "0" (the whole stream, for a directory created
	// while the gateway runs, whose every event is new).
	from string
	// poll > 0 reads without blocking and waits poll when the stream is
	// idle (directories other than the default one: a blocked read holds a
	// pooled Redis connection, and there may be thousands of directories);
	// 0 blocks up to opts.Block.
	poll time.Duration
	dir  atomic.Pointer[DirectoryRef]
	wg   sync.WaitGroup
}

// DirectoryRef names the directory an event belongs to in the payload.
type DirectoryRef struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// New returns a Worker for the default directory's change-event stream
// (store.EventsKey(opts.Prefix)), delivering to every subscriber.
func New(client redis.UniversalClient, opts Options) (*Worker, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	w := newWorker(client, opts, opts.Subscribers, DirectoryRef{ID: directory.DefaultID, Name: directory.DefaultID}, "$")
	return w, nil
}

// newWorker returns the worker of directory ref's stream for subs; opts
// must have its defaults applied.
func newWorker(client redis.UniversalClient, opts Options, subs []Subscriber, ref DirectoryRef, from string) *Worker {
	tag := directory.Tag(ref.ID)
	w := &Worker{client: client, opts: opts, subs: subs, tag: tag,
		stream: store.TaggedEventsKey(opts.Prefix, tag), from: from}
	if tag != store.DefaultTag {
		w.poll = opts.PollInterval
	}
	if ref.ID != directory.DefaultID {
		w.opts.Log = opts.Log.With("directory", ref.ID)
	}
	w.dir.Store(&ref)
	return w
}

// Start creates every subscriber's consumer group that does not exist yet,
// at the end of the stream (a new subscriber receives the events written
// from then on; an existing one resumes where it stopped), and delivers in
// the background until ctx ends. Every event written after Start returns
// reaches every subscriber. Wait waits for the background work to stop.
func (w *Worker) Start(ctx context.Context) error {
	for _, s := range w.subs {
		if err := w.ensureGroup(ctx, s); err != nil {
			return err
		}
	}
	for _, s := range w.subs {
		w.wg.Go(func() { w.run(ctx, s) })
	}
	return nil
}

// Wait blocks until every delivery loop has stopped after Start's context
// ended. An entry being delivered at that moment stays pending and is
// delivered again by the next worker.
func (w *Worker) Wait() { w.wg.Wait() }

func (w *Worker) ensureGroup(ctx context.Context, s Subscriber) error {
	err := w.client.XGroupCreateMkStream(ctx, w.stream, GroupName(s.Name), w.from).Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("webhook: create consumer group for %s on %s: %w", s.Name, w.stream, err)
	}
	return nil
}

// run competes for s's lease until ctx ends, and delivers while it holds it.
func (w *Worker) run(ctx context.Context, s Subscriber) {
	l := &lease{client: w.client, key: leaseKey(w.opts.Prefix, w.tag, s.Name), holder: w.opts.Consumer, ttl: w.opts.LeaseTTL}
	poll := w.opts.LeaseTTL / 5
	for ctx.Err() == nil {
		ok, err := l.acquire(ctx)
		if err != nil && ctx.Err() == nil {
			w.opts.Log.Warn("webhook lease", "subscriber", s.Name, "err", err)
		}
		if ok {
			err := w.lead(ctx, s, l)
			if ctx.Err() == nil {
				w.opts.Log.Warn("webhook delivery paused", "subscriber", s.Name, "err", err)
			}
		}
		_ = sleep(ctx, poll)
	}
}

// lead delivers to s while this worker holds l: first every entry pending
// in s's group (the previous holder's unfinished work, in stream order),
// then new entries as they arrive. It returns when ctx ends, the lease is
// lost, or Redis fails, releasing the lease.
func (w *Worker) lead(ctx context.Context, s Subscriber, l *lease) error {
	lctx, cancel := context.WithCancelCause(ctx)
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		l.keep(lctx, func(err error) { cancel(fmt.Errorf("lease lost: %w", err)) })
	}()
	defer func() {
		cancel(nil)
		<-kept
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
		defer rcancel()
		if err := l.release(rctx); err != nil {
			w.opts.Log.Warn("webhook lease", "subscriber", s.Name, "err", err)
		}
	}()
	w.opts.Log.Info("webhook delivery started", "subscriber", s.Name, "consumer", w.opts.Consumer)

	if err := w.claimPending(lctx, s); err != nil {
		return err
	}
	group := GroupName(s.Name)
	block := w.opts.Block
	if w.poll > 0 {
		block = -1 // no BLOCK: see Worker.poll
	}
	for {
		res, err := w.client.XReadGroup(lctx, &redis.XReadGroupArgs{
			Group:    group,
			Consumer: w.opts.Consumer,
			Streams:  []string{w.stream, ">"},
			Count:    w.opts.BatchSize,
			Block:    block,
		}).Result()
		switch {
		case lctx.Err() != nil:
			return context.Cause(lctx)
		case errors.Is(err, redis.Nil):
			if w.poll > 0 {
				_ = sleep(lctx, w.poll)
			}
			continue
		case err != nil && strings.HasPrefix(err.Error(), "NOGROUP") && w.tag != store.DefaultTag:
			// The directory's data was purged: the supervisor stops this
			// worker; recreating the stream would leave a key behind.
			return fmt.Errorf("events of directory %s are gone: %w", w.dir.Load().ID, err)
		case err != nil && strings.HasPrefix(err.Error(), "NOGROUP"):
			// The stream was deleted (FLUSHALL, a new embedded Redis).
			if err := w.ensureGroup(lctx, s); err != nil {
				return err
			}
			continue
		case err != nil:
			return fmt.Errorf("read events for %s: %w", s.Name, err)
		}
		for _, st := range res {
			for _, m := range st.Messages {
				if err := w.deliver(lctx, s, m); err != nil {
					return err
				}
			}
		}
	}
}

// claimPending moves every entry pending in s's group to this consumer
// (XAUTOCLAIM; holding the lease means nobody else should be delivering
// them) and delivers them in stream order.
func (w *Worker) claimPending(ctx context.Context, s Subscriber) error {
	start := "0-0"
	for {
		msgs, next, err := w.client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream:   w.stream,
			Group:    GroupName(s.Name),
			Consumer: w.opts.Consumer,
			Start:    start,
			Count:    w.opts.BatchSize,
		}).Result()
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("claim pending events for %s: %w", s.Name, err)
		}
		if len(msgs) > 0 {
			w.opts.Log.Info("webhook redelivering pending events", "subscriber", s.Name, "count", len(msgs))
		}
		for _, m := range msgs {
			if err := w.deliver(ctx, s, m); err != nil {
				return err
			}
		}
		if next == "0-0" || next == "" {
			return nil
		}
		start = next
	}
}
