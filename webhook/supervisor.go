package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/directory"
)

// Lister returns every directory (directory.Registry.List).
type Lister func(ctx context.Context) ([]directory.Directory, error)

// Supervisor delivers every directory's change events: it reads the
// directory list at Start and every Options.ListInterval, runs one Worker
// per directory (for the subscribers that want it: Subscriber.Directories)
// and stops the worker of a directory that was deleted. At most
// Options.MaxDirectories directories are delivered.
type Supervisor struct {
	client redis.UniversalClient
	opts   Options
	list   Lister

	wg      sync.WaitGroup // the loop and the stopping workers
	mu      sync.Mutex
	workers map[string]*dirWorker // by directory id
	seen    map[string]bool       // directory ids listed so far
	capped  bool                  // the cap was logged
}

type dirWorker struct {
	w      *Worker
	subs   string // subscriber names, to notice a changed selection
	cancel context.CancelFunc
}

// NewSupervisor returns a Supervisor over the directories list returns.
func NewSupervisor(client redis.UniversalClient, opts Options, list Lister) (*Supervisor, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if list == nil {
		return nil, fmt.Errorf("webhook: no directory lister")
	}
	return &Supervisor{client: client, opts: opts, list: list,
		workers: map[string]*dirWorker{}, seen: map[string]bool{}}, nil
}

// Start reads the directory list and starts the workers of the listed
// directories (their consumer groups start at the end of the stream, as
// Worker.Start), then keeps the set of workers current in the background
// until ctx ends. A directory that appears later is delivered from the
// beginning of its stream, so none of its events is missed. It fails when
// the first listing or a consumer group creation fails.
func (s *Supervisor) Start(ctx context.Context) error {
	if err := s.sync(ctx, true); err != nil {
		s.stopAll()
		return err
	}
	s.wg.Go(func() {
		for sleep(ctx, s.opts.ListInterval) == nil {
			if err := s.sync(ctx, false); err != nil && ctx.Err() == nil {
				s.opts.Log.Warn("webhook directory list", "err", err)
			}
		}
		s.stopAll()
	})
	return nil
}

// Wait blocks until every worker has stopped after Start's context ended.
func (s *Supervisor) Wait() { s.wg.Wait() }

// Directories returns the ids of the directories being delivered.
func (s *Supervisor) Directories() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.workers))
	for id := range s.workers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// sync starts and stops workers to match the directory list. first makes
// a failing consumer group creation an error (later it is retried at the
// next listing).
func (s *Supervisor) sync(ctx context.Context, first bool) error {
	dirs, err := s.list(ctx)
	if err != nil {
		return fmt.Errorf("webhook: list directories: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	listed := make(map[string]bool, len(dirs))
	failed := map[string]bool{}
	for _, d := range dirs {
		listed[d.ID] = true
		ref := DirectoryRef{ID: d.ID, Name: d.Name}
		subs := s.subscribersOf(ref)
		key := subNames(subs)
		cur := s.workers[d.ID]
		if cur != nil && cur.subs == key {
			cur.w.dir.Store(&ref)
			continue
		}
		if cur != nil {
			s.stop(d.ID)
		}
		if len(subs) == 0 || d.Deleting {
			continue
		}
		if len(s.workers) >= s.opts.MaxDirectories {
			if !s.capped {
				s.opts.Log.Error("webhook directory cap reached: further directories are not delivered",
					"max_directories", s.opts.MaxDirectories, "directories", len(dirs))
				s.capped = true
			}
			continue
		}
		from := "$"
		if !first && !s.seen[d.ID] && d.ID != directory.DefaultID {
			from = "0" // created since the gateway started: every event is new
		}
		if err := s.start(ctx, ref, subs, key, from); err != nil {
			if first {
				return err
			}
			s.opts.Log.Warn("webhook directory not started", "directory", d.ID, "err", err)
			failed[d.ID] = true // retried at the next listing, from the same start
		}
	}
	for id := range s.workers {
		if !listed[id] {
			s.stop(id)
		}
	}
	for id := range s.seen {
		if !listed[id] {
			delete(s.seen, id)
		}
	}
	for id := range listed {
		if !failed[id] {
			s.seen[id] = true
		}
	}
	return nil
}

// subscribersOf returns the subscribers that want ref's events.
func (s *Supervisor) subscribersOf(ref DirectoryRef) []Subscriber {
	var out []Subscriber
	for _, sub := range s.opts.Subscribers {
		if sub.Wants(ref.ID, ref.Name) {
			out = append(out, sub)
		}
	}
	return out
}

func subNames(subs []Subscriber) string {
	names := make([]string, len(subs))
	for i, sub := range subs {
		names[i] = sub.Name
	}
	return strings.Join(names, ",")
}

// start runs ref's worker; s.mu is held.
func (s *Supervisor) start(ctx context.Context, ref DirectoryRef, subs []Subscriber, key, from string) error {
	w := newWorker(s.client, s.opts, subs, ref, from)
	wctx, cancel := context.WithCancel(ctx)
	if err := w.Start(wctx); err != nil {
		cancel()
		return err
	}
	s.workers[ref.ID] = &dirWorker{w: w, subs: key, cancel: cancel}
	return nil
}

// stop ends directory id's worker; the delivery in flight finishes in the
// background (Wait waits for it). s.mu is held.
func (s *Supervisor) stop(id string) {
	dw := s.workers[id]
	delete(s.workers, id)
	dw.cancel()
	s.wg.Go(dw.w.Wait)
}

func (s *Supervisor) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.workers {
		s.stop(id)
	}
}
